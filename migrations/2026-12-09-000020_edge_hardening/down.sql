-- ai_usage has FORCE ROW LEVEL SECURITY and no tenant is set here: lift it for this
-- transaction's delete (the per-user rows would otherwise stay and break the old key).
ALTER TABLE ai_usage NO FORCE ROW LEVEL SECURITY;
DELETE FROM ai_usage WHERE user_id <> '00000000-0000-0000-0000-000000000000';
ALTER TABLE ai_usage FORCE ROW LEVEL SECURITY;
ALTER TABLE ai_usage DROP CONSTRAINT ai_usage_pkey;
ALTER TABLE ai_usage DROP COLUMN user_id;
ALTER TABLE ai_usage ADD PRIMARY KEY (tenant_id, window_start);
