-- Custom roles (issue 16): a tenant defines roles as sets of permissions from the one
-- list the service knows (the names of `aura_shared_kernel::Permission`); a membership
-- holds either a built-in role or one of these (`users.role = 'custom'` with its id).
-- `manage_privileged_users` is never a custom role's: the service refuses it and the
-- table does too, so no custom role grants owners or admins.

CREATE TABLE tenant_roles (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    permissions text[]      NOT NULL
        CHECK (NOT ('manage_privileged_users' = ANY (permissions))),
    version     integer     NOT NULL CHECK (version >= 1),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tenant_roles_name_key UNIQUE (tenant_id, name)
);

ALTER TABLE tenant_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_roles
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_roles TO aura_app;

-- A membership's custom role, in its own tenant (the composite key); a role in use is
-- not deleted (RESTRICT: the service answers 409).
ALTER TABLE users ADD COLUMN custom_role_id uuid;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users
    ADD CONSTRAINT users_role_check
        CHECK (role IN ('owner', 'admin', 'member', 'viewer', 'custom')),
    ADD CONSTRAINT users_custom_role_check CHECK ((role = 'custom') = (custom_role_id IS NOT NULL)),
    ADD CONSTRAINT users_custom_role_fkey FOREIGN KEY (tenant_id, custom_role_id)
        REFERENCES tenant_roles (tenant_id, id) ON DELETE RESTRICT;
CREATE INDEX users_custom_role_idx ON users (tenant_id, custom_role_id)
    WHERE custom_role_id IS NOT NULL;

-- The app role writes the new column like the other role columns (000032's column
-- privileges), from the template and this installation's role.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aura_app', NULLIF(current_setting('aura.app_role', true), '')] LOOP
        CONTINUE WHEN r IS NULL OR to_regrole(quote_ident(r)) IS NULL;
        EXECUTE format('GRANT UPDATE (custom_role_id) ON public.users TO %I', r);
    END LOOP;
END
$$;
