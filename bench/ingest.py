"""Benchmark of the bulk import against a plain COPY of the same rows, in the same run.

    python bench/ingest.py [--rows 1000000] [--database-url URL] [--batch 1000] [--workers N]

Creates its own database on the server at --database-url (default the local server at
127.0.0.1:5432; dropped at the end unless --keep), owned by a role without BYPASSRLS as in
production, with 4 skills and 5,000 users. Writes --rows realistic interactions to a JSON Lines
file (transcripts from the labelled redaction corpus, bench/redaction_corpus.py, which is full
of names, numbers and addresses, plus Faker values), then loads that file twice:

- plain COPY: each line parsed and copied, in one COPY, into an unpartitioned table with the
  same columns and a primary key; no validation, no redaction, no row-level security;
- bulk import: `skillgw ingest`'s own code path (gateway.bulk_import.import_stream, without the
  progress bar): validation, redaction under every policy in worker processes, COPY through
  staging tables into the partitioned tables, one transaction per batch.

Prints rows/s of each, their ratio, where the import's time went, and a profile of one
worker's batch (cProfile) to show where a worker's time goes.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from faker import Faker
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from redaction_corpus import generate as corpus_lines  # noqa: E402

from gateway import bulk_import, migrate  # noqa: E402
from gateway.binding import derive_binding_key  # noqa: E402
from gateway.db import bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM  # noqa: E402
from gateway.repositories import developers as developers_repo  # noqa: E402
from gateway.repositories import skills as skills_repo  # noqa: E402
from gateway.repositories import users as users_repo  # noqa: E402

OWNER_ROLE = "gateway_bench_owner"
# installed with the schema, as `skillgw db upgrade` does, and proven on the seed's and the
# import's connections as `skillgw ingest` proves it: the database takes developers, skills,
# users and interactions only from a proven SYSTEM caller
BINDING_KEY = derive_binding_key("bench")
N_USERS = 5000
SKILLS = {
    "Pizza Palace": ("OrderPizza", "TrackOrder", "CancelOrder"),
    "Swift Rides": ("BookRide", "CancelRide", "RideStatus"),
    "CareWell Pharmacy": ("RefillPrescription", "PharmacyHours"),
    "First Bank": ("CheckBalance", "TransferMoney", "ReportCard"),
}
RESPONSES = (
    "Okay {name}, your order {ref} is confirmed and will arrive by {time}.",
    "I've sent the receipt to {email}.",
    "Your driver {name} is on the way to {address}.",
    "Sorry, I couldn't find an order with that number.",
    "Done. Your refill will be ready at {time}; we'll text {phone} when it is.",
    "Your balance is ${amount}.",
    "Okay, cancelled.",
)
OUTCOMES = ("success",) * 7 + ("failure", "abandoned", "error")


def make_owner(server: str, name: str) -> str:
    """A fresh database owned by a role without BYPASSRLS (created if the server lets us)."""
    with psycopg.connect(server, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER_ROLE,)).fetchone():
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(
                    sql.Identifier(OWNER_ROLE)
                )
            )
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE)
            )
        )
    url = make_conninfo(server, dbname=name, user=OWNER_ROLE)
    migrate.upgrade(url, binding_key=BINDING_KEY)
    return url


def seed(url: str) -> list[str]:
    """Four developers' skills and N_USERS users; the skill ids."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        use_binding_key(conn, BINDING_KEY)
        bind_principal(conn, SYSTEM)
        skills = []
        for name in SKILLS:
            developer = developers_repo.insert_developer(conn, name=f"{name} Inc.")
            skills.append(str(skills_repo.insert_skill(conn, developer_id=developer, name=name)))
        for n in range(N_USERS):
            users_repo.upsert_user(conn, platform_user_id=f"user-{n}", is_child=n % 50 == 0)
        conn.commit()
    return skills


def write_file(path: Path, rows: int, skills: list[str], seed_value: int = 11) -> None:
    """`rows` interactions as the platform would send them, in multi-turn sessions."""
    rng = random.Random(seed_value)
    fake = Faker("en_US")
    fake.seed_instance(seed_value)
    utterances = [line.text for line in corpus_lines()]
    values = {
        "name": [fake.first_name() for _ in range(500)],
        "email": [fake.free_email() for _ in range(500)],
        "address": [fake.street_address() for _ in range(500)],
        "phone": [fake.phone_number() for _ in range(500)],
    }
    names = list(SKILLS)
    now = datetime.now(UTC)
    with path.open("w", encoding="utf-8") as out:
        session = ""
        for n in range(rows):
            if n % 4 == 0:
                session = uuid.UUID(int=rng.getrandbits(128)).hex
                skill_index = rng.randrange(len(skills))
                user = f"user-{rng.randrange(N_USERS)}"
                started = now - timedelta(seconds=rng.randrange(90 * 86400))
            ref = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
            response = rng.choice(RESPONSES).format(
                name=rng.choice(values["name"]),
                email=rng.choice(values["email"]),
                address=rng.choice(values["address"]),
                phone=rng.choice(values["phone"]),
                ref=ref,
                time=f"{rng.randint(1, 12)}:{rng.choice(('00', '15', '30', '45'))} PM",
                amount=f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}",
            )
            record = {
                "interaction_id": f"bench-{n}",
                "skill_id": skills[skill_index],
                "user_id": user,
                "session_id": session,
                "occurred_at": (started + timedelta(seconds=20 * (n % 4))).isoformat(),
                "utterance": rng.choice(utterances),
                "response": response,
                "intent": rng.choice(SKILLS[names[skill_index]]),
                "slots": [{"name": "contact", "value": rng.choice(values["phone"])}]
                if rng.random() < 0.3
                else [],
                "outcome": rng.choice(OUTCOMES),
                "order_ref": ref if rng.random() < 0.5 else "",
                "sensitive_category": {2: "health", 3: "finance"}.get(skill_index),
                "device_serial": f"SN-{rng.getrandbits(40):010x}",
                "audio_ref": f"vault://recordings/{n}.opus" if rng.random() < 0.3 else None,
            }
            out.write(json.dumps(record) + "\n")


_PLAIN_TABLE = """
CREATE TABLE plain_interactions (
    id                      uuid PRIMARY KEY,
    platform_interaction_id text NOT NULL,
    skill_id                uuid NOT NULL,
    user_id                 text NOT NULL,
    session_id              text NOT NULL,
    occurred_at             timestamptz NOT NULL,
    utterance               text NOT NULL,
    response                text NOT NULL,
    intent                  text NOT NULL,
    slots                   jsonb NOT NULL,
    outcome                 text NOT NULL,
    order_ref               text NOT NULL,
    sensitive_category      text,
    device_serial           text NOT NULL,
    audio_ref               text
)
"""
_PLAIN_COLUMNS = (
    "platform_interaction_id",
    "skill_id",
    "user_id",
    "session_id",
    "occurred_at",
    "utterance",
    "response",
    "intent",
    "slots",
    "outcome",
    "order_ref",
    "sensitive_category",
    "device_serial",
    "audio_ref",
)


def backend_cpu(conn: psycopg.Connection[Any]) -> float:
    """CPU seconds the server process of `conn` has used (a server on this machine), else 0."""
    try:
        fields = Path(f"/proc/{conn.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    seconds: float  # wall clock
    client_cpu: float  # this process and its workers
    server_cpu: float  # the server process of the connection

    def cpu(self) -> float:
        return self.client_cpu + self.server_cpu


def plain_copy(url: str, path: Path) -> Run:
    """Parse the file and COPY every line into an unpartitioned table, in one COPY."""
    with psycopg.connect(url) as conn:
        conn.execute(_PLAIN_TABLE)
        conn.commit()
        server, client = backend_cpu(conn), time.process_time()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                """
                COPY plain_interactions (id, platform_interaction_id, skill_id, user_id,
                    session_id, occurred_at, utterance, response, intent, slots, outcome,
                    order_ref, sensitive_category, device_serial, audio_ref)
                FROM STDIN
                """
            ) as copy,
            path.open("rb") as source,
        ):
            for raw in source:
                data = json.loads(raw)
                data["platform_interaction_id"] = data["interaction_id"]
                data["slots"] = json.dumps({s["name"]: s["value"] for s in data["slots"]})
                copy.write_row((uuid.uuid4(), *(data[name] for name in _PLAIN_COLUMNS)))
        conn.commit()
        seconds = time.perf_counter() - started
        return Run(seconds, time.process_time() - client, backend_cpu(conn) - server)


def bulk(url: str, path: Path, *, batch: int, workers: int) -> tuple[bulk_import.Summary, Run]:
    """`skillgw ingest`'s code path over the file."""
    conn = bulk_import.connect(url, binding_key=BINDING_KEY)
    try:
        server, client = backend_cpu(conn), time.process_time()
        with path.open("rb") as source:
            summary = bulk_import.import_stream(conn, source, batch_size=batch, workers=workers)
        main_cpu = time.process_time() - client
        worker_cpu = summary.validate_seconds + summary.redact_seconds if workers else 0.0
        run = Run(summary.seconds, main_cpu + worker_cpu, backend_cpu(conn) - server)
        return summary, run
    finally:
        conn.close()


def worker_profile(path: Path, lines: int = 2000) -> str:
    """Where one worker's time goes: cProfile of preparing the first `lines` lines (all of a
    shorter file) in this process."""
    with path.open("rb") as source:
        numbered = list(zip(range(1, lines + 1), source, strict=False))
    batch = bulk_import.Batch(numbered, len(numbered), 0)
    profile = cProfile.Profile()
    profile.runcall(bulk_import.prepare_batch, batch)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(18)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--batch", type=int, default=bulk_import.DEFAULT_BATCH)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="Keep the database and the file.")
    args = parser.parse_args()

    name = f"gateway_bench_ingest_{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    path = folder / "interactions.jsonl"
    try:
        # inside the try: a migration that fails still leaves no database behind
        url = make_owner(args.database_url, name)
        skills = seed(url)
        started = time.perf_counter()
        write_file(path, args.rows, skills)
        size = path.stat().st_size
        print(
            f"{args.rows:,} interactions, {size / 1e6:,.0f} MB of JSON Lines"
            f" (written in {time.perf_counter() - started:,.0f} s); {os.cpu_count()} cores,"
            f" {args.workers} workers, batches of {args.batch:,}"
        )

        plain = plain_copy(url, path)
        copy_rate = args.rows / plain.seconds
        print(f"plain COPY:  {copy_rate:10,.0f} rows/s  ({plain.seconds:,.1f} s)")

        summary, imported = bulk(url, path, batch=args.batch, workers=args.workers)
        assert summary.inserted + summary.duplicates + summary.rejected == args.rows, summary
        assert summary.rejected == 0 and not summary.error, summary.first_rejects
        import_rate = summary.inserted / summary.seconds
        print(f"bulk import: {import_rate:10,.0f} rows/s  ({summary.seconds:,.1f} s)")
        print(f"ratio:       {import_rate / copy_rate:10.3f} of plain COPY (wall clock)")
        print()
        print("Where the import's time went:")
        print(f"  workers, validating (CPU):  {summary.validate_seconds:8,.1f} s")
        print(f"  workers, redacting (CPU):   {summary.redact_seconds:8,.1f} s")
        print(f"  main, writing (wall):       {summary.write_seconds:8,.1f} s")
        print(f"  main, waiting for workers:  {summary.wait_seconds:8,.1f} s")
        print()
        # a shared machine slows long runs more than short ones: CPU time is what each costs
        print("CPU per 1,000 rows (client = this process and its workers; server = its backend):")
        for label, run in (("plain COPY", plain), ("bulk import", imported)):
            print(
                f"  {label:12} client {1000 * run.client_cpu / args.rows:6.2f} s,"
                f" server {1000 * run.server_cpu / args.rows:6.2f} s"
            )
        cores = os.cpu_count() or 1
        if plain.server_cpu and imported.server_cpu:
            # COPY is one process and one backend at a time; the import keeps every core busy
            copy_bound = args.rows / max(plain.client_cpu, plain.server_cpu)
            import_bound = args.rows / (imported.cpu() / cores)
            print(
                f"  on {cores} idle cores: plain COPY {copy_bound:,.0f} rows/s (its busier"
                f" process), bulk import {import_bound:,.0f} rows/s (all its CPU over all"
                f" cores): {import_bound / copy_bound:.3f}"
            )
        print()
        profiled = min(args.rows, 2000)
        print(f"One worker's batch of {profiled:,} lines, profiled:")
        print(worker_profile(path, profiled))
    finally:
        if not args.keep:
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            path.unlink(missing_ok=True)
            folder.rmdir()
        else:
            print(f"kept: database {name}, file {path}")


if __name__ == "__main__":
    main()
