-- Back to counting own memberships only (migration 000033).
CREATE OR REPLACE FUNCTION aura_account_memberships(p_account uuid)
RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN EXISTS (
                    SELECT 1 FROM public.users u
                     WHERE u.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
                       AND u.account_id = p_account
                       AND u.accepted_at IS NOT NULL)
           THEN (SELECT count(*)::integer FROM public.users o
                  WHERE o.account_id = p_account
                    AND o.accepted_at IS NOT NULL AND o.is_active)
           ELSE 0 END
$$;
