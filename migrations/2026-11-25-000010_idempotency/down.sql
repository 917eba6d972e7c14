DROP TABLE IF EXISTS idempotency_signup_keys;
DROP TABLE IF EXISTS idempotency_keys;
