-- GET /api/v1/processing-activities?limit=20: 21 rows (one more tells that a page follows)
-- and the processor links of those 21, and the organisation profile (in the same
-- transaction) that their completeness gaps are derived from.
BEGIN;
SELECT set_config('app.tenant_id', '{tenant}', true);
SELECT "processing_activities"."tenant_id", "processing_activities"."id", "processing_activities"."name", "processing_activities"."role", "processing_activities"."status", "processing_activities"."owner_id", "processing_activities"."review_date", "processing_activities"."lawful_bases", "processing_activities"."details", "processing_activities"."created_by", "processing_activities"."version", "processing_activities"."created_at", "processing_activities"."updated_at" FROM "processing_activities" WHERE ("processing_activities"."tenant_id" = '{tenant}') ORDER BY "processing_activities"."id" ASC LIMIT 21;
SELECT "activity_processors"."activity_id", "activity_processors"."processor_id" FROM "activity_processors" WHERE (("activity_processors"."tenant_id" = '{tenant}') AND ("activity_processors"."activity_id" = ANY('{{first_page}}'))) ORDER BY "activity_processors"."activity_id" ASC, "activity_processors"."processor_id" ASC;
SELECT "organisation_profiles"."profile", "organisation_profiles"."version", "organisation_profiles"."updated_at" FROM "organisation_profiles" WHERE ("organisation_profiles"."tenant_id" = '{tenant}') LIMIT 1;
COMMIT;
