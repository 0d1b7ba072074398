"""The platform pushes users and interactions in: idempotent, all-or-nothing batches whose
texts are redacted once, here, under every policy (rule 5), whose audio references go to the
vault only (rule 4), and whose child flags are never lost (rule 6)."""

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.exceptions import InvalidInput
from gateway.models import Conn, Row
from gateway.repositories import interaction_texts as texts_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo
from gateway.services import redaction

# The most records one API batch may carry; the bulk importer sends batches of this size too.
MAX_BATCH = 500
# How far ahead of the server's clock an interaction may claim to have happened.
CLOCK_SKEW = timedelta(minutes=10)

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


def ingest_interactions(
    conn: Conn,
    records: list[dict[str, Any]],
    *,
    now: datetime,
    forms: Iterable[list[dict[str, Any]]] | None = None,
) -> list[IngestedInteraction]:
    """Store a batch of interactions, all or nothing; return one entry per record, in order.

    Idempotent on the platform interaction id: a record already stored with the same content
    creates nothing and answers with the same id, so a retried batch answers the same. Each
    new interaction is stored with its redacted forms under every policy (rule 5); its audio
    reference goes to the vault only (rule 4).
    Raises `InvalidInput` naming each bad record's index and field: an unknown user or skill,
    a platform id given twice in the batch or reused with other content, a time in the future.
    `forms`, when given, holds each record's redacted forms already made (the bulk importer
    redacts in worker processes); otherwise `redact` makes them here.
    """
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
        if known is not None and known["content_digest"] != digests[index]:
            problems.setdefault(index, {})["interaction_id"] = [
                "Already ingested with other content; platform ids may not be reused."
            ]
    if problems:
        raise _reject(problems)

    results: list[IngestedInteraction] = []
    fresh: list[dict[str, Any]] = []
    ledger_entries: list[tuple[str, str, datetime, str]] = []
    given_forms = list(forms) if forms is not None else None
    new_forms: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        known = ledger.get(record["interaction_id"])
        if known is not None:
            results.append(
                IngestedInteraction(record["interaction_id"], str(known["interaction_id"]), False)
            )
            continue
        row = {
            **record,
            "id": str(uuid.uuid4()),
            "skill_id": str(record["skill_id"]),
            "user_id": users[record["user_id"]],
            # stored as one object, name → value, as the platform's NLU reports them
            "slots": {slot["name"]: slot["value"] for slot in record.get("slots") or []},
        }
        fresh.append(row)
        ledger_entries.append(
            (record["interaction_id"], row["id"], row["occurred_at"], digests[index])
        )
        if given_forms is not None:
            made = given_forms[index]
            new_forms.extend({**form, "interaction_id": row["id"]} for form in made)
        else:
            new_forms.extend(redaction.redact_for_storage(row))
        results.append(IngestedInteraction(record["interaction_id"], row["id"], True))

    interactions_repo.ensure_months(conn, [row["occurred_at"] for row in fresh])
    interactions_repo.insert_ledger(conn, ledger_entries)
    interactions_repo.insert_interactions(conn, fresh)
    texts_repo.upsert_texts(conn, new_forms)
    for row in fresh:
        if row.get("audio_ref"):
            interactions_repo.store_audio_reference(
                conn, interaction_id=row["id"], occurred_at=row["occurred_at"], ref=row["audio_ref"]
            )
    return results
