"""Plain value types shared by the layers: who is calling, and what a tier allows."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from psycopg import Connection

# The app's connections hand out rows as dicts (psycopg's dict_row).
Row: TypeAlias = dict[str, Any]
Conn: TypeAlias = Connection[Row]


@dataclass(frozen=True)
class Principal:
    """The caller of one request, bound into its transaction for row-level security."""

    kind: str  # "developer", "admin", "platform", "user", "system" or "anonymous"
    client_id: str | None = None
    developer_id: int | None = None
    user_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    # an admin signed in on the web console: the account's name (the audit log's actor)
    account: str | None = None


ANONYMOUS = Principal("anonymous")
SYSTEM = Principal("system")


@dataclass(frozen=True)
class Tier:
    name: str
    transcripts_readable: bool
    fields: tuple[str, ...]
    retention_days: int
    redaction_policy: str
    page_size: int
    rate_limit: str
    k_threshold: int
    description: str


@dataclass(frozen=True)
class Developer:
    id: int
    name: str
    suspended_at: datetime | None
    tier: Tier
    tier_expires_at: datetime | None


@dataclass(frozen=True)
class Keyring:
    """Pseudonym keys: `current` makes new pseudonyms, older ones stay resolvable."""

    current: str
    keys: dict[str, bytes]
