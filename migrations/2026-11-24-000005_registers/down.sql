DROP TABLE IF EXISTS policy_versions;
DROP TABLE IF EXISTS policies;
DROP TABLE IF EXISTS activity_processors;
DROP TABLE IF EXISTS processing_activities;
DROP TABLE IF EXISTS processors;
DROP TABLE IF EXISTS organisation_profiles;
