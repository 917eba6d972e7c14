-- Accountability packs (issue 17): one row per requested pack, with the built ZIP's bytes
-- until the pack expires (the daily purge sets `content` to NULL and the status to
-- `expired`; the row stays, like its audit events). A pack is signed and self-describing,
-- so the bytes are stored as built, never rewritten.

CREATE TABLE accountability_packs (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('queued', 'ready', 'failed', 'expired')),
    period_from  date        NOT NULL,
    period_to    date        NOT NULL,
    language     text        NOT NULL CHECK (language IN ('en', 'de')),
    requested_by uuid,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    built_at     timestamptz,
    size         bigint      CHECK (size >= 0),
    sha256       text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    failure      text        CHECK (char_length(failure) <= 500),
    content      bytea,
    PRIMARY KEY (tenant_id, id),
    CHECK (period_to >= period_from),
    -- Bytes only while ready.
    CHECK ((status = 'ready') = (content IS NOT NULL)),
    CONSTRAINT accountability_packs_requested_by_fkey FOREIGN KEY (tenant_id, requested_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (requested_by)
);
-- The purge's read: packs still holding bytes or waiting for a build, by expiry.
CREATE INDEX accountability_packs_expiry_idx ON accountability_packs (tenant_id, expires_at)
    WHERE status IN ('queued', 'ready');

ALTER TABLE accountability_packs ENABLE ROW LEVEL SECURITY;
ALTER TABLE accountability_packs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accountability_packs
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Packs are never deleted: their bytes are removed, the row is kept.
GRANT SELECT, INSERT, UPDATE ON accountability_packs TO aura_app;
