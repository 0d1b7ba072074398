"""The `skillgw` command line: redact, db upgrade/status, audit, and demo runs end to end."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from gateway import migrate
from gateway.binding import derive_binding_key
from gateway.cli import main
from gateway.redaction import policy_names, redact

LINES = [
    "call me back at 555 123 4567 please",
    "order a large pepperoni pizza",
    "my email is maria.lopez@gmail.com",
    "",
    "card 4111 1111 1111 1111 thanks",
]


def _env(**extra: str) -> dict[str, str]:
    """The environment without any GATEWAY_* setting from the outside, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(extra)
    return env


@pytest.fixture
def fresh_database(owner_url: str) -> Iterator[str]:
    """An empty database on the test server, dropped afterwards; its owner URL."""
    name = f"gateway_cli_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(owner_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(owner_url, dbname=name)
    with psycopg.connect(owner_url, autocommit=True) as admin:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        admin.execute(drop.format(sql.Identifier(name)))


# --- skillgw redact


def test_redact_keeps_order_and_line_count() -> None:
    result = CliRunner().invoke(main, ["redact", "--policy", "standard"], input="\n".join(LINES))

    assert result.exit_code == 0, result.output
    out = result.stdout.split("\n")
    assert out[-1] == ""  # every line ends with a newline, the last included
    assert out[:-1] == [redact(line, "standard").text for line in LINES]
    assert out[1] == LINES[1]
    assert "maria.lopez@gmail.com" not in result.stdout and "4111" not in result.stdout


def test_redact_json_gives_text_and_spans_per_line() -> None:
    result = CliRunner().invoke(main, ["redact", "--json"], input="\n".join(LINES) + "\n")

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(LINES)
    for row, line in zip(rows, LINES, strict=True):
        assert set(row) == {"text", "spans"}
        assert row["text"] == redact(line, "strict").text
        for span in row["spans"]:
            assert set(span) == {"type", "start", "end"}
            assert 0 <= span["start"] < span["end"] <= len(line)
    email_at = LINES[2].index("maria")
    assert any(s["type"] == "EMAIL" and s["start"] == email_at for s in rows[2]["spans"])
    assert rows[1]["spans"] == []


def test_redact_unknown_policy_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["redact", "--policy", "nope"], input="hello\n")

    assert result.exit_code == 2
    assert "nope" in result.stderr
    assert all(name in result.stderr for name in policy_names())
    assert result.stdout == ""


def test_redact_names_the_line_that_is_not_utf8() -> None:
    result = CliRunner().invoke(main, ["redact"], input=b"fine\n\xff broken\nnever read\n")

    assert result.exit_code == 1
    assert result.stdout == "fine\n"
    assert "line 2" in result.stderr


# --- skillgw db


def test_db_upgrade_applies_once_then_is_a_no_op(fresh_database: str) -> None:
    runner = CliRunner(env=_env(GATEWAY_DATABASE_URL=fresh_database))

    status = runner.invoke(main, ["db", "status"], env=_env(GATEWAY_DATABASE_URL=fresh_database))
    assert status.exit_code == 0, status.output
    assert "pending" in status.stdout and "applied" not in status.stdout.replace("pending", "")

    first = runner.invoke(main, ["db", "upgrade"], env=_env(GATEWAY_DATABASE_URL=fresh_database))
    assert first.exit_code == 0, first.output
    head = migrate.discover()[-1]
    assert f"applied {head.version:04d}_{head.name}" in first.stdout

    second = runner.invoke(main, ["db", "upgrade"], env=_env(GATEWAY_DATABASE_URL=fresh_database))
    assert second.exit_code == 0, second.output
    assert "Already up to date" in second.stdout and "applied" not in second.stdout

    status = runner.invoke(main, ["db", "status"], env=_env(GATEWAY_DATABASE_URL=fresh_database))
    assert "Up to date." in status.stdout and "pending" not in status.stdout
    with psycopg.connect(fresh_database) as conn:
        assert migrate.applied_versions(conn) == {m.version for m in migrate.discover()}


def test_db_upgrade_installs_the_key_the_app_derives_from_its_secret(fresh_database: str) -> None:
    env = _env(GATEWAY_DATABASE_URL=fresh_database, GATEWAY_SECRET_KEY="shared-secret")

    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)

    assert result.exit_code == 0, result.output
    with psycopg.connect(fresh_database) as conn:
        row = conn.execute("SELECT binding_key FROM gateway_private.binding_keys").fetchone()
    assert row is not None and bytes(row[0]) == derive_binding_key("shared-secret")


def test_an_edited_applied_migration_stops_upgrade_and_shows_in_status(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for migration in migrate.discover():
        (tmp_path / migration.filename).write_bytes(migration.path.read_bytes())
    monkeypatch.setattr(migrate, "migrations_dir", lambda: tmp_path)
    env = _env(GATEWAY_DATABASE_URL=fresh_database)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    edited = migrate.discover()[0]
    edited.path.write_text(edited.read().replace("CREATE TABLE", "create table", 1))

    upgrade = runner.invoke(main, ["db", "upgrade"], env=env)
    status = runner.invoke(main, ["db", "status"], env=env)

    assert upgrade.exit_code == 1
    assert edited.filename in upgrade.stderr and "Traceback" not in upgrade.output
    assert status.exit_code == 1
    assert f"{edited.version:04d}_{edited.name}  changed" in status.stdout
    assert edited.filename in status.stderr


# --- skillgw demo, as a real process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    """A running `skillgw demo` process."""

    def __init__(self, tmp: Path, env: dict[str, str], name: str, *extra: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.credentials = tmp / f"{name}-credentials.json"
        self.log = tmp / f"{name}.log"
        command = [sys.executable, "-c", "from gateway.cli import main; main()", "demo"]
        args = ["--port", str(self.port), "--workers", "1", "--credentials", str(self.credentials)]
        args += extra
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command + args, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"demo exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"demo did not answer /healthz:\n{self.log.read_text()}")

    def request(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, **kwargs)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def token(self, client: dict[str, str]) -> str:
        """Get a token the way the printed curl call does: client_secret_basic."""
        basic = f"{client['client_id']}:{client['client_secret']}".encode()
        import base64

        status, body = self.request(
            "/oauth/token",
            data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
            headers={"Authorization": "Basic " + base64.b64encode(basic).decode()},
        )
        assert status == 200, body
        return str(body["access_token"])

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Wait until the log shows `text` (the background loader reports there)."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"the demo never said {text!r}:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self) -> int:
        """Ctrl-C, and the exit code; fails when it does not stop within a few seconds."""
        self.process.send_signal(signal.SIGINT)
        try:
            # gunicorn's graceful stop, then the embedded PostgreSQL's: seconds on a busy machine
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"demo did not stop on SIGINT:\n{self.log.read_text()}")


def _demo_counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM developers), (SELECT count(*) FROM interactions),"
            " (SELECT count(*) FROM oauth_clients WHERE revoked_at IS NULL)"
        ).fetchone()
    assert row is not None
    return row


def test_demo_size_defaults_to_the_data_sets_own() -> None:
    from gateway.demo import DEFAULT_SIZE, MIN_SIZE

    size = next(p for p in main.commands["demo"].params if p.name == "size")
    assert size.default == DEFAULT_SIZE
    assert isinstance(size.type, click.IntRange) and size.type.min == MIN_SIZE


@pytest.mark.slow
def test_demo_serves_the_printed_credentials_and_reruns_without_duplicates(
    fresh_database: str, tmp_path: Path
) -> None:
    env = _env(GATEWAY_DATABASE_URL=fresh_database, GATEWAY_DATA_DIR=str(tmp_path / "data"))
    size = "60"  # the showcase conversations at once, the rest in the background
    demo = Demo(tmp_path, env, "first", "--size", size)
    try:
        data = json.loads(demo.credentials.read_text())
        assert demo.credentials.stat().st_mode & 0o777 == 0o600
        pizza = next(d for d in data["developers"] if d["tier"] == "standard")
        assert any(d["tier"] == "none" for d in data["developers"])
        token = demo.token(pizza)
        headers = {"Authorization": f"Bearer {token}"}
        # a token in the query string is refused, and must not reach the access log either
        status, _ = demo.request(f"/v1/skills?access_token={token}")
        assert status == 401

        status, body = demo.request("/v1/skills", headers=headers)
        assert status == 200
        assert {s["id"] for s in body["skills"]} == {s["id"] for s in pizza["skills"]}
        skill_id = pizza["skills"][0]["id"]
        # readable at once, though most of the data set is still loading in the background
        status, body = demo.request(f"/v1/skills/{skill_id}/interactions", headers=headers)
        assert status == 200 and body["interactions"]
        assert "@" not in json.dumps(body)
        # the printed curl calls name this server and this skill
        printed = demo.log.read_text()
        assert "still loading in the background" in printed
        assert f"{demo.base}/v1/skills/{skill_id}/interactions" in printed
        assert pizza["client_secret"] in printed
        demo.wait_for(f"all {size} interactions loaded")
    finally:
        assert demo.stop() == 0
    log = demo.log.read_text()
    assert '"route":"/v1/skills","status":200' in log  # the request log is on ...
    assert token not in log  # ... and holds no token
    first_counts = _demo_counts(fresh_database)
    assert first_counts[:2] == (4, int(size))

    again = Demo(tmp_path, env, "second", "--size", size)
    try:
        renewed = json.loads(again.credentials.read_text())
        assert renewed["developers"][0]["client_id"] != data["developers"][0]["client_id"]
        new_pizza = next(d for d in renewed["developers"] if d["tier"] == "standard")
        assert new_pizza["skills"] == pizza["skills"]
        assert again.token(new_pizza)
    finally:
        assert again.stop() == 0
    printed = again.log.read_text()
    assert "already present" in printed and "still loading" not in printed
    # same developers and interactions; the old demo clients were replaced, not added to
    assert _demo_counts(fresh_database) == first_counts


@pytest.mark.slow
def test_demo_without_a_database_url_runs_on_the_embedded_postgresql(tmp_path: Path) -> None:
    # not under pytest's own temporary root: another pytest session of the same user resets
    # that root to 0700 when it starts, which locks the embedded server's own user out mid-run
    with tempfile.TemporaryDirectory(prefix="gateway-demo-") as private:
        _embedded_demo(tmp_path, Path(private) / "data")


def _embedded_demo(tmp_path: Path, data_dir: Path) -> None:
    demo = Demo(tmp_path, _env(GATEWAY_DATA_DIR=str(data_dir)), "embedded", "--size", "60")
    try:
        data = json.loads(demo.credentials.read_text())
        pizza = next(d for d in data["developers"] if d["tier"] == "standard")
        status, body = demo.request(
            "/v1/skills", headers={"Authorization": f"Bearer {demo.token(pizza)}"}
        )
        assert status == 200 and len(body["skills"]) == 2
        assert (data_dir / "postgres" / "postmaster.pid").exists()
        demo.wait_for("all 60 interactions loaded")
    finally:
        assert demo.stop() == 0
    # Ctrl-C stopped the embedded PostgreSQL too
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


@pytest.mark.slow
def test_db_status_says_what_it_did_to_the_embedded_postgresql(tmp_path: Path) -> None:
    from gateway.embedded import start_embedded

    data_dir = tmp_path / "data"
    folder = data_dir / "postgres"
    command = [sys.executable, "-c", "from gateway.cli import main; main()", "db", "status"]

    def status() -> subprocess.CompletedProcess[str]:
        env = _env(GATEWAY_DATA_DIR=str(data_dir))
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result

    embedded = start_embedded(folder)  # as a running `skillgw serve` would have
    try:
        migrate.upgrade(embedded.database_url)
        used = status()
        assert "Up to date." in used.stdout
        assert "already running" in used.stderr
        assert "Starting" not in used.stderr and "stopped" not in used.stderr
        assert (folder / "postmaster.pid").exists()  # still serving the other process
    finally:
        embedded.stop()
    assert not (folder / "postmaster.pid").exists()

    started = status()

    assert "Starting the embedded PostgreSQL" in started.stderr
    assert "Embedded PostgreSQL stopped." in started.stderr
    assert not (folder / "postmaster.pid").exists()


# --- skillgw audit


@pytest.fixture
def audited_database(fresh_database: str) -> str:
    """A migrated database with five committed audit events, none sealed yet."""
    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import audit

    migrate.upgrade(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            for number in range(5):
                audit.record(
                    conn,
                    actor=audit.Actor.operator("alice"),
                    action="developer.suspended",
                    developer_id=number + 1,
                    details={"count": number},
                )
    return fresh_database


def _audit_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return _env(GATEWAY_DATABASE_URL=database_url, GATEWAY_DATA_DIR=str(tmp_path / "data"), **extra)


def _tamper(database_url: str, statement: str, params: Any = None) -> None:
    """As the owner with the audit triggers off, the way an attacker with database access would."""
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER ALL")
        conn.execute(statement, params)
        conn.execute("ALTER TABLE audit_events ENABLE TRIGGER ALL")


def test_audit_verify_checkpoint_public_key_and_tail(audited_database: str, tmp_path: Path) -> None:
    runner = CliRunner(env=_audit_env(audited_database, tmp_path))

    verify = runner.invoke(main, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "OK: 5 rows, head seq 5" in verify.stdout and "0 unsealed" in verify.stdout

    out = tmp_path / "checkpoints" / "first.json"
    checkpoint = runner.invoke(main, ["audit", "checkpoint", "--out", str(out)])
    assert checkpoint.exit_code == 0, checkpoint.output
    signed = json.loads(out.read_text())
    assert signed["seq"] == 5 and len(signed["row_hash"]) == 64 and signed["signature"]

    public = runner.invoke(main, ["audit", "public-key"])
    assert public.exit_code == 0 and len(public.stdout.strip()) == 64
    pem = runner.invoke(main, ["audit", "public-key", "--pem"])
    assert "BEGIN PUBLIC KEY" in pem.stdout
    key_file = tmp_path / "audit.pub"
    key_file.write_text(pem.stdout)

    against = runner.invoke(
        main, ["audit", "verify", "--checkpoint", str(out), "--public-key", str(key_file)]
    )
    assert against.exit_code == 0, against.output
    assert f"Checkpoint {out}: OK" in against.stdout

    tail = runner.invoke(main, ["audit", "tail", "-n", "2", "--json"])
    assert tail.exit_code == 0, tail.output
    events = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [e["seq"] for e in events] == [5, 4]
    assert events[0]["actor"] == "cli:alice" and events[0]["action"] == "developer.suspended"
    table = runner.invoke(main, ["audit", "tail"])
    assert table.exit_code == 0 and "developer.suspended" in table.stdout


def test_audit_verify_names_the_first_bad_row_and_exits_1(
    audited_database: str, tmp_path: Path
) -> None:
    runner = CliRunner(env=_audit_env(audited_database, tmp_path))
    assert runner.invoke(main, ["audit", "seal"]).stdout == "Sealed 5 events.\n"
    _tamper(audited_database, "UPDATE audit_events SET developer_id = 42 WHERE seq = 3")

    verify = runner.invoke(main, ["audit", "verify"])
    assert verify.exit_code == 1
    assert "BROKEN at seq 3: row 3 does not match its hash" in verify.stdout
    as_json = runner.invoke(main, ["audit", "verify", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["chain"]["first_bad_seq"] == 3

    refused = runner.invoke(main, ["audit", "checkpoint"])
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "No checkpoint signed" in refused.stderr


def test_a_chain_recomputed_after_a_checkpoint_fails_against_it(
    audited_database: str, tmp_path: Path
) -> None:
    from gateway.services import audit

    runner = CliRunner(env=_audit_env(audited_database, tmp_path))
    out = tmp_path / "checkpoint.json"
    assert runner.invoke(main, ["audit", "checkpoint", "--out", str(out)]).exit_code == 0

    with psycopg.connect(audited_database, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            conn.execute("ALTER TABLE audit_events DISABLE TRIGGER ALL")
            conn.execute("UPDATE audit_events SET developer_id = 42 WHERE seq = 2")
            prev = conn.execute("SELECT row_hash FROM audit_events WHERE seq = 1").fetchone()
            prev_hash = prev["row_hash"]
            for row in conn.execute(
                "SELECT *, details::text AS details_text FROM audit_events "
                "WHERE seq >= 2 ORDER BY seq"
            ).fetchall():
                new = audit.row_hash(row, prev_hash=prev_hash)
                conn.execute(
                    "UPDATE audit_events SET prev_hash = %s, row_hash = %s WHERE id = %s",
                    (prev_hash, new, row["id"]),
                )
                prev_hash = new
            conn.execute("ALTER TABLE audit_events ENABLE TRIGGER ALL")

    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0  # consistent on its own
    against = runner.invoke(main, ["audit", "verify", "--checkpoint", str(out)])
    assert against.exit_code == 1
    assert "was rewritten and recomputed" in against.stdout


def test_a_checkpoint_checked_with_another_key_fails(audited_database: str, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gateway.audit_keys import public_key_hex

    configured = Ed25519PrivateKey.generate()
    seed = configured.private_bytes_raw().hex()
    runner = CliRunner(env=_audit_env(audited_database, tmp_path, GATEWAY_AUDIT_SIGNING_KEY=seed))
    out = tmp_path / "checkpoint.json"
    assert runner.invoke(main, ["audit", "checkpoint", "--out", str(out)]).exit_code == 0
    public = runner.invoke(main, ["audit", "public-key"]).stdout.strip()
    assert public == public_key_hex(configured.public_key())

    other = public_key_hex(Ed25519PrivateKey.generate().public_key())
    wrong = runner.invoke(
        main, ["audit", "verify", "--checkpoint", str(out), "--public-key", other]
    )
    assert wrong.exit_code == 1
    assert "signature does not verify" in wrong.stdout
