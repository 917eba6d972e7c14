-- Documents and evidence (Art. 5(2) GDPR). Three tables:
--
-- `documents`: the register (a kernel record): what lists filter and sort on as columns,
-- the links to the records a document proves as uuid arrays (checked by the store in each
-- write's transaction, like a breach's affected activities; no foreign key, so a retired
-- record does not rewrite the evidence), the rest as jsonb.
-- `document_versions`: one immutable row per uploaded version (file name, media type, size,
-- SHA-256 — also in the upload's audit event —, chunk count, uploader); `removed_at` once
-- its content was removed (the row stays, like the audit events).
-- `document_chunks`: the content, sealed chunk by chunk (AES-256-GCM under the tenant's data
-- key; tenant, version, index and last-chunk flag bound as associated data). An upload's
-- chunks are written before its version row and belong to no version until it commits; an
-- interrupted upload's are deleted, and a chunk no version names is never read.
-- `document_keys`: each tenant's data key, wrapped by the server's document key (never the
-- key itself).

CREATE TABLE documents (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    id              uuid        NOT NULL,
    title           text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    kind            text        NOT NULL,
    owner_id        uuid,
    retention_until date,
    legal_hold      boolean     NOT NULL,
    activity_ids    uuid[]      NOT NULL,
    processor_ids   uuid[]      NOT NULL,
    policy_ids      uuid[]      NOT NULL,
    task_ids        uuid[]      NOT NULL,
    breach_ids      uuid[]      NOT NULL,
    request_ids     uuid[]      NOT NULL,
    dpia_ids        uuid[]      NOT NULL,
    details         jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    created_by      uuid,
    version         integer     NOT NULL CHECK (version > 0),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT documents_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX documents_name_idx ON documents (tenant_id, title COLLATE "C", id);
CREATE INDEX documents_updated_idx ON documents (tenant_id, updated_at DESC, id DESC);
CREATE INDEX documents_retention_idx ON documents (tenant_id, retention_until, id);
CREATE INDEX documents_owner_idx ON documents (tenant_id, owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE document_versions (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    document_id uuid        NOT NULL,
    number      integer     NOT NULL CHECK (number > 0),
    file_name   text        NOT NULL CHECK (char_length(file_name) BETWEEN 1 AND 255),
    media_type  text        NOT NULL,
    size        bigint      NOT NULL CHECK (size >= 0),
    sha256      text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    chunks      integer     NOT NULL CHECK (chunks > 0),
    uploaded_by uuid,
    uploaded_at timestamptz NOT NULL,
    removed_at  timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, document_id, number),
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE document_chunks (
    tenant_id  uuid    NOT NULL REFERENCES tenants (id),
    version_id uuid    NOT NULL,
    chunk_index integer NOT NULL CHECK (chunk_index >= 0),
    sealed     bytea   NOT NULL,
    PRIMARY KEY (tenant_id, version_id, chunk_index)
);

CREATE TABLE document_keys (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    wrapped    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['documents', 'document_versions', 'document_chunks', 'document_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END $$;

-- A document's metadata is never deleted by the API (its content is removed instead);
-- the kernel's delete stays for the store's shared contracts.
GRANT SELECT, INSERT, UPDATE, DELETE ON documents TO aura_app;
-- A version's row is written once; only `removed_at` is set later.
GRANT SELECT, INSERT ON document_versions TO aura_app;
GRANT UPDATE (removed_at) ON document_versions TO aura_app;
GRANT SELECT, INSERT, DELETE ON document_chunks TO aura_app;
GRANT SELECT, INSERT, UPDATE ON document_keys TO aura_app;
