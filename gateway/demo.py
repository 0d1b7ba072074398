"""The demo data set: developers, skills, users, consents and PII-laden interactions to explore."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.db import bind_principal
from gateway.models import SYSTEM, Conn
from gateway.repositories import consents as consents_repo
from gateway.repositories import developers as developers_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo
from gateway.services import audit
from gateway.services import ingest as ingest_service
from gateway.services import oauth_clients as oauth_clients_service

SEED = 20240601
MARKER_DEVELOPER = "Pizza Palace Inc."
CLIENT_NAME_PREFIX = "demo: "
_LOCK_KEY = "gateway.demo"

# developer -> (tier, contact, [(skill, category)])
DEVELOPERS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "Pizza Palace Inc.": (
        "standard",
        "dev@pizzapalace.example",
        [("Pizza Palace", "food"), ("Pizza Palace Rewards", "food")],
    ),
    "Swift Rides": ("none", "api@swiftrides.example", [("Swift Rides", "travel")]),
    "CareWell Pharmacy": ("trusted", "it@carewell.example", [("CareWell Pharmacy", "health")]),
}

_FIRST = [
    "Maria",
    "James",
    "Aisha",
    "Chen",
    "Olivia",
    "Lukas",
    "Priya",
    "Diego",
    "Fatima",
    "Noah",
    "Sofia",
    "Kenji",
    "Emma",
    "Omar",
    "Hannah",
    "Mateo",
    "Grace",
    "Ivan",
]
_LAST = [
    "Lopez",
    "Smith",
    "Khan",
    "Wei",
    "Brown",
    "Schneider",
    "Patel",
    "Garcia",
    "Haddad",
    "Johnson",
    "Rossi",
    "Tanaka",
    "Wilson",
    "Farouk",
    "Miller",
    "Silva",
    "Okafor",
    "Petrov",
]
_STREETS = [
    "Elm Street",
    "Maple Avenue",
    "Oak Lane",
    "Cedar Road",
    "Harbor Drive",
    "Sunset Boulevard",
    "Pine Court",
    "Willow Way",
]
_CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Georgetown"]
_CARDS = ["4111 1111 1111 1111", "5555 5555 5555 4444", "4012 8888 8888 1881", "3782 822463 10005"]
_MAIL_DOMAINS = ["gmail.com", "outlook.com", "mail.example"]
_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_SIZES = ["small", "medium", "large", "family size"]
_TOPPINGS = ["pepperoni", "margherita", "four cheese", "veggie", "hawaiian", "bbq chicken"]
_MEDICINES = ["lisinopril", "metformin", "atorvastatin", "levothyroxine", "amoxicillin"]
_OUTCOMES = ["success"] * 7 + ["failure", "abandoned", "cancelled"]


@dataclass
class DemoSkill:
    id: str
    name: str


@dataclass
class DemoDeveloper:
    name: str
    tier: str
    client_id: str
    client_secret: str
    skills: list[DemoSkill] = field(default_factory=list)


@dataclass
class DemoCredentials:
    """What `skillgw demo` prints and writes: fresh secrets for every demo client."""

    developers: list[DemoDeveloper]
    admin: tuple[str, str]
    platform: tuple[str, str]
    created: bool  # False when the data set was already there and only secrets were issued

    def as_json(self) -> dict[str, Any]:
        return {
            "developers": [
                {
                    "name": d.name,
                    "tier": d.tier,
                    "client_id": d.client_id,
                    "client_secret": d.client_secret,
                    "skills": [{"id": s.id, "name": s.name} for s in d.skills],
                }
                for d in self.developers
            ],
            "admin": {"client_id": self.admin[0], "client_secret": self.admin[1]},
            "platform": {"client_id": self.platform[0], "client_secret": self.platform[1]},
        }


def load_demo(conn: Conn, *, seed: int = SEED, now: datetime | None = None) -> DemoCredentials:
    """Load the demo data set once, then issue new secrets for its clients; return them.

    `conn` is an owner connection (dict rows, autocommit). A data set already loaded (found by
    its first developer's name) is reused, not duplicated; its earlier demo clients are revoked
    because their secrets, stored only hashed, cannot be shown again.
    """
    with conn.transaction():
        bind_principal(conn, SYSTEM)
        # two demos starting on one database at once must not both load the data set
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        existing = developers_repo.find_developer_id_by_name(conn, MARKER_DEVELOPER)
        if existing is None:
            # not for secrets: a fixed seed makes the same demo data on every machine
            rng = random.Random(seed)  # noqa: S311
            developer_ids = _load(conn, rng, now or datetime.now(UTC))
        else:
            developer_ids = {
                name: developers_repo.find_developer_id_by_name(conn, name) for name in DEVELOPERS
            }
            _revoke_demo_clients(conn)
        return _issue_clients(conn, developer_ids, created=existing is None)


def _revoke_demo_clients(conn: Conn) -> None:
    conn.execute(
        """
        UPDATE oauth_clients SET revoked_at = now()
        WHERE name LIKE %(prefix)s AND revoked_at IS NULL
        """,
        {"prefix": CLIENT_NAME_PREFIX + "%"},
    )


def _issue_clients(
    conn: Conn, developer_ids: dict[str, int | None], *, created: bool
) -> DemoCredentials:
    developers = []
    for name, developer_id in developer_ids.items():
        if developer_id is None:
            continue
        issued = oauth_clients_service.register_client(
            conn,
            actor=audit.SYSTEM,
            kind="developer",
            developer_id=developer_id,
            name=CLIENT_NAME_PREFIX + name,
        )
        developer = developers_repo.get_developer(conn, developer_id)
        skills = sorted(
            (
                DemoSkill(str(row["id"]), row["name"])
                for row in skills_repo.list_skills(conn, developer_id=developer_id)
            ),
            key=lambda skill: skill.name,
        )
        developers.append(
            DemoDeveloper(name, developer.tier.name, issued.client_id, issued.client_secret, skills)
        )
    admin = oauth_clients_service.register_client(
        conn, actor=audit.SYSTEM, kind="admin", name=CLIENT_NAME_PREFIX + "admin"
    )
    platform = oauth_clients_service.register_client(
        conn, actor=audit.SYSTEM, kind="platform", name=CLIENT_NAME_PREFIX + "platform"
    )
    return DemoCredentials(
        developers,
        (admin.client_id, admin.client_secret),
        (platform.client_id, platform.client_secret),
        created,
    )


def _load(conn: Conn, rng: random.Random, now: datetime) -> dict[str, int | None]:
    developer_ids: dict[str, int | None] = {}
    skills: dict[str, str] = {}
    for name, (tier, contact, skill_specs) in DEVELOPERS.items():
        developer_id = developers_repo.insert_developer(conn, name=name, contact_email=contact)
        developers_repo.insert_tier_grant(
            conn,
            developer_id=developer_id,
            tier=tier,
            reason="demo data set",
            granted_by="skillgw demo",
        )
        developer_ids[name] = developer_id
        for skill_name, category in skill_specs:
            skills[skill_name] = skills_repo.insert_skill(
                conn, developer_id=developer_id, name=skill_name, category=category
            )

    people = [_person(rng, i) for i in range(20)]
    users = [
        users_repo.upsert_user(conn, platform_user_id=f"demo-user-{i:02d}", is_child=(i == 7))
        for i in range(len(people))
    ]
    _consents(conn, rng, now, users, skills)

    serials = [f"GVA-{rng.randrange(16**6):06X}-{rng.randrange(100, 999)}" for _ in range(4)]
    weights = {
        "Pizza Palace": 150,
        "Pizza Palace Rewards": 50,
        "Swift Rides": 70,
        "CareWell Pharmacy": 30,
    }
    plan = [name for name, n in weights.items() for _ in range(n)]
    records = []
    platform_ids = [f"demo-user-{i:02d}" for i in range(len(people))]
    for number, skill_name in enumerate(plan):
        index = rng.randrange(len(users))
        person = people[index]
        occurred_at = now - timedelta(seconds=rng.randrange(60 * 24 * 3600))
        values = _INTERACTION_MAKERS[skill_name](rng, person)
        interaction_id = f"demo-{number:05d}"
        records.append(
            {
                "interaction_id": interaction_id,
                "skill_id": skills[skill_name],
                "user_id": platform_ids[index],
                "session_id": f"sess-{rng.randrange(16**8):08x}",
                "occurred_at": occurred_at,
                "device_serial": rng.choice(serials) if rng.random() < 0.4 else "",
                "audio_ref": (
                    f"s3://voice-audio-vault/{occurred_at:%Y/%m/%d}/{interaction_id}.opus"
                    if rng.random() < 0.7
                    else None
                ),
                "response": "",
                "intent": "",
                "outcome": "success",
                "order_ref": "",
                "sensitive_category": None,
                **values,
                "slots": [{"name": k, "value": v} for k, v in values.get("slots", {}).items()],
            }
        )
    # through the platform's own ingest path: the same validation and write-time redaction
    for start in range(0, len(records), ingest_service.MAX_BATCH):
        ingest_service.ingest_interactions(
            conn, records[start : start + ingest_service.MAX_BATCH], now=now
        )
    return developer_ids


def _consents(
    conn: Conn, rng: random.Random, now: datetime, users: list[str], skills: dict[str, str]
) -> None:
    """Mixed consent states: granted, never, revoked, and revoked then granted again."""
    long_ago = now - timedelta(days=75)
    for index, user_id in enumerate(users):
        for skill_name, skill_id in skills.items():
            state = (index + len(skill_name)) % 5
            if skill_name == "CareWell Pharmacy":
                # health interactions need a consent that names the category (rule 6)
                if index % 3 == 0:
                    consents_repo.insert_consent(
                        conn,
                        user_id=user_id,
                        skill_id=skill_id,
                        categories=["health"],
                        granted_at=long_ago,
                    )
                elif index % 3 == 1:
                    consents_repo.insert_consent(
                        conn, user_id=user_id, skill_id=skill_id, granted_at=long_ago
                    )
                continue
            if state == 0:
                continue  # never consented
            granted_at = long_ago + timedelta(days=rng.randrange(10))
            consents_repo.insert_consent(
                conn, user_id=user_id, skill_id=skill_id, granted_at=granted_at
            )
            if state == 3:
                consents_repo.update_revoked(
                    conn,
                    user_id=user_id,
                    skill_id=skill_id,
                    revoked_at=now - timedelta(days=rng.randrange(5, 40)),
                )
            elif state == 4:
                revoked_at = now - timedelta(days=rng.randrange(25, 45))
                consents_repo.update_revoked(
                    conn, user_id=user_id, skill_id=skill_id, revoked_at=revoked_at
                )
                consents_repo.insert_consent(
                    conn,
                    user_id=user_id,
                    skill_id=skill_id,
                    granted_at=revoked_at + timedelta(days=rng.randrange(3, 15)),
                )


def _person(rng: random.Random, index: int) -> dict[str, str]:
    first, last = _FIRST[index % len(_FIRST)], rng.choice(_LAST)
    digits = "555" + "".join(str(rng.randrange(10)) for _ in range(7))
    return {
        "first": first,
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}@{rng.choice(_MAIL_DOMAINS)}",
        "phone": f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
        "spoken_phone": " ".join(_DIGITS[int(d)] for d in digits),
        "address": f"{rng.randrange(2, 980)} {rng.choice(_STREETS)}, {rng.choice(_CITIES)}",
        "card": rng.choice(_CARDS),
    }


def _spoken_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"


def _pizza(rng: random.Random, person: dict[str, str]) -> dict[str, Any]:
    size, topping = rng.choice(_SIZES), rng.choice(_TOPPINGS)
    order_ref = f"PP-{rng.randrange(10000, 99999)}"
    outcome = rng.choice(_OUTCOMES)
    variants = [
        (
            f"order a {size} {topping} pizza to {person['address']}",
            f"Your {size} {topping} pizza is on its way to {person['address']}. Order {order_ref}.",
        ),
        (
            f"I'd like a {size} {topping}, my number is {person['spoken_phone']}",
            f"Got it, a {size} {topping}. We'll text {person['phone']} when it leaves the oven.",
        ),
        (
            f"pay with my card {person['card']} for a {size} {topping}",
            f"Charged the card ending {person['card'][-4:]}. Order {order_ref} confirmed.",
        ),
        (
            f"this is {person['name']}, send the receipt to {_spoken_email(person['email'])}",
            f"Thanks {person['first']}, the receipt for {order_ref} goes to {person['email']}.",
        ),
        (
            f"where is my pizza, order {order_ref}",
            f"Order {order_ref} left the store and should arrive in about 15 minutes.",
        ),
    ]
    utterance, response = rng.choice(variants)
    intent = "TrackOrder" if utterance.startswith("where") else "OrderPizza"
    slots = {"size": size, "topping": topping}
    if "to " in utterance and intent == "OrderPizza" and person["address"] in utterance:
        slots["address"] = person["address"]
    if outcome != "success":
        response = "Sorry, I couldn't complete that order. Please try again."
    return {
        "utterance": utterance,
        "response": response,
        "intent": intent,
        "slots": slots,
        "outcome": outcome,
        "order_ref": order_ref,
    }


def _rewards(rng: random.Random, person: dict[str, str]) -> dict[str, Any]:
    points = rng.randrange(20, 2000)
    variants = [
        (
            "how many reward points do I have",
            f"You have {points} points, {person['first']}.",
            "CheckPoints",
            {},
        ),
        (
            f"link my rewards account to {person['email']}",
            f"Done. Rewards updates will go to {person['email']}.",
            "LinkAccount",
            {"email": person["email"]},
        ),
        (
            "redeem a free garlic bread",
            "Your free garlic bread is added to the next order.",
            "RedeemReward",
            {"reward": "garlic bread"},
        ),
    ]
    utterance, response, intent, slots = rng.choice(variants)
    return {
        "utterance": utterance,
        "response": response,
        "intent": intent,
        "slots": slots,
        "outcome": rng.choice(_OUTCOMES),
    }


def _ride(rng: random.Random, person: dict[str, str]) -> dict[str, Any]:
    destination = f"{rng.randrange(2, 980)} {rng.choice(_STREETS)}"
    ride_ref = f"SR-{rng.randrange(100000, 999999)}"
    variants = [
        (
            f"book a ride from {person['address']} to {destination}",
            f"A driver is on the way to {person['address']}. Ride {ride_ref}.",
            "BookRide",
        ),
        (
            f"get me a taxi to the airport, call me on {person['spoken_phone']} when it's here",
            f"Booked. The driver will call {person['phone']}.",
            "BookRide",
        ),
        ("cancel my ride", f"Ride {ride_ref} is cancelled.", "CancelRide"),
    ]
    utterance, response, intent = rng.choice(variants)
    return {
        "utterance": utterance,
        "response": response,
        "intent": intent,
        "slots": {"destination": destination},
        "outcome": rng.choice(_OUTCOMES),
        "order_ref": ride_ref,
    }


def _pharmacy(rng: random.Random, person: dict[str, str]) -> dict[str, Any]:
    medicine = rng.choice(_MEDICINES)
    rx = f"RX-{rng.randrange(1000000, 9999999)}"
    variants = [
        (
            f"refill my {medicine} prescription for {person['name']}",
            f"Your {medicine} refill {rx} will be ready tomorrow at 10 am.",
            "RefillPrescription",
        ),
        (
            f"is my {medicine} ready, my date of birth is March {rng.randrange(1, 28)} 1961",
            f"Yes, {rx} is ready for pickup.",
            "PrescriptionStatus",
        ),
    ]
    utterance, response, intent = rng.choice(variants)
    return {
        "utterance": utterance,
        "response": response,
        "intent": intent,
        "slots": {"medication": medicine},
        "outcome": rng.choice(_OUTCOMES),
        "order_ref": rx,
        "sensitive_category": "health",
    }


_INTERACTION_MAKERS = {
    "Pizza Palace": _pizza,
    "Pizza Palace Rewards": _rewards,
    "Swift Rides": _ride,
    "CareWell Pharmacy": _pharmacy,
}
