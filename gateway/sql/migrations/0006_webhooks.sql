-- Notices to developers (rule 8): where each developer wants them, and a transactional outbox
-- of deliveries that a worker drains with retries until each is acknowledged.

CREATE TABLE developer_webhooks (
    developer_id       bigint PRIMARY KEY REFERENCES developers (id),
    url                text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- the Standard Webhooks signing secret, encrypted (AES-GCM) under a key derived from the
    -- server's secret key: a dump of the database holds no usable secret
    secret_ciphertext  bytea NOT NULL,
    -- after a rotation the previous secret keeps signing (a second signature) until this time
    previous_secret_ciphertext bytea,
    previous_secret_expires_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    -- the webhook-id header: the same on every attempt, so a receiver can process it once
    id              text PRIMARY KEY CHECK (id ~ '^msg_[A-Za-z0-9]{10,64}$'),
    developer_id    bigint NOT NULL REFERENCES developers (id),
    event_type      text NOT NULL CHECK (event_type IN ('consent.revoked', 'interactions.deleted')),
    -- ids and pseudonyms only, never transcript text (rule 8: nothing to chase on deletion)
    payload         jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- when the next attempt is due; while an attempt runs, the end of its lease
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text CHECK (length(last_error) <= 500),
    delivered_at    timestamptz,
    -- whose data the notice is about (no foreign key: it outlives the user's deletion), and
    -- the deletion receipt it belongs to, when it is a deletion notice
    user_id         uuid,
    deletion_id     uuid
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_developer_idx ON webhook_deliveries (developer_id, created_at DESC);
CREATE INDEX webhook_deliveries_deletion_idx ON webhook_deliveries (deletion_id)
    WHERE deletion_id IS NOT NULL;

ALTER TABLE developer_webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE developer_webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY developer_webhooks_access ON developer_webhooks
    USING (gateway_role() = 'system' OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() = 'system' OR developer_id = gateway_developer_id());

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
-- notices are queued by the transaction that revokes or deletes (a user, the platform or the
-- system acting for them) and drained by the worker (system)
CREATE POLICY webhook_deliveries_access ON webhook_deliveries
    USING (gateway_role() IN ('system', 'admin') OR developer_id = gateway_developer_id())
    WITH CHECK (gateway_role() IN ('system', 'platform', 'user'));
CREATE POLICY webhook_deliveries_by_user ON webhook_deliveries FOR SELECT
    USING (user_id = gateway_user_id());

-- writes need a caller the database can verify (0002)
CREATE POLICY developer_webhooks_verified_write ON developer_webhooks AS RESTRICTIVE FOR INSERT
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN developer_id = (SELECT gateway_verified_developer_id())
                    ELSE false END);
CREATE POLICY developer_webhooks_verified_update ON developer_webhooks AS RESTRICTIVE FOR UPDATE
    WITH CHECK (CASE (SELECT gateway_verified_role())
                    WHEN 'system' THEN true
                    WHEN 'developer' THEN developer_id = (SELECT gateway_verified_developer_id())
                    ELSE false END);
CREATE POLICY webhook_deliveries_verified_insert ON webhook_deliveries AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IN ('system', 'platform', 'user'));
CREATE POLICY webhook_deliveries_verified_update ON webhook_deliveries AS RESTRICTIVE FOR UPDATE
    WITH CHECK ((SELECT gateway_verified_role()) = 'system');

GRANT SELECT, INSERT (developer_id, url, secret_ciphertext),
      UPDATE (url, secret_ciphertext, previous_secret_ciphertext, previous_secret_expires_at,
              updated_at)
      ON developer_webhooks TO gateway_app;
GRANT SELECT, INSERT (id, developer_id, event_type, payload, user_id, deletion_id),
      UPDATE (status, attempts, next_attempt_at, last_status, last_error, delivered_at)
      ON webhook_deliveries TO gateway_app;
