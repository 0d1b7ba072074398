-- Least privilege for the app role, history tables that cannot be rewritten, and privileged
-- writes that need a caller proof the database verifies.
--
-- 1. The app role keeps only what gateway/ executes: INSERT and UPDATE column by column,
--    no DELETE and no TRUNCATE anywhere (a later, audited deletion path will be a function).
-- 2. consents, tier_grants and access_log are history: statement-level triggers refuse UPDATE,
--    DELETE and TRUNCATE for every role, the owner included (row-level ones miss TRUNCATE and
--    zero-row deletes). The one change allowed is closing a consent: revoked_at from NULL to
--    now. Inserts cannot backdate.
-- 3. Any session may set the gateway.* settings, so the settings alone prove nothing. A write
--    that only some callers may make also needs gateway.caller_proof: a keyed digest over the
--    caller (gateway/binding.py) that only the app, holding the key, can compute. The database
--    keeps the same key where the app role cannot read it and recomputes the proof in
--    gateway_binding_ok(). Reads stay on the plain settings: per-row read policies never
--    verify anything.

-- --- the key and the verification ------------------------------------------------------------

CREATE SCHEMA gateway_private;
REVOKE ALL ON SCHEMA gateway_private FROM PUBLIC;

-- One row, written by the owner (gateway.migrate.install_binding_key) and nobody else.
CREATE TABLE gateway_private.binding_keys (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    binding_key  bytea NOT NULL CHECK (octet_length(binding_key) = 32),
    installed_at timestamptz NOT NULL DEFAULT now()
);

-- Whether gateway.caller_proof proves the caller in the other gateway.* settings: the proof is
-- recomputed over the canonical caller, byte for byte as gateway.binding.caller_message builds
-- it ('gateway caller v1', then per field '\n' <byte length> ':' <UTF-8 bytes>). The only
-- function that reads the key, so the only SECURITY DEFINER one. The digests are compared
-- hashed again, so how long the comparison takes says nothing about the expected proof.
-- plpgsql keeps its plans across calls: about 17 us a call, against 90 us as a SQL function.
CREATE FUNCTION gateway_binding_ok() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        key bytea;
        message bytea := convert_to('gateway caller v1', 'UTF8');
        field text;
    BEGIN
        SELECT k.binding_key INTO key FROM gateway_private.binding_keys k;
        IF key IS NULL THEN
            RETURN false;
        END IF;
        FOREACH field IN ARRAY ARRAY[coalesce(current_setting('gateway.role', true), ''),
                                     coalesce(current_setting('gateway.developer_id', true), ''),
                                     coalesce(current_setting('gateway.user_id', true), ''),
                                     coalesce(current_setting('gateway.client_id', true), '')]
        LOOP
            message := message || convert_to(E'\n' || octet_length(convert_to(field, 'UTF8'))
                                              || ':' || field, 'UTF8');
        END LOOP;
        RETURN sha256(convert_to(encode(sha256(key || sha256(key || message)), 'hex'), 'UTF8'))
               = sha256(convert_to(coalesce(current_setting('gateway.caller_proof', true), ''),
                                   'UTF8'));
    END
    $$;

-- Every other function here runs as its caller and names only built-ins and schema-qualified
-- public functions; the app role may create objects in no schema (and pg_temp's functions and
-- operators are never found unqualified), so no search_path it sets can redirect them. They
-- carry no SET search_path, which would cost a settings save and restore on every call, i.e.
-- on every row a trigger sees, and would keep the SQL ones below from being inlined.

-- The caller, or NULL when the proof does not verify. Write policies call these as
-- `(SELECT gateway_verified_x())`: evaluated once per statement, and a statement that changes
-- the settings half-way through keeps the caller it started with.
CREATE FUNCTION gateway_verified_role() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN public.gateway_binding_ok() THEN public.gateway_role() END $$;

CREATE FUNCTION gateway_verified_developer_id() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN public.gateway_binding_ok() THEN public.gateway_developer_id() END $$;

CREATE FUNCTION gateway_verified_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN public.gateway_binding_ok() THEN public.gateway_user_id() END $$;

CREATE FUNCTION gateway_verified_client_id() RETURNS text
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN public.gateway_binding_ok()
                    THEN nullif(current_setting('gateway.client_id', true), '') END
    $$;

REVOKE ALL ON FUNCTION gateway_binding_ok(), gateway_verified_role(),
    gateway_verified_developer_id(), gateway_verified_user_id(), gateway_verified_client_id()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gateway_binding_ok(), gateway_verified_role(),
    gateway_verified_developer_id(), gateway_verified_user_id(), gateway_verified_client_id()
    TO gateway_app;

-- --- privileged writes need a verified caller -------------------------------------------------
-- Restrictive policies: AND-ed with 0001's permissive ones, which still decide visibility.

CREATE POLICY developers_verified_insert ON developers AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));
CREATE POLICY developers_verified_update ON developers AS RESTRICTIVE FOR UPDATE
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));

CREATE POLICY tier_grants_verified_insert ON tier_grants AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));

CREATE POLICY skills_verified_insert ON skills AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));

-- is_child decides whether anything of a user is ever readable (rule 6)
CREATE POLICY users_verified_insert ON users AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'platform' THEN true
                    WHEN 'system' THEN true
                    WHEN 'user' THEN id = (SELECT gateway_verified_user_id())
                    ELSE false END);
CREATE POLICY users_verified_update ON users AS RESTRICTIVE FOR UPDATE
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'platform' THEN true
                    WHEN 'system' THEN true
                    WHEN 'user' THEN id = (SELECT gateway_verified_user_id())
                    ELSE false END);

CREATE POLICY consents_verified_insert ON consents AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'platform' THEN true
                    WHEN 'system' THEN true
                    WHEN 'user' THEN user_id = (SELECT gateway_verified_user_id())
                    ELSE false END);
CREATE POLICY consents_verified_update ON consents AS RESTRICTIVE FOR UPDATE
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'platform' THEN true
                    WHEN 'system' THEN true
                    WHEN 'user' THEN user_id = (SELECT gateway_verified_user_id())
                    ELSE false END);

CREATE POLICY interactions_verified_insert ON interactions AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('platform', 'system'));

CREATE POLICY user_pseudonyms_verified_insert ON user_pseudonyms AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN developer_id = (SELECT gateway_verified_developer_id())
                    ELSE false END);

-- A read is logged for the developer and the client that made it, nobody else (rule 7).
CREATE POLICY access_log_verified_insert ON access_log AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN developer_id = (SELECT gateway_verified_developer_id())
                                          AND client_id = (SELECT gateway_verified_client_id())
                    ELSE false END);

-- oauth_clients has no row-level security (the token endpoint looks clients up before it
-- knows a caller); new credentials come from admins and the system only.
CREATE FUNCTION gateway_private.require_admin_or_system() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF coalesce(public.gateway_verified_role() NOT IN ('admin', 'system'), true) THEN
            RAISE EXCEPTION '% on % needs a verified admin or system caller', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER oauth_clients_verified_insert BEFORE INSERT ON oauth_clients
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.require_admin_or_system();

-- --- history is append-only -------------------------------------------------------------------

CREATE FUNCTION gateway_private.refuse_rewriting_history() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        RAISE EXCEPTION '% is history: % is not allowed', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$;

CREATE TRIGGER tier_grants_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON tier_grants
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();
-- consents: UPDATE passes here and meets consents_only_revocation row by row
CREATE TRIGGER consents_append_only BEFORE DELETE OR TRUNCATE ON consents
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();

-- A consent is closed once, as of now; nothing else about it ever changes. Only the system
-- caller (the demo loader and history imports, run by an operator holding the key) records a
-- revocation in the past.
CREATE FUNCTION gateway_private.consents_only_revocation() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF to_jsonb(NEW) - 'revoked_at' IS DISTINCT FROM to_jsonb(OLD) - 'revoked_at' THEN
            RAISE EXCEPTION 'consents is history: only revoked_at may change'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF OLD.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION 'consents is history: consent % is already revoked', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.revoked_at IS DISTINCT FROM now() AND NEW.revoked_at IS NOT NULL
           AND public.gateway_verified_role() IS DISTINCT FROM 'system' THEN
            RAISE EXCEPTION 'consents is history: a consent is revoked as of now()'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER consents_only_revocation BEFORE UPDATE ON consents
    FOR EACH ROW EXECUTE FUNCTION gateway_private.consents_only_revocation();

-- Nothing is recorded in the past: a consent is granted now and open (the system caller may
-- import older history), a tier grant and a read happen now, for everyone.
CREATE FUNCTION gateway_private.consents_recorded_now() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF (NEW.granted_at IS DISTINCT FROM now() OR NEW.revoked_at IS NOT NULL)
           AND public.gateway_verified_role() IS DISTINCT FROM 'system' THEN
            RAISE EXCEPTION 'consents is history: a consent is granted as of now(), open'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER consents_recorded_now BEFORE INSERT ON consents
    FOR EACH ROW EXECUTE FUNCTION gateway_private.consents_recorded_now();

CREATE FUNCTION gateway_private.tier_grants_recorded_now() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.granted_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'tier_grants is history: a grant is recorded as of now()'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER tier_grants_recorded_now BEFORE INSERT ON tier_grants
    FOR EACH ROW EXECUTE FUNCTION gateway_private.tier_grants_recorded_now();

CREATE FUNCTION gateway_private.access_log_recorded_now() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.read_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'access_log is history: a read is recorded as of now()'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER access_log_recorded_now BEFORE INSERT ON access_log
    FOR EACH ROW EXECUTE FUNCTION gateway_private.access_log_recorded_now();

-- Credentials: a revocation is final and nothing else about a client or token changes.
CREATE FUNCTION gateway_private.credentials_only_revocation() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF to_jsonb(NEW) - 'revoked_at' IS DISTINCT FROM to_jsonb(OLD) - 'revoked_at'
           OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
        THEN
            RAISE EXCEPTION '%: only an unrevoked credential''s revoked_at may be set',
                TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER oauth_clients_only_revocation BEFORE UPDATE ON oauth_clients
    FOR EACH ROW EXECUTE FUNCTION gateway_private.credentials_only_revocation();
CREATE TRIGGER oauth_tokens_only_revocation BEFORE UPDATE ON oauth_tokens
    FOR EACH ROW EXECUTE FUNCTION gateway_private.credentials_only_revocation();

-- --- the app role's privileges: exactly what gateway/ executes --------------------------------
-- Revoked wholesale (a table-level REVOKE also clears column grants), then granted one by one.
-- Each INSERT column list is the one its repository's INSERT names; each UPDATE list the
-- columns its UPDATE sets.

-- trigger functions need no EXECUTE privilege to fire; nobody calls the others directly
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA gateway_private FROM PUBLIC;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM gateway_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM gateway_app;
-- PostgreSQL 14 still lets PUBLIC create objects in public
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

GRANT SELECT ON schema_migrations, tiers TO gateway_app;
GRANT SELECT, INSERT (name, contact_email), UPDATE (suspended_at) ON developers TO gateway_app;
GRANT SELECT, INSERT (developer_id, tier, reason, granted_by, expires_at)
    ON tier_grants TO gateway_app;
GRANT SELECT, INSERT (developer_id, name, category) ON skills TO gateway_app;
GRANT SELECT, INSERT (client_id, secret_hash, kind, developer_id, scopes, name),
      UPDATE (revoked_at) ON oauth_clients TO gateway_app;
GRANT SELECT, INSERT (token_digest, client_id, scopes, issued_at, expires_at),
      UPDATE (revoked_at) ON oauth_tokens TO gateway_app;
GRANT SELECT, INSERT (platform_user_id, is_child), UPDATE (is_child) ON users TO gateway_app;
GRANT SELECT, INSERT (user_id, skill_id, categories, granted_at), UPDATE (revoked_at)
    ON consents TO gateway_app;
-- device_serial: written by ingestion, never read by the app role (rule 5)
GRANT SELECT (id, platform_interaction_id, skill_id, user_id, session_id, occurred_at, utterance,
              response, intent, slots, outcome, order_ref, sensitive_category, created_at),
      INSERT (platform_interaction_id, skill_id, user_id, session_id, occurred_at, utterance,
              response, intent, slots, outcome, order_ref, sensitive_category, device_serial)
    ON interactions TO gateway_app;
GRANT SELECT, INSERT (developer_id, pseudonym, user_id) ON user_pseudonyms TO gateway_app;
GRANT SELECT, INSERT (developer_id, client_id, skill_id, interaction_id, user_id, endpoint)
    ON access_log TO gateway_app;
