-- Holders of a custom role fall back to the least privilege (viewer) before the
-- column and its constraints go.
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DROP CONSTRAINT users_custom_role_fkey;
ALTER TABLE users DROP CONSTRAINT users_custom_role_check;
UPDATE users SET role = 'viewer' WHERE role = 'custom';
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users
    ADD CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'member', 'viewer'));
DROP INDEX users_custom_role_idx;
ALTER TABLE users DROP COLUMN custom_role_id;
DROP TABLE tenant_roles;
