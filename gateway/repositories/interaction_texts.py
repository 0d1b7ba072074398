"""Interaction texts: the redacted forms stored beside each interaction, one per policy."""

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from gateway.models import Conn, Row

_FIELDS = (
    "interaction_id",
    "occurred_at",
    "skill_id",
    "policy",
    "version",
    "utterance",
    "response",
    "slots",
    "utterance_ref_hidden",
    "response_ref_hidden",
    "slots_ref_hidden",
)


def upsert_texts(conn: Conn, forms: list[dict[str, Any]]) -> None:
    """Store redacted forms; a form already stored for (interaction, policy) is replaced."""
    if not forms:
        return
    columns: dict[str, list[Any]] = {name: [f[name] for f in forms] for name in _FIELDS}
    columns["slots"] = [Jsonb(f["slots"]) for f in forms]
    columns["slots_ref_hidden"] = [
        None if f["slots_ref_hidden"] is None else Jsonb(f["slots_ref_hidden"]) for f in forms
    ]
    conn.execute(
        """
        INSERT INTO interaction_texts (interaction_id, occurred_at, skill_id, policy, version,
            utterance, response, slots, utterance_ref_hidden, response_ref_hidden,
            slots_ref_hidden)
        SELECT * FROM unnest(%(interaction_id)s::uuid[], %(occurred_at)s::timestamptz[],
            %(skill_id)s::uuid[], %(policy)s::text[], %(version)s::text[], %(utterance)s::text[],
            %(response)s::text[], %(slots)s::jsonb[], %(utterance_ref_hidden)s::text[],
            %(response_ref_hidden)s::text[], %(slots_ref_hidden)s::jsonb[])
        ON CONFLICT (interaction_id, policy, occurred_at) DO UPDATE SET
            version = EXCLUDED.version,
            utterance = EXCLUDED.utterance,
            response = EXCLUDED.response,
            slots = EXCLUDED.slots,
            utterance_ref_hidden = EXCLUDED.utterance_ref_hidden,
            response_ref_hidden = EXCLUDED.response_ref_hidden,
            slots_ref_hidden = EXCLUDED.slots_ref_hidden
        """,
        columns,
    )


def list_stale(
    conn: Conn, *, versions: dict[str, str], after: tuple[datetime, str] | None, limit: int
) -> list[Row]:
    """Interactions lacking a current form for some policy, oldest first, after keyset `after`.

    `versions` maps each policy to its current version. Returns (id, occurred_at) rows.
    """
    return conn.execute(
        """
        SELECT i.id, i.occurred_at
        FROM interactions i
        WHERE (%(after_time)s::timestamptz IS NULL
               OR (i.occurred_at, i.id) > (%(after_time)s, %(after_id)s::uuid))
          AND EXISTS (
              SELECT 1
              FROM unnest(%(policies)s::text[], %(versions)s::text[]) AS p (policy, version)
              WHERE NOT EXISTS (
                  SELECT 1 FROM interaction_texts t
                  WHERE t.interaction_id = i.id AND t.occurred_at = i.occurred_at
                    AND t.policy = p.policy AND t.version = p.version))
        ORDER BY i.occurred_at, i.id
        LIMIT %(limit)s
        """,
        {
            "policies": list(versions),
            "versions": list(versions.values()),
            "after_time": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    ).fetchall()
