-- A partner role makes a second factor required (issue 16): the count that decides it
-- (`aura_account_memberships`, migration 000033) now counts the tenants the account works
-- in — its accepted, active memberships and the clients its consultancies' grants let it
-- into (`aura_account_tenants`, migration 000035) — each tenant once. A consultant with a
-- home tenant and one client counts two. Still 0 for an account with no accepted
-- membership in the current tenant: a tenant learns nothing about strangers.
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
           THEN (SELECT count(DISTINCT reached.tenant_id)::integer
                   FROM (SELECT o.tenant_id FROM public.users o
                          WHERE o.account_id = p_account
                            AND o.accepted_at IS NOT NULL AND o.is_active
                         UNION
                         SELECT a.tenant_id FROM public.aura_account_tenants(p_account) a
                          WHERE a.partner_id IS NOT NULL AND a.is_active) reached)
           ELSE 0 END
$$;
