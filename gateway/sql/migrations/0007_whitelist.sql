-- The whitelist as explicit, expiring, audited decisions: tiers admins create and change,
-- grants of the top tier that must be re-certified, tier requests developers file, and the
-- record of which grants the worker has seen expire.

-- --- tiers: admins manage them --------------------------------------------------------------

-- A tier whose grants must be re-certified: a grant of it ends at most this many days after it
-- was made, whatever expiry it names (the top tier, `trusted`: 365). Read-time resolution
-- applies the cap too (repositories/developers.py), so a grant made before a tier became
-- top-tier cannot outlive it.
ALTER TABLE tiers ADD COLUMN recertify_days integer CHECK (recertify_days BETWEEN 1 AND 365);
UPDATE tiers SET recertify_days = 365 WHERE name = 'trusted';

-- `none` is where an expired or revoked grant leaves a developer: it never reads transcripts
-- and never expires, whoever edits it (the service says so first, with a 422).
ALTER TABLE tiers ADD CONSTRAINT tiers_none_reads_no_transcripts
    CHECK (name <> 'none' OR (NOT transcripts_readable AND recertify_days IS NULL));

ALTER TABLE tiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE tiers FORCE ROW LEVEL SECURITY;
-- the catalog is no secret: every caller resolves its tier through it
CREATE POLICY tiers_read ON tiers FOR SELECT USING (true);
CREATE POLICY tiers_insert ON tiers FOR INSERT
    WITH CHECK (gateway_role() IN ('admin', 'system'));
CREATE POLICY tiers_update ON tiers FOR UPDATE
    USING (gateway_role() IN ('admin', 'system'))
    WITH CHECK (gateway_role() IN ('admin', 'system'));
CREATE POLICY tiers_verified_insert ON tiers AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));
CREATE POLICY tiers_verified_update ON tiers AS RESTRICTIVE FOR UPDATE
    USING ((SELECT gateway_verified_role()) IN ('admin', 'system'))
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));

-- A tier's name is what grants point at: it never changes, and no tier is ever removed.
CREATE FUNCTION gateway_private.tiers_keep_their_name() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.name IS DISTINCT FROM OLD.name THEN
            RAISE EXCEPTION 'tiers is history: a tier''s name never changes'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER tiers_keep_their_name BEFORE UPDATE ON tiers
    FOR EACH ROW EXECUTE FUNCTION gateway_private.tiers_keep_their_name();
CREATE TRIGGER tiers_never_removed BEFORE DELETE OR TRUNCATE ON tiers
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();

GRANT INSERT (name, transcripts_readable, fields, retention_days, redaction_policy, page_size,
              rate_limit, k_threshold, description, stats_weeks, recertify_days),
      UPDATE (transcripts_readable, fields, retention_days, redaction_policy, page_size,
              rate_limit, k_threshold, description, stats_weeks, recertify_days)
    ON tiers TO gateway_app;

-- --- tier requests: a developer asks, an admin decides ----------------------------------------

CREATE TABLE tier_requests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    developer_id    bigint NOT NULL REFERENCES developers (id),
    tier            text NOT NULL REFERENCES tiers (name),
    purpose         text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 4000),
    -- the developer acknowledged the data-use terms of this version: a request exists only so
    accepted_terms  boolean NOT NULL CHECK (accepted_terms),
    terms_version   text NOT NULL CHECK (length(terms_version) BETWEEN 1 AND 40),
    requested_at    timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied')),
    decided_at      timestamptz,
    decided_by      text,
    decision_reason text CHECK (length(decision_reason) BETWEEN 1 AND 2000),
    grant_id        bigint REFERENCES tier_grants (id),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status = 'pending') = (decided_by IS NULL)),
    CHECK (status <> 'denied' OR decision_reason IS NOT NULL),
    CHECK ((status = 'approved') = (grant_id IS NOT NULL))
);
-- one pending request per developer at a time
CREATE UNIQUE INDEX tier_requests_one_pending_idx ON tier_requests (developer_id)
    WHERE status = 'pending';
CREATE INDEX tier_requests_developer_idx ON tier_requests (developer_id, id);
CREATE INDEX tier_requests_status_idx ON tier_requests (status, id);

ALTER TABLE tier_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE tier_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tier_requests_access ON tier_requests
    USING (gateway_role() IN ('admin', 'system') OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() IN ('admin', 'system') OR developer_id = gateway_developer_id());
-- a developer files its own requests (never another's); only admins and the system decide
CREATE POLICY tier_requests_verified_insert ON tier_requests AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'developer' THEN developer_id = (SELECT gateway_verified_developer_id())
                    WHEN 'system' THEN true
                    ELSE false END);
CREATE POLICY tier_requests_verified_update ON tier_requests AS RESTRICTIVE FOR UPDATE
    USING ((SELECT gateway_verified_role()) IN ('admin', 'system'))
    WITH CHECK ((SELECT gateway_verified_role()) IN ('admin', 'system'));

-- A request is filed as of now and decided once, as of now; what was asked never changes.
CREATE FUNCTION gateway_private.tier_requests_filed_now() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.requested_at IS DISTINCT FROM now() OR NEW.status <> 'pending' THEN
            RAISE EXCEPTION 'tier_requests: a request is filed as of now(), pending'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER tier_requests_filed_now BEFORE INSERT ON tier_requests
    FOR EACH ROW EXECUTE FUNCTION gateway_private.tier_requests_filed_now();

CREATE FUNCTION gateway_private.tier_requests_decided_once() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF OLD.status <> 'pending' THEN
            RAISE EXCEPTION 'tier_requests: request % is decided already', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF (to_jsonb(NEW) - ARRAY['status', 'decided_at', 'decided_by', 'decision_reason',
                                  'grant_id'])
           IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'decided_at', 'decided_by',
                                                   'decision_reason', 'grant_id']) THEN
            RAISE EXCEPTION 'tier_requests: only the decision may change'
                USING ERRCODE = 'restrict_violation';
        END IF;
        NEW.decided_at := now();
        RETURN NEW;
    END
    $$;
CREATE TRIGGER tier_requests_decided_once BEFORE UPDATE ON tier_requests
    FOR EACH ROW EXECUTE FUNCTION gateway_private.tier_requests_decided_once();
CREATE TRIGGER tier_requests_append_only BEFORE DELETE OR TRUNCATE ON tier_requests
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();

GRANT SELECT, INSERT (developer_id, tier, purpose, accepted_terms, terms_version),
      UPDATE (status, decided_by, decision_reason, grant_id)
    ON tier_requests TO gateway_app;

-- --- grant expiries the worker has recorded ---------------------------------------------------

-- A grant's expiry needs no job: the tier is resolved at read time. This only remembers which
-- expiries `skillgw worker` has written to the audit log (grant.expired), so that each is
-- written once however many workers run.
CREATE TABLE tier_grant_expiries (
    grant_id     bigint PRIMARY KEY REFERENCES tier_grants (id),
    developer_id bigint NOT NULL REFERENCES developers (id),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tier_grant_expiries ENABLE ROW LEVEL SECURITY;
ALTER TABLE tier_grant_expiries FORCE ROW LEVEL SECURITY;
CREATE POLICY tier_grant_expiries_access ON tier_grant_expiries
    USING (gateway_role() IN ('admin', 'system'))
    WITH CHECK (gateway_role() = 'system');
CREATE POLICY tier_grant_expiries_verified_insert ON tier_grant_expiries AS RESTRICTIVE
    FOR INSERT WITH CHECK ((SELECT gateway_verified_role()) = 'system');
CREATE TRIGGER tier_grant_expiries_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON tier_grant_expiries
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();

GRANT SELECT, INSERT (grant_id, developer_id) ON tier_grant_expiries TO gateway_app;
