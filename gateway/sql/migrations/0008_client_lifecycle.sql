-- The lifecycle of credentials: a client's secret rotated with an optional grace period for the
-- previous one, tokens that live no longer than the secret that got them, and revocations and
-- rotations that only a verified admin (or the system) can make. Suspension needs no new
-- column (developers.suspended_at, 0001); the services revoke the developer's live tokens.

-- --- rotation -------------------------------------------------------------------------------
-- secret_version counts rotations. The previous secret's hash is kept only while it is in its
-- grace period; a rotation without grace drops it at once.
ALTER TABLE oauth_clients
    ADD COLUMN secret_version integer NOT NULL DEFAULT 1 CHECK (secret_version >= 1),
    ADD COLUMN previous_secret_hash text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD COLUMN rotated_at timestamptz,
    ADD CONSTRAINT oauth_clients_previous_secret_expires
        CHECK ((previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL));

-- Which of its client's secrets a token was issued against: a token of the current version
-- lives to its own expiry, one of the previous version only while that secret is in grace,
-- any older one not at all (gateway/services/oauth_tokens.py decides, at every request).
ALTER TABLE oauth_tokens
    ADD COLUMN secret_version integer NOT NULL DEFAULT 1 CHECK (secret_version >= 1);

-- A client changes in two ways only, and only for a verified admin or the system: it is
-- revoked (final, as in 0002), or its secret is rotated (the next version, the hash it
-- replaces kept as the previous one or dropped, stamped now). The history checks come first,
-- so a revoked client answers "revoked" to everyone.
CREATE FUNCTION gateway_private.oauth_clients_lifecycle() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        mutable text[] := ARRAY['revoked_at', 'secret_hash', 'secret_version',
                                'previous_secret_hash', 'previous_secret_expires_at',
                                'rotated_at'];
    BEGIN
        IF OLD.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION 'oauth_clients: only an unrevoked credential''s revoked_at may be set'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF to_jsonb(NEW) - mutable IS DISTINCT FROM to_jsonb(OLD) - mutable THEN
            RAISE EXCEPTION 'oauth_clients: only an unrevoked credential''s revoked_at may be set, '
                            'or its secret rotated'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF (NEW.secret_hash, NEW.secret_version, NEW.previous_secret_hash,
            NEW.previous_secret_expires_at, NEW.rotated_at)
           IS DISTINCT FROM (OLD.secret_hash, OLD.secret_version, OLD.previous_secret_hash,
                             OLD.previous_secret_expires_at, OLD.rotated_at)
        THEN
            IF NEW.secret_version IS DISTINCT FROM OLD.secret_version + 1
               OR NEW.secret_hash IS NOT DISTINCT FROM OLD.secret_hash
               OR NEW.previous_secret_hash IS DISTINCT FROM OLD.secret_hash
                  AND NEW.previous_secret_hash IS NOT NULL
               OR NEW.rotated_at IS DISTINCT FROM now()
               OR NEW.revoked_at IS NOT NULL
            THEN
                RAISE EXCEPTION 'oauth_clients: a rotation is the next secret version, keeping '
                                'at most the secret it replaces, as of now()'
                    USING ERRCODE = 'restrict_violation';
            END IF;
        END IF;
        IF coalesce(public.gateway_verified_role() NOT IN ('admin', 'system'), true) THEN
            RAISE EXCEPTION 'UPDATE on oauth_clients needs a verified admin or system caller'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END
    $$;
REVOKE ALL ON FUNCTION gateway_private.oauth_clients_lifecycle() FROM PUBLIC;

DROP TRIGGER oauth_clients_only_revocation ON oauth_clients;
CREATE TRIGGER oauth_clients_lifecycle BEFORE UPDATE ON oauth_clients
    FOR EACH ROW EXECUTE FUNCTION gateway_private.oauth_clients_lifecycle();

-- the admin lists, newest rotation state first: by developer and by kind
CREATE INDEX oauth_clients_developer_idx ON oauth_clients (developer_id) WHERE developer_id IS NOT NULL;
-- the audit query's other filters (developer and time have their indexes in 0005)
CREATE INDEX audit_events_action_idx ON audit_events (action, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_kind, actor_id, id DESC);
CREATE INDEX audit_events_skill_idx ON audit_events (skill_id, id DESC) WHERE skill_id IS NOT NULL;

-- --- the app role: the rotation's columns, and the version a token was issued against -------
GRANT UPDATE (secret_hash, secret_version, previous_secret_hash, previous_secret_expires_at,
              rotated_at)
    ON oauth_clients TO gateway_app;
GRANT INSERT (secret_version) ON oauth_tokens TO gateway_app;
