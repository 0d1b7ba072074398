"""Admin accounts: a name, an Argon2 hash and an encrypted TOTP secret."""

from gateway.models import Conn, Row

_COLUMNS = "id, name, password_hash, totp_ciphertext, last_totp_step, created_at, disabled_at"


def insert_admin(conn: Conn, *, name: str, password_hash: str, totp_ciphertext: bytes) -> int:
    row = conn.execute(
        """
        INSERT INTO admin_accounts (name, password_hash, totp_ciphertext)
        VALUES (%(name)s, %(password_hash)s, %(totp_ciphertext)s)
        RETURNING id
        """,
        {"name": name, "password_hash": password_hash, "totp_ciphertext": totp_ciphertext},
    ).fetchone()
    assert row is not None
    return int(row["id"])


def find_admin(conn: Conn, *, name: str) -> Row | None:
    return conn.execute(
        f"SELECT {_COLUMNS} FROM admin_accounts WHERE name = %(name)s",  # noqa: S608
        {"name": name},
    ).fetchone()


def get_admin_by_id(conn: Conn, admin_id: int, *, lock: bool = False) -> Row | None:
    query = f"SELECT {_COLUMNS} FROM admin_accounts WHERE id = %(id)s"  # noqa: S608
    return conn.execute(query + (" FOR UPDATE" if lock else ""), {"id": admin_id}).fetchone()


def list_admins(conn: Conn) -> list[Row]:
    return conn.execute(
        "SELECT id, name, created_at, disabled_at FROM admin_accounts ORDER BY name"
    ).fetchall()


def update_totp_step(conn: Conn, *, admin_id: int, step: int) -> bool:
    """Record the accepted step; False when a later one was already accepted (a replay)."""
    row = conn.execute(
        """
        UPDATE admin_accounts SET last_totp_step = %(step)s
        WHERE id = %(id)s AND last_totp_step < %(step)s
        RETURNING id
        """,
        {"id": admin_id, "step": step},
    ).fetchone()
    return row is not None


def update_password(conn: Conn, *, admin_id: int, password_hash: str) -> None:
    conn.execute(
        "UPDATE admin_accounts SET password_hash = %(hash)s WHERE id = %(id)s",
        {"id": admin_id, "hash": password_hash},
    )
