-- Back to 000028's privileges and acceptance. The sign-in lookup keeps the rule of
-- 000032 (a pending membership only while it is the account's only way in): 000028's
-- code calls it alike, and its rule let one tenant's pending membership take over.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aura_app', NULLIF(current_setting('aura.app_role', true), '')] LOOP
        CONTINUE WHEN r IS NULL OR to_regrole(quote_ident(r)) IS NULL;
        EXECUTE format('REVOKE UPDATE ON public.users FROM %I', r);
        EXECUTE format('GRANT UPDATE ON public.users TO %I', r);
    END LOOP;
END
$$;

DROP TRIGGER users_new_membership ON users;
DROP FUNCTION aura_check_new_membership();
DROP FUNCTION aura_accept_sign_in(uuid, timestamptz);

-- 000028's reading of accounts.
ALTER POLICY member_of_tenant ON accounts
    USING (EXISTS (SELECT 1 FROM public.users u
                    WHERE u.account_id = accounts.id AND u.accepted_at IS NOT NULL));
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
       AND u.accepted_at IS NULL
$$;

-- 000028's signal of a new password.
DROP FUNCTION aura_account_password_changed(uuid, integer, timestamptz);
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
REVOKE ALL ON FUNCTION aura_account_password_changed(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_account_password_changed(uuid, timestamptz) TO aura_app;

-- 000028's link acceptance (its code stamps `accepted_at` itself).
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
    RETURN true;
END
$$;
