-- The GDPR registers: the organisation profile, processing activities (Art. 30),
-- processors (Art. 28) with their links to activities, and policies with versions.
--
-- Like every tenant table: tenant_id leads each key, foreign keys include it, and
-- row-level security is ENABLE + FORCE on app.tenant_id. Columns hold what lists filter
-- and sort on; the rest of each record is jsonb the adapter reads back into the domain
-- types. Enum columns accept exactly the domain's stable names (`as_str()`). Name
-- orderings use COLLATE "C" (code-point order, the same on every server).

CREATE TABLE organisation_profiles (
    tenant_id  uuid        PRIMARY KEY REFERENCES tenants (id),
    profile    jsonb       NOT NULL CHECK (jsonb_typeof(profile) = 'object'),
    version    integer     NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL
);

CREATE TABLE processors (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    id            uuid        NOT NULL,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    dpa_status    text        NOT NULL CHECK (dpa_status IN ('none', 'draft', 'signed')),
    dpa_signed_on date,
    dpa_review_on date,
    -- A sub-processor names the processor that engages it.
    parent_id     uuid,
    details       jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    version       integer     NOT NULL CHECK (version > 0),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- A processor with sub-processors cannot go (the adapter reports "in_use").
    CONSTRAINT processors_parent_fkey FOREIGN KEY (tenant_id, parent_id)
        REFERENCES processors (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX processors_name_idx ON processors (tenant_id, name COLLATE "C", id);
CREATE INDEX processors_updated_idx ON processors (tenant_id, updated_at DESC, id DESC);
CREATE INDEX processors_dpa_status_idx ON processors (tenant_id, dpa_status);
CREATE INDEX processors_dpa_review_idx ON processors (tenant_id, dpa_review_on)
    WHERE dpa_review_on IS NOT NULL;
CREATE INDEX processors_parent_idx ON processors (tenant_id, parent_id)
    WHERE parent_id IS NOT NULL;

CREATE TABLE processing_activities (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    role         text        NOT NULL
                             CHECK (role IN ('controller', 'joint_controller', 'processor')),
    status       text        NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    owner_id     uuid,
    review_date  date,
    -- The distinct lawful bases of the purposes (the purposes themselves are in details).
    lawful_bases text[]      NOT NULL DEFAULT '{}'
                             CHECK (lawful_bases <@ ARRAY['consent', 'contract',
                                    'legal_obligation', 'vital_interests', 'public_task',
                                    'legitimate_interests']::text[]),
    details      jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    -- No foreign key: who created a record stays known after the user is gone.
    created_by   uuid,
    version      integer     NOT NULL CHECK (version > 0),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT processing_activities_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX processing_activities_name_idx
    ON processing_activities (tenant_id, name COLLATE "C", id);
CREATE INDEX processing_activities_updated_idx
    ON processing_activities (tenant_id, updated_at DESC, id DESC);
CREATE INDEX processing_activities_status_idx ON processing_activities (tenant_id, status);
CREATE INDEX processing_activities_role_idx ON processing_activities (tenant_id, role);
CREATE INDEX processing_activities_owner_idx ON processing_activities (tenant_id, owner_id)
    WHERE owner_id IS NOT NULL;
CREATE INDEX processing_activities_lawful_bases_idx
    ON processing_activities USING gin (lawful_bases);

-- Which processors an activity uses. Goes with its activity; a linked processor cannot
-- be deleted (the adapter reports "in_use").
CREATE TABLE activity_processors (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    activity_id  uuid NOT NULL,
    processor_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, activity_id, processor_id),
    CONSTRAINT activity_processors_activity_fkey FOREIGN KEY (tenant_id, activity_id)
        REFERENCES processing_activities (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT activity_processors_processor_fkey FOREIGN KEY (tenant_id, processor_id)
        REFERENCES processors (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX activity_processors_processor_idx
    ON activity_processors (tenant_id, processor_id, activity_id);

CREATE TABLE policies (
    tenant_id              uuid        NOT NULL REFERENCES tenants (id),
    id                     uuid        NOT NULL,
    title                  text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 300),
    kind                   text        NOT NULL
                                       CHECK (kind IN ('privacy_policy', 'data_protection_policy',
                                              'retention_policy', 'breach_response_plan', 'other')),
    status                 text        NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    owner_id               uuid,
    review_interval_months smallint    CHECK (review_interval_months BETWEEN 1 AND 60),
    next_review_date       date,
    -- The number of the published version, if any.
    current_version        integer     CHECK (current_version > 0),
    version                integer     NOT NULL CHECK (version > 0),
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT policies_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX policies_title_idx ON policies (tenant_id, title COLLATE "C", id);
CREATE INDEX policies_updated_idx ON policies (tenant_id, updated_at DESC, id DESC);
CREATE INDEX policies_kind_idx ON policies (tenant_id, kind);
CREATE INDEX policies_status_idx ON policies (tenant_id, status);
CREATE INDEX policies_owner_idx ON policies (tenant_id, owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE policy_versions (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    policy_id    uuid        NOT NULL,
    number       integer     NOT NULL CHECK (number > 0),
    content      text        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 200000),
    status       text        NOT NULL
                             CHECK (status IN ('draft', 'in_review', 'published', 'retired')),
    change_note  text,
    -- No foreign keys on people: the history of a policy outlives its authors.
    created_by   uuid,
    created_at   timestamptz NOT NULL,
    published_by uuid,
    published_at timestamptz,
    retired_at   timestamptz,
    version      integer     NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT policy_versions_number_key UNIQUE (tenant_id, policy_id, number),
    CONSTRAINT policy_versions_policy_fkey FOREIGN KEY (tenant_id, policy_id)
        REFERENCES policies (tenant_id, id) ON DELETE CASCADE
);
-- At most one published version per policy.
CREATE UNIQUE INDEX policy_versions_one_published_idx ON policy_versions (tenant_id, policy_id)
    WHERE status = 'published';

ALTER TABLE organisation_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisation_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organisation_profiles
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE processors ENABLE ROW LEVEL SECURITY;
ALTER TABLE processors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON processors
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE processing_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE processing_activities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON processing_activities
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE activity_processors ENABLE ROW LEVEL SECURITY;
ALTER TABLE activity_processors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON activity_processors
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON policies
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE policy_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE policy_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON policy_versions
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The profile is created and replaced, never deleted. Links are replaced (delete and
-- insert); versions go with their policy (ON DELETE CASCADE, run as the table owner) and
-- are never deleted by the app on their own.
GRANT SELECT, INSERT, UPDATE ON organisation_profiles TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON processors TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON processing_activities TO aura_app;
GRANT SELECT, INSERT, DELETE ON activity_processors TO aura_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON policies TO aura_app;
GRANT SELECT, INSERT, UPDATE ON policy_versions TO aura_app;
