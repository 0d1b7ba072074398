"""`skillgw ingest`: interactions from JSON Lines through the platform's ingest service, in batches.

Worker processes parse, validate (schemas/ingest.py, as the API does) and redact (rule 5, as the
API does) batches of lines while this process writes the previous ones with COPY, each batch in
its own transaction (services/ingest.py `import_interactions`, the API's own checks). A bad line
is reported with its number and reason and does not stop the others.
"""

import io
import json
import multiprocessing
import os
import signal
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

import click
import psycopg
from marshmallow import ValidationError
from psycopg.rows import dict_row
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from gateway import migrate
from gateway.db import bind_principal, use_binding_key
from gateway.exceptions import Conflict
from gateway.models import SYSTEM, Conn
from gateway.services import ingest as ingest_service
from schemas.ingest import IngestInteractionSchema

# A line longer than this is refused unread: the API refuses bodies over 1 MiB too.
MAX_LINE_BYTES = 1_048_576
DEFAULT_BATCH = 1000
# A batch that lost a race with another import of the same ids is tried again this often.
_ATTEMPTS = 3

_SCHEMA = IngestInteractionSchema()


@dataclass(frozen=True)
class Rejected:
    """A line that was not imported: its number, its platform id if it had one, and why."""

    line: int
    interaction_id: str | None
    errors: dict[str, list[str]]

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "interaction_id": self.interaction_id, "errors": self.errors}


@dataclass
class Batch:
    """Consecutive lines of the input; `size` counts every byte read for it, blank lines too."""

    lines: list[tuple[int, bytes]]
    last_line: int
    size: int


@dataclass
class Prepared:
    """A batch after a worker parsed, validated and redacted it."""

    records: list[tuple[int, dict[str, Any]]]  # (line number, validated record)
    forms: list[list[dict[str, Any]]]  # each record's redacted forms, in the same order
    rejected: list[Rejected]
    last_line: int
    size: int
    validate_seconds: float
    redact_seconds: float


@dataclass
class Summary:
    """What an import did. `lines_done`: every line up to it is imported or reported."""

    dry_run: bool
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    lines_done: int = 0
    interrupted: bool = False
    error: str | None = None
    seconds: float = 0.0
    # where the time went: worker CPU (validating, redacting), this process (writing, waiting)
    validate_seconds: float = 0.0
    redact_seconds: float = 0.0
    write_seconds: float = 0.0
    wait_seconds: float = 0.0
    batches: int = 0
    first_rejects: list[Rejected] = field(default_factory=list)


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"slots.0.value": [...]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_line": list(messages)}
    return {prefix or "_line": [str(messages)]}


def parse_line(number: int, raw: bytes) -> tuple[dict[str, Any] | None, Rejected | None]:
    """One line as a validated record, or why it is not one."""
    if len(raw) > MAX_LINE_BYTES:
        return None, Rejected(number, None, {"_line": [f"Longer than {MAX_LINE_BYTES} bytes."]})
    try:
        data = json.loads(raw.decode("utf-8").rstrip("\r\n"))
    except UnicodeDecodeError:
        return None, Rejected(number, None, {"_line": ["Not valid UTF-8."]})
    except json.JSONDecodeError as exc:
        return None, Rejected(
            number, None, {"_line": [f"Not valid JSON: {exc.msg} (column {exc.colno})."]}
        )
    if not isinstance(data, dict):
        return None, Rejected(number, None, {"_line": ["Not a JSON object."]})
    given_id = data.get("interaction_id")
    try:
        record: dict[str, Any] = _SCHEMA.load(data)
    except ValidationError as exc:
        return None, Rejected(
            number, given_id if isinstance(given_id, str) else None, _flatten(exc.messages)
        )
    return record, None


def prepare_batch(batch: Batch) -> Prepared:
    """Parse, validate and redact one batch (in a worker process): nothing here touches the
    database, so any number of batches can be prepared at once."""
    started = time.process_time()
    records: list[tuple[int, dict[str, Any]]] = []
    rejected: list[Rejected] = []
    for number, raw in batch.lines:
        record, problem = parse_line(number, raw)
        if problem is not None:
            rejected.append(problem)
        elif record is not None:
            records.append((number, record))
    validated = time.process_time()
    forms = [ingest_service.redact_record(record) for _, record in records]
    return Prepared(
        records,
        forms,
        rejected,
        batch.last_line,
        batch.size,
        validate_seconds=validated - started,
        redact_seconds=time.process_time() - validated,
    )


def _ignore_interrupts() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the main process alone decides
    # what happens (it rolls back its batch and stops the workers)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def read_batches(stream: IO[bytes], *, batch_size: int, from_line: int = 1) -> Iterator[Batch]:
    """The input's non-blank lines from `from_line` on, numbered from 1, `batch_size` at a time."""
    lines: list[tuple[int, bytes]] = []
    size = 0
    number = 0
    for number, raw in enumerate(stream, start=1):
        size += len(raw)
        if number < from_line or not raw.strip():
            continue
        lines.append((number, raw))
        if len(lines) == batch_size:
            yield Batch(lines, number, size)
            lines, size = [], 0
    if lines or size:
        yield Batch(lines, number, size)


class _Interrupts:
    """SIGINT and SIGTERM raise KeyboardInterrupt at once, except while a commit runs: then
    they wait for its end, so that a batch is either committed and counted, or rolled back."""

    def __init__(self) -> None:
        self.holding = False
        self.pending = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.holding:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending:
            raise KeyboardInterrupt


@dataclass
class BatchOutcome:
    inserted: int
    duplicates: int
    rejected: list[Rejected]


class Importer:
    """Writes prepared batches, each in its own transaction on `conn` (not in autocommit)."""

    def __init__(
        self,
        conn: Conn,
        *,
        dry_run: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.conn = conn
        self.dry_run = dry_run
        self.clock = clock
        self.interrupts = _Interrupts()
        # in a dry run nothing is committed, so the ids a batch "stored" are kept here for the
        # next batches to see as the ledger would show them (platform id -> content digest)
        self._dry_ledger: dict[str, str] = {}

    def _screen(
        self, prepared: Prepared
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[list[dict[str, Any]]], int, list[Rejected]]:
        """Leave out repeats of a platform id within the batch (and, in a dry run, of one this
        run has "stored"): the same content is a duplicate, other content a rejection."""
        first_seen: dict[str, tuple[int, str]] = {}
        records: list[tuple[int, dict[str, Any]]] = []
        forms: list[list[dict[str, Any]]] = []
        duplicates = 0
        rejected: list[Rejected] = []
        for (number, record), made in zip(prepared.records, prepared.forms, strict=True):
            platform_id = record["interaction_id"]
            digest = ingest_service.content_digest(record)
            earlier = first_seen.get(platform_id)
            stored_digest = self._dry_ledger.get(platform_id)
            if earlier is not None or stored_digest is not None:
                same = (earlier[1] if earlier is not None else stored_digest) == digest
                if same:
                    duplicates += 1
                else:
                    message = (
                        ingest_service.REUSED_ID
                        if earlier is None
                        else f"Given at line {earlier[0]} with other content; platform ids may "
                        "not be reused."
                    )
                    rejected.append(Rejected(number, platform_id, {"interaction_id": [message]}))
                continue
            first_seen[platform_id] = (number, digest)
            records.append((number, record))
            forms.append(made)
        return records, forms, duplicates, rejected

    def write(self, prepared: Prepared) -> BatchOutcome:
        """Write one prepared batch, all of its good lines, in a transaction left open for
        `commit` (in a dry run, rolled back already). Raises what the database raises, after
        rolling the batch back."""
        records, forms, duplicates, rejected = self._screen(prepared)
        batch = self._import(records, forms)
        if self.dry_run:
            self.rollback()
            for index, result in batch.stored.items():
                if result.created:
                    self._dry_ledger[result.platform_interaction_id] = (
                        ingest_service.content_digest(records[index][1])
                    )
        rejected += [
            Rejected(records[index][0], records[index][1]["interaction_id"], errors)
            for index, errors in batch.rejected.items()
        ]
        inserted = sum(result.created for result in batch.stored.values())
        duplicates += len(batch.stored) - inserted
        return BatchOutcome(
            inserted, duplicates, sorted(prepared.rejected + rejected, key=lambda r: r.line)
        )

    def _import(
        self, records: list[tuple[int, dict[str, Any]]], forms: list[list[dict[str, Any]]]
    ) -> ingest_service.ImportedBatch:
        attempt = 1
        while True:
            try:
                bind_principal(self.conn, SYSTEM)
                return ingest_service.import_interactions(
                    self.conn,
                    [record for _, record in records],
                    now=self.clock(),
                    forms=forms,
                    writer=ingest_service.COPIES,
                )
            except Conflict:
                # another import stored some of these ids first: the next attempt sees them
                self.rollback()
                if attempt == _ATTEMPTS:
                    raise
                attempt += 1
            except BaseException:
                self.rollback()
                raise

    def commit(self) -> None:
        if not self.dry_run:
            self.conn.commit()

    def rollback(self) -> None:
        # after a lost connection there is nothing left to roll back on the server
        with suppress(psycopg.Error):
            self.conn.rollback()


def _prepared_batches(
    batches: Iterable[Batch], workers: int, summary: Summary
) -> Generator[Prepared, None, None]:
    """`batches` prepared in order, by `workers` processes (0: here) a few batches ahead."""
    if workers == 0:
        for batch in batches:
            yield prepare_batch(batch)
        return
    # spawned, not forked: the workers inherit no connection, thread or signal handler
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_ignore_interrupts)
    try:
        in_flight: deque[Any] = deque()
        for batch in batches:
            in_flight.append(pool.apply_async(prepare_batch, (batch,)))
            if len(in_flight) >= 2 * workers:
                yield _collect(in_flight.popleft(), summary)
        while in_flight:
            yield _collect(in_flight.popleft(), summary)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _collect(pending: Any, summary: Summary) -> Prepared:
    started = time.perf_counter()
    prepared: Prepared = pending.get()
    summary.wait_seconds += time.perf_counter() - started
    return prepared


def import_stream(
    conn: Conn,
    stream: IO[bytes],
    *,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    dry_run: bool = False,
    from_line: int = 1,
    on_batch: Callable[[Prepared, BatchOutcome], None] | None = None,
    keep_rejects: int = 20,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Summary:
    """Import every line of `stream`; return the summary.

    `conn` is an owner connection, not in autocommit; each batch is one transaction on it.
    `on_batch` sees each batch once it is committed (or rolled back, in a dry run).
    Ctrl-C (or SIGTERM) rolls back the batch being written and stops: the summary is then
    `interrupted`, and `lines_done` says where to resume. A database error stops the import
    the same way, with the summary's `error` set.
    """
    summary = Summary(dry_run=dry_run, lines_done=from_line - 1)
    importer = Importer(conn, dry_run=dry_run, clock=clock)
    if workers is None:
        workers = os.cpu_count() or 1
    started = time.perf_counter()
    batches = read_batches(stream, batch_size=batch_size, from_line=from_line)
    with (
        importer.interrupts.installed(),
        closing(_prepared_batches(batches, workers, summary)) as prepared_batches,
    ):
        try:
            for prepared in prepared_batches:
                write_started = time.perf_counter()
                outcome = importer.write(prepared)
                # a signal now waits until the batch is committed and counted
                with importer.interrupts.held():
                    importer.commit()
                    summary.write_seconds += time.perf_counter() - write_started
                    _count(summary, prepared, outcome, keep_rejects)
                    if on_batch is not None:
                        on_batch(prepared, outcome)
        except KeyboardInterrupt:
            summary.interrupted = True
            importer.rollback()
        except (psycopg.Error, Conflict) as exc:
            summary.error = str(exc).strip() or exc.__class__.__name__
            importer.rollback()
    summary.seconds = time.perf_counter() - started
    return summary


def _count(summary: Summary, prepared: Prepared, outcome: BatchOutcome, keep: int) -> None:
    summary.batches += 1
    summary.validate_seconds += prepared.validate_seconds
    summary.redact_seconds += prepared.redact_seconds
    summary.inserted += outcome.inserted
    summary.duplicates += outcome.duplicates
    summary.rejected += len(outcome.rejected)
    summary.lines_done = prepared.last_line
    summary.first_rejects += outcome.rejected[: max(keep - len(summary.first_rejects), 0)]


def connect(url: str, *, binding_key: bytes | None = None) -> Conn:
    """An owner connection for importing: dict rows, explicit transactions, named in
    pg_stat_activity, its SYSTEM bindings proven with `binding_key`; refuses a database whose
    migrations are not all applied."""
    conn: Conn = psycopg.connect(url, row_factory=dict_row, application_name="skillgw ingest")
    if binding_key is not None:
        use_binding_key(conn, binding_key)
    try:
        waiting = migrate.pending(conn)
        conn.rollback()
    except BaseException:
        conn.close()
        raise
    if waiting:
        conn.close()
        raise RuntimeError("the database is not up to date: run `skillgw db upgrade` first")
    return conn


# --- the command's output: a progress bar on stderr, then the summary on stdout


def _open_source(source: str) -> tuple[IO[bytes], int | None]:
    """The input as bytes, with its size when it is a regular file (for the progress bar)."""
    stream: IO[bytes] = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    try:
        info = os.fstat(stream.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        return stream, None
    return stream, info.st_size if stat.S_ISREG(info.st_mode) else None


def run(
    url: str,
    source: str,
    *,
    binding_key: bytes | None = None,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    dry_run: bool = False,
    from_line: int = 1,
    rejects: Path | None = None,
    show: int = 20,
) -> int:
    """Import `source` (a path, or "-" for stdin) into the database at `url` (owner role),
    showing progress and then a summary; return the exit status: 0 when every line was
    imported or skipped as a duplicate, 1 when a line was rejected or the database failed,
    130 when interrupted."""
    stream, total = _open_source(source)
    conn = connect(url, binding_key=binding_key)
    rejects_file = rejects.open("w", encoding="utf-8") if rejects is not None else None
    counts = {"lines": 0, "inserted": 0, "duplicates": 0, "rejected": 0}
    console = Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(
                "Checking (dry run)" if dry_run else "Importing", total=total, counts=""
            )

            def on_batch(prepared: Prepared, outcome: BatchOutcome) -> None:
                counts["lines"] = prepared.last_line
                counts["inserted"] += outcome.inserted
                counts["duplicates"] += outcome.duplicates
                counts["rejected"] += len(outcome.rejected)
                progress.update(
                    task,
                    advance=prepared.size,
                    counts="line {lines:,}: {inserted:,} new, {duplicates:,} duplicates, "
                    "{rejected:,} rejected".format(**counts),
                )
                if rejects_file is not None:
                    for rejected in outcome.rejected:
                        rejects_file.write(json.dumps(rejected.as_json(), ensure_ascii=False))
                        rejects_file.write("\n")
                    rejects_file.flush()

            summary = import_stream(
                conn,
                stream,
                batch_size=batch_size,
                workers=workers,
                dry_run=dry_run,
                from_line=from_line,
                on_batch=on_batch,
                keep_rejects=show,
            )
    finally:
        conn.close()
        if rejects_file is not None:
            rejects_file.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    click.echo(describe(summary, source=source, rejects=rejects))
    if summary.interrupted:
        return 130
    return 1 if summary.rejected or summary.error else 0


def describe(summary: Summary, *, source: str, rejects: Path | None) -> str:
    """The summary as the command prints it."""
    rate = summary.inserted / summary.seconds if summary.seconds else 0.0
    lines = []
    if summary.dry_run:
        lines.append("Dry run: nothing was written.")
    lines += [
        f"{'Would insert' if summary.dry_run else 'Inserted'}: {summary.inserted:,}"
        f" ({rate:,.0f} interactions/s over {summary.seconds:,.1f} s)",
        f"Skipped as duplicates: {summary.duplicates:,}",
        f"Rejected: {summary.rejected:,}",
    ]
    if summary.rejected:
        shown = len(summary.first_rejects)
        where = f"; all of them are in {rejects}" if rejects is not None else ""
        lines.append(f"Rejected lines (the first {shown} of {summary.rejected:,}{where}):")
        for rejected in summary.first_rejects:
            lines.append(f"  line {rejected.line}: {_reason(rejected)}")
    stopped = "Interrupted" if summary.interrupted else "Stopped by a database error"
    if summary.interrupted or summary.error:
        if summary.error:
            lines.append(f"Database error: {summary.error}")
        lines.append(
            f"{stopped}: every line up to {summary.lines_done:,} was imported or reported;"
            " the batch after it was rolled back and nothing after it was written."
        )
        if source == "-":
            lines.append(
                f"Resume by sending the lines after line {summary.lines_done:,} again (or all"
                " of them: those imported already are skipped as duplicates)."
            )
        else:
            lines.append(
                f"Resume with: skillgw ingest {source} --from-line {summary.lines_done + 1}"
            )
    return "\n".join(lines)


def _reason(rejected: Rejected) -> str:
    return "; ".join(
        " ".join(messages) if name == "_line" else f"{name}: {' '.join(messages)}"
        for name, messages in rejected.errors.items()
    )
