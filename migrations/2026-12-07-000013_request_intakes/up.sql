-- The public intake of data-subject requests: a submission waits here, sealed, until the
-- person confirms it with the link mailed to them (then it becomes a request) or it
-- expires. Nothing here is readable without the tenant's key: `sealed` is the submission
-- under the PersonalDataSeal (per-tenant key, context naming the intake id), and
-- `token_hash` is the hash of the link's token, never the token.
--
-- Like every tenant table: tenant_id leads the key, row-level security is ENABLE + FORCE
-- on app.tenant_id.

CREATE TABLE request_intakes (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    token_hash   bytea       NOT NULL CHECK (octet_length(token_hash) = 32),
    sealed       bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    -- Set once, by the one confirmation that takes the intake.
    confirmed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT request_intakes_token_key UNIQUE (tenant_id, token_hash)
);
-- The purge of expired and confirmed intakes (on the tenant's next submission).
CREATE INDEX request_intakes_expiry_idx ON request_intakes (tenant_id, expires_at);

ALTER TABLE request_intakes ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_intakes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON request_intakes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON request_intakes TO aura_app;

-- The public page finds its tenant by slug: an active tenant's id, name and settings,
-- nothing else (the owner's SELECT-only policy on tenants is 000004's `owner_lookup`).
CREATE FUNCTION aura_find_public_intake(p_slug text)
RETURNS TABLE (
    tenant_id       uuid,
    tenant_name     text,
    tenant_settings jsonb
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, t.name, t.settings
      FROM public.tenants t
     WHERE t.slug = p_slug
       AND t.is_active
$$;

REVOKE ALL ON FUNCTION aura_find_public_intake(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_find_public_intake(text) TO aura_app;
