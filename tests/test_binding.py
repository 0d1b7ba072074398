"""The caller proof: Python and PostgreSQL compute it alike, and nothing else verifies."""

import logging

import pytest
from factories import BINDING_KEY

from gateway import create_app
from gateway.binding import caller_message, caller_proof, derive_binding_key
from gateway.db import bind_principal, binding_verified
from gateway.models import ANONYMOUS, SYSTEM, Principal


@pytest.mark.parametrize(
    "principal",
    [
        SYSTEM,
        ANONYMOUS,
        Principal("developer", client_id="dev_1", developer_id=42),
        Principal("user", user_id="5a0f3c1e-8a5e-4a52-9d7e-4c1d2f8e9b10"),
        Principal("admin", client_id="adm_ünïcødé ✓ \n:5:"),
    ],
)
def test_python_and_the_database_agree_on_the_proof(conn, principal):
    bind_principal(conn, principal)
    assert binding_verified(conn)
    proof = conn.execute("SELECT current_setting('gateway.caller_proof') AS p").fetchone()["p"]
    # any one setting changed after binding, or one character of the proof: no longer verified
    for setting in ("role", "developer_id", "user_id", "client_id"):
        conn.execute("SELECT set_config(%s, '7', true)", (f"gateway.{setting}",))
        assert not binding_verified(conn), setting
        bind_principal(conn, principal)
        assert binding_verified(conn)
    flipped = proof[:-1] + ("0" if proof[-1] != "0" else "1")
    conn.execute("SELECT set_config('gateway.caller_proof', %s, true)", (flipped,))
    assert not binding_verified(conn)


def test_a_proof_made_with_another_key_is_not_verified(conn):
    fields = ["system", "", "", ""]
    other = caller_proof(derive_binding_key("another secret"), fields)
    assert other != caller_proof(BINDING_KEY, fields)
    bind_principal(conn, SYSTEM)
    conn.execute("SELECT set_config('gateway.caller_proof', %s, true)", (other,))
    assert not binding_verified(conn)


def test_the_canonical_caller_is_unambiguous():
    assert caller_message(["ab", "c"]) != caller_message(["a", "bc"])
    assert caller_message(["a\n1:b", ""]) != caller_message(["a", "b"])
    assert caller_message(["é"]) == b"gateway caller v1\n2:\xc3\xa9"


def test_readyz_is_503_when_the_database_holds_another_key(app_settings, app_url, caplog):
    other = create_app(app_settings(APP_DATABASE_URL=app_url, SECRET_KEY="another secret"))
    same = create_app(app_settings(APP_DATABASE_URL=app_url))
    try:
        with caplog.at_level(logging.ERROR, logger="gateway.views.health"):
            refused_response = other.test_client().get("/readyz")
        ready = same.test_client().get("/readyz")
    finally:
        other.extensions["gateway.db"].close()
        same.extensions["gateway.db"].close()

    assert refused_response.status_code == 503
    assert refused_response.headers["Retry-After"].isdigit()
    assert "GATEWAY_SECRET_KEY" not in refused_response.get_data(as_text=True)
    assert any("GATEWAY_SECRET_KEY" in r.getMessage() for r in caplog.records)
    assert ready.status_code == 200, ready.get_json()
