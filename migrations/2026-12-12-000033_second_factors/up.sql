-- Second factors (issue 16): TOTP (RFC 6238) per account, its recovery codes, and the
-- short-lived challenges between the password and the code at sign-in.
--
-- A second factor belongs to the account, not to a tenant (one authenticator for every
-- membership). Like `accounts` (000026/000028/000032), the app role reaches the row only
-- through an accepted, active membership of its current tenant: the policies ask
-- `users`, which row-level security narrows to the tenant. The secret is sealed by the
-- crypto adapter (AES-256-GCM, bound to the account) before it gets here, and the
-- recovery codes are keyed hashes; the last time step a code was used for is kept, so a
-- code is accepted once.
--
-- A challenge is tenant data (it names the membership login chose): tenant-keyed, with
-- the tenant policy; a presented challenge is found through one named function, as
-- refresh tokens are. It is stored as the SHA-256 of the opaque token.

CREATE TABLE second_factors (
    account_id      uuid        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    kind            text        NOT NULL DEFAULT 'totp' CHECK (kind = 'totp'),
    sealed_secret   bytea       NOT NULL CHECK (octet_length(sealed_secret) BETWEEN 29 AND 512),
    -- NULL while enrolment is started and not confirmed with a code.
    confirmed_at    timestamptz,
    -- The newest time step (unix time / 30 s) a code was accepted for.
    last_used_step  bigint,
    -- Keyed hashes (32 bytes each) of the unused recovery codes.
    recovery_codes  bytea[]     NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (confirmed_at IS NOT NULL OR last_used_step IS NULL)
);

ALTER TABLE second_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE second_factors FORCE ROW LEVEL SECURITY;
CREATE POLICY member_of_tenant ON second_factors
    USING (EXISTS (SELECT 1 FROM public.users u
                    WHERE u.account_id = second_factors.account_id
                      AND u.accepted_at IS NOT NULL AND u.is_active))
    WITH CHECK (EXISTS (SELECT 1 FROM public.users u
                         WHERE u.account_id = second_factors.account_id
                           AND u.accepted_at IS NOT NULL AND u.is_active));
GRANT SELECT, INSERT, UPDATE, DELETE ON second_factors TO aura_app;

CREATE TABLE mfa_challenges (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    token_hash bytea       NOT NULL CHECK (octet_length(token_hash) = 32),
    user_id    uuid        NOT NULL,
    -- `sign_in`: the code (or a recovery code) finishes the sign-in; `enrolment`: the
    -- account must enrol first, and confirming the enrolment finishes it.
    purpose    text        NOT NULL CHECK (purpose IN ('sign_in', 'enrolment')),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    -- The global lookup of a presented challenge (aura_find_mfa_challenge).
    CONSTRAINT mfa_challenges_token_hash_key UNIQUE (token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX mfa_challenges_expiry_idx ON mfa_challenges (tenant_id, expires_at);

ALTER TABLE mfa_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_challenges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mfa_challenges
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_challenges TO aura_app;

DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_lookup ON public.mfa_challenges FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- A presented challenge: its membership, purpose and state.
CREATE FUNCTION aura_find_mfa_challenge(p_token_hash bytea)
RETURNS TABLE (
    tenant_id  uuid,
    user_id    uuid,
    purpose    text,
    expires_at timestamptz,
    used       boolean
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.tenant_id, c.user_id, c.purpose, c.expires_at, c.used_at IS NOT NULL
      FROM public.mfa_challenges c
     WHERE c.token_hash = p_token_hash
$$;

-- How many accepted, active memberships the account holds (two or more make a second
-- factor required), for an account with such a membership in the current tenant only
-- (0 for any other: a tenant learns nothing about strangers).
CREATE FUNCTION aura_account_memberships(p_account uuid)
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

REVOKE ALL ON FUNCTION aura_find_mfa_challenge(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_account_memberships(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_find_mfa_challenge(bytea) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_account_memberships(uuid) TO aura_app;
