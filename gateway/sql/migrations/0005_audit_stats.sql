-- The audit log (rule 7): one row per security-relevant action, written by the action's own
-- transaction, append-only for every role, hash-chained by a sealer off the request path.
-- And what every tier, `none` included, may learn of its skills: k-anonymous weekly counts.

-- --- the audit log ---------------------------------------------------------------------------

-- A request transaction inserts the content only: no sequence number, no hash, no lock. The
-- sealer (gateway_audit_seal below: `skillgw audit seal [--every N]`, a worker, and before any
-- verification or checkpoint) later gives committed rows their place in the chain in commit
-- order, one sealer at a time. Until then a row is "unsealed": the audit-chain lag.
CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the transaction's own time (forced by audit_events_insert below)
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    -- who: 'client' (an OAuth client id), 'user' (a user id), 'cli' (an operator's name),
    -- 'system' (the gateway itself, id '')
    actor_kind   text NOT NULL CHECK (actor_kind IN ('client', 'user', 'cli', 'system')),
    actor_id     text NOT NULL CHECK (length(actor_id) <= 200),
    -- a fixed vocabulary; gateway/services/audit.py ACTIONS is the same list (a test checks)
    action       text NOT NULL CHECK (action IN (
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
        'admin.signed_in')),
    -- no foreign keys: the log outlives what it names, and a deletion elsewhere must not
    -- cascade into it
    developer_id bigint,
    skill_id     uuid,
    -- the object acted on, by id only: never text, tokens, secrets or personal data
    subject      text CHECK (length(subject) <= 200),
    -- ids, counts and fixed labels only (services/audit.py refuses anything else)
    details      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    -- the seal: set once, from NULL, by gateway_audit_seal only
    seq          bigint UNIQUE,
    prev_hash    text,
    row_hash     text,
    sealed_at    timestamptz,
    CHECK ((seq IS NULL) = (row_hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)
           AND (seq IS NULL) = (sealed_at IS NULL)),
    CHECK (seq IS NULL OR seq >= 1)
);
-- what the sealer looks for, kept small: only the unsealed rows are in it
CREATE INDEX audit_events_unsealed_idx ON audit_events (id) WHERE seq IS NULL;
CREATE INDEX audit_events_developer_idx ON audit_events (developer_id, id DESC)
    WHERE developer_id IS NOT NULL;
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at DESC);

-- The canonical encoding of one field: '~' for NULL, else <UTF-8 byte length> ':' <UTF-8 bytes>.
-- Length-prefixed, so no value can be crafted to read as two; gateway/services/audit.py
-- builds the same bytes independently.
CREATE FUNCTION gateway_audit_field(value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE WHEN value IS NULL THEN '\x7e'::bytea
                    ELSE convert_to(octet_length(convert_to(value, 'UTF8'))::text || ':', 'UTF8')
                         || convert_to(value, 'UTF8') END
    $$;

-- row_hash = hex(sha256('gateway-audit-v1' || field(prev_hash) || field(seq) || field(id)
--   || field(occurred_at as UTC epoch microseconds) || field(actor_kind) || field(actor_id)
--   || field(action) || field(developer_id) || field(skill_id) || field(subject)
--   || field(details as jsonb text))).
-- Nothing in it depends on the session's TimeZone, DateStyle or locale: the time is an
-- integer, jsonb's text form is normalised (keys sorted, no duplicates).
CREATE FUNCTION gateway_audit_row_hash(prev_hash text, seq bigint, id bigint,
                                       occurred_at timestamptz, actor_kind text, actor_id text,
                                       action text, developer_id bigint, skill_id uuid,
                                       subject text, details jsonb) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT encode(sha256(
            convert_to('gateway-audit-v1', 'UTF8')
            || gateway_audit_field(prev_hash)
            || gateway_audit_field(seq::text)
            || gateway_audit_field(id::text)
            || gateway_audit_field(trunc(extract(epoch FROM occurred_at) * 1000000)::bigint::text)
            || gateway_audit_field(actor_kind)
            || gateway_audit_field(actor_id)
            || gateway_audit_field(action)
            || gateway_audit_field(developer_id::text)
            || gateway_audit_field(skill_id::text)
            || gateway_audit_field(subject)
            || gateway_audit_field(details::text)), 'hex')
    $$;

-- Append-only, even for the owner (V18): statement-level triggers, which also see TRUNCATE
-- and zero-row deletes. The one UPDATE allowed is the sealer's, below.
CREATE FUNCTION gateway_audit_refuse() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND current_setting('gateway.audit_sealing', true) = 'on' THEN
            RETURN NULL;  -- the sealer; audit_events_seal_once checks each row
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_audit_refuse();

-- The seal is written once, from NULL, and nothing else about a row ever changes.
CREATE FUNCTION gateway_audit_seal_once() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF OLD.seq IS NOT NULL THEN
            RAISE EXCEPTION 'audit event % is already sealed', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.seq IS NULL
           OR to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'row_hash', 'sealed_at']
              IS DISTINCT FROM to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'row_hash', 'sealed_at']
        THEN
            RAISE EXCEPTION 'audit events: only the seal may be written, once'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER audit_events_seal_once BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION gateway_audit_seal_once();

-- A new row is content only, at the transaction's time: it cannot claim a place in the chain
-- or a moment in the past.
CREATE FUNCTION gateway_audit_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.row_hash IS NOT NULL
           OR NEW.sealed_at IS NOT NULL THEN
            RAISE EXCEPTION 'audit events are sealed by gateway_audit_seal, not inserted sealed'
                USING ERRCODE = 'restrict_violation';
        END IF;
        NEW.occurred_at := now();
        RETURN NEW;
    END
    $$;
CREATE TRIGGER audit_events_insert BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION gateway_audit_insert();

-- The sealer: gives up to p_limit committed, unsealed rows the next sequence numbers, in the
-- order they were inserted, each hashed over its content and the previous row's hash. One
-- sealer at a time (an advisory lock only sealers take: request transactions never wait on
-- it). Read committed only: after the lock, each statement sees the previous sealer's commit,
-- so the head it reads is the real head (and seq's unique index refuses anything else).
-- SECURITY DEFINER: the app role has no UPDATE on the table at all.
CREATE FUNCTION gateway_audit_seal(p_limit integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        head_seq  bigint;
        head_hash text;
        r         record;
        ids       bigint[] := '{}';
        seqs      bigint[] := '{}';
        prevs     text[] := '{}';
        hashes    text[] := '{}';
    BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            RAISE EXCEPTION 'the audit sealer runs at READ COMMITTED only'
                USING ERRCODE = 'invalid_transaction_state';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('gateway.audit.seal'));
        PERFORM set_config('gateway.audit_sealing', 'on', true);
        SELECT e.seq, e.row_hash INTO head_seq, head_hash
        FROM audit_events e WHERE e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1;
        IF head_seq IS NULL THEN
            head_seq := 0;
            head_hash := repeat('0', 64);
        END IF;
        FOR r IN
            SELECT e.id, e.occurred_at, e.actor_kind, e.actor_id, e.action, e.developer_id,
                   e.skill_id, e.subject, e.details
            FROM audit_events e WHERE e.seq IS NULL ORDER BY e.id LIMIT greatest(p_limit, 0)
        LOOP
            head_seq := head_seq + 1;
            ids := ids || r.id;
            seqs := seqs || head_seq;
            prevs := prevs || head_hash;
            head_hash := gateway_audit_row_hash(head_hash, head_seq, r.id, r.occurred_at,
                                                r.actor_kind, r.actor_id, r.action,
                                                r.developer_id, r.skill_id, r.subject, r.details);
            hashes := hashes || head_hash;
        END LOOP;
        IF cardinality(ids) > 0 THEN
            UPDATE audit_events e
            SET seq = s.seq, prev_hash = s.prev_hash, row_hash = s.row_hash, sealed_at = now()
            FROM unnest(ids, seqs, prevs, hashes) AS s (id, seq, prev_hash, row_hash)
            WHERE e.id = s.id;
        END IF;
        PERFORM set_config('gateway.audit_sealing', 'off', true);
        RETURN cardinality(ids);
    END
    $$;
REVOKE ALL ON FUNCTION gateway_audit_seal(integer) FROM PUBLIC;

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
-- Admins and the system read the log; nobody else (users see their reads in access_log).
CREATE POLICY audit_events_read ON audit_events FOR SELECT
    USING (gateway_role() IN ('admin', 'system'));
-- Each caller records its own actions only. The token endpoint runs before any caller is
-- known (bound as 'anonymous'): it may record the token events of the client it served.
CREATE POLICY audit_events_write ON audit_events FOR INSERT
    WITH CHECK (CASE gateway_role()
                    WHEN 'system' THEN true
                    WHEN 'admin' THEN true
                    WHEN 'platform' THEN actor_kind = 'client'
                                         AND actor_id = current_setting('gateway.client_id', true)
                    WHEN 'developer' THEN developer_id = gateway_developer_id()
                                          AND actor_kind = 'client'
                                          AND actor_id = current_setting('gateway.client_id', true)
                    WHEN 'user' THEN actor_kind = 'user'
                                     AND actor_id = gateway_user_id()::text
                    WHEN 'anonymous' THEN action IN ('token.issued', 'token.revoked')
                                          AND actor_kind = 'client'
                    ELSE false END);
-- ...and only a caller the database can verify (0002): gateway.role alone can be set by anyone
CREATE POLICY audit_events_verified_write ON audit_events AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IS NOT NULL);
-- The sealer runs as this migration's role (the owner), which FORCE subjects to the policies
-- too; it sees and seals rows only while it has raised its own flag.
CREATE POLICY audit_events_sealer_read ON audit_events FOR SELECT TO CURRENT_USER
    USING (current_setting('gateway.audit_sealing', true) = 'on');
CREATE POLICY audit_events_sealer_seal ON audit_events FOR UPDATE TO CURRENT_USER
    USING (current_setting('gateway.audit_sealing', true) = 'on')
    WITH CHECK (current_setting('gateway.audit_sealing', true) = 'on');

-- The app role writes content and reads; it cannot choose a row's time or seal, and has no
-- UPDATE, DELETE or TRUNCATE at all.
GRANT SELECT, INSERT (actor_kind, actor_id, action, developer_id, skill_id, subject, details)
    ON audit_events TO gateway_app;
GRANT EXECUTE ON FUNCTION gateway_audit_seal(integer) TO gateway_app;

-- --- k-anonymous stats -----------------------------------------------------------------------

-- How many complete weeks of counts a tier sees. Stats are published per calendar week, never
-- over a sliding window: two windows that overlap would subtract to a single day's counts.
ALTER TABLE tiers ADD COLUMN stats_weeks integer NOT NULL DEFAULT 13
    CHECK (stats_weeks BETWEEN 1 AND 53);
-- the whitelisted tiers' stats reach as far back as their transcripts do
UPDATE tiers SET stats_weeks = greatest(retention_days / 7, 1) WHERE retention_days > 0;

-- Counts of one skill's interactions per UTC week and, within each week, per day, intent and
-- outcome, each with its number of distinct users. Every user except child profiles is
-- counted, consent or not: these are aggregates, and the service shows a bucket only when it
-- covers at least k users (services/stats.py). Nothing but counts leaves this function.
-- SECURITY DEFINER because a developer's row-level security shows it only its consenting
-- users, and a child profile that never consented must still be left out; it answers only for
-- the calling developer's own skills (rule 1), or for admins and the system.
CREATE FUNCTION gateway_skill_stats(p_skill_id uuid, p_since timestamptz, p_until timestamptz)
    RETURNS TABLE (week date, dimension text, key text, interactions bigint, users bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF NOT (gateway_role() IN ('admin', 'system')
                OR EXISTS (SELECT 1 FROM skills s
                           WHERE s.id = p_skill_id AND s.developer_id = gateway_developer_id()))
        THEN
            RETURN;
        END IF;
        PERFORM set_config('gateway.skill_stats', 'on', true);
        RETURN QUERY
            SELECT x.week, CASE WHEN GROUPING(x.day) = 0 THEN 'day'
                                WHEN GROUPING(x.intent) = 0 THEN 'intent'
                                WHEN GROUPING(x.outcome) = 0 THEN 'outcome'
                                ELSE 'week' END,
                   coalesce(x.day::text, x.intent, x.outcome, ''),
                   count(*), count(DISTINCT x.user_id)
            FROM (SELECT (date_trunc('week', i.occurred_at AT TIME ZONE 'UTC'))::date AS week,
                         (i.occurred_at AT TIME ZONE 'UTC')::date AS day,
                         i.intent, i.outcome, i.user_id
                  FROM interactions i JOIN users u ON u.id = i.user_id
                  WHERE i.skill_id = p_skill_id AND NOT u.is_child
                    AND i.occurred_at >= p_since AND i.occurred_at < p_until) x
            GROUP BY GROUPING SETS ((x.week), (x.week, x.day), (x.week, x.intent),
                                    (x.week, x.outcome));
        PERFORM set_config('gateway.skill_stats', 'off', true);
    END
    $$;
REVOKE ALL ON FUNCTION gateway_skill_stats(uuid, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gateway_skill_stats(uuid, timestamptz, timestamptz) TO gateway_app;

-- Inside gateway_skill_stats only (the owner, with its flag raised, after the ownership check),
-- every interaction of the skill and the child flag of every user are visible, not just those
-- the caller's own policies show.
CREATE POLICY users_for_skill_stats ON users FOR SELECT TO CURRENT_USER
    USING (current_setting('gateway.skill_stats', true) = 'on');
CREATE POLICY interactions_for_skill_stats ON interactions FOR SELECT TO CURRENT_USER
    USING (current_setting('gateway.skill_stats', true) = 'on');

-- A week, once shown, never changes: the first answer after it closed is kept, so a later
-- deletion, a late interaction or a child flag cannot be subtracted out of two answers.
-- Only what was shown is kept (buckets of at least k users), per k.
CREATE TABLE skill_stats_weeks (
    skill_id   uuid NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    week       date NOT NULL CHECK (extract(isodow FROM week) = 1),
    k          integer NOT NULL CHECK (k >= 1),
    published  jsonb NOT NULL CHECK (jsonb_typeof(published) = 'object'),
    frozen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (skill_id, week, k)
);
ALTER TABLE skill_stats_weeks ENABLE ROW LEVEL SECURITY;
ALTER TABLE skill_stats_weeks FORCE ROW LEVEL SECURITY;
CREATE POLICY skill_stats_weeks_access ON skill_stats_weeks
    USING (gateway_role() IN ('admin', 'system')
           OR skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()))
    WITH CHECK (gateway_role() IN ('admin', 'system')
                OR skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()));
CREATE POLICY skill_stats_weeks_verified_write ON skill_stats_weeks AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'admin' THEN true
                    WHEN 'developer' THEN skill_id IN (
                        SELECT id FROM skills
                        WHERE developer_id = (SELECT gateway_verified_developer_id()))
                    ELSE false END);
GRANT SELECT, INSERT (skill_id, week, k, published) ON skill_stats_weeks TO gateway_app;
