-- Personal-data breaches (Art. 33, 34 GDPR): the register every breach stays in, notified
-- or not (Art. 33(5)). The columns are what lists filter and sort on; the rest of the
-- record (what happened, the Art. 33(3) content, the risk assessment, the notification's
-- phases, the decisions) is jsonb the adapter reads back into the domain types.
--
-- `authority_deadline` is `became_aware_at + 72 h` (Art. 33(1)), derived by the domain on
-- every write; `due_on` is its day in UTC, the key of the kernel's due sorts.
-- The affected activities and processors are checked by the store in each write's
-- transaction (like a request's checklist) but carry no foreign key: a breach documents
-- what was affected when it happened, and an activity retired later does not rewrite it.

CREATE TABLE personal_data_breaches (
    tenant_id          uuid        NOT NULL REFERENCES tenants (id),
    id                 uuid        NOT NULL,
    title              text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    status             text        NOT NULL
                                   CHECK (status IN ('open', 'assessed', 'notified',
                                          'not_notified', 'closed')),
    became_aware_at    timestamptz NOT NULL,
    authority_deadline timestamptz NOT NULL,
    due_on             date        NOT NULL,
    risk               text        CHECK (risk IN ('no_risk', 'risk', 'high_risk')),
    -- When the authority was first notified (the first phase), if it was.
    notified_at        timestamptz,
    drill              boolean     NOT NULL,
    kinds              text[]      NOT NULL
                                   CHECK (cardinality(kinds) > 0
                                          AND kinds <@ ARRAY['confidentiality', 'integrity',
                                              'availability']::text[]),
    activity_ids       uuid[]      NOT NULL,
    processor_ids      uuid[]      NOT NULL,
    owner_id           uuid,
    assignee_id        uuid,
    closed_at          timestamptz,
    details            jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    -- No foreign key: who created a record stays known after the user is gone.
    created_by         uuid,
    version            integer     NOT NULL CHECK (version > 0),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT personal_data_breaches_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id),
    CONSTRAINT personal_data_breaches_assignee_fkey FOREIGN KEY (tenant_id, assignee_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (assignee_id)
);
CREATE INDEX personal_data_breaches_name_idx
    ON personal_data_breaches (tenant_id, title COLLATE "C", id);
CREATE INDEX personal_data_breaches_updated_idx
    ON personal_data_breaches (tenant_id, updated_at DESC, id DESC);
CREATE INDEX personal_data_breaches_due_idx
    ON personal_data_breaches (tenant_id, drill, due_on, id);
CREATE INDEX personal_data_breaches_status_idx
    ON personal_data_breaches (tenant_id, drill, status);
CREATE INDEX personal_data_breaches_owner_idx ON personal_data_breaches (tenant_id, owner_id)
    WHERE owner_id IS NOT NULL;
CREATE INDEX personal_data_breaches_assignee_idx
    ON personal_data_breaches (tenant_id, assignee_id) WHERE assignee_id IS NOT NULL;

ALTER TABLE personal_data_breaches ENABLE ROW LEVEL SECURITY;
ALTER TABLE personal_data_breaches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON personal_data_breaches
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Art. 33(5) keeps every breach in the register: the API has no route that deletes one.
-- The store keeps the kernel's delete (its shared contracts) for what may come (drills).
GRANT SELECT, INSERT, UPDATE, DELETE ON personal_data_breaches TO aura_app;
