-- The open job queue and the review dates that fire.
--
-- 1. Job kinds are no longer a closed list: any domain registers a kind (its stable
--    name) with the worker, so the column checks the form of a name, not the names.
-- 2. A claim returns the job's kind with its payload.
-- 3. The daily jobs (the overdue digest, the review dates) are enqueued for every
--    active tenant by one function that takes the kind, payload and dedupe key, instead
--    of a function that knows the digest.
-- 4. `task_origins`: the reason a task was made by the system (e.g. the review of a
--    processor due on a date), once. A task made for a taken origin is not made again,
--    however often or concurrently the job that makes it runs; the origin stays taken
--    when the task is deleted, so a deleted task is not made again either.

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$');

-- Claims name each job's kind: the worker dispatches by it.
DROP FUNCTION aura_claim_jobs(text, timestamptz, integer, integer);
CREATE FUNCTION aura_claim_jobs(p_worker text, p_now timestamptz, p_lease_seconds integer,
                                p_limit integer)
RETURNS TABLE (
    tenant_id    uuid,
    id           uuid,
    kind         text,
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
        RETURNING j.tenant_id, j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.lease_token,
                  j.run_at
    )
    SELECT c.tenant_id, c.id, c.kind, c.payload, c.attempts, c.max_attempts, c.lease_token
      FROM claimed AS c
     ORDER BY c.run_at, c.id;
END
$$;
REVOKE ALL ON FUNCTION aura_claim_jobs(text, timestamptz, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_claim_jobs(text, timestamptz, integer, integer) TO aura_app;

CREATE FUNCTION aura_schedule_for_active_tenants(p_kind text, p_payload jsonb, p_dedupe_key text,
                                                 p_run_at timestamptz, p_max_attempts integer,
                                                 p_now timestamptz)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH added AS (
        INSERT INTO public.jobs AS j (tenant_id, id, kind, payload, subject_id, dedupe_key, status,
                                      run_at, attempts, max_attempts, created_at, updated_at)
        SELECT t.id, gen_random_uuid(), p_kind, p_payload, NULL, p_dedupe_key, 'queued',
               p_run_at, 0, p_max_attempts, p_now, p_now
          FROM public.tenants AS t
         WHERE t.is_active
        ON CONFLICT (tenant_id, dedupe_key) WHERE status <> 'cancelled' DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM added
$$;
REVOKE ALL ON FUNCTION aura_schedule_for_active_tenants(text, jsonb, text, timestamptz, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aura_schedule_for_active_tenants(text, jsonb, text, timestamptz, integer, timestamptz) TO aura_app;

DROP FUNCTION aura_schedule_digests(date, timestamptz, integer, timestamptz);

CREATE TABLE task_origins (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- e.g. `review:processor:<id>:2026-12-01`.
    origin     text        NOT NULL CHECK (char_length(origin) BETWEEN 1 AND 300),
    -- The task made for it; empty once that task is deleted.
    task_id    uuid,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, origin),
    -- Deferred: the origin is taken first (the row that decides), its task follows in
    -- the same transaction.
    CONSTRAINT task_origins_task_fkey FOREIGN KEY (tenant_id, task_id)
        REFERENCES tasks (tenant_id, id) ON DELETE SET NULL (task_id)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX task_origins_task_idx ON task_origins (tenant_id, task_id) WHERE task_id IS NOT NULL;

ALTER TABLE task_origins ENABLE ROW LEVEL SECURITY;
ALTER TABLE task_origins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON task_origins
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Origins stay taken: the app never updates or deletes them (a deleted task empties
-- task_id through the foreign key).
GRANT SELECT, INSERT ON task_origins TO aura_app;
