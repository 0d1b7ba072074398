"""Token entropy, secret and token digests, constant-time checks and signed cursors."""

import ast
import base64
import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

from gateway import security

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")
KEY = b"k" * 32


def raw_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


@pytest.mark.parametrize("make", [security.new_access_token, security.new_client_secret])
def test_credentials_carry_at_least_256_bits(make):
    value = make()

    assert URLSAFE.match(value)
    assert len(value) >= 43
    assert len(raw_bytes(value)) >= 32


def test_access_tokens_never_repeat():
    tokens = {security.new_access_token() for _ in range(100_000)}

    assert len(tokens) == 100_000


def test_tokens_come_from_the_os_csprng(monkeypatch):
    calls = []
    real = security.secrets.token_urlsafe

    def spy(nbytes=None):
        calls.append(nbytes)
        return real(nbytes)

    monkeypatch.setattr(security.secrets, "token_urlsafe", spy)

    security.new_access_token()
    security.new_client_secret()

    assert calls == [32, 32]


def test_client_ids_are_random_and_say_their_kind():
    ids = {security.new_client_id("developer") for _ in range(1000)}

    assert len(ids) == 1000
    assert all(re.fullmatch(r"dev_[0-9a-f]{24}", client_id) for client_id in ids)


def test_token_digest_is_sha256_hex():
    token = security.new_access_token()

    digest = security.token_digest(token)

    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in digest
    assert security.token_digest(token + "x") != digest


def test_secret_hash_is_salted_and_hides_the_secret():
    secret = security.new_client_secret()

    first, second = security.hash_secret(secret), security.hash_secret(secret)

    assert first != second  # a fresh salt each time
    assert secret not in first
    scheme, salt, digest = first.split("$")
    assert scheme == "sha256"
    assert len(salt) == 32
    assert digest == hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()


def test_verify_secret_accepts_only_the_secret():
    secret = security.new_client_secret()
    stored = security.hash_secret(secret)

    assert security.verify_secret(stored, secret) is True
    assert security.verify_secret(stored, secret + "x") is False
    assert security.verify_secret(stored, secret[:-1]) is False
    assert security.verify_secret(stored, "") is False


def test_a_missing_hash_never_matches_yet_costs_a_comparison(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)

    assert security.verify_secret(None, "anything") is False
    assert len(compared) == 1


def test_secret_comparison_is_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    stored = security.hash_secret("s3cret")

    security.verify_secret(stored, "s3cret")

    assert compared and compared[0][0] == stored


@pytest.mark.parametrize("stored", ["md5$salt$digest", "plaintext-secret", "", "sha256$only"])
def test_unknown_or_malformed_stored_hashes_never_match(stored):
    assert security.verify_secret(stored, "plaintext-secret") is False


def test_no_plain_equality_on_secrets_in_the_toolbox():
    text = Path(security.__file__).read_text(encoding="utf-8")

    assert not re.search(r"(secret|digest|mac|token)\w*\s*[!=]=\s*\w", text)


# --- cursors


def test_cursor_round_trip():
    payload = {"t": "2024-05-01T12:00:00+00:00", "i": "abc", "q": "f00d"}

    cursor = security.sign_cursor(payload, key=KEY)

    assert URLSAFE.match(cursor.replace(".", ""))
    assert security.verify_cursor(cursor, key=KEY) == payload


def test_cursor_signed_with_another_key_is_refused():
    cursor = security.sign_cursor({"i": "abc"}, key=KEY)

    assert security.verify_cursor(cursor, key=b"other" * 8) is None


def test_cursor_with_an_edited_payload_is_refused():
    cursor = security.sign_cursor({"t": "2024-05-01T12:00:00+00:00", "i": "abc"}, key=KEY)
    body, mac = cursor.split(".")
    forged = (
        base64.urlsafe_b64encode(
            json.dumps({"t": "1970-01-01T00:00:00+00:00", "i": "abc"}).encode()
        )
        .decode()
        .rstrip("=")
    )

    assert security.verify_cursor(f"{forged}.{mac}", key=KEY) is None
    flipped = ("B" if mac[0] == "A" else "A") + mac[1:]
    assert security.verify_cursor(f"{body}.{flipped}", key=KEY) is None
    assert security.verify_cursor(f"{body}.{mac}x", key=KEY) is None


@pytest.mark.parametrize(
    "cursor", ["", ".", "abc", "abc.", ".abc", "a.b.c", "ünïcode.mac", "A" * 2000 + ".x"]
)
def test_malformed_cursors_are_refused(cursor):
    assert security.verify_cursor(cursor, key=KEY) is None


def test_a_validly_signed_non_object_is_refused():
    body = base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("=")
    mac = security._b64(hmac.new(KEY, b"cursor." + body.encode(), hashlib.sha256).digest()[:16])

    assert security.verify_cursor(f"{body}.{mac}", key=KEY) is None


def test_a_validly_signed_non_json_body_is_refused():
    body = base64.urlsafe_b64encode(b"\xff\xfe not json").decode().rstrip("=")
    mac = security._b64(hmac.new(KEY, b"cursor." + body.encode(), hashlib.sha256).digest()[:16])

    assert security.verify_cursor(f"{body}.{mac}", key=KEY) is None


def test_cursor_mac_is_not_a_plain_hmac_of_the_payload():
    # domain separation: a MAC this key makes for another purpose is not a cursor MAC
    body = security.sign_cursor({"i": "abc"}, key=KEY).split(".")[0]
    plain = security._b64(hmac.new(KEY, body.encode(), hashlib.sha256).digest()[:16])

    assert security.verify_cursor(f"{body}.{plain}", key=KEY) is None


def test_cursor_mac_is_compared_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    cursor = security.sign_cursor({"i": "abc"}, key=KEY)
    body, mac = cursor.split(".")

    assert security.verify_cursor(cursor, key=KEY) == {"i": "abc"}
    assert security.verify_cursor(f"{body}.{'A' * len(mac)}", key=KEY) is None
    assert [b for _, b in compared] == [mac.encode(), b"A" * len(mac)]


def _calls_and_compares(function: ast.FunctionDef) -> tuple[set[str], list[ast.Compare]]:
    calls = {ast.unparse(node.func) for node in ast.walk(function) if isinstance(node, ast.Call)}
    compares = [node for node in ast.walk(function) if isinstance(node, ast.Compare)]
    return calls, compares


def test_verify_cursor_decides_only_through_compare_digest():
    # timing cannot be measured reliably in a test; the structure can: the MAC is checked by
    # hmac.compare_digest and never by ==/!= (which stops at the first differing byte)
    tree = ast.parse(Path(security.__file__).read_text(encoding="utf-8"))
    (verify,) = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "verify_cursor"
    ]

    calls, compares = _calls_and_compares(verify)

    assert "hmac.compare_digest" in calls
    names_in_equalities = {
        name.id
        for node in compares
        if any(isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot) for op in node.ops)
        for name in ast.walk(node)
        if isinstance(name, ast.Name)
    }
    assert not names_in_equalities & {"mac", "expected"}
