-- Foundation: tenants and users, with forced row-level security.
--
-- Runs as the owner role (which owns every object created here). The API connects as
-- `aura_app` (or a login role that is a member of it): not owner, not superuser, not
-- BYPASSRLS. Tenant context is the transaction-local setting `app.tenant_id`.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aura_app') THEN
        RAISE EXCEPTION 'role "aura_app" does not exist'
            USING HINT = 'Create the roles first (aura db init), then run the migrations as the owner role.';
    END IF;
    IF current_user = 'aura_app'
       OR (pg_has_role(current_user, 'aura_app', 'MEMBER')
           AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) THEN
        RAISE EXCEPTION 'migrations must run as the owner role, not as the app role "%"', current_user
            USING HINT = 'The app role must not own the tables it is confined by.';
    END IF;
END
$$;

CREATE TABLE tenants (
    id                uuid        PRIMARY KEY,
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    slug              text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) BETWEEN 3 AND 100),
    is_active         boolean     NOT NULL DEFAULT true,
    subscription_tier text        NOT NULL DEFAULT 'free'
                                  CHECK (subscription_tier IN ('free', 'basic', 'premium')),
    settings          jsonb       NOT NULL DEFAULT '{}'::jsonb
                                  CHECK (jsonb_typeof(settings) = 'object'),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    -- Platform-wide: the one unique rule that cannot include a tenant id.
    CONSTRAINT tenants_slug_key UNIQUE (slug)
);

CREATE TABLE users (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    id              uuid        NOT NULL,
    -- Lower-cased by the domain; unique across the platform (sign-in is by e-mail).
    email           text        NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    full_name       text        NOT NULL CHECK (char_length(full_name) BETWEEN 1 AND 200),
    role            text        NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    is_active       boolean     NOT NULL DEFAULT true,
    -- '' = no password set yet (invited); such a hash never verifies.
    password_hash   text        NOT NULL DEFAULT '',
    session_version integer     NOT NULL DEFAULT 1,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- The last-owner rule locks a tenant's active owners.
CREATE INDEX users_active_owners_idx ON users (tenant_id, id)
    WHERE role = 'owner' AND is_active;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Tenants are created (sign-up) and changed, never deleted by the app.
GRANT SELECT, INSERT, UPDATE ON tenants TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO aura_app;
