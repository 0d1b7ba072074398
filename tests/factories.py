"""Test data through the repositories, so the SQL has one home."""

import uuid
from datetime import UTC, datetime
from itertools import count
from typing import Any

import psycopg
from psycopg import sql

from gateway.binding import derive_binding_key
from gateway.db import bind_principal, use_binding_key
from gateway.models import SYSTEM
from gateway.repositories import access_log as access_log_repo
from gateway.repositories import consents as consents_repo
from gateway.repositories import developers as developers_repo
from gateway.repositories import interaction_texts as texts_repo
from gateway.repositories import interactions as interactions_repo
from gateway.repositories import pseudonyms as pseudonyms_repo
from gateway.repositories import skills as skills_repo
from gateway.repositories import users as users_repo
from gateway.services import admins as admins_service
from gateway.services import audit
from gateway.services import oauth_clients as oauth_clients_service
from gateway.services import redaction as redaction_service
from gateway.services import user_accounts as user_accounts_service

# The test apps' SECRET_KEY, and the caller-binding key the test database holds for it.
SECRET_KEY = "test-secret"
BINDING_KEY = derive_binding_key(SECRET_KEY)

_sequence = count(1)

# Known passwords of the factories' accounts (long enough for the password rules).
USER_PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "admin: tr0ub4dor & 3 more words"


class Factory:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        use_binding_key(conn, BINDING_KEY)  # SYSTEM's writes carry a proof the database checks

    def _run(self, fn: Any, **kwargs: Any) -> Any:
        # outside a transaction (committed mode) open one, so the binding is transaction-local
        if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            with self.conn.transaction():
                bind_principal(self.conn, SYSTEM)
                return fn(self.conn, **kwargs)
        bind_principal(self.conn, SYSTEM)
        return fn(self.conn, **kwargs)

    def rows(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        """Run `query` as the system caller (sees every tenant) and return its rows."""
        return list(self._run(lambda conn: conn.execute(query, params).fetchall()))

    def count(self, table: str) -> int:
        """Rows in `table` (a fixed name from the test itself), across all tenants."""
        return int(self.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"])  # noqa: S608

    def suspend(self, developer_id: int) -> None:
        self._run(developers_repo.update_suspension, developer_id=developer_id, suspended=True)

    def developer(self, *, tier: str | None = "standard", name: str | None = None) -> int:
        developer_id = self._run(
            developers_repo.insert_developer, name=name or f"Developer {next(_sequence)}"
        )
        if tier is not None:
            self._run(
                developers_repo.insert_tier_grant,
                developer_id=developer_id,
                tier=tier,
                reason="test",
                granted_by="tests",
            )
        return int(developer_id)

    def tier_grant(self, developer_id: int, tier: str, **kwargs: Any) -> int:
        return int(
            self._run(
                developers_repo.insert_tier_grant,
                developer_id=developer_id,
                tier=tier,
                reason=kwargs.pop("reason", "test"),
                granted_by="tests",
                **kwargs,
            )
        )

    def tier(
        self,
        name: str,
        *,
        transcripts_readable: bool = True,
        fields: tuple[str, ...] = ("utterance", "intent", "outcome", "order_ref"),
        retention_days: int = 30,
        redaction_policy: str = "standard",
        page_size: int = 50,
        rate_limit: str = "60 per minute",
    ) -> str:
        """Add a tier as an admin would. Default (rolled-back) mode only: tiers are not truncated.

        Tiers are the owner's table (the app role may only read them), so this steps out of the
        app role for the one statement and back into it.
        """
        assert self.conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        role = self.conn.execute("SELECT current_user AS role").fetchone()
        self.conn.execute("RESET ROLE")
        try:
            self.conn.execute(
                """
                INSERT INTO tiers (name, transcripts_readable, fields, retention_days,
                                   redaction_policy, page_size, rate_limit)
                VALUES (%(name)s, %(transcripts_readable)s, %(fields)s, %(retention_days)s,
                        %(redaction_policy)s, %(page_size)s, %(rate_limit)s)
                """,
                {
                    "name": name,
                    "transcripts_readable": transcripts_readable,
                    "fields": list(fields),
                    "retention_days": retention_days,
                    "redaction_policy": redaction_policy,
                    "page_size": page_size,
                    "rate_limit": rate_limit,
                },
            )
        finally:
            self.conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role["role"])))
        return name

    def client(
        self,
        *,
        kind: str = "developer",
        developer_id: int | None = None,
        redirect_uris: list[str] | None = None,
    ) -> Any:
        return self._run(
            oauth_clients_service.register_client,
            actor=audit.SYSTEM,
            kind=kind,
            developer_id=developer_id,
            redirect_uris=redirect_uris,
        )

    def skill(self, developer_id: int, *, name: str | None = None) -> str:
        return str(
            self._run(
                skills_repo.insert_skill,
                developer_id=developer_id,
                name=name or f"Skill {next(_sequence)}",
            )
        )

    def user(self, *, is_child: bool = False) -> str:
        return str(
            self._run(
                users_repo.upsert_user,
                platform_user_id=f"platform-user-{next(_sequence)}",
                is_child=is_child,
            )
        )

    def user_with_password(
        self, password: str = USER_PASSWORD, *, is_child: bool = False
    ) -> tuple[str, str]:
        """A user who set `password`; (gateway id, login: the platform user id)."""
        user_id = self.user(is_child=is_child)
        self._run(user_accounts_service.set_password, user=user_id, password=password)
        login = self.rows("SELECT platform_user_id FROM users WHERE id = %s", (user_id,))[0]
        return user_id, str(login["platform_user_id"])

    def admin_account(
        self, name: str | None = None, password: str = ADMIN_PASSWORD
    ) -> admins_service.NewAdmin:
        """An admin account with a TOTP secret (in `.totp_secret`), password `password`."""
        return self._run(
            admins_service.create_admin,
            actor=audit.SYSTEM,
            name=name or f"admin{next(_sequence)}",
            password=password,
            server_secret=SECRET_KEY,
        )

    def consent(self, user_id: str, skill_id: str, **kwargs: Any) -> int:
        return int(
            self._run(consents_repo.insert_consent, user_id=user_id, skill_id=skill_id, **kwargs)
        )

    def revoke(self, user_id: str, skill_id: str, **kwargs: Any) -> bool:
        return bool(
            self._run(consents_repo.update_revoked, user_id=user_id, skill_id=skill_id, **kwargs)
        )

    def interaction(
        self, skill_id: str, user_id: str, *, stored_forms: bool = True, **values: Any
    ) -> str:
        """Store an interaction as ingest does: ledger, row, redacted forms, audio reference.

        `stored_forms=False` leaves its redacted forms out, as for a row written before
        write-time redaction; the read path must then redact it itself.
        """
        platform_id = values.pop(
            "platform_interaction_id", f"platform-interaction-{next(_sequence)}"
        )
        audio_ref = values.pop("audio_ref", None)
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "skill_id": skill_id,
            "user_id": user_id,
            "session_id": "",
            "occurred_at": datetime.now(UTC),
            "utterance": "order a large pepperoni pizza",
            "response": "Your large pepperoni pizza is on its way.",
            "intent": "OrderPizza",
            "slots": {},
            "outcome": "success",
            "order_ref": "",
            "sensitive_category": None,
            "device_serial": "",
            **values,
        }

        def store(conn: psycopg.Connection) -> None:
            interactions_repo.ensure_months(conn, [row["occurred_at"]])
            interactions_repo.insert_ledger(
                conn, [(platform_id, row["id"], row["occurred_at"], "factory")]
            )
            interactions_repo.insert_interactions(conn, [row])
            if stored_forms:
                texts_repo.upsert_texts(conn, redaction_service.redact_for_storage(row))
            if audio_ref:
                interactions_repo.store_audio_reference(
                    conn, interaction_id=row["id"], occurred_at=row["occurred_at"], ref=audio_ref
                )

        self._run(store)
        return str(row["id"])

    def pseudonym(self, developer_id: int, pseudonym: str, user_id: str) -> None:
        self._run(
            pseudonyms_repo.insert_pseudonyms,
            developer_id=developer_id,
            pairs=[(pseudonym, user_id)],
        )

    def read_logged(
        self, developer_id: int, client_id: str, skill_id: str, interaction_id: str, user_id: str
    ) -> None:
        """An access-log row, as the developer's read would write it."""
        self._run(
            access_log_repo.insert_reads,
            developer_id=developer_id,
            client_id=client_id,
            skill_id=skill_id,
            endpoint="interaction",
            reads=[(interaction_id, user_id)],
        )
