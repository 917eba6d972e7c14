-- Data-subject requests pseudonymised after the tenant's retention period (default three
-- years after closing): the daily job finds the closed requests that still name their
-- person by this flag, which the store sets from the domain's rule on every write (the
-- person is sealed, so no query could read it).

ALTER TABLE data_subject_requests
    ADD COLUMN pseudonymised boolean NOT NULL DEFAULT false;

CREATE INDEX data_subject_requests_retention_idx
    ON data_subject_requests (tenant_id, closed_at)
    WHERE closed_at IS NOT NULL AND NOT pseudonymised;
