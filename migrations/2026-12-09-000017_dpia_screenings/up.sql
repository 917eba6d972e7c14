-- The DPIA screening's answers (Art. 35): one versioned set per processing activity,
-- gone with the activity. The screening itself is computed, never stored.
CREATE TABLE dpia_screenings (
    tenant_id   uuid        NOT NULL,
    activity_id uuid        NOT NULL,
    answers     jsonb       NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    -- No foreign key: who saved the answers stays known after the user is gone.
    updated_by  uuid,
    version     integer     NOT NULL CHECK (version > 0),
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, activity_id),
    CONSTRAINT dpia_screenings_activity_fkey FOREIGN KEY (tenant_id, activity_id)
        REFERENCES processing_activities (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE dpia_screenings ENABLE ROW LEVEL SECURITY;
ALTER TABLE dpia_screenings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dpia_screenings
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Rows leave with their activity (the cascade), never on their own.
GRANT SELECT, INSERT, UPDATE ON dpia_screenings TO aura_app;
