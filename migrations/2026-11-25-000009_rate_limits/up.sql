-- Request rate limits (GCRA), shared by every API instance. Not tenant data: the key is
-- the SHA-256 of a rate-limit key (a client address or a tenant id), never an address in
-- clear. One row per key: its theoretical arrival time (µs since the epoch) and whether
-- the last check was allowed. A row whose `tat_us` has passed means the same as no row
-- and is swept.
--
-- UNLOGGED: no WAL, so the hot update path is cheap; after a crash the table is empty,
-- which only forgets the current minute of counting.
CREATE UNLOGGED TABLE rate_limits (
    key_hash bytea   PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    tat_us   bigint  NOT NULL,
    allowed  boolean NOT NULL
) WITH (fillfactor = 70);

GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO aura_app;
