-- Accounts and memberships (issue 16): who a person is (an account: e-mail, password,
-- the account's session version) apart from where they work (a membership: tenant,
-- role, name as the tenant knows them, active, invited by, accepted at).
--
-- The membership table keeps the name `users` and its key (tenant_id, id): every
-- register's owner, assignee and actor keeps pointing at the same row, and so do
-- refresh families, reset links and the `sub` of issued tokens. Each existing user
-- becomes one account with the user's id and one accepted membership (the user row
-- itself), so nothing changes for them: the session version a token carries is the
-- membership's plus the account's, and the account's starts at 0.
--
-- Accounts are not tenant data. The app role sees (and may change) only the accounts
-- of its tenant's members — the policy asks the users table, which row-level security
-- already narrows to the tenant —, and may add accounts (the unique e-mail keeps an
-- existing one from being taken over). Everything across tenants goes through the
-- named SECURITY DEFINER functions below, as login did before.

CREATE TABLE accounts (
    id              uuid        PRIMARY KEY,
    -- Lower-cased and canonical (NFC, IDNA A-labels) by the domain; one account per address.
    email           text        NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    -- '' = no password set yet (invited); such a hash never verifies.
    password_hash   text        NOT NULL DEFAULT '',
    -- Moves with a password change or reset: every session of every membership ends.
    session_version integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT accounts_email_key UNIQUE (email)
);

-- The owner bypasses row-level security only while it is not forced.
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;

ALTER TABLE users ADD COLUMN account_id uuid;
ALTER TABLE users ADD COLUMN invited_by uuid;
ALTER TABLE users ADD COLUMN accepted_at timestamptz;

INSERT INTO accounts (id, email, password_hash, session_version, created_at, updated_at)
SELECT u.id, u.email, u.password_hash, 0, u.created_at, u.updated_at
  FROM users u;
UPDATE users SET account_id = id, accepted_at = created_at;

ALTER TABLE users FORCE ROW LEVEL SECURITY;

ALTER TABLE users ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE users
    ADD CONSTRAINT users_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    -- One membership per account and tenant.
    ADD CONSTRAINT users_tenant_account_key UNIQUE (tenant_id, account_id),
    ADD CONSTRAINT users_invited_by_fkey FOREIGN KEY (tenant_id, invited_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (invited_by);
CREATE INDEX users_account_idx ON users (account_id);

DROP FUNCTION aura_find_login(text);
ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users DROP COLUMN email;
ALTER TABLE users DROP COLUMN password_hash;

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY member_of_tenant ON accounts FOR SELECT
    USING (EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = accounts.id));
CREATE POLICY member_update ON accounts FOR UPDATE
    USING (EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = accounts.id))
    WITH CHECK (EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = accounts.id));
CREATE POLICY account_insert ON accounts FOR INSERT WITH CHECK (true);
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON public.accounts FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Ending a membership never ends the account while it has another one; an account left
-- with no membership at all is removed (nothing signs into it, and its address and
-- password hash are personal data kept for nothing), by the named function below, which
-- runs as the owner: only the owner may delete, and only an account nobody references.
GRANT SELECT, INSERT, UPDATE ON accounts TO aura_app;
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_cleanup ON public.accounts FOR DELETE TO %I USING (true)', current_user);
END
$$;

CREATE FUNCTION aura_forget_lone_account(p_account uuid)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM public.accounts a
         WHERE a.id = p_account
           AND NOT EXISTS (SELECT 1 FROM public.users u WHERE u.account_id = a.id)
        RETURNING a.id
    )
    SELECT EXISTS (SELECT 1 FROM gone)
$$;
REVOKE ALL ON FUNCTION aura_forget_lone_account(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_forget_lone_account(uuid) TO aura_app;

-- Sign-in and password reset by e-mail: the account's accepted, active-or-not
-- memberships with their tenants, the one signed into last first.
CREATE FUNCTION aura_find_login(p_email text)
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

-- Adding a member: the account of an address, whatever tenants it is in. The caller
-- answers the same whether or not there is one (no enumeration).
CREATE FUNCTION aura_find_account(p_email text)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.id FROM public.accounts a WHERE a.email = p_email
$$;

REVOKE ALL ON FUNCTION aura_find_login(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_find_account(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_find_login(text) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_find_account(text) TO aura_app;
