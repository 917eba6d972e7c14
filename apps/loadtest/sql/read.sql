-- GET /api/v1/processing-activities/{id}, continuing the principal read's transaction: the
-- record with its processor links as a column, then the organisation profile and the
-- approved DPIAs covering it (pipelined); rolled back after the answer.
SELECT "processing_activities"."tenant_id", "processing_activities"."id", "processing_activities"."created_by", "processing_activities"."created_at", "processing_activities"."name", "processing_activities"."role", "processing_activities"."status", "processing_activities"."owner_id", "processing_activities"."review_date", "processing_activities"."lawful_bases", "processing_activities"."details", "processing_activities"."version", "processing_activities"."updated_at", ARRAY(SELECT l.processor_id FROM activity_processors l WHERE l.tenant_id = processing_activities.tenant_id AND l.activity_id = processing_activities.id ORDER BY l.processor_id) FROM "processing_activities" WHERE (("processing_activities"."tenant_id" = '{tenant}') AND ("processing_activities"."id" = '{activity}'));
\startpipeline
SELECT "organisation_profiles"."profile", "organisation_profiles"."version", "organisation_profiles"."updated_at" FROM "organisation_profiles" WHERE ("organisation_profiles"."tenant_id" = '{tenant}') LIMIT 1;
SELECT "dpias"."activity_ids", (dpias.residual_level IS NOT DISTINCT FROM 'high' AND jsonb_typeof(dpias.details -> 'prior_consultation') = 'object' AND (dpias.details #>> '{prior_consultation,answered_on}') IS NULL) FROM "dpias" WHERE ((("dpias"."tenant_id" = '{tenant}') AND ("dpias"."status" = 'approved')) AND ("dpias"."activity_ids" && '{{activity}}'));
\endpipeline
ROLLBACK;
