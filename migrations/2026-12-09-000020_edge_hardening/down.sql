DELETE FROM ai_usage WHERE user_id <> '00000000-0000-0000-0000-000000000000';
ALTER TABLE ai_usage DROP CONSTRAINT ai_usage_pkey;
ALTER TABLE ai_usage DROP COLUMN user_id;
ALTER TABLE ai_usage ADD PRIMARY KEY (tenant_id, window_start);
