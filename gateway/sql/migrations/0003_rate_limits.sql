-- Rate-limit counters in the gateway's own PostgreSQL (gateway.limit_storage): every worker of
-- every instance draws from the same row, so a limit holds however many processes serve it.
--
-- UNLOGGED: no WAL, not replicated, emptied by crash recovery. Counters that start again after
-- a crash are acceptable; writing WAL (and shipping it to replicas) for every request is not.
-- fillfactor: each request rewrites its row, and room on the page keeps those updates HOT.
CREATE UNLOGGED TABLE rate_limits (
    key           text PRIMARY KEY,
    -- moving window: a ring of buckets (a bucket is 1/60 of the window, numbered from the
    -- epoch by the database's clock) and the requests counted in each
    bucket        bigint NOT NULL DEFAULT 0,
    bucket_ids    bigint[] NOT NULL DEFAULT '{}',
    bucket_counts integer[] NOT NULL DEFAULT '{}',
    -- fixed window: the requests counted in the window that ends at expires_at
    counter       integer NOT NULL DEFAULT 0,
    -- after this moment (epoch seconds) the row counts nothing and may be swept
    expires_at    double precision NOT NULL
) WITH (fillfactor = 50);

-- Counters hold no tenant data (a key names a client id or an address and a window), and the
-- app role reaches them outside any request's transaction, so no row-level security here.
-- It counts, reads and sweeps expired rows: nothing more (no TRUNCATE, no REFERENCES).
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO gateway_app;
