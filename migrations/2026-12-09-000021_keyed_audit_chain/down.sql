-- Back to one unkeyed chain: keyed links (version 2) no longer verify after this.
REVOKE UPDATE (personal, personal_salt) ON audit_events FROM aura_app;
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_v2_clear_check,
    DROP CONSTRAINT audit_events_personal_pair_check,
    DROP COLUMN personal_digest,
    DROP COLUMN personal_salt,
    DROP COLUMN personal,
    DROP COLUMN chain_version;
ALTER TABLE audit_events ALTER COLUMN changes TYPE jsonb USING changes::jsonb;
