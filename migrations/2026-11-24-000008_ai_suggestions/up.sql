-- The AI assistant: its suggestions (pending until a user accepts or rejects them) and a
-- per-tenant usage counter behind the hourly rate limit, shared by every API instance.
--
-- Like every tenant table: tenant_id leads each key and row-level security is ENABLE +
-- FORCE on app.tenant_id. What a suggestion says (content, citations) is jsonb the
-- adapter reads back into the domain types; what lists filter on is in columns.

CREATE TABLE ai_suggestions (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id),
    id               uuid        NOT NULL,
    kind             text        NOT NULL
                                 CHECK (kind IN ('policy_draft', 'activity_suggestion', 'answer')),
    status           text        NOT NULL
                                 CHECK (status IN ('pending', 'accepted', 'rejected', 'acknowledged')),
    content          jsonb       NOT NULL CHECK (jsonb_typeof(content) = 'object'),
    citations        jsonb       NOT NULL CHECK (jsonb_typeof(citations) = 'array'),
    -- Provenance: who generated it, with which template, from which records, when.
    provider         text        NOT NULL CHECK (char_length(provider) BETWEEN 1 AND 100),
    model            text        NOT NULL CHECK (char_length(model) BETWEEN 1 AND 200),
    template_version text        NOT NULL CHECK (char_length(template_version) BETWEEN 1 AND 100),
    record_ids       uuid[]      NOT NULL DEFAULT '{}',
    generated_at     timestamptz NOT NULL,
    -- No foreign keys on people: the history outlives its authors.
    created_by       uuid,
    created_at       timestamptz NOT NULL,
    decided_by       uuid,
    decided_at       timestamptz,
    version          integer     NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ai_suggestions_status_idx ON ai_suggestions (tenant_id, status, id DESC);
CREATE INDEX ai_suggestions_kind_idx ON ai_suggestions (tenant_id, kind, id DESC);

CREATE TABLE ai_usage (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    window_start timestamptz NOT NULL,
    used         integer     NOT NULL CHECK (used >= 0),
    PRIMARY KEY (tenant_id, window_start)
);

ALTER TABLE ai_suggestions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_suggestions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_suggestions
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE ai_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_usage
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Suggestions are decided, never deleted; usage rows of past windows are deleted.
GRANT SELECT, INSERT, UPDATE ON ai_suggestions TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_usage TO aura_app;
