"""The developer page of 50 through the whole gateway vs a bare endpoint serving the same rows.

    python bench/read_vs_bare.py [--database-url URL] [--interactions 10000] [--rounds 5]
                                 [--seconds 10] [--connections 16] [--workers 4] [--profile]
                                 [--variant DIR ...] [--scale 5000000] [--audience 300000]
                                 [--floor]

In one run, on the PostgreSQL server at --database-url (default the local one):

1. creates a database of its own (dropped at the end, also on Ctrl-C) and migrates it;
2. loads --interactions interactions of one skill through the write path: services/ingest
   where this checkout has it (so every redacted form is stored, made in worker processes as
   the bulk importer does), else the interactions repository that checkout writes with; all
   users consenting, none a child, everything inside the retention window; one developer on
   tier `standard`, whose rate limit is raised in this database only so nothing is throttled;
3. starts two gunicorn servers with the same options (--workers sync workers, no access log):
   the gateway from its real app factory (`gateway:create_app()`, connecting as the app role)
   and a bare Flask + psycopg app whose one endpoint returns the same 50 rows as JSON with no
   check at all (owner connection, no token, no rules, no access log): the columns the
   standard tier shows, with the stored redacted utterance where the schema has one (the
   raw utterance where it has none) and the user id as it is;
4. mints a developer token through the real /oauth/token and checks both return the same ids;
5. drives both with wrk (a Python asyncio load generator when wrk is missing) at
   --connections connections, --seconds per side per round, alternating gateway, bare,
   gateway, bare, ... after an uncounted warm-up, so noise on a shared machine hits both;
6. prints pages/s, p50 and p99 per round and their medians, and the median over rounds of
   the per-round ratio gateway/bare pages/s; and, measured from /proc over each round, the
   CPU each page cost in the side's gunicorn workers and in its PostgreSQL backends (found by
   application_name; only when the server runs on this machine) with the same ratio in pages
   per CPU second, which other processes on a shared machine move far less than throughput.

--variant DIR (repeatable) also serves the gateway from another checkout of the same schema, as
one more side in the same rounds, named after its folder, and prints its ratio to the bare side
and to the gateway: a change to the read path measured against the code it changes, under the
same noise.

--floor adds two sides that bound what any gateway could reach: the bare app whose one
statement also writes the access log of the rows it returns, in the same durable commit
(`bare+log`, one row per interaction shown, as rule 7 asks; `bare+commit`, a single row per
page), with nothing else of the gateway; each printed as a ratio to the bare side.

--scale N then grows the same skill's history to N interactions (`grow`: a year of months, each
loaded by the server into tables of its own, indexed once and attached as that month's
partitions; outside the tier's 30 days, so the page served stays the same 50 rows), prints
the EXPLAIN ANALYZE of the gateway's page statement (as the app role, from its generic plan)
with jit on and off, checks every side still serves the same ids, and measures every side
again: p50 at N over p50 at --interactions, per side, in one run.

--audience N then grows the skill's consenting users to N (none of them with an interaction,
so the page served stays the same; written by the server, then ANALYZE), prints the page
statement's plans and measures every side again: what the page costs as the skill's audience
grows (the users' row-level security policy looks up the page's users, not the audience).

--profile adds one more round of each gateway side (not counted above) with py-spy recording
every worker (`py-spy record --subprocesses --idle --full-filenames`, raw stacks) and prints
where a request's wall time inside the worker goes: by step of the read path (with the part
spent waiting on PostgreSQL) and the top frames, each as a share of in-request samples and in
ms per request.

The bench imports `gateway` from the checkout it sits in (its parent folder), so a copy of
this file in another worktree measures that worktree's code.
"""

import argparse
import asyncio
import base64
import inspect
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PAGE = 50
USERS = 1000  # at most; never more users than interactions
TIER = "standard"
# the standard tier's view of the data, with a limit no run of this script can reach
RAISED_RATE_LIMIT = "100000000 per minute"
MARKER = "BENCH_RESULT "
SECRET_KEY = "bench"  # the gateway's; where the schema checks who writes, it keys the proof

# wrk prints its usual report; this adds one machine-readable line at the end
WRK_SCRIPT = """
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "bytes": %%d, ' ..
    '"status": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.bytes, e.status, e.connect, e.read, e.write, e.timeout))
end
"""

# ---------------------------------------------------------------------------------------------
# the bare app: what serving these 50 rows costs with Flask and psycopg and nothing else

_BARE_SQL = {
    # a LEFT JOIN, as the gateway's: with an inner join PostgreSQL estimates the two-column
    # join (id and occurred_at) at one row, hashes the skill's whole history and sorts it
    # (135 ms instead of 0.4 ms at 10,000 interactions), which would make a poor baseline
    "redacted": """
        SELECT i.id, i.occurred_at, i.user_id, t.utterance, i.intent, i.outcome, i.order_ref
        FROM interactions i
        LEFT JOIN interaction_texts t
          ON t.interaction_id = i.id AND t.occurred_at = i.occurred_at AND t.policy = %(policy)s
        WHERE i.skill_id = %(skill_id)s
        ORDER BY i.occurred_at DESC, i.id DESC
        LIMIT %(limit)s
    """,
    "raw": """
        SELECT i.id, i.occurred_at, i.user_id, i.utterance, i.intent, i.outcome, i.order_ref
        FROM interactions i
        WHERE i.skill_id = %(skill_id)s
        ORDER BY i.occurred_at DESC, i.id DESC
        LIMIT %(limit)s
    """,
}


# The floor sides (--floor): the bare statement with the one write rule 7 cannot do without,
# the access log of what the page returns, in the same statement and so in the same durable
# commit (the bare app's connection is in autocommit). Nothing else of the gateway: no token,
# no rules, no pseudonyms, no audit event, no rate limit, no request log. `log` writes one
# access-log row per interaction shown, as the gateway does; `commit` writes one row per page
# only, to tell what the durable commit costs from what the 50 rows cost. Written as the owner
# (the bench's superuser), so row-level security does not apply to these inserts.
_FLOOR_SQL = """
    WITH page AS ({bare}),
    logged AS (
        INSERT INTO access_log (developer_id, client_id, skill_id, interaction_id, user_id,
                                endpoint)
        SELECT s.developer_id, 'bench-floor', s.id, p.id, p.user_id, 'list'
        FROM page p CROSS JOIN skills s
        WHERE s.id = %(skill_id)s
        {limit}
    )
    SELECT * FROM page ORDER BY occurred_at DESC, id DESC
"""
FLOORS = {"bare+log": "", "bare+commit": "LIMIT 1"}


def bare_statement(text: str, floor: str | None) -> str:
    """The bare side's statement for the stored `text`, or that of the floor side `floor`."""
    if floor is None:
        return _BARE_SQL[text]
    return _FLOOR_SQL.format(bare=_BARE_SQL[text], limit=FLOORS[floor])


def floor_log_rows(owner_url: str) -> int:
    """How many access-log rows the floor sides have written."""
    with psycopg.connect(owner_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM access_log WHERE client_id = 'bench-floor'"
        ).fetchone()
    return int(row[0]) if row else 0


def bare_app() -> Any:
    """The bare WSGI app (gunicorn calls this in each worker): GET /page, 50 rows as JSON.

    With BENCH_FLOOR set, one of the floor sides (`FLOORS`): the same, logging the rows read.
    """
    from flask import Flask

    app = Flask("bare")
    query = bare_statement(os.environ["BENCH_BARE_TEXT"], os.environ.get("BENCH_FLOOR") or None)
    params = {"skill_id": os.environ["BENCH_BARE_SKILL_ID"], "policy": TIER, "limit": PAGE}
    state: dict[str, psycopg.Connection[Any]] = {}

    @app.get("/page")
    def page() -> dict[str, Any]:
        conn = state.get("conn")
        if conn is None:  # opened after the fork, in the worker
            conn = state["conn"] = psycopg.connect(
                os.environ["BENCH_BARE_DATABASE_URL"], autocommit=True
            )
        rows = conn.execute(query, params).fetchall()
        return {
            "interactions": [
                {
                    "id": str(r[0]),
                    "occurred_at": r[1].isoformat(),
                    "user": str(r[2]),
                    "utterance": r[3],
                    "intent": r[4],
                    "outcome": r[5],
                    "order_ref": r[6],
                }
                for r in rows
            ]
        }

    return app


# ---------------------------------------------------------------------------------------------
# the data set

_FIRST = ["Maria", "James", "Aisha", "Chen", "Olivia", "Lukas", "Priya", "Diego", "Fatima"]
_LAST = ["Lopez", "Smith", "Khan", "Wei", "Brown", "Schneider", "Patel", "Garcia", "Haddad"]
_STREETS = ["Elm Street", "Maple Avenue", "Oak Lane", "Cedar Road", "Harbor Drive"]
_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_CARDS = ["4111 1111 1111 1111", "5555 5555 5555 4444", "4012 8888 8888 1881"]
_SIZES = ["small", "medium", "large", "family size"]
_TOPPINGS = ["pepperoni", "margherita", "four cheese", "veggie", "hawaiian"]


def _interaction(rng: random.Random) -> dict[str, Any]:
    """One pizza-skill interaction with the PII users really say (names, phones, cards...)."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    digits = "555" + "".join(str(rng.randrange(10)) for _ in range(7))
    spoken = " ".join(_DIGITS[int(d)] for d in digits)
    address = f"{rng.randrange(2, 980)} {rng.choice(_STREETS)}"
    email = f"{first.lower()}.{last.lower()}@example.com"
    size, topping = rng.choice(_SIZES), rng.choice(_TOPPINGS)
    order_ref = f"PP-{rng.randrange(10000, 99999)}"
    utterance, response, intent = rng.choice(
        [
            (
                f"order a {size} {topping} pizza to {address}",
                f"Your {topping} pizza is on its way to {address}. Order {order_ref}.",
                "OrderPizza",
            ),
            (
                f"I'd like a {size} {topping}, my number is {spoken}",
                f"Got it. We'll text ({digits[:3]}) {digits[3:6]}-{digits[6:]} when it leaves.",
                "OrderPizza",
            ),
            (
                f"pay with my card {rng.choice(_CARDS)} for a {size} {topping}",
                f"Charged. Order {order_ref} confirmed.",
                "OrderPizza",
            ),
            (
                f"this is {first} {last}, send the receipt to {email}",
                f"Thanks {first}, the receipt for {order_ref} goes to {email}.",
                "SendReceipt",
            ),
            (
                f"where is my pizza, order {order_ref}",
                f"Order {order_ref} left the store and should arrive in about 15 minutes.",
                "TrackOrder",
            ),
        ]
    )
    return {
        "utterance": utterance,
        "response": response,
        "intent": intent,
        "slots": {"size": size, "topping": topping, "address": address},
        "outcome": rng.choice(["success"] * 4 + ["failure"]),
        "order_ref": order_ref,
        "session_id": f"sess-{rng.randrange(16**8):08x}",
    }


@dataclass
class World:
    developer_id: int
    skill_id: str
    client_id: str
    client_secret: str
    write_path: str
    bare_text: str


def _forms(raw: dict[str, Any]) -> list[dict[str, Any]]:
    # in a worker process: the write-time redaction under every policy, as ingest makes it
    from gateway.services import redaction

    forms: list[dict[str, Any]] = redaction.redact_for_storage(raw)
    return forms


def binding_key() -> bytes | None:
    """The key that proves the seed's SYSTEM writes, where this checkout's schema asks for one."""
    try:
        from gateway.binding import derive_binding_key
    except ImportError:
        return None
    key: bytes = derive_binding_key(SECRET_KEY)
    return key


def _bind_system(conn: psycopg.Connection[Any]) -> None:
    from gateway import db
    from gateway.models import SYSTEM

    key = binding_key()
    if key is not None:
        db.use_binding_key(conn, key)
    db.bind_principal(conn, SYSTEM)


def write_interactions(
    conn: psycopg.Connection[Any],
    records: list[dict[str, Any]],
    *,
    users: dict[str, str],
    now: datetime,
) -> str:
    """Store `records` through this checkout's write path; return a description of it.

    `conn` is an owner connection with dict rows. A record carries interaction_id (the
    platform's), skill_id, user_id (a platform user id, a key of `users`, which maps them to
    gateway ids), occurred_at, session_id, utterance, response, intent, slots (name → value),
    outcome, order_ref, sensitive_category, device_serial and audio_ref.
    """
    n = len(records)
    try:
        from gateway.services import ingest
    except ImportError:
        ingest = None  # type: ignore[assignment]
    if ingest is None:
        from gateway.repositories import interactions as interactions_repo

        with conn.transaction():
            _bind_system(conn)
            for record in records:
                interactions_repo.insert_interaction(
                    conn,
                    **{
                        k: v
                        for k, v in record.items()
                        if k not in ("interaction_id", "audio_ref", "user_id")
                    },
                    platform_interaction_id=record["interaction_id"],
                    user_id=users[record["user_id"]],
                )
        return "repositories/interactions.insert_interaction (no redacted forms in this schema)"

    takes_forms = "forms" in inspect.signature(ingest.ingest_interactions).parameters
    forms: list[list[dict[str, Any]]] | None = None
    if takes_forms:
        # the id is replaced by the one ingest gives the interaction
        raws = [{**r, "id": str(uuid.uuid4())} for r in records]
        with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
            forms = list(pool.map(_forms, raws, chunksize=50))
    for start in range(0, n, ingest.MAX_BATCH):
        batch = [
            {**r, "slots": [{"name": k, "value": v} for k, v in r["slots"].items()]}
            for r in records[start : start + ingest.MAX_BATCH]
        ]
        with conn.transaction():
            _bind_system(conn)
            if forms is not None:
                ingest.ingest_interactions(
                    conn, batch, now=now, forms=forms[start : start + ingest.MAX_BATCH]
                )
            else:
                ingest.ingest_interactions(conn, batch, now=now)
    where = f", forms made in {os.cpu_count()} processes" if takes_forms else ""
    return f"services/ingest.ingest_interactions in batches of {ingest.MAX_BATCH}{where}"


def seed(owner_url: str, n: int) -> World:
    from gateway.repositories import consents as consents_repo
    from gateway.repositories import developers as developers_repo
    from gateway.repositories import skills as skills_repo
    from gateway.repositories import users as users_repo
    from gateway.services import oauth_clients as oauth_clients_service

    try:
        from gateway.services import audit

        actor: dict[str, Any] = {"actor": audit.SYSTEM}
    except ImportError:  # an older checkout (--variant), from before the audit log
        actor = {}

    rng = random.Random(7)  # noqa: S311 - the same data set on every run and checkout
    now = datetime.now(UTC)
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            _bind_system(conn)
            developer_id = developers_repo.insert_developer(conn, name="Bench Pizza")
            developers_repo.insert_tier_grant(
                conn, developer_id=developer_id, tier=TIER, reason="bench", granted_by="bench"
            )
            conn.execute(
                "UPDATE tiers SET rate_limit = %s WHERE name = %s", (RAISED_RATE_LIMIT, TIER)
            )
            skill_id = str(
                skills_repo.insert_skill(conn, developer_id=developer_id, name="Bench Pizza")
            )
            users = {}
            for i in range(min(USERS, n)):
                platform_id = f"bench-user-{i}"
                users[platform_id] = users_repo.upsert_user(conn, platform_user_id=platform_id)
                consents_repo.insert_consent(
                    conn,
                    user_id=users[platform_id],
                    skill_id=skill_id,
                    granted_at=now - timedelta(days=60),
                )
            issued = oauth_clients_service.register_client(
                conn, kind="developer", developer_id=developer_id, name="bench", **actor
            )
        platform_ids = list(users)
        records = [
            {
                "interaction_id": f"bench-{i}",
                "skill_id": skill_id,
                "user_id": rng.choice(platform_ids),
                # inside the standard tier's 30-day window, after the consents (60 days ago)
                "occurred_at": now - timedelta(seconds=rng.randrange(25 * 86400)),
                "sensitive_category": None,
                "device_serial": "",
                "audio_ref": None,
                **_interaction(rng),
            }
            for i in range(n)
        ]
        write_path = write_interactions(conn, records, users=users, now=now)
        forms = conn.execute(
            "SELECT to_regclass('interaction_texts') IS NOT NULL AS stored"
        ).fetchone()
        conn.execute("ANALYZE")
    return World(
        developer_id,
        skill_id,
        issued.client_id,
        issued.client_secret,
        write_path,
        "redacted" if forms and forms["stored"] else "raw",
    )


_GROW_MONTHS = 12  # the added history: this many whole months before the seeded ones
_GROW_SOURCE = "bench_grow_source"

# The seeded interactions with their stored form of the bench tier's policy, numbered: what the
# added history copies.
_GROW_SOURCE_SQL = """
CREATE TABLE {source} AS
SELECT i.skill_id, i.user_id, i.session_id, i.utterance, i.response, i.intent, i.slots,
       i.outcome, i.order_ref, i.sensitive_category, i.device_serial, t.policy, t.version,
       t.utterance AS t_utterance, t.response AS t_response, t.slots AS t_slots,
       t.utterance_ref_hidden, t.response_ref_hidden, t.slots_ref_hidden,
       (row_number() OVER (ORDER BY i.id)) - 1 AS k
FROM interactions i
JOIN interaction_texts t
  ON t.interaction_id = i.id AND t.occurred_at = i.occurred_at AND t.policy = %(policy)s
WHERE i.skill_id = %(skill_id)s
"""

# One month of history into two standalone tables without indexes: row g copies source row
# (g + offset) mod n with a new id, its time spread evenly over the month.
_GROW_MONTH_SQL = """
WITH n AS (SELECT count(*) AS n FROM {source}),
gen AS MATERIALIZED (
    SELECT gen_random_uuid() AS id, g,
           %(start)s::timestamptz + make_interval(secs => (g + 0.5) * %(step)s) AS at
    FROM generate_series(0, %(count)s - 1) g
),
copies AS MATERIALIZED (
    SELECT gen.id, gen.at, s.*
    FROM gen, n, {source} s WHERE s.k = (gen.g + %(offset)s) %% n.n
),
added AS (
    INSERT INTO {interactions} (id, skill_id, user_id, session_id, occurred_at, utterance,
                                response, intent, slots, outcome, order_ref,
                                sensitive_category, device_serial)
    SELECT id, skill_id, user_id, session_id, at, utterance, response, intent, slots, outcome,
           order_ref, sensitive_category, device_serial
    FROM copies
)
INSERT INTO {texts} (interaction_id, occurred_at, skill_id, policy, version, utterance,
                     response, slots, utterance_ref_hidden, response_ref_hidden,
                     slots_ref_hidden)
SELECT id, at, skill_id, policy, version, t_utterance, t_response, t_slots,
       utterance_ref_hidden, response_ref_hidden, slots_ref_hidden
FROM copies
"""

_PARENT_INDEXES_SQL = """
SELECT pg_get_indexdef(x.indexrelid), pg_get_constraintdef(c.oid)
FROM pg_index x
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
WHERE x.indrelid = %s::regclass
"""
_ON_PARENT = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ ")


def month_start(at: datetime, months_later: int = 0) -> datetime:
    """The first instant (UTC) of the month `months_later` months after the one of `at`."""
    index = at.year * 12 + at.month - 1 + months_later
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _like_parent(conn: psycopg.Connection[Any], parent: str, table: str) -> list[str]:
    """The statements that give `table` the primary key and indexes of the partitioned
    `parent`: built in one go over a loaded month, ATTACH PARTITION adopts them."""
    statements = []
    for definition, constraint in conn.execute(_PARENT_INDEXES_SQL, (parent,)).fetchall():
        if constraint is not None:
            statements.append(f"ALTER TABLE {table} ADD {constraint}")
        else:
            statements.append(_ON_PARENT.sub(rf"CREATE \1INDEX ON {table} ", definition))
    return statements


def _grow_month(owner_url: str, start: datetime, count: int, offset: int) -> None:
    """Load `count` interactions and their forms as a new month's partitions, from `start`."""
    end = month_start(start, 1)
    suffix = start.strftime("%Y_%m")
    # named as gateway_ensure_interaction_month names a month's partitions
    tables = [
        ("interactions", f"interactions_{suffix}"),
        ("interaction_texts", f"interaction_texts_{suffix}"),
    ]
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        with conn.transaction():
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (LIKE interactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                ).format(sql.Identifier(tables[0][1]))
            )
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (LIKE interaction_texts "
                    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)"
                ).format(sql.Identifier(tables[1][1]))
            )
            conn.execute(
                sql.SQL(_GROW_MONTH_SQL).format(
                    source=sql.Identifier(_GROW_SOURCE),
                    interactions=sql.Identifier(tables[0][1]),
                    texts=sql.Identifier(tables[1][1]),
                ),
                {
                    "start": start,
                    "step": (end - start).total_seconds() / count,
                    "count": count,
                    "offset": offset,
                },
            )
            for parent, table in tables:
                for statement in _like_parent(conn, parent, table):
                    conn.execute(statement)
            # ATTACH checks that every row lies in the month, and the forms' foreign key
            for parent, table in tables:
                conn.execute(
                    sql.SQL(
                        "ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})"
                    ).format(
                        sql.Identifier(parent),
                        sql.Identifier(table),
                        sql.Literal(start),
                        sql.Literal(end),
                    )
                )
            conn.execute(sql.SQL("ANALYZE {}, {}").format(*(sql.Identifier(t) for _, t in tables)))


def grow(owner_url: str, world: World, total: int) -> tuple[int, float]:
    """Add interactions of the bench's skill until the database holds `total`; (added, seconds).

    For the scale figure: the same skill's history grows, as a busy skill's does. Every added
    interaction copies the raw text, user and stored form of the bench tier's policy of a
    seeded one (so each row is as wide as real ones, every user still consents and the form
    the read path joins is the one ingest made for that text), with a new id and a time in one
    of the 12 whole months before the seeded ones: all of it outside the standard tier's 30
    days, so the page served is the same 50 rows. (Only that policy's form is copied: the
    other two would triple the load and no side of the bench reads them.)

    Each month is written by the server itself (INSERT … SELECT over generate_series into a
    standalone table per parent, no index yet), indexed in one go, and attached as that
    month's partition: nothing crosses the socket and no index is updated row by row, which
    is what makes millions of rows a matter of minutes. Two months load at a time.
    """
    began = time.perf_counter()
    with psycopg.connect(owner_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*), min(occurred_at) FROM interactions").fetchone()
        have, oldest = (int(row[0]), row[1]) if row else (0, None)
        if total <= have or oldest is None:
            return 0, 0.0
        with conn.transaction():
            conn.execute(
                sql.SQL(_GROW_SOURCE_SQL).format(source=sql.Identifier(_GROW_SOURCE)),
                {"policy": TIER, "skill_id": world.skill_id},
            )
    need = total - have
    first = month_start(oldest, -_GROW_MONTHS)
    months = [
        (month_start(first, m), need // _GROW_MONTHS + (m < need % _GROW_MONTHS))
        for m in range(_GROW_MONTHS)
    ]
    done = 0
    try:
        with ThreadPoolExecutor(2) as pool:
            loads = [
                pool.submit(_grow_month, owner_url, start, count, offset)
                for offset, (start, count) in zip(
                    itertools.accumulate([0] + [c for _, c in months]), months, strict=False
                )
                if count
            ]
            for load in as_completed(loads):
                load.result()
                done += 1
                took = time.perf_counter() - began
                print(f"  grown by {done} of {len(loads)} months in {took:.0f} s", flush=True)
    finally:
        with psycopg.connect(owner_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(_GROW_SOURCE)))
            conn.execute("ANALYZE interactions")
            conn.execute("ANALYZE interaction_texts")
    return need, time.perf_counter() - began


# ---------------------------------------------------------------------------------------------
# the servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    path: str = "/"
    authorization: str = ""
    page_bytes: int = 0


def _gunicorn_argv(app: str, port: int, workers: int, pythonpath: Path) -> list[str]:
    from gunicorn.config import Config

    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
        "--pythonpath",
        str(pythonpath),
    ]
    if "control_socket_disable" in Config().settings:
        # two servers (and other people's) would share one default control socket
        argv.append("--no-control-socket")
    return [*argv, app]


def start_server(
    name: str, app: str, env: dict[str, str], *, workers: int, code: Path, folder: Path
) -> Server:
    """Start gunicorn serving `app`, imported from the folder `code`."""
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _gunicorn_argv(app, port, workers, code),
            env=env,
            cwd=code,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the server only through stop_server
        )
    return Server(name, port, process, log)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"the {server.name} server exited:\n{server.log.read_text()[-3000:]}")
        try:
            if request(server.port, "GET", path, {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"the {server.name} server did not answer {path} within 90 s")


def mint_token(port: int, client_id: str, client_secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    status, body = request(
        port,
        "POST",
        "/oauth/token",
        {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "grant_type=client_credentials",
    )
    if status != 200:
        sys.exit(f"token request failed: {status} {body[:300]!r}")
    return str(json.loads(body)["access_token"])


def page_ids(server: Server) -> list[str]:
    headers = {"Authorization": server.authorization} if server.authorization else {}
    status, body = request(server.port, "GET", server.path, headers)
    if status != 200:
        sys.exit(f"{server.name} {server.path}: {status} {body[:300]!r}")
    server.page_bytes = len(body)
    return [item["id"] for item in json.loads(body)["interactions"]]


# ---------------------------------------------------------------------------------------------
# the load


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    # CPU ms per page of the side's gunicorn workers and of its PostgreSQL backends (None
    # when the server's processes are not on this machine)
    app_cpu_ms: float = 0.0
    db_cpu_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.app_cpu_ms + (self.db_cpu_ms or 0.0)


def run_wrk(server: Server, seconds: int, connections: int, script: Path) -> Result:
    completed = subprocess.run(
        [
            "wrk",
            "--threads",
            str(min(2, connections)),
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--script",
            str(script),
            f"http://{HOST}:{server.port}{server.path}",
        ],
        env={**os.environ, "BENCH_AUTHORIZATION": server.authorization},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next((x for x in completed.stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        sys.exit(f"no result from wrk:\n{completed.stdout}\n{completed.stderr}")
    raw = json.loads(line[len(MARKER) :])
    errors = sum(raw[k] for k in ("status", "connect", "read", "write", "timeout"))
    return Result(
        raw["requests"],
        raw["duration_us"] / 1e6,
        raw["p50_us"] / 1000,
        raw["p99_us"] / 1000,
        errors,
    )


async def _python_load(server: Server, seconds: float, connections: int) -> Result:
    head = f"GET {server.path} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
    if server.authorization:
        head += f"Authorization: {server.authorization}\r\n"
    payload = (head + "Connection: close\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0

    async def client(deadline: float) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection(HOST, server.port)
                writer.write(payload)
                data = await reader.read()  # gunicorn's sync workers close after each response
                writer.close()
                ok = data.split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"]
            except OSError:
                ok = False
            latencies.append((time.perf_counter() - began) * 1000)
            errors += not ok

    began = time.monotonic()
    await asyncio.gather(*(client(began + seconds) for _ in range(connections)))
    elapsed = time.monotonic() - began
    ordered = sorted(latencies) or [0.0]
    return Result(
        len(latencies),
        elapsed,
        statistics.median(ordered),
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        errors,
    )


def _cpu_seconds(pid: int, command: str | None = None) -> float | None:
    """User + system CPU seconds of a live process (of `command`, if given), else None."""
    try:
        proc = Path(f"/proc/{pid}")
        if command is not None and proc.joinpath("comm").read_text().strip() != command:
            return None
        fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers(server: Server) -> list[int]:
    pid = server.process.pid
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_snapshot(
    monitor: psycopg.Connection[Any], server: Server
) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds by pid: the side's gunicorn workers, and the PostgreSQL backends whose
    application_name names the side (found only when the server runs on this machine)."""
    app = {pid: _cpu_seconds(pid) for pid in _workers(server)}
    backends = monitor.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
        (application_name(server.name),),
    ).fetchall()
    db = {pid: _cpu_seconds(pid, "postgres") for (pid,) in backends}
    return (
        {pid: cpu for pid, cpu in app.items() if cpu is not None},
        {pid: cpu for pid, cpu in db.items() if cpu is not None},
    )


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    # a process that appeared during the round counts from its start; one that ended is lost
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def application_name(side: str) -> str:
    return f"bench-{side}"[:63]


def drive(
    server: Server,
    seconds: int,
    connections: int,
    script: Path | None,
    monitor: psycopg.Connection[Any] | None = None,
) -> Result:
    """Load one side for `seconds`; with `monitor`, also measure its CPU per page."""
    before = cpu_snapshot(monitor, server) if monitor is not None else None
    if script is not None:
        result = run_wrk(server, seconds, connections, script)
    else:
        result = asyncio.run(_python_load(server, seconds, connections))
    if before is not None and monitor is not None and result.requests:
        after = cpu_snapshot(monitor, server)
        result.app_cpu_ms = _spent(before[0], after[0]) * 1000 / result.requests
        if after[1]:
            result.db_cpu_ms = _spent(before[1], after[1]) * 1000 / result.requests
    return result


# ---------------------------------------------------------------------------------------------
# the profile

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_PREFIXES = ("site-packages/", "dist-packages/")


def _short(path: str) -> str:
    for prefix in _PREFIXES:
        if prefix in path:
            return path.rsplit(prefix, 1)[1]
    for package in ("/gateway/", "/schemas/"):
        if package in path:
            return package[1:] + path.rsplit(package, 1)[1]
    return path.rsplit("/lib/python", 1)[-1].split("/", 1)[-1] if "/lib/python" in path else path


# The steps of the read path, matched from the innermost frame outwards: the first frame that
# matches names the step a sample belongs to. A step includes what it waits for (its SQL).
_STEPS: list[tuple[str, Any]] = [
    ("pseudonyms (HMAC)", lambda f, p: p == "gateway/redaction/pseudonyms.py"),
    ("redaction of texts", lambda f, p: p.startswith("gateway/redaction/")),
    ("stale-form check", lambda f, p: f == "ensure_current_forms"),
    ("access log INSERT", lambda f, p: f == "log_reads"),
    ("pseudonym INSERT", lambda f, p: f == "remember_pseudonyms"),
    ("shaping rows (fields, allowlist)", lambda f, p: f == "present_interaction"),
    ("readable-rows SELECT", lambda f, p: f == "list_readable" and "repositories" in p),
    ("skill check SELECT", lambda f, p: f == "get_skill"),
    ("developer + tier SELECT", lambda f, p: f == "get_active_developer"),
    ("bearer token check", lambda f, p: f == "_authenticate"),
    ("bind caller (set_config)", lambda f, p: f == "bind_principal"),
    ("pool checkout + liveness ping", lambda f, p: f == "_borrow"),
    ("COMMIT", lambda f, p: p == "psycopg/transaction.py" and f == "__exit__"),
    ("BEGIN", lambda f, p: p == "psycopg/transaction.py" and f == "__enter__"),
    ("query args (marshmallow load)", lambda f, p: f == "_query_args"),
    ("response dump (marshmallow)", lambda f, p: p.startswith("marshmallow/")),
    ("JSON encoding", lambda f, p: p.startswith(("flask/json/", "json/"))),
    # flask-limiter's wrapper (`__inner`) also calls the view: only what it does itself counts
    ("rate limiter", lambda f, p: p.startswith(("flask_limiter/", "limits/")) and f != "__inner"),
    ("cursor signing", lambda f, p: f in ("sign_cursor", "_fingerprint")),
]


def _name(func: str) -> str:
    return func.rsplit(".", 1)[-1]


def _step(stack: list[tuple[str, str]]) -> str:
    for func, path in reversed(stack):
        for label, match in _STEPS:
            if match(_name(func), path):
                return label
    for func, path in reversed(stack):
        if path.startswith("gateway/"):
            return f"other, in {_name(func)}"
    func, path = stack[-1]
    top = path.split("/", 1)[0].removesuffix(".py")
    return f"other: {top}"


def _waits_on_server(stack: list[tuple[str, str]]) -> bool:
    func, path = stack[-1]
    return path.startswith(("psycopg/", "psycopg_pool/")) and _name(func).startswith("wait")


@dataclass
class Profile:
    samples: int = 0
    waiting: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    steps_waiting: Counter[str] = field(default_factory=Counter)
    frames: Counter[tuple[str, str]] = field(default_factory=Counter)
    gateway_roots: set[str] = field(default_factory=set)  # checkouts the code ran from


def parse_profile(raw: str) -> Profile:
    """In-request samples of py-spy's raw (collapsed) output, under gunicorn's sync `handle`."""
    profile = Profile()
    for line in raw.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        stack: list[tuple[str, str]] = []
        for frame_text in stack_text.split(";"):
            match = _FRAME.match(frame_text)
            if match is None:
                continue  # the process line py-spy puts first with --subprocesses
            full = match["file"]
            if "/gateway/" in full:
                profile.gateway_roots.add(full.rsplit("/gateway/", 1)[0])
            # Python 3.11 qualifies names (SyncWorker.handle); the steps match the bare name
            stack.append((match["func"], _short(full)))
        inside = next(
            (
                i
                for i, (f, p) in enumerate(stack)
                if _name(f) == "handle" and p == "gunicorn/workers/sync.py"
            ),
            None,
        )
        if inside is None:
            continue  # a worker waiting for a connection, the master, a pool thread
        count = int(count_text)
        stack = stack[inside:]
        waiting = _waits_on_server(stack)
        step = _step(stack)
        profile.samples += count
        profile.waiting += count * waiting
        profile.steps[step] += count
        profile.steps_waiting[step] += count * waiting
        for frame in set(stack):
            profile.frames[frame] += count
    return profile


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        sys.exit("--profile needs py-spy: pip install py-spy")
    return found


def profile_round(
    server: Server,
    *,
    seconds: int,
    connections: int,
    workers: int,
    script: Path | None,
    rate: int,
    folder: Path,
) -> None:
    out = folder / "profile.txt"
    recorder = subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(server.process.pid),
            "--subprocesses",
            "--idle",  # waits on PostgreSQL are part of a request's time
            "--full-filenames",
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--duration",
            str(seconds + 2),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1)  # attached to every worker before the load begins
    result = drive(server, seconds, connections, script)
    _, err = recorder.communicate(timeout=120)
    if recorder.returncode != 0 or not out.exists():
        sys.exit(f"py-spy failed ({recorder.returncode}): {err.decode()[-2000:]}")
    profile = parse_profile(out.read_text())
    if not profile.samples:
        sys.exit("py-spy recorded no sample inside a request")
    # 16 connections keep every worker busy, so a page costs workers × seconds / pages of
    # worker wall time; the samples split it (and, at the nominal rate, cross-check it)
    wall = workers * result.seconds * 1000 / result.requests
    sampled = profile.samples * 1000 / rate / result.requests
    python = profile.samples - profile.waiting
    print(
        f"\nprofile: one more {server.name} round ({seconds} s, not counted above), "
        f"py-spy at {rate} Hz on every worker: {result.rate:.1f} pages/s while sampled, "
        f"{profile.samples} samples inside requests"
    )
    print(f"gateway code sampled from: {', '.join(sorted(profile.gateway_roots)) or '?'}")
    print(
        f"worker wall time per page: {wall:.1f} ms ({workers} workers × {result.seconds:.1f} s / "
        f"{result.requests} pages; the samples at {rate} Hz say {sampled:.1f} ms), of which "
        f"waiting on PostgreSQL {profile.waiting / profile.samples * wall:.1f} ms and Python "
        f"(running or waiting for a CPU) {python / profile.samples * wall:.1f} ms"
    )
    if sampled < 0.8 * wall:
        print(
            "(py-spy fell behind its rate: the CPUs are saturated; the shares hold, the ms come "
            "from the throughput)"
        )
    print(
        f"\n{'step (innermost match)':36} {'share':>7} {'ms/page':>8} {'waiting':>8} "
        f"{'of Python':>10}"
    )
    for step, count in profile.steps.most_common():
        waiting = profile.steps_waiting[step]
        print(
            f"{step:36} {count / profile.samples:7.1%} {count / profile.samples * wall:8.2f} "
            f"{waiting / profile.samples * wall:8.2f} {(count - waiting) / max(python, 1):10.1%}"
        )
    print(f"\n{'top frames (inclusive)':70} {'share':>7} {'ms/page':>8}")
    for (func, path), count in profile.frames.most_common(30):
        name = f"{func}  {path}"[:70]
        print(f"{name:70} {count / profile.samples:7.1%} {count / profile.samples * wall:8.2f}")
    print(f"(raw stacks: {out})")


# ---------------------------------------------------------------------------------------------


def _row(values: list[Result]) -> str:
    """One line of figures: a round's, or each figure's median over rounds (errors summed)."""
    db = [r.db_cpu_ms for r in values if r.db_cpu_ms is not None]
    db_text = f"{statistics.median(db):.1f}" if db else "n/a"
    return (
        f"{statistics.median(r.rate for r in values):9.1f} "
        f"{statistics.median(r.p50_ms for r in values):8.1f} "
        f"{statistics.median(r.p99_ms for r in values):8.1f} "
        f"{sum(r.errors for r in values):7d}   "
        f"{statistics.median(r.app_cpu_ms for r in values):16.1f} {db_text:>6} "
        f"{statistics.median(r.cpu_ms for r in values):6.1f}"
    )


def checkout(root: Path = ROOT) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "gateway", "schemas"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{root} (not a git checkout)"
    return f"{root} at {head}{' with local changes' if dirty else ''}"


def _clean_env() -> dict[str, str]:
    # nothing from the caller's GATEWAY_* settings may point the servers elsewhere
    return {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "BENCH_"))}


_PLAN_LINES = re.compile(r"^(Limit|JIT:|  Functions|  Timing|Execution Time)")


def page_plans(owner_url: str, world: World) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of the gateway's page statement as it runs it, with jit on and off.

    As the app role with the developer bound, from its prepared generic plan (as
    repositories/interactions.list_readable runs it): the plan's estimated cost, what JIT
    compiled and what it took, and the execution time, by jit setting.
    """
    from gateway import db, migrate
    from gateway.models import Principal
    from gateway.repositories import interactions as interactions_repo

    query = interactions_repo._list_query((False,) * (len(interactions_repo._FILTERS) + 2))
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    statement = re.sub(r"%\((\w+)\)s", number, query.decode())
    params = {
        "developer_id": world.developer_id,
        "skill_id": world.skill_id,
        "not_before": datetime.now(UTC) - timedelta(days=30),
        "policy": TIER,
        "limit": PAGE + 1,
    }
    plans = {}
    for jit in ("on", "off"):
        with psycopg.connect(
            make_conninfo(owner_url, user=migrate.APP_ROLE),
            autocommit=True,
            row_factory=dict_row,
            options=f"-c jit={jit}",
        ) as conn:
            with conn.transaction():
                principal = Principal(
                    "developer", client_id=world.client_id, developer_id=world.developer_id
                )
                db.bind_principal(conn, principal)
                conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                conn.execute(f"PREPARE bench_page AS {statement}")
                explain = "EXPLAIN (ANALYZE) EXECUTE bench_page({})".format(
                    ", ".join(["%s"] * len(names))
                )
                cursor = psycopg.ClientCursor(conn)
                for _ in range(3):  # the last of three: nothing left to read from disk
                    rows = cursor.execute(explain, [params[n] for n in names]).fetchall()
            plans[jit] = [row["QUERY PLAN"] for row in rows if _PLAN_LINES.match(row["QUERY PLAN"])]
    return plans


def grow_audience(owner_url: str, world: World, total: int) -> tuple[int, float]:
    """Add consenting users to the skill until it has `total` (none with an interaction, so
    the page served stays the same), written by the server itself as the owner, then refresh
    the planner's statistics; (users added, seconds)."""
    began = time.perf_counter()
    with psycopg.connect(owner_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM consents WHERE skill_id = %s", (world.skill_id,)
        ).fetchone()
        assert row is not None
        added = max(total - int(row[0]), 0)
        with conn.transaction():
            conn.execute(
                "INSERT INTO users (platform_user_id) "
                "SELECT 'bench-audience-' || g FROM generate_series(1, %s) AS g",
                (added,),
            )
            conn.execute(
                "INSERT INTO consents (user_id, skill_id) SELECT id, %s FROM users "
                "WHERE platform_user_id LIKE 'bench-audience-%%'",
                (world.skill_id,),
            )
        conn.execute("ANALYZE users")
        conn.execute("ANALYZE consents")
    return added, time.perf_counter() - began


def grown_rounds(
    args: argparse.Namespace,
    label: str,
    owner_url: str,
    world: World,
    gateways: list[Server],
    bare: Server,
    script: Path | None,
    monitor: psycopg.Connection[Any],
    small: dict[str, list[Result]],
) -> None:
    """The page's plans, then every side measured again on the grown database, each side's
    p50 there over its p50 in the first rounds."""
    for jit, lines in page_plans(owner_url, world).items():
        print(f"the page's plan with jit {jit}:")
        for line in lines:
            print(f"    {line.strip()}")
    servers = [*gateways, bare]
    for server in servers:
        if page_ids(server) != page_ids(bare):
            sys.exit(f"after growing, {server.name} serves other rows than bare")
        if args.warmup > 0:
            drive(server, args.warmup, args.connections, script)
    large: dict[str, list[Result]] = {server.name: [] for server in servers}
    width = max(8, *(len(server.name) for server in servers))
    columns = (
        f"{'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}   "
        f"{'CPU ms/page: app':>16} {'db':>6} {'total':>6}"
    )
    print(f"\n{'round':>5} {'side':{width}} {columns}   (at {label})")
    for number in range(1, args.rounds + 1):
        for server in servers:
            result = drive(server, args.seconds, args.connections, script, monitor)
            large[server.name].append(result)
            print(f"{number:5d} {server.name:{width}} {_row([result])}")
    print(f"\nmedian over {args.rounds} rounds at {label}")
    for name, values in large.items():
        print(f"{name:{width}} {_row(values)}")
    for server in gateways:
        rates = [a.rate / b.rate for a, b in zip(large[server.name], large[bare.name], strict=True)]
        print(f"{server.name}/bare pages/s at {label}: {statistics.median(rates):.3f}")
    for name in large:
        before = statistics.median(r.p50_ms for r in small[name])
        after = statistics.median(r.p50_ms for r in large[name])
        print(
            f"{name} p50 at {label} / p50 as seeded: {after / before:.2f} "
            f"({after:.1f} ms / {before:.1f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server and a role that may create databases",
    )
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds per side")
    parser.add_argument("--seconds", type=int, default=10, help="per side per round")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted seconds per side")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, each side")
    parser.add_argument(
        "--ratelimit-storage", default="memory://", help="the gateway's limiter storage"
    )
    parser.add_argument("--load", choices=["wrk", "python"], default=None, help="default: wrk")
    parser.add_argument(
        "--variant",
        type=Path,
        action="append",
        default=[],
        help="also serve the gateway from this checkout (same schema) as one more side, to "
        "measure a change to the code against this one in the same run (repeatable)",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        help="after the rounds, grow the database to this many interactions (a year of "
        "history loaded server-side as month partitions, see grow) and measure every side "
        "again: p50 at this size over p50 at --interactions, in the same run",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also serve the floor sides: the bare statement writing the page's access log "
        "in the same durable commit (bare+log: a row per interaction; bare+commit: one row)",
    )
    parser.add_argument(
        "--audience",
        type=int,
        default=0,
        help="after the rounds (and --scale), grow the skill's consenting users to this many "
        "(none with an interaction: the page stays the same) and measure every side again",
    )
    parser.add_argument("--profile", action="store_true", help="add a py-spy gateway round")
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy samples/s")
    args = parser.parse_args()
    if args.interactions < PAGE or args.rounds < 1 or args.seconds < 1:
        parser.error(f"--interactions must be at least {PAGE}; --rounds, --seconds at least 1")
    load = args.load or ("wrk" if shutil.which("wrk") else "python")
    if load == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk); or use --load python")

    import gateway
    from gateway import migrate

    database = f"gateway_bench_vs_bare_{os.getpid()}"
    base = args.database_url
    owner_url = make_conninfo(base, dbname=database)
    folder = Path(tempfile.mkdtemp(prefix="gateway-vs-bare-"))
    servers: list[Server] = []
    closing: list[psycopg.Connection[Any]] = []
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        print(f"code: {checkout()} (gateway package {Path(gateway.__file__).parent})")
        variants = {path.resolve().name: path.resolve() for path in args.variant}
        if len(variants) != len(args.variant) or {"gateway", "bare", *FLOORS} & set(variants):
            parser.error("each --variant needs a folder of its own name (not gateway or bare)")
        for name, code in variants.items():
            print(f"variant {name}: {checkout(code)}")
        server_info = conninfo_to_dict(base)
        print(
            f"database: {database} on {server_info.get('host', 'localhost')}:"
            f"{server_info.get('port', 5432)} as {server_info.get('user', '(default role)')}"
        )
        key = binding_key()
        if key is None:
            migrate.upgrade(owner_url)
        else:
            migrate.upgrade(owner_url, binding_key=key)
        began = time.perf_counter()
        world = seed(owner_url, args.interactions)
        print(
            f"loaded {args.interactions} interactions, {min(USERS, args.interactions)} consenting "
            f"users, one developer "
            f"on tier {TIER} in {time.perf_counter() - began:.0f} s via {world.write_path}"
        )

        env = _clean_env()

        def gateway_env(side: str) -> dict[str, str]:
            return {
                **env,
                # the factory connects as the app role; the name finds the side's backends
                "GATEWAY_DATABASE_URL": make_conninfo(
                    owner_url, application_name=application_name(side)
                ),
                "GATEWAY_DATA_DIR": str(folder / "instance"),
                "GATEWAY_SECRET_KEY": SECRET_KEY,
                "GATEWAY_PSEUDONYM_KEYS": "k1:" + "ab" * 32,
                "GATEWAY_RATELIMIT_STORAGE_URI": args.ratelimit_storage,
            }

        bare_env = {
            **env,
            "BENCH_BARE_DATABASE_URL": make_conninfo(
                owner_url, application_name=application_name("bare")
            ),
            "BENCH_BARE_SKILL_ID": world.skill_id,
            "BENCH_BARE_TEXT": world.bare_text,
        }
        gw = start_server(
            "gateway",
            "gateway:create_app()",
            gateway_env("gateway"),
            workers=args.workers,
            code=ROOT,
            folder=folder,
        )
        servers.append(gw)
        for name, code in variants.items():
            servers.append(
                start_server(
                    name,
                    "gateway:create_app()",
                    gateway_env(name),
                    workers=args.workers,
                    code=code,
                    folder=folder,
                )
            )
        bare = start_server(
            "bare",
            "read_vs_bare:bare_app()",
            bare_env,
            workers=args.workers,
            code=ROOT / "bench",
            folder=folder,
        )
        servers.append(bare)
        floors = [
            start_server(
                name,
                "read_vs_bare:bare_app()",
                {
                    **bare_env,
                    "BENCH_FLOOR": name,
                    "BENCH_BARE_DATABASE_URL": make_conninfo(
                        owner_url, application_name=application_name(name)
                    ),
                },
                workers=args.workers,
                code=ROOT / "bench",
                folder=folder,
            )
            for name in (FLOORS if args.floor else ())
        ]
        servers += floors
        plain = [bare, *floors]  # the sides serving /page without a token
        for server in servers:
            wait_ready(server, "/page" if server in plain else "/healthz")
        gateways = [server for server in servers if server not in plain]
        authorization = "Bearer " + mint_token(gw.port, world.client_id, world.client_secret)
        for server in gateways:
            server.path = f"/v1/skills/{world.skill_id}/interactions?limit={PAGE}"
            server.authorization = authorization
        for server in plain:
            server.path = "/page"
        bare_ids = page_ids(bare)
        for server in gateways + floors:
            logged_before = floor_log_rows(owner_url)
            ids = page_ids(server)
            if len(ids) != PAGE or ids != bare_ids:
                sys.exit(
                    f"the sides disagree: {server.name} {len(ids)} rows, bare {len(bare_ids)}"
                    f", same ids: {ids == bare_ids}"
                )
            if server in floors:
                logged = floor_log_rows(owner_url) - logged_before
                expected = 1 if FLOORS[server.name] else PAGE
                if logged != expected:
                    sys.exit(f"{server.name} logged {logged} access-log rows, not {expected}")
        if floors:
            print(f"the floor sides log their pages: {', '.join(FLOORS)}")
        print(
            f"all serve the same {PAGE} ids, newest first: gateway {gw.page_bytes} bytes, "
            f"bare {bare.page_bytes} bytes (bare text: {world.bare_text} utterance; "
            f"owner connection, no checks)"
        )

        script: Path | None = None
        if load == "wrk":
            script = folder / "report.lua"
            script.write_text(WRK_SCRIPT % MARKER)
            version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
            generator = (version.stdout or version.stderr).splitlines()[0]
        else:
            generator = "Python asyncio load generator (wrk not used)"
        print(
            f"load: {generator}; {args.connections} connections, {args.workers} sync workers "
            f"per side, {args.rounds} rounds × {args.seconds} s per side, alternating; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        for server in servers:
            if args.warmup > 0:
                drive(server, args.warmup, args.connections, script)
        monitor = psycopg.connect(owner_url, autocommit=True)
        closing.append(monitor)

        results: dict[str, list[Result]] = {server.name: [] for server in servers}
        width = max(8, *(len(server.name) for server in servers))
        columns = (
            f"{'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}   "
            f"{'CPU ms/page: app':>16} {'db':>6} {'total':>6}"
        )
        print(f"\n{'round':>5} {'side':{width}} {columns}")
        for number in range(1, args.rounds + 1):
            for server in servers:
                result = drive(server, args.seconds, args.connections, script, monitor)
                results[server.name].append(result)
                print(f"{number:5d} {server.name:{width}} {_row([result])}")

        print(f"\nmedian over {args.rounds} rounds")
        print(f"{'side':{width}} {columns}")
        for name, values in results.items():
            print(f"{name:{width}} {_row(values)}")
        pairs = [(server.name, "bare") for server in gateways + floors]
        pairs += [(name, "gateway") for name in variants]
        for side, baseline in pairs:
            rates = [a.rate / b.rate for a, b in zip(results[side], results[baseline], strict=True)]
            print(
                f"{side}/{baseline} pages/s: {statistics.median(rates):.3f} "
                f"(per round: {', '.join(f'{r:.3f}' for r in rates)})"
            )
        for side, baseline in pairs:
            # pages per CPU second, the same ratio measured by what each page costs: it moves
            # far less than throughput when other processes share the machine
            costs = [
                b.cpu_ms / a.cpu_ms for a, b in zip(results[side], results[baseline], strict=True)
            ]
            print(
                f"{side}/{baseline} pages per CPU second: {statistics.median(costs):.3f} "
                f"(per round: {', '.join(f'{r:.3f}' for r in costs)})"
            )
        if any(r.errors for values in results.values() for r in values):
            print(
                "WARNING: some requests failed (non-2xx or socket errors): see the logs in "
                f"{folder}"
            )

        grown = (gateways, bare, script, monitor, results)
        if args.scale > args.interactions:
            print(f"\nscale: growing to {args.scale} interactions")
            added, took = grow(owner_url, world, args.scale)
            print(
                f"added {added} interactions (with their {TIER} forms) in {took:.0f} s "
                f"({added / max(took, 1e-9):.0f} rows/s)"
            )
            grown_rounds(args, f"{args.scale} interactions", owner_url, world, *grown)
        if args.audience > min(USERS, args.interactions):
            print(f"\naudience: growing to {args.audience} consenting users")
            added, took = grow_audience(owner_url, world, args.audience)
            print(f"added {added} consenting users in {took:.0f} s")
            grown_rounds(args, f"{args.audience} consenting users", owner_url, world, *grown)

        for server in gateways if args.profile else []:
            profile_round(
                server,
                seconds=args.seconds,
                connections=args.connections,
                workers=args.workers,
                script=script,
                rate=args.profile_rate,
                folder=folder,
            )
    finally:
        for conn in closing:
            conn.close()
        for server in servers:
            stop_server(server)
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        if not args.profile:  # the profile's raw stacks stay for a closer look
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, database dropped")
