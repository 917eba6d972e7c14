-- Accounts hardening (review of migration 000026).
--
-- 1. A tenant sees and writes an account only through an accepted membership: a
--    pending one (an invitation, or a member added by an administrator who has not
--    signed in or followed their link yet) is not the person's consent, so the
--    inviting tenant reads neither the password hash nor changes the account. The
--    address of a pending member comes from a narrow function. Writing the account
--    also needs the membership to be active (a deactivated membership only reads).
-- 2. Accepting a pending membership sets the account's password through a function
--    that redeems the link itself, not through the inviting tenant's rights.
-- 3. A new password ends every open link of every membership of the account, and the
--    other tenants whose sessions it ended learn it (their audit trail).

ALTER POLICY member_of_tenant ON accounts
    USING (EXISTS (SELECT 1 FROM public.users u
                    WHERE u.account_id = accounts.id AND u.accepted_at IS NOT NULL));
ALTER POLICY member_update ON accounts
    USING (EXISTS (SELECT 1 FROM public.users u
                    WHERE u.account_id = accounts.id AND u.accepted_at IS NOT NULL
                      AND u.is_active))
    WITH CHECK (EXISTS (SELECT 1 FROM public.users u
                         WHERE u.account_id = accounts.id AND u.accepted_at IS NOT NULL
                           AND u.is_active));

-- The functions below write as the owner, which row-level security binds too.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_credentials ON public.accounts FOR UPDATE TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_void_links ON public.password_reset_tokens FOR UPDATE TO %I USING (true)', current_user);
END
$$;

-- The address of a pending member of the current tenant (the tenant typed it when
-- adding them); nothing else of the account, and nothing for an accepted member (the
-- tenant reads those accounts itself) or another tenant's member.
CREATE FUNCTION aura_pending_member_email(p_user uuid)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.email
      FROM public.users u
      JOIN public.accounts a ON a.id = u.account_id
     WHERE u.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND u.id = p_user
       AND u.accepted_at IS NULL
$$;

-- Accepting a pending membership of the current tenant with its link: redeems the
-- link (open, unexpired, the member's) and sets the account's password, moving the
-- account's session version. False (nothing written) for any other token.
CREATE FUNCTION aura_accept_membership(p_user uuid, p_token_hash bytea,
                                       p_password_hash text, p_now timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant  uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
    v_account uuid;
BEGIN
    IF p_password_hash = '' THEN
        RETURN false;
    END IF;
    SELECT u.account_id INTO v_account
      FROM public.users u
     WHERE u.tenant_id = v_tenant AND u.id = p_user AND u.accepted_at IS NULL AND u.is_active;
    IF v_account IS NULL THEN
        RETURN false;
    END IF;
    UPDATE public.password_reset_tokens t
       SET used_at = p_now
     WHERE t.tenant_id = v_tenant AND t.user_id = p_user AND t.token_hash = p_token_hash
       AND t.used_at IS NULL AND t.expires_at > p_now;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE public.accounts a
       SET password_hash = p_password_hash,
           session_version = a.session_version + 1,
           updated_at = p_now
     WHERE a.id = v_account;
    RETURN true;
END
$$;

-- The account of an accepted membership of the current tenant got a new password (its
-- session version moved): every open reset or invitation link of every membership of
-- the account is voided, and the other accepted memberships (whose sessions ended
-- too) are returned, to be audited in their tenants. Nothing for an account the
-- current tenant has no accepted membership of.
CREATE FUNCTION aura_account_password_changed(p_account uuid, p_now timestamptz)
RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.users u
                    WHERE u.tenant_id = v_tenant AND u.account_id = p_account
                      AND u.accepted_at IS NOT NULL) THEN
        RETURN;
    END IF;
    UPDATE public.password_reset_tokens t
       SET used_at = p_now
      FROM public.users u
     WHERE u.account_id = p_account
       AND t.tenant_id = u.tenant_id AND t.user_id = u.id
       AND t.used_at IS NULL;
    RETURN QUERY
        SELECT u.tenant_id, u.id
          FROM public.users u
         WHERE u.account_id = p_account
           AND u.tenant_id <> v_tenant
           AND u.accepted_at IS NOT NULL
         ORDER BY u.tenant_id;
END
$$;

-- Sign-in and password reset by e-mail: as in 000026, and also the membership that
-- created the account while it is pending (a member an administrator added with a
-- password, or invited, who has not signed in yet): the first sign-in accepts it.
-- Another tenant's pending membership of an existing account still signs nobody in.
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
       AND (u.accepted_at IS NOT NULL OR u.id = a.id)
     -- A usable membership first: one tenant that deactivates the person or is
     -- suspended must not lock them out of the others.
     ORDER BY (u.is_active AND t.is_active) DESC, u.last_login_at DESC NULLS LAST,
              u.created_at, u.id
$$;

REVOKE ALL ON FUNCTION aura_pending_member_email(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_accept_membership(uuid, bytea, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_account_password_changed(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_pending_member_email(uuid) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_accept_membership(uuid, bytea, text, timestamptz) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_account_password_changed(uuid, timestamptz) TO aura_app;
