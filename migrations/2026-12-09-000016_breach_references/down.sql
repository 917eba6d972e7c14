ALTER TABLE ai_suggestions NO FORCE ROW LEVEL SECURITY;
DELETE FROM ai_suggestions WHERE kind = 'breach_measures';
ALTER TABLE ai_suggestions FORCE ROW LEVEL SECURITY;
ALTER TABLE ai_suggestions DROP CONSTRAINT ai_suggestions_kind_check;
ALTER TABLE ai_suggestions ADD CONSTRAINT ai_suggestions_kind_check
    CHECK (kind IN ('policy_draft', 'activity_suggestion', 'answer'));

ALTER TABLE personal_data_breaches DROP COLUMN reference;

ALTER TABLE record_numbers NO FORCE ROW LEVEL SECURITY;
DELETE FROM record_numbers WHERE series <> 'DSR';
ALTER TABLE record_numbers FORCE ROW LEVEL SECURITY;
ALTER TABLE record_numbers DROP CONSTRAINT record_numbers_pkey;
ALTER TABLE record_numbers DROP COLUMN series;
ALTER TABLE record_numbers ADD CONSTRAINT data_subject_request_numbers_pkey
    PRIMARY KEY (tenant_id, year);
ALTER TABLE record_numbers RENAME CONSTRAINT record_numbers_tenant_id_fkey
    TO data_subject_request_numbers_tenant_id_fkey;
ALTER TABLE record_numbers RENAME TO data_subject_request_numbers;
