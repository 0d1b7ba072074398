-- The platform's side: interactions partitioned by month (retention drops whole months),
-- their redacted forms stored beside them (redacted once, at write time), the ingest ledger
-- that makes ingest idempotent across partitions, and users' own personal fields kept apart
-- from anything a developer's query can reach.

-- Users' personal fields, shown to the user themself only (never to developers: no policy
-- lets a developer see a row of this table).
CREATE TABLE user_profiles (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- BCP 47 tag; NULL until the platform says
    locale       text CHECK (locale ~ '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$'),
    email        text CHECK (length(email) <= 320),
    display_name text CHECK (length(display_name) <= 200),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY user_profiles_access ON user_profiles
    USING (gateway_role() IN ('platform', 'system') OR user_id = gateway_user_id())
    WITH CHECK (gateway_role() IN ('platform', 'system'));

-- Interactions, partitioned by the month they happened in (UTC). Partitions are created on
-- demand by gateway_ensure_interaction_month() below, never by hand.
ALTER TABLE interactions RENAME TO interactions_unpartitioned;
-- its index and constraint names go to the new table
DROP INDEX interactions_skill_time_idx, interactions_user_idx;
ALTER TABLE interactions_unpartitioned RENAME CONSTRAINT interactions_pkey TO interactions_unpartitioned_pkey;

CREATE TABLE interactions (
    id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    skill_id           uuid NOT NULL REFERENCES skills (id),
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id         text NOT NULL DEFAULT '',
    occurred_at        timestamptz NOT NULL,
    utterance          text NOT NULL DEFAULT '',
    response           text NOT NULL DEFAULT '',
    intent             text NOT NULL DEFAULT '',
    slots              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(slots) = 'object'),
    outcome            text NOT NULL DEFAULT '',
    order_ref          text NOT NULL DEFAULT '',
    sensitive_category text CHECK (sensitive_category IN ('health', 'finance')),
    -- kept for the platform's own support; the app role is granted no read of it (rule 4)
    device_serial      text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX interactions_skill_time_idx ON interactions (skill_id, occurred_at DESC, id DESC);
CREATE INDEX interactions_user_idx ON interactions (user_id, occurred_at);
-- one conversation's turns, in order
CREATE INDEX interactions_session_idx ON interactions (skill_id, session_id, occurred_at)
    WHERE session_id <> '';
CREATE INDEX interactions_id_idx ON interactions (id);

-- The redacted forms: one row per interaction and redaction policy, made when the interaction
-- is written, with the version of the redactor that made it. A read only selects; a row made
-- by an older version is redacted again before anyone sees it (services/redaction.py).
-- The *_ref_hidden columns hold the form for tiers that do not show the order reference,
-- only where it differs (the order reference inside the text is then redacted as well).
CREATE TABLE interaction_texts (
    interaction_id      uuid NOT NULL,
    occurred_at         timestamptz NOT NULL,
    skill_id            uuid NOT NULL,
    policy              text NOT NULL,
    version             text NOT NULL,
    utterance           text NOT NULL,
    response            text NOT NULL,
    slots               jsonb NOT NULL CHECK (jsonb_typeof(slots) = 'array'),
    utterance_ref_hidden text,
    response_ref_hidden  text,
    slots_ref_hidden     jsonb,
    -- search runs over what the developer is shown, never over the raw text, and only over
    -- the fields its tier shows: one vector per field
    search_utterance    tsvector NOT NULL GENERATED ALWAYS AS (
        to_tsvector('english', utterance)) STORED,
    search_response     tsvector NOT NULL GENERATED ALWAYS AS (
        to_tsvector('english', response)) STORED,
    search_slots        tsvector NOT NULL GENERATED ALWAYS AS (
        jsonb_to_tsvector('english', slots, '["string"]')) STORED,
    PRIMARY KEY (interaction_id, policy, occurred_at),
    -- deleting an interaction deletes its redacted forms in the same statement (rule 8)
    FOREIGN KEY (interaction_id, occurred_at) REFERENCES interactions (id, occurred_at)
        ON DELETE CASCADE
) PARTITION BY RANGE (occurred_at);
CREATE INDEX interaction_texts_search_utterance_idx ON interaction_texts
    USING gin (search_utterance);
CREATE INDEX interaction_texts_search_response_idx ON interaction_texts
    USING gin (search_response);
CREATE INDEX interaction_texts_search_slots_idx ON interaction_texts USING gin (search_slots);

-- The ingest ledger: one row per platform interaction id ever accepted, outside the
-- partitions so that idempotency holds across months. It keeps no text, so it outlives a
-- deletion and a retried batch cannot bring deleted text back.
CREATE TABLE ingested_interactions (
    platform_interaction_id text PRIMARY KEY CHECK (length(platform_interaction_id) BETWEEN 1 AND 200),
    interaction_id          uuid NOT NULL UNIQUE,
    occurred_at             timestamptz NOT NULL,
    -- sha256 of the record as received: the same id with other content is refused
    content_digest          text NOT NULL,
    ingested_at             timestamptz NOT NULL DEFAULT now()
);

-- Create the month's partitions of interactions and interaction_texts if missing.
-- SECURITY DEFINER: the app role creates nothing itself; partitions belong to the owner and
-- the app role has no privilege on them, so they are reached only through the parents (and
-- their row-level security).
CREATE FUNCTION gateway_ensure_interaction_month(p_at timestamptz) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    month_start timestamptz := date_trunc('month', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    month_end   timestamptz := month_start + interval '1 month';
    suffix      text := to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    -- only a proven platform or system caller writes interactions (see 0002)
    IF coalesce(gateway_verified_role() NOT IN ('platform', 'system'), true)
       AND session_user <> current_user THEN
        RAISE EXCEPTION 'only the platform creates interaction partitions'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF to_regclass('public.interactions_' || suffix) IS NOT NULL
       AND to_regclass('public.interaction_texts_' || suffix) IS NOT NULL THEN
        RETURN;
    END IF;
    -- two transactions creating the same month wait for each other instead of failing
    PERFORM pg_advisory_xact_lock(hashtext('gateway.partition.' || suffix));
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF interactions '
                   'FOR VALUES FROM (%L) TO (%L)', 'interactions_' || suffix, month_start, month_end);
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF interaction_texts '
                   'FOR VALUES FROM (%L) TO (%L)', 'interaction_texts_' || suffix, month_start, month_end);
END;
$$;
REVOKE ALL ON FUNCTION gateway_ensure_interaction_month(timestamptz) FROM PUBLIC;

-- Move what exists into the partitioned table.
DO $$
DECLARE
    month timestamptz;
BEGIN
    FOR month IN
        SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        FROM interactions_unpartitioned
        UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    LOOP
        PERFORM gateway_ensure_interaction_month(month);
    END LOOP;
END;
$$;

INSERT INTO interactions (id, skill_id, user_id, session_id, occurred_at, utterance, response,
                          intent, slots, outcome, order_ref, sensitive_category, device_serial,
                          created_at)
SELECT id, skill_id, user_id, session_id, occurred_at, utterance, response, intent, slots,
       outcome, order_ref, sensitive_category, device_serial, created_at
FROM interactions_unpartitioned;

INSERT INTO ingested_interactions (platform_interaction_id, interaction_id, occurred_at,
                                   content_digest, ingested_at)
SELECT platform_interaction_id, id, occurred_at, '', created_at FROM interactions_unpartitioned;

-- Audio references follow their interaction: keyed by (id, occurred_at) now.
ALTER TABLE vault.audio_recordings ADD COLUMN occurred_at timestamptz;
UPDATE vault.audio_recordings a SET occurred_at = i.occurred_at
FROM interactions_unpartitioned i WHERE i.id = a.interaction_id;
ALTER TABLE vault.audio_recordings
    DROP CONSTRAINT audio_recordings_interaction_id_fkey,
    ALTER COLUMN occurred_at SET NOT NULL,
    ADD FOREIGN KEY (interaction_id, occurred_at) REFERENCES interactions (id, occurred_at)
        ON DELETE CASCADE;

DROP TABLE interactions_unpartitioned;

-- The platform stores an audio reference without any privilege on the vault (rule 4): the
-- function lives outside it and writes as the owner; it returns nothing.
CREATE FUNCTION gateway_store_audio_reference(p_interaction_id uuid, p_occurred_at timestamptz,
                                            p_audio_ref text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF coalesce(gateway_verified_role() NOT IN ('platform', 'system'), true) THEN
        RAISE EXCEPTION 'only the platform stores audio references'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO vault.audio_recordings (interaction_id, occurred_at, audio_ref)
    VALUES (p_interaction_id, p_occurred_at, p_audio_ref)
    ON CONFLICT (interaction_id) DO NOTHING;
END;
$$;
REVOKE ALL ON FUNCTION gateway_store_audio_reference(uuid, timestamptz, text) FROM PUBLIC;

-- Row-level security, as on every tenant table.
ALTER TABLE interactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interactions FORCE ROW LEVEL SECURITY;
CREATE POLICY interactions_access ON interactions
    USING (gateway_role() IN ('platform', 'system') OR user_id = gateway_user_id())
    WITH CHECK (gateway_role() IN ('platform', 'system'));
-- keyed on the developer id alone (see 0001: an equality on a setting misleads the planner)
CREATE POLICY interactions_read_by_developers ON interactions FOR SELECT
    USING (skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()));

ALTER TABLE interaction_texts ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction_texts FORCE ROW LEVEL SECURITY;
CREATE POLICY interaction_texts_access ON interaction_texts
    USING (gateway_role() IN ('platform', 'system'))
    WITH CHECK (gateway_role() IN ('platform', 'system'));
-- a developer reads, and refreshes when stale, the forms of its own skills only
CREATE POLICY interaction_texts_by_developers ON interaction_texts
    USING (skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()))
    WITH CHECK (skill_id IN (SELECT id FROM skills WHERE developer_id = gateway_developer_id()));

ALTER TABLE ingested_interactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingested_interactions FORCE ROW LEVEL SECURITY;
CREATE POLICY ingested_interactions_access ON ingested_interactions
    USING (gateway_role() IN ('platform', 'system'))
    WITH CHECK (gateway_role() IN ('platform', 'system'));

-- Writes need a caller the database can verify (0002): the proof, not a setting anyone may set.
CREATE POLICY interactions_verified_insert ON interactions AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('platform', 'system'));
CREATE POLICY ingested_interactions_verified_insert ON ingested_interactions
    AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('platform', 'system'));
CREATE POLICY user_profiles_verified_insert ON user_profiles AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('platform', 'system'));
CREATE POLICY user_profiles_verified_update ON user_profiles AS RESTRICTIVE FOR UPDATE
    WITH CHECK ((SELECT gateway_verified_role()) IN ('platform', 'system'));
-- a developer's read writes back a form it found stale, for its own skills only
CREATE POLICY interaction_texts_verified_insert ON interaction_texts AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'platform' THEN true
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN skill_id IN (
                        SELECT id FROM skills
                        WHERE developer_id = (SELECT gateway_verified_developer_id()))
                    ELSE false END);
CREATE POLICY interaction_texts_verified_update ON interaction_texts AS RESTRICTIVE FOR UPDATE
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'platform' THEN true
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN skill_id IN (
                        SELECT id FROM skills
                        WHERE developer_id = (SELECT gateway_verified_developer_id()))
                    ELSE false END);

-- Grants: what the code does, and no more, column by column.
-- device_serial: written by ingestion, never read by the app role (rule 4)
GRANT SELECT (id, skill_id, user_id, session_id, occurred_at, utterance, response, intent, slots,
              outcome, order_ref, sensitive_category, created_at),
      INSERT (id, skill_id, user_id, session_id, occurred_at, utterance, response, intent, slots,
              outcome, order_ref, sensitive_category, device_serial)
    ON interactions TO gateway_app;
GRANT SELECT,
      INSERT (interaction_id, occurred_at, skill_id, policy, version, utterance, response, slots,
              utterance_ref_hidden, response_ref_hidden, slots_ref_hidden),
      UPDATE (version, utterance, response, slots, utterance_ref_hidden, response_ref_hidden,
              slots_ref_hidden)
    ON interaction_texts TO gateway_app;
GRANT SELECT, INSERT (platform_interaction_id, interaction_id, occurred_at, content_digest)
    ON ingested_interactions TO gateway_app;
GRANT SELECT, INSERT (user_id, locale, email, display_name),
      UPDATE (locale, email, display_name, updated_at)
    ON user_profiles TO gateway_app;
GRANT EXECUTE ON FUNCTION gateway_store_audio_reference(uuid, timestamptz, text) TO gateway_app;
GRANT EXECUTE ON FUNCTION gateway_ensure_interaction_month(timestamptz) TO gateway_app;

-- Session pseudonyms a developer has been shown, so that one given back as a filter resolves
-- (like user_pseudonyms; pseudonyms are keyed hashes and cannot be inverted).
CREATE TABLE session_pseudonyms (
    developer_id bigint NOT NULL REFERENCES developers (id),
    pseudonym    text NOT NULL,
    skill_id     uuid NOT NULL REFERENCES skills (id),
    session_id   text NOT NULL,
    PRIMARY KEY (developer_id, pseudonym)
);
ALTER TABLE session_pseudonyms ENABLE ROW LEVEL SECURITY;
ALTER TABLE session_pseudonyms FORCE ROW LEVEL SECURITY;
CREATE POLICY session_pseudonyms_access ON session_pseudonyms
    USING (gateway_role() = 'system' OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() = 'system' OR developer_id = gateway_developer_id());
CREATE POLICY session_pseudonyms_verified_insert ON session_pseudonyms AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN developer_id = (SELECT gateway_verified_developer_id())
                    ELSE false END);
GRANT SELECT, INSERT (developer_id, pseudonym, skill_id, session_id)
    ON session_pseudonyms TO gateway_app;
