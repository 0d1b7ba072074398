"""The platform pushes users and interactions in: idempotent, all-or-nothing batches whose
texts are redacted once, here, under every policy (rule 5), whose audio references go to the
vault only (rule 4), and whose child flags are never lost (rule 6)."""

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from gateway.exceptions import InvalidInput
from gateway.models import Conn, Row
from gateway.repositories import bulk_interactions as bulk_repo
from gateway.repositories import interaction_texts as texts_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo
from gateway.services import redaction

# The most records one API batch may carry (the bulk importer chooses its own batch size).
MAX_BATCH = 500
# How far ahead of the server's clock an interaction may claim to have happened.
CLOCK_SKEW = timedelta(minutes=10)

REUSED_ID = "Already ingested with other content; platform ids may not be reused."

# The fields of a record that decide its content, for telling a retry from a conflicting reuse
# of the same platform id.
_CONTENT_FIELDS = (
    "skill_id",
    "user_id",
    "session_id",
    "occurred_at",
    "utterance",
    "response",
    "intent",
    "slots",
    "outcome",
    "order_ref",
    "sensitive_category",
    "device_serial",
    "audio_ref",
)


@dataclass(frozen=True)
class IngestedInteraction:
    platform_interaction_id: str
    id: str
    created: bool


def _reject(problems: dict[int, dict[str, list[str]]]) -> InvalidInput:
    return InvalidInput(
        "Some records are not valid; nothing was stored.",
        details={"interactions": {str(index): fields for index, fields in problems.items()}},
    )


def content_digest(record: dict[str, Any]) -> str:
    """SHA-256 of the record's content in a canonical encoding (time zone independent)."""
    canonical = {
        name: (
            record[name].timestamp() if isinstance(record.get(name), datetime) else record.get(name)
        )
        for name in _CONTENT_FIELDS
    }
    blob = json.dumps(
        canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def ingest_users(conn: Conn, users: list[dict[str, Any]]) -> list[Row]:
    """Insert or update a batch of users, idempotent on the platform user id.

    A child flag changes only when a record says so explicitly: a user re-sent without it
    keeps it (rule 6). E-mail, display name and locale are the user's own, shown to them only.
    Raises `InvalidInput` naming the index of a platform user id given twice.
    """
    seen: dict[str, int] = {}
    problems: dict[int, dict[str, list[str]]] = {}
    for index, user in enumerate(users):
        first = seen.setdefault(user["platform_user_id"], index)
        if first != index:
            problems[index] = {"platform_user_id": [f"Also given at index {first}."]}
    if problems:
        raise InvalidInput(
            "Some users are not valid; nothing was stored.",
            details={"users": {str(i): f for i, f in problems.items()}},
        )
    return users_repo.upsert_users(conn, users)


def _check_references(
    conn: Conn, records: list[dict[str, Any]], problems: dict[int, dict[str, list[str]]]
) -> dict[str, str]:
    """Map platform user ids to gateway ids; note records naming an unknown user or skill."""
    users = users_repo.find_user_ids(conn, sorted({r["user_id"] for r in records}))
    skills = skills_repo.existing_skill_ids(conn, sorted({str(r["skill_id"]) for r in records}))
    for index, record in enumerate(records):
        if record["user_id"] not in users:
            problems.setdefault(index, {})["user_id"] = ["No such user; send it first."]
        if str(record["skill_id"]) not in skills:
            problems.setdefault(index, {})["skill_id"] = ["No such skill."]
    return users


LedgerEntry: TypeAlias = tuple[str, str, datetime, str]
AudioReference: TypeAlias = tuple[str, datetime, str]


def _store_audio_references_one_by_one(conn: Conn, references: list[AudioReference]) -> None:
    for interaction_id, occurred_at, ref in references:
        interactions_repo.store_audio_reference(
            conn, interaction_id=interaction_id, occurred_at=occurred_at, ref=ref
        )


@dataclass(frozen=True)
class Writer:
    """How a batch's new rows reach their tables: the API inserts them statement by statement,
    the bulk importer copies them (repositories/bulk_interactions.py). Same rows either way."""

    insert_ledger: Callable[[Conn, list[LedgerEntry]], None]
    insert_interactions: Callable[[Conn, list[dict[str, Any]]], None]
    insert_texts: Callable[[Conn, list[dict[str, Any]]], None]
    store_audio_references: Callable[[Conn, list[AudioReference]], None]


INSERTS = Writer(
    insert_ledger=interactions_repo.insert_ledger,
    insert_interactions=interactions_repo.insert_interactions,
    insert_texts=texts_repo.upsert_texts,
    store_audio_references=_store_audio_references_one_by_one,
)
COPIES = Writer(
    insert_ledger=bulk_repo.insert_ledger,
    insert_interactions=bulk_repo.insert_interactions,
    insert_texts=bulk_repo.insert_texts,
    store_audio_references=bulk_repo.store_audio_references,
)


def raw_texts(record: dict[str, Any], *, id: str = "") -> dict[str, Any]:
    """The stored shape of a validated record's texts, as the redactor reads them."""
    return {
        "id": id,
        "skill_id": str(record["skill_id"]),
        # stored in UTC: the month partition is the UTC month (see ensure_months)
        "occurred_at": record["occurred_at"].astimezone(UTC),
        "utterance": record["utterance"],
        "response": record["response"],
        # stored as one object, name → value, as the platform's NLU reports them
        "slots": {slot["name"]: slot["value"] for slot in record.get("slots") or []},
        "order_ref": record.get("order_ref") or "",
    }


def redact_record(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stored form of one validated record (rule 5), for `forms=` of the functions below.

    Pure: the bulk importer's worker processes call it; the interaction id is set on storing.
    """
    return redaction.redact_for_storage(raw_texts(record))


@dataclass(frozen=True)
class _Checked:
    problems: dict[int, dict[str, list[str]]]
    users: dict[str, str]
    ledger: dict[str, Row]
    digests: list[str]


def _check(conn: Conn, records: list[dict[str, Any]], *, now: datetime) -> _Checked:
    problems: dict[int, dict[str, list[str]]] = {}
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        first = seen.setdefault(record["interaction_id"], index)
        if first != index:
            problems.setdefault(index, {})["interaction_id"] = [f"Also given at index {first}."]
        if record["occurred_at"] > now + CLOCK_SKEW:
            problems.setdefault(index, {})["occurred_at"] = ["Lies in the future."]
    users = _check_references(conn, records, problems)
    ledger = interactions_repo.find_ledger(conn, list(seen))
    digests = [content_digest(record) for record in records]
    for index, record in enumerate(records):
        known = ledger.get(record["interaction_id"])
        # a deleted interaction's digest is gone with its text (rule 8): any record with its
        # id is the retry it most likely is, and stores nothing
        if (
            known is not None
            and known["deleted_at"] is None
            and known["content_digest"] != digests[index]
        ):
            problems.setdefault(index, {})["interaction_id"] = [REUSED_ID]
    return _Checked(problems, users, ledger, digests)


def _store(
    conn: Conn,
    records: list[tuple[int, dict[str, Any]]],
    checked: _Checked,
    *,
    forms: list[list[dict[str, Any]]] | None,
    writer: Writer,
) -> dict[int, IngestedInteraction]:
    """Store the (index, record) pairs that passed `_check`; their results by index."""
    results: dict[int, IngestedInteraction] = {}
    fresh: list[dict[str, Any]] = []
    ledger_entries: list[LedgerEntry] = []
    new_forms: list[dict[str, Any]] = []
    audio: list[AudioReference] = []
    for index, record in records:
        known = checked.ledger.get(record["interaction_id"])
        if known is not None:
            results[index] = IngestedInteraction(
                record["interaction_id"], str(known["interaction_id"]), False
            )
            continue
        interaction_id = str(uuid.uuid4())
        texts = raw_texts(record, id=interaction_id)
        row = {**record, **texts, "user_id": checked.users[record["user_id"]]}
        fresh.append(row)
        ledger_entries.append(
            (record["interaction_id"], interaction_id, row["occurred_at"], checked.digests[index])
        )
        made = forms[index] if forms is not None else redaction.redact_for_storage(texts)
        new_forms.extend({**form, "interaction_id": interaction_id} for form in made)
        if row.get("audio_ref"):
            audio.append((interaction_id, row["occurred_at"], row["audio_ref"]))
        results[index] = IngestedInteraction(record["interaction_id"], interaction_id, True)

    interactions_repo.ensure_months(conn, [row["occurred_at"] for row in fresh])
    writer.insert_ledger(conn, ledger_entries)
    writer.insert_interactions(conn, fresh)
    writer.insert_texts(conn, new_forms)
    writer.store_audio_references(conn, audio)
    return results


def ingest_interactions(
    conn: Conn,
    records: list[dict[str, Any]],
    *,
    now: datetime,
    forms: Iterable[list[dict[str, Any]]] | None = None,
    writer: Writer = INSERTS,
) -> list[IngestedInteraction]:
    """Store a batch of interactions, all or nothing; return one entry per record, in order.

    Idempotent on the platform interaction id: a record already stored with the same content
    creates nothing and answers with the same id, so a retried batch answers the same. Each
    new interaction is stored with its redacted forms under every policy (rule 5); its audio
    reference goes to the vault only (rule 4).
    Raises `InvalidInput` naming each bad record's index and field: an unknown user or skill,
    a platform id given twice in the batch or reused with other content, a time in the future.
    `forms`, when given, holds each record's forms already made by `redact_record` (the bulk
    importer redacts in worker processes); otherwise they are made here.
    """
    checked = _check(conn, records, now=now)
    if checked.problems:
        raise _reject(checked.problems)
    given = list(forms) if forms is not None else None
    stored = _store(conn, list(enumerate(records)), checked, forms=given, writer=writer)
    return [stored[index] for index in range(len(records))]


@dataclass(frozen=True)
class ImportedBatch:
    """What `import_interactions` did with each record, by its index in the batch."""

    stored: dict[int, IngestedInteraction]
    rejected: dict[int, dict[str, list[str]]]


def import_interactions(
    conn: Conn,
    records: list[dict[str, Any]],
    *,
    now: datetime,
    forms: list[list[dict[str, Any]]] | None = None,
    writer: Writer = COPIES,
) -> ImportedBatch:
    """Store the records of a batch that `ingest_interactions` would accept; name the others.

    The same checks, redaction and idempotency as `ingest_interactions`, but a record it
    would refuse the batch for is left out and reported instead (the bulk importer reports
    lines and carries on); the rest is stored in the caller's transaction.
    """
    checked = _check(conn, records, now=now)
    good = [
        (index, record) for index, record in enumerate(records) if index not in checked.problems
    ]
    stored = _store(conn, good, checked, forms=forms, writer=writer)
    return ImportedBatch(stored, checked.problems)
