"""Deleting everything of a user with many interactions, through the gateway's deletion path,
against a bare DELETE of the same rows by the owner, in the same run.

    python bench/deletion.py [--database-url URL] [--interactions 100000] [--rounds 3]

Creates its own database on the server at --database-url (default the local server; dropped at
the end), migrated as the owner. Seeds one user with --interactions interactions of one skill
through the bulk path (services/ingest.import_interactions with the COPY writer, as `skillgw
ingest` writes them: ledger, interactions, every redacted form, audio references), spread over
the last 60 days in sessions of ten turns; a developer that read one in ten of them (access
log, pseudonym, session pseudonyms); and another user with a tenth as many, which stay.

Then, alternating, --rounds times each, every round on the same data (rolled back after it is
timed, so each side deletes exactly the same rows):

- gateway: `services/deletions.delete_interactions` as the user, on an app-role connection
  bound with a caller proof: gateway_delete_interactions (interactions with their redacted
  forms, search vectors and audio references, the ledger's digests, orphaned session
  pseudonyms, the receipt, the audit event) and the deletion notices queued in the outbox;
- bare: `DELETE FROM interactions WHERE user_id = …` as the owner (cascading to the redacted
  forms and audio references), nothing else.

Prints each round's time, the medians and their ratio.
"""

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import migrate  # noqa: E402
from gateway.binding import derive_binding_key  # noqa: E402
from gateway.db import bind_principal, use_binding_key  # noqa: E402
from gateway.models import SYSTEM, Principal  # noqa: E402
from gateway.repositories import access_log as access_log_repo  # noqa: E402
from gateway.repositories import developers as developers_repo  # noqa: E402
from gateway.repositories import pseudonyms as pseudonyms_repo  # noqa: E402
from gateway.repositories import skills as skills_repo  # noqa: E402
from gateway.repositories import users as users_repo  # noqa: E402
from gateway.services import audit, deletions  # noqa: E402
from gateway.services import ingest as ingest_service  # noqa: E402

KEY = derive_binding_key("bench-secret")
BATCH = 5000
TEXTS = [
    ("order a large pepperoni pizza to the office", "Your large pepperoni is on its way."),
    ("where is my order", "Your order left the shop ten minutes ago."),
    ("cancel the garlic bread", "Okay, I removed the garlic bread."),
    ("book a ride to the station at six", "A car will pick you up at six."),
    ("refill my allergy prescription", "Your refill will be ready tomorrow."),
    ("what's my balance", "Your balance is 120 dollars."),
    ("add two cokes", "Two cokes added."),
    ("make it a medium instead", "Changed to a medium."),
]


def make_database(server: str) -> str:
    name = f"gateway_bench_deletion_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(server, dbname=name)
    migrate.upgrade(url, binding_key=KEY)
    return url


def drop_database(server: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


def seed(url: str, n: int) -> dict[str, str]:
    """A user with n interactions, another with n / 10; a developer that read one in ten of
    the first's."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        use_binding_key(conn, KEY)
        bind_principal(conn, SYSTEM)
        developer = developers_repo.insert_developer(conn, name="Pizza Palace")
        skill = str(skills_repo.insert_skill(conn, developer_id=developer, name="Pizza"))
        users = {}
        for label in ("deleting", "staying"):
            users[label] = users_repo.upsert_user(conn, platform_user_id=f"bench-{label}")
        conn.commit()
        # each distinct text is redacted once; its forms are reused, as they would be made
        forms = {}
        now = datetime.now(UTC)
        started = time.perf_counter()
        for label, count in (("deleting", n), ("staying", max(n // 10, 1))):
            for start in range(0, count, BATCH):
                records, made = [], []
                for k in range(start, min(start + BATCH, count)):
                    utterance, response = TEXTS[k % len(TEXTS)]
                    occurred_at = now - timedelta(seconds=60 * 60 * 24 * 60 * k / n + 60)
                    record = {
                        "interaction_id": f"{label}-{k}",
                        "skill_id": uuid.UUID(skill),
                        "user_id": f"bench-{label}",
                        "session_id": f"{label}-session-{k // 10}",
                        "occurred_at": occurred_at,
                        "utterance": utterance,
                        "response": response,
                        "intent": "OrderPizza",
                        "slots": [],
                        "outcome": "success",
                        "order_ref": "",
                        "sensitive_category": None,
                        "device_serial": "",
                        "audio_ref": f"vault://{label}/{k}",
                    }
                    key = (utterance, response)
                    if key not in forms:
                        forms[key] = ingest_service.redact_record(record)
                    records.append(record)
                    at = occurred_at.astimezone(UTC)
                    made.append([{**form, "occurred_at": at} for form in forms[key]])
                bind_principal(conn, SYSTEM)
                batch = ingest_service.import_interactions(
                    conn, records, now=now, forms=made, writer=ingest_service.COPIES
                )
                assert not batch.rejected, batch.rejected
                conn.commit()
        print(
            f"seeded {n + max(n // 10, 1):,} interactions in {time.perf_counter() - started:.1f} s"
        )
        bind_principal(conn, SYSTEM)
        read = conn.execute(
            """
            SELECT id, session_id FROM interactions WHERE user_id = %s
            ORDER BY occurred_at DESC
            """,
            (users["deleting"],),
        ).fetchall()[::10]
        access_log_repo.insert_reads(
            conn,
            developer_id=developer,
            client_id="dev_bench",
            skill_id=skill,
            endpoint="list",
            reads=[(str(r["id"]), users["deleting"]) for r in read],
        )
        pseudonyms_repo.insert_pseudonyms(
            conn, developer_id=developer, pairs=[("k1_benchuser", users["deleting"])]
        )
        pseudonyms_repo.insert_session_pseudonyms(
            conn,
            developer_id=developer,
            entries=sorted({(f"k1_{r['session_id']}", skill, r["session_id"]) for r in read}),
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"user": users["deleting"], "other": users["staying"], "read": str(len(read))}


def gateway_round(app_url: str, user: str, n: int) -> float:
    with psycopg.connect(app_url, row_factory=dict_row) as conn:
        use_binding_key(conn, KEY)
        principal = Principal("user", client_id="privacy-app", user_id=user)
        bind_principal(conn, principal)
        started = time.perf_counter()
        receipt = deletions.delete_interactions(
            conn, actor=audit.Actor.of(principal), user_id=user, now=datetime.now(UTC)
        )
        elapsed = time.perf_counter() - started
        assert receipt.interactions == n, receipt
        conn.rollback()
    return elapsed


def bare_round(owner_url: str, user: str, n: int) -> float:
    with psycopg.connect(owner_url) as conn:
        started = time.perf_counter()
        deleted = conn.execute("DELETE FROM interactions WHERE user_id = %s", (user,)).rowcount
        elapsed = time.perf_counter() - started
        assert deleted == n, deleted
        conn.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url = make_database(args.database_url)
    try:
        seeded = seed(url, args.interactions)
        app_url = make_conninfo(url, user=migrate.APP_ROLE)
        print(
            f"deleting {args.interactions:,} interactions of one user "
            f"({seeded['read']} of them read by a developer), {args.rounds} rounds each"
        )
        gateway, bare = [], []
        for round_ in range(args.rounds):
            gateway.append(gateway_round(app_url, seeded["user"], args.interactions))
            bare.append(bare_round(url, seeded["user"], args.interactions))
            print(f"round {round_ + 1}: gateway {gateway[-1]:.2f} s, bare DELETE {bare[-1]:.2f} s")
        g, b = statistics.median(gateway), statistics.median(bare)
        print(f"median: gateway {g:.2f} s, bare DELETE {b:.2f} s, ratio {g / b:.2f}")
    finally:
        drop_database(args.database_url, url)


if __name__ == "__main__":
    main()
