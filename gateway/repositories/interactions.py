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
_READABLE = sql.SQL("""
FROM interactions i
JOIN skills s ON s.id = i.skill_id
JOIN users u ON u.id = i.user_id
WHERE {own_skill}
  AND {not_a_child}
  AND {within_retention}
  AND {consented}
""").format(
    own_skill=sql.SQL(OWN_SKILL),
    not_a_child=sql.SQL(NOT_A_CHILD),
    within_retention=sql.SQL(WITHIN_RETENTION),
    consented=sql.SQL(CONSENTED_AT_THE_TIME),
)

# Rule 4, never audio: the developer path selects these columns and nothing else. Audio
# references live in vault.audio_recordings and device serials in a column, neither of which
# the app role may read (services/audio.py names what may leave).
_COLUMNS = sql.SQL(
    """i.id, i.occurred_at, i.user_id, i.session_id, i.utterance, i.response, i.intent,
       i.slots, i.outcome, i.order_ref"""
)


@dataclass(frozen=True)
class InteractionFilter:
    since: datetime | None = None
    until: datetime | None = None
    intent: str | None = None
    outcome: str | None = None
    order_ref: str | None = None
    user_id: str | None = None


def list_readable(
    conn: Conn,
    *,
    developer_id: int,
    skill_id: str,
    not_before: datetime,
    filters: InteractionFilter,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Row]:
    """Return up to `limit` readable interactions, newest first, strictly after keyset `after`."""
    query = sql.SQL(
        """
        SELECT {columns}
        {readable}
          AND (%(since)s::timestamptz IS NULL OR i.occurred_at >= %(since)s)
          AND (%(until)s::timestamptz IS NULL OR i.occurred_at < %(until)s)
          AND (%(intent)s::text IS NULL OR i.intent = %(intent)s)
          AND (%(outcome)s::text IS NULL OR i.outcome = %(outcome)s)
          AND (%(order_ref)s::text IS NULL OR i.order_ref = %(order_ref)s)
          AND (%(user_id)s::uuid IS NULL OR i.user_id = %(user_id)s)
          AND (%(after_time)s::timestamptz IS NULL
               OR (i.occurred_at, i.id) < (%(after_time)s, %(after_id)s::uuid))
        ORDER BY i.occurred_at DESC, i.id DESC
        LIMIT %(limit)s
        """
    ).format(columns=_COLUMNS, readable=_READABLE)
    return conn.execute(
        query,
        {
            "developer_id": developer_id,
            "skill_id": skill_id,
            "not_before": not_before,
            "since": filters.since,
            "until": filters.until,
            "intent": filters.intent,
            "outcome": filters.outcome,
            "order_ref": filters.order_ref,
            "user_id": filters.user_id,
            "after_time": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    ).fetchall()


def find_readable(
    conn: Conn, *, developer_id: int, skill_id: str, interaction_id: str, not_before: datetime
) -> Row | None:
    """Return the interaction if the rules let the developer read it, else None."""
    return conn.execute(
        sql.SQL("SELECT {columns} {readable} AND i.id = %(interaction_id)s").format(
            columns=_COLUMNS, readable=_READABLE
        ),
        {
            "developer_id": developer_id,
            "skill_id": skill_id,
            "not_before": not_before,
            "interaction_id": interaction_id,
        },
    ).fetchone()


def insert_interaction(conn: Conn, **values: Any) -> str:
    """Insert one interaction and return its id; raise `Conflict` on a duplicate platform id."""
    params = {
        "platform_interaction_id": values["platform_interaction_id"],
        "skill_id": values["skill_id"],
        "user_id": values["user_id"],
        "session_id": values.get("session_id", ""),
        "occurred_at": values["occurred_at"],
        "utterance": values.get("utterance", ""),
        "response": values.get("response", ""),
        "intent": values.get("intent", ""),
        "slots": Jsonb(values.get("slots", {})),
        "outcome": values.get("outcome", ""),
        "order_ref": values.get("order_ref", ""),
        "sensitive_category": values.get("sensitive_category"),
        "device_serial": values.get("device_serial", ""),
    }
    try:
        row = conn.execute(
            """
            INSERT INTO interactions (platform_interaction_id, skill_id, user_id, session_id,
                occurred_at, utterance, response, intent, slots, outcome, order_ref,
                sensitive_category, device_serial)
            VALUES (%(platform_interaction_id)s, %(skill_id)s, %(user_id)s, %(session_id)s,
                %(occurred_at)s, %(utterance)s, %(response)s, %(intent)s, %(slots)s,
                %(outcome)s, %(order_ref)s, %(sensitive_category)s, %(device_serial)s)
            RETURNING id
            """,
            params,
        ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict("An interaction with that platform id exists.") from exc
    assert row is not None
    return str(row["id"])
