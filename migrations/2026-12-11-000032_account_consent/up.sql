-- Account consent (security review of 000028).
--
-- 1. A pending membership signs nobody in once the person has another way in. The
--    membership that created an account (a tenant added the address first) is offered
--    to sign-in and reset only while it is the account's only way in: no accepted
--    membership anywhere and the account's password never set through a link (its
--    session version still 0). Otherwise a password the person set through tenant B's
--    link would sign them into, and accept, tenant A. Accepted memberships come first.
--    Signing in accepts that membership through `aura_accept_sign_in`, which re-checks
--    the rule; the app role no longer writes `accepted_at` itself.
-- 2. What the accounts policies check is not the app role's to write:
--    - UPDATE: column privileges. The app role updates every membership column but
--      `account_id` and `accepted_at`; only the SECURITY DEFINER functions accept.
--    - INSERT: a new membership must name its account (the app adds members of existing
--      accounts as invitations), so a column list cannot leave `account_id` out. A
--      trigger refuses instead what would forge consent: for an account that already has a
--      membership, an accepted one, or one that takes the account's own id (the mark of
--      the membership that created it, which `aura_accept_sign_in` may accept). A new
--      account's first membership (tenant registration, an added member) and a pending
--      membership of an existing account (an invitation) are unaffected.
-- 3. `aura_account_password_changed` (voids every link of the account, tells the other
--    tenants) acts only right after a password change: the caller names the account's
--    new session version, and the account row must have been written by the calling
--    transaction. Called at any other time it did the voiding at will.
-- 4. A tenant that deactivated a member no longer reads their account (password hash):
--    `member_of_tenant` wants an active membership too, and the member's address comes
--    from `aura_pending_member_email`, now for every member whose account the tenant
--    may not read.

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

-- Signing in with the account's password as `p_user` of the current tenant: true if
-- the membership is accepted, now or before. A pending one is accepted only under the
-- rule of `aura_find_login` (active, the account's creating membership, its only way
-- in); false (nothing written) otherwise.
CREATE FUNCTION aura_accept_sign_in(p_user uuid, p_now timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
    IF EXISTS (SELECT 1 FROM public.users u
                WHERE u.tenant_id = v_tenant AND u.id = p_user
                  AND u.accepted_at IS NOT NULL) THEN
        RETURN true;
    END IF;
    UPDATE public.users u
       SET accepted_at = p_now
      FROM public.accounts a
     WHERE u.tenant_id = v_tenant AND u.id = p_user
       AND u.accepted_at IS NULL AND u.is_active
       AND a.id = u.account_id AND u.id = a.id AND a.session_version = 0
       AND NOT EXISTS (SELECT 1 FROM public.users o
                        WHERE o.account_id = a.id AND o.accepted_at IS NOT NULL);
    RETURN FOUND;
END
$$;

-- As in 000028, and the link now also accepts the membership (the app role cannot).
CREATE OR REPLACE FUNCTION aura_accept_membership(p_user uuid, p_token_hash bytea,
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
    UPDATE public.users u
       SET accepted_at = p_now
     WHERE u.tenant_id = v_tenant AND u.id = p_user;
    RETURN true;
END
$$;

DROP FUNCTION aura_account_password_changed(uuid, timestamptz);
CREATE FUNCTION aura_account_password_changed(p_account uuid, p_version integer,
                                              p_now timestamptz)
RETURNS TABLE (tenant_id uuid, user_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.users u
                    WHERE u.tenant_id = v_tenant AND u.account_id = p_account
                      AND u.accepted_at IS NOT NULL)
       OR NOT EXISTS (SELECT 1 FROM public.accounts a
                       WHERE a.id = p_account AND a.session_version = p_version
                         AND a.xmin = pg_current_xact_id()::xid) THEN
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

ALTER POLICY member_of_tenant ON accounts
    USING (EXISTS (SELECT 1 FROM public.users u
                    WHERE u.account_id = accounts.id AND u.accepted_at IS NOT NULL
                      AND u.is_active));
CREATE OR REPLACE FUNCTION aura_pending_member_email(p_user uuid)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.email
      FROM public.users u
      JOIN public.accounts a ON a.id = u.account_id
     WHERE u.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND u.id = p_user
       AND (u.accepted_at IS NULL OR NOT u.is_active)
$$;

-- The insert check of point 2 (runs as the owner: it must see every tenant's rows).
CREATE FUNCTION aura_check_new_membership()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (NEW.accepted_at IS NOT NULL OR NEW.id = NEW.account_id)
       AND EXISTS (SELECT 1 FROM public.users o WHERE o.account_id = NEW.account_id) THEN
        RAISE EXCEPTION 'a membership of an existing account starts pending'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER users_new_membership BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION aura_check_new_membership();

-- Column privileges: from the template and from this installation's role, if the grants
-- were moved to it already (000023); the migration run moves the template's again.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aura_app', NULLIF(current_setting('aura.app_role', true), '')] LOOP
        CONTINUE WHEN r IS NULL OR to_regrole(quote_ident(r)) IS NULL;
        EXECUTE format('REVOKE UPDATE ON public.users FROM %I', r);
        EXECUTE format('GRANT UPDATE (full_name, role, is_active, session_version, invited_by, '
                       'last_login_at, version, created_at, updated_at) ON public.users TO %I', r);
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION aura_accept_sign_in(uuid, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_check_new_membership() FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_account_password_changed(uuid, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_account_password_changed(uuid, integer, timestamptz) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_accept_sign_in(uuid, timestamptz) TO aura_app;
