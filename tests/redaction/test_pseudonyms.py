"""User-id pseudonyms: keyed, per scope, with the key id inside for rotation."""

import base64
import hashlib
import hmac
import re

import pytest

from gateway.redaction import pseudonymize

KEYS = {"k1": b"first secret key material", "k2": b"second secret key material"}


def test_stable_within_a_scope():
    a = pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k1")
    assert a == pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k1")


def test_differs_across_scopes_users_and_keys():
    base = pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k1")
    assert base != pseudonymize("user-1", scope="dev-8", keys=KEYS, key_id="k1")
    assert base != pseudonymize("user-2", scope="dev-7", keys=KEYS, key_id="k1")
    assert base[3:] != pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k2")[3:]


def test_carries_the_key_id_and_is_short_and_url_safe():
    value = pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k2")
    assert re.fullmatch(r"k2_[A-Za-z0-9_-]{22}", value)


def test_rotation_keeps_old_pseudonyms_reproducible_while_the_old_key_is_kept():
    old = pseudonymize("user-1", scope="dev-7", keys={"k1": KEYS["k1"]}, key_id="k1")
    rotated = pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k2")
    assert old.startswith("k1_") and rotated.startswith("k2_")
    assert pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id=old.split("_")[0]) == old


def test_unknown_key_id_raises():
    with pytest.raises(KeyError):
        pseudonymize("user-1", scope="dev-7", keys=KEYS, key_id="k9")


def test_the_same_key_id_with_other_key_material_gives_another_pseudonym():
    """Pseudonyms are memoised: the key's bytes, not only its id, decide which one is reused."""
    first = pseudonymize("user-1", scope="dev-7", keys={"k1": KEYS["k1"]}, key_id="k1")
    replaced = pseudonymize("user-1", scope="dev-7", keys={"k1": KEYS["k2"]}, key_id="k1")
    assert first != replaced
    assert replaced == pseudonymize("user-1", scope="dev-7", keys={"k1": KEYS["k2"]}, key_id="k1")


def test_a_memoised_pseudonym_is_the_hmac_it_stands_for():
    for _ in range(2):  # made, then reused
        value = pseudonymize("user-9", scope="developer:3", keys=KEYS, key_id="k1")
        digest = hmac.new(KEYS["k1"], b"developer:3\x00user-9", hashlib.sha256).digest()
        assert value == "k1_" + base64.urlsafe_b64encode(digest).decode()[:22]
