"""The `skillgw` command line: serve, demo, database migrations and trying redaction policies."""

import json
import os
import shlex
import sys
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


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
def worker(once: bool, poll: float) -> None:
    """Deliver the signed webhook notices (revocations, deletions) until stopped.

    Runs as the app role, like the web app, with the same GATEWAY_* settings (the same
    GATEWAY_SECRET_KEY: it decrypts the developers' signing secrets). Ctrl-C or SIGTERM
    finishes the notice in flight and exits 0.
    """
    import signal
    import threading

    from gateway import create_app
    from gateway import worker as worker_module

    with database(_settings()) as settings:
        app = create_app({"DATABASE_URL": settings["DATABASE_URL"]})
        db = app.extensions["gateway.db"]
        clock = app.config["CLOCK"]
        try:
            if once:
                counts = worker_module.deliver_due(db, app.config, now=clock)
                click.echo(
                    f"delivered {counts['delivered']}, to retry {counts['pending']}, "
                    f"dead {counts['dead']}"
                )
                return
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            click.echo("Delivering webhook notices (Ctrl-C stops).", err=True)
            worker_module.run(db, app.config, stop=stop, now=clock, poll_seconds=poll)
        finally:
            db.close()


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


def register(app: Any) -> None:
    """Make the commands reachable as `flask --app app <command>` too."""
    for command in main.commands.values():
        app.cli.add_command(command)
