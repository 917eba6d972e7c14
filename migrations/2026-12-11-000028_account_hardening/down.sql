-- Back to the accounts of 000026.
DROP FUNCTION aura_account_password_changed(uuid, timestamptz);
DROP FUNCTION aura_accept_membership(uuid, bytea, text, timestamptz);
DROP FUNCTION aura_pending_member_email(uuid);
DROP POLICY owner_void_links ON password_reset_tokens;
DROP POLICY owner_credentials ON accounts;

ALTER POLICY member_of_tenant ON accounts
    USING (EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = accounts.id));
ALTER POLICY member_update ON accounts
    USING (EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = accounts.id))
    WITH CHECK (EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = accounts.id));

-- Under 000026 a member an administrator added with a new account was accepted at once:
-- so is the creating membership here, but only while it is the account's only way in
-- (no accepted membership, password never set through a link). The others stay pending
-- (000026 signs nobody in through them).
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
UPDATE users u SET accepted_at = u.created_at
  FROM accounts a
 WHERE u.accepted_at IS NULL AND u.id = u.account_id
   AND a.id = u.account_id AND a.session_version = 0
   AND NOT EXISTS (SELECT 1 FROM users o WHERE o.account_id = a.id AND o.accepted_at IS NOT NULL);
ALTER TABLE users FORCE ROW LEVEL SECURITY;

-- The sign-in lookup of 000026.
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
       AND u.accepted_at IS NOT NULL
     -- A usable membership first: one tenant that deactivates the person or is
     -- suspended must not lock them out of the others.
     ORDER BY (u.is_active AND t.is_active) DESC, u.last_login_at DESC NULLS LAST,
              u.created_at, u.id
$$;
