"""A skill's k-anonymous stats as admins see them: exactly what its developer is shown, under
the developer's tier's k and window (rules 3 and 6), never more."""

from dataclasses import dataclass
from datetime import datetime

from gateway.exceptions import NotFound
from gateway.models import Conn, Row
from gateway.repositories import developers as developers_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import stats as stats_repo
from gateway.services import audit
from gateway.services.stats import SkillStats, skill_stats


@dataclass(frozen=True)
class AdminSkillStats:
    skill: Row
    developer: Row
    stats: SkillStats


def read_skill_stats_as_admin(
    conn: Conn, *, actor: audit.Actor, skill_id: str, now: datetime
) -> AdminSkillStats:
    """The skill, its developer and its stats as that developer would read them now: the
    same weeks, the same k, the same suppressed buckets (an admin sees no small group either).

    Raises `NotFound` for an unknown skill. Audited as `stats.read` by `actor` (rule 7).
    """
    skill = skills_repo.find_any_skill(conn, skill_id)
    if skill is None:
        raise NotFound()
    developer = developers_repo.get_developer(conn, int(skill["developer_id"]))
    stats = skill_stats(
        conn,
        skill_id=skill_id,
        k=developer.tier.k_threshold,
        weeks=stats_repo.find_stats_weeks(conn, developer.tier.name),
        now=now,
    )
    audit.record(
        conn,
        actor=actor,
        action="stats.read",
        developer_id=developer.id,
        skill_id=skill_id,
        details={"weeks": len(stats.weeks), "suppressed_weeks": stats.suppressed_weeks},
    )
    return AdminSkillStats(
        skill,
        {"id": developer.id, "name": developer.name, "tier": developer.tier.name},
        stats,
    )
