"""The rule of k in isolation: folding small buckets, the weeks a caller sees, and the
database's counting function (own skills only, child profiles never, consent not needed)."""

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from gateway.db import bind_principal
from gateway.models import SYSTEM, Principal
from gateway.repositories import stats as stats_repo
from gateway.services import stats
from gateway.services.stats import Bucket


def test_buckets_of_at_least_k_users_are_shown_and_the_rest_folded():
    buckets = [Bucket("a", 40, 12), Bucket("b", 30, 10), Bucket("c", 5, 9)]

    folded = stats.fold(buckets, 10)

    # "c" is below k, and "b", the smallest shown bucket, is folded with it
    assert [b.key for b in folded.buckets] == ["a"]
    assert folded.suppressed == 2
    assert folded.other_interactions == 35


def test_nothing_is_folded_when_every_bucket_reaches_k():
    folded = stats.fold([Bucket("a", 1, 10), Bucket("b", 1, 11)], 10)

    assert (len(folded.buckets), folded.suppressed, folded.other_interactions) == (2, 0, 0)


def test_when_no_bucket_reaches_k_all_of_them_are_other():
    folded = stats.fold([Bucket("a", 3, 2), Bucket("b", 4, 3)], 10)

    assert (folded.buckets, folded.suppressed, folded.other_interactions) == ([], 2, 7)


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        # Tuesday: last week (Mon 3 to Sun 9) ended more than a day ago
        (datetime(2026, 11, 10, 0, 0, tzinfo=UTC), date(2026, 11, 2)),
        (datetime(2026, 11, 15, 23, 59, tzinfo=UTC), date(2026, 11, 2)),
        # Monday: last week ended less than a day ago, so the week before is the latest
        (datetime(2026, 11, 9, 0, 0, tzinfo=UTC), date(2026, 10, 26)),
        (datetime(2026, 11, 9, 23, 59, 59, tzinfo=UTC), date(2026, 10, 26)),
        # a time zone says nothing about which week it is
        (datetime(2026, 11, 10, 8, 0, tzinfo=UTC).astimezone(), date(2026, 11, 2)),
    ],
)
def test_only_complete_weeks_a_day_past_their_end_are_seen(now, latest):
    weeks = stats.closed_weeks(now, 3)

    assert weeks == [latest, latest - timedelta(days=7), latest - timedelta(days=14)]
    assert all(week.weekday() == 0 for week in weeks)


def test_the_counting_function_counts_all_adults_consent_or_not_and_no_child(conn, make):
    developer = make.developer(tier="none")
    skill = make.skill(developer)
    week = stats.closed_weeks(datetime.now(UTC), 1)[0]
    at = datetime.combine(week, datetime.min.time(), UTC) + timedelta(hours=12)
    consenting, silent, child = make.user(), make.user(), make.user(is_child=True)
    make.consent(consenting, skill, granted_at=at - timedelta(days=30))
    for user in (consenting, silent, silent, child):
        make.interaction(skill, user, occurred_at=at, intent="OrderPizza", outcome="success")
    bind_principal(conn, Principal("developer", client_id="dev_x", developer_id=developer))

    rows = stats_repo.count_by_week(
        conn, skill_id=skill, since=at - timedelta(days=1), until=at + timedelta(days=1)
    )

    counts = {(r["dimension"], r["key"]): (r["interactions"], r["users"]) for r in rows}
    assert counts[("week", "")] == (3, 2)  # the child is left out, the silent user is in
    assert counts[("intent", "OrderPizza")] == (3, 2)
    assert counts[("day", week.isoformat())] == (3, 2)
    # the app role as this developer would not see the silent user at all
    visible = conn.execute("SELECT id FROM users").fetchall()
    assert {str(r["id"]) for r in visible} == {consenting}


def test_the_counting_function_answers_nothing_about_another_developers_skill(conn, make):
    mine, theirs = make.developer(tier="none"), make.developer(tier="none")
    their_skill = make.skill(theirs)
    user = make.user()
    make.interaction(their_skill, user)
    bind_principal(conn, Principal("developer", client_id="dev_x", developer_id=mine))
    now = datetime.now(UTC)

    rows = stats_repo.count_by_week(
        conn, skill_id=their_skill, since=now - timedelta(days=3), until=now + timedelta(days=1)
    )

    assert rows == []
    bind_principal(conn, SYSTEM)
    assert stats_repo.count_by_week(
        conn, skill_id=their_skill, since=now - timedelta(days=3), until=now + timedelta(days=1)
    )


def test_a_developer_cannot_keep_stats_for_another_developers_skill(conn, make):
    mine, theirs = make.developer(tier="none"), make.developer(tier="none")
    their_skill = make.skill(theirs)
    bind_principal(conn, Principal("developer", client_id="dev_x", developer_id=mine))

    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        stats_repo.insert_published(
            conn,
            skill_id=their_skill,
            k=1,
            published={date(2026, 11, 2): {"status": "suppressed"}},
        )
