-- Per-tenant breach references (`BR-2027-0001`), numbered like the data-subject
-- requests' (`DSR-2027-0001`) from one counter table: the requests' numbers table becomes
-- `record_numbers`, one counter per tenant, series (the reference's prefix) and year. A
-- number is never given twice, not even after its record was deleted.
--
-- A breach is numbered in the year (UTC) the organisation became aware of it, once, on
-- insert: a corrected awareness time keeps the reference given.
--
-- And the AI assistant's new suggestion kind, a breach's consequences and measures
-- (`breach_measures`), in the kind check of `ai_suggestions`.

ALTER TABLE data_subject_request_numbers RENAME TO record_numbers;
ALTER TABLE record_numbers RENAME CONSTRAINT data_subject_request_numbers_tenant_id_fkey
    TO record_numbers_tenant_id_fkey;
ALTER TABLE record_numbers
    ADD COLUMN series text NOT NULL DEFAULT 'DSR' CHECK (series ~ '^[A-Z]{1,8}$');
ALTER TABLE record_numbers ALTER COLUMN series DROP DEFAULT;
ALTER TABLE record_numbers DROP CONSTRAINT data_subject_request_numbers_pkey;
ALTER TABLE record_numbers ADD CONSTRAINT record_numbers_pkey PRIMARY KEY (tenant_id, series, year);

ALTER TABLE personal_data_breaches ADD COLUMN reference text;

-- The backfill reads and writes every tenant's rows: the owner steps out of the forced
-- row-level security for it, inside this migration's transaction only.
ALTER TABLE personal_data_breaches NO FORCE ROW LEVEL SECURITY;
ALTER TABLE record_numbers NO FORCE ROW LEVEL SECURITY;

-- Existing breaches in the order they were recorded, per tenant and year of awareness.
WITH numbered AS (
    SELECT tenant_id, id,
           extract(year FROM became_aware_at AT TIME ZONE 'UTC')::integer AS year,
           row_number() OVER (
               PARTITION BY tenant_id, extract(year FROM became_aware_at AT TIME ZONE 'UTC')
               ORDER BY created_at, id) AS number
    FROM personal_data_breaches
)
UPDATE personal_data_breaches AS b
SET reference = 'BR-' || n.year || '-'
    || CASE WHEN n.number < 10000 THEN lpad(n.number::text, 4, '0') ELSE n.number::text END
FROM numbered AS n
WHERE b.tenant_id = n.tenant_id AND b.id = n.id;

INSERT INTO record_numbers (tenant_id, series, year, last)
SELECT tenant_id, 'BR', extract(year FROM became_aware_at AT TIME ZONE 'UTC')::integer,
       count(*)
FROM personal_data_breaches
GROUP BY 1, 3;

ALTER TABLE personal_data_breaches FORCE ROW LEVEL SECURITY;
ALTER TABLE record_numbers FORCE ROW LEVEL SECURITY;

ALTER TABLE personal_data_breaches
    ALTER COLUMN reference SET NOT NULL,
    ADD CONSTRAINT personal_data_breaches_reference_check
        CHECK (reference ~ '^BR-[0-9]{4}-[0-9]{4,}$'),
    ADD CONSTRAINT personal_data_breaches_reference_key UNIQUE (tenant_id, reference);

-- The assistant's suggestion of a breach's consequences and measures is a kind of its own.
ALTER TABLE ai_suggestions DROP CONSTRAINT ai_suggestions_kind_check;
ALTER TABLE ai_suggestions ADD CONSTRAINT ai_suggestions_kind_check
    CHECK (kind IN ('policy_draft', 'activity_suggestion', 'answer', 'breach_measures'));
