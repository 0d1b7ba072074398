-- The core schema: tiers, developers, skills, OAuth clients and tokens, users, consents,
-- interactions, audio references (in their own schema) and the access log, with row-level
-- security on every tenant table. Runs as the owner role; the app role only gets grants.

-- The caller of the current transaction, as bound by gateway.db.bind_principal.
-- nullif: on a reused pooled connection an unset transaction-local setting reads as ''.
CREATE FUNCTION gateway_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('gateway.role', true), '') $$;

CREATE FUNCTION gateway_developer_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('gateway.developer_id', true), '')::bigint $$;

CREATE FUNCTION gateway_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('gateway.user_id', true), '')::uuid $$;

CREATE TABLE tiers (
    name                 text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_-]{0,31}$'),
    transcripts_readable boolean NOT NULL,
    -- which interaction fields a developer on this tier sees besides id, time and user pseudonym
    fields               text[] NOT NULL DEFAULT '{}'
        CHECK (fields <@ ARRAY['utterance', 'response', 'intent', 'slots', 'outcome',
                               'order_ref', 'session']::text[]),
    retention_days       integer NOT NULL CHECK (retention_days >= 0),
    redaction_policy     text NOT NULL,
    page_size            integer NOT NULL CHECK (page_size BETWEEN 1 AND 1000),
    rate_limit           text NOT NULL,
    k_threshold          integer NOT NULL DEFAULT 10 CHECK (k_threshold >= 1),
    description          text NOT NULL DEFAULT ''
);

INSERT INTO tiers (name, transcripts_readable, fields, retention_days, redaction_policy,
                   page_size, rate_limit, k_threshold, description)
VALUES
    ('none', false, '{}', 0, 'strict', 20, '30 per minute', 10,
     'Registered, not whitelisted: aggregate counts only.'),
    ('standard', true, '{utterance,intent,outcome,order_ref}', 30, 'standard', 50,
     '60 per minute', 10, 'Whitelisted: what users said, redacted, for 30 days.'),
    ('trusted', true, '{utterance,response,intent,slots,outcome,order_ref,session}', 90,
     'trusted', 200, '300 per minute', 5,
     'Audited partners: full redacted conversations for 90 days.');

CREATE TABLE developers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    contact_email text NOT NULL DEFAULT '',
    webhook_url   text,
    suspended_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- History of tier decisions, never overwritten: the newest unexpired grant is the tier.
CREATE TABLE tier_grants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    developer_id bigint NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    tier         text NOT NULL REFERENCES tiers (name),
    reason       text NOT NULL CHECK (length(reason) > 0),
    granted_by   text NOT NULL,
    granted_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz
);
CREATE INDEX tier_grants_developer_idx ON tier_grants (developer_id, granted_at DESC);

CREATE TABLE skills (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    developer_id bigint NOT NULL REFERENCES developers (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category     text NOT NULL DEFAULT 'general',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX skills_developer_idx ON skills (developer_id);

CREATE TABLE oauth_clients (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    text NOT NULL UNIQUE,
    -- salted SHA-256 of the secret (256 random bits); the secret is shown once, never stored
    secret_hash  text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('developer', 'admin', 'platform')),
    developer_id bigint REFERENCES developers (id),
    scopes       text[] NOT NULL,
    name         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK ((kind = 'developer') = (developer_id IS NOT NULL))
);

CREATE TABLE oauth_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- sha256 of the access token: a dump of this table grants nothing (RFC 9700 §4.9.3)
    token_digest text NOT NULL UNIQUE,
    client_id    text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    scopes       text[] NOT NULL,
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX oauth_tokens_client_idx ON oauth_tokens (client_id);
CREATE INDEX oauth_tokens_expires_idx ON oauth_tokens (expires_at);

CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_user_id text NOT NULL UNIQUE,
    is_child         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Consent history, never overwritten: revoking sets revoked_at, granting again adds a row.
CREATE TABLE consents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id   uuid NOT NULL REFERENCES skills (id),
    -- sensitive categories this consent covers besides ordinary transcripts
    categories text[] NOT NULL DEFAULT '{}'
        CHECK (categories <@ ARRAY['health', 'finance']::text[]),
    granted_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK (revoked_at IS NULL OR revoked_at >= granted_at)
);
CREATE UNIQUE INDEX consents_one_active_idx ON consents (user_id, skill_id) WHERE revoked_at IS NULL;
CREATE INDEX consents_skill_idx ON consents (skill_id, user_id);

CREATE TABLE interactions (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_interaction_id text NOT NULL UNIQUE,
    skill_id                uuid NOT NULL REFERENCES skills (id),
    user_id                 uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id              text NOT NULL DEFAULT '',
    occurred_at             timestamptz NOT NULL,
    utterance               text NOT NULL DEFAULT '',
    response                text NOT NULL DEFAULT '',
    intent                  text NOT NULL DEFAULT '',
    slots                   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(slots) = 'object'),
    outcome                 text NOT NULL DEFAULT '',
    order_ref               text NOT NULL DEFAULT '',
    sensitive_category      text CHECK (sensitive_category IN ('health', 'finance')),
    -- kept for the platform's own support; the app role is granted no access to it
    device_serial           text NOT NULL DEFAULT '',
    created_at              timestamptz NOT NULL DEFAULT now()
);
-- newest-first keyset pagination within one skill
CREATE INDEX interactions_skill_time_idx ON interactions (skill_id, occurred_at DESC, id DESC);
CREATE INDEX interactions_user_idx ON interactions (user_id, occurred_at);

-- Audio never leaves (rule 4): the recordings' references live in a schema the app role
-- has no privilege on at all.
CREATE SCHEMA vault;
CREATE TABLE vault.audio_recordings (
    interaction_id uuid PRIMARY KEY REFERENCES interactions (id) ON DELETE CASCADE,
    audio_ref      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Pseudonyms a developer has been shown, so that a pseudonym used as a filter resolves.
CREATE TABLE user_pseudonyms (
    developer_id bigint NOT NULL REFERENCES developers (id),
    pseudonym    text NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (developer_id, pseudonym)
);
CREATE INDEX user_pseudonyms_user_idx ON user_pseudonyms (user_id);

-- Every read of transcript data (rule 7), written in the transaction that reads.
CREATE TABLE access_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    read_at        timestamptz NOT NULL DEFAULT now(),
    developer_id   bigint NOT NULL REFERENCES developers (id),
    client_id      text NOT NULL,
    skill_id       uuid NOT NULL REFERENCES skills (id),
    interaction_id uuid NOT NULL,
    user_id        uuid NOT NULL,
    endpoint       text NOT NULL
);
CREATE INDEX access_log_user_idx ON access_log (user_id, read_at DESC);
CREATE INDEX access_log_developer_idx ON access_log (developer_id, read_at DESC);

-- Row-level security: ENABLE and FORCE on every tenant table; policies read the caller.
ALTER TABLE developers ENABLE ROW LEVEL SECURITY;
ALTER TABLE developers FORCE ROW LEVEL SECURITY;
CREATE POLICY developers_access ON developers
    USING (gateway_role() IN ('admin', 'system') OR id = gateway_developer_id())
    WITH CHECK (gateway_role() IN ('admin', 'system'));
CREATE POLICY developers_read_by_users ON developers FOR SELECT
    USING (gateway_role() IN ('user', 'platform'));

ALTER TABLE tier_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tier_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tier_grants_access ON tier_grants
    USING (gateway_role() IN ('admin', 'system') OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() IN ('admin', 'system'));

ALTER TABLE skills ENABLE ROW LEVEL SECURITY;
ALTER TABLE skills FORCE ROW LEVEL SECURITY;
CREATE POLICY skills_access ON skills
    USING (gateway_role() IN ('admin', 'system') OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() IN ('admin', 'system'));
-- users choose which skills to consent to, the platform routes interactions to skills
CREATE POLICY skills_read_by_users ON skills FOR SELECT
    USING (gateway_role() IN ('user', 'platform'));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_access ON users
    USING (gateway_role() IN ('platform', 'system') OR id = gateway_user_id())
    WITH CHECK (gateway_role() IN ('platform', 'system') OR id = gateway_user_id());
-- a developer sees users who consented to one of its skills (consents' own policy decides
-- which consent rows the subquery sees, so for other callers this adds nothing)
CREATE POLICY users_read_by_developers ON users FOR SELECT
    USING (EXISTS (SELECT 1 FROM consents c WHERE c.user_id = users.id));

ALTER TABLE consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE consents FORCE ROW LEVEL SECURITY;
CREATE POLICY consents_access ON consents
    USING (gateway_role() IN ('platform', 'system') OR user_id = gateway_user_id())
    WITH CHECK (gateway_role() IN ('platform', 'system') OR user_id = gateway_user_id());
CREATE POLICY consents_read_by_developers ON consents FOR SELECT
    USING (skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()));

ALTER TABLE interactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interactions FORCE ROW LEVEL SECURITY;
CREATE POLICY interactions_access ON interactions
    USING (gateway_role() IN ('platform', 'system') OR user_id = gateway_user_id())
    WITH CHECK (gateway_role() IN ('platform', 'system'));
-- Keyed on the developer id alone (null for every other caller), not on gateway_role():
-- an equality on a setting is estimated at 0.5% of rows, which turns a keyset page into a
-- sort of the whole retention window (75 ms instead of 2 ms at 50k interactions).
CREATE POLICY interactions_read_by_developers ON interactions FOR SELECT
    USING (skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()));

ALTER TABLE user_pseudonyms ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_pseudonyms FORCE ROW LEVEL SECURITY;
CREATE POLICY user_pseudonyms_access ON user_pseudonyms
    USING (gateway_role() = 'system' OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() = 'system' OR developer_id = gateway_developer_id());

ALTER TABLE access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log FORCE ROW LEVEL SECURITY;
CREATE POLICY access_log_read ON access_log FOR SELECT
    USING (gateway_role() IN ('admin', 'system') OR user_id = gateway_user_id()
           OR developer_id = gateway_developer_id());
CREATE POLICY access_log_write ON access_log FOR INSERT
    WITH CHECK (gateway_role() = 'system' OR (gateway_role() = 'developer'
                AND developer_id = gateway_developer_id()));

-- The app role: no ownership, no BYPASSRLS; only the privileges the web app uses.
GRANT USAGE ON SCHEMA public TO gateway_app;
GRANT EXECUTE ON FUNCTION gateway_role(), gateway_developer_id(), gateway_user_id() TO gateway_app;
GRANT SELECT ON tiers TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON developers, tier_grants, skills TO gateway_app;
GRANT SELECT, INSERT, UPDATE ON oauth_clients, oauth_tokens TO gateway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, consents TO gateway_app;
GRANT SELECT (id, platform_interaction_id, skill_id, user_id, session_id, occurred_at, utterance,
              response, intent, slots, outcome, order_ref, sensitive_category, created_at),
      INSERT, DELETE ON interactions TO gateway_app;
GRANT SELECT, INSERT, DELETE ON user_pseudonyms TO gateway_app;
GRANT SELECT, INSERT ON access_log TO gateway_app;
REVOKE ALL ON SCHEMA vault FROM PUBLIC;
