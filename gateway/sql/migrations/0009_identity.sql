-- Who signs in: users (a password they set through a one-time activation link) and admins
-- (a password and a TOTP second factor); the gateway as the OAuth authorization server of the
-- users' first-party app (authorization codes with PKCE, user tokens); web sessions.
--
-- Secrets are never stored in the clear: passwords as Argon2id hashes, activation links,
-- authorization codes and session ids as SHA-256 digests, TOTP secrets encrypted (AES-GCM)
-- under a key derived from the server's secret key.
--
-- Before anyone is signed in (a sign-in, an activation link, a session cookie to look up) the
-- app acts as the system caller, the only one that reads password hashes and session rows.

-- --- the users' first-party app: an OAuth client of its own kind -----------------------------
-- A public client (RFC 6749 §2.1): no secret it could keep, so PKCE (S256) and redirect URIs
-- registered in advance, matched exactly.
ALTER TABLE oauth_clients DROP CONSTRAINT oauth_clients_kind_check;
ALTER TABLE oauth_clients ADD CONSTRAINT oauth_clients_kind_check
    CHECK (kind IN ('developer', 'admin', 'platform', 'app'));
ALTER TABLE oauth_clients
    ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT oauth_clients_redirect_uris_only_apps
        CHECK (kind = 'app' OR cardinality(redirect_uris) = 0);

-- --- user credentials -------------------------------------------------------------------------

CREATE TABLE user_credentials (
    user_id         uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Argon2id, in its own encoded form ($argon2id$v=19$m=…,t=…,p=…$salt$hash)
    password_hash   text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One-time, short-lived links with which a user sets a password; only a digest is stored.
CREATE TABLE activation_links (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_digest text NOT NULL UNIQUE CHECK (token_digest ~ '^[0-9a-f]{64}$'),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX activation_links_user_idx ON activation_links (user_id);

-- --- authorization codes (RFC 6749 §4.1, RFC 7636) --------------------------------------------

CREATE TABLE authorization_codes (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_digest           text NOT NULL UNIQUE CHECK (code_digest ~ '^[0-9a-f]{64}$'),
    client_id             text NOT NULL REFERENCES oauth_clients (client_id),
    user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the exact URI the code was sent to; the token request must name the same
    redirect_uri          text NOT NULL CHECK (length(redirect_uri) BETWEEN 1 AND 2048),
    -- S256 only: a plain challenge would hand the verifier to whoever sees the request
    code_challenge        text NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    code_challenge_method text NOT NULL CHECK (code_challenge_method = 'S256'),
    scopes                text[] NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    expires_at            timestamptz NOT NULL,
    -- single use: set when exchanged; a second exchange fails and revokes the tokens issued
    used_at               timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX authorization_codes_user_idx ON authorization_codes (user_id);

-- User tokens: the user the token acts for, and the code it was issued from (a replayed code
-- revokes them).
ALTER TABLE oauth_tokens
    ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN authorization_code_id bigint REFERENCES authorization_codes (id),
    ADD CONSTRAINT oauth_tokens_code_for_users
        CHECK (authorization_code_id IS NULL OR user_id IS NOT NULL);
CREATE INDEX oauth_tokens_code_idx ON oauth_tokens (authorization_code_id)
    WHERE authorization_code_id IS NOT NULL;
CREATE INDEX oauth_tokens_user_idx ON oauth_tokens (user_id) WHERE user_id IS NOT NULL;

-- --- admin accounts -------------------------------------------------------------------------

CREATE TABLE admin_accounts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    password_hash    text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- the TOTP secret, AES-GCM under a key derived from SECRET_KEY (gateway.security.seal)
    totp_ciphertext  bytea NOT NULL,
    -- the last TOTP time step accepted: a code is good once (RFC 6238 §5.2)
    last_totp_step   bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    disabled_at      timestamptz
);

-- --- web sessions ---------------------------------------------------------------------------

CREATE TABLE web_sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- sha256 of the cookie's value: a dump of this table signs nobody in
    id_digest    text NOT NULL UNIQUE CHECK (id_digest ~ '^[0-9a-f]{64}$'),
    kind         text NOT NULL CHECK (kind IN ('admin', 'user')),
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    admin_id     bigint REFERENCES admin_accounts (id),
    -- an admin's password checked, the second factor not yet: the session can do nothing
    -- but finish signing in
    pending      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    CHECK ((kind = 'user') = (user_id IS NOT NULL)),
    CHECK ((kind = 'admin') = (admin_id IS NOT NULL)),
    CHECK (kind = 'admin' OR NOT pending),
    CHECK (expires_at > created_at)
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id) WHERE user_id IS NOT NULL;

-- --- row-level security -----------------------------------------------------------------------

ALTER TABLE user_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY user_credentials_access ON user_credentials
    USING (gateway_role() = 'system' OR user_id = gateway_user_id())
    WITH CHECK (gateway_role() = 'system' OR user_id = gateway_user_id());
CREATE POLICY user_credentials_verified_insert ON user_credentials AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');
CREATE POLICY user_credentials_verified_update ON user_credentials AS RESTRICTIVE FOR UPDATE
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'user' THEN user_id = (SELECT gateway_verified_user_id())
                    ELSE false END);

ALTER TABLE activation_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE activation_links FORCE ROW LEVEL SECURITY;
-- made by the platform, redeemed by whoever holds the link (the system looks it up)
CREATE POLICY activation_links_access ON activation_links
    USING (gateway_role() IN ('system', 'platform'))
    WITH CHECK (gateway_role() IN ('system', 'platform'));
CREATE POLICY activation_links_verified_insert ON activation_links AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('system', 'platform'));
CREATE POLICY activation_links_verified_update ON activation_links AS RESTRICTIVE FOR UPDATE
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');

ALTER TABLE authorization_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE authorization_codes FORCE ROW LEVEL SECURITY;
-- issued to the signed-in user, redeemed by the app it was issued to
CREATE POLICY authorization_codes_access ON authorization_codes
    USING (gateway_role() = 'system' OR user_id = gateway_user_id()
           OR (gateway_role() = 'app'
               AND client_id = nullif(current_setting('gateway.client_id', true), '')))
    WITH CHECK (gateway_role() = 'system' OR user_id = gateway_user_id()
                OR (gateway_role() = 'app'
                    AND client_id = nullif(current_setting('gateway.client_id', true), '')));
CREATE POLICY authorization_codes_verified_insert ON authorization_codes AS RESTRICTIVE
    FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'user' THEN user_id = (SELECT gateway_verified_user_id())
                    ELSE false END);
CREATE POLICY authorization_codes_verified_update ON authorization_codes AS RESTRICTIVE
    FOR UPDATE
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'app' THEN client_id = (SELECT gateway_verified_client_id())
                    ELSE false END);
-- a code is redeemed once, as of now; nothing else about it changes
CREATE FUNCTION gateway_private.authorization_codes_only_use() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF to_jsonb(NEW) - 'used_at' IS DISTINCT FROM to_jsonb(OLD) - 'used_at'
           OR OLD.used_at IS NOT NULL OR NEW.used_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'authorization_codes: a code is used once, as of now()'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER authorization_codes_only_use BEFORE UPDATE ON authorization_codes
    FOR EACH ROW EXECUTE FUNCTION gateway_private.authorization_codes_only_use();
CREATE FUNCTION gateway_private.activation_links_only_use() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF to_jsonb(NEW) - 'used_at' IS DISTINCT FROM to_jsonb(OLD) - 'used_at'
           OR OLD.used_at IS NOT NULL OR NEW.used_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'activation_links: a link is used once, as of now()'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER activation_links_only_use BEFORE UPDATE ON activation_links
    FOR EACH ROW EXECUTE FUNCTION gateway_private.activation_links_only_use();
REVOKE ALL ON FUNCTION gateway_private.authorization_codes_only_use(),
    gateway_private.activation_links_only_use() FROM PUBLIC;

ALTER TABLE admin_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_accounts_access ON admin_accounts
    USING (gateway_role() IN ('system', 'admin'))
    WITH CHECK (gateway_role() IN ('system', 'admin'));
CREATE POLICY admin_accounts_verified_insert ON admin_accounts AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');
CREATE POLICY admin_accounts_verified_update ON admin_accounts AS RESTRICTIVE FOR UPDATE
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');

ALTER TABLE web_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE web_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY web_sessions_access ON web_sessions
    USING (gateway_role() = 'system' OR user_id = gateway_user_id())
    WITH CHECK (gateway_role() = 'system' OR user_id = gateway_user_id());
CREATE POLICY web_sessions_verified_insert ON web_sessions AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');
CREATE POLICY web_sessions_verified_update ON web_sessions AS RESTRICTIVE FOR UPDATE
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');
-- a session only ends (or, for an admin, finishes its second factor); it never comes back
CREATE FUNCTION gateway_private.web_sessions_only_end() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF to_jsonb(NEW) - ARRAY['ended_at', 'pending'] IS DISTINCT FROM
               to_jsonb(OLD) - ARRAY['ended_at', 'pending']
           OR OLD.ended_at IS NOT NULL
           OR (NEW.pending AND NOT OLD.pending) THEN
            RAISE EXCEPTION 'web_sessions: a session only completes or ends, once'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER web_sessions_only_end BEFORE UPDATE ON web_sessions
    FOR EACH ROW EXECUTE FUNCTION gateway_private.web_sessions_only_end();
REVOKE ALL ON FUNCTION gateway_private.web_sessions_only_end() FROM PUBLIC;

-- --- the audit log: admins by name, sign-ins, activations, replayed codes ---------------------

ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check
    CHECK (actor_kind IN ('client', 'user', 'cli', 'system', 'admin'));
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
        'token.issued', 'token.revoked',
        'client.created', 'client.rotated', 'client.revoked',
        'developer.registered', 'developer.suspended', 'developer.reinstated',
        'skill.registered',
        'tier.created', 'tier.changed',
        'grant.made', 'grant.expired', 'grant.revoked',
        'tier_request.made', 'tier_request.decided',
        'webhook.changed',
        'transcripts.read', 'stats.read',
        'consent.granted', 'consent.revoked',
        'deletion.requested', 'deletion.completed',
        'admin.signed_in',
        'admin.signed_out', 'admin.created',
        'user.signed_in', 'user.signed_out',
        'user.activation_issued', 'user.password_set',
        'authorization_code.replayed'));
-- the first-party app records the tokens it is issued and the ones a replayed code revokes
CREATE POLICY audit_events_write_by_apps ON audit_events FOR INSERT
    WITH CHECK (gateway_role() = 'app'
                AND action IN ('token.issued', 'token.revoked', 'authorization_code.replayed')
                AND actor_kind = 'client'
                AND actor_id = current_setting('gateway.client_id', true));

-- --- the app role's privileges ----------------------------------------------------------------

GRANT INSERT (redirect_uris) ON oauth_clients TO gateway_app;
GRANT INSERT (user_id, authorization_code_id) ON oauth_tokens TO gateway_app;
GRANT SELECT, INSERT (user_id, password_hash), UPDATE (password_hash, updated_at)
    ON user_credentials TO gateway_app;
GRANT SELECT, INSERT (token_digest, user_id, expires_at), UPDATE (used_at)
    ON activation_links TO gateway_app;
GRANT SELECT, INSERT (code_digest, client_id, user_id, redirect_uri, code_challenge,
                      code_challenge_method, scopes, expires_at),
      UPDATE (used_at)
    ON authorization_codes TO gateway_app;
GRANT SELECT, INSERT (name, password_hash, totp_ciphertext),
      UPDATE (password_hash, last_totp_step, disabled_at)
    ON admin_accounts TO gateway_app;
GRANT SELECT, INSERT (id_digest, kind, user_id, admin_id, pending, expires_at),
      UPDATE (ended_at, pending)
    ON web_sessions TO gateway_app;
