"""Rule 5, redaction: every transcript text that leaves has passed the tier's policy, and
users and sessions appear only as pseudonyms, different for every developer.

Texts are redacted once, when an interaction is written, under every policy a tier can name,
and stored beside the raw text with the version that made them (`redact_for_storage`). The
read path only selects the caller's form; a form that is missing or was made by an older
version is redacted again before it is shown and written back (`ensure_current_forms`), so a
read never serves a stale form.
"""

from datetime import datetime
from typing import Any

from gateway.models import Conn, Developer, Keyring, Row
from gateway.redaction import (
    Placeholders,
    Policy,
    detections,
    get_policy,
    policy_names,
    pseudonymize,
    redact,
)
from gateway.repositories import interaction_texts as texts_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import pseudonyms as pseudonyms_repo
from gateway.services import audio, tiers

# Fields shown as they are when the tier includes them.
_PLAIN_FIELDS = ("intent", "outcome", "order_ref")


# Bump when this module changes what a stored form holds (e.g. slot names as context).
FORM_VERSION = 1


def form_version(policy: Policy) -> str:
    """The version a stored form made under `policy` records: the detectors' version and the
    policy's actions (`Policy.version`) and this module's own, so a change of any makes it
    stale."""
    return f"{policy.version}+f{FORM_VERSION}"


def current_versions() -> dict[str, str]:
    """Every policy a tier can name, with its current form version."""
    return {name: form_version(get_policy(name)) for name in policy_names()}


def _slot_text(value: Any) -> str:
    # slot values arrive as JSON of any shape; only their text is ever shown, redacted
    return value if isinstance(value, str) else str(value)


# A slot's name is context the value itself lacks: "1984-03-12" is only a date, but in a slot
# named date_of_birth it is a date of birth. The detectors find such values when the context
# is said before them, so it is, and taken off again.
_SLOT_CONTEXT = ((("birth", "dob", "birthday"), "date of birth: "),)


class _Detections:
    """The detections of the texts of one interaction, made once and used for every policy and
    both forms (the policies differ only in what they keep and how they replace). Lives for one
    interaction's redaction: no transcript text outlives the call in it."""

    def __init__(self) -> None:
        self._found: dict[str, Any] = {}

    def redact(self, text: str, policy: Policy, **options: Any) -> str:
        if text not in self._found:
            self._found[text] = detections(text)
        return redact(text, policy, findings=self._found[text], **options).text


def _redact_slot(name: str, value: Any, policy: Policy, found: _Detections, **options: Any) -> str:
    text = _slot_text(value)
    words = name.lower().replace("-", "_").split("_")
    for keys, context in _SLOT_CONTEXT:
        if any(key in words or key in name.lower() for key in keys):
            said = found.redact(context + text, policy, **options)
            if said.startswith(context):
                return said[len(context) :]
    return found.redact(text, policy, **options)


def _redact_texts(
    raw: Row, policy: Policy, *, keep: list[str], found: _Detections
) -> tuple[str, str, list[dict[str, str]]]:
    placeholders = Placeholders()  # one numbering across all texts of this interaction
    utterance = found.redact(raw["utterance"], policy, placeholders=placeholders, keep=keep)
    response = found.redact(raw["response"], policy, placeholders=placeholders, keep=keep)
    slots = [
        {
            "name": str(key),
            "value": _redact_slot(
                str(key), value, policy, found, placeholders=placeholders, keep=keep
            ),
        }
        for key, value in sorted((raw["slots"] or {}).items())
    ]
    return utterance, response, slots


def redact_form(raw: Row, policy_name: str, *, found: _Detections | None = None) -> dict[str, Any]:
    """One stored form of `raw` (an interaction's id, occurred_at, skill_id, utterance,
    response, slots and order_ref) under one policy.

    The main form keeps the order reference in clear inside the text, for tiers that show it
    as a field; the *_ref_hidden form redacts it too, stored only where the two differ.
    """
    policy = get_policy(policy_name)
    found = found if found is not None else _Detections()
    order_ref = raw.get("order_ref") or ""
    shown = _redact_texts(raw, policy, keep=[order_ref] if order_ref else [], found=found)
    hidden = _redact_texts(raw, policy, keep=[], found=found) if order_ref else shown
    differs = hidden != shown
    return {
        "interaction_id": str(raw["id"]),
        "occurred_at": raw["occurred_at"],
        "skill_id": str(raw["skill_id"]),
        "policy": policy_name,
        "version": form_version(policy),
        "utterance": shown[0],
        "response": shown[1],
        "slots": shown[2],
        "utterance_ref_hidden": hidden[0] if differs else None,
        "response_ref_hidden": hidden[1] if differs else None,
        "slots_ref_hidden": hidden[2] if differs else None,
    }


def redact_for_storage(raw: Row) -> list[dict[str, Any]]:
    """Every stored form of one interaction: one per policy a tier can name (its texts
    detected once for all of them)."""
    found = _Detections()
    return [redact_form(raw, name, found=found) for name in policy_names()]


def refresh_forms(conn: Conn, keys: list[tuple[str, datetime]], policies: list[str]) -> int:
    """Redact the given interactions again under `policies` and store the forms; the count."""
    raws = interactions_repo.list_raw_texts(conn, keys)
    texts_repo.upsert_texts(conn, [redact_form(raw, name) for raw in raws for name in policies])
    return len(raws)


def ensure_current_forms(conn: Conn, rows: list[Row], developer: Developer) -> list[Row]:
    """Return `rows` with every text from a form of the current version of the tier's policy.

    A row whose stored form is missing or stale is redacted again now and written back, so a
    developer never sees text redacted by an older, weaker version.
    """
    policy = tiers.redaction_policy(developer)
    version = form_version(policy)
    stale = [row for row in rows if row["form_version"] != version]
    if not stale:
        return rows
    keys = [(str(row["id"]), row["occurred_at"]) for row in stale]
    raws = {str(raw["id"]): raw for raw in interactions_repo.list_raw_texts(conn, keys)}
    fresh = {key: redact_form(raw, policy.name) for key, raw in raws.items()}
    texts_repo.upsert_texts(conn, list(fresh.values()))
    refreshed = []
    for row in rows:
        form = fresh.get(str(row["id"]))
        refreshed.append(row if form is None else {**row, **form, "form_version": version})
    return refreshed


def user_pseudonym(developer: Developer, user_id: str, keyring: Keyring) -> str:
    """The developer's stable pseudonym for a user: a keyed HMAC scoped to that developer."""
    return user_pseudonym_for(developer.id, user_id, keyring)


def user_pseudonym_for(developer_id: int, user_id: str, keyring: Keyring) -> str:
    """`user_pseudonym` by the developer's id (for notices, sent where no tier is at hand)."""
    return pseudonymize(
        user_id, scope=f"developer:{developer_id}", keys=keyring.keys, key_id=keyring.current
    )


def session_pseudonym(developer: Developer, session_id: str, keyring: Keyring) -> str:
    """The developer's pseudonym for a platform session id, scoped to that developer too."""
    return pseudonymize(
        session_id,
        scope=f"developer:{developer.id}:session",
        keys=keyring.keys,
        key_id=keyring.current,
    )


def remember_pseudonyms(
    conn: Conn, rows: list[Row], *, developer: Developer, skill_id: str, keyring: Keyring
) -> None:
    """Store the pseudonyms the developer is about to be shown, so they work as filters."""
    users = {
        (user_pseudonym(developer, str(r["user_id"]), keyring), str(r["user_id"])) for r in rows
    }
    pseudonyms_repo.insert_pseudonyms(conn, developer_id=developer.id, pairs=sorted(users))
    if "session" in tiers.visible_fields(developer):
        sessions = {
            (session_pseudonym(developer, r["session_id"], keyring), skill_id, r["session_id"])
            for r in rows
            if r["session_id"]
        }
        pseudonyms_repo.insert_session_pseudonyms(
            conn, developer_id=developer.id, entries=sorted(sessions)
        )


def resolve_user_pseudonym(conn: Conn, *, developer: Developer, pseudonym: str) -> str | None:
    """The user behind a pseudonym this developer was shown; None for any other string."""
    return pseudonyms_repo.find_user_id(conn, developer_id=developer.id, pseudonym=pseudonym)


def resolve_session_pseudonym(
    conn: Conn, *, developer: Developer, skill_id: str, pseudonym: str
) -> str | None:
    """The session behind a pseudonym this developer was shown for this skill, else None."""
    return pseudonyms_repo.find_session_id(
        conn, developer_id=developer.id, skill_id=skill_id, pseudonym=pseudonym
    )


def present_interaction(row: Row, developer: Developer, keyring: Keyring) -> dict[str, Any]:
    """Shape one readable row, already carrying its current redacted form, for the developer:
    the tier's fields only (rule 3), texts from the tier policy's form (rule 5), ids
    pseudonymous (rule 5), nothing outside the fields that may leave (rule 4)."""
    shown = tiers.visible_fields(developer)
    ref_hidden = "order_ref" not in shown
    item: dict[str, Any] = {
        "id": str(row["id"]),
        "occurred_at": row["occurred_at"],
        "user": user_pseudonym(developer, str(row["user_id"]), keyring),
    }
    for name in ("utterance", "response", "slots"):
        if name in shown:
            hidden = row[f"{name}_ref_hidden"]
            item[name] = hidden if ref_hidden and hidden is not None else row[name]
    for name in _PLAIN_FIELDS:
        if name in shown:
            item[name] = row[name]
    if "session" in shown and row["session_id"]:
        item["session"] = session_pseudonym(developer, row["session_id"], keyring)
    return audio.only_fields_that_leave(item)
