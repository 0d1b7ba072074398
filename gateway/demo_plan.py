"""The demo data set's plan: who talks to which skill when, over 90 days, as the records the
platform pushes in; the conversations the printed examples point at come first."""

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from faker import Faker

from gateway.demo_people import (
    BANK,
    PHARMACY,
    PIZZA,
    RIDES,
    SKILLS,
    Person,
    make_people,
    new_faker,
    open_since,
)
from gateway.demo_talk import Talk, Turn, converse

DAYS = 90
BASE_USERS = 200  # at the default size; larger sizes get one user per 15 interactions


@dataclass(frozen=True)
class Session:
    skill: str
    person: Person
    session_id: str
    day: int  # days before the data set's day; the data set ends the day before it was made
    second: int  # of that day (UTC) the conversation starts at
    gaps: tuple[int, ...]  # seconds from each turn to the next
    spoken: bool  # said to a speaker (with audio), or typed in the app
    audio: bool  # the user keeps voice recordings
    device: bool  # the platform attached the speaker's serial
    turns: tuple[Turn, ...]


def interaction_id(number: int) -> str:
    """The platform's id of the plan's `number`th interaction."""
    return f"demo-{number + 1:06d}"


@dataclass(frozen=True)
class Plan:
    people: list[Person]
    sessions: list[Session]

    def records(self, anchor: datetime, skill_ids: dict[str, str]) -> list[dict[str, Any]]:
        """Every interaction as the platform pushes it (POST /v1/ingest/interactions), its
        times counted back from `anchor`, the midnight (UTC) of the day the data set was made."""
        out: list[dict[str, Any]] = []
        for session in self.sessions:
            moment = anchor - timedelta(days=session.day) + timedelta(seconds=session.second)
            for turn, gap in zip(session.turns, session.gaps, strict=True):
                platform_id = interaction_id(len(out))
                out.append(
                    {
                        "interaction_id": platform_id,
                        "skill_id": skill_ids[session.skill],
                        "user_id": session.person.platform_user_id,
                        "session_id": session.session_id,
                        "occurred_at": moment.isoformat(),
                        "utterance": turn.utterance,
                        "response": turn.response,
                        "intent": turn.intent,
                        "slots": [{"name": k, "value": v} for k, v in turn.slots.items()],
                        "outcome": turn.outcome,
                        "order_ref": turn.order_ref,
                        "sensitive_category": turn.sensitive,
                        "device_serial": session.person.device if session.device else "",
                        # an opaque reference: the gateway keeps it in the vault (rule 4)
                        "audio_ref": (
                            f"s3://voice-recordings/{moment:%Y/%m/%d}/{platform_id}.opus"
                            if session.spoken and session.audio
                            else None
                        ),
                    }
                )
                moment += timedelta(seconds=gap)
        return out

    def anchor_from(self, first_occurred_at: datetime) -> datetime:
        """The data set's midnight, from the time its first interaction was stored at: how a
        later run finds the clock the stored data set was made with."""
        first = self.sessions[0]
        return first_occurred_at - timedelta(seconds=first.second) + timedelta(days=first.day)


def user_count(size: int) -> int:
    return max(BASE_USERS, size // 15)


def build_plan(seed: int, size: int, *, showcase_only: bool = False) -> Plan:
    """The data set for `seed` and `size` interactions, the same on every machine (for one
    Faker version). With `showcase_only`, just the conversations the printed examples point at:
    they come first in the full plan too."""
    fake = new_faker()
    people = make_people(seed, user_count(size), fake)
    # not for secrets: a fixed seed makes the same data set everywhere
    rng = random.Random(f"{seed}:sessions")  # noqa: S311
    fake.seed_instance(f"{seed}:sessions")
    sessions = _showcase(rng, fake, people)
    if showcase_only:
        return Plan(people, sessions)
    count = sum(len(s.turns) for s in sessions)
    skills = [s.name for s in SKILLS]
    shares = [s.share for s in SKILLS]
    adults = [p for p in people if not p.is_child]
    pools = {name: [p for p in people if name in p.uses] or adults for name in skills}
    activity = {name: [p.activity for p in pool] for name, pool in pools.items()}
    while count < size:
        skill = rng.choices(skills, shares)[0]
        person = rng.choices(pools[skill], activity[skill])[0]
        day = 1 + int((DAYS - 1) * rng.random() ** 1.3)  # a growing platform: more lately
        session = _session(rng, fake, skill, person, day=day)
        room = size - count
        if len(session.turns) > room:  # the last conversation ends where the size says
            session = _cut(session, room)
        sessions.append(session)
        count += len(session.turns)
    return Plan(people, sessions)


def _cut(session: Session, turns: int) -> Session:
    return Session(
        session.skill,
        session.person,
        session.session_id,
        session.day,
        session.second,
        session.gaps[:turns],
        session.spoken,
        session.audio,
        session.device,
        session.turns[:turns],
    )


def _showcase(rng: random.Random, fake: Faker, people: list[Person]) -> list[Session]:
    """The conversations the printed examples point at, in this order:
    0 the pharmacy refill the trusted developer opens (health, covered by the consent),
    1 a pizza delivered to the wrong address (what the search example finds),
    2 a child profile ordering pizza (never readable, whatever the consent),
    3 a bank transfer under a consent that covers finance,
    4 a balance and branch hours under one that does not (only the hours are readable),
    5 a ride (its developer's tier reads no transcripts)."""
    adults = [p for p in people if not p.is_child]
    children = [p for p in people if p.is_child] or adults

    def first(test: Callable[[Person], bool], pool: list[Person]) -> Person:
        return next((p for p in pool if test(p)), pool[0])

    patient = first(lambda p: open_since(p, PHARMACY, 2, covered=True), adults)
    others = [p for p in adults if p is not patient]
    # a surname that is not also a common word, so that searching it shows redaction at work
    hungry = first(lambda p: open_since(p, PIZZA, 2) and len(p.last) > 5, others)
    child = first(lambda p: open_since(p, PIZZA, 3), children)
    saver = first(lambda p: open_since(p, BANK, 2, covered=True), others)
    uncovered = first(lambda p: open_since(p, BANK, 3, covered=False), others)
    rider = first(lambda p: open_since(p, RIDES, 2), others)
    return [
        _session(rng, fake, PHARMACY, patient, day=1, hour=10, kind="showcase", spoken=True),
        _session(rng, fake, PIZZA, hungry, day=1, hour=19, kind="wrong_address", spoken=True),
        _session(rng, fake, PIZZA, child, day=2, hour=17, kind="child"),
        _session(rng, fake, BANK, saver, day=1, hour=12, kind="transfer"),
        _session(rng, fake, BANK, uncovered, day=2, hour=9, kind="balance_and_hours"),
        _session(rng, fake, RIDES, rider, day=1, hour=8, kind="book"),
    ]


def _session(
    rng: random.Random,
    fake: Faker,
    skill: str,
    person: Person,
    *,
    day: int,
    hour: int | None = None,
    kind: str | None = None,
    spoken: bool | None = None,
) -> Session:
    spec = next(s for s in SKILLS if s.name == skill)
    hour = rng.choice(spec.hours) if hour is None else hour
    # children talk; adults mostly do, and sometimes type in the app instead
    said = (person.is_child or rng.random() < 0.75) if spoken is None else spoken
    turns = tuple(converse(Talk(rng, fake, person, said), skill, kind))
    return Session(
        skill=skill,
        person=person,
        session_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        day=day,
        second=hour * 3600 + rng.randrange(3600),
        gaps=tuple(rng.randint(6, 45) for _ in turns),
        spoken=said,
        audio=rng.random() < 0.9,
        device=said and rng.random() < 0.55,
        turns=turns,
    )
