-- Partners (issue 16): one account in several tenants switches among them, and a
-- consultancy (a tenant whose owner set its `consultancy` setting) is granted access to
-- a client tenant with a role. Its members enter the client through a switch, as a
-- membership of the client marked as the partner's (`partner_members`): every session,
-- owner, assignee and audit actor keeps naming a row of the client's `users`, and the
-- audit chain names the partner beside the member (`audit_events.actor_partner`).
--
-- The client's rows are the client's (row-level security on `tenant_id`). What crosses
-- tenants goes through named SECURITY DEFINER functions, keyed by the account of the
-- verified principal or by the tenant the transaction was entered for:
--   aura_account_tenants   the account's memberships and its partners' clients
--   aura_enter_tenant      the membership a switch into the transaction's tenant signs into
--   aura_partner_access    whether a partner membership of the transaction's tenant holds
--   aura_find_partner      a consultancy by slug (for a grant)
--   aura_partner_grants    the transaction's tenant's grants with their partners' names

-- A client's grant to a partner. Revoking deletes the row (the audit chain keeps it).
CREATE TABLE partner_grants (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    partner_id  uuid        NOT NULL REFERENCES tenants (id),
    role        text        NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    granted_by  uuid,
    granted_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, partner_id),
    CHECK (partner_id <> tenant_id),
    CONSTRAINT partner_grants_granted_by_fkey FOREIGN KEY (tenant_id, granted_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (granted_by)
);
CREATE INDEX partner_grants_partner_idx ON partner_grants (partner_id);

-- The client's memberships that a partner's member holds through the partner (written
-- by `aura_enter_tenant` only; the app role reads them in its tenant).
CREATE TABLE partner_members (
    tenant_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    partner_id  uuid NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX partner_members_partner_idx ON partner_members (tenant_id, partner_id);

ALTER TABLE partner_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE partner_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON partner_grants
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE partner_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE partner_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON partner_members
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON public.partner_grants FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_lookup ON public.partner_members FOR SELECT TO %I USING (true)', current_user);
END
$$;

GRANT SELECT, INSERT, DELETE ON partner_grants TO aura_app;
GRANT SELECT ON partner_members TO aura_app;

-- The partner an event's actor acted for (a member who entered through a partner).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_check;
ALTER TABLE audit_events ADD COLUMN actor_partner uuid;
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_actor_kind_check CHECK (actor_kind IN ('user', 'partner', 'system')),
    ADD CONSTRAINT audit_events_actor_check CHECK ((actor_kind <> 'system') = (actor_id IS NOT NULL)),
    ADD CONSTRAINT audit_events_actor_partner_check CHECK ((actor_kind = 'partner') = (actor_partner IS NOT NULL));

-- Whether a tenant offers itself as a partner: its `consultancy` setting (stored
-- settings are `{"v": 1, "values": {…}}`, or a bare object from before).
CREATE FUNCTION aura_is_consultancy(p_settings jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((CASE WHEN p_settings ? 'v' AND p_settings ? 'values'
                          THEN p_settings -> 'values' ELSE p_settings END) -> 'consultancy'
                    = 'true'::jsonb, false)
$$;

-- Whether membership `p_user` of tenant `p_tenant` is held through a partner.
CREATE FUNCTION aura_is_partner_member(p_tenant uuid, p_user uuid)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM public.partner_members pm
                    WHERE pm.tenant_id = p_tenant AND pm.user_id = p_user)
$$;

-- The account's own accepted memberships, and the clients whose grant to a partner the
-- account is an accepted, active (own) member of: one row per tenant, the first partner
-- by id where several grant. A tenant where the account has its own membership is
-- listed as that membership only.
CREATE FUNCTION aura_account_tenants(p_account uuid)
RETURNS TABLE (
    tenant_id        uuid,
    tenant_name      text,
    tenant_slug      text,
    tenant_is_active boolean,
    user_id          uuid,
    role             text,
    is_active        boolean,
    partner_id       uuid,
    partner_name     text
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.t_id, x.t_name, x.t_slug, x.t_active, x.u_id, x.u_role, x.u_active, x.p_id, x.p_name
      FROM (
        SELECT t.id AS t_id, t.name AS t_name, t.slug AS t_slug, t.is_active AS t_active,
               u.id AS u_id, u.role AS u_role, u.is_active AS u_active,
               NULL::uuid AS p_id, NULL::text AS p_name
          FROM public.users u
          JOIN public.tenants t ON t.id = u.tenant_id
         WHERE u.account_id = p_account AND u.accepted_at IS NOT NULL
           AND NOT public.aura_is_partner_member(u.tenant_id, u.id)
        UNION ALL
        (SELECT DISTINCT ON (c.id)
                c.id, c.name, c.slug, c.is_active, cu.id, g.role, COALESCE(cu.is_active, true),
                p.id, p.name
           FROM public.users m
           JOIN public.tenants p ON p.id = m.tenant_id
           JOIN public.partner_grants g ON g.partner_id = p.id
           JOIN public.tenants c ON c.id = g.tenant_id
           LEFT JOIN public.users cu ON cu.tenant_id = c.id AND cu.account_id = p_account
          WHERE m.account_id = p_account AND m.accepted_at IS NOT NULL AND m.is_active
            AND p.is_active AND public.aura_is_consultancy(p.settings)
            AND NOT public.aura_is_partner_member(m.tenant_id, m.id)
            AND (cu.id IS NULL OR public.aura_is_partner_member(cu.tenant_id, cu.id))
          ORDER BY c.id, p.id)
      ) x
     ORDER BY x.t_name, x.t_id
$$;

-- A switch into the transaction's tenant as `p_account`: the membership it signs into,
-- or NULL when there is no way in. The account's own membership decides when it has
-- one (accepted and active, else no way in); otherwise a grant to a partner the account
-- is an accepted, active own member of (partner active and a consultancy, client
-- active) gives the client membership held through that partner: created pending and
-- accepted here (the switch is the person's own act), its role the grant's. A role that
-- moved ends that membership's sessions. One a client deactivated stays so.
CREATE FUNCTION aura_enter_tenant(p_account uuid, p_now timestamptz)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant  uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
    v_user    uuid;
    v_usable  boolean;
    v_partner uuid;
    v_role    text;
    v_name    text;
BEGIN
    IF v_tenant IS NULL OR NOT EXISTS (SELECT 1 FROM public.tenants t
                                        WHERE t.id = v_tenant AND t.is_active) THEN
        RETURN NULL;
    END IF;
    SELECT u.id, (u.accepted_at IS NOT NULL AND u.is_active) INTO v_user, v_usable
      FROM public.users u
     WHERE u.tenant_id = v_tenant AND u.account_id = p_account
       AND NOT public.aura_is_partner_member(u.tenant_id, u.id);
    IF FOUND THEN
        RETURN CASE WHEN v_usable THEN v_user END;
    END IF;
    SELECT g.partner_id, g.role, m.full_name INTO v_partner, v_role, v_name
      FROM public.partner_grants g
      JOIN public.tenants p ON p.id = g.partner_id
      JOIN public.users m ON m.tenant_id = p.id
     WHERE g.tenant_id = v_tenant
       AND p.is_active AND public.aura_is_consultancy(p.settings)
       AND m.account_id = p_account AND m.accepted_at IS NOT NULL AND m.is_active
       AND NOT public.aura_is_partner_member(m.tenant_id, m.id)
     ORDER BY g.partner_id
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT u.id INTO v_user FROM public.users u
     WHERE u.tenant_id = v_tenant AND u.account_id = p_account;
    IF NOT FOUND THEN
        v_user := gen_random_uuid();
        INSERT INTO public.users (tenant_id, id, account_id, full_name, role, is_active,
                                  session_version, created_at, updated_at)
        VALUES (v_tenant, v_user, p_account, v_name, v_role, true, 1, p_now, p_now);
    END IF;
    INSERT INTO public.partner_members (tenant_id, user_id, partner_id)
    VALUES (v_tenant, v_user, v_partner)
    ON CONFLICT (tenant_id, user_id) DO UPDATE SET partner_id = EXCLUDED.partner_id;
    UPDATE public.users u
       SET accepted_at = COALESCE(u.accepted_at, p_now),
           session_version = u.session_version + (u.role <> v_role)::int,
           role = v_role,
           version = u.version + 1,
           updated_at = p_now
     WHERE u.tenant_id = v_tenant AND u.id = v_user
       AND (u.accepted_at IS NULL OR u.role <> v_role);
    RETURN (SELECT u.id FROM public.users u
             WHERE u.tenant_id = v_tenant AND u.id = v_user AND u.is_active);
END
$$;

-- Whether membership `p_user` of the transaction's tenant, held through a partner,
-- still holds: the client's grant to that partner stands, the partner is active and a
-- consultancy, and the account is still an accepted, active own member of it. The
-- partner's id when it holds, NULL otherwise (and for a membership of the tenant's own).
CREATE FUNCTION aura_partner_access(p_user uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pm.partner_id
      FROM public.partner_members pm
      JOIN public.users u ON u.tenant_id = pm.tenant_id AND u.id = pm.user_id
      JOIN public.partner_grants g ON g.tenant_id = pm.tenant_id AND g.partner_id = pm.partner_id
      JOIN public.tenants p ON p.id = pm.partner_id
     WHERE pm.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND pm.user_id = p_user
       AND p.is_active AND public.aura_is_consultancy(p.settings)
       AND EXISTS (SELECT 1 FROM public.users m
                    WHERE m.tenant_id = pm.partner_id AND m.account_id = u.account_id
                      AND m.accepted_at IS NOT NULL AND m.is_active
                      AND NOT public.aura_is_partner_member(m.tenant_id, m.id))
$$;

-- A grant names its partner by slug: an active consultancy other than the caller's
-- tenant, else nothing.
CREATE FUNCTION aura_find_partner(p_slug text)
RETURNS TABLE (id uuid, name text, slug text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, t.name, t.slug
      FROM public.tenants t
     WHERE t.slug = p_slug AND t.is_active AND public.aura_is_consultancy(t.settings)
       AND t.id IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid
$$;

-- The transaction's tenant's grants, with their partners' names and slugs.
CREATE FUNCTION aura_partner_grants()
RETURNS TABLE (partner_id uuid, partner_name text, partner_slug text, role text,
               granted_by uuid, granted_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT g.partner_id, p.name, p.slug, g.role, g.granted_by, g.granted_at
      FROM public.partner_grants g
      JOIN public.tenants p ON p.id = g.partner_id
     WHERE g.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
     ORDER BY p.name, g.partner_id
$$;

-- Sign-in never lands in a membership held through a partner: that one is entered by
-- a switch, while the partner's grant holds. Otherwise as in 000032.
CREATE OR REPLACE FUNCTION aura_find_login(p_email text)
RETURNS TABLE (
    user_id                 uuid,
    tenant_id               uuid,
    account_id              uuid,
    email                   text,
    full_name               text,
    role                    text,
    user_is_active          boolean,
    password_hash           text,
    session_version         integer,
    account_session_version integer,
    invited_by              uuid,
    accepted_at             timestamptz,
    last_login_at           timestamptz,
    user_version            integer,
    user_created_at         timestamptz,
    user_updated_at         timestamptz,
    tenant_name             text,
    tenant_slug             text,
    tenant_is_active        boolean,
    subscription_tier       text,
    tenant_settings         jsonb,
    tenant_version          integer,
    tenant_created_at       timestamptz,
    tenant_updated_at       timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.id, u.tenant_id, a.id, a.email, u.full_name, u.role, u.is_active,
           a.password_hash, u.session_version, a.session_version, u.invited_by,
           u.accepted_at, u.last_login_at, u.version, u.created_at, u.updated_at,
           t.name, t.slug, t.is_active, t.subscription_tier, t.settings, t.version,
           t.created_at, t.updated_at
      FROM public.accounts a
      JOIN public.users u ON u.account_id = a.id
      JOIN public.tenants t ON t.id = u.tenant_id
     WHERE a.email = p_email
       AND NOT public.aura_is_partner_member(u.tenant_id, u.id)
       AND (u.accepted_at IS NOT NULL
            OR (u.id = a.id AND a.session_version = 0
                AND NOT EXISTS (SELECT 1 FROM public.users o
                                 WHERE o.account_id = a.id AND o.accepted_at IS NOT NULL)))
     ORDER BY (u.accepted_at IS NOT NULL) DESC, (u.is_active AND t.is_active) DESC,
              u.last_login_at DESC NULLS LAST, u.created_at, u.id
$$;

REVOKE ALL ON FUNCTION aura_is_consultancy(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_is_partner_member(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_account_tenants(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_enter_tenant(uuid, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_partner_access(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_find_partner(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_partner_grants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_account_tenants(uuid) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_enter_tenant(uuid, timestamptz) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_partner_access(uuid) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_find_partner(text) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_partner_grants() TO aura_app;
