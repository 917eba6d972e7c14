-- Data protection impact assessments (Art. 35, 36 GDPR). The columns are what lists
-- filter and sort on; the rest of the record (the Art. 35(7) content, the DPO's advice,
-- the people's views, the workflow's facts, the prior consultation, the description's
-- pre-fill) is jsonb the adapter reads back into the domain types.
--
-- An approved DPIA never changes: a revision is a new row whose `revision_of` names the
-- approved one (RESTRICT: a revised version stays). `residual_level` is the highest
-- level of the risks after the measures, derived by the domain on every write.

CREATE TABLE dpias (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id),
    id             uuid        NOT NULL,
    title          text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    status         text        NOT NULL CHECK (status IN ('draft', 'in_review', 'approved')),
    revision       integer     NOT NULL CHECK (revision > 0),
    revision_of    uuid,
    -- The covered activities in the user's order (the links below carry the keys).
    activity_ids   uuid[]      NOT NULL CHECK (cardinality(activity_ids) > 0),
    review_date    date,
    residual_level text        CHECK (residual_level IN ('low', 'medium', 'high')),
    owner_id       uuid,
    approved_at    timestamptz,
    details        jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    -- No foreign key: who created a record stays known after the user is gone.
    created_by     uuid,
    version        integer     NOT NULL CHECK (version > 0),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT dpias_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id),
    CONSTRAINT dpias_revision_of_fkey FOREIGN KEY (tenant_id, revision_of)
        REFERENCES dpias (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX dpias_name_idx ON dpias (tenant_id, title COLLATE "C", id);
CREATE INDEX dpias_updated_idx ON dpias (tenant_id, updated_at DESC, id DESC);
CREATE INDEX dpias_review_idx ON dpias (tenant_id, review_date, id);
CREATE INDEX dpias_status_idx ON dpias (tenant_id, status);
CREATE INDEX dpias_revision_of_idx ON dpias (tenant_id, revision_of)
    WHERE revision_of IS NOT NULL;
CREATE INDEX dpias_owner_idx ON dpias (tenant_id, owner_id) WHERE owner_id IS NOT NULL;

-- Which activities a DPIA covers. Goes with its DPIA; a covered activity cannot be
-- deleted (the adapter reports "in_use"): the assessment documents it.
CREATE TABLE dpia_activities (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    dpia_id     uuid NOT NULL,
    activity_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, dpia_id, activity_id),
    CONSTRAINT dpia_activities_dpia_fkey FOREIGN KEY (tenant_id, dpia_id)
        REFERENCES dpias (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT dpia_activities_activity_fkey FOREIGN KEY (tenant_id, activity_id)
        REFERENCES processing_activities (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX dpia_activities_activity_idx ON dpia_activities (tenant_id, activity_id, dpia_id);

ALTER TABLE dpias ENABLE ROW LEVEL SECURITY;
ALTER TABLE dpias FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dpias
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE dpia_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE dpia_activities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dpia_activities
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The API has no route that deletes a DPIA; the store keeps the kernel's delete (its
-- shared contracts).
GRANT SELECT, INSERT, UPDATE, DELETE ON dpias TO aura_app;
GRANT SELECT, INSERT, DELETE ON dpia_activities TO aura_app;
