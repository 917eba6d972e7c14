-- A pending membership (an invitation not accepted yet) was never a login: it goes
-- rather than receive the account's address and password below (which would let the
-- password sign into a tenant the person never joined). The delete cascades: the
-- membership's refresh families and reset links go with it, and the registers, tasks,
-- requests, breaches, DPIAs, documents and packs that name it (owner, assignee,
-- creator, requester, inviter) lose that reference (ON DELETE SET NULL).
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
DELETE FROM users WHERE accepted_at IS NULL;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

-- Back to one tenant per user: only while every account has one membership.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.users GROUP BY account_id HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'an account has memberships in more than one tenant'
            USING HINT = 'End the extra memberships first: a user of before belongs to one tenant.';
    END IF;
END
$$;

DROP FUNCTION aura_find_login(text);
DROP FUNCTION aura_forget_lone_account(uuid);
DROP FUNCTION aura_find_account(text);

ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users ADD COLUMN email text;
ALTER TABLE users ADD COLUMN password_hash text NOT NULL DEFAULT '';
-- The session version a token carries stays the same number.
UPDATE users u
   SET email = a.email,
       password_hash = a.password_hash,
       session_version = u.session_version + a.session_version
  FROM accounts a
 WHERE a.id = u.account_id;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users
    ADD CONSTRAINT users_email_check CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    ADD CONSTRAINT users_email_key UNIQUE (email);

DROP INDEX IF EXISTS users_account_idx;
ALTER TABLE users DROP CONSTRAINT users_invited_by_fkey;
ALTER TABLE users DROP CONSTRAINT users_tenant_account_key;
ALTER TABLE users DROP CONSTRAINT users_account_fkey;
-- With its policies, which read users.account_id.
DROP TABLE accounts;
ALTER TABLE users DROP COLUMN account_id;
ALTER TABLE users DROP COLUMN invited_by;
ALTER TABLE users DROP COLUMN accepted_at;

-- The lookup as migration 000006 left it.
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
    user_version      integer,
    user_created_at   timestamptz,
    user_updated_at   timestamptz,
    tenant_name       text,
    tenant_slug       text,
    tenant_is_active  boolean,
    subscription_tier text,
    tenant_settings   jsonb,
    tenant_version    integer,
    tenant_created_at timestamptz,
    tenant_updated_at timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.id, u.tenant_id, u.email, u.full_name, u.role, u.is_active,
           u.password_hash, u.session_version, u.last_login_at, u.version,
           u.created_at, u.updated_at,
           t.name, t.slug, t.is_active, t.subscription_tier, t.settings, t.version,
           t.created_at, t.updated_at
      FROM public.users u
      JOIN public.tenants t ON t.id = u.tenant_id
     WHERE u.email = p_email
$$;
REVOKE ALL ON FUNCTION aura_find_login(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_find_login(text) TO aura_app;
