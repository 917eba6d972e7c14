//! The durable job queue ([`JobQueue`]) on PostgreSQL, table `jobs`.
//!
//! Tenant-side writes (enqueueing, cancelling a task's queued reminders, finishing a
//! leased job) run inside the job's tenant through `in_tenant`, under row-level
//! security. The operations that span tenants (claiming, scheduling the daily digests,
//! the operator's list, retry and statistics) call the SECURITY DEFINER functions of
//! `migrations/*_tasks_jobs` on a connection without a tenant, and take the system scope.
//!
//! Enqueueing is idempotent per dedupe key: inserts go `ON CONFLICT DO NOTHING` against
//! the partial unique index `jobs_dedupe_idx` (every status but `cancelled`), so a job
//! that is queued, running, done or dead keeps its key and a cancelled one frees it.

use aura_jobs::{
    ClaimedJob, EncodedJob, JobFilter, JobQueue, JobStatus, JobSummary, NewJob, QueueStats,
};
use aura_shared_kernel::{Conflict, StoreError, SystemScope, TenantId, TenantScope};
use aura_tasks::TaskReminder;
use diesel::{
    QueryableByName,
    prelude::*,
    sql_types::{Array, BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::DbError,
    pool::{in_tenant, unscoped},
    registers::stored_enum,
    schema::jobs,
    stores::PgStores,
};

/// Longest stored error or outcome text, in characters: enough for a reason, not for a
/// whole mail server transcript.
pub(crate) const MAX_NOTE_CHARS: usize = 500;

/// `text` cut to [`MAX_NOTE_CHARS`] characters.
pub(crate) fn note(text: &str) -> String {
    text.chars().take(MAX_NOTE_CHARS).collect()
}

/// A lease in whole seconds, rounded up (at least one).
pub(crate) fn lease_seconds(lease: Duration) -> i32 {
    let whole = lease.whole_seconds() + i64::from(lease.subsec_nanoseconds() > 0);
    i32::try_from(whole.max(1)).unwrap_or(i32::MAX)
}

fn sql_limit(limit: usize) -> i32 {
    i32::try_from(limit).unwrap_or(i32::MAX)
}

/// Inserts `jobs` into `tenant` (the caller's transaction is inside that tenant), each
/// left out when its dedupe key is live. Returns how many were added. A job claiming
/// another tenant is refused (`NotFound`) before anything is written.
pub(crate) async fn insert_jobs(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    jobs: &[NewJob],
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    if jobs.is_empty() {
        return Ok(0);
    }
    if jobs.iter().any(|job| job.tenant_id != tenant) {
        return Err(DbError::Store(StoreError::NotFound));
    }
    let mut ids = Vec::with_capacity(jobs.len());
    let mut kinds = Vec::with_capacity(jobs.len());
    let mut payloads = Vec::with_capacity(jobs.len());
    let mut subjects = Vec::with_capacity(jobs.len());
    let mut keys = Vec::with_capacity(jobs.len());
    let mut run_ats = Vec::with_capacity(jobs.len());
    let mut max_attempts = Vec::with_capacity(jobs.len());
    for job in jobs {
        ids.push(job.id);
        kinds.push(job.job.kind.clone());
        payloads.push(job.job.payload.clone());
        subjects.push(job.job.subject);
        keys.push(job.job.dedupe_key.clone());
        run_ats.push(job.run_at);
        max_attempts.push(job.max_attempts);
    }
    let added = diesel::sql_query(
        "INSERT INTO jobs (tenant_id, id, kind, payload, subject_id, dedupe_key, status, run_at,
                           attempts, max_attempts, created_at, updated_at)
         SELECT $1, n.id, n.kind, n.payload, n.subject_id, n.dedupe_key, 'queued', n.run_at,
                0, n.max_attempts, $2, $2
           FROM unnest($3, $4, $5, $6, $7, $8, $9)
                AS n (id, kind, payload, subject_id, dedupe_key, run_at, max_attempts)
         ON CONFLICT (tenant_id, dedupe_key) WHERE status <> 'cancelled' DO NOTHING",
    )
    .bind::<SqlUuid, _>(tenant.as_uuid())
    .bind::<Timestamptz, _>(now)
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Text>, _>(kinds)
    .bind::<Array<Jsonb>, _>(payloads)
    .bind::<Array<Nullable<SqlUuid>>, _>(subjects)
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<Timestamptz>, _>(run_ats)
    .bind::<Array<Int4>, _>(max_attempts)
    .execute(conn)
    .await?;
    Ok(u64::try_from(added).unwrap_or(u64::MAX))
}

/// Cancels the queued reminders of `task` (the caller's transaction is inside
/// `tenant`). Running and finished ones stay as they are: a running reminder re-reads
/// its task before mailing, and a sent one keeps its key so it is not sent again.
pub(crate) async fn cancel_reminders(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    task: Uuid,
    now: OffsetDateTime,
) -> Result<usize, DbError> {
    cancel_queued(
        conn,
        tenant,
        task,
        &[<TaskReminder as aura_jobs::Job>::KIND],
        now,
    )
    .await
}

/// Cancels the queued jobs of `kinds` that belong to `subject` (a record whose write
/// replaces its planned jobs), as [`cancel_reminders`] does for a task.
pub(crate) async fn cancel_queued(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    subject: Uuid,
    kinds: &[&str],
    now: OffsetDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        jobs::table
            .filter(jobs::tenant_id.eq(tenant))
            .filter(jobs::subject_id.eq(subject))
            .filter(jobs::kind.eq_any(kinds))
            .filter(jobs::status.eq(JobStatus::Queued.as_str())),
    )
    .set((
        jobs::status.eq(JobStatus::Cancelled.as_str()),
        jobs::updated_at.eq(now),
        jobs::finished_at.eq(Some(now)),
    ))
    .execute(conn)
    .await?)
}

/// `aura_claim_jobs(…)`: one leased job.
#[derive(Debug, QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Int4)]
    max_attempts: i32,
    #[diesel(sql_type = SqlUuid)]
    lease_token: Uuid,
}

impl From<ClaimRow> for ClaimedJob {
    fn from(row: ClaimRow) -> Self {
        ClaimedJob {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            kind: row.kind,
            payload: row.payload,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            lease_token: row.lease_token,
        }
    }
}

/// `aura_list_jobs(…)` and `aura_retry_job(…)`: a job as operators see it.
#[derive(Debug, QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Timestamptz)]
    run_at: OffsetDateTime,
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Int4)]
    max_attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    outcome: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: OffsetDateTime,
}

impl TryFrom<SummaryRow> for JobSummary {
    type Error = StoreError;
    fn try_from(row: SummaryRow) -> Result<Self, StoreError> {
        Ok(JobSummary {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            kind: row.kind,
            status: stored_enum(&row.status, "stored job status")?,
            run_at: row.run_at,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            last_error: row.last_error,
            outcome: row.outcome,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, QueryableByName)]
struct RetryRow {
    #[diesel(sql_type = Bool)]
    retried: bool,
    #[diesel(embed)]
    job: SummaryRow,
}

#[derive(Debug, QueryableByName)]
struct StatsRow {
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    scheduled: i64,
    #[diesel(sql_type = BigInt)]
    running: i64,
    #[diesel(sql_type = BigInt)]
    dead: i64,
    #[diesel(sql_type = BigInt)]
    oldest_due_seconds: i64,
}

#[derive(Debug, QueryableByName)]
struct AddedRow {
    #[diesel(sql_type = BigInt)]
    added: i64,
}

/// The columns a finished attempt clears: the lease.
type ClearLease = (
    diesel::dsl::Eq<jobs::locked_by, Option<String>>,
    diesel::dsl::Eq<jobs::lease_token, Option<Uuid>>,
    diesel::dsl::Eq<jobs::locked_until, Option<OffsetDateTime>>,
);

fn clear_lease() -> ClearLease {
    (
        jobs::locked_by.eq(None::<String>),
        jobs::lease_token.eq(None::<Uuid>),
        jobs::locked_until.eq(None::<OffsetDateTime>),
    )
}

/// How a leased job ends: the columns a completion, a retry or a death sets (`None`:
/// the column stays as it is); the lease is cleared besides.
#[derive(AsChangeset)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg))]
struct LeaseEnd {
    status: &'static str,
    run_at: Option<OffsetDateTime>,
    outcome: Option<String>,
    last_error: Option<String>,
    finished_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

impl PgStores {
    /// Ends `job` as `end` says while its lease holds (still running under the same
    /// token); whether it did. A job of another tenant than the scope's is not ended.
    async fn end_lease(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        end: LeaseEnd,
    ) -> Result<bool, StoreError> {
        if job.tenant_id != scope.tenant_id() {
            return Ok(false);
        }
        let (tenant, id, token) = (job.tenant_id.as_uuid(), job.id, job.lease_token);
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let leased = jobs::table
                .filter(jobs::tenant_id.eq(tenant))
                .filter(jobs::id.eq(id))
                .filter(jobs::lease_token.eq(token))
                .filter(jobs::status.eq(JobStatus::Running.as_str()));
            let ended = diesel::update(leased).set((end, clear_lease()));
            let changed = ended.execute(conn).await?;
            Ok(changed == 1)
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobQueue for PgStores {
    async fn claim(
        &self,
        _system: &SystemScope,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<ClaimRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(
                diesel::sql_query("SELECT * FROM aura_claim_jobs($1, $2, $3, $4)")
                    .bind::<Text, _>(note(worker))
                    .bind::<Timestamptz, _>(now)
                    .bind::<Int4, _>(lease_seconds(lease))
                    .bind::<Int4, _>(sql_limit(limit))
                    .load(conn)
                    .await?,
            )
        })
        .await?;
        Ok(rows.into_iter().map(ClaimedJob::from).collect())
    }

    async fn enqueue(&self, scope: &TenantScope, jobs: &[NewJob]) -> Result<u64, StoreError> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let tenant = scope.tenant_id();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            insert_jobs(conn, tenant, jobs, now).await
        })
        .await
    }

    async fn complete(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        outcome: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = LeaseEnd {
            status: JobStatus::Done.as_str(),
            run_at: None,
            outcome: Some(note(outcome)),
            last_error: None,
            finished_at: Some(now),
            updated_at: now,
        };
        self.end_lease(scope, job, done).await
    }

    async fn fail(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        // Queued again to run at `retry_at`, or dead (finished) without one.
        let status = match retry_at {
            Some(_) => JobStatus::Queued,
            None => JobStatus::Dead,
        };
        let failed = LeaseEnd {
            status: status.as_str(),
            run_at: retry_at,
            outcome: None,
            last_error: Some(note(error)),
            finished_at: retry_at.is_none().then_some(now),
            updated_at: now,
        };
        self.end_lease(scope, job, failed).await
    }

    async fn schedule_for_active_tenants(
        &self,
        _system: &SystemScope,
        job: &EncodedJob,
        run_at: OffsetDateTime,
        max_attempts: i32,
    ) -> Result<u64, StoreError> {
        let now = self.now();
        let row: AddedRow = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query(
                "SELECT aura_schedule_for_active_tenants($1, $2, $3, $4, $5, $6) AS added",
            )
            .bind::<Text, _>(&job.kind)
            .bind::<Jsonb, _>(&job.payload)
            .bind::<Text, _>(&job.dedupe_key)
            .bind::<Timestamptz, _>(run_at)
            .bind::<Int4, _>(max_attempts)
            .bind::<Timestamptz, _>(now)
            .get_result(conn)
            .await?)
        })
        .await?;
        Ok(u64::try_from(row.added).unwrap_or(0))
    }

    async fn list(
        &self,
        _system: &SystemScope,
        filter: &JobFilter,
    ) -> Result<Vec<JobSummary>, StoreError> {
        let rows: Vec<SummaryRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(
                diesel::sql_query("SELECT * FROM aura_list_jobs($1, $2, $3)")
                    .bind::<Nullable<Text>, _>(filter.status.map(JobStatus::as_str))
                    .bind::<Nullable<SqlUuid>, _>(filter.tenant.map(|t| t.as_uuid()))
                    .bind::<Int4, _>(sql_limit(filter.limit))
                    .load(conn)
                    .await?,
            )
        })
        .await?;
        rows.into_iter().map(JobSummary::try_from).collect()
    }

    async fn retry(
        &self,
        _system: &SystemScope,
        id: Uuid,
        now: OffsetDateTime,
    ) -> Result<JobSummary, StoreError> {
        let row: RetryRow = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_retry_job($1, $2)")
                .bind::<SqlUuid, _>(id)
                .bind::<Timestamptz, _>(now)
                .get_result(conn)
                .await?)
        })
        .await?;
        if !row.retried {
            return Err(StoreError::Conflict(Conflict::JobState));
        }
        JobSummary::try_from(row.job)
    }

    async fn stats(
        &self,
        _system: &SystemScope,
        now: OffsetDateTime,
    ) -> Result<QueueStats, StoreError> {
        let row: StatsRow = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_job_stats($1)")
                .bind::<Timestamptz, _>(now)
                .get_result(conn)
                .await?)
        })
        .await?;
        Ok(QueueStats {
            due: row.due,
            scheduled: row.scheduled,
            running: row.running,
            dead: row.dead,
            oldest_due_seconds: row.oldest_due_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_NOTE_CHARS + 10);
        assert_eq!(note(&long).chars().count(), MAX_NOTE_CHARS);
        assert_eq!(note("short"), "short");
    }

    #[test]
    fn leases_round_up_to_whole_seconds() {
        assert_eq!(lease_seconds(Duration::seconds(30)), 30);
        assert_eq!(lease_seconds(Duration::milliseconds(1_500)), 2);
        assert_eq!(lease_seconds(Duration::ZERO), 1);
        assert_eq!(lease_seconds(Duration::days(100_000)), i32::MAX);
    }

    #[test]
    fn an_unreadable_payload_is_an_error_not_a_panic() {
        let row = |payload| ClaimRow {
            tenant_id: Uuid::now_v7(),
            id: Uuid::now_v7(),
            kind: "overdue_digest".to_owned(),
            payload,
            attempts: 1,
            max_attempts: 3,
            lease_token: Uuid::now_v7(),
        };
        let read = ClaimedJob::from(row(serde_json::json!({ "kind": "launch_rockets" })))
            .decode::<aura_tasks::OverdueDigest>();
        assert!(read.is_err(), "{read:?}");
        let good = aura_tasks::OverdueDigest {
            date: time::macros::date!(2026 - 11 - 24),
        };
        assert_eq!(
            ClaimedJob::from(row(serde_json::to_value(&good).expect("json"))).decode(),
            Ok(good)
        );
    }
}
