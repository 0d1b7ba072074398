-- Users' data (rules 2, 7 and 8): the one narrow path by which interactions are deleted, the
-- receipts it leaves, and what the ingest ledger keeps of a deleted interaction.
--
-- The app role still has no DELETE anywhere. gateway_delete_interactions is the only way
-- interactions leave: it checks the proven caller (a user deletes their own, the platform or
-- the system for a named user), deletes the interactions with everything derived from their
-- text (redacted forms and their search vectors, audio references, the ledger's content
-- digests, session pseudonyms nothing refers to any more), writes the receipt and the audit
-- event, and answers which developers had read what, all in the caller's transaction.

-- A deleted interaction's ledger row keeps its ids, so that a retried batch answers the same
-- and cannot bring the text back; its content digest, a digest of the text, is cleared.
ALTER TABLE ingested_interactions ADD COLUMN deleted_at timestamptz;

CREATE TABLE deletion_receipts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- no foreign key: a receipt outlives what it names
    user_id      uuid NOT NULL,
    -- the range deleted, [since, until); NULL: open on that side (both NULL: everything)
    since        timestamptz,
    until        timestamptz,
    interactions integer NOT NULL CHECK (interactions >= 0),
    -- who asked: the user, the platform relaying what they said, or an operator (system)
    actor_kind   text NOT NULL CHECK (actor_kind IN ('user', 'client', 'system')),
    actor_id     text NOT NULL CHECK (length(actor_id) <= 200),
    requested_at timestamptz NOT NULL DEFAULT now(),
    CHECK (since IS NULL OR until IS NULL OR since < until)
);
CREATE INDEX deletion_receipts_user_idx ON deletion_receipts (user_id, requested_at DESC);

ALTER TABLE deletion_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE deletion_receipts FORCE ROW LEVEL SECURITY;
-- a user sees their own receipts; admins and the system all of them
CREATE POLICY deletion_receipts_read ON deletion_receipts FOR SELECT
    USING (gateway_role() IN ('admin', 'system') OR user_id = gateway_user_id());
-- a receipt is written by gateway_delete_interactions only (no INSERT grant to the app role):
-- the owner, with its flag raised after checking the caller
CREATE POLICY deletion_receipts_by_deletion ON deletion_receipts TO CURRENT_USER
    USING (current_setting('gateway.deleting', true) = 'on')
    WITH CHECK (current_setting('gateway.deleting', true) = 'on');
CREATE TRIGGER deletion_receipts_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON deletion_receipts
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_private.refuse_rewriting_history();

-- Inside gateway_delete_interactions only (the owner, flag raised, caller checked): the rows
-- the deletion reads or changes whatever the caller's own policies show. FORCE subjects the
-- owner to row-level security; a superuser owner bypasses it anyway.
CREATE POLICY interactions_by_deletion ON interactions TO CURRENT_USER
    USING (current_setting('gateway.deleting', true) = 'on');
CREATE POLICY ingested_interactions_by_deletion ON ingested_interactions TO CURRENT_USER
    USING (current_setting('gateway.deleting', true) = 'on')
    WITH CHECK (current_setting('gateway.deleting', true) = 'on');
CREATE POLICY session_pseudonyms_by_deletion ON session_pseudonyms TO CURRENT_USER
    USING (current_setting('gateway.deleting', true) = 'on');
CREATE POLICY user_pseudonyms_by_deletion ON user_pseudonyms FOR SELECT TO CURRENT_USER
    USING (current_setting('gateway.deleting', true) = 'on');
CREATE POLICY access_log_by_deletion ON access_log FOR SELECT TO CURRENT_USER
    USING (current_setting('gateway.deleting', true) = 'on');

-- Delete the user's interactions that happened in [p_since, p_until) (NULL: open; both NULL:
-- all of them) and everything the gateway derived from their text; return the receipt and,
-- per developer that had read any of them (from the access log), the ids it read and the
-- pseudonyms it knows the user by, for the deletion notices the caller queues in the same
-- transaction. Audited as deletion.completed with the caller as the actor.
CREATE FUNCTION gateway_delete_interactions(p_user_id uuid, p_since timestamptz,
                                            p_until timestamptz)
    RETURNS TABLE (deletion_id uuid, requested_at timestamptz, deleted integer, readers jsonb)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    caller     text := gateway_verified_role();
    who_kind   text;
    who_id     text;
    receipt    uuid;
    gone_ids   uuid[];
    gone_skills uuid[];
    gone_sessions text[];
    found      jsonb;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'a deletion names its user' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the proven caller (0002), never the plain settings: a user deletes their own data, the
    -- platform and the system delete a named user's
    IF caller = 'user' AND p_user_id = gateway_verified_user_id() THEN
        who_kind := 'user';
        who_id := p_user_id::text;
    ELSIF caller = 'platform' AND gateway_verified_client_id() IS NOT NULL THEN
        who_kind := 'client';
        who_id := gateway_verified_client_id();
    ELSIF caller = 'system' THEN
        who_kind := 'system';
        who_id := '';
    ELSE
        RAISE EXCEPTION 'only the user, the platform or the system deletes a user''s interactions'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_since IS NOT NULL AND p_until IS NOT NULL AND p_since >= p_until THEN
        RAISE EXCEPTION 'since must be earlier than until' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one deletion per user at a time: the second waits, then finds what is left
    PERFORM pg_advisory_xact_lock(hashtext('gateway.deletion'), hashtext(p_user_id::text));
    PERFORM set_config('gateway.deleting', 'on', true);

    -- the redacted forms (with their search vectors) and audio references go with their
    -- interaction, by ON DELETE CASCADE, in this statement
    WITH gone AS (
        DELETE FROM interactions i
        WHERE i.user_id = p_user_id
          AND (p_since IS NULL OR i.occurred_at >= p_since)
          AND (p_until IS NULL OR i.occurred_at < p_until)
        RETURNING i.id, i.skill_id, i.session_id
    )
    SELECT coalesce(array_agg(g.id), '{}'), coalesce(array_agg(g.skill_id), '{}'),
           coalesce(array_agg(g.session_id), '{}')
    INTO gone_ids, gone_skills, gone_sessions
    FROM gone g;

    UPDATE ingested_interactions l SET content_digest = '', deleted_at = now()
    FROM unnest(gone_ids) AS d (id)
    WHERE l.interaction_id = d.id;

    -- a session pseudonym maps to the platform's session id: forgotten once no interaction of
    -- that session is left
    DELETE FROM session_pseudonyms p
    USING (SELECT DISTINCT s.skill_id, s.session_id
           FROM unnest(gone_skills, gone_sessions) AS s (skill_id, session_id)
           WHERE s.session_id <> '') s
    WHERE p.skill_id = s.skill_id AND p.session_id = s.session_id
      AND NOT EXISTS (SELECT 1 FROM interactions i
                      WHERE i.skill_id = s.skill_id AND i.session_id = s.session_id);

    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'developer_id', r.developer_id,
               'interaction_ids', r.ids,
               'pseudonyms', coalesce((SELECT jsonb_agg(p.pseudonym ORDER BY p.pseudonym)
                                       FROM user_pseudonyms p
                                       WHERE p.developer_id = r.developer_id
                                         AND p.user_id = p_user_id), '[]'::jsonb))
               ORDER BY r.developer_id), '[]'::jsonb)
    INTO found
    FROM (SELECT a.developer_id, array_agg(DISTINCT a.interaction_id) AS ids
          FROM access_log a JOIN unnest(gone_ids) AS d (id) ON d.id = a.interaction_id
          WHERE a.user_id = p_user_id
          GROUP BY a.developer_id) r;

    INSERT INTO deletion_receipts (user_id, since, until, interactions, actor_kind, actor_id)
    VALUES (p_user_id, p_since, p_until, cardinality(gone_ids), who_kind, who_id)
    RETURNING id INTO receipt;

    -- ids and counts only (rule 7); the audit log's own policies check the actor again
    INSERT INTO audit_events (actor_kind, actor_id, action, subject, details)
    VALUES (who_kind, who_id, 'deletion.completed', receipt::text,
            jsonb_build_object('user_id', p_user_id::text,
                               'interactions', cardinality(gone_ids),
                               'developers', jsonb_array_length(found)));

    PERFORM set_config('gateway.deleting', 'off', true);
    RETURN QUERY SELECT receipt, now(), cardinality(gone_ids), found;
END;
$$;
REVOKE ALL ON FUNCTION gateway_delete_interactions(uuid, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gateway_delete_interactions(uuid, timestamptz, timestamptz)
    TO gateway_app;

GRANT SELECT ON deletion_receipts TO gateway_app;
