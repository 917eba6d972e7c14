DROP FUNCTION IF EXISTS aura_list_tenants();
DROP FUNCTION IF EXISTS aura_find_reset_token(bytea, timestamptz);
DROP FUNCTION IF EXISTS aura_find_refresh_token(bytea);
DROP FUNCTION IF EXISTS aura_slug_taken(text);
DROP FUNCTION IF EXISTS aura_find_login(text);

DROP POLICY IF EXISTS owner_lookup ON password_reset_tokens;
DROP POLICY IF EXISTS owner_lookup ON refresh_tokens;
DROP POLICY IF EXISTS owner_lookup ON refresh_families;
DROP POLICY IF EXISTS owner_lookup ON users;
DROP POLICY IF EXISTS owner_lookup ON tenants;
