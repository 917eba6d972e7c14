-- Every authenticated request: the pool's check of the connection it hands out
-- (diesel-async's RecyclingMethod::Verified), then Auth re-reads membership, account, tenant and session.
SELECT 1;
BEGIN;
SELECT set_config('app.tenant_id', '{tenant}', true);
SELECT "users"."tenant_id", "users"."id", "users"."account_id", "users"."full_name", "users"."role", "users"."is_active", "users"."session_version", "users"."invited_by", "users"."accepted_at", "users"."last_login_at", "users"."version", "users"."created_at", "users"."updated_at", "accounts"."id", "accounts"."email", "accounts"."password_hash", "accounts"."session_version", "accounts"."created_at", "accounts"."updated_at", "tenants"."id", "tenants"."name", "tenants"."slug", "tenants"."is_active", "tenants"."subscription_tier", "tenants"."settings", "tenants"."version", "tenants"."created_at", "tenants"."updated_at", "refresh_families"."revoked_at", "refresh_families"."absolute_expires_at" FROM ((("users" INNER JOIN "accounts" ON ("accounts"."id" = "users"."account_id")) INNER JOIN "tenants" ON ("tenants"."id" = "users"."tenant_id")) LEFT OUTER JOIN "refresh_families" ON ((("refresh_families"."tenant_id" = "users"."tenant_id") AND ("refresh_families"."user_id" = "users"."id")) AND ("refresh_families"."id" = '{session}'))) WHERE (("users"."tenant_id" = '{tenant}') AND ("users"."id" = '{user}')) LIMIT 1;
COMMIT;
