"""Rule 5, redaction: every transcript text that leaves has passed the tier's policy, and
users and sessions appear only as pseudonyms, different for every developer."""

from typing import Any

from gateway.models import Conn, Developer, Keyring, Row
from gateway.redaction import Placeholders, pseudonymize, redact
from gateway.repositories import pseudonyms as pseudonyms_repo
from gateway.services import audio, tiers

# Fields whose text is a transcript and always passes the tier's redaction policy.
_TEXT_FIELDS = ("utterance", "response")
# Fields shown as they are when the tier includes them.
_PLAIN_FIELDS = ("intent", "outcome", "order_ref")


def user_pseudonym(developer: Developer, user_id: str, keyring: Keyring) -> str:
    """The developer's stable pseudonym for a user: a keyed HMAC scoped to that developer."""
    return pseudonymize(
        user_id, scope=f"developer:{developer.id}", keys=keyring.keys, key_id=keyring.current
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
    conn: Conn, rows: list[Row], *, developer: Developer, keyring: Keyring
) -> None:
    """Store the pseudonyms the developer is about to be shown, so they work as filters."""
    pairs = {
        (user_pseudonym(developer, str(r["user_id"]), keyring), str(r["user_id"])) for r in rows
    }
    pseudonyms_repo.insert_pseudonyms(conn, developer_id=developer.id, pairs=sorted(pairs))


def resolve_user_pseudonym(conn: Conn, *, developer: Developer, pseudonym: str) -> str | None:
    """The user behind a pseudonym this developer was shown; None for any other string."""
    return pseudonyms_repo.find_user_id(conn, developer_id=developer.id, pseudonym=pseudonym)


def _slot_text(value: Any) -> str:
    # slot values arrive as JSON of any shape; only their text is ever shown, redacted
    return value if isinstance(value, str) else str(value)


def present_interaction(row: Row, developer: Developer, keyring: Keyring) -> dict[str, Any]:
    """Shape one readable row for the developer: the tier's fields only (rule 3), every text
    redacted under the tier's policy with one placeholder numbering (rule 5), ids
    pseudonymous (rule 5), nothing outside the fields that may leave (rule 4)."""
    shown = tiers.visible_fields(developer)
    policy = tiers.redaction_policy(developer)
    placeholders = Placeholders()  # one numbering across all texts of this interaction
    # the order reference is shown as a field, so hiding it inside the text would only confuse
    keep = [row["order_ref"]] if "order_ref" in shown and row["order_ref"] else []
    item: dict[str, Any] = {
        "id": str(row["id"]),
        "occurred_at": row["occurred_at"],
        "user": user_pseudonym(developer, str(row["user_id"]), keyring),
    }
    for name in _TEXT_FIELDS:
        if name in shown:
            item[name] = redact(row[name], policy, placeholders=placeholders, keep=keep).text
    for name in _PLAIN_FIELDS:
        if name in shown:
            item[name] = row[name]
    if "slots" in shown:
        item["slots"] = [
            {
                "name": str(key),
                "value": redact(
                    _slot_text(value), policy, placeholders=placeholders, keep=keep
                ).text,
            }
            for key, value in sorted(row["slots"].items())
        ]
    if "session" in shown and row["session_id"]:
        item["session"] = session_pseudonym(developer, row["session_id"], keyring)
    return audio.only_fields_that_leave(item)
