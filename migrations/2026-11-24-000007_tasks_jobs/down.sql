DROP FUNCTION IF EXISTS aura_job_stats(timestamptz);
DROP FUNCTION IF EXISTS aura_retry_job(uuid, timestamptz);
DROP FUNCTION IF EXISTS aura_list_jobs(text, uuid, integer);
DROP FUNCTION IF EXISTS aura_schedule_digests(date, timestamptz, integer, timestamptz);
DROP FUNCTION IF EXISTS aura_claim_jobs(text, timestamptz, integer, integer);

-- The owner's queue policies go with the table.
DROP TABLE IF EXISTS jobs;
DROP TABLE IF EXISTS tasks;
