"""Skill stats: counts from the database's gateway_skill_stats, and the weeks already shown."""

from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from gateway.models import Conn, Row


def find_stats_weeks(conn: Conn, tier: str) -> int:
    """How many complete weeks of stats `tier` sees (1 when the tier has vanished)."""
    row = conn.execute(
        "SELECT stats_weeks FROM tiers WHERE name = %(tier)s", {"tier": tier}
    ).fetchone()
    return 1 if row is None else int(row["stats_weeks"])


def count_by_week(conn: Conn, *, skill_id: str, since: datetime, until: datetime) -> list[Row]:
    """Per UTC week in [since, until): the week's total and its day, intent and outcome
    buckets, each as (week, dimension, key, interactions, users). Child profiles are left out;
    the database answers only for the caller's own skills (rule 1)."""
    return conn.execute(
        """
        SELECT week, dimension, key, interactions, users
        FROM gateway_skill_stats(%(skill_id)s, %(since)s, %(until)s)
        """,
        {"skill_id": skill_id, "since": since, "until": until},
    ).fetchall()


def list_published(conn: Conn, *, skill_id: str, k: int, weeks: list[date]) -> dict[date, Any]:
    """The weeks of `weeks` already shown under `k`: {week: what was shown}."""
    rows = conn.execute(
        """
        SELECT week, published FROM skill_stats_weeks
        WHERE skill_id = %(skill_id)s AND k = %(k)s AND week = ANY(%(weeks)s::date[])
        """,
        {"skill_id": skill_id, "k": k, "weeks": weeks},
    ).fetchall()
    return {row["week"]: row["published"] for row in rows}


def insert_published(
    conn: Conn, *, skill_id: str, k: int, published: dict[date, dict[str, Any]]
) -> None:
    """Keep what each week showed; a week another request kept first stays as it was."""
    if not published:
        return
    weeks = sorted(published)
    conn.execute(
        """
        INSERT INTO skill_stats_weeks (skill_id, week, k, published)
        SELECT %(skill_id)s, w.week, %(k)s, w.published
        FROM unnest(%(weeks)s::date[], %(bodies)s::jsonb[]) AS w (week, published)
        ON CONFLICT (skill_id, week, k) DO NOTHING
        """,
        {
            "skill_id": skill_id,
            "k": k,
            "weeks": weeks,
            "bodies": [Jsonb(published[week]) for week in weeks],
        },
    )
