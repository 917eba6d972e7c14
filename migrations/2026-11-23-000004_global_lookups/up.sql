-- The narrow, named paths across tenants. Everything else the app reads or writes goes
-- through row-level security in one tenant's context.
--
-- These functions are SECURITY DEFINER: they run as their owner (the migrating owner
-- role) and return only what the credential flows need. FORCE ROW LEVEL SECURITY binds
-- the owner too, so the owner gets a SELECT-only policy on the tables the functions
-- read. The app role must never be a member of the owner role (a test checks this).

DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON public.tenants FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON public.users FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON public.refresh_families FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON public.refresh_tokens FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON public.password_reset_tokens FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Sign-in and password reset by e-mail: the user and their tenant.
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

-- Sign-up: whether any tenant uses the slug.
CREATE FUNCTION aura_slug_taken(p_slug text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM public.tenants t WHERE t.slug = p_slug)
$$;

-- Refresh: the presented token's family and state.
CREATE FUNCTION aura_find_refresh_token(p_token_hash bytea)
RETURNS TABLE (
    tenant_id           uuid,
    family_id           uuid,
    user_id             uuid,
    session_version     integer,
    created_at          timestamptz,
    absolute_expires_at timestamptz,
    family_revoked      boolean,
    used                boolean,
    idle_expires_at     timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.tenant_id, f.id, f.user_id, f.session_version, f.created_at,
           f.absolute_expires_at, f.revoked_at IS NOT NULL, rt.used_at IS NOT NULL,
           rt.idle_expires_at
      FROM public.refresh_tokens rt
      JOIN public.refresh_families f ON f.tenant_id = rt.tenant_id AND f.id = rt.family_id
     WHERE rt.token_hash = p_token_hash
$$;

-- Password reset: the owner of an unused, unexpired token.
CREATE FUNCTION aura_find_reset_token(p_token_hash bytea, p_now timestamptz)
RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT prt.tenant_id, prt.user_id
      FROM public.password_reset_tokens prt
     WHERE prt.token_hash = p_token_hash
       AND prt.used_at IS NULL
       AND prt.expires_at > p_now
$$;

-- Platform operations: every tenant, oldest first.
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
REVOKE ALL ON FUNCTION aura_slug_taken(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_find_refresh_token(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_find_reset_token(bytea, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_list_tenants() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION aura_find_login(text) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_slug_taken(text) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_find_refresh_token(bytea) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_find_reset_token(bytea, timestamptz) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_list_tenants() TO aura_app;
