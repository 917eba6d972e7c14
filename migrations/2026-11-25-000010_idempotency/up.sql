-- Idempotency keys of retry-prone POSTs (create routes and sign-up). An entry is in
-- progress (response NULL, held by `token` until `locked_until`) or completed (the
-- response to replay). Entries live until `expires_at` (IDEMPOTENCY_TTL_HOURS, 24 h).
--
-- Nothing here is readable without the client's key: `key_hash` and `fingerprint` are
-- HMACs under keys derived from a server secret and the client's key, and `response`
-- is AES-256-GCM sealed under such a key (tokens and personal data never in clear).

CREATE TABLE idempotency_keys (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    key_hash     bytea       NOT NULL CHECK (octet_length(key_hash) = 32),
    fingerprint  bytea       NOT NULL CHECK (octet_length(fingerprint) = 32),
    token        uuid        NOT NULL,
    response     bytea,
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key_hash)
);
-- The purge of expired entries (a few at a time, on the next reservation).
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (tenant_id, expires_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Sign-up has no tenant yet: its keys are kept apart, keyed by the hash alone. Not
-- tenant data (like login_throttle): no tenant_id, no row-level security.
CREATE TABLE idempotency_signup_keys (
    key_hash     bytea       PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    fingerprint  bytea       NOT NULL CHECK (octet_length(fingerprint) = 32),
    token        uuid        NOT NULL,
    response     bytea,
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX idempotency_signup_keys_expiry_idx ON idempotency_signup_keys (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_signup_keys TO aura_app;
