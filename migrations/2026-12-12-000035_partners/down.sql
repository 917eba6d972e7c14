-- Undoes 000035 (partners). Events whose actor acted for a partner cannot be told in
-- the columns of before: the down migration refuses while any exist.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_events WHERE actor_kind = 'partner') THEN
        RAISE EXCEPTION 'audit events name partners; they cannot be stored without 000035';
    END IF;
END
$$;

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
       AND (u.accepted_at IS NOT NULL
            OR (u.id = a.id AND a.session_version = 0
                AND NOT EXISTS (SELECT 1 FROM public.users o
                                 WHERE o.account_id = a.id AND o.accepted_at IS NOT NULL)))
     -- Accepted first; then a usable membership: one tenant that deactivates the
     -- person or is suspended must not lock them out of the others.
     ORDER BY (u.accepted_at IS NOT NULL) DESC, (u.is_active AND t.is_active) DESC,
              u.last_login_at DESC NULLS LAST, u.created_at, u.id
$$;

DROP FUNCTION aura_partner_grants();
DROP FUNCTION aura_find_partner(text);
DROP FUNCTION aura_partner_access(uuid);
DROP FUNCTION aura_enter_tenant(uuid, timestamptz);
DROP FUNCTION aura_account_tenants(uuid);
DROP FUNCTION aura_is_partner_member(uuid, uuid);
DROP FUNCTION aura_is_consultancy(jsonb);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_partner_check;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_check;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events DROP COLUMN actor_partner;
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_actor_kind_check CHECK (actor_kind IN ('user', 'system')),
    ADD CONSTRAINT audit_events_actor_check CHECK ((actor_kind = 'user') = (actor_id IS NOT NULL));

DROP TABLE partner_members;
DROP TABLE partner_grants;
