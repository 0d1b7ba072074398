"""Hand-written mutants of the rule code, each run against the tests that should catch it.

Run from the repository root, with the test settings the README gives (a PostgreSQL URL in
GATEWAY_TEST_DATABASE_URL makes each run much faster than the embedded default):

    python bench/mutants.py                  # every mutant, then the table and the score
    python bench/mutants.py --only NAME ...  # a subset (exact names; --list shows them)
    python bench/mutants.py --workers 2      # pass -n 2 to pytest (pytest-xdist)
    python bench/mutants.py --no-stop        # without -x: every test each mutant fails

A mutant is a small edit that breaks one rule of DESIGN §2: a file, the exact text it
replaces, the replacement. Mutants are applied one at a time to the working tree and always
restored (also on Ctrl-C, SIGTERM or an error; after a hard kill the next run restores from
its journal first). After each one, a focused pytest selection runs with -x -q: a failing
test kills the mutant. A mutant whose original text is not in the tree (the code moved on)
is reported 'not applicable' and left out of the score. Mutants marked `pending` are fixed
by work on another branch: they are reported, and left out of the score until it merges.
Exit status: 0 when every scored mutant was killed, 1 otherwise.
"""

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_SQL = "gateway/sql/migrations/0004_platform_ingest.sql"
CORE_SQL = "gateway/sql/migrations/0001_core.sql"
JOURNAL = Path(tempfile.gettempdir()) / (
    "gateway-mutants-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12] + ".json"
)


@dataclass(frozen=True)
class Edit:
    path: str
    original: str
    replacement: str


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    description: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]
    pending: str = ""  # who fixes it when no test here is expected to kill it yet
    source: str = "bench"  # "spec" (the review's list), "mutmut" (its survivors) or "bench"


def m(
    name: str,
    rule: str,
    description: str,
    edits: list[tuple[str, str, str]],
    tests: list[str],
    *,
    pending: str = "",
    source: str = "bench",
) -> Mutant:
    return Mutant(
        name,
        rule,
        description,
        tuple(Edit(*e) for e in edits),
        tuple(tests),
        pending=pending,
        source=source,
    )


# Test selections, the likeliest killer first (-x stops at the first failure).
READ = [
    "tests/services/test_consents.py",
    "tests/services/test_tiers.py",
    "tests/services/test_redaction.py",
    "tests/services/test_interactions.py",
    "tests/services/test_access_log.py",
    "tests/views/test_developers.py",
]
ORACLE = ["tests/services/test_read_rules_oracle.py"]
RLS = ["tests/test_rls.py", "tests/test_migrations.py"]
CURSORS = ["tests/views/test_developers.py", "tests/views/test_errors.py", "tests/test_security.py"]
ERRORS = ["tests/views/test_errors.py", "tests/views/test_developers.py"]
OAUTH = ["tests/views/test_oauth_api.py", "tests/test_routes.py", "tests/test_security.py"]
POOL = ["tests/test_rls.py", "tests/test_architecture.py", "tests/test_faults.py"]
USERDATA_SQL = "gateway/sql/migrations/0010_userdata.sql"
DELETION = [
    "tests/services/test_deletions.py",
    "tests/test_plain_owner.py",
    "tests/test_deletion_canary.py",
]
USERDATA = ["tests/services/test_my_data.py", "tests/views/test_voice_relay.py"]
WHITELIST = ["tests/views/test_whitelist.py", "tests/services/test_whitelist.py"]
WHITELIST_SQL = "gateway/sql/migrations/0007_whitelist.sql"
LIFECYCLE_SQL = "gateway/sql/migrations/0008_client_lifecycle.sql"
ADMIN = [
    "tests/views/test_admin_accounts.py",
    "tests/views/test_admin_authorization.py",
    "tests/views/test_admin_lifecycle_instances.py",
    "tests/services/test_suspension_race.py",
]

MUTANTS: list[Mutant] = [
    # --- the review's list: mutants the suite did not catch
    m(
        "rls-interactions-open",
        "1",
        "interactions: developer read policy USING (true)",
        [
            (
                PLATFORM_SQL,
                "CREATE POLICY interactions_read_by_developers ON interactions FOR SELECT\n"
                "    USING (skill_id IN (SELECT id FROM skills"
                " WHERE developer_id = gateway_developer_id()));",
                "CREATE POLICY interactions_read_by_developers ON interactions FOR SELECT\n"
                "    USING (true);",
            )
        ],
        RLS,
        source="spec",
    ),
    m(
        "rls-pseudonyms-open",
        "1",
        "user_pseudonyms policy USING (true)",
        [
            (
                CORE_SQL,
                "CREATE POLICY user_pseudonyms_access ON user_pseudonyms\n"
                "    USING (gateway_role() = 'system' OR developer_id = gateway_developer_id())",
                "CREATE POLICY user_pseudonyms_access ON user_pseudonyms\n    USING (true)",
            )
        ],
        RLS,
        source="spec",
    ),
    m(
        "rls-access-log-read-open",
        "7",
        "access_log read policy USING (true)",
        [
            (
                CORE_SQL,
                "CREATE POLICY access_log_read ON access_log FOR SELECT\n"
                "    USING (gateway_role() IN ('admin', 'system') OR user_id = gateway_user_id()\n"
                "           OR developer_id = gateway_developer_id());",
                "CREATE POLICY access_log_read ON access_log FOR SELECT\n    USING (true);",
            )
        ],
        RLS,
        source="spec",
    ),
    m(
        "pseudonym-filter-any-developer",
        "5",
        "find_user_id without its developer filter, pseudonym policy USING (true)",
        [
            (
                "gateway/repositories/pseudonyms.py",
                "SELECT user_id FROM user_pseudonyms\n"
                "        WHERE developer_id = %(developer_id)s AND pseudonym = %(pseudonym)s",
                "SELECT user_id FROM user_pseudonyms\n        WHERE pseudonym = %(pseudonym)s",
            ),
            (
                CORE_SQL,
                "CREATE POLICY user_pseudonyms_access ON user_pseudonyms\n"
                "    USING (gateway_role() = 'system' OR developer_id = gateway_developer_id())",
                "CREATE POLICY user_pseudonyms_access ON user_pseudonyms\n    USING (true)",
            ),
        ],
        ["tests/services/test_interactions.py", "tests/views/test_developers.py", *RLS],
        source="spec",
    ),
    m(
        "bind-developer-session-level",
        "1",
        "bind_principal sets gateway.developer_id session-level (pooled connections)",
        [
            (
                "gateway/db.py",
                "set_config('gateway.developer_id', %(developer_id)s, true)",
                "set_config('gateway.developer_id', %(developer_id)s, false)",
            )
        ],
        POOL,
        source="spec",
    ),
    m(
        "consent-any-skill",
        "2",
        "consent to one skill opens the developer's other skills",
        [("gateway/repositories/consents.py", "        AND c.skill_id = i.skill_id\n", "")],
        ["tests/services/test_consents.py", "tests/views/test_developers.py"],
        source="spec",
    ),
    m(
        "gate-on-tier-name",
        "3",
        "transcript gate keyed on the tier's name 'none', not transcripts_readable",
        [
            (
                "gateway/services/tiers.py",
                "    if not developer.tier.transcripts_readable:",
                '    if developer.tier.name == "none":',
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
        source="spec",
    ),
    m(
        "session-on-every-tier",
        "3",
        "the session pseudonym returned on every tier",
        [
            (
                "gateway/services/redaction.py",
                'if "session" in shown and row["session_id"]:',
                'if row["session_id"]:',
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
        source="spec",
    ),
    m(
        "standard-seeded-trusted-policy",
        "3",
        "the standard tier seeded with the trusted policy",
        [
            (
                CORE_SQL,
                "('standard', true, '{utterance,intent,outcome,order_ref}', 30, 'standard', 50,",
                "('standard', true, '{utterance,intent,outcome,order_ref}', 30, 'trusted', 50,",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
        source="spec",
    ),
    m(
        "session-scope-shared",
        "5",
        "session pseudonyms not scoped per developer",
        [
            (
                "gateway/services/redaction.py",
                '        scope=f"developer:{developer.id}:session",',
                '        scope="session",',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="spec",
    ),
    m(
        "cursor-mac-plain-compare",
        "cursor",
        "the cursor MAC compared with != instead of compare_digest",
        [
            (
                "gateway/security.py",
                "    if not hmac.compare_digest(expected.encode(), mac.encode()):",
                "    if expected != mac:",
            )
        ],
        ["tests/test_security.py", *CURSORS[:2]],
        source="spec",
    ),
    m(
        "fingerprint-without-skill",
        "cursor",
        "the cursor fingerprint omits the skill",
        [
            (
                "gateway/views/developers.py",
                'json.dumps({"skill": skill_id, **parts}, sort_keys=True)',
                "json.dumps(parts, sort_keys=True)",
            )
        ],
        CURSORS,
        source="spec",
    ),
    m(
        "constant-cursor-key",
        "cursor",
        "cursors signed with a constant key instead of SECRET_KEY",
        [
            (
                "gateway/views/developers.py",
                '    secret: str = current_app.config["SECRET_KEY"]',
                '    secret: str = "gateway-cursors"',
            )
        ],
        CURSORS,
        source="spec",
    ),
    m(
        "data-error-leaks-message",
        "9",
        "the DataError handler returns the driver's message",
        [
            (
                "gateway/views/errors.py",
                '    return envelope(422, "invalid_request", "Some parameters are not valid.")\n'
                "\n\ndef _database_error",
                '    return envelope(422, "invalid_request", str(error))\n\n\ndef _database_error',
            )
        ],
        ERRORS,
        source="spec",
    ),
    # --- mutmut's survivors on the read path's presentation
    m(
        "placeholders-per-text",
        "5",
        "a fresh placeholder numbering for each text of an interaction",
        [
            (
                "gateway/services/redaction.py",
                'found.redact(raw["response"], policy, placeholders=placeholders, keep=keep)',
                'found.redact(raw["response"], policy, placeholders=Placeholders(), keep=keep)',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "placeholders-per-slot",
        "5",
        "a fresh placeholder numbering for each slot value",
        [
            (
                "gateway/services/redaction.py",
                "str(key), value, policy, found, placeholders=placeholders, keep=keep",
                "str(key), value, policy, found, placeholders=Placeholders(), keep=keep",
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "placeholders-per-page",
        "5",
        "one placeholder numbering shared by every interaction of a page",
        [
            (
                "gateway/services/redaction.py",
                "    placeholders = Placeholders()  # one numbering across all texts",
                "    placeholders = _PAGE  # one numbering across all texts",
            ),
            (
                "gateway/services/redaction.py",
                '_PLAIN_FIELDS = ("intent", "outcome", "order_ref")\n',
                '_PLAIN_FIELDS = ("intent", "outcome", "order_ref")\n_PAGE = Placeholders()\n',
            ),
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "intent-key-renamed",
        "3",
        "the intent field under another name (dropped by the allowlist)",
        [
            (
                "gateway/services/redaction.py",
                '_PLAIN_FIELDS = ("intent", "outcome", "order_ref")',
                '_PLAIN_FIELDS = ("XXintentXX", "outcome", "order_ref")',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "outcome-key-renamed",
        "3",
        "the outcome field under another name (dropped by the allowlist)",
        [
            (
                "gateway/services/redaction.py",
                '_PLAIN_FIELDS = ("intent", "outcome", "order_ref")',
                '_PLAIN_FIELDS = ("intent", "XXoutcomeXX", "order_ref")',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "occurred-at-key-renamed",
        "3",
        "occurred_at under another name (dropped by the allowlist)",
        [
            (
                "gateway/services/redaction.py",
                '        "occurred_at": row["occurred_at"],',
                '        "XXoccurred_atXX": row["occurred_at"],',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "occurred-at-not-allowed-out",
        "4",
        "occurred_at missing from the fields that may leave",
        [("gateway/services/audio.py", '        "occurred_at",\n', '        "XXoccurred_atXX",\n')],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "keep-order-ref-when-hidden",
        "5",
        "the order-reference keep list applied when the tier hides order_ref",
        [
            (
                "gateway/services/redaction.py",
                "item[name] = hidden if ref_hidden and hidden is not None else row[name]",
                "item[name] = row[name]",
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "keep-order-ref-or",
        "5",
        "the keep list condition with `or`: a hidden order reference stays in the text",
        [
            (
                "gateway/services/redaction.py",
                "item[name] = hidden if ref_hidden and hidden is not None else row[name]",
                "item[name] = hidden if ref_hidden or hidden is not None else row[name]",
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "slot-non-string-unredacted",
        "5",
        "non-string slot values shown as they are, unredacted",
        [
            (
                "gateway/services/redaction.py",
                "    text = _slot_text(value)\n    words = name.lower()",
                "    text = _slot_text(value)\n    if not isinstance(value, str):\n"
                "        return text\n    words = name.lower()",
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "slot-non-string-blank",
        "5",
        "non-string slot values shown blank",
        [
            (
                "gateway/services/redaction.py",
                "return value if isinstance(value, str) else str(value)",
                'return value if isinstance(value, str) else ""',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    m(
        "extra-empty-page",
        "3",
        "a next cursor when exactly a page's worth of rows is readable",
        [
            (
                "gateway/services/interactions.py",
                "    more = len(rows) > page_size",
                "    more = len(rows) >= page_size",
            )
        ],
        ["tests/services/test_interactions.py", "tests/views/test_developers.py"],
        source="mutmut",
    ),
    # --- rule 1: own skills
    m(
        "skill-check-skipped-on-list",
        "1",
        "the list does not check the skill is the caller's (200 [] instead of 404)",
        [
            (
                "gateway/services/interactions.py",
                "    skills.get_skill(conn, developer_id=developer.id, skill_id=skill_id)\n"
                "    tiers.require_transcripts(developer)\n"
                "    page_size",
                "    tiers.require_transcripts(developer)\n    page_size",
            )
        ],
        ["tests/views/test_developers.py", "tests/views/test_errors.py"],
    ),
    m(
        "rls-skills-open",
        "1",
        "skills policy lets every developer see every skill",
        [
            (
                CORE_SQL,
                "CREATE POLICY skills_access ON skills\n"
                "    USING (gateway_role() IN ('admin', 'system')"
                " OR developer_id = gateway_developer_id())",
                "CREATE POLICY skills_access ON skills\n    USING (true)",
            )
        ],
        RLS,
    ),
    m(
        "rls-consents-open",
        "1",
        "consents readable by every developer",
        [
            (
                CORE_SQL,
                "CREATE POLICY consents_read_by_developers ON consents FOR SELECT\n"
                "    USING (skill_id IN (SELECT id FROM skills"
                " WHERE developer_id = gateway_developer_id()));",
                "CREATE POLICY consents_read_by_developers ON consents FOR SELECT\n"
                "    USING (true);",
            )
        ],
        RLS,
    ),
    m(
        "rls-users-open",
        "1",
        "users readable by every developer",
        [
            (
                CORE_SQL,
                "CREATE POLICY users_read_by_developers ON users FOR SELECT\n"
                "    USING (EXISTS (SELECT 1 FROM consents c WHERE c.user_id = users.id));",
                "CREATE POLICY users_read_by_developers ON users FOR SELECT\n    USING (true);",
            )
        ],
        RLS,
    ),
    m(
        "rls-tier-grants-open",
        "3",
        "tier grants readable by every developer",
        [
            (
                CORE_SQL,
                "CREATE POLICY tier_grants_access ON tier_grants\n"
                "    USING (gateway_role() IN ('admin', 'system')"
                " OR developer_id = gateway_developer_id())",
                "CREATE POLICY tier_grants_access ON tier_grants\n    USING (true)",
            )
        ],
        RLS,
    ),
    m(
        "rls-tier-grants-writable",
        "3",
        "a developer may grant itself a tier",
        [
            (
                CORE_SQL,
                "CREATE POLICY tier_grants_access ON tier_grants\n"
                "    USING (gateway_role() IN ('admin', 'system')"
                " OR developer_id = gateway_developer_id())\n"
                "    WITH CHECK (gateway_role() IN ('admin', 'system'));",
                "CREATE POLICY tier_grants_access ON tier_grants\n"
                "    USING (gateway_role() IN ('admin', 'system')"
                " OR developer_id = gateway_developer_id())\n"
                "    WITH CHECK (true);",
            ),
            # and the second layer, the proven caller (0002), which would mask the first
            (
                "gateway/sql/migrations/0002_least_privilege.sql",
                "CREATE POLICY tier_grants_verified_insert ON tier_grants AS RESTRICTIVE"
                " FOR INSERT\n"
                "    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));",
                "CREATE POLICY tier_grants_verified_insert ON tier_grants AS RESTRICTIVE"
                " FOR INSERT\n    WITH CHECK (true);",
            ),
        ],
        [*RLS, "tests/test_database_privileges.py"],
    ),
    m(
        "rls-interactions-not-forced",
        "1",
        "row-level security on interactions not FORCEd",
        [(PLATFORM_SQL, "ALTER TABLE interactions FORCE ROW LEVEL SECURITY;\n", "")],
        RLS,
    ),
    # --- rule 2: consent
    m(
        "consent-strictly-before",
        "2",
        "a consent granted at the very instant of the interaction does not cover it",
        [
            (
                "gateway/repositories/consents.py",
                "AND c.granted_at <= i.occurred_at",
                "AND c.granted_at < i.occurred_at",
            )
        ],
        ["tests/services/test_consents.py", "tests/views/test_developers.py"],
    ),
    m(
        "consent-any-time",
        "2",
        "a consent granted after the interaction opens it",
        [("gateway/repositories/consents.py", "        AND c.granted_at <= i.occurred_at\n", "")],
        ["tests/services/test_consents.py", "tests/views/test_developers.py"],
    ),
    m(
        "consent-revocation-ignored",
        "2",
        "a revoked consent still opens its period",
        [("gateway/repositories/consents.py", "        AND c.revoked_at IS NULL\n", "")],
        ["tests/services/test_consents.py", "tests/views/test_developers.py"],
    ),
    m(
        "consent-any-user",
        "2",
        "one user's consent opens every user's interactions with the skill",
        [
            (
                "gateway/repositories/consents.py",
                "      WHERE c.user_id = i.user_id\n        AND",
                "      WHERE",
            )
        ],
        ["tests/services/test_consents.py", "tests/views/test_developers.py"],
    ),
    m(
        "consent-check-dropped",
        "2",
        "no consent needed at all",
        [
            (
                "gateway/repositories/interactions.py",
                'AND {within_retention} AND {consented}")',
                'AND {within_retention} AND ({consented} OR true)")',
            )
        ],
        ["tests/services/test_consents.py", "tests/views/test_developers.py"],
    ),
    # --- rule 3: tiers
    m(
        "retention-sign",
        "3",
        "the retention window counted forward from now",
        [
            (
                "gateway/services/tiers.py",
                "return now - timedelta(days=developer.tier.retention_days)",
                "return now + timedelta(days=developer.tier.retention_days)",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "retention-doubled",
        "3",
        "the retention window twice the tier's",
        [
            (
                "gateway/services/tiers.py",
                "timedelta(days=developer.tier.retention_days)",
                "timedelta(days=developer.tier.retention_days * 2)",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "retention-clause-inverted",
        "3",
        "the retention clause keeps only what is older than the window",
        [
            (
                "gateway/repositories/tiers.py",
                '"i.occurred_at >= %(not_before)s"',
                '"i.occurred_at <= %(not_before)s"',
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "retention-clause-dropped",
        "3",
        "no retention window",
        [
            (
                "gateway/repositories/tiers.py",
                'WITHIN_RETENTION = "i.occurred_at >= %(not_before)s"',
                'WITHIN_RETENTION = "%(not_before)s::timestamptz IS NOT NULL"',
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "page-size-uncapped",
        "3",
        "the caller's limit not capped by the tier's page size",
        [
            (
                "gateway/services/tiers.py",
                "return min(requested or developer.tier.page_size, developer.tier.page_size)",
                "return requested or developer.tier.page_size",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "fields-beyond-tier",
        "3",
        "every tier also sees the assistant's response",
        [
            (
                "gateway/services/tiers.py",
                "    return frozenset(developer.tier.fields)",
                '    return frozenset(developer.tier.fields) | {"response"}',
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "policy-by-tier-name",
        "3",
        "the redaction policy looked up by the tier's name",
        [
            (
                "gateway/services/tiers.py",
                "return get_policy(developer.tier.redaction_policy)",
                "return get_policy(developer.tier.name)",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "unknown-policy-fails-open",
        "5",
        "a tier naming an unknown policy gets the most lenient one",
        [
            (
                "gateway/services/tiers.py",
                "        return get_policy(STRICTEST_POLICY)",
                '        return get_policy("trusted")',
            )
        ],
        ["tests/views/test_developers.py", "tests/services/test_tiers.py"],
    ),
    m(
        "gate-skipped-on-detail",
        "3",
        "the single read does not check the tier allows transcripts",
        [
            (
                "gateway/services/interactions.py",
                "    tiers.require_transcripts(developer)\n"
                "    row = interactions_repo.find_readable(",
                "    row = interactions_repo.find_readable(",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "none-tier-seeded-readable",
        "3",
        "the none tier seeded with transcripts readable",
        [(CORE_SQL, "    ('none', false, '{}', 0,", "    ('none', true, '{}', 0,")],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "standard-seeded-with-response",
        "3",
        "the standard tier seeded with the response field",
        [
            (
                CORE_SQL,
                "('standard', true, '{utterance,intent,outcome,order_ref}'",
                "('standard', true, '{utterance,response,intent,outcome,order_ref}'",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "standard-seeded-90-days",
        "3",
        "the standard tier seeded with 90 days of retention",
        [
            (
                CORE_SQL,
                "'{utterance,intent,outcome,order_ref}', 30, 'standard'",
                "'{utterance,intent,outcome,order_ref}', 90, 'standard'",
            )
        ],
        ["tests/services/test_tiers.py", "tests/views/test_developers.py"],
    ),
    m(
        "suspended-developer-reads",
        "3",
        "a suspended developer keeps reading",
        [
            (
                "gateway/services/developers.py",
                "    if developer.suspended_at is not None:",
                "    if False:",
            )
        ],
        ["tests/views/test_developers.py"],
    ),
    # --- rule 4: never audio
    m(
        "app-role-reads-audio",
        "4",
        "the app role granted the audio vault",
        [
            (
                CORE_SQL,
                "REVOKE ALL ON SCHEMA vault FROM PUBLIC;",
                "GRANT USAGE ON SCHEMA vault TO gateway_app;\n"
                "GRANT SELECT ON vault.audio_recordings TO gateway_app;",
            )
        ],
        ["tests/test_migrations.py"],
    ),
    m(
        "app-role-reads-serials",
        "4",
        "the app role granted interactions.device_serial",
        [
            (
                PLATFORM_SQL,
                "outcome, order_ref, sensitive_category, created_at),",
                "outcome, order_ref, sensitive_category, created_at, device_serial),",
            )
        ],
        ["tests/test_migrations.py", "tests/views/test_ingest.py"],
    ),
    # --- rule 5: redaction and pseudonyms
    m(
        "response-unredacted",
        "5",
        "the assistant's response stored (and shown) as it is",
        [
            (
                "gateway/services/redaction.py",
                'response = found.redact(raw["response"], policy,'
                " placeholders=placeholders, keep=keep)",
                'response = raw["response"]',
            ),
        ],
        ["tests/services/test_stored_forms.py", "tests/services/test_redaction.py"],
    ),
    m(
        "slots-unredacted",
        "5",
        "slot values shown as they are",
        [
            (
                "gateway/services/redaction.py",
                '            "value": _redact_slot(\n'
                "                str(key), value, policy, found, placeholders=placeholders,"
                " keep=keep\n"
                "            ),",
                '            "value": _slot_text(value),',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
    ),
    m(
        "user-pseudonym-global",
        "5",
        "user pseudonyms the same for every developer",
        [
            (
                "gateway/services/redaction.py",
                'user_id, scope=f"developer:{developer_id}", keys=keyring.keys',
                'user_id, scope="users", keys=keyring.keys',
            )
        ],
        ["tests/views/test_developers.py", "tests/services/test_redaction.py"],
    ),
    m(
        "user-id-in-clear",
        "5",
        "the platform's user id shown instead of a pseudonym",
        [
            (
                "gateway/services/redaction.py",
                '        "user": user_pseudonym(developer, str(row["user_id"]), keyring),',
                '        "user": str(row["user_id"]),',
            )
        ],
        ["tests/views/test_developers.py", "tests/services/test_redaction.py"],
    ),
    m(
        "session-shares-user-scope",
        "5",
        "session pseudonyms in the user pseudonyms' scope",
        [
            (
                "gateway/services/redaction.py",
                '        scope=f"developer:{developer.id}:session",',
                '        scope=f"developer:{developer.id}",',
            )
        ],
        ["tests/services/test_redaction.py", "tests/views/test_developers.py"],
    ),
    m(
        "unknown-pseudonym-reads-all",
        "5",
        "a pseudonym the developer was never shown filters nothing",
        [
            (
                "gateway/services/interactions.py",
                "            return Page([], None)  # a pseudonym",
                "            pass  # a pseudonym",
            )
        ],
        ["tests/services/test_interactions.py", "tests/views/test_developers.py"],
    ),
    # --- rule 6: protected groups
    m(
        "children-readable",
        "6",
        "child profiles readable",
        [
            (
                "gateway/repositories/protected_groups.py",
                'NOT_A_CHILD = "NOT u.is_child"',
                'NOT_A_CHILD = "true"',
            )
        ],
        ["tests/views/test_developers.py", *ORACLE],
    ),
    m(
        "sensitive-uncovered",
        "6",
        "sensitive interactions need no covering consent",
        [
            (
                "gateway/repositories/protected_groups.py",
                '"(i.sensitive_category IS NULL OR i.sensitive_category = ANY (c.categories))"',
                '"true"',
            )
        ],
        ["tests/views/test_developers.py", *ORACLE],
    ),
    m(
        "sensitive-any-cover",
        "6",
        "a consent covering one sensitive category opens the other",
        [
            (
                "gateway/repositories/protected_groups.py",
                "i.sensitive_category = ANY (c.categories)",
                "cardinality(c.categories) > 0",
            )
        ],
        ["tests/views/test_developers.py", *ORACLE],
    ),
    # --- rule 7: audit of reads
    m(
        "access-log-skipped",
        "7",
        "reads not written to the access log",
        [
            (
                "gateway/services/interactions.py",
                "    access_log.log_reads(\n        conn, rows,",
                "    (lambda *args, **kwargs: None)(\n        conn, rows,",
            )
        ],
        ["tests/services/test_access_log.py", "tests/views/test_developers.py"],
    ),
    m(
        "access-log-wrong-client",
        "7",
        "the access log does not record which client read",
        [
            (
                "gateway/services/access_log.py",
                "        client_id=client_id,\n",
                '        client_id="",\n',
            )
        ],
        ["tests/services/test_access_log.py", "tests/views/test_developers.py"],
    ),
    m(
        "access-log-logs-look-ahead",
        "7",
        "the look-ahead row (never shown) logged as read",
        [
            ("gateway/services/interactions.py", "    rows = rows[:page_size]\n", ""),
            (
                "gateway/services/interactions.py",
                '    next_after = (rows[-1]["occurred_at"]',
                "    items, rows = items[:page_size], rows[:page_size]\n"
                '    next_after = (rows[-1]["occurred_at"]',
            ),
        ],
        ["tests/services/test_access_log.py", "tests/views/test_developers.py"],
    ),
    m(
        "rls-access-log-writable-as-anyone",
        "7",
        "a developer may write access-log rows in another's name",
        [
            (
                CORE_SQL,
                "    WITH CHECK (gateway_role() = 'system' OR (gateway_role() = 'developer'\n"
                "                AND developer_id = gateway_developer_id()));",
                "    WITH CHECK (true);",
            ),
            # and the second layer, the proven caller (0002), which would mask the first
            (
                "gateway/sql/migrations/0002_least_privilege.sql",
                "                    WHEN 'developer' THEN developer_id ="
                " (SELECT gateway_verified_developer_id())\n"
                "                                          AND client_id ="
                " (SELECT gateway_verified_client_id())\n",
                "                    WHEN 'developer' THEN true\n",
            ),
        ],
        [*RLS, "tests/test_database_privileges.py"],
    ),
    # --- rule 9: errors
    m(
        "data-error-unhandled",
        "9",
        "a DataError is a 500 instead of a 422",
        [
            (
                "gateway/views/errors.py",
                "    app.register_error_handler(psycopg.DataError, _bad_data)\n",
                "",
            )
        ],
        ERRORS,
    ),
    m(
        "unexpected-error-leaks",
        "9",
        "the 500 handler returns the exception's text",
        [
            (
                "gateway/views/errors.py",
                '    return envelope(500, "server_error", "The server could not complete the'
                ' request.")',
                '    return envelope(500, "server_error", str(error))',
            )
        ],
        ERRORS,
    ),
    # --- cursors
    m(
        "fingerprint-without-filters",
        "cursor",
        "a cursor reusable with other filters",
        [
            (
                "gateway/views/developers.py",
                "    parts = {name: str(args.get(name)) for name in _FILTER_ARGS}",
                "    parts: dict[str, str] = {}",
            )
        ],
        CURSORS,
    ),
    m(
        "cursor-fingerprint-unchecked",
        "cursor",
        "a cursor's query fingerprint never compared",
        [
            (
                "gateway/views/developers.py",
                '    if payload is None or payload.get("q") != fingerprint:',
                "    if payload is None:",
            )
        ],
        CURSORS,
    ),
    m(
        "cursor-mac-unchecked",
        "cursor",
        "any MAC accepted on a cursor",
        [
            (
                "gateway/security.py",
                "    if not hmac.compare_digest(expected.encode(), mac.encode()):",
                "    if not hmac.compare_digest(expected.encode(), expected.encode()):",
            )
        ],
        ["tests/test_security.py", *CURSORS[:2]],
    ),
    # --- the read path's paging and filter
    m(
        "no-look-ahead-row",
        "3",
        "no look-ahead row: a page never says another one follows",
        [
            (
                "gateway/services/interactions.py",
                "        limit=page_size + 1,  # one extra row",
                "        limit=page_size,  # one extra row",
            )
        ],
        ["tests/services/test_interactions.py", "tests/views/test_developers.py"],
    ),
    m(
        "user-filter-ignored",
        "5",
        "a pseudonym given as a filter resolves but is not applied",
        [
            (
                "gateway/services/interactions.py",
                "        filters = replace(filters, user_id=user_id)",
                "        filters = replace(filters)",
            )
        ],
        ["tests/services/test_interactions.py", "tests/views/test_developers.py"],
    ),
    m(
        "standard-policy-is-strict",
        "3",
        "the standard policy collapsed into strict: tiers stop telling policies apart",
        [
            (
                "gateway/redaction/policies.py",
                '{**_STRICT, "ZIP": "mask_zip3"},',
                "{**_STRICT},",
            )
        ],
        ["tests/services/test_tiers.py", "tests/redaction/"],
    ),
    # --- OAuth: scopes, expiry, revocation, secrets
    m(
        "scope-request-unchecked",
        "oauth",
        "a client may ask for any scope",
        [
            (
                "gateway/oauth.py",
                "        if not set(requested) <= set(allowed):",
                "        if False:",
            )
        ],
        OAUTH,
    ),
    m(
        "scope-check-inverted",
        "oauth",
        "a scope request checked as a superset instead of a subset",
        [
            (
                "gateway/oauth.py",
                "        if not set(requested) <= set(allowed):",
                "        if not set(requested) >= set(allowed):",
            )
        ],
        OAUTH,
    ),
    m(
        "route-scope-unchecked",
        "oauth",
        "a protected route accepts a token of any scope",
        [
            (
                "gateway/views/protection.py",
                "handle = require_oauth.acquire_token(list(ctx.required_scopes))",
                "handle = require_oauth.acquire_token([])",
            )
        ],
        OAUTH,
    ),
    m(
        "introspect-any-token",
        "oauth",
        "a client may introspect another client's token",
        [("gateway/oauth.py", "        return token.check_client(client)", "        return True")],
        OAUTH,
    ),
    m(
        "token-never-expires",
        "oauth",
        "access tokens never expire",
        [
            (
                "gateway/oauth.py",
                "        return self.now >= self.record.expires_at",
                "        return False",
            )
        ],
        OAUTH,
    ),
    m(
        "revoked-client-token-valid",
        "oauth",
        "a revoked client's tokens stay valid",
        [
            (
                "gateway/services/oauth_tokens.py",
                '        or row["client_revoked_at"] is not None\n',
                "",
            )
        ],
        OAUTH,
    ),
    m(
        "secret-plain-compare",
        "oauth",
        "client secrets compared with ==",
        [
            (
                "gateway/security.py",
                "    matches = hmac.compare_digest(stored or _DUMMY_HASH,"
                " hash_secret(presented, salt=salt))",
                "    matches = (stored or _DUMMY_HASH) == hash_secret(presented, salt=salt)",
            )
        ],
        OAUTH,
    ),
    # --- the caller's binding on pooled connections (same family as the review's pool mutant)
    m(
        "bind-role-session-level",
        "1",
        "bind_principal sets gateway.role session-level",
        [
            (
                "gateway/db.py",
                "set_config('gateway.role', %(kind)s, true)",
                "set_config('gateway.role', %(kind)s, false)",
            )
        ],
        POOL,
    ),
    m(
        "bind-user-session-level",
        "1",
        "bind_principal sets gateway.user_id session-level",
        [
            (
                "gateway/db.py",
                "set_config('gateway.user_id', %(user_id)s, true)",
                "set_config('gateway.user_id', %(user_id)s, false)",
            )
        ],
        POOL,
    ),
    # --- the platform side: write-time redaction, search, ingest
    m(
        "search-raw-text",
        "5",
        "search runs over the raw utterance instead of the redacted form",
        [
            (
                "gateway/repositories/interactions.py",
                "AND t.search_utterance @@ websearch_to_tsquery('english', %(search)s))",
                "AND to_tsvector('english', i.utterance)"
                " @@ websearch_to_tsquery('english', %(search)s))",
            )
        ],
        ["tests/views/test_conversations_and_search.py"],
    ),
    m(
        "search-hidden-field",
        "3",
        "search looks into the response whatever the tier shows",
        [
            (
                "gateway/repositories/interactions.py",
                'in_response="response" in search_in,',
                "in_response=True,",
            )
        ],
        ["tests/views/test_conversations_and_search.py"],
    ),
    m(
        "search-stale-forms",
        "5",
        "search also matches forms made by an older redactor version",
        [
            (
                "gateway/repositories/interactions.py",
                '"""t.version = %(version)s\n',
                '"""t.version IS NOT NULL\n',
            )
        ],
        ["tests/views/test_conversations_and_search.py"],
    ),
    m(
        "stale-form-served",
        "5",
        "a stored form of an older version is served as it is",
        [
            (
                "gateway/services/redaction.py",
                'stale = [row for row in rows if row["form_version"] != version]',
                'stale = [row for row in rows if row["form_version"] is None]',
            )
        ],
        ["tests/services/test_stored_forms.py"],
    ),
    m(
        "child-flag-cleared-by-omission",
        "6",
        "a user re-sent without the child flag becomes an adult",
        [
            (
                "gateway/repositories/users.py",
                "DO UPDATE SET is_child = coalesce(\n"
                "                (SELECT i.is_child FROM input i\n"
                "                 WHERE i.platform_user_id = EXCLUDED.platform_user_id),"
                " users.is_child)",
                "DO UPDATE SET is_child = EXCLUDED.is_child",
            )
        ],
        ["tests/views/test_ingest.py"],
    ),
    m(
        "ingest-reused-id-accepted",
        "9",
        "a platform id re-sent with other content is taken as a duplicate",
        [
            (
                "gateway/services/ingest.py",
                "if (\n"
                "            known is not None\n"
                '            and known["deleted_at"] is None\n'
                '            and known["content_digest"] != digests[index]\n'
                "        ):",
                "if False:",
            )
        ],
        ["tests/views/test_ingest.py"],
    ),
    # --- users' data: consent they control, their access log, deletion that is real
    m(
        "deletion-keeps-ledger-digest",
        "8",
        "a deletion leaves the ingest ledger's digest of the deleted text",
        [
            (
                USERDATA_SQL,
                "    UPDATE ingested_interactions l SET content_digest = '', deleted_at = now()",
                "    UPDATE ingested_interactions l SET deleted_at = now()",
            )
        ],
        DELETION,
    ),
    m(
        "deletion-keeps-session-pseudonyms",
        "8",
        "a deletion leaves the session pseudonyms of sessions it emptied",
        [
            (
                USERDATA_SQL,
                "    WHERE p.skill_id = s.skill_id AND p.session_id = s.session_id\n",
                "    WHERE false\n",
            )
        ],
        DELETION,
    ),
    m(
        "deletion-of-anyones-data",
        "8",
        "a proven user may delete any user's interactions",
        [
            (
                USERDATA_SQL,
                "IF caller = 'user' AND p_user_id = gateway_verified_user_id() THEN",
                "IF caller = 'user' THEN",
            )
        ],
        DELETION,
    ),
    m(
        "deletion-trusts-settings",
        "8",
        "the deletion path takes the caller from the plain settings, not the proof",
        [
            (
                USERDATA_SQL,
                "    caller     text := gateway_verified_role();",
                "    caller     text := gateway_role();",
            ),
            (
                USERDATA_SQL,
                "p_user_id = gateway_verified_user_id()",
                "p_user_id = gateway_user_id()",
            ),
        ],
        ["tests/test_database_privileges.py", *DELETION],
    ),
    m(
        "deletion-unaudited",
        "7",
        "a deletion writes no audit event",
        [
            (
                USERDATA_SQL,
                "    INSERT INTO audit_events (actor_kind, actor_id, action, subject, details)\n"
                "    VALUES (who_kind, who_id, 'deletion.completed', receipt::text,",
                "    PERFORM (who_kind, who_id, 'deletion.completed', receipt::text,",
            )
        ],
        DELETION,
    ),
    m(
        "deletion-without-notices",
        "8",
        "the developers that read deleted interactions are not told",
        [
            (
                "gateway/services/deletions.py",
                '    for reader in row["readers"]:\n',
                '    for reader in row["readers"][:0]:\n',
            )
        ],
        DELETION,
    ),
    m(
        "deletion-notice-names-unread-ids",
        "1",
        "a deletion notice names every deleted interaction, also those the developer never read",
        [
            (
                USERDATA_SQL,
                "          FROM access_log a JOIN unnest(gone_ids) AS d (id)"
                " ON d.id = a.interaction_id\n",
                "          FROM access_log a JOIN unnest(gone_ids) AS d (id) ON true\n",
            )
        ],
        DELETION,
    ),
    m(
        "revocation-without-notice",
        "2",
        "a user's revocation queues no notice to the developer",
        [
            (
                "gateway/services/consents.py",
                "    if revoke_consent(conn, actor=actor, user_id=user_id, skill_id=skill_id):\n"
                "        closed",
                "    if revoke_consent(conn, actor=actor, user_id=user_id, skill_id=skill_id)"
                " and False:\n        closed",
            )
        ],
        USERDATA,
    ),
    m(
        "consent-grant-not-idempotent",
        "2",
        "granting the same consent again starts a new period",
        [
            (
                "gateway/services/consents.py",
                'if current is None or sorted(current["categories"]) != wanted:',
                "if True:",
            )
        ],
        USERDATA,
    ),
    m(
        "access-log-shows-others",
        "7",
        "a user's access log lists every user's reads (both layers open)",
        [
            (
                "gateway/repositories/access_log.py",
                "        WHERE a.user_id = %(user_id)s\n",
                "        WHERE %(user_id)s::uuid IS NOT NULL\n",
            ),
            (
                CORE_SQL,
                "    USING (gateway_role() IN ('admin', 'system') OR user_id = gateway_user_id()\n"
                "           OR developer_id = gateway_developer_id());",
                "    USING (gateway_role() IN ('admin', 'system', 'user')\n"
                "           OR developer_id = gateway_developer_id());",
            ),
        ],
        USERDATA,
    ),
    m(
        "relay-open-to-developers",
        "8",
        "the voice relay takes a developer's token",
        [
            (
                "gateway/views/relay.py",
                "from gateway.views.protection import platform_route\n",
                "from gateway.views.protection import protected\n\n"
                'platform_route = protected("transcripts:read")\n',
            )
        ],
        ["tests/views/test_voice_relay.py"],
    ),
    # --- rule 3: the whitelist (tiers admins manage, grants that end, tier requests)
    m(
        "grant-never-expires",
        "3",
        "a grant past its expiry still decides the tier",
        [
            (
                "gateway/repositories/developers.py",
                "CASE WHEN g.ends_at IS NULL OR g.ends_at > c.now THEN g.tier END",
                "g.tier",
            )
        ],
        WHITELIST,
    ),
    m(
        "grant-expiry-on-database-clock",
        "3",
        "a grant's expiry judged by the database's clock, not the caller's",
        [
            (
                "gateway/repositories/developers.py",
                "CROSS JOIN (SELECT coalesce(%(now)s::timestamptz, now()) AS now) c",
                "CROSS JOIN (SELECT now() AS now) c",
            )
        ],
        WHITELIST,
    ),
    m(
        "recertification-unbounded",
        "3",
        "a top-tier grant may name any expiry, and read time does not cap it either",
        [
            ("gateway/services/whitelist.py", "    if expires_at > latest:", "    if False:"),
            (
                "gateway/repositories/developers.py",
                "CASE WHEN gt.recertify_days IS NULL THEN tg.expires_at",
                "CASE WHEN true THEN tg.expires_at",
            ),
        ],
        WHITELIST,
    ),
    m(
        "recertification-not-capped-at-read",
        "3",
        "read time ignores re-certification (a grant made before a tier became top-tier)",
        [
            (
                "gateway/repositories/developers.py",
                "CASE WHEN gt.recertify_days IS NULL THEN tg.expires_at",
                "CASE WHEN true THEN tg.expires_at",
            )
        ],
        WHITELIST,
    ),
    m(
        "top-tier-granted-for-good",
        "3",
        "a top-tier grant without an expiry is open-ended",
        [
            (
                "gateway/services/whitelist.py",
                "    if expires_at is None:\n        return latest",
                "    if expires_at is None:\n        return None",
            )
        ],
        WHITELIST,
    ),
    m(
        "tier-policy-unchecked",
        "3",
        "a tier may name a redaction policy that does not exist",
        [
            (
                "gateway/services/tier_catalog.py",
                "    if policy not in policy_names():",
                "    if False:",
            )
        ],
        WHITELIST,
    ),
    m(
        "tier-rate-limit-unchecked",
        "3",
        "a tier may carry a rate limit that does not parse",
        [
            (
                "gateway/services/tier_catalog.py",
                "    if not items or any(item.amount < 1 for item in items):",
                "    if False:",
            )
        ],
        WHITELIST,
    ),
    m(
        "tier-request-terms-optional",
        "3",
        "a tier request without the data-use terms acknowledged is filed (both layers)",
        [
            (
                "gateway/services/tier_requests.py",
                "    if accepted_terms is not True:",
                "    if False:",
            ),
            (
                WHITELIST_SQL,
                "    accepted_terms  boolean NOT NULL CHECK (accepted_terms),",
                "    accepted_terms  boolean,",
            ),
        ],
        WHITELIST,
    ),
    m(
        "tier-requests-many-pending",
        "3",
        "a developer may keep several requests pending",
        [
            (
                WHITELIST_SQL,
                "CREATE UNIQUE INDEX tier_requests_one_pending_idx",
                "CREATE INDEX tier_requests_one_pending_idx",
            )
        ],
        WHITELIST,
    ),
    m(
        "whitelist-routes-for-developers",
        "3",
        "the whitelist's admin routes accept a developer's token",
        [
            (
                "gateway/views/admin_whitelist.py",
                "from gateway.views.protection import admin_route\n",
                "from gateway.views.protection import protected\n\n"
                'admin_route = protected("transcripts:read")\n',
            )
        ],
        ["tests/views/test_whitelist.py"],
    ),
    m(
        "tier-none-reads-transcripts",
        "3",
        "tier 'none', where expired grants land, may be given transcripts (both layers)",
        [
            (
                "gateway/services/tier_catalog.py",
                '    if name == NO_TIER and (tier["transcripts_readable"]'
                " or recertify is not None):",
                "    if False:",
            ),
            (
                WHITELIST_SQL,
                "    CHECK (name <> 'none' OR (NOT transcripts_readable"
                " AND recertify_days IS NULL));",
                "    CHECK (true);",
            ),
        ],
        WHITELIST,
    ),
    # --- the lifecycle of developers and clients (admins and operators)
    m(
        "suspension-leaves-tokens",
        "admin",
        "suspending a developer revokes none of its live tokens",
        [
            (
                "gateway/services/developers.py",
                "    token_ids = tokens_repo.revoke_live_tokens(\n"
                "        conn, developer_id=developer_id, now=now or datetime.now(UTC)\n"
                "    )",
                "    token_ids: list[int] = []",
            )
        ],
        ADMIN,
    ),
    m(
        "suspended-developer-gets-tokens",
        "admin",
        "the token endpoint issues tokens to a suspended developer's clients",
        [
            (
                "gateway/oauth.py",
                "            if not developers_service.may_get_tokens(",
                "            if False and not developers_service.may_get_tokens(",
            )
        ],
        ADMIN,
    ),
    m(
        "suspension-check-unlocked",
        "admin",
        "the token endpoint's suspension check takes no lock (a raced token survives)",
        [
            (
                "gateway/repositories/developers.py",
                "WHERE id = %(developer_id)s FOR SHARE",
                "WHERE id = %(developer_id)s",
            )
        ],
        ["tests/services/test_suspension_race.py"],
    ),
    m(
        "revocation-leaves-tokens",
        "admin",
        "revoking a client marks none of its tokens revoked",
        [
            (
                "gateway/services/oauth_clients.py",
                "    token_ids = tokens_repo.revoke_live_tokens("
                "conn, client_id=client_id, now=now)",
                "    token_ids: list[int] = []",
            )
        ],
        ADMIN,
    ),
    m(
        "grace-secret-never-expires",
        "admin",
        "the previous secret authenticates after its grace period",
        [
            (
                "gateway/services/oauth_clients.py",
                "        and now < client.previous_secret_expires_at\n",
                "",
            )
        ],
        ADMIN,
    ),
    m(
        "grace-tokens-never-expire",
        "admin",
        "tokens of a retired secret stay valid after the grace period",
        [
            (
                "gateway/services/oauth_tokens.py",
                "self.secret_retired_at is not None and now >= self.secret_retired_at",
                "False",
            )
        ],
        ADMIN,
    ),
    m(
        "rotation-without-grace-keeps-old",
        "admin",
        "a rotation without grace lets the old secret work for a day",
        [
            (
                "gateway/services/oauth_clients.py",
                "    until = now + grace if grace else None",
                "    until = now + (grace or timedelta(days=1))",
            )
        ],
        ADMIN,
    ),
    m(
        "admin-route-any-kind",
        "admin",
        "the admin guard lets a platform token in",
        [
            (
                "gateway/views/protection.py",
                'admin_route = protected("admin", prepare=_kind("admin"))',
                'admin_route = protected("ingest")',
            )
        ],
        ["tests/views/test_admin_authorization.py"],
    ),
    m(
        "clients-update-unverified",
        "admin",
        "any app-role session may rotate or revoke a client (no verified caller)",
        [
            (
                LIFECYCLE_SQL,
                "        IF coalesce(public.gateway_verified_role()"
                " NOT IN ('admin', 'system'), true)",
                "        IF false",
            )
        ],
        ["tests/test_database_privileges.py"],
    ),
    # --- what the logs and caches never keep
    m(
        "log-raw-path",
        "log",
        "the request log line names the path as sent (query included), not the route template",
        [
            (
                "gateway/telemetry.py",
                "    route = rule.rule if rule is not None else metrics.UNMATCHED",
                "    route = request.full_path",
            )
        ],
        ["tests/ops/test_request_log.py"],
    ),
    m(
        "log-unscrubbed",
        "log",
        "other log records keep their message as written (query strings, credentials)",
        [
            (
                "gateway/logs.py",
                '            entry["message"] = scrub(record.getMessage())',
                '            entry["message"] = record.getMessage()',
            )
        ],
        ["tests/ops/test_request_log.py"],
    ),
    m(
        "no-store-prefixes",
        "no-store",
        "Cache-Control: no-store only under /v1/ and /oauth/ (a prefix list)",
        [
            (
                "gateway/__init__.py",
                '    if endpoint not in CACHEABLE_ENDPOINTS and not endpoint.endswith(".static"):',
                '    if request.path.startswith(("/v1/", "/oauth/")):',
            )
        ],
        ["tests/ops/test_no_store.py"],
    ),
    # --- faults and many instances (real servers: slow, so one focused test each)
    m(
        "database-loss-is-500",
        "9",
        "a lost or cancelled database connection is a 500, not a 503 with Retry-After",
        [
            (
                "gateway/db.py",
                "        except psycopg.OperationalError as exc:\n"
                '            logger.warning("database unavailable: %s", exc.__class__.__name__)\n'
                "            raise Unavailable() from exc\n",
                "",
            ),
            (
                "gateway/views/errors.py",
                "    app.register_error_handler(psycopg.OperationalError, _database_error)\n",
                "",
            ),
        ],
        ["tests/test_faults_server.py::test_slow_statements_are_503s_and_leave_no_worker_hung"],
    ),
    m(
        "redis-limits-per-process",
        "3",
        "a Redis storage setting counts in each process's memory instead",
        [
            (
                "gateway/limits.py",
                "        options = {**REDIS_TIMEOUTS, **options}",
                '        uri, options = "memory://", {}',
            )
        ],
        ["tests/test_many_instances.py::test_a_limit_of_n_allows_exactly_n_across_both_instances"],
    ),
    m(
        "fallback-limit-not-shared",
        "3",
        "with the storage down, every worker allows the whole limit",
        [
            (
                "gateway/limits.py",
                "    if not limiter._storage_dead or workers <= 1:",
                "    if True:",
            )
        ],
        [
            "tests/test_faults_server.py::"
            "test_redis_stopped_mid_load_falls_back_to_each_workers_share_and_never_500"
        ],
    ),
    # --- signing in: user tokens (PKCE), sessions, CSRF, attempt limits
    m(
        "pkce-plain-accepted",
        "auth",
        "the authorization endpoint takes a missing or plain code_challenge_method",
        [
            (
                "gateway/oauth.py",
                'if data.get("code_challenge_method") != "S256":',
                'if data.get("code_challenge_method") not in (None, "plain", "S256"):',
            )
        ],
        ["tests/views/test_authorize.py"],
    ),
    m(
        "code-replay-keeps-tokens",
        "auth",
        "a replayed authorization code leaves the tokens issued from it alive",
        [
            (
                "gateway/services/authorization_codes.py",
                'revoked = codes_repo.revoke_tokens_of_code(conn, code_id=int(row["id"]))',
                "revoked: list[int] = []",
            )
        ],
        ["tests/views/test_authorize.py"],
    ),
    m(
        "redirect-uri-prefix",
        "auth",
        "a redirect URI is accepted when it starts with a registered one",
        [
            (
                "gateway/oauth.py",
                "redirect_uri in self.client.redirect_uris",
                "any(redirect_uri.startswith(u) for u in self.client.redirect_uris)",
            )
        ],
        ["tests/views/test_authorize.py"],
    ),
    m(
        "sign-in-limit-per-account",
        "auth",
        "failed sign-ins are counted per account alone: a stranger locks the owner out",
        [
            (
                "gateway/web/attempts.py",
                'strategy.test(pair, "sign-in", _key(kind, account), address)',
                'strategy.test(pair, "sign-in", _key(kind, account))',
            ),
            (
                "gateway/web/attempts.py",
                'strategy.hit(pair, "sign-in", _key(kind, account), address)',
                'strategy.hit(pair, "sign-in", _key(kind, account))',
            ),
        ],
        ["tests/views/test_sign_in.py"],
    ),
    m(
        "csrf-unchecked",
        "auth",
        "a POST form without its CSRF token is accepted",
        [
            (
                "gateway/web/csrf.py",
                '    sent = request.form.get(FIELD, "")\n    binding = _binding(kind)\n',
                "    return\n",
            )
        ],
        ["tests/views/test_sign_in.py", "tests/views/test_authorize.py"],
    ),
    m(
        "password-unchecked",
        "auth",
        "any password signs in to an account that has one",
        [
            (
                "gateway/web/passwords.py",
                "    return bool(matches) and stored is not None\n",
                "    return stored is not None\n",
            ),
            (
                "gateway/web/passwords.py",
                "    except (VerifyMismatchError, VerificationError, InvalidHashError):\n"
                "        return False\n",
                "    except (VerifyMismatchError, VerificationError, InvalidHashError):\n"
                "        return stored is not None\n",
            ),
        ],
        ["tests/test_passwords.py", "tests/views/test_sign_in.py"],
    ),
    m(
        "weak-password-hash-kept",
        "auth",
        "a password hashed with weaker parameters is never upgraded",
        [
            (
                "gateway/services/user_accounts.py",
                "    if passwords.needs_rehash(stored):",
                "    if False:",
            )
        ],
        ["tests/test_passwords.py"],
    ),
    m(
        "json-boolean-lenient",
        "9",
        'a JSON body\'s boolean also takes 1, 0.0, "yes" and "on" (is_child, accepted_terms)',
        [
            (
                "schemas/json_types.py",
                "        if not isinstance(value, bool):\n"
                '            raise self.make_error("invalid")\n'
                "        return value\n",
                "        return bool(super()._deserialize(value, attr, data, **kwargs))\n",
            )
        ],
        ["tests/views/test_ingest.py", "tests/views/test_whitelist.py"],
    ),
    m(
        "json-integer-lenient",
        "9",
        'a JSON body\'s integer also takes "30" and true (tier settings, grace_seconds)',
        [
            (
                "schemas/json_types.py",
                "        if isinstance(value, bool) or not isinstance(value, int | float):\n",
                "        if False:\n",
            )
        ],
        ["tests/views/test_whitelist.py", "tests/views/test_admin_accounts.py"],
    ),
    m(
        "totp-step-reusable",
        "auth",
        "a TOTP code that signed in once signs in again",
        [
            (
                "gateway/repositories/admin_accounts.py",
                "WHERE id = %(id)s AND last_totp_step < %(step)s",
                "WHERE id = %(id)s",
            ),
            ("gateway/web/passwords.py", "if step > after and", "if"),
        ],
        ["tests/views/test_sign_in.py"],
    ),
    m(
        "session-never-expires",
        "auth",
        "a web session outlives its expiry",
        [("gateway/services/web_sessions.py", 'or now >= row["expires_at"]\n', "\n")],
        ["tests/views/test_sign_in.py"],
    ),
    m(
        "page-forms-without-csrf",
        "7",
        "a console or privacy form is accepted without the session's CSRF token",
        [
            (
                "gateway/web/pages.py",
                "                        csrf.check(kind)",
                "                        pass",
            )
        ],
        ["tests/views/test_console_pages.py", "tests/views/test_privacy_pages.py"],
    ),
    m(
        "privacy-page-any-skill",
        "2",
        "the privacy page revokes or grants a consent for a skill the user never used",
        [
            (
                "gateway/views/privacy.py",
                "            return skill_id\n    raise NotFound()",
                "            return skill_id\n    return skill_id",
            )
        ],
        ["tests/views/test_privacy_pages.py"],
    ),
    m(
        "token-for-any-client",
        "auth",
        "the app role may store a token for a client other than the verified caller",
        [
            (
                "gateway/sql/migrations/0013_token_issuance.sql",
                "IF NEW.client_id IS DISTINCT FROM public.gateway_verified_client_id() THEN",
                "IF false THEN",
            )
        ],
        ["tests/test_database_privileges.py"],
    ),
    m(
        "user-token-with-anyones-code",
        "auth",
        "a user's token may be stored against another user's authorization code",
        [
            (
                "gateway/sql/migrations/0013_token_issuance.sql",
                "              AND c.user_id = NEW.user_id\n",
                "",
            )
        ],
        ["tests/test_database_privileges.py"],
    ),
    m(
        "page-error-as-json",
        "9",
        "a NUL in a sign-in form answers the API's JSON envelope instead of a page",
        [
            (
                "gateway/views/errors.py",
                '    if shown := _as_page(422, "Some of what was sent cannot be stored (a NUL '
                'character?)."):\n        return shown\n',
                "",
            )
        ],
        ["tests/views/test_page_errors.py"],
    ),
    m(
        "dead-connection-lent",
        "9",
        "a pooled connection the server ended is lent to a request (a 503 instead of a fresh one)",
        [("gateway/db.py", "    return not _readable(conn.fileno())\n", "    return True\n")],
        ["tests/test_faults.py"],
    ),
    m(
        "console-acts-as-system",
        "7",
        "the console's actions are audited as the system, not as the signed-in admin",
        [
            (
                "gateway/views/console.py",
                "    return audit.Actor.of(ctx.principal)",
                "    return audit.SYSTEM",
            )
        ],
        ["tests/views/test_console_pages.py"],
    ),
]


# --- applying and restoring


def _read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def _write(path: str, text: str) -> None:
    target = ROOT / path
    target.write_text(text, encoding="utf-8")
    # never let a cached bytecode of the other version be used: same size and mtime second
    for cached in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def _restore_from_journal() -> list[str]:
    """Put back files a previous, hard-killed run left mutated; return their paths."""
    if not JOURNAL.exists():
        return []
    saved: dict[str, str] = json.loads(JOURNAL.read_text(encoding="utf-8"))
    for path, text in saved.items():
        _write(path, text)
    JOURNAL.unlink()
    return sorted(saved)


def applicable(mutant: Mutant) -> str | None:
    """None when every edit's original text occurs exactly once; else why not."""
    texts: dict[str, str] = {}
    for edit in mutant.edits:
        texts.setdefault(edit.path, _read(edit.path))
        found = texts[edit.path].count(edit.original)
        if found == 0:
            return f"original text not found in {edit.path}"
        if found > 1:
            raise SystemExit(f"{mutant.name}: original text occurs {found} times in {edit.path}")
        texts[edit.path] = texts[edit.path].replace(edit.original, edit.replacement)
    return None


@contextmanager
def mutated(mutant: Mutant) -> Iterator[None]:
    originals = {edit.path: _read(edit.path) for edit in mutant.edits}
    JOURNAL.write_text(json.dumps(originals), encoding="utf-8")
    try:
        texts = dict(originals)
        for edit in mutant.edits:
            texts[edit.path] = texts[edit.path].replace(edit.original, edit.replacement, 1)
        for path, text in texts.items():
            _write(path, text)
        yield
    finally:
        for path, text in originals.items():
            _write(path, text)
        JOURNAL.unlink(missing_ok=True)


# --- running


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed, survived, not applicable, error
    seconds: float = 0.0
    killers: list[str] = field(default_factory=list)
    note: str = ""
    output: list[str] = field(default_factory=list)


_FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Options:
    workers: int = 1
    stop: bool = True  # -x: the first failing test is enough to kill a mutant


def run_pytest(tests: tuple[str, ...], options: Options) -> tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="mutants-hypothesis-") as storage:
        env = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            # a fresh example database each run: what one mutant taught Hypothesis must not
            # steer the next run, nor land in the project's .hypothesis folder
            "HYPOTHESIS_STORAGE_DIRECTORY": storage,
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            *(["-x"] if options.stop else []),
            "-q",
            "--no-header",
            "-p",
            "no:randomly",
            "--hypothesis-seed=0",
            *(["-n", str(options.workers)] if options.workers > 1 else []),
            *tests,
        ]
        with subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as child:
            try:
                output, _ = child.communicate()
            except KeyboardInterrupt:
                _stop(child)
                raise
    return child.returncode, output


def _stop(child: subprocess.Popen[str]) -> None:
    # let pytest tear down (it drops its test database) before the tree is restored: after a
    # terminal's Ctrl-C it is already stopping; after a kill of this script, ask it to
    for signum in (None, signal.SIGINT, signal.SIGKILL):
        if signum is not None:
            child.send_signal(signum)
        try:
            child.communicate(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:
            continue


def run_one(mutant: Mutant, options: Options) -> Result:
    why_not = applicable(mutant)
    if why_not:
        return Result(mutant, "not applicable", note=why_not)
    started = time.monotonic()
    with mutated(mutant):
        code, output = run_pytest(mutant.tests, options)
    seconds = time.monotonic() - started
    if code == 0:
        return Result(mutant, "survived", seconds)
    killers = list(dict.fromkeys(_FAILED.findall(output)))
    # with -n, pytest-xdist ends a run stopped by -x with exit 2 (interrupted): a failed test
    # in the output still means the mutant was caught
    if code == 1 or (code == 2 and killers):
        return Result(mutant, "killed", seconds, killers=killers or ["?"])
    tail = output.strip().splitlines()[-15:]
    return Result(mutant, "error", seconds, note=f"pytest exit {code}", output=tail)


def baseline(mutants: list[Mutant], options: Options) -> None:
    tests = tuple(dict.fromkeys(t for mutant in mutants for t in mutant.tests))
    print(f"baseline: {len(tests)} test files, unmutated ...", flush=True)
    code, output = run_pytest(tests, options)
    if code != 0:
        print(output)
        raise SystemExit("the unmutated tree fails its own tests: fix that first")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def print_table(results: list[Result]) -> int:
    width = max(len(r.mutant.name) for r in results)
    print()
    print(f"{'mutant':<{width}}  rule    source  result          secs  killed by / note")
    for r in results:
        status = r.status
        if r.mutant.pending and status == "survived":
            status = "survived*"
        detail = r.killers[0] if r.killers else r.note
        if r.mutant.pending and not detail:
            detail = f"pending: {r.mutant.pending}"
        print(
            f"{r.mutant.name:<{width}}  {r.mutant.rule:<6}  {r.mutant.source:<6}  "
            f"{status:<14}  {r.seconds:4.0f}  {detail}"
        )
        for killer in r.killers[1:]:  # only without -x (or with workers)
            print(f"{'':<{width + 40}}{killer}")
        for line in r.output:
            print(f"    | {line}")
    scored = [r for r in results if r.status in {"killed", "survived"} and not r.mutant.pending]
    killed = sum(r.status == "killed" for r in scored)
    pending = [r for r in results if r.mutant.pending and r.status in {"killed", "survived"}]
    skipped = sum(r.status == "not applicable" for r in results)
    errors = sum(r.status == "error" for r in results)
    print()
    print(f"score: {killed}/{len(scored)} killed", end="")
    if pending:
        print(
            f"; pending on another branch: {sum(r.status == 'killed' for r in pending)}"
            f"/{len(pending)} killed (survived* above)",
            end="",
        )
    print(f"; not applicable: {skipped}; errors: {errors}")
    return 0 if killed == len(scored) and errors == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--workers", type=int, default=1, help="pytest-xdist workers (-n)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument(
        "--no-stop", action="store_true", help="run each selection in full (no -x); list all"
    )
    args = parser.parse_args()

    names = [mutant.name for mutant in MUTANTS]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise SystemExit(f"duplicate mutant names: {sorted(duplicates)}")
    if args.list:
        for mutant in MUTANTS:
            here = "" if applicable(mutant) is None else "  (not applicable)"
            print(
                f"{mutant.name:<36} {mutant.rule:<6} {mutant.source:<6} {mutant.description}{here}"
            )
        return 0
    selected = MUTANTS
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            raise SystemExit(f"unknown mutants: {unknown} (see --list)")
        selected = [mutant for mutant in MUTANTS if mutant.name in args.only]

    options = Options(workers=args.workers, stop=not args.no_stop)
    # Ctrl-C and a plain kill both unwind through `mutated`, which restores the tree (SIGINT
    # explicitly too: a shell starts background jobs with it ignored)
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    restored = _restore_from_journal()
    if restored:
        print(f"restored files a killed run left mutated: {', '.join(restored)}")
    if not args.no_baseline:
        baseline(selected, options)

    results: list[Result] = []
    try:
        for number, mutant in enumerate(selected, 1):
            print(f"[{number}/{len(selected)}] {mutant.name} ...", end=" ", flush=True)
            result = run_one(mutant, options)
            print(result.status, flush=True)
            results.append(result)
    except KeyboardInterrupt:
        print("\ninterrupted: the tree is restored; results so far:")
    if not results:
        return 1
    return print_table(results)


if __name__ == "__main__":
    sys.exit(main())
