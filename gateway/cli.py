"""The `skillgw` command line: serve, demo, migrations, bulk import, retention, redaction,
the webhook worker and the audit log (verify, checkpoint, seal, tail)."""

import json
import os
import shlex
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import psycopg
from psycopg.rows import dict_row

from gateway import config as config_module
from gateway import migrate, secret_key
from gateway.binding import derive_binding_key
from gateway.db import PooledDatabase, bind_principal, use_binding_key
from gateway.embedded import EMBEDDED_FOLDER
from gateway.models import SYSTEM, Conn

if TYPE_CHECKING:
    from gateway.demo import DemoCredentials, DemoDeveloper, DemoGuide
    from gateway.demo_accounts import DemoSignIns


@contextmanager
def database(settings: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the settings with DATABASE_URL set, starting the embedded PostgreSQL if it is empty.

    The embedded server is stopped on the way out (unless another process still uses it).
    What it says on stderr is what happened: a server already running is used, not started,
    and one another process still uses is left running, not stopped.
    """
    if settings["DATABASE_URL"]:
        yield settings
        return
    from gateway.embedded import start_embedded

    folder = Path(settings["DATA_DIR"]) / EMBEDDED_FOLDER
    running = _embedded_running(folder)
    if running:
        click.echo(f"Using the embedded PostgreSQL already running in {folder}", err=True)
    else:
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
            if not _embedded_running(folder):
                click.echo("Embedded PostgreSQL stopped.", err=True)
            elif not running:
                click.echo("Embedded PostgreSQL left running: another process uses it.", err=True)


def _embedded_running(folder: Path) -> bool:
    # PostgreSQL keeps postmaster.pid in its data folder while it runs and removes it on exit
    return (folder / "postmaster.pid").exists()


def _settings() -> dict[str, Any]:
    try:
        return config_module.load()
    except ValueError as exc:
        raise click.UsageError(f"bad setting: {exc}") from exc


def _binding_key(settings: dict[str, Any]) -> bytes:
    return derive_binding_key(secret_key(settings))


def _upgrade(settings: dict[str, Any]) -> list[int]:
    """Apply pending migrations and install the caller-binding key the app instances prove with."""
    try:
        return migrate.upgrade(
            settings["DATABASE_URL"],
            app_password=settings["DATABASE_APP_PASSWORD"],
            binding_key=_binding_key(settings),
        )
    except migrate.MigrationChanged as exc:
        raise click.ClickException(str(exc)) from exc


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
    try:
        server.refuse_unshared_limits(settings, workers)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    # unless configured (behind a proxy, say), the issuer is the URL this server listens on
    settings = {**settings, "ISSUER": settings["ISSUER"] or url, "WORKERS": workers}
    with database(settings) as settings:
        if not no_migrate:
            applied = _upgrade(settings)
            if applied:
                versions = ", ".join(f"{v:04d}" for v in applied)
                click.echo(f"Applied migrations: {versions}", err=True)
        _create_months_ahead(settings)
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
@click.option(
    "--size",
    type=click.IntRange(min=50),  # gateway.demo.MIN_SIZE, not imported here: it pulls in Faker
    default=3000,  # gateway.demo.DEFAULT_SIZE
    show_default=True,
    help="Interactions in the data set (more for benchmarks). Most load in the background.",
)
@_serve_options
def demo(
    credentials: Path | None,
    size: int,
    host: str | None,
    port: int | None,
    workers: int | None,
    no_migrate: bool,
) -> None:
    """Serve the gateway with a demo data set, printing credentials and example calls."""
    loaders: list[subprocess.Popen[bytes]] = []
    owner = os.getpid()

    def load(settings: dict[str, Any], url: str) -> None:
        # the server's own keyring, so that the printed session pseudonym is the one it shows
        from gateway import _keyring as server_keyring
        from gateway.demo import OlderDemoData, load_demo, start_loader

        owner_url = settings["DATABASE_URL"]
        with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
            use_binding_key(conn, _binding_key(settings))  # the loader writes as SYSTEM
            try:
                issued = load_demo(conn, keyring=server_keyring(settings), size=size, defer=True)
            except OlderDemoData as exc:
                raise click.ClickException(str(exc)) from None
            from gateway.demo_accounts import issue_sign_ins

            sign_ins = issue_sign_ins(
                conn,
                server_secret=secret_key(settings),
                users=[example.platform_user_id for example in issued.guide.consents],
            )
        if credentials is not None:
            _write_private(credentials, json.dumps(issued.as_json(), indent=2) + "\n")
        click.echo(_demo_banner(issued, url, credentials=credentials, sign_ins=sign_ins))
        if issued.pending:
            loaders.append(start_loader(owner_url, secret_key=secret_key(settings), size=size))

    try:
        _run_server(
            _settings(), host=host, port=port, workers=workers, no_migrate=no_migrate, before=load
        )
    finally:
        # gunicorn workers unwind through here too: only the process that started it stops it
        if os.getpid() == owner and loaders:
            from gateway.demo import stop_loader

            for loader in loaders:
                stop_loader(loader)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only, from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _token_call(var: str, developer: "DemoDeveloper", url: str) -> str:
    """A shell line that puts a token for `developer` into $var (client_secret_basic)."""
    basic = shlex.quote(f"{developer.client_id}:{developer.client_secret}")
    return (
        f"  {var}=$(curl -s -u {basic} -d grant_type=client_credentials {url}/oauth/token \\\n"
        "    | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )


def _demo_banner(
    issued: "DemoCredentials",
    url: str,
    *,
    credentials: Path | None,
    sign_ins: "DemoSignIns | None" = None,
) -> str:
    """What a newcomer needs: the clients, who consented to what, a conversation to open,
    searches to run."""
    guide = issued.guide
    developers = {d.name: d for d in issued.developers}
    skills = sum(len(d.skills) for d in issued.developers)
    lines = [""]
    if issued.created:
        lines.append(
            f"Demo data loaded: {len(developers)} developers, {skills} skills, {guide.users} "
            f"users ({guide.children} child profiles), {guide.interactions:,} interactions over "
            "90 days in conversations of 2 to 6 turns."
        )
    else:
        lines.append("Demo data already present; issued new client secrets.")
    if issued.pending:
        lines.append(
            f"{issued.pending:,} interactions are still loading in the background; "
            "the examples below work now."
        )
    lines += ["", "Clients (secrets are shown only now; earlier demo secrets are revoked):"]
    for developer in issued.developers:
        lines.append(f"  developer {developer.name!r}  tier {developer.tier}")
        if developer.tier_description:
            lines.append(f"    ({developer.tier_description})")
        lines.append(f"    client_id     {developer.client_id}")
        lines.append(f"    client_secret {developer.client_secret}")
        for skill in developer.skills:
            lines.append(f"    skill         {skill.id}  {skill.name}")
    for kind, (client_id, client_secret) in (
        ("admin", issued.admin),
        ("platform", issued.platform),
    ):
        lines.append(f"  {kind}")
        lines.append(f"    client_id     {client_id}")
        lines.append(f"    client_secret {client_secret}")
    if credentials is not None:
        lines.append(f"\nCredentials written to {credentials}")
    lines += ["", *_consent_table(guide)]
    if sign_ins is not None:
        lines += ["", *_sign_in_lines(sign_ins, url)]

    talk = guide.conversation
    reader = developers[talk.developer]
    lines += [
        "",
        f"Open a conversation as {reader.name} (tier {reader.tier}), one call for the whole of it:",
        f"{talk.platform_user_id} ({talk.name}), {talk.turns} turns: {talk.said}.",
        "",
        _token_call("TOKEN", reader, url),
        f'  curl -s -H "Authorization: Bearer $TOKEN" '
        f"{url}/v1/skills/{talk.skill_id}/sessions/{talk.session}",
    ]
    searcher = developers[guide.searches[0].developer]
    lines += [
        "",
        f"Search what a developer is shown (q= runs over the redacted text), as {searcher.name}:",
        "",
        _token_call("PIZZA", searcher, url),
        f'  curl -s -H "Authorization: Bearer $PIZZA" '
        f"{url}/v1/skills/{guide.searches[0].skill_id}/interactions",
    ]
    for search in guide.searches:
        query = urllib.parse.urlencode({"q": search.query})
        lines.append(
            f'  curl -s -H "Authorization: Bearer $PIZZA" '
            f"'{url}/v1/skills/{search.skill_id}/interactions?{query}'"
        )
        lines.append(f"      finds {search.finds}")
    lines.append("")
    return "\n".join(lines)


def _sign_in_lines(sign_ins: "DemoSignIns", url: str) -> list[str]:
    """How to sign in on the web as the demo admin and as the users of the table above."""
    secret = sign_ins.totp_secret
    return [
        f"Sign in on the web. Admins: {url}/admin/sign-in",
        f"  name          {sign_ins.admin_name}",
        f"  password      {sign_ins.admin_password}",
        f"  TOTP secret   {secret}  (add it to an authenticator app, or scan:)",
        f"                {sign_ins.totp_uri}",
        f"  code now      python3 -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"",
        f"Users: {url}/sign-in, as any user of the table above (the user column is the",
        f"account name), password: {sign_ins.user_password}",
    ]


def _consent_table(guide: "DemoGuide") -> list[str]:
    """A few demo users per consent state, one column per skill."""
    header = ["user", "name", "shows", *guide.skill_titles.values()]
    rows = [
        [c.platform_user_id, c.name, c.why, *(c.states[skill] for skill in guide.skill_titles)]
        for c in guide.consents
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        f"Who consented to what ({len(rows)} of the {guide.users} users). A developer reads an",
        "interaction only under the user's consent to its skill, given before it and still open;",
        "health and finance need a consent that covers them; a child profile's, never.",
        "",
    ]
    for row in [header, *rows]:
        lines.append(
            "  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        )
    lines += [
        "",
        "  yes: consented  revoked: withdrawn  again: revoked, then granted again  -: never",
        "  +health, +finance: the consent covers that category",
    ]
    return lines


@main.command()
@click.option(
    "--once",
    is_flag=True,
    help="One whole round (every notice due, expired grants, audit sealing), then exit.",
)
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
    import logging.config
    import signal
    import threading

    from gateway import create_app, logs
    from gateway import worker as worker_module

    with database(_settings()) as settings:
        # the same JSON lines on stdout as the web workers, each delivery and failure included
        logging.config.dictConfig(logs.config_dict(str(settings.get("LOG_LEVEL", "info"))))
        app = create_app({"DATABASE_URL": settings["DATABASE_URL"]})
        db = app.extensions["gateway.db"]
        clock = app.config["CLOCK"]
        try:
            if once:
                counts = worker_module.drain(db, app.config, now=clock)
                click.echo(
                    f"delivered {counts['delivered']}, to retry {counts['pending']}, "
                    f"dead {counts['dead']}; grants expired {counts['expired']}; "
                    f"audit events sealed {counts['sealed']}"
                )
                return
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            click.echo("Delivering webhook notices (Ctrl-C stops).", err=True)
            conninfo = db.conninfo if isinstance(db, PooledDatabase) else None
            wakeup = worker_module.Wakeup(conninfo, stop)
            try:
                worker_module.run(
                    db, app.config, stop=stop, now=clock, poll_seconds=poll, wakeup=wakeup
                )
            finally:
                wakeup.close()
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
    """List the migrations, each applied, pending or changed (edited after it was applied)."""
    with database(_settings()) as settings:
        with psycopg.connect(settings["DATABASE_URL"]) as conn:
            states = migrate.status(conn)
    for migration, state in states:
        click.echo(f"{migration.version:04d}_{migration.name}  {state}")
    changed = [m.filename for m, state in states if state == "changed"]
    waiting = sum(state == "pending" for _, state in states)
    if changed:
        raise click.ClickException(
            f"applied migration file changed since it was applied: {', '.join(changed)}"
        )
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


def _create_months_ahead(settings: dict[str, Any]) -> None:
    """Create the coming months' partitions before the workers start (as the app role, which
    may call the owner's function for it), so that no operator has to."""
    from gateway import app_conninfo
    from gateway.services import retention as retention_service

    try:
        with psycopg.connect(app_conninfo(settings), row_factory=dict_row) as conn:
            use_binding_key(conn, _binding_key(settings))
            bind_principal(conn, SYSTEM)  # the owner's function checks the caller's proof
            created = retention_service.ensure_months_ahead(conn, now=datetime.now(UTC))
            conn.commit()
    except psycopg.Error as exc:
        # not fatal: ingest creates a missing month itself, only more slowly
        click.echo(f"Could not create the coming months' partitions: {exc}".strip(), err=True)
        return
    if created:
        click.echo("Created partitions for " + ", ".join(f"{m:%Y-%m}" for m in created), err=True)


@contextmanager
def _owner_connection(settings: dict[str, Any]) -> Iterator[Conn]:
    """An owner connection whose SYSTEM bindings carry the proof privileged writes need."""
    with psycopg.connect(settings["DATABASE_URL"], autocommit=True, row_factory=dict_row) as conn:
        use_binding_key(conn, _binding_key(settings))
        yield conn


# --- skillgw ingest


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(1, 50_000),
    default=1000,
    show_default=True,
    help="Lines per transaction: a batch is written whole or not at all.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Processes that validate and redact (default: one per core; 0: this process).",
)
@click.option("--dry-run", is_flag=True, help="Validate, redact and check; write nothing.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every rejected line (number, platform id, reasons) to this JSON Lines file.",
)
@click.option(
    "--from-line",
    type=click.IntRange(1),
    default=1,
    help="Start at this line number (to resume an interrupted import).",
)
@click.option(
    "--show-rejects",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="How many rejected lines the summary lists.",
)
def ingest(
    source: str,
    batch_size: int,
    workers: int | None,
    dry_run: bool,
    rejects: Path | None,
    from_line: int,
    show_rejects: int,
) -> None:
    """Import interactions from a JSON Lines file (- reads stdin).

    One record per line, as in POST /v1/ingest/interactions, with the same validation and
    write-time redaction. A bad line is reported with its number and does not stop the
    others; a platform id imported before with the same content is skipped. Exits 1 when a
    line was rejected, 130 when interrupted (the batch being written is rolled back).
    """
    from gateway import bulk_import

    with database(_settings()) as settings:
        try:
            status = bulk_import.run(
                settings["DATABASE_URL"],
                source,
                binding_key=_binding_key(settings),
                batch_size=batch_size,
                workers=workers,
                dry_run=dry_run,
                from_line=from_line,
                rejects=rejects,
                show=show_rejects,
            )
        except (RuntimeError, psycopg.OperationalError) as exc:
            raise click.ClickException(str(exc).strip()) from None
    sys.exit(status)


# --- skillgw retention


@main.group()
def retention() -> None:
    """Retention: whole months of interactions past GATEWAY_RETENTION_MONTHS are dropped."""


@retention.command("run")
@click.option(
    "--months",
    type=click.IntRange(1),
    help="Whole months kept before the current one (default: GATEWAY_RETENTION_MONTHS).",
)
@click.option(
    "--dry-run", is_flag=True, help="Show what would be dropped and created; change nothing."
)
def retention_run(months: int | None, dry_run: bool) -> None:
    """Drop the months past retention, with their redacted forms and audio references, and
    create the partitions of the next months. Runs as the owner role; run it daily."""
    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import retention as retention_service

    settings = _settings()
    months = months or settings["RETENTION_MONTHS"]
    now = datetime.now(UTC)
    oldest = retention_service.oldest_kept_month(now=now, months=months)
    would = "Would drop" if dry_run else "Dropped"
    with database(settings) as settings, _owner_connection(settings) as conn:
        click.echo(
            f"Keeping {_many(months, 'month')} before the current one: from {oldest:%Y-%m} on."
        )
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            if dry_run:
                missing = retention_service.missing_months_ahead(conn, now=now)
            else:
                missing = retention_service.ensure_months_ahead(conn, now=now)
        if missing:
            created = ", ".join(f"{m:%Y-%m}" for m in missing)
            click.echo(f"{'Would create' if dry_run else 'Created'} partitions for {created}.")
        expired = retention_service.expired_months(conn, now=now, months=months)
        if not expired:
            click.echo("No month is past retention.")
        for month in expired:
            try:
                with conn.transaction():
                    bind_principal(conn, SYSTEM)
                    dropped = retention_service.drop_month(conn, month, dry_run=dry_run)
            except psycopg.errors.LockNotAvailable:
                raise click.ClickException(
                    f"{month:%Y-%m} is in use (a long transaction holds it); nothing of it was "
                    "dropped. Run again later."
                ) from None
            click.echo(
                f"{would} {month:%Y-%m}: {_many(dropped.interactions, 'interaction')}, "
                f"{_many(dropped.forms, 'redacted form')}, "
                f"{_many(dropped.audio, 'audio reference')}."
            )


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


# --- skillgw redaction


@main.group()
def redaction() -> None:
    """Stored redacted forms (made at write time under every policy)."""


@redaction.command("refresh")
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Interactions per transaction.",
)
def redaction_refresh(batch_size: int) -> None:
    """Redact again every interaction whose stored forms are missing or were made by an older
    detector or policy version (reads already never serve those; this saves them the work)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gateway.db import bind_principal
    from gateway.models import SYSTEM
    from gateway.services import redaction_refresh

    done = 0
    after = None
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with database(_settings()) as settings, _owner_connection(settings) as conn:
        with Progress(*columns, console=Console(stderr=True)) as progress:
            task = progress.add_task("Refreshing stale forms")
            while True:
                with conn.transaction():
                    bind_principal(conn, SYSTEM)
                    count, after = redaction_refresh.refresh_stale_forms(
                        conn, after=after, limit=batch_size
                    )
                if not count:
                    break
                done += count
                progress.update(task, description=f"Refreshed {done:,} interactions")
    click.echo(f"Refreshed the stored forms of {_many(done, 'interaction')}.")


# --- skillgw audit


@contextmanager
def _app_connection() -> Iterator[Any]:
    """A connection as the app role (least privilege: the audit commands need no more)."""
    from gateway import app_conninfo

    with database(_settings()) as settings:
        with psycopg.connect(app_conninfo(settings), autocommit=True, row_factory=dict_row) as conn:
            use_binding_key(conn, _binding_key(settings))  # SYSTEM's seals carry the proof
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


# the whitelist commands (tiers, grants, tier requests) live in a module of their own
from gateway.commands import whitelist as _whitelist  # noqa: E402

_whitelist.attach(main)
# sign-in accounts: admins of the web console, the users' first-party app
from gateway.commands import sign_ins as _sign_ins  # noqa: E402

_sign_ins.attach(main)

# the operators' account commands (developers, skills, clients) live in a module of their own
from gateway.commands import accounts as _accounts  # noqa: E402

_accounts.attach(main)
# operators acting on users' data (deletion on their behalf)
from gateway.commands import users as _users  # noqa: E402

_users.attach(main)
