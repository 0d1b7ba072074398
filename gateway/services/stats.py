"""What every tier, `none` included, may learn of its own skills without reading anyone's
transcript: counts per calendar week, by day, intent and outcome, each shown only when it covers
at least k distinct users (the tier's k_threshold; rules 1, 3 and 6).

Built so that no two answers subtract to a group of fewer than k users (differencing):
- no caller-chosen filter: fixed dimensions over fixed UTC weeks (Monday to Sunday);
- complete weeks only, from a day after they end (late ingest), so the answer changes once a
  week and never slides: two overlapping windows would subtract to a single day;
- a week, once shown, is kept and shown the same from then on (skill_stats_weeks), so a later
  deletion, a late interaction or a changed child flag cannot be subtracted out of two answers;
- within a week each dimension adds up to the week's total: buckets under k are folded into
  "other", and whenever one is, the smallest shown bucket is folded in with it, so "other"
  always covers at least k users too. Subtracting one dimension's sum from another's, or from
  the total, gives 0 or an "other".
Consent is not needed for these aggregates (no transcript, text or pseudonym is shown); child
profiles are never counted.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from gateway.models import Conn, Developer, Row
from gateway.repositories import stats as stats_repo
from gateway.services import audit, skills

DIMENSIONS = ("day", "intent", "outcome")
# a week is final this long after it ends: interactions reach the gateway a little late
GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Bucket:
    key: str
    interactions: int
    users: int


@dataclass(frozen=True)
class Dimension:
    buckets: list[Bucket]
    suppressed: int  # buckets folded into "other": never named, never counted apart
    other_interactions: int


@dataclass(frozen=True)
class WeekStats:
    week: date  # its Monday (UTC)
    interactions: int
    users: int
    by_day: Dimension
    by_intent: Dimension
    by_outcome: Dimension


@dataclass(frozen=True)
class SkillStats:
    skill_id: str
    k: int
    since: date  # the first week's Monday
    until: date  # the Monday after the last week
    weeks: list[WeekStats]  # newest first; only weeks of at least k users
    suppressed_weeks: int  # weeks with some, but fewer than k, users


def closed_weeks(now: datetime, count: int) -> list[date]:
    """The `count` latest complete UTC weeks (their Mondays, newest first), each at least
    GRACE past its end."""
    today = now.astimezone(UTC).date()
    latest = today - timedelta(days=today.weekday() + 7)
    if now < datetime.combine(latest + timedelta(days=7), time(), UTC) + GRACE:
        latest -= timedelta(days=7)
    return [latest - timedelta(weeks=n) for n in range(count)]


def fold(buckets: list[Bucket], k: int) -> Dimension:
    """Show the buckets of at least k users; fold the rest into "other" (the rule of k).

    When any bucket is folded, the smallest shown one is folded with it: "other" then holds a
    bucket of at least k users, so it covers at least k users itself, and the week's total
    minus the shown buckets never singles out a small group.
    """
    shown = [b for b in buckets if b.users >= k]
    folded = [b for b in buckets if b.users < k]
    if folded and shown:
        smallest = min(shown, key=lambda b: (b.users, b.interactions, b.key))
        shown.remove(smallest)
        folded.append(smallest)
    return Dimension(
        buckets=shown,
        suppressed=len(folded),
        other_interactions=sum(b.interactions for b in folded),
    )


def _ordered(dimension: str, buckets: list[Bucket]) -> list[Bucket]:
    if dimension == "day":
        return sorted(buckets, key=lambda b: b.key)
    return sorted(buckets, key=lambda b: (-b.interactions, b.key))


def publish_week(rows: list[Row], k: int) -> dict[str, Any]:
    """What one week shows under k, from its count rows: {"status": "shown", ...},
    {"status": "suppressed"} (some users, fewer than k) or {"status": "empty"}."""
    total = next((r for r in rows if r["dimension"] == "week"), None)
    if total is None:
        return {"status": "empty"}
    if total["users"] < k:
        return {"status": "suppressed"}
    published: dict[str, Any] = {
        "status": "shown",
        "interactions": int(total["interactions"]),
        "users": int(total["users"]),
    }
    for dimension in DIMENSIONS:
        buckets = [
            Bucket(str(r["key"]), int(r["interactions"]), int(r["users"]))
            for r in rows
            if r["dimension"] == dimension
        ]
        folded = fold(buckets, k)
        ordered = Dimension(
            _ordered(dimension, folded.buckets), folded.suppressed, folded.other_interactions
        )
        published[f"by_{dimension}"] = asdict(ordered)
    return published


def _dimension(data: dict[str, Any]) -> Dimension:
    return Dimension(
        buckets=[Bucket(b["key"], b["interactions"], b["users"]) for b in data["buckets"]],
        suppressed=data["suppressed"],
        other_interactions=data["other_interactions"],
    )


def _week(week: date, data: dict[str, Any]) -> WeekStats:
    return WeekStats(
        week=week,
        interactions=data["interactions"],
        users=data["users"],
        by_day=_dimension(data["by_day"]),
        by_intent=_dimension(data["by_intent"]),
        by_outcome=_dimension(data["by_outcome"]),
    )


def skill_stats(conn: Conn, *, skill_id: str, k: int, weeks: int, now: datetime) -> SkillStats:
    """The skill's stats over its `weeks` latest complete weeks under `k` (see the module).

    A week already shown under `k` is answered as it was shown; the others are counted now and
    kept. The caller checks that the skill is the developer's; the database counts only a
    developer's own skills anyway.
    """
    mondays = closed_weeks(now, weeks)
    published = stats_repo.list_published(conn, skill_id=skill_id, k=k, weeks=mondays)
    missing = [week for week in mondays if week not in published]
    if missing:
        rows = stats_repo.count_by_week(
            conn,
            skill_id=skill_id,
            since=datetime.combine(min(missing), time(), UTC),
            until=datetime.combine(max(missing) + timedelta(days=7), time(), UTC),
        )
        fresh = {week: publish_week([r for r in rows if r["week"] == week], k) for week in missing}
        stats_repo.insert_published(conn, skill_id=skill_id, k=k, published=fresh)
        # a request that kept one of these weeks first wins: answer with what it kept
        published = stats_repo.list_published(conn, skill_id=skill_id, k=k, weeks=mondays)
    return SkillStats(
        skill_id=skill_id,
        k=k,
        since=mondays[-1],
        until=mondays[0] + timedelta(days=7),
        weeks=[
            _week(week, published[week]) for week in mondays if published[week]["status"] == "shown"
        ],
        suppressed_weeks=sum(published[week]["status"] == "suppressed" for week in mondays),
    )


def read_skill_stats(
    conn: Conn, *, developer: Developer, client_id: str, skill_id: str, now: datetime
) -> SkillStats:
    """The developer's own skill's stats under its tier's k and stats window (rules 1, 3, 6).

    Any tier may ask, `none` included. Raises `NotFound` for another developer's skill exactly
    as for a missing one. The request is audited as `stats.read` (rule 7).
    """
    skills.get_skill(conn, developer_id=developer.id, skill_id=skill_id)
    stats = skill_stats(
        conn,
        skill_id=skill_id,
        k=developer.tier.k_threshold,
        weeks=stats_repo.find_stats_weeks(conn, developer.tier.name),
        now=now,
    )
    audit.record(
        conn,
        actor=audit.Actor.client(client_id),
        action="stats.read",
        developer_id=developer.id,
        skill_id=skill_id,
        details={"weeks": len(stats.weeks), "suppressed_weeks": stats.suppressed_weeks},
    )
    return stats
