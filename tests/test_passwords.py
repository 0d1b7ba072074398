"""Passwords are hashed with Argon2id at the shipped profile, and weaker hashes are upgraded."""

import argon2
import pytest
from factories import USER_PASSWORD

from gateway.services import user_accounts
from gateway.web import passwords

# RFC 9106 §4, the second recommended option: 64 MiB, 3 passes, 4 lanes
SHIPPED_PROFILE = "$argon2id$v=19$m=65536,t=3,p=4$"

pytestmark = pytest.mark.shipped_password_hashing


def test_a_password_is_hashed_with_argon2id_at_the_rfc_9106_profile() -> None:
    stored = passwords.hash_password(USER_PASSWORD)

    assert stored.startswith(SHIPPED_PROFILE)
    assert passwords.verify_password(stored, USER_PASSWORD)
    assert not passwords.verify_password(stored, USER_PASSWORD + "!")


def test_an_unknown_account_is_checked_against_a_hash_of_the_same_cost() -> None:
    # the same cost is what makes an unknown login as slow to refuse as a wrong password
    assert passwords._DUMMY_HASH.startswith(SHIPPED_PROFILE)


def test_signing_in_upgrades_a_hash_made_with_weaker_parameters(make, conn) -> None:
    user_id, login = make.user_with_password()
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(USER_PASSWORD)
    changed = make.rows(
        "UPDATE user_credentials SET password_hash = %s WHERE user_id = %s RETURNING user_id",
        (weak, user_id),
    )
    assert len(changed) == 1

    assert user_accounts.authenticate(conn, login=login, password=USER_PASSWORD) == user_id

    [row] = make.rows("SELECT password_hash FROM user_credentials WHERE user_id = %s", (user_id,))
    stored = row["password_hash"]
    assert stored.startswith(SHIPPED_PROFILE)
    assert passwords.verify_password(stored, USER_PASSWORD)
