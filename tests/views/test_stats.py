"""GET /v1/skills/{skill_id}/stats: k-anonymous counts for every tier, and the differencing
attacks that must not single out fewer than k users."""

import json
from datetime import UTC, date, datetime, timedelta
from itertools import combinations

import pytest

from gateway.db import bind_principal
from gateway.models import SYSTEM
from gateway.services import stats as stats_service
from gateway.services.stats import Dimension


@pytest.fixture(autouse=True)
def midweek(clock):
    """Wednesday noon (UTC) of the real current or last week: far from any week's edge, so
    a test that lets a few hours pass stays in the same week."""
    today = datetime.now(UTC).date()
    wednesday = today - timedelta(days=(today.weekday() - 2) % 7)
    clock.now = datetime.combine(wednesday, datetime.min.time(), UTC) + timedelta(hours=12)
    return clock


def _week(clock) -> date:
    """The latest complete week the app's clock shows."""
    return stats_service.closed_weeks(clock.now, 1)[0]


def _at(week: date, day: int, hour: int = 12) -> datetime:
    return datetime.combine(week, datetime.min.time(), UTC) + timedelta(days=day, hours=hour)


@pytest.fixture
def developer(make, bearer):
    """A developer on `tier` with one skill and a token."""

    def build(tier: str = "none"):
        developer_id = make.developer(tier=tier)
        skill = make.skill(developer_id)
        credentials = make.client(developer_id=developer_id)
        return {
            "id": developer_id,
            "skill": skill,
            "credentials": credentials,
            "headers": bearer(credentials),
        }

    return build


class World:
    """Interactions whose truth the test knows: (id, user, day, intent, outcome), children apart."""

    def __init__(self, make, skill: str, week: date) -> None:
        self.make, self.skill, self.week = make, skill, week
        self.truth: list[tuple[str, str, str, str, str]] = []
        self.users: dict[str, str] = {}

    def add(
        self,
        label: str,
        *,
        day: int,
        intent: str,
        outcome: str,
        times: int = 1,
        child: bool = False,
        consent: bool = False,
        week: date | None = None,
    ) -> str:
        if label not in self.users:
            self.users[label] = self.make.user(is_child=child)
            if consent:
                self.make.consent(self.users[label], self.skill, granted_at=_at(self.week, -60))
        user = self.users[label]
        occurred = _at(week or self.week, day)
        for _ in range(times):
            interaction = self.make.interaction(
                self.skill,
                user,
                occurred_at=occurred,
                intent=intent,
                outcome=outcome,
                utterance=f"refill prescription for {label} at 42 elm street",
            )
            if not child and (week or self.week) == self.week:
                self.truth.append((interaction, user, occurred.date().isoformat(), intent, outcome))
        return user

    def support(self, dimension: str, key: str) -> frozenset[str]:
        index = {"day": 2, "intent": 3, "outcome": 4}[dimension]
        return frozenset(t[0] for t in self.truth if t[index] == key)

    def users_of(self, interactions: frozenset[str]) -> int:
        return len({t[1] for t in self.truth if t[0] in interactions})


def _differencing_world(make, skill: str, week: date) -> World:
    """A week of 24 adults: 12 ordering on Monday, 11 tracking on Tuesday, and one user who
    refilled a prescription three times on Wednesday and failed; plus a child. k is 10."""
    world = World(make, skill, week)
    for n in range(12):
        world.add(f"monday-{n}", day=0, intent="OrderPizza", outcome="success", consent=n < 6)
    for n in range(11):
        world.add(f"tuesday-{n}", day=1, intent="TrackOrder", outcome="success")
    world.add("victim", day=2, intent="RefillPrescription", outcome="failure", times=3)
    world.add("child", day=0, intent="OrderPizza", outcome="success", child=True)
    return world


def _stats(client, headers, skill):
    response = client.get(f"/v1/skills/{skill}/stats", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _published_sets(week_body: dict, world: World) -> dict[str, frozenset[str]]:
    """Every number the week shows, as the set of interactions it counts (from the truth),
    after checking that the shown number is that set's size."""
    everything = frozenset(t[0] for t in world.truth)
    sets = {"total": everything}
    assert week_body["interactions"] == len(everything)
    for dimension in ("day", "intent", "outcome"):
        shown = week_body[f"by_{dimension}"]
        union: frozenset[str] = frozenset()
        for bucket in shown["buckets"]:
            support = world.support(dimension, bucket["key"])
            assert bucket["interactions"] == len(support)
            assert bucket["users"] == world.users_of(support)
            sets[f"{dimension}={bucket['key']}"] = support
            union |= support
        other = everything - union
        assert shown["other_interactions"] == len(other)
        sets[f"{dimension}=other"] = other
    return sets


def isolatable(week_body: dict, world: World, k: int) -> dict[str, frozenset[str]]:
    """What an attacker can pin down exactly by adding and subtracting what the week shows:
    every set derivable as a difference (B inside A) or a disjoint union of shown sets, to a
    fixed point; those that cover some, but fewer than k, users, by how they were derived."""
    known = dict(_published_sets(week_body, world))
    changed = True
    while changed:
        changed = False
        for (name_a, a), (name_b, b) in combinations(list(known.items()), 2):
            for name, derived in (
                (f"({name_a})-({name_b})", a - b if b < a else None),
                (f"({name_b})-({name_a})", b - a if a < b else None),
                (f"({name_a})+({name_b})", a | b if not a & b else None),
            ):
                if derived and derived not in known.values() and len(known) < 400:
                    known[name] = derived
                    changed = True
    return {name: s for name, s in known.items() if s and world.users_of(s) < k}


def _naive_fold(buckets, k):
    # the tempting version: hide the small buckets, show the rest, and say how many were hidden
    shown = [b for b in buckets if b.users >= k]
    hidden = [b for b in buckets if b.users < k]
    return Dimension(shown, len(hidden), sum(b.interactions for b in hidden))


# --- the rule of k


def test_every_tier_gets_counts_by_day_intent_and_outcome_with_small_buckets_folded(
    client, make, clock, developer
):
    none = developer("none")
    week = _week(clock)
    world = _differencing_world(make, none["skill"], week)

    body = _stats(client, none["headers"], none["skill"])

    assert body["k"] == 10
    (shown,) = body["weeks"]
    assert shown["week"] == week.isoformat()
    assert (shown["interactions"], shown["users"]) == (26, 24)  # the child is not counted
    # Wednesday (1 user) is folded, and Tuesday with it: the rest never isolates Wednesday
    assert [b["key"] for b in shown["by_day"]["buckets"]] == [week.isoformat()]
    assert shown["by_day"]["suppressed"] == 2
    assert shown["by_day"]["other_interactions"] == 14
    assert shown["by_intent"]["buckets"] == [{"key": "OrderPizza", "interactions": 12, "users": 12}]
    assert shown["by_intent"]["suppressed"] == 2
    # one failure among 24 successes: the outcome dimension shows nothing apart
    assert shown["by_outcome"] == {"buckets": [], "suppressed": 2, "other_interactions": 26}
    assert isolatable(shown, world, 10) == {}


def test_a_bucket_of_exactly_k_users_is_shown_and_a_week_of_fewer_is_not(
    client, make, clock, developer
):
    trusted = developer("trusted")  # k = 5
    week = _week(clock)
    world = World(make, trusted["skill"], week)
    for n in range(5):
        world.add(f"u{n}", day=0, intent="OrderPizza", outcome="success")
    for n in range(4):
        world.add(
            f"earlier-{n}",
            day=3,
            intent="OrderPizza",
            outcome="success",
            week=week - timedelta(days=7),
        )

    body = _stats(client, trusted["headers"], trusted["skill"])

    assert body["k"] == 5
    assert [w["week"] for w in body["weeks"]] == [week.isoformat()]
    assert body["weeks"][0]["by_intent"]["buckets"] == [
        {"key": "OrderPizza", "interactions": 5, "users": 5}
    ]
    assert body["suppressed_weeks"] == 1  # the week before: 4 users, shown not at all


def test_child_profiles_never_count_towards_k(client, make, clock, developer):
    trusted = developer("trusted")
    world = World(make, trusted["skill"], _week(clock))
    for n in range(4):
        world.add(f"adult-{n}", day=0, intent="OrderPizza", outcome="success")
    for n in range(5):
        world.add(f"child-{n}", day=0, intent="OrderPizza", outcome="success", child=True)

    body = _stats(client, trusted["headers"], trusted["skill"])

    assert body["weeks"] == [] and body["suppressed_weeks"] == 1


def test_the_window_is_the_tiers_number_of_complete_weeks(client, clock, developer):
    week = _week(clock)
    for tier, weeks in (("none", 13), ("standard", 4), ("trusted", 12)):
        caller = developer(tier)
        body = _stats(client, caller["headers"], caller["skill"])
        assert body["until"] == (week + timedelta(days=7)).isoformat()
        assert body["since"] == (week - timedelta(weeks=weeks - 1)).isoformat()


def test_the_current_week_is_never_shown(client, make, clock, developer):
    trusted = developer("trusted")
    world = World(make, trusted["skill"], _week(clock))
    for n in range(6):
        world.add(
            f"now-{n}",
            day=0,
            intent="OrderPizza",
            outcome="success",
            week=clock.now.date() - timedelta(days=clock.now.weekday()),
        )

    body = _stats(client, trusted["headers"], trusted["skill"])

    assert body["weeks"] == [] and body["suppressed_weeks"] == 0


# --- differencing


def test_the_differencing_check_catches_the_naive_rule(client, make, clock, developer, monkeypatch):
    # the check below must be able to fail: without the second fold, total minus the shown
    # days is Wednesday, i.e. the one user who refilled a prescription
    none = developer("none")
    world = _differencing_world(make, none["skill"], _week(clock))
    monkeypatch.setattr(stats_service, "fold", _naive_fold)

    (shown,) = _stats(client, none["headers"], none["skill"])["weeks"]

    leaks = isolatable(shown, world, 10)
    victim = frozenset(t[0] for t in world.truth if t[1] == world.users["victim"])
    assert victim in leaks.values()
    assert {"day=other", "intent=other", "outcome=other"} <= set(leaks)


def test_totals_with_and_without_a_day_single_out_nobody(client, make, clock, developer):
    none = developer("none")
    week = _week(clock)
    world = _differencing_world(make, none["skill"], week)

    (shown,) = _stats(client, none["headers"], none["skill"])["weeks"]

    shown_days = sum(b["interactions"] for b in shown["by_day"]["buckets"])
    without_shown_days = shown["interactions"] - shown_days
    # what remains is Tuesday and Wednesday together: 12 users, not the one on Wednesday
    remainder = world.support("day", _at(week, 1).date().isoformat()) | world.support(
        "day", _at(week, 2).date().isoformat()
    )
    assert without_shown_days == len(remainder) == 14
    assert world.users_of(remainder) >= 10
    assert without_shown_days != 3  # the victim's own count never appears


def test_intent_totals_outcome_totals_and_day_totals_subtract_to_nothing(
    client, make, clock, developer
):
    none = developer("none")
    _differencing_world(make, none["skill"], _week(clock))

    (shown,) = _stats(client, none["headers"], none["skill"])["weeks"]

    sums = {
        dimension: sum(b["interactions"] for b in shown[f"by_{dimension}"]["buckets"])
        + shown[f"by_{dimension}"]["other_interactions"]
        for dimension in ("day", "intent", "outcome")
    }
    assert set(sums.values()) == {shown["interactions"]}  # every difference is 0


def test_two_calls_the_same_day_answer_the_same_across_new_interactions_and_deletions(
    client, make, clock, developer
):
    none = developer("none")
    week = _week(clock)
    world = _differencing_world(make, none["skill"], week)
    first = _stats(client, none["headers"], none["skill"])

    # a late interaction in the shown week, one today, a profile turned child
    world.add("victim", day=3, intent="RefillPrescription", outcome="failure")
    world.add("late-newcomer", day=4, intent="RefillPrescription", outcome="success")
    world.add("today", day=0, intent="OrderPizza", outcome="success", week=clock.now.date())
    make.rows(
        "UPDATE users SET is_child = true WHERE id = %s RETURNING id", (world.users["monday-0"],)
    )
    clock.advance(minutes=50)
    second = _stats(client, none["headers"], none["skill"])

    assert second == first


def test_a_shown_week_answers_the_same_in_later_weeks(client, make, clock, developer, bearer):
    none = developer("none")
    week = _week(clock)
    world = _differencing_world(make, none["skill"], week)
    before = _stats(client, none["headers"], none["skill"])

    world.add("victim", day=5, intent="RefillPrescription", outcome="failure")
    clock.advance(days=7)
    after = _stats(client, bearer(none["credentials"]), none["skill"])

    assert after["since"] == (date.fromisoformat(before["since"]) + timedelta(days=7)).isoformat()
    shown_then = {w["week"]: w for w in before["weeks"]}
    shown_now = {w["week"]: w for w in after["weeks"]}
    assert shown_now[week.isoformat()] == shown_then[week.isoformat()]


# --- the endpoint


def test_tier_none_reads_stats_but_no_transcripts(client, make, clock, developer):
    none = developer("none")
    _differencing_world(make, none["skill"], _week(clock))

    assert (
        client.get(f"/v1/skills/{none['skill']}/interactions", headers=none["headers"]).status_code
        == 403
    )
    assert _stats(client, none["headers"], none["skill"])["weeks"]


def test_stats_carry_no_text_and_no_pseudonym(client, make, clock, developer):
    trusted = developer("trusted")
    _differencing_world(make, trusted["skill"], _week(clock))
    listed = client.get(
        f"/v1/skills/{trusted['skill']}/interactions", headers=trusted["headers"]
    ).get_json()

    body = json.dumps(_stats(client, trusted["headers"], trusted["skill"]))

    assert listed["interactions"]  # the same developer does get pseudonyms and text there
    for needle in ("k1_", "refill prescription", "elm street", "[ADDRESS", "victim", "monday-"):
        assert needle not in body


def test_another_developers_skill_answers_like_a_missing_one(client, make, clock, developer):
    mine, theirs = developer("none"), developer("trusted")
    _differencing_world(make, theirs["skill"], _week(clock))
    missing = "00000000-0000-4000-8000-000000000000"

    foreign = client.get(f"/v1/skills/{theirs['skill']}/stats", headers=mine["headers"])
    absent = client.get(f"/v1/skills/{missing}/stats", headers=mine["headers"])

    assert foreign.status_code == absent.status_code == 404
    assert foreign.data == absent.data


@pytest.mark.parametrize(
    "query", ["since=2026-01-01", "intent=OrderPizza", "day=2026-11-02", "k=1"]
)
def test_any_filter_is_refused_and_nothing_recorded(client, make, developer, conn, query):
    none = developer("none")
    bind_principal(conn, SYSTEM)
    before = conn.execute("SELECT count(*) AS n FROM audit_events").fetchone()["n"]

    response = client.get(f"/v1/skills/{none['skill']}/stats?{query}", headers=none["headers"])

    assert response.status_code == 422
    assert list(response.get_json()["details"]) == [query.split("=")[0]]
    bind_principal(conn, SYSTEM)
    assert conn.execute("SELECT count(*) AS n FROM audit_events").fetchone()["n"] == before


def test_a_stats_request_is_audited(client, make, clock, developer, conn):
    none = developer("none")
    _differencing_world(make, none["skill"], _week(clock))
    bind_principal(conn, SYSTEM)
    start = conn.execute("SELECT coalesce(max(id), 0) AS id FROM audit_events").fetchone()["id"]

    _stats(client, none["headers"], none["skill"])

    bind_principal(conn, SYSTEM)
    (event,) = conn.execute("SELECT * FROM audit_events WHERE id > %s", (start,)).fetchall()
    assert event["action"] == "stats.read"
    assert (event["developer_id"], str(event["skill_id"])) == (none["id"], none["skill"])
    assert event["details"] == {"weeks": 1, "suppressed_weeks": 0}


def test_a_suspended_developer_gets_no_stats(client, make, developer):
    none = developer("none")
    make.suspend(none["id"])

    assert (
        client.get(f"/v1/skills/{none['skill']}/stats", headers=none["headers"]).status_code == 403
    )
