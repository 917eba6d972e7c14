-- Tasks (the compliance to-do list of a tenant) and the durable job queue that carries
-- their reminders and the daily overdue digests.
--
-- Like every tenant table: tenant_id leads each key, foreign keys include it, and
-- row-level security is ENABLE + FORCE on app.tenant_id. Enum columns accept exactly the
-- domain's stable names (`as_str()`).
--
-- The queue is a table: a job is a row written in the same transaction as the change
-- that made it due. Workers lease jobs across tenants only through the SECURITY DEFINER
-- functions at the end (owned by the owner role, like the lookups of
-- 2026-11-23-000004_global_lookups); finishing a job happens inside its tenant, under
-- row-level security, and needs the lease token of the claim.

CREATE TABLE tasks (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    title        text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description  text        CHECK (char_length(description) BETWEEN 1 AND 10000),
    category     text        NOT NULL
                             CHECK (category IN ('dpia', 'policy_review', 'breach_drill',
                                    'dpa_review', 'dsar', 'training', 'other')),
    due_date     date,
    status       text        NOT NULL
                             CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    assigned_to  uuid,
    -- A record of the registers (checked by the domain when the task is saved; no
    -- foreign key, as it may point into one of three tables).
    link_kind    text        CHECK (link_kind IN ('processing_activity', 'processor', 'policy')),
    link_id      uuid,
    recurrence   text        NOT NULL
                             CHECK (recurrence IN ('none', 'monthly', 'quarterly', 'yearly')),
    created_by   uuid,
    completed_by uuid,
    completed_at timestamptz,
    -- The occurrence this one follows (recurring tasks).
    previous_id  uuid,
    version      integer     NOT NULL CHECK (version > 0),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tasks_link_check CHECK ((link_kind IS NULL) = (link_id IS NULL)),
    -- An assignee of another tenant is impossible, whoever writes the row (the adapter
    -- reports this constraint as Conflict("assigned_to")).
    CONSTRAINT tasks_assigned_to_fkey FOREIGN KEY (tenant_id, assigned_to)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (assigned_to),
    CONSTRAINT tasks_created_by_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    CONSTRAINT tasks_completed_by_fkey FOREIGN KEY (tenant_id, completed_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (completed_by),
    -- Deleting an occurrence leaves the one that followed it without a predecessor.
    CONSTRAINT tasks_previous_fkey FOREIGN KEY (tenant_id, previous_id)
        REFERENCES tasks (tenant_id, id) ON DELETE SET NULL (previous_id)
);
-- The due sorts order undated tasks last, as the domain's cursors do (9999-12-31).
CREATE INDEX tasks_due_idx ON tasks (tenant_id, (COALESCE(due_date, DATE '9999-12-31')), id);
CREATE INDEX tasks_updated_idx ON tasks (tenant_id, updated_at DESC, id DESC);
CREATE INDEX tasks_assigned_to_idx ON tasks (tenant_id, assigned_to)
    WHERE assigned_to IS NOT NULL;
CREATE INDEX tasks_status_idx ON tasks (tenant_id, status);
-- The foreign keys' referencing columns, for deletes of users and tasks.
CREATE INDEX tasks_created_by_idx ON tasks (tenant_id, created_by) WHERE created_by IS NOT NULL;
CREATE INDEX tasks_completed_by_idx ON tasks (tenant_id, completed_by)
    WHERE completed_by IS NOT NULL;
CREATE INDEX tasks_previous_idx ON tasks (tenant_id, previous_id) WHERE previous_id IS NOT NULL;

CREATE TABLE jobs (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    kind         text        NOT NULL
                             CHECK (kind IN ('task_reminder', 'overdue_digest', 'digest_mail')),
    -- `serde_json::to_value(JobPayload)`.
    payload      jsonb       NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    -- The record the job belongs to (a task for reminders): its queued jobs are
    -- replaced when it changes. No foreign key: finished jobs outlive their task.
    subject_id   uuid,
    -- `JobPayload::dedupe_key()`: one job per key that is not cancelled.
    dedupe_key   text        NOT NULL CHECK (char_length(dedupe_key) BETWEEN 1 AND 500),
    status       text        NOT NULL
                             CHECK (status IN ('queued', 'running', 'done', 'dead', 'cancelled')),
    run_at       timestamptz NOT NULL,
    -- Attempts so far (a claim counts one).
    attempts     integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer     NOT NULL CHECK (max_attempts > 0),
    -- Why the last attempt failed (kept for history when the job is retried).
    last_error   text,
    -- What a finished job did.
    outcome      text,
    -- The lease of a running job: who holds it, its token and its end.
    locked_by    text,
    lease_token  uuid,
    locked_until timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT jobs_lease_check
        CHECK (status <> 'running' OR (lease_token IS NOT NULL AND locked_until IS NOT NULL))
);
-- Enqueues insert with ON CONFLICT DO NOTHING against this index: a job that is queued,
-- running, done or dead keeps its key; a cancelled one frees it.
CREATE UNIQUE INDEX jobs_dedupe_idx ON jobs (tenant_id, dedupe_key) WHERE status <> 'cancelled';
-- Claiming: due or lease-expired jobs, oldest run_at first, across tenants.
CREATE INDEX jobs_claim_idx ON jobs (run_at) WHERE status IN ('queued', 'running');
-- Replacing a task's queued reminders.
CREATE INDEX jobs_subject_idx ON jobs (tenant_id, subject_id) WHERE subject_id IS NOT NULL;
-- `aura jobs list` (newest first, by status) and the dead-letter count.
CREATE INDEX jobs_status_idx ON jobs (status, created_at DESC, id DESC);

ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tasks
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Jobs are never deleted by the app: finished and cancelled ones stay as history.
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO aura_app;
GRANT SELECT, INSERT, UPDATE ON jobs TO aura_app;

-- The queue's paths across tenants. FORCE ROW LEVEL SECURITY binds the owner too, so the
-- owner (which the functions run as) gets policies on `jobs` for exactly what they do:
-- read, insert (digests) and update (claims, retries); never delete. It reads `tenants`
-- through the SELECT policy of 2026-11-23-000004_global_lookups.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_queue_read ON public.jobs FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY owner_queue_insert ON public.jobs FOR INSERT TO %I WITH CHECK (true)', current_user);
    EXECUTE format('CREATE POLICY owner_queue_update ON public.jobs FOR UPDATE TO %I USING (true) WITH CHECK (true)', current_user);
END
$$;

-- Leases up to p_limit due jobs to p_worker until p_now + p_lease_seconds: queued jobs
-- whose run_at has come, and running jobs whose lease ran out (their worker died).
-- Oldest run_at first; FOR UPDATE SKIP LOCKED, so concurrent claims never take the same
-- job (a row another claim locked is skipped, and one it already took no longer
-- qualifies when re-checked). A job whose lease ran out on its last attempt goes to the
-- dead-letter state instead of being claimed again.
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

-- The overdue digest of p_date for every active tenant, once per tenant and date (the
-- dedupe key equals `JobPayload::OverdueDigest { date }.dedupe_key()`, the payload its
-- JSON). Returns how many were new. p_now stamps the rows (the service's clock).
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

-- `aura jobs list`: newest first, optionally of one status and one tenant.
CREATE FUNCTION aura_list_jobs(p_status text, p_tenant uuid, p_limit integer)
RETURNS TABLE (
    id           uuid,
    tenant_id    uuid,
    kind         text,
    status       text,
    run_at       timestamptz,
    attempts     integer,
    max_attempts integer,
    last_error   text,
    outcome      text,
    updated_at   timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT j.id, j.tenant_id, j.kind, j.status, j.run_at, j.attempts, j.max_attempts,
           j.last_error, j.outcome, j.updated_at
      FROM public.jobs AS j
     WHERE (p_status IS NULL OR j.status = p_status)
       AND (p_tenant IS NULL OR j.tenant_id = p_tenant)
     ORDER BY j.created_at DESC, j.id DESC
     LIMIT greatest(p_limit, 0)
$$;

-- `aura jobs retry`: a dead or cancelled job back in the queue, to run at p_now with
-- fresh attempts. `last_error` is kept (why it failed before, until it fails again).
-- No row: no such job. `retried` false: the job is live (queued, running or done) and
-- was left alone. Retrying a cancelled job whose key a live job holds fails on the
-- dedupe index (unique_violation).
CREATE FUNCTION aura_retry_job(p_id uuid, p_now timestamptz)
RETURNS TABLE (
    retried      boolean,
    id           uuid,
    tenant_id    uuid,
    kind         text,
    status       text,
    run_at       timestamptz,
    attempts     integer,
    max_attempts integer,
    last_error   text,
    outcome      text,
    updated_at   timestamptz
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_tenant uuid;
    v_status text;
BEGIN
    SELECT j.tenant_id, j.status INTO v_tenant, v_status
      FROM public.jobs AS j
     WHERE j.id = p_id
     LIMIT 1
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_status IN ('dead', 'cancelled') THEN
        UPDATE public.jobs AS j
           SET status = 'queued', attempts = 0, run_at = p_now, outcome = NULL,
               locked_by = NULL, lease_token = NULL, locked_until = NULL,
               finished_at = NULL, updated_at = p_now
         WHERE j.tenant_id = v_tenant AND j.id = p_id;
    END IF;
    RETURN QUERY
    SELECT v_status IN ('dead', 'cancelled'), j.id, j.tenant_id, j.kind, j.status, j.run_at,
           j.attempts, j.max_attempts, j.last_error, j.outcome, j.updated_at
      FROM public.jobs AS j
     WHERE j.tenant_id = v_tenant AND j.id = p_id;
END
$$;

-- Queue depth and age, for metrics: queued jobs due at p_now and planned for later,
-- running and dead jobs, and how long the oldest due job has waited (whole seconds).
CREATE FUNCTION aura_job_stats(p_now timestamptz)
RETURNS TABLE (
    due                bigint,
    scheduled          bigint,
    running            bigint,
    dead               bigint,
    oldest_due_seconds bigint
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE j.status = 'queued' AND j.run_at <= p_now),
           count(*) FILTER (WHERE j.status = 'queued' AND j.run_at > p_now),
           count(*) FILTER (WHERE j.status = 'running'),
           count(*) FILTER (WHERE j.status = 'dead'),
           COALESCE(floor(extract(epoch FROM
               p_now - min(j.run_at) FILTER (WHERE j.status = 'queued' AND j.run_at <= p_now)
           ))::bigint, 0)
      FROM public.jobs AS j
     WHERE j.status IN ('queued', 'running', 'dead')
$$;

REVOKE ALL ON FUNCTION aura_claim_jobs(text, timestamptz, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_schedule_digests(date, timestamptz, integer, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_list_jobs(text, uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_retry_job(uuid, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_job_stats(timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION aura_claim_jobs(text, timestamptz, integer, integer) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_schedule_digests(date, timestamptz, integer, timestamptz) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_list_jobs(text, uuid, integer) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_retry_job(uuid, timestamptz) TO aura_app;
GRANT EXECUTE ON FUNCTION aura_job_stats(timestamptz) TO aura_app;
