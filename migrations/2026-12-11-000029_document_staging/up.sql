-- Staged uploads (review finding): an upload's chunks are written before its version
-- row, and an upload whose request died without discarding them (a crash, a cancelled
-- request) left chunks that no version names, forever and outside the quota.
--
-- `document_uploads`: one row per upload in progress, written before its first chunk,
-- removed with the commit that writes its version row (or by the discard). Its declared
-- size counts against the tenant's quota while it exists; one staged longer than the
-- bound (an hour) is swept with its chunks by the daily `document_staging_sweep` job.
-- A chunk is written only while its upload is staged (the row is read `FOR KEY SHARE`
-- by the insert, so a sweep waits for it and then sees it).
CREATE TABLE document_uploads (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    version_id  uuid        NOT NULL,
    document_id uuid        NOT NULL,
    size        bigint      NOT NULL CHECK (size >= 0),
    staged_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, version_id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX document_uploads_staged_idx ON document_uploads (tenant_id, staged_at);

ALTER TABLE document_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_uploads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON document_uploads
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
-- UPDATE for the `FOR KEY SHARE` lock a chunk's insert takes (no column is updated).
GRANT SELECT, INSERT, UPDATE, DELETE ON document_uploads TO aura_app;

-- Chunks no version names, left by uploads dropped before this migration: they belong to
-- no upload that can still commit through this release, so they go now (deploy when no
-- upload is in flight: one in flight on an older process would lose its chunks).
DELETE FROM document_chunks c
WHERE NOT EXISTS (
    SELECT 1 FROM document_versions v WHERE v.tenant_id = c.tenant_id AND v.id = c.version_id
);
