"""The security suite's world: one caller of every audience with real credentials, the rows
each route acts on, a valid request for every route, and a fingerprint of the database."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from factories import USER_PASSWORD
from pages import sign_in_admin
from tokens import APP_REDIRECT_URI, app_client, csrf_token, pkce_pair, sign_in_user
from tokens import user_bearer_headers as user_headers
from werkzeug.routing import Rule

from gateway.services import audit, tier_requests

INVENTORY = Path(__file__).with_name("route_inventory.txt")
TIERS = ("none", "standard", "trusted")
AUDIENCES = (
    "anonymous",
    *(f"developer:{tier}" for tier in TIERS),
    "admin",
    "platform",
    "user",
    "user-session",
    "admin-session",
)
SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # Flask's own, on every route
METRICS_TOKEN = "m" * 32
AUDIO_REF = "s3://platform-audio/2026/11/sec-suite-rec.wav"
WEBHOOK_URL = "http://127.0.0.1:9/sec-hook"


def route_methods(app: Any) -> dict[tuple[str, str], Rule]:
    """(method, rule) -> Rule for every route of `app`, HEAD and OPTIONS aside."""
    found = {}
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            found[(method, rule.rule)] = rule
    return found


@dataclass(frozen=True)
class Expected:
    method: str
    rule: str
    audience: str
    outcome: str  # 2xx, 3xx or an exact status
    database: str  # "same" or "changed"

    @property
    def line(self) -> str:
        return f"{self.method:<7}{self.rule:<72}{self.audience:<20}{self.outcome:<5}{self.database}"


def read_inventory() -> list[Expected]:
    """The checked-in inventory's lines (comments and blank lines skipped)."""
    lines = []
    for raw in INVENTORY.read_text().splitlines():
        text = raw.split("#", 1)[0].strip()
        if text:
            method, rule, audience, outcome, database = text.split()
            lines.append(Expected(method, rule, audience, outcome, database))
    return lines


def outcome_of(status: int) -> str:
    if 200 <= status < 300:
        return "2xx"
    if 300 <= status < 400:
        return "3xx"
    return str(status)


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    csrf: dict[str, str]
    own: dict[str, dict[str, Any]]  # audience -> path values of the rows it owns
    shared: dict[str, Any]  # path values for the audiences that own nothing there
    authorize_query: str
    audio_ref: str = AUDIO_REF
    values: dict[str, Any] = field(default_factory=dict)

    def path_values(self, audience: str, method: str, rule: Rule) -> dict[str, Any]:
        mine = self.own.get(audience, {})
        values = {name: mine.get(name, self.shared[name]) for name in rule.arguments}
        for name, key in PATH_OVERRIDES.get((method, rule.rule), {}).items():
            values[name] = self.shared[key]
        return values


# reinstating needs a suspended developer: the other admin routes act on one in good standing
PATH_OVERRIDES = {
    ("DELETE", "/v1/admin/developers/<int:developer_id>/suspension"): {
        "developer_id": "suspended_developer"
    },
    ("POST", "/admin/developers/<int:developer_id>/reinstatement"): {
        "developer_id": "suspended_developer"
    },
}


def build_world(app: Any, make: Any, clock: Any, *, sessions: bool = True) -> World:
    """Every audience with real credentials, got through the real endpoints; without the two
    signed-in sessions when `sessions` is false (they cost two password checks)."""
    http = app.test_client()
    now = datetime.now(UTC)
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    own: dict[str, dict[str, Any]] = {}
    consenting = make.user()
    signed_up, login = make.user_with_password(USER_PASSWORD)
    for tier in TIERS:
        developer = make.developer(tier=tier)
        credentials = make.client(developer_id=developer)
        skill = make.skill(developer)
        interaction = ""
        for user in (consenting, signed_up):
            make.consent(user, skill)
            interaction = make.interaction(
                skill, user, session_id=f"sec-{tier}", audio_ref=AUDIO_REF
            )
        # five more users a fortnight ago: the stats show a bucket at every tier's k
        for _ in range(5):
            other = make.user()
            make.consent(other, skill)
            make.interaction(skill, other, occurred_at=now - timedelta(days=14))
        token = bearer_of(http, credentials)
        headers[f"developer:{tier}"] = token
        hook = http.put("/v1/developer/webhook", json={"url": WEBHOOK_URL}, headers=token)
        assert hook.status_code == 200, hook.get_json()
        listed = http.get(f"/v1/skills/{skill}/interactions", headers=token).get_json()
        sessions = [i["session"] for i in listed.get("interactions", []) if i.get("session")]
        own[f"developer:{tier}"] = {
            "skill_id": skill,
            "interaction_id": interaction,
            "session": sessions[0] if sessions else "k1_unknownsession",
        }
    standard = own["developer:standard"]
    headers["admin"] = bearer_of(http, make.client(kind="admin"))
    headers["platform"] = bearer_of(http, make.client(kind="platform"))
    headers["user"] = user_headers(http, login, USER_PASSWORD)
    deleted = http.delete(
        "/v1/me/interactions",
        query_string={"until": (now - timedelta(days=30)).isoformat()},
        headers=headers["user"],
    )
    assert deleted.status_code == 200, deleted.get_json()

    # the admin routes act on a developer of their own, so no other audience loses its token
    spare = make.developer(tier=None)
    spare_client = make.client(developer_id=spare)
    make.skill(spare)
    request_id = make._run(
        tier_requests.submit_request,
        actor=audit.SYSTEM,
        developer_id=spare,
        tier="standard",
        purpose="security suite",
        accepted_terms=True,
    )["id"]
    make.tier_grant(spare, "standard")  # after its request: one on the tier asks for no other
    suspended = make.developer()
    make.suspend(suspended)
    tier = make.tier("sec-spare")
    platform_login = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (signed_up,))
    newcomer = make.user()
    activation = http.post(f"/v1/platform/users/{newcomer}/activation", headers=headers["platform"])
    assert activation.status_code == 200, activation.get_json()

    csrf: dict[str, str] = {}
    if sessions:
        csrf = _sign_in(app, make, clock, login, headers)
    _, challenge = pkce_pair()
    authorize_query = urlencode(
        {
            "response_type": "code",
            "client_id": app_client(http).client_id,
            "redirect_uri": APP_REDIRECT_URI,
            "scope": "privacy",
            "state": "sec",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    shared = {
        **standard,
        "developer_id": spare,
        "client_id": spare_client.client_id,
        "request_id": request_id,
        "name": tier,
        "user_id": platform_login[0]["platform_user_id"],
        "deletion_id": deleted.get_json()["id"],
        "token": activation.get_json()["activation_url"].rsplit("/", 1)[-1],
        "filename": "site.css",
        "suspended_developer": suspended,
    }
    return World(
        headers=headers,
        csrf=csrf,
        own=own,
        shared=shared,
        authorize_query=authorize_query,
        values={"spare_developer": spare, "spare_client": spare_client.client_id},
    )


def _sign_in(
    app: Any, make: Any, clock: Any, login: str, headers: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The session audiences: a signed-in user and a signed-in admin; their forms' tokens."""
    browser = app.test_client()
    signed_in = sign_in_user(browser, login, USER_PASSWORD, next_url="/privacy/")
    assert signed_in.status_code == 303
    user_cookie = browser.get_cookie("gateway_user_session")
    admin_browser = app.test_client()
    sign_in_admin(admin_browser, make, clock)
    admin_cookie = admin_browser.get_cookie("gateway_admin_session", path="/admin")
    assert user_cookie and admin_cookie
    headers["user-session"] = {"Cookie": f"gateway_user_session={user_cookie.value}"}
    headers["admin-session"] = {"Cookie": f"gateway_admin_session={admin_cookie.value}"}
    bare = app.test_client(use_cookies=False)
    return {
        "user-session": csrf_token(bare.get("/privacy/", headers=headers["user-session"])),
        "admin-session": csrf_token(
            bare.get("/admin/developers", headers=headers["admin-session"])
        ),
    }


def bearer_of(http: Any, credentials: Any) -> dict[str, str]:
    form = {"grant_type": "client_credentials"}
    answer = http.post(
        "/oauth/token", data=form, auth=(credentials.client_id, credentials.client_secret)
    )
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


# --- a valid request for every route: its JSON body, form or query


def _ingest_interaction(world: World) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "interaction_id": "sec-ingest-1",
                "skill_id": world.shared["skill_id"],
                "user_id": world.shared["user_id"],
                "occurred_at": datetime.now(UTC).isoformat(),
                "utterance": "order a small margherita",
                "outcome": "success",
            }
        ]
    }


JSON_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/admin/developers"): {"name": "Sec Developer", "contact_email": "d@example.com"},
    ("POST", "/v1/admin/developers/<int:developer_id>/suspension"): {},
    ("POST", "/v1/admin/developers/<int:developer_id>/skills"): {"name": "Sec Skill"},
    ("POST", "/v1/admin/clients"): lambda world: {
        "kind": "developer",
        "developer_id": world.values["spare_developer"],
    },
    ("POST", "/v1/admin/clients/<string(maxlength=64):client_id>/rotation"): {},
    ("POST", "/v1/admin/clients/<string(maxlength=64):client_id>/revocation"): {},
    ("POST", "/v1/admin/tiers"): {
        "name": "sec-new",
        "transcripts_readable": False,
        "retention_days": 0,
        "redaction_policy": "standard",
        "page_size": 10,
        "rate_limit": "10 per minute",
    },
    ("PATCH", "/v1/admin/tiers/<string(maxlength=32):name>"): {"description": "changed"},
    ("POST", "/v1/admin/developers/<int:developer_id>/grants"): {
        "tier": "standard",
        "reason": "security suite",
    },
    ("DELETE", "/v1/admin/developers/<int:developer_id>/grants/current"): {
        "reason": "security suite"
    },
    ("POST", "/v1/admin/tier-requests/<int:request_id>/approve"): {},
    ("POST", "/v1/admin/tier-requests/<int:request_id>/deny"): {"reason": "security suite"},
    ("PUT", "/v1/developer/webhook"): {"url": "http://127.0.0.1:9/sec-hook-moved"},
    ("POST", "/v1/developer/tier-requests"): {
        "tier": "trusted",
        "purpose": "debugging orders",
        "accepted_terms": True,
    },
    ("POST", "/v1/ingest/users"): {"users": [{"platform_user_id": "sec-ingested-user"}]},
    ("POST", "/v1/ingest/interactions"): _ingest_interaction,
    ("PUT", "/v1/me/consents/<uuid:skill_id>"): {},
    ("PUT", "/v1/platform/users/<user_id>/consents/<uuid:skill_id>"): {},
}

FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/sign-in"): {"login": "nobody", "password": "wrong password here"},
    ("POST", "/admin/sign-in"): {"name": "nobody", "password": "wrong password here"},
    ("POST", "/admin/sign-in/code"): {"code": "000000"},
    ("POST", "/activate/<token>"): {"password": USER_PASSWORD, "confirm": USER_PASSWORD},
    ("POST", "/oauth/authorize"): {"decision": "allow"},
    ("POST", "/admin/developers/<int:developer_id>/clients"): {},
    ("POST", "/admin/developers/<int:developer_id>/tier"): {
        "tier": "standard",
        "reason": "security suite",
    },
    ("POST", "/admin/developers/<int:developer_id>/suspension"): {},
    ("POST", "/admin/developers/<int:developer_id>/reinstatement"): {},
    ("POST", "/admin/requests/<int:request_id>/approval"): {},
    ("POST", "/admin/requests/<int:request_id>/denial"): {"reason": "security suite"},
    ("POST", "/privacy/consents/<uuid:skill_id>/grant"): {},
    ("POST", "/privacy/consents/<uuid:skill_id>/revocation"): {},
    ("POST", "/privacy/deletion"): {"scope": "everything", "confirm": "yes"},
    ("POST", "/sign-out"): {},
    ("POST", "/admin/sign-out"): {},
}

# the OAuth endpoints take a form: the audience's own token where one is asked for
OAUTH_FORMS = {
    "/oauth/token": {"grant_type": "client_credentials"},
    "/oauth/revoke": {"token_type_hint": "access_token"},
    "/oauth/introspect": {"token_type_hint": "access_token"},
}


def request_for(
    app: Any, world: World, audience: str, method: str, rule: Rule
) -> tuple[str, dict[str, Any]]:
    """(url, keyword arguments of the test client's open) for `audience` calling `rule`."""
    values = world.path_values(audience, method, rule)
    url = app.url_map.bind("localhost").build(rule.endpoint, values, method=method)
    kwargs: dict[str, Any] = {"method": method, "headers": dict(world.headers[audience])}
    if rule.rule == "/metrics" and audience == "admin":
        kwargs["headers"]["Authorization"] = f"Bearer {METRICS_TOKEN}"
    if rule.rule == "/oauth/authorize":
        url = f"{url}?{world.authorize_query}"
    body = JSON_BODIES.get((method, rule.rule))
    if body is not None:
        kwargs["json"] = body(world) if callable(body) else body
    elif (method, rule.rule) in FORMS:
        form = dict(FORMS[(method, rule.rule)])
        if audience in world.csrf:
            form["csrf_token"] = world.csrf[audience]
        kwargs["data"] = form
    elif rule.rule in OAUTH_FORMS:
        form = dict(OAUTH_FORMS[rule.rule])
        token = kwargs["headers"].get("Authorization", "Bearer -").split()[-1]
        if rule.rule != "/oauth/token":
            form["token"] = token
        kwargs["data"] = form
    return url, kwargs


# --- what the database holds, to show that a refused call changed nothing


def _tables(make: Any) -> dict[str, list[str]]:
    """Every table the app role can read: name -> the columns it may select."""
    rows = make.rows(
        """
        SELECT format('%I.%I', n.nspname, c.relname) AS name,
               array_agg(format('%I', a.attname) ORDER BY a.attnum) AS columns
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND has_column_privilege(c.oid, a.attnum, 'SELECT')
         GROUP BY 1
         ORDER BY 1
        """
    )
    return {row["name"]: row["columns"] for row in rows}


class Fingerprint:
    """A digest of every row of every table the app role can read, per table."""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.tables = _tables(make)
        assert {"public.developers", "public.consents", "public.audit_events"} <= set(self.tables)
        self.query = " UNION ALL ".join(
            f"SELECT '{name}' AS t, md5(coalesce(string_agg(x.r, '|' ORDER BY x.r), '')) AS h"
            f" FROM (SELECT ROW({', '.join(columns)})::text AS r FROM {name}) x"
            for name, columns in self.tables.items()
        )

    def take(self) -> dict[str, str]:
        return {row["t"]: row["h"] for row in self.make.rows(self.query)}


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))
