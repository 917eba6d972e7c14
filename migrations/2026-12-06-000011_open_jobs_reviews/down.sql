DROP TABLE IF EXISTS task_origins;

DROP FUNCTION IF EXISTS aura_claim_jobs(text, timestamptz, integer, integer);
CREATE FUNCTION aura_claim_jobs(p_worker text, p_now timestamptz, p_lease_seconds integer,
                                p_limit integer)
RETURNS TABLE (
    tenant_id    uuid,
    id           uuid,
    payload      jsonb,
    attempts     integer,
    max_attempts integer,
    lease_token  uuid
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    UPDATE public.jobs AS j
       SET status = 'dead',
           last_error = 'lease expired: the worker stopped before finishing',
           locked_by = NULL, lease_token = NULL, locked_until = NULL,
           updated_at = p_now, finished_at = p_now
      FROM (SELECT x.tenant_id, x.id FROM public.jobs AS x
             WHERE x.status = 'running' AND x.locked_until <= p_now
               AND x.attempts >= x.max_attempts
             FOR UPDATE SKIP LOCKED) AS exhausted
     WHERE j.tenant_id = exhausted.tenant_id AND j.id = exhausted.id;

    RETURN QUERY
    WITH due AS (
        SELECT x.tenant_id, x.id FROM public.jobs AS x
         WHERE ((x.status = 'queued' AND x.run_at <= p_now)
             OR (x.status = 'running' AND x.locked_until <= p_now
                 AND x.attempts < x.max_attempts))
         ORDER BY x.run_at, x.id
         LIMIT greatest(p_limit, 0)
         FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE public.jobs AS j
           SET status = 'running',
               attempts = j.attempts + 1,
               locked_by = p_worker,
               lease_token = gen_random_uuid(),
               locked_until = p_now + make_interval(secs => greatest(p_lease_seconds, 1)),
               updated_at = p_now
          FROM due
         WHERE j.tenant_id = due.tenant_id AND j.id = due.id
        RETURNING j.tenant_id, j.id, j.payload, j.attempts, j.max_attempts, j.lease_token,
                  j.run_at
    )
    SELECT c.tenant_id, c.id, c.payload, c.attempts, c.max_attempts, c.lease_token
      FROM claimed AS c
     ORDER BY c.run_at, c.id;
END
$$;
REVOKE ALL ON FUNCTION aura_claim_jobs(text, timestamptz, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_claim_jobs(text, timestamptz, integer, integer) TO aura_app;

DROP FUNCTION IF EXISTS aura_schedule_for_active_tenants(text, jsonb, text, timestamptz, integer, timestamptz);

CREATE FUNCTION aura_schedule_digests(p_date date, p_run_at timestamptz, p_max_attempts integer,
                                      p_now timestamptz)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH added AS (
        INSERT INTO public.jobs AS j (tenant_id, id, kind, payload, subject_id, dedupe_key, status,
                                      run_at, attempts, max_attempts, created_at, updated_at)
        SELECT t.id, gen_random_uuid(), 'overdue_digest',
               jsonb_build_object('kind', 'overdue_digest',
                                  'date', to_char(p_date, 'YYYY-MM-DD')),
               NULL, 'digest:' || to_char(p_date, 'YYYY-MM-DD'), 'queued',
               p_run_at, 0, p_max_attempts, p_now, p_now
          FROM public.tenants AS t
         WHERE t.is_active
        ON CONFLICT (tenant_id, dedupe_key) WHERE status <> 'cancelled' DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM added
$$;
REVOKE ALL ON FUNCTION aura_schedule_digests(date, timestamptz, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_schedule_digests(date, timestamptz, integer, timestamptz) TO aura_app;

-- Jobs of kinds the closed list does not know cannot stay (the owner has no delete
-- policy: row-level security is lifted for this statement only).
ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY;
DELETE FROM jobs WHERE kind NOT IN ('task_reminder', 'overdue_digest', 'digest_mail');
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('task_reminder', 'overdue_digest', 'digest_mail'));
