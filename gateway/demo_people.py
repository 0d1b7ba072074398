"""Who is on the demo platform: its developers and skills, and its users with their households,
personal data and consent histories, all drawn from a seed."""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from faker import Faker

PIZZA, REWARDS, RIDES, PHARMACY, BANK = (
    "Pizza Palace",
    "Pizza Palace Rewards",
    "Swift Rides",
    "CareWell Pharmacy",
    "Northwind Bank",
)
# the sensitive category a skill's interactions may carry, which a consent must cover (rule 6)
COVER = {PHARMACY: "health", BANK: "finance"}


@dataclass(frozen=True)
class SkillSpec:
    name: str
    short: str  # column title in the printed consent table
    category: str
    share: int  # percent of the conversations
    hours: tuple[int, ...]  # UTC hours its conversations start in (repeats weigh more)


@dataclass(frozen=True)
class DeveloperSpec:
    name: str
    tier: str
    contact: str
    skills: tuple[SkillSpec, ...]


_EVENINGS = (11, 12, 13, 17, 18, 18, 19, 19, 19, 20, 20, 21, 22)
DEVELOPERS = (
    DeveloperSpec(
        "Pizza Palace Inc.",
        "standard",
        "dev@pizzapalace.example",
        (
            SkillSpec(PIZZA, "Pizza", "food", 36, _EVENINGS),
            SkillSpec(REWARDS, "Rewards", "food", 8, tuple(range(10, 23))),
        ),
    ),
    DeveloperSpec(
        "Swift Rides",
        "none",
        "api@swiftrides.example",
        (SkillSpec(RIDES, "Rides", "travel", 22, (6, 7, 7, 8, 8, 12, 16, 17, 17, 18, 21, 23)),),
    ),
    DeveloperSpec(
        "CareWell Pharmacy",
        "trusted",
        "it@carewell.example",
        (SkillSpec(PHARMACY, "Pharmacy", "health", 16, tuple(range(8, 21))),),
    ),
    DeveloperSpec(
        "Northwind Bank",
        "standard",
        "voice@northwind-bank.example",
        (SkillSpec(BANK, "Bank", "finance", 18, tuple(range(7, 23))),),
    ),
)
SKILLS = tuple(skill for developer in DEVELOPERS for skill in developer.skills)


def developer_of(skill: str) -> DeveloperSpec:
    return next(d for d in DEVELOPERS if any(s.name == skill for s in d.skills))


@dataclass(frozen=True)
class ConsentEvent:
    skill: str
    action: str  # "grant" or "revoke"
    days_ago: float  # before midnight (UTC) of the day the data set was created
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    platform_user_id: str
    first: str
    last: str
    is_child: bool
    locale: str
    email: str | None
    phone: str  # ten digits, in the 555-01xx range kept for fiction
    building: str
    street: str
    unit: str
    city: str
    state: str
    zip: str
    born: date
    card: str  # a well-known test card number
    account: str
    device: str  # the household's speaker
    uses: tuple[str, ...]  # the skills this user talks to
    activity: float  # how often, relative to others
    consents: tuple[ConsentEvent, ...]

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def as_record(self) -> dict[str, Any]:
        """The user as the platform pushes it (POST /v1/ingest/users)."""
        record: dict[str, Any] = {
            "platform_user_id": self.platform_user_id,
            "is_child": self.is_child,
            "locale": self.locale,
            "display_name": self.name,
        }
        if self.email:
            record["email"] = self.email
        return record


_LOCALES = ("en-US", "es-US", "en-GB")
# documentation domains and the 555-01xx numbers set aside for fiction: nobody's real contact
_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
_AREA_CODES = ("212", "312", "415", "617", "206", "512", "303", "404", "305", "614", "919", "702")
# test numbers the card networks publish: realistic, and nobody's real card
TEST_CARDS = (
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "5555555555554444",
    "5105105105105100",
    "2223003122003222",
    "6011111111111117",
    "3566002020360505",
)
_SKILL_USE = ((RIDES, 0.45), (PHARMACY, 0.35), (BANK, 0.4))
_SERIAL = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_faker() -> Faker:
    # unweighted: six times faster, and every name in Faker's lists is a plausible one
    return Faker("en_US", use_weighting=False)


def make_people(seed: int, count: int, fake: Faker | None = None) -> list[Person]:
    """`count` users; each one depends on the seed and its index only, so the first 200 are the
    same at every size. About 6 in 100 are child profiles in an adult's household. `fake` is
    reseeded for every user."""
    fake = fake or new_faker()
    people: list[Person] = []
    for index in range(count):
        # not for secrets: a fixed seed makes the same data set on every machine
        rng = random.Random(f"{seed}:user:{index}")  # noqa: S311
        fake.seed_instance(f"{seed}:user:{index}")
        adults = [p for p in people[-40:] if not p.is_child]
        if adults and rng.random() < 0.06:
            people.append(_child(rng, fake, index, rng.choice(adults)))
        else:
            people.append(_adult(rng, fake, index))
    return people


def _platform_user_id(index: int) -> str:
    return f"demo-user-{index + 1:03d}"


def _adult(rng: random.Random, fake: Faker, index: int) -> Person:
    first, last = fake.first_name(), fake.last_name()
    local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())
    if rng.random() < 0.3:
        local += str(rng.randrange(1, 99))
    uses = [PIZZA] if rng.random() < 0.6 else []
    if uses and rng.random() < 0.35:
        uses.append(REWARDS)
    uses += [skill for skill, share in _SKILL_USE if rng.random() < share]
    uses = uses or [rng.choice([PIZZA, RIDES])]
    return Person(
        platform_user_id=_platform_user_id(index),
        first=first,
        last=last,
        is_child=False,
        locale=rng.choices(_LOCALES, (86, 8, 6))[0],
        email=f"{local}@{rng.choice(_MAIL_DOMAINS)}",
        phone=f"{rng.choice(_AREA_CODES)}55501{rng.randrange(100):02d}",
        building=fake.building_number(),
        street=fake.street_name(),
        unit=fake.secondary_address() if rng.random() < 0.3 else "",
        city=fake.city(),
        state=fake.state_abbr(include_territories=False),
        zip=fake.zipcode(),
        born=date(rng.randint(1942, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        card=rng.choice(TEST_CARDS),
        account=str(rng.randrange(10**9, 10**10)),
        device="G0" + "".join(rng.choices(_SERIAL, k=14)),
        uses=tuple(uses),
        activity=min(rng.paretovariate(1.6), 12.0),
        consents=tuple(e for skill in uses for e in _consent_events(rng, skill, child=False)),
    )


def _child(rng: random.Random, fake: Faker, index: int, parent: Person) -> Person:
    uses = (PIZZA, REWARDS) if rng.random() < 0.5 else (PIZZA,)
    return Person(
        platform_user_id=_platform_user_id(index),
        first=fake.first_name(),
        last=parent.last,
        is_child=True,
        locale=parent.locale,
        email=None,
        phone=parent.phone,
        building=parent.building,
        street=parent.street,
        unit=parent.unit,
        city=parent.city,
        state=parent.state,
        zip=parent.zip,
        born=date(rng.randint(2012, 2018), rng.randint(1, 12), rng.randint(1, 28)),
        card="",
        account="",
        device=parent.device,
        uses=uses,
        activity=min(rng.paretovariate(2.0), 4.0),
        # a parent's consent on the child's profile: it still never opens it (rule 6)
        consents=tuple(e for skill in uses for e in _consent_events(rng, skill, child=True)),
    )


def _consent_events(rng: random.Random, skill: str, *, child: bool) -> list[ConsentEvent]:
    """One user's consent history for one skill: never, granted, revoked, or revoked then
    granted again; a grant for a sensitive skill covers its category for some users only."""
    cover = COVER.get(skill)

    def categories() -> tuple[str, ...]:
        return (cover,) if cover and rng.random() < 0.6 else ()

    weights = (75, 25, 0, 0) if child else (50, 22, 14, 14)
    state = rng.choices(("granted", "never", "revoked", "again"), weights)[0]
    if state == "never":
        return []
    if state == "granted":
        # most long before the data set begins, some halfway: their earlier turns stay closed
        days = rng.uniform(92, 400) if rng.random() < 0.7 else rng.uniform(4, 80)
        return [ConsentEvent(skill, "grant", days, categories())]
    granted, revoked = rng.uniform(95, 300), rng.uniform(25, 85)
    events = [
        ConsentEvent(skill, "grant", granted, categories()),
        ConsentEvent(skill, "revoke", revoked),
    ]
    if state == "again":
        events.append(ConsentEvent(skill, "grant", rng.uniform(2, revoked - 10), categories()))
    return events


def consent_state(person: Person, skill: str) -> str:
    """The user's consent to `skill` now: yes (+ the category it covers), revoked, again
    (revoked, then granted again), or - (never)."""
    events = [e for e in person.consents if e.skill == skill]
    if not events:
        return "-"
    last = events[-1]
    if last.action == "revoke":
        return "revoked"
    state = "again" if len(events) > 1 else "yes"
    return "+".join([state, *last.categories])


def open_since(person: Person, skill: str, days: float, *, covered: bool | None = None) -> bool:
    """Whether the person's consent to `skill` has been open for more than `days` days and
    covers its category (`covered=True`), does not (False), or either (None)."""
    events = [e for e in person.consents if e.skill == skill]
    if not events or events[-1].action != "grant" or events[-1].days_ago <= days:
        return False
    return covered is None or covered == bool(events[-1].categories)


def _states(person: Person) -> list[str]:
    return [consent_state(person, skill) for skill in person.uses]


# Which consent states the printed table shows, one user each.
_EXAMPLES: list[tuple[str, Callable[[Person], bool]]] = [
    (
        "consented",
        lambda p: not p.is_child and set(_states(p)) <= {"yes", "-"} and "yes" in _states(p),
    ),
    ("revoked", lambda p: "revoked" in _states(p) and not p.is_child),
    ("revoked, then again", lambda p: any(s.startswith("again") for s in _states(p))),
    ("never consented", lambda p: not p.is_child and len(p.uses) > 1 and set(_states(p)) == {"-"}),
    ("child profile", lambda p: p.is_child and consent_state(p, PIZZA) == "yes"),
    ("health covered", lambda p: consent_state(p, PHARMACY).endswith("+health")),
    ("health not covered", lambda p: consent_state(p, PHARMACY) in ("yes", "again")),
    ("finance covered", lambda p: consent_state(p, BANK).endswith("+finance")),
    ("finance not covered", lambda p: consent_state(p, BANK) in ("yes", "again")),
]


def consent_examples(people: list[Person]) -> list[tuple[str, Person]]:
    """One user per consent state worth showing, the first by platform id, each user once."""
    chosen: list[tuple[str, Person]] = []
    taken: set[str] = set()
    for why, test in _EXAMPLES:
        person = next((p for p in people if p.platform_user_id not in taken and test(p)), None)
        if person is not None:
            taken.add(person.platform_user_id)
            chosen.append((why, person))
    return chosen
