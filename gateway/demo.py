"""The demo data set: a seeded, realistic platform loaded through the same ingest path as real data.

Four developers on every tier, about 200 users in every consent state (child profiles among them),
and a few thousand multi-turn conversations over 90 days whose text is full of the personal data
that redaction has to catch, spoken and written (`demo_people`, `demo_talk`, `demo_plan`).
`load_demo` creates what has no API yet (developers, tiers, skills, clients, consents) and pushes
users and interactions through `services/ingest`; the bulk of the interactions can follow in a
background process (`start_loader`), so that the server answers within seconds.
"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.pool import Pool
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gateway.binding import derive_binding_key
from gateway.db import bind_principal, use_binding_key
from gateway.demo_people import (
    DEVELOPERS,
    PIZZA,
    SKILLS,
    Person,
    consent_examples,
    consent_state,
    developer_of,
)
from gateway.demo_plan import Plan, build_plan, interaction_id
from gateway.models import SYSTEM, Conn, Developer, Keyring
from gateway.repositories import developers as developers_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo
from gateway.services import audit, redaction
from gateway.services import consents as consents_service
from gateway.services import ingest as ingest_service
from gateway.services import oauth_clients as oauth_clients_service
from schemas.ingest import IngestInteractionsSchema, IngestUsersSchema

SEED = 20240601
DEFAULT_SIZE = 3000  # interactions
MIN_SIZE = 50  # room for the conversations the printed examples point at
MARKER_DEVELOPER = DEVELOPERS[0].name
CLIENT_NAME_PREFIX = "demo: "
_LOCK_KEY = "gateway.demo"
_LOADER_LOCK_KEY = "gateway.demo.loader"


# --- what load_demo returns: the credentials, and what the banner shows a newcomer


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
    tier_description: str = ""


@dataclass(frozen=True)
class ConsentExample:
    """One demo user's consents, for the printed table: skill name -> state."""

    platform_user_id: str
    name: str  # the user's own display name: the gateway never shows it to developers
    why: str  # which consent state this row illustrates
    states: dict[str, str]


@dataclass(frozen=True)
class Conversation:
    """A conversation the trusted developer can open, and what to look for in it."""

    developer: str
    skill_id: str
    session: str  # the developer's pseudonym for the platform's session id
    platform_user_id: str
    name: str
    turns: int
    said: str


@dataclass(frozen=True)
class SearchExample:
    developer: str
    skill_id: str
    query: str
    finds: str


@dataclass(frozen=True)
class DemoGuide:
    skill_titles: dict[str, str]  # skill name -> its column title in the consent table
    users: int
    children: int
    interactions: int
    consents: list[ConsentExample]
    conversation: Conversation
    searches: list[SearchExample]


@dataclass
class DemoCredentials:
    """What `skillgw demo` prints and writes: fresh secrets for every demo client, and a guide."""

    developers: list[DemoDeveloper]
    admin: tuple[str, str]
    platform: tuple[str, str]
    created: bool  # False when the data set was already there and only secrets were issued
    guide: DemoGuide
    pending: int = 0  # interactions not stored yet: `load_rest` or `start_loader` loads them

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


# --- loading


class OlderDemoData(Exception):
    """The database holds a demo data set that an earlier version of the demo made."""


def load_demo(
    conn: Conn,
    *,
    keyring: Keyring,
    seed: int = SEED,
    size: int = DEFAULT_SIZE,
    now: datetime | None = None,
    defer: bool = False,
) -> DemoCredentials:
    """Load the demo data set once, then issue new secrets for its clients; return them.

    `conn` is an owner connection (dict rows, autocommit) carrying the binding key
    (gateway.db.use_binding_key): the loader writes as the proven SYSTEM caller, the only one
    the database lets record consents in the past. `keyring` is the server's, so that
    the printed session pseudonym is the one the server shows; `now` sets the data set's last
    day (the day before it; default today). A data set already loaded (found by its first
    developer's name) is reused, not duplicated; its earlier demo clients are revoked because
    their secrets, stored only hashed, cannot be shown again.
    With `defer`, only the conversations the printed examples point at are loaded now and
    `pending` counts the rest, for `load_rest` (or the background `start_loader`).
    Raises `OlderDemoData` when the database holds a data set from an earlier version.
    """
    if size < MIN_SIZE:
        raise ValueError(f"the demo data set needs at least {MIN_SIZE} interactions")
    plan = build_plan(seed, size, showcase_only=True)
    with conn.transaction():
        bind_principal(conn, SYSTEM)
        # two demos starting on one database at once must not both load the data set
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        created = developers_repo.find_developer_id_by_name(conn, MARKER_DEVELOPER) is None
        if created:
            anchor = _midnight(now or datetime.now(UTC))
            developer_ids, skill_ids = _create_developers(conn)
            user_ids = _ingest_users(conn, plan.people)
            _grant_consents(conn, plan.people, user_ids, skill_ids, anchor)
            _ingest_batch(conn, plan.records(anchor, skill_ids))
        else:
            if not interactions_repo.find_ledger(conn, [interaction_id(0)]):
                raise OlderDemoData(
                    "This database holds a demo data set from an earlier version of the demo. "
                    "Start from an empty one: remove the data folder "
                    "(GATEWAY_DATA_DIR/postgres) or point GATEWAY_DATABASE_URL at a new database."
                )
            developer_ids, skill_ids = _find_developers(conn)
            user_ids = users_repo.find_user_ids(conn, [p.platform_user_id for p in plan.people])
            _revoke_demo_clients(conn)
        conversation = _open_conversation(conn, plan, developer_ids, skill_ids, user_ids, keyring)
        developers, admin, platform = _issue_clients(conn, developer_ids)
    pending = len(_missing(conn, [interaction_id(n) for n in range(size)]))
    if pending and not defer:
        load_rest(conn, seed=seed, size=size)
        pending = 0
    guide = _guide(plan, size, conversation, skill_ids)
    return DemoCredentials(developers, admin, platform, created, guide, pending)


def load_rest(
    conn: Conn,
    *,
    seed: int = SEED,
    size: int = DEFAULT_SIZE,
    pool: Pool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Store the data set's interactions that are not stored yet, in ingest batches that each
    commit on their own; return how many were stored. Idempotent, so an interrupted load
    resumes where it stopped.

    `pool` redacts in worker processes (the ingest service takes the forms made there);
    `progress(done, total)` is called after each batch. Returns 0 at once when another loader
    holds the lock or the data set was never created (`load_demo` creates it).
    """
    locked = conn.execute(
        "SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (_LOADER_LOCK_KEY,)
    ).fetchone()
    if locked is None or not locked["ok"]:
        return 0
    try:
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            if developers_repo.find_developer_id_by_name(conn, MARKER_DEVELOPER) is None:
                return 0
            _, skill_ids = _find_developers(conn)
            first = interactions_repo.find_ledger(conn, [interaction_id(0)])
        plan = build_plan(seed, size)
        anchor = plan.anchor_from(first[interaction_id(0)]["occurred_at"])
        records = plan.records(anchor, skill_ids)
        missing = _missing(conn, [record["interaction_id"] for record in records])
        todo = [record for record in records if record["interaction_id"] in missing]
        with conn.transaction():
            bind_principal(conn, SYSTEM)
            # users a larger --size added since the data set was created (without consents)
            known = users_repo.find_user_ids(conn, [p.platform_user_id for p in plan.people])
            _ingest_users(conn, [p for p in plan.people if p.platform_user_id not in known])
        done = 0
        for start in range(0, len(todo), ingest_service.MAX_BATCH):
            batch = todo[start : start + ingest_service.MAX_BATCH]
            with conn.transaction():
                bind_principal(conn, SYSTEM)
                _ingest_batch(conn, batch, pool=pool)
            done += len(batch)
            if progress is not None:
                progress(done, len(todo))
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (_LOADER_LOCK_KEY,))


def start_loader(
    database_url: str, *, secret_key: str, seed: int = SEED, size: int = DEFAULT_SIZE
) -> "subprocess.Popen[bytes]":
    """Start `run_loader` in its own process, reporting on this process's stderr; the Popen."""
    command = [
        sys.executable,
        "-P",  # not the working directory first on sys.path: the loader runs this very code
        "-c",
        "from gateway.demo import run_loader; run_loader()",
        f"--seed={seed}",
        f"--size={size}",
        f"--parent={os.getpid()}",
    ]
    # the URL and the secret travel in the environment: a command line is visible to every
    # local user; the secret proves the loader's SYSTEM writes to the database
    env = {**os.environ, "GATEWAY_DATABASE_URL": database_url, "GATEWAY_SECRET_KEY": secret_key}
    return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)  # noqa: S603


def stop_loader(process: "subprocess.Popen[bytes]") -> None:
    """Stop a loader that is still running; its batch in flight rolls back, nothing half-written."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Orphaned(Exception):
    """The process that started the loader is gone."""


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the loader stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_loader(argv: Sequence[str] | None = None) -> None:
    """The background loader's process: `load_rest` with one redaction worker per core."""
    parser = argparse.ArgumentParser(prog="gateway.demo loader")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args(argv)
    # the server comes first: it answers while the data set fills in
    os.nice(10)
    started = time.monotonic()
    processes = max(1, min(os.cpu_count() or 1, 4))
    reported = [0]

    def progress(done: int, total: int) -> None:
        if os.getppid() != args.parent:
            raise _Orphaned()
        if total >= 10_000 and done < total and done - reported[0] >= total // 10:
            reported[0] = done
            _stderr_line(f"Demo data: {done:,} of {total:,} interactions loaded in the background")

    done = 0
    # workers first, before any connection exists (they are forked)
    with multiprocessing.get_context("fork").Pool(processes, initializer=_ignore_sigint) as pool:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            with psycopg.connect(
                os.environ["GATEWAY_DATABASE_URL"], autocommit=True, row_factory=dict_row
            ) as conn:
                use_binding_key(conn, derive_binding_key(os.environ["GATEWAY_SECRET_KEY"]))
                done = load_rest(conn, seed=args.seed, size=args.size, pool=pool, progress=progress)
        except (KeyboardInterrupt, SystemExit, _Orphaned, psycopg.OperationalError):
            _stderr_line(
                "Demo data: background loading stopped; the next `skillgw demo` loads the rest."
            )
            return
    if done:
        elapsed = time.monotonic() - started
        _stderr_line(
            f"Demo data: all {args.size:,} interactions loaded "
            f"({done:,} in the background, {elapsed:.1f} s)."
        )


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _midnight(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _missing(conn: Conn, platform_ids: list[str]) -> set[str]:
    """Which of these platform interaction ids the ingest ledger has not seen."""
    missing: set[str] = set()
    step = 20_000
    with conn.transaction():
        bind_principal(conn, SYSTEM)
        for start in range(0, len(platform_ids), step):
            chunk = platform_ids[start : start + step]
            known = interactions_repo.find_ledger(conn, chunk)
            missing.update(pid for pid in chunk if pid not in known)
    return missing


_USERS_IN = IngestUsersSchema()
_INTERACTIONS_IN = IngestInteractionsSchema()


def _ingest_users(conn: Conn, people: list[Person]) -> dict[str, str]:
    """Push users in as the platform would (same schema, same service); platform id -> id."""
    ids: dict[str, str] = {}
    for start in range(0, len(people), 1000):
        body = {"users": [person.as_record() for person in people[start : start + 1000]]}
        for row in ingest_service.ingest_users(conn, _USERS_IN.load(body)["users"]):
            ids[row["platform_user_id"]] = str(row["id"])
    return ids


def _forms_for(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored redacted forms of one loaded record (run in a worker process)."""
    raw = {
        "id": uuid.UUID(int=0),  # the ingest service sets the real id
        "occurred_at": record["occurred_at"],
        "skill_id": str(record["skill_id"]),
        "utterance": record["utterance"],
        "response": record["response"],
        "slots": {slot["name"]: slot["value"] for slot in record["slots"]},
        "order_ref": record["order_ref"],
    }
    return redaction.redact_for_storage(raw)


def _ingest_batch(conn: Conn, records: list[dict[str, Any]], *, pool: Pool | None = None) -> None:
    """One ingest batch, validated by the platform API's schema, stored by the ingest service."""
    loaded = _INTERACTIONS_IN.load({"interactions": records})["interactions"]
    forms = pool.map(_forms_for, loaded, chunksize=25) if pool is not None else None
    ingest_service.ingest_interactions(conn, loaded, now=datetime.now(UTC), forms=forms)


def _create_developers(conn: Conn) -> tuple[dict[str, int], dict[str, str]]:
    developer_ids: dict[str, int] = {}
    skill_ids: dict[str, str] = {}
    for spec in DEVELOPERS:
        developer_id = developers_repo.insert_developer(
            conn, name=spec.name, contact_email=spec.contact
        )
        developers_repo.insert_tier_grant(
            conn,
            developer_id=developer_id,
            tier=spec.tier,
            reason="demo data set",
            granted_by="skillgw demo",
        )
        developer_ids[spec.name] = developer_id
        for skill in spec.skills:
            skill_ids[skill.name] = skills_repo.insert_skill(
                conn, developer_id=developer_id, name=skill.name, category=skill.category
            )
    return developer_ids, skill_ids


def _find_developers(conn: Conn) -> tuple[dict[str, int], dict[str, str]]:
    developer_ids: dict[str, int] = {}
    skill_ids: dict[str, str] = {}
    for spec in DEVELOPERS:
        developer_id = developers_repo.find_developer_id_by_name(conn, spec.name)
        if developer_id is None:
            continue
        developer_ids[spec.name] = developer_id
        for row in skills_repo.list_skills(conn, developer_id=developer_id):
            skill_ids[row["name"]] = str(row["id"])
    return developer_ids, skill_ids


def _grant_consents(
    conn: Conn,
    people: list[Person],
    user_ids: dict[str, str],
    skill_ids: dict[str, str],
    anchor: datetime,
) -> None:
    """Each user's consent history, as the user's own grants and revocations made it."""
    for person in people:
        user_id = user_ids[person.platform_user_id]
        for event in person.consents:
            at = anchor - timedelta(days=event.days_ago)
            if event.action == "grant":
                consents_service.grant_consent(
                    conn,
                    actor=audit.SYSTEM,
                    user_id=user_id,
                    skill_id=skill_ids[event.skill],
                    categories=list(event.categories),
                    granted_at=at,
                )
            else:
                consents_service.revoke_consent(
                    conn,
                    actor=audit.SYSTEM,
                    user_id=user_id,
                    skill_id=skill_ids[event.skill],
                    revoked_at=at,
                )


def _revoke_demo_clients(conn: Conn) -> None:
    conn.execute(
        """
        UPDATE oauth_clients SET revoked_at = now()
        WHERE name LIKE %(prefix)s AND revoked_at IS NULL
        """,
        {"prefix": CLIENT_NAME_PREFIX + "%"},
    )


def _issue_clients(
    conn: Conn, developer_ids: dict[str, int]
) -> tuple[list[DemoDeveloper], tuple[str, str], tuple[str, str]]:
    developers = []
    for name, developer_id in developer_ids.items():
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
            DemoDeveloper(
                name,
                developer.tier.name,
                issued.client_id,
                issued.client_secret,
                skills,
                developer.tier.description,
            )
        )
    admin = oauth_clients_service.register_client(
        conn, actor=audit.SYSTEM, kind="admin", name=CLIENT_NAME_PREFIX + "admin"
    )
    platform = oauth_clients_service.register_client(
        conn, actor=audit.SYSTEM, kind="platform", name=CLIENT_NAME_PREFIX + "platform"
    )
    return (
        developers,
        (admin.client_id, admin.client_secret),
        (platform.client_id, platform.client_secret),
    )


def _open_conversation(
    conn: Conn,
    plan: Plan,
    developer_ids: dict[str, int],
    skill_ids: dict[str, str],
    user_ids: dict[str, str],
    keyring: Keyring,
) -> Conversation:
    """The printed conversation: its pseudonym, remembered as shown to the trusted developer
    (it is printed for them), so that GET /v1/skills/{skill}/sessions/{pseudonym} resolves."""
    session = plan.sessions[0]
    spec = developer_of(session.skill)
    developer: Developer = developers_repo.get_developer(conn, developer_ids[spec.name])
    skill_id = skill_ids[session.skill]
    redaction.remember_pseudonyms(
        conn,
        [{"user_id": user_ids[session.person.platform_user_id], "session_id": session.session_id}],
        developer=developer,
        skill_id=skill_id,
        keyring=keyring,
    )
    return Conversation(
        developer=spec.name,
        skill_id=skill_id,
        session=redaction.session_pseudonym(developer, session.session_id, keyring),
        platform_user_id=session.person.platform_user_id,
        name=session.person.name,
        turns=len(session.turns),
        said="a prescription refill: name, date of birth, address and phone number, said aloud",
    )


def _guide(
    plan: Plan, size: int, conversation: Conversation, skill_ids: dict[str, str]
) -> DemoGuide:
    searcher = developer_of(PIZZA)
    complaint = plan.sessions[1].person
    return DemoGuide(
        skill_titles={skill.name: skill.short for skill in SKILLS},
        users=len(plan.people),
        children=sum(p.is_child for p in plan.people),
        interactions=size,
        consents=[
            ConsentExample(
                person.platform_user_id,
                person.name,
                why,
                {skill.name: consent_state(person, skill.name) for skill in SKILLS},
            )
            for why, person in consent_examples(plan.people)
        ],
        conversation=conversation,
        searches=[
            SearchExample(
                searcher.name,
                skill_ids[PIZZA],
                "wrong address",
                "orders that went to the wrong address (the addresses themselves are redacted)",
            ),
            SearchExample(
                searcher.name,
                skill_ids[PIZZA],
                complaint.last,
                f"nothing, though {complaint.name} ({complaint.platform_user_id}) said it: "
                "search runs over the redacted text",
            ),
        ],
    )
