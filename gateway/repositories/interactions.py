"""Interactions: what a user said to a skill and what the assistant answered."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gateway.exceptions import Conflict
from gateway.models import Conn, Row
from gateway.repositories.consents import CONSENTED_AT_THE_TIME
from gateway.repositories.protected_groups import NOT_A_CHILD
from gateway.repositories.skills import OWN_SKILL
from gateway.repositories.tiers import WITHIN_RETENTION

# The rules as one predicate, so the list and the detail read cannot drift apart. Each clause
# lives in, and is explained by, the module named for its rule:
#  1 own skills only            repositories/skills.py            OWN_SKILL
#  2 consent at the time        repositories/consents.py          CONSENTED_AT_THE_TIME
#  3 the tier's retention       repositories/tiers.py             WITHIN_RETENTION
#  6 protected groups           repositories/protected_groups.py  NOT_A_CHILD (and the
#                               sensitive-category cover inside the consent clause)
# Row-level security on interactions and skills repeats rule 1 underneath.
_TABLES = sql.SQL("""
FROM interactions i
JOIN skills s ON s.id = i.skill_id
JOIN users u ON u.id = i.user_id""")
_RULES = sql.SQL("{own_skill} AND {not_a_child} AND {within_retention} AND {consented}").format(
    own_skill=sql.SQL(OWN_SKILL),
    not_a_child=sql.SQL(NOT_A_CHILD),
    within_retention=sql.SQL(WITHIN_RETENTION),
    consented=sql.SQL(CONSENTED_AT_THE_TIME),
)

# Rule 4, never audio: the developer path selects these columns and nothing else. Audio
# references live in vault.audio_recordings and device serials in a column, neither of which
# the app role may read (services/audio.py names what may leave). The texts come from the
# stored redacted form of the caller's policy (`t`), never from the raw columns; a missing or
# stale form reads as NULL version and is redacted again by the service before it is shown.
_COLUMNS = sql.SQL(
    """i.id, i.occurred_at, i.user_id, i.session_id, i.intent, i.outcome, i.order_ref,
       t.version AS form_version, t.utterance, t.response, t.slots,
       t.utterance_ref_hidden, t.response_ref_hidden, t.slots_ref_hidden"""
)
_FORM = sql.SQL(
    """LEFT JOIN interaction_texts t
       ON t.interaction_id = i.id AND t.occurred_at = i.occurred_at AND t.policy = %(policy)s
      AND t.occurred_at >= %(not_before)s"""
)


@dataclass(frozen=True)
class InteractionFilter:
    since: datetime | None = None
    until: datetime | None = None
    intent: str | None = None
    outcome: str | None = None
    order_ref: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    # words to find in the redacted form the caller is shown (PostgreSQL websearch syntax)
    search: str | None = None


# Optional filters, each rendered only when given: a statement holds no "%(x)s IS NULL OR …"
# clause, so every combination in use is its own prepared statement whose generic plan keeps
# the keyset index. The read routes run them from generic plans (gateway.db._GENERIC_PLANS):
# a custom plan is made again at every execution and considers every monthly partition of
# interactions and of their forms, milliseconds per page at a few months and tens of
# milliseconds at a year of them, where a generic plan prunes partitions at execution.
_FILTERS = (
    ("since", "i.occurred_at >= %(since)s"),
    ("until", "i.occurred_at < %(until)s"),
    ("intent", "i.intent = %(intent)s"),
    ("outcome", "i.outcome = %(outcome)s"),
    ("order_ref", "i.order_ref = %(order_ref)s"),
    ("user_id", "i.user_id = %(user_id)s::uuid"),
    ("session_id", "i.session_id = %(session_id)s"),
)
_SEARCH = sql.SQL(
    """t.version = %(version)s
       AND ((%(in_utterance)s
             AND t.search_utterance @@ websearch_to_tsquery('english', %(search)s))
            OR (%(in_response)s
                AND t.search_response @@ websearch_to_tsquery('english', %(search)s))
            OR (%(in_slots)s
                AND t.search_slots @@ websearch_to_tsquery('english', %(search)s)))"""
)
_AFTER = sql.SQL("(i.occurred_at, i.id) < (%(after_time)s, %(after_id)s::uuid)")
_LIST_QUERIES: dict[tuple[bool, ...], bytes] = {}


def _list_query(present: tuple[bool, ...]) -> bytes:
    """The page statement with the clauses `present` flags (filters, search, keyset), rendered
    once per combination."""
    query = _LIST_QUERIES.get(present)
    if query is None:
        clauses = [
            sql.SQL(clause) for (_, clause), on in zip(_FILTERS, present, strict=False) if on
        ]
        if present[len(_FILTERS)]:
            clauses.append(_SEARCH)
        if present[len(_FILTERS) + 1]:
            clauses.append(_AFTER)
        where = sql.SQL("").join(sql.SQL("\n  AND ") + clause for clause in clauses)
        query = (
            sql.SQL(
                "SELECT {columns}\n{readable_with_form}{where}\n"
                "ORDER BY i.occurred_at DESC, i.id DESC\nLIMIT %(limit)s"
            )
            .format(columns=_COLUMNS, readable_with_form=_readable_with_form(), where=where)
            .as_string(None)
            .encode()
        )
        _LIST_QUERIES[present] = query
    return query


def list_readable(
    conn: Conn,
    *,
    developer_id: int,
    skill_id: str,
    not_before: datetime,
    policy: str,
    version: str,
    filters: InteractionFilter,
    search_in: frozenset[str] = frozenset(),
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Row]:
    """Return up to `limit` readable interactions, newest first, strictly after keyset `after`.

    A search matches only forms made by the current `version` of the caller's `policy`: a form
    made by an older, weaker version is never searched, so search cannot reveal what the
    current version hides; and only in the fields named in `search_in` (those the caller's tier
    shows), so it cannot reveal a field the caller may not see.
    """
    params: dict[str, Any] = {
        "developer_id": developer_id,
        "skill_id": skill_id,
        "not_before": not_before,
        "policy": policy,
        "limit": limit,
    }
    present = []
    for name, _ in _FILTERS:
        value = getattr(filters, name)
        present.append(value is not None)
        if value is not None:
            params[name] = value
    present.append(filters.search is not None)
    if filters.search is not None:
        params.update(
            search=filters.search,
            version=version,
            in_utterance="utterance" in search_in,
            in_response="response" in search_in,
            in_slots="slots" in search_in,
        )
    present.append(after is not None)
    if after is not None:
        params.update(after_time=after[0], after_id=after[1])
    return conn.execute(_list_query(tuple(present)), params).fetchall()


def _readable_with_form() -> sql.Composed:
    """FROM … WHERE <the rules>, with the caller's redacted form joined in."""
    return sql.SQL("{tables} {form} WHERE {rules}").format(tables=_TABLES, form=_FORM, rules=_RULES)


def find_readable(
    conn: Conn,
    *,
    developer_id: int,
    skill_id: str,
    interaction_id: str,
    not_before: datetime,
    policy: str,
) -> Row | None:
    """Return the interaction if the rules let the developer read it, else None."""
    return conn.execute(
        sql.SQL("SELECT {columns} {readable_with_form} AND i.id = %(interaction_id)s").format(
            columns=_COLUMNS, readable_with_form=_readable_with_form()
        ),
        {
            "developer_id": developer_id,
            "skill_id": skill_id,
            "not_before": not_before,
            "policy": policy,
            "interaction_id": interaction_id,
        },
    ).fetchone()


def list_readable_session(
    conn: Conn,
    *,
    developer_id: int,
    skill_id: str,
    session_id: str,
    not_before: datetime,
    policy: str,
    limit: int,
) -> list[Row]:
    """Return the readable turns of one conversation, oldest first (at most `limit`)."""
    return conn.execute(
        sql.SQL(
            """
            SELECT {columns} {readable_with_form} AND i.session_id = %(session_id)s
            ORDER BY i.occurred_at, i.id
            LIMIT %(limit)s
            """
        ).format(columns=_COLUMNS, readable_with_form=_readable_with_form()),
        {
            "developer_id": developer_id,
            "skill_id": skill_id,
            "not_before": not_before,
            "policy": policy,
            "session_id": session_id,
            "limit": limit,
        },
    ).fetchall()


def list_raw_texts(conn: Conn, keys: list[tuple[str, datetime]]) -> list[Row]:
    """The raw texts of the given (id, occurred_at) interactions, for redacting them again.

    Only the redaction service calls this; its rows never leave the gateway as they are.
    """
    return conn.execute(
        """
        SELECT i.id, i.occurred_at, i.skill_id, i.utterance, i.response, i.slots, i.order_ref
        FROM interactions i
        JOIN unnest(%(ids)s::uuid[], %(times)s::timestamptz[]) AS k (id, occurred_at)
          ON k.id = i.id AND k.occurred_at = i.occurred_at
        """,
        {"ids": [k[0] for k in keys], "times": [k[1] for k in keys]},
    ).fetchall()


def ensure_months(conn: Conn, moments: list[datetime]) -> None:
    """Create the monthly partitions that rows at `moments` need (the owner's function)."""
    months = sorted({m.replace(day=1, hour=0, minute=0, second=0, microsecond=0) for m in moments})
    for month in months:
        conn.execute("SELECT gateway_ensure_interaction_month(%(at)s)", {"at": month})


_INSERT_FIELDS = (
    "id",
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
)


def insert_interactions(conn: Conn, records: list[dict[str, Any]]) -> None:
    """Insert interactions whose ids the caller chose; their months' partitions must exist."""
    if not records:
        return
    # text columns absent from a record are empty, as the table's defaults would make them
    columns = {
        name: [r.get(name, None if name == "sensitive_category" else "") for r in records]
        for name in _INSERT_FIELDS
    }
    columns["slots"] = [Jsonb(r.get("slots") or {}) for r in records]
    conn.execute(
        """
        INSERT INTO interactions (id, skill_id, user_id, session_id, occurred_at, utterance,
            response, intent, slots, outcome, order_ref, sensitive_category, device_serial)
        SELECT * FROM unnest(%(id)s::uuid[], %(skill_id)s::uuid[], %(user_id)s::uuid[],
            %(session_id)s::text[], %(occurred_at)s::timestamptz[], %(utterance)s::text[],
            %(response)s::text[], %(intent)s::text[], %(slots)s::jsonb[], %(outcome)s::text[],
            %(order_ref)s::text[], %(sensitive_category)s::text[], %(device_serial)s::text[])
        """,
        columns,
    )


def find_ledger(conn: Conn, platform_interaction_ids: list[str]) -> dict[str, Row]:
    """The ingest ledger's entries for these platform ids, by platform id."""
    rows = conn.execute(
        """
        SELECT platform_interaction_id, interaction_id, occurred_at, content_digest, deleted_at
        FROM ingested_interactions WHERE platform_interaction_id = ANY(%(ids)s)
        """,
        {"ids": platform_interaction_ids},
    ).fetchall()
    return {row["platform_interaction_id"]: row for row in rows}


def insert_ledger(conn: Conn, entries: list[tuple[str, str, datetime, str]]) -> None:
    """Record (platform id, interaction id, occurred_at, content digest) for each new record.

    Raises `Conflict` when a concurrent request recorded one of the platform ids first.
    """
    if not entries:
        return
    try:
        conn.execute(
            """
            INSERT INTO ingested_interactions (platform_interaction_id, interaction_id,
                                               occurred_at, content_digest)
            SELECT * FROM unnest(%(pids)s::text[], %(ids)s::uuid[], %(times)s::timestamptz[],
                                 %(digests)s::text[])
            """,
            {
                "pids": [e[0] for e in entries],
                "ids": [e[1] for e in entries],
                "times": [e[2] for e in entries],
                "digests": [e[3] for e in entries],
            },
        )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(
            "Another request is ingesting some of these interactions; retry the batch."
        ) from exc


def store_audio_reference(
    conn: Conn, *, interaction_id: str, occurred_at: datetime, ref: str
) -> None:
    """Hand an audio reference to the vault, which the app role can write through one function
    and never read (rule 4)."""
    conn.execute(
        "SELECT gateway_store_audio_reference(%(id)s, %(at)s, %(ref)s)",
        {"id": interaction_id, "at": occurred_at, "ref": ref},
    )
