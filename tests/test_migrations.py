"""The migrator and the database posture it builds: roles, row-level security, the audio vault."""

import hashlib
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gateway import migrate

TENANT_TABLES = {
    "developers",
    "tier_grants",
    "skills",
    "users",
    "consents",
    "interactions",
    "user_pseudonyms",
    "access_log",
    "interaction_texts",
    "ingested_interactions",
    "user_profiles",
    "session_pseudonyms",
    "deletion_receipts",
    "developer_webhooks",
    "webhook_deliveries",
    "audit_events",
    "skill_stats_weeks",
    "tier_requests",
    "tier_grant_expiries",
    "tiers",
    "user_credentials",
    "activation_links",
    "authorization_codes",
    "admin_accounts",
    "web_sessions",
}


@pytest.fixture
def empty_database(owner_url):
    # unique: other test runs on the same server use this fixture at the same time
    name = f"gateway_test_migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(owner_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(owner_url, dbname=name)
    with psycopg.connect(owner_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_upgrade_from_empty_to_head_then_rerun_is_a_noop(empty_database):
    versions = [m.version for m in migrate.discover()]
    assert migrate.upgrade(empty_database) == versions
    assert migrate.upgrade(empty_database) == []
    with psycopg.connect(empty_database) as conn:
        assert migrate.applied_versions(conn) == set(versions)
        assert migrate.pending(conn) == []


def test_a_failing_migration_leaves_no_trace(empty_database, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half (id int); SELECT 1/0;")
    with pytest.raises(psycopg.errors.DivisionByZero):
        migrate.upgrade(empty_database, directory=tmp_path)
    with psycopg.connect(empty_database) as conn:
        assert migrate.applied_versions(conn) == {1}
        assert conn.execute("SELECT to_regclass('half')").fetchone()[0] is None


def test_malformed_migration_names_are_refused(tmp_path):
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="0001_slug"):
        migrate.discover(tmp_path)


def test_app_role_is_least_privileged(conn):
    role = conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles"
        " WHERE rolname = %s",
        (migrate.APP_ROLE,),
    ).fetchone()
    assert role == {
        "rolsuper": False,
        "rolbypassrls": False,
        "rolcreatedb": False,
        "rolcreaterole": False,
    }
    owned = conn.execute(
        "SELECT count(*) AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
        " WHERE r.rolname = %s",
        (migrate.APP_ROLE,),
    ).fetchone()
    assert owned["n"] == 0


def test_every_tenant_table_has_forced_row_level_security_and_a_policy(conn):
    rows = conn.execute(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        """
    ).fetchall()
    by_name = {r["relname"]: r for r in rows}
    for table in TENANT_TABLES:
        assert by_name[table]["relrowsecurity"] and by_name[table]["relforcerowsecurity"], table
        assert by_name[table]["policies"] >= 1, table
    # any table with a user_id or developer_id column is a tenant table
    keyed = conn.execute(
        """
        SELECT DISTINCT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name IN ('user_id', 'developer_id')
        """
    ).fetchall()
    partitions = {
        r["relname"]
        for r in conn.execute("SELECT relname FROM pg_class WHERE relispartition").fetchall()
    }
    # credentials looked up before any caller is known (a token's user is found through it)
    credentials = {"oauth_clients", "oauth_tokens"}
    assert {r["table_name"] for r in keyed} - credentials - partitions <= TENANT_TABLES


def test_partitions_are_reached_only_through_their_parents_row_level_security(conn):
    # a partition queried directly would skip the parent's policies: the app role may not
    conn.execute("SELECT gateway_ensure_interaction_month(now() - interval '400 days')")
    privileges = conn.execute(
        """
        SELECT c.relname,
               has_table_privilege('gateway_app', c.oid, 'SELECT,INSERT,UPDATE,DELETE') AS any
        FROM pg_class c WHERE c.relispartition AND c.relkind IN ('r', 'p')
        """
    ).fetchall()
    assert len(privileges) >= 4  # this month and last year's, of interactions and their texts
    assert [r["relname"] for r in privileges if r["any"]] == []


def test_no_view_is_reachable_by_the_app_role_without_security_invoker(conn):
    views = conn.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'v' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_table_privilege('gateway_app', c.oid, 'SELECT')
          AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)
        """
    ).fetchall()
    assert views == []


def test_the_app_role_cannot_read_audio(conn):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute("SELECT audio_ref FROM vault.audio_recordings")


def test_the_app_role_cannot_read_device_serials(conn):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute("SELECT device_serial FROM interactions")


# --- checksums: an applied migration is history


def _copy_migrations(folder):
    for migration in migrate.discover():
        (folder / migration.filename).write_bytes(migration.path.read_bytes())
    return migrate.discover(folder)


def test_each_applied_migration_is_recorded_with_its_checksum(empty_database, tmp_path):
    migrations = _copy_migrations(tmp_path)
    migrate.upgrade(empty_database, directory=tmp_path)
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        states = migrate.status(conn, tmp_path)
    assert dict(rows) == {
        m.version: hashlib.sha256(m.path.read_bytes()).hexdigest() for m in migrations
    }
    assert [state for _, state in states] == ["applied"] * len(migrations)


def test_an_edited_applied_migration_is_refused_by_name(empty_database, tmp_path):
    migrations = _copy_migrations(tmp_path)
    migrate.upgrade(empty_database, directory=tmp_path)
    edited = migrations[0]
    edited.path.write_text(edited.read() + "\n-- a harmless-looking edit\n")
    (tmp_path / "9999_next.sql").write_text("CREATE TABLE after_the_edit (id int);")

    with pytest.raises(migrate.MigrationChanged, match=edited.filename):
        migrate.upgrade(empty_database, directory=tmp_path)

    with psycopg.connect(empty_database) as conn:
        # nothing pending was applied past the refusal
        assert conn.execute("SELECT to_regclass('after_the_edit')").fetchone()[0] is None
        states = dict((m.filename, state) for m, state in migrate.status(conn, tmp_path))
    assert states[edited.filename] == "changed"
    assert states["9999_next.sql"] == "pending"


def test_a_database_migrated_before_checksums_gets_them_recorded(empty_database, tmp_path):
    (tmp_path / "0001_old.sql").write_text("CREATE TABLE old_table (id int);")
    with psycopg.connect(empty_database, autocommit=True) as conn:
        # the bookkeeping table as the migrator used to create it, without a checksum column
        conn.execute(
            """
            CREATE TABLE schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """
        )
        conn.execute("CREATE TABLE old_table (id int)")
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (1, 'old')")
        assert migrate.status(conn, tmp_path)[0][1] == "applied"

    assert migrate.upgrade(empty_database, directory=tmp_path) == []

    with psycopg.connect(empty_database) as conn:
        recorded = conn.execute("SELECT checksum FROM schema_migrations").fetchone()[0]
    assert recorded == migrate.discover(tmp_path)[0].checksum()
    (tmp_path / "0001_old.sql").write_text("CREATE TABLE old_table (id bigint);")
    with pytest.raises(migrate.MigrationChanged, match="0001_old.sql"):
        migrate.upgrade(empty_database, directory=tmp_path)


def test_upgrade_installs_the_binding_key_and_replaces_a_different_one(empty_database):
    migrate.upgrade(empty_database, binding_key=b"k" * 32)
    migrate.install_binding_key(empty_database, b"k" * 32)
    with psycopg.connect(empty_database) as conn:
        first = conn.execute("SELECT binding_key, installed_at FROM gateway_private.binding_keys")
        (key, installed_at) = first.fetchone()
    assert bytes(key) == b"k" * 32

    migrate.upgrade(empty_database, binding_key=b"n" * 32)
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute("SELECT binding_key, installed_at FROM gateway_private.binding_keys")
        (key, replaced_at) = rows.fetchone()
        assert rows.fetchone() is None
    assert bytes(key) == b"n" * 32 and replaced_at >= installed_at
