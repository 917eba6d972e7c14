-- Data-subject requests (Art. 12, 15–22 GDPR): the case register, and the per-tenant,
-- per-year counter its references (`DSR-2027-0001`) are numbered from.
--
-- The person a request is about (name, e-mail, contact), the agent acting for them and
-- the scope text are a third party's personal data: they are stored only in `sealed`
-- (AES-256-GCM under a key of the tenant, bound to the row's id; the adapter seals and
-- opens), and the e-mail only as `email_lookup`, a keyed hash for exact lookups. No
-- column holds them in clear. The rest of the case (identity check, extension, answer,
-- the clock's start) is jsonb the adapter reads back into the domain types; the columns
-- are what lists filter and sort on.

CREATE TABLE data_subject_requests (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id),
    id               uuid        NOT NULL,
    reference        text        NOT NULL CHECK (reference ~ '^DSR-[0-9]{4}-[0-9]{4,}$'),
    channel          text        NOT NULL
                                 CHECK (channel IN ('web_form', 'email', 'letter', 'phone',
                                        'in_person', 'via_authority')),
    received_at      timestamptz NOT NULL,
    status           text        NOT NULL
                                 CHECK (status IN ('received', 'verifying_identity',
                                        'in_progress', 'waiting_for_subject', 'answered',
                                        'closed', 'withdrawn', 'rejected_unverifiable')),
    rights           text[]      NOT NULL
                                 CHECK (cardinality(rights) > 0
                                        AND rights <@ ARRAY['access', 'rectification',
                                            'erasure', 'restriction', 'portability',
                                            'objection', 'automated_decision',
                                            'consent_withdrawal']::text[]),
    subject_category text        NOT NULL
                                 CHECK (subject_category IN ('customer', 'prospect',
                                        'employee', 'applicant', 'supplier', 'other')),
    assignee_id      uuid,
    -- The clock (derived by the domain's rules on every write, kept for lists and jobs).
    first_due_on     date,
    due_on           date,
    closed_at        timestamptz,
    sealed           bytea       NOT NULL,
    email_lookup     bytea       CHECK (octet_length(email_lookup) = 32),
    details          jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    -- No foreign key: who created a record stays known after the user is gone.
    created_by       uuid,
    version          integer     NOT NULL CHECK (version > 0),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT data_subject_requests_reference_key UNIQUE (tenant_id, reference),
    CONSTRAINT data_subject_requests_assignee_fkey FOREIGN KEY (tenant_id, assignee_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (assignee_id)
);
CREATE INDEX data_subject_requests_name_idx
    ON data_subject_requests (tenant_id, channel COLLATE "C", id);
CREATE INDEX data_subject_requests_updated_idx
    ON data_subject_requests (tenant_id, updated_at DESC, id DESC);
CREATE INDEX data_subject_requests_status_idx ON data_subject_requests (tenant_id, status);
CREATE INDEX data_subject_requests_due_idx ON data_subject_requests (tenant_id, due_on, id);
CREATE INDEX data_subject_requests_rights_idx ON data_subject_requests USING gin (rights);
CREATE INDEX data_subject_requests_assignee_idx ON data_subject_requests (tenant_id, assignee_id)
    WHERE assignee_id IS NOT NULL;
CREATE INDEX data_subject_requests_email_idx ON data_subject_requests (tenant_id, email_lookup)
    WHERE email_lookup IS NOT NULL;

-- The last reference number given per tenant and year; a number is never given twice,
-- not even after its request was deleted.
CREATE TABLE data_subject_request_numbers (
    tenant_id uuid    NOT NULL REFERENCES tenants (id),
    year      integer NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    last      integer NOT NULL CHECK (last > 0),
    PRIMARY KEY (tenant_id, year)
);

ALTER TABLE data_subject_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_subject_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_subject_requests
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE data_subject_request_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_subject_request_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_subject_request_numbers
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON data_subject_requests TO aura_app;
GRANT SELECT, INSERT, UPDATE ON data_subject_request_numbers TO aura_app;
