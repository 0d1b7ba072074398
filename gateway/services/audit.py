"""Rule 7, the audit log: each security-relevant action recorded in its own transaction, sealed
into a hash chain off the request path, verified, and anchored by signed checkpoints.

Writing is cheap on purpose: `record` inserts the event's content and nothing else (no
sequence number, no hash, no lock), so concurrent requests never wait on each other. The
sealer (`seal`, the database's gateway_audit_seal) then gives committed rows their place in
the chain in commit order, one sealer at a time, under an advisory lock only sealers take.
The unsealed rows are the audit-chain lag (`lag`).

row_hash = sha256 over 'gateway-audit-v1' and, length-prefixed, prev_hash, seq, id, the time
as UTC epoch microseconds, actor kind and id, action, developer id, skill id, subject and the
details' jsonb text: the database computes it when sealing, `row_hash` here recomputes it
independently, and nothing in it depends on the session's time zone or locale.
"""

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit_keys import key_id
from gateway.models import Conn, Principal, Row
from gateway.repositories import audit as audit_repo

# The fixed vocabulary; the database's CHECK on audit_events.action is the same list.
ACTIONS = frozenset(
    {
        "token.issued",
        "token.revoked",
        "client.created",
        "client.rotated",
        "client.revoked",
        "developer.registered",
        "developer.suspended",
        "developer.reinstated",
        "skill.registered",
        "tier.created",
        "tier.changed",
        "grant.made",
        "grant.expired",
        "grant.revoked",
        "tier_request.made",
        "tier_request.decided",
        "webhook.changed",
        "transcripts.read",
        "stats.read",
        "consent.granted",
        "consent.revoked",
        "deletion.requested",
        "deletion.completed",
        "admin.signed_in",
        "admin.signed_out",
        "admin.created",
        "user.signed_in",
        "user.signed_out",
        "user.activation_issued",
        "user.password_set",
        "authorization_code.replayed",
    }
)
ACTOR_KINDS = ("client", "user", "cli", "system", "admin")
GENESIS = "0" * 64  # the prev_hash of seq 1
CHECKPOINT_FORMAT = "skill-data-gateway audit checkpoint v1"
SEAL_BATCH = 1000  # one batch well under the app role's 2 s statement timeout

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ids, counts and fixed labels: no spaces, no '@', nothing that reads as prose or an address
# (fullmatch: "$" would let a trailing newline through)
_ID = re.compile(r"[A-Za-z0-9_.:/{}-]{1,200}")
_LABEL = re.compile(r"[A-Za-z0-9_.:/{}-]{0,100}")
_DETAIL_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ChainBroken(Exception):
    """The chain does not verify: nothing may be signed over it."""

    def __init__(self, verdict: "Verdict") -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


@dataclass(frozen=True)
class Actor:
    """Who did it: an OAuth client, a user, an operator at the command line, an admin signed in
    on the web console, or the system."""

    kind: str
    id: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if self.kind != "system" and not _ID.fullmatch(self.id):
            raise ValueError("an actor is named by an id: letters, digits and _.:/- only")

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else self.kind

    @classmethod
    def client(cls, client_id: str) -> "Actor":
        return cls("client", client_id)

    @classmethod
    def user(cls, user_id: str) -> "Actor":
        return cls("user", str(user_id))

    @classmethod
    def admin(cls, name: str) -> "Actor":
        """An admin account signed in on the web console (`admin:<name>`)."""
        return cls("admin", name)

    @classmethod
    def operator(cls, name: str) -> "Actor":
        """An operator at the command line (`cli:<name>`)."""
        return cls("cli", name)

    @classmethod
    def of(cls, principal: Principal) -> "Actor":
        """The actor behind a request's caller."""
        if principal.kind == "user" and principal.user_id:
            return cls.user(principal.user_id)
        if principal.kind == "system":
            return SYSTEM
        if principal.kind == "admin" and principal.account:
            return cls.admin(principal.account)
        if principal.client_id:
            return cls.client(principal.client_id)
        raise ValueError(f"a {principal.kind!r} caller is nobody to record")


SYSTEM = Actor("system")


def _check_detail(name: str, value: Any) -> None:
    if not _DETAIL_KEY.fullmatch(name):
        raise ValueError(f"audit detail name {name!r} is not a plain identifier")
    values = value if isinstance(value, list | tuple) else [value]
    for item in values:
        if isinstance(item, bool | int):
            continue
        if isinstance(item, str) and _LABEL.fullmatch(item):
            continue
        # text, personal data, secrets: none of it belongs in the log (rule 7)
        raise ValueError(f"audit detail {name!r} must hold ids, counts or labels only")


def record(
    conn: Conn,
    *,
    actor: Actor,
    action: str,
    developer_id: int | None = None,
    skill_id: str | None = None,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record one security-relevant action in the caller's transaction (rule 7).

    The row commits or rolls back with the action itself. `subject` names what was acted on,
    by id; `details` holds ids, counts and fixed labels only (lists of them too). Raises
    `ValueError` for an unknown action, a subject that is not an id, or a detail that could be
    text, and never writes those.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if subject is not None and not _ID.fullmatch(subject):
        raise ValueError("an audit subject is an id: letters, digits and _.:/- only")
    clean = dict(details or {})
    for name, value in clean.items():
        _check_detail(name, value)
    audit_repo.insert_event(
        conn,
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        developer_id=developer_id,
        skill_id=None if skill_id is None else str(skill_id),
        subject=subject,
        details={name: list(v) if isinstance(v, tuple) else v for name, v in clean.items()},
    )


def seal(conn: Conn, *, limit: int = SEAL_BATCH) -> int:
    """Seal up to `limit` committed events into the chain, in commit order; how many.

    Runs in the caller's transaction and holds the sealers' lock until it ends: call it in a
    transaction of its own (the worker, the command line) and loop while it returns `limit`.
    """
    return audit_repo.seal_batch(conn, limit=limit)


def seal_all(conn: Conn) -> int:
    """Seal every committed event; how many (for verification and checkpoints)."""
    total = 0
    while (sealed := seal(conn)) == SEAL_BATCH:
        total += sealed
    return total + sealed


def lag(conn: Conn) -> int:
    """The audit-chain lag: committed events not sealed yet."""
    return audit_repo.count_unsealed(conn)


def _field(value: str | None) -> bytes:
    if value is None:
        return b"~"
    data = value.encode("utf-8")
    return str(len(data)).encode("ascii") + b":" + data


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def row_hash(row: Mapping[str, Any], *, prev_hash: str) -> str:
    """The hash a sealed row must carry, computed here independently of the database.

    `row` has seq, id, occurred_at (an aware datetime), actor_kind, actor_id, action,
    developer_id, skill_id, subject and details_text (jsonb's text of details).
    """
    micros = (row["occurred_at"] - _EPOCH) // timedelta(microseconds=1)
    parts = [
        prev_hash,
        str(row["seq"]),
        str(row["id"]),
        str(micros),
        row["actor_kind"],
        row["actor_id"],
        row["action"],
        _text(row["developer_id"]),
        _text(row["skill_id"]),
        row["subject"],
        row["details_text"],
    ]
    return hashlib.sha256(b"gateway-audit-v1" + b"".join(map(_field, parts))).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: the chain's head, its lag, and the first bad row."""

    ok: bool
    rows: int  # sealed rows checked
    head_seq: int
    head_hash: str
    unsealed: int
    first_bad_seq: int | None = None
    reason: str | None = None


def _walk(conn: Conn, anchors: Collection[int]) -> tuple[Verdict, dict[int, str]]:
    """Recompute the chain from seq 1; the verdict and the recomputed hash at each anchor."""
    unsealed = audit_repo.count_unsealed(conn)
    expected, prev, rows = 1, GENESIS, 0
    found = {0: GENESIS} if 0 in anchors else {}

    def broken(seq: int, reason: str) -> tuple[Verdict, dict[int, str]]:
        return Verdict(False, rows, expected - 1, prev, unsealed, seq, reason), found

    for row in audit_repo.iter_sealed(conn):
        seq = int(row["seq"])
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
            return broken(expected, f"seq {missing} is missing: rows were deleted")
        if seq < expected:  # only if the unique index on seq was dropped as well
            return broken(seq, f"seq {seq} appears twice")
        if row["prev_hash"] != prev:
            return broken(
                seq,
                f"row {seq} does not link to row {seq - 1} (prev_hash differs): "
                "rows were inserted, removed or reordered",
            )
        if row_hash(row, prev_hash=prev) != row["row_hash"]:
            return broken(seq, f"row {seq} does not match its hash: its content was altered")
        prev = row["row_hash"]
        if seq in anchors:
            found[seq] = prev
        rows += 1
        expected += 1
    return Verdict(True, rows, expected - 1, prev, unsealed), found


def verify_audit_chain(conn: Conn, *, seal_first: bool = True) -> Verdict:
    """Recompute every sealed row's hash and link, in order; name the first bad row (rule 7).

    Seals what is committed first (unless `seal_first` is False). Detects an altered row (its
    hash), a deleted one (a gap in seq) and an inserted or reordered one (a broken link). A
    chain recomputed wholesale verifies here: only `verify_against_checkpoint` catches that.
    """
    if seal_first:
        seal_all(conn)
    verdict, _ = _walk(conn, ())
    return verdict


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signed_message(checkpoint: Mapping[str, Any]) -> bytes:
    payload = {name: value for name, value in checkpoint.items() if name != "signature"}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def checkpoint(
    conn: Conn, *, signing_key: Ed25519PrivateKey, now: datetime | None = None
) -> dict[str, Any]:
    """Seal, verify, and sign the chain's head: {format, seq, row_hash, at, key_id, signature}.

    Keep the result outside the database (another system, write-once storage): a later chain
    that does not reach this seq with this hash was rewritten, even if it verifies on its own.
    Raises `ChainBroken` rather than sign a chain that does not verify.
    """
    seal_all(conn)
    verdict = verify_audit_chain(conn, seal_first=False)
    if not verdict.ok:
        raise ChainBroken(verdict)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "seq": verdict.head_seq,
        "row_hash": verdict.head_hash,
        "at": at.isoformat().replace("+00:00", "Z"),
        "key_id": key_id(signing_key.public_key()),
    }
    return {**payload, "signature": _b64(signing_key.sign(_signed_message(payload)))}


def checkpoint_signature_ok(checkpoint: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """Whether `checkpoint` is well formed and signed by `public_key`'s private half."""
    try:
        if checkpoint.get("format") != CHECKPOINT_FORMAT:
            return False
        if not isinstance(checkpoint.get("seq"), int) or checkpoint["seq"] < 0:
            return False
        if not re.fullmatch(r"[0-9a-f]{64}", str(checkpoint.get("row_hash"))):
            return False
        public_key.verify(_unb64(str(checkpoint["signature"])), _signed_message(checkpoint))
    except (InvalidSignature, KeyError, ValueError, binascii.Error):
        return False
    return True


def verify_against_checkpoint(
    conn: Conn, checkpoint: Mapping[str, Any], public_key: Ed25519PublicKey
) -> Verdict:
    """Verify the chain, then that it still reaches the signed checkpoint's seq and hash.

    Catches what `verify_audit_chain` cannot: a chain rewritten and recomputed wholesale (by
    someone with superuser rights) no longer hashes to an earlier checkpoint, and rows cut
    from the end leave the chain shorter than it.
    """
    seq = int(checkpoint.get("seq", -1)) if isinstance(checkpoint.get("seq"), int) else -1
    seal_all(conn)
    verdict, found = _walk(conn, (seq,))
    if not checkpoint_signature_ok(checkpoint, public_key):
        return Verdict(
            False,
            verdict.rows,
            verdict.head_seq,
            verdict.head_hash,
            verdict.unsealed,
            None,
            "the checkpoint's signature does not verify with this public key",
        )
    if not verdict.ok:
        return verdict
    at = checkpoint.get("at")
    if verdict.head_seq < seq:
        return Verdict(
            False,
            verdict.rows,
            verdict.head_seq,
            verdict.head_hash,
            verdict.unsealed,
            verdict.head_seq + 1,
            f"the chain ends at seq {verdict.head_seq} but the checkpoint of {at} reaches "
            f"seq {seq}: rows were removed from its end",
        )
    if found.get(seq) != checkpoint["row_hash"]:
        return Verdict(
            False,
            verdict.rows,
            verdict.head_seq,
            verdict.head_hash,
            verdict.unsealed,
            seq,
            f"row {seq} no longer has the hash signed in the checkpoint of {at}: the chain "
            f"up to seq {seq} was rewritten and recomputed",
        )
    return verdict


def recent_events(conn: Conn, *, limit: int = 20) -> list[Row]:
    """The newest events, sealed or not, newest first (for `skillgw audit tail`)."""
    return audit_repo.list_recent(conn, limit=limit)


def query_events(
    conn: Conn,
    *,
    actor: Actor | None = None,
    action: str | None = None,
    developer_id: int | None = None,
    skill_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[Row]:
    """Events matching every filter given (for admins), newest first, ids below `before`.

    Sealed or not: a row is in the log from its commit on, whether or not it is chained yet.
    """
    return audit_repo.query_events(
        conn,
        limit=limit,
        before=before,
        actor_kind=None if actor is None else actor.kind,
        actor_id=None if actor is None else actor.id,
        action=action,
        developer_id=developer_id,
        skill_id=skill_id,
        since=since,
        until=until,
    )
