-- Sign-in sessions (refresh-token families with rotation), password-reset tokens and
-- sign-in throttling. Tokens are stored only as SHA-256 hashes.

CREATE TABLE refresh_families (
    tenant_id           uuid        NOT NULL REFERENCES tenants (id),
    id                  uuid        NOT NULL,
    user_id             uuid        NOT NULL,
    session_version     integer     NOT NULL,
    created_at          timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    revoked_at          timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_families_user_idx ON refresh_families (tenant_id, user_id);

CREATE TABLE refresh_tokens (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    token_hash      bytea       NOT NULL CHECK (octet_length(token_hash) = 32),
    family_id       uuid        NOT NULL,
    issued_at       timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,
    used_at         timestamptz,
    PRIMARY KEY (tenant_id, token_hash),
    -- The global lookup of a presented token (aura_find_refresh_token).
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    FOREIGN KEY (tenant_id, family_id) REFERENCES refresh_families (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id);

CREATE TABLE password_reset_tokens (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    token_hash bytea       NOT NULL CHECK (octet_length(token_hash) = 32),
    user_id    uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    -- The global lookup of a presented token (aura_find_reset_token).
    CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (tenant_id, user_id)
    WHERE used_at IS NULL;

-- Failure counters for sign-in throttling. Not tenant data: the key is the SHA-256 of a
-- throttle key (account and/or address), never an e-mail address in clear.
CREATE TABLE login_throttle (
    key_hash        bytea       PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    failures        integer     NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL
);

ALTER TABLE refresh_families ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_families FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_families
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE password_reset_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_reset_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON password_reset_tokens
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Rows go away with their user (ON DELETE CASCADE, run as the table owner); the app
-- itself only creates and updates them.
GRANT SELECT, INSERT, UPDATE ON refresh_families TO aura_app;
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO aura_app;
GRANT SELECT, INSERT, UPDATE ON password_reset_tokens TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO aura_app;
