-- The AI assistant's hourly counter per tenant and per user: a user may use only a share
-- of the tenant's quota. The tenant's own count keeps the nil user id.
ALTER TABLE ai_usage ADD COLUMN user_id uuid NOT NULL
    DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE ai_usage DROP CONSTRAINT ai_usage_pkey;
ALTER TABLE ai_usage ADD PRIMARY KEY (tenant_id, window_start, user_id);

-- The counters' keys are now HMACs under a key derived from the pepper: rows under the
-- old plain SHA-256 keys can never be found again. They only ever counted recent
-- attempts; dropping them starts every count afresh once.
DELETE FROM rate_limits;
DELETE FROM login_throttle;
