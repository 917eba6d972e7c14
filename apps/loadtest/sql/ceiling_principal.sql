-- The ceiling: the least a request needs, in one transaction with no connection check.
-- The tenant set, then the principal check with only what authorisation reads (membership
-- active and accepted, role, session versions, tenant active, session live).
BEGIN;
SELECT set_config('app.tenant_id', '{tenant}', true);
SELECT u.role, u.is_active, u.accepted_at, u.session_version, a.session_version, t.is_active, f.revoked_at, f.absolute_expires_at FROM users u JOIN accounts a ON a.id = u.account_id JOIN tenants t ON t.id = u.tenant_id LEFT JOIN refresh_families f ON f.tenant_id = u.tenant_id AND f.user_id = u.id AND f.id = '{session}' WHERE u.tenant_id = '{tenant}' AND u.id = '{user}';
