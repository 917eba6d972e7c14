-- Back to the lookups of 2026-11-23-000004_global_lookups, then drop the columns.

DROP FUNCTION IF EXISTS aura_find_login(text);
CREATE FUNCTION aura_find_login(p_email text)
RETURNS TABLE (
    user_id           uuid,
    tenant_id         uuid,
    email             text,
    full_name         text,
    role              text,
    user_is_active    boolean,
    password_hash     text,
    session_version   integer,
    last_login_at     timestamptz,
    user_created_at   timestamptz,
    user_updated_at   timestamptz,
    tenant_name       text,
    tenant_slug       text,
    tenant_is_active  boolean,
    subscription_tier text,
    tenant_settings   jsonb,
    tenant_created_at timestamptz,
    tenant_updated_at timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.id, u.tenant_id, u.email, u.full_name, u.role, u.is_active,
           u.password_hash, u.session_version, u.last_login_at, u.created_at, u.updated_at,
           t.name, t.slug, t.is_active, t.subscription_tier, t.settings,
           t.created_at, t.updated_at
      FROM public.users u
      JOIN public.tenants t ON t.id = u.tenant_id
     WHERE u.email = p_email
$$;

DROP FUNCTION IF EXISTS aura_list_tenants();
CREATE FUNCTION aura_list_tenants()
RETURNS TABLE (
    id                uuid,
    name              text,
    slug              text,
    is_active         boolean,
    subscription_tier text,
    settings          jsonb,
    created_at        timestamptz,
    updated_at        timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, t.name, t.slug, t.is_active, t.subscription_tier, t.settings,
           t.created_at, t.updated_at
      FROM public.tenants t
     ORDER BY t.created_at, t.id
$$;

REVOKE ALL ON FUNCTION aura_find_login(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_list_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_find_login(text) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_list_tenants() TO aura_app;

ALTER TABLE users DROP COLUMN IF EXISTS version;
ALTER TABLE tenants DROP COLUMN IF EXISTS version;
