"""The `skillgw` command line: serve, demo, database migrations, trying redaction policies, and
the audit log (verify, checkpoint, seal, tail)."""

import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import psycopg
from psycopg.rows import dict_row

from gateway import config as config_module
from gateway import migrate
from gateway.embedded import EMBEDDED_FOLDER


@contextmanager
def database(settings: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the settings with DATABASE_URL set, starting the embedded PostgreSQL if it is empty.

    The embedded server is stopped on the way out (unless another process still uses it).
    """
    if settings["DATABASE_URL"]:
        yield settings
        return
    from gateway.embedded import start_embedded

    folder = Path(settings["DATA_DIR"]) / EMBEDDED_FOLDER
    click.echo(f"Starting the embedded PostgreSQL in {folder} ...", err=True)
    embedded = start_embedded(folder)
    owner = os.getpid()
    try:
        yield {**settings, "DATABASE_URL": embedded.database_url}
    finally:
        # gunicorn workers are forked inside this block and unwind through it when they exit;
        # only the process that started the server stops it
        if os.getpid() == owner:
            embedded.stop()
            click.echo("Embedded PostgreSQL stopped.", err=True)


def _settings() -> dict[str, Any]:
    try:
        return config_module.load()
    except ValueError as exc:
        raise click.UsageError(f"bad setting: {exc}") from exc


def _upgrade(settings: dict[str, Any]) -> list[int]:
    return migrate.upgrade(settings["DATABASE_URL"], app_password=settings["DATABASE_APP_PASSWORD"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Skill Data Gateway: consented, redacted voice transcripts for skill developers.

    Every setting is a GATEWAY_* environment variable (see the README). Without
    GATEWAY_DATABASE_URL an embedded PostgreSQL runs in GATEWAY_DATA_DIR/postgres.
    """


def _serve_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations.")(fn)
    fn = click.option("--workers", type=click.IntRange(1, 64), help="Default: GATEWAY_WORKERS.")(fn)
    fn = click.option("--port", type=click.IntRange(1, 65535), help="Default: GATEWAY_PORT.")(fn)
    fn = click.option("--host", help="Default: GATEWAY_HOST.")(fn)
    return fn


def _run_server(
    settings: dict[str, Any],
    *,
    host: str | None,
    port: int | None,
    workers: int | None,
    no_migrate: bool,
    before: Callable[[dict[str, Any], str], None] | None = None,
) -> None:
    from gateway import server

    host = host or settings["HOST"]
    port = settings["PORT"] if port is None else port
    workers = workers or settings["WORKERS"]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    if "GATEWAY_ISSUER" not in os.environ:
        settings = {**settings, "ISSUER": url}
    with database(settings) as settings:
        if not no_migrate:
            applied = _upgrade(settings)
            if applied:
                versions = ", ".join(f"{v:04d}" for v in applied)
                click.echo(f"Applied migrations: {versions}", err=True)
        if before is not None:
            before(settings, url)
        server.serve(
            settings,
            host=host,
            port=port,
            workers=workers,
            on_ready=lambda _: click.echo(f"\nListening on {url}  (Ctrl-C stops)\n", err=True),
        )


@main.command()
@_serve_options
def serve(host: str | None, port: int | None, workers: int | None, no_migrate: bool) -> None:
    """Serve the gateway with gunicorn (embedded PostgreSQL unless GATEWAY_DATABASE_URL is set)."""
    _run_server(_settings(), host=host, port=port, workers=workers, no_migrate=no_migrate)


@main.command()
@click.option(
    "--credentials",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the demo clients' credentials to this JSON file (mode 0600).",
)
@_serve_options
def demo(
    credentials: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    no_migrate: bool,
) -> None:
    """Serve the gateway with a demo data set, printing credentials and example calls."""

    def load(settings: dict[str, Any], url: str) -> None:
        from gateway.demo import load_demo

        owner_url = settings["DATABASE_URL"]
        with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
            issued = load_demo(conn)
        data = issued.as_json()
        if credentials is not None:
            _write_private(credentials, json.dumps(data, indent=2) + "\n")
        click.echo(_demo_banner(data, url, created=issued.created, credentials=credentials))

    _run_server(
        _settings(), host=host, port=port, workers=workers, no_migrate=no_migrate, before=load
    )


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only, from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _demo_banner(data: dict[str, Any], url: str, *, created: bool, credentials: Path | None) -> str:
    lines = [
        "",
        "Demo data " + ("loaded." if created else "already present; issued new client secrets."),
        "",
        "Clients (secrets are shown only now; earlier demo secrets are revoked):",
    ]
    for developer in data["developers"]:
        lines.append(f"  developer {developer['name']!r} (tier {developer['tier']})")
        lines.append(f"    client_id     {developer['client_id']}")
        lines.append(f"    client_secret {developer['client_secret']}")
        for skill in developer["skills"]:
            lines.append(f"    skill         {skill['id']}  {skill['name']}")
    for kind in ("admin", "platform"):
        lines.append(f"  {kind}")
        lines.append(f"    client_id     {data[kind]['client_id']}")
        lines.append(f"    client_secret {data[kind]['client_secret']}")
    if credentials is not None:
        lines.append(f"\nCredentials written to {credentials}")
    main_developer = next(d for d in data["developers"] if d["tier"] != "none")
    skill_id = main_developer["skills"][0]["id"]
    basic = shlex.quote(f"{main_developer['client_id']}:{main_developer['client_secret']}")
    lines += [
        "",
        f"Try it (as {main_developer['name']}):",
        "",
        f"  TOKEN=$(curl -s -u {basic} -d grant_type=client_credentials {url}/oauth/token \\",
        "    | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        f'  curl -s -H "Authorization: Bearer $TOKEN" {url}/v1/skills',
        f'  curl -s -H "Authorization: Bearer $TOKEN" {url}/v1/skills/{skill_id}/interactions',
        "",
    ]
    return "\n".join(lines)


@main.group()
def db() -> None:
    """Database schema: migrations."""


@db.command()
def upgrade() -> None:
    """Apply pending migrations to GATEWAY_DATABASE_URL (or the embedded database)."""
    with database(_settings()) as settings:
        applied = _upgrade(settings)
        names = {m.version: m.name for m in migrate.discover()}
    if applied:
        for version in applied:
            click.echo(f"applied {version:04d}_{names[version]}")
    else:
        click.echo(f"Already up to date (version {migrate.head_version():04d}).")


@db.command()
def status() -> None:
    """List the migrations, each applied or pending."""
    with database(_settings()) as settings:
        with psycopg.connect(settings["DATABASE_URL"]) as conn:
            done = migrate.applied_versions(conn)
    waiting = 0
    for migration in migrate.discover():
        state = "applied" if migration.version in done else "pending"
        waiting += state == "pending"
        click.echo(f"{migration.version:04d}_{migration.name}  {state}")
    click.echo(f"{waiting} pending." if waiting else "Up to date.")


def _check_policy(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    from gateway.redaction import UnknownPolicy, get_policy, policy_names

    try:
        get_policy(value)
    except UnknownPolicy:
        known = ", ".join(policy_names())
        raise click.BadParameter(f"unknown policy {value!r}; known policies: {known}.") from None
    return value


@main.command()
@click.option(
    "--policy",
    default="strict",
    show_default=True,
    callback=_check_policy,
    help="Redaction policy to apply.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: text and spans.")
def redact(policy: str, as_json: bool) -> None:
    """Redact transcripts read from stdin, one per line, to stdout in the same order."""
    from gateway.redaction import redact as redact_text

    # bytes in and out: UTF-8 whatever the locale, and only b"\n" ends a line (a lone "\r"
    # does not); decoding line by line pins an encoding error to its line
    source = sys.stdin.buffer
    out = sys.stdout.buffer
    # a person typing wants each answer at once; a pipe wants throughput
    interactive = sys.stdout.isatty()
    try:
        for number, raw in enumerate(source, start=1):
            try:
                text = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
            except UnicodeDecodeError:
                out.flush()
                raise click.ClickException(f"line {number} is not valid UTF-8") from None
            result = redact_text(text, policy)
            if as_json:
                spans = [{"type": s.type, "start": s.start, "end": s.end} for s in result.spans]
                line = json.dumps({"text": result.text, "spans": spans}, ensure_ascii=False)
            else:
                line = result.text
            out.write(line.encode("utf-8") + b"\n")
            if interactive:
                out.flush()
        out.flush()
    except BrokenPipeError:
        # `skillgw redact < big.txt | head` closes the pipe early: not an error
        os._exit(0)


# --- skillgw audit


@contextmanager
def _app_connection() -> Iterator[Any]:
    """A connection as the app role (least privilege: the audit commands need no more)."""
    from gateway import app_conninfo

    with database(_settings()) as settings:
        with psycopg.connect(app_conninfo(settings), autocommit=True, row_factory=dict_row) as conn:
            yield conn


def _seal_everything(conn: Any) -> int:
    """Seal every committed event, each batch in a transaction of its own."""
    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import audit as audit_service

    total = 0
    while True:
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            sealed = audit_service.seal(conn)
        total += sealed
        if sealed < audit_service.SEAL_BATCH:
            return total


def _signing_key() -> Any:
    from gateway.audit_keys import load_signing_key

    try:
        return load_signing_key(_settings())
    except ValueError as exc:
        raise click.UsageError(f"bad GATEWAY_AUDIT_SIGNING_KEY: {exc}") from exc


def _public_key(text: str | None) -> Any:
    from gateway.audit_keys import public_key_from_text

    if text is None:
        return _signing_key().public_key()
    if os.path.isfile(text):
        text = Path(text).read_text(encoding="utf-8")
    try:
        return public_key_from_text(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from exc


def _verdict_json(verdict: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(verdict)


def _verdict_line(verdict: Any) -> str:
    if verdict.ok:
        return (
            f"OK: {verdict.rows} rows, head seq {verdict.head_seq} "
            f"(row_hash {verdict.head_hash[:16]}…), {verdict.unsealed} unsealed."
        )
    where = f"at seq {verdict.first_bad_seq}" if verdict.first_bad_seq is not None else ""
    return f"BROKEN {where}: {verdict.reason}".replace("  ", " ")


@main.group()
def audit() -> None:
    """The audit log: verify its hash chain, sign checkpoints of its head, show what happened."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also check the chain still reaches this signed checkpoint (repeatable).",
)
@click.option(
    "--public-key",
    help="The key checkpoints were signed with: hex, base64, or a PEM file. "
    "Default: the server's own (GATEWAY_AUDIT_SIGNING_KEY or DATA_DIR).",
)
@click.option("--json", "as_json", is_flag=True, help="The verdicts as JSON.")
def audit_verify(checkpoints: tuple[Path, ...], public_key: str | None, as_json: bool) -> None:
    """Seal what is committed, recompute every row's hash and link; exit 1 naming the first
    bad row."""
    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import audit as audit_service

    key = _public_key(public_key) if checkpoints else None  # only read when needed
    loaded = []
    for path in checkpoints:
        try:
            loaded.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{path} is not a checkpoint file") from exc
    results: list[tuple[str, Any]] = []
    with _app_connection() as conn:
        _seal_everything(conn)
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            results.append(("chain", audit_service.verify_audit_chain(conn, seal_first=False)))
        for path, checkpoint in loaded:
            assert key is not None  # read above whenever a checkpoint was given
            with conn.transaction():
                bind_principal(conn, SYSTEM)
                verdict = audit_service.verify_against_checkpoint(conn, checkpoint, key)
            results.append((str(path), verdict))
    if as_json:
        body = {name: _verdict_json(verdict) for name, verdict in results}
        click.echo(json.dumps(body, indent=2))
    else:
        for name, verdict in results:
            label = "Audit chain" if name == "chain" else f"Checkpoint {name}"
            click.echo(f"{label}: {_verdict_line(verdict)}")
    if not all(verdict.ok for _, verdict in results):
        sys.exit(1)


@audit.command("checkpoint")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the checkpoint to this file instead of printing it.",
)
def audit_checkpoint(out: Path | None) -> None:
    """Seal, verify, and print the chain's head signed with the server key (Ed25519).

    Keep checkpoints away from the database: a chain rewritten later no longer reaches them.
    """
    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import audit as audit_service

    key = _signing_key()
    with _app_connection() as conn:
        _seal_everything(conn)
        try:
            with conn.transaction():
                bind_principal(conn, SYSTEM)
                checkpoint = audit_service.checkpoint(conn, signing_key=key)
        except audit_service.ChainBroken as exc:
            click.echo(f"Audit chain {_verdict_line(exc.verdict)}", err=True)
            click.echo("No checkpoint signed.", err=True)
            sys.exit(1)
    text = json.dumps(checkpoint, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(f"Checkpoint of seq {checkpoint['seq']} written to {out}", err=True)


@audit.command("public-key")
@click.option("--pem", is_flag=True, help="As a PEM SubjectPublicKeyInfo block, not hex.")
def audit_public_key(pem: bool) -> None:
    """Print the public half of the checkpoint key, for whoever verifies checkpoints."""
    from gateway.audit_keys import public_key_hex, public_key_pem

    public = _signing_key().public_key()
    click.echo(public_key_pem(public).rstrip("\n") if pem else public_key_hex(public))


@audit.command("seal")
@click.option(
    "--every",
    type=click.FloatRange(min=0.1),
    help="Keep sealing, every this many seconds, until stopped.",
)
def audit_seal(every: float | None) -> None:
    """Seal committed events into the chain now (or keep doing so with --every)."""
    with _app_connection() as conn:
        while True:
            sealed = _seal_everything(conn)
            if every is None:
                click.echo(f"Sealed {sealed} events.")
                return
            if sealed:
                click.echo(f"Sealed {sealed} events.", err=True)
            time.sleep(every)


def _event_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "id": row["id"],
        "occurred_at": row["occurred_at"].isoformat(),
        "actor": f"{row['actor_kind']}:{row['actor_id']}" if row["actor_id"] else "system",
        "action": row["action"],
        "developer_id": row["developer_id"],
        "skill_id": None if row["skill_id"] is None else str(row["skill_id"]),
        "subject": row["subject"],
        "details": row["details"],
    }


@audit.command("tail")
@click.option("-n", "count", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit_tail(count: int, as_json: bool) -> None:
    """Show the newest events, newest first (unsealed ones have no seq yet)."""
    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import audit as audit_service

    with _app_connection() as conn, conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        bind_principal(conn, SYSTEM)
        events = [_event_json(row) for row in audit_service.recent_events(conn, limit=count)]
    if as_json:
        for event in events:
            click.echo(json.dumps(event, sort_keys=True))
        return
    _print_events(events)


def _details_text(details: dict[str, Any] | None) -> str:
    """{"endpoint": "list", "interactions": 50} -> endpoint=list interactions=50"""
    parts = []
    for name, value in sorted((details or {}).items()):
        shown = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{name}={shown}".replace("True", "yes").replace("False", "no"))
    return " ".join(parts)


def _about(event: dict[str, Any]) -> str:
    """What an event concerns, on as few lines as it takes: ids first, then details."""
    ids = [
        f"{label} {value}"
        for label, value in (
            ("developer", event["developer_id"]),
            ("skill", event["skill_id"]),
            ("subject", event["subject"]),
        )
        if value is not None
    ]
    return "\n".join(filter(None, [", ".join(ids), _details_text(event["details"])]))


def _print_events(events: list[dict[str, Any]]) -> None:
    headers = ["seq", "time (UTC)", "action", "by", "about"]
    rows = [
        [
            "-" if event["seq"] is None else str(event["seq"]),
            event["occurred_at"][:19].replace("T", " "),
            event["action"],
            # a client id names its kind already (dev_, adm_, pla_)
            event["actor"].removeprefix("client:"),
            _about(event),
        ]
        for event in events
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is a dependency; a stripped install still prints
        click.echo("\t".join(headers))
        for row in rows:
            click.echo("\t".join(cell.replace("\n", "; ") for cell in row))
        return
    table = Table(title=f"Newest {len(events)} audit events (seq '-': not sealed yet)")
    for number, header in enumerate(headers):
        # what an operator scans stays on one line; ids and details fold, never cut
        table.add_column(header, no_wrap=number < 3, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def register(app: Any) -> None:
    """Make the commands reachable as `flask --app app <command>` too."""
    for command in main.commands.values():
        app.cli.add_command(command)
