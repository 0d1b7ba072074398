"""Interactions, ledger entries and redacted forms written in bulk with COPY.

PostgreSQL refuses COPY FROM into a table with row-level security for a role that does not
bypass it, so each batch is copied into a temporary staging table and moved into its table
with INSERT ... SELECT in the same transaction, where the table's policies apply as usual.
Same arguments and rows as the statement-by-statement writers in interactions.py and
interaction_texts.py.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg

from gateway.exceptions import Conflict
from gateway.models import Conn


def _copy(conn: Conn, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def insert_ledger(conn: Conn, entries: list[tuple[str, str, datetime, str]]) -> None:
    """Record (platform id, interaction id, occurred_at, content digest) for each new record.

    Raises `Conflict` when a concurrent import recorded one of the platform ids first.
    """
    if not entries:
        return
    # the staging tables take their columns from the real ones: WITH NO DATA reads no row
    conn.execute(
        """
        CREATE TEMPORARY TABLE staged_ledger ON COMMIT DROP AS
        SELECT platform_interaction_id, interaction_id, occurred_at, content_digest
        FROM ingested_interactions WITH NO DATA
        """
    )
    _copy(
        conn,
        """
        COPY staged_ledger (platform_interaction_id, interaction_id, occurred_at, content_digest)
        FROM STDIN
        """,
        entries,
    )
    try:
        conn.execute(
            """
            INSERT INTO ingested_interactions (platform_interaction_id, interaction_id,
                                               occurred_at, content_digest)
            SELECT platform_interaction_id, interaction_id, occurred_at, content_digest
            FROM staged_ledger
            """
        )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(
            "Another import is ingesting some of these interactions; retry the batch."
        ) from exc
    # dropped now, not only at commit: a second batch in one transaction stages afresh
    conn.execute("DROP TABLE staged_ledger")


def insert_interactions(conn: Conn, records: list[dict[str, Any]]) -> None:
    """Insert interactions whose ids the caller chose; their months' partitions must exist."""
    if not records:
        return
    conn.execute(
        """
        CREATE TEMPORARY TABLE staged_interactions ON COMMIT DROP AS
        SELECT id, skill_id, user_id, session_id, occurred_at, utterance, response, intent,
               slots, outcome, order_ref, sensitive_category, device_serial
        FROM interactions WITH NO DATA
        """
    )
    rows = (
        (
            r["id"],
            r["skill_id"],
            r["user_id"],
            r["session_id"],
            r["occurred_at"],
            r["utterance"],
            r["response"],
            r["intent"],
            json.dumps(r.get("slots") or {}),
            r["outcome"],
            r["order_ref"],
            r["sensitive_category"],
            r["device_serial"],
        )
        for r in records
    )
    _copy(
        conn,
        """
        COPY staged_interactions (id, skill_id, user_id, session_id, occurred_at, utterance,
                                  response, intent, slots, outcome, order_ref,
                                  sensitive_category, device_serial)
        FROM STDIN
        """,
        rows,
    )
    conn.execute(
        """
        INSERT INTO interactions (id, skill_id, user_id, session_id, occurred_at, utterance,
                                  response, intent, slots, outcome, order_ref,
                                  sensitive_category, device_serial)
        SELECT id, skill_id, user_id, session_id, occurred_at, utterance, response, intent,
               slots, outcome, order_ref, sensitive_category, device_serial
        FROM staged_interactions
        """
    )
    conn.execute("DROP TABLE staged_interactions")


def insert_texts(conn: Conn, forms: list[dict[str, Any]]) -> None:
    """Insert the redacted forms of new interactions (none may exist yet for them)."""
    if not forms:
        return
    conn.execute(
        """
        CREATE TEMPORARY TABLE staged_texts ON COMMIT DROP AS
        SELECT interaction_id, occurred_at, skill_id, policy, version, utterance, response,
               slots, utterance_ref_hidden, response_ref_hidden, slots_ref_hidden
        FROM interaction_texts WITH NO DATA
        """
    )
    rows = (
        (
            f["interaction_id"],
            f["occurred_at"],
            f["skill_id"],
            f["policy"],
            f["version"],
            f["utterance"],
            f["response"],
            json.dumps(f["slots"]),
            f["utterance_ref_hidden"],
            f["response_ref_hidden"],
            None if f["slots_ref_hidden"] is None else json.dumps(f["slots_ref_hidden"]),
        )
        for f in forms
    )
    _copy(
        conn,
        """
        COPY staged_texts (interaction_id, occurred_at, skill_id, policy, version, utterance,
                           response, slots, utterance_ref_hidden, response_ref_hidden,
                           slots_ref_hidden)
        FROM STDIN
        """,
        rows,
    )
    conn.execute(
        """
        INSERT INTO interaction_texts (interaction_id, occurred_at, skill_id, policy, version,
                                       utterance, response, slots, utterance_ref_hidden,
                                       response_ref_hidden, slots_ref_hidden)
        SELECT interaction_id, occurred_at, skill_id, policy, version, utterance, response,
               slots, utterance_ref_hidden, response_ref_hidden, slots_ref_hidden
        FROM staged_texts
        """
    )
    conn.execute("DROP TABLE staged_texts")


def store_audio_references(conn: Conn, references: list[tuple[str, datetime, str]]) -> None:
    """Hand (interaction id, occurred_at, audio reference) triples to the vault in one
    statement, through the function the app role may call (rule 4)."""
    if not references:
        return
    conn.execute(
        """
        SELECT gateway_store_audio_reference(r.id, r.occurred_at, r.ref)
        FROM unnest(%(ids)s::uuid[], %(times)s::timestamptz[], %(refs)s::text[])
             AS r (id, occurred_at, ref)
        """,
        {
            "ids": [r[0] for r in references],
            "times": [r[1] for r in references],
            "refs": [r[2] for r in references],
        },
    )
