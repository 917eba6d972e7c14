DROP TABLE IF EXISTS login_throttle;
DROP TABLE IF EXISTS password_reset_tokens;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS refresh_families;
