//! The job queue ([`JobQueue`]) in memory, with the rules of the PostgreSQL queue: one
//! job per dedupe key among those not cancelled, leases with tokens, expired leases
//! claimable again (or dead when their attempts are used up), oldest `run_at` first.
//! Claims happen under the store's one lock, so two claims never take the same job.

use std::collections::BTreeMap;

use aura_jobs::{
    ClaimedJob, EncodedJob, Job, JobFilter, JobQueue, JobStatus, JobSummary, NewJob, QueueStats,
};
use aura_shared_kernel::{Conflict, StoreError, SystemScope, TenantId, TenantScope};
use aura_tasks::TaskReminder;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{MemoryStore, state::State};

/// Longest stored error or outcome text, in characters (as the PostgreSQL adapter).
const MAX_NOTE_CHARS: usize = 500;

/// Why a job whose lease ran out on its last attempt is dead.
const LEASE_EXPIRED: &str = "lease expired: the worker stopped before finishing";

fn note(text: &str) -> String {
    text.chars().take(MAX_NOTE_CHARS).collect()
}

/// A lease in whole seconds, rounded up (at least one), as the PostgreSQL adapter.
fn lease_length(lease: Duration) -> Duration {
    let whole = lease.whole_seconds() + i64::from(lease.subsec_nanoseconds() > 0);
    Duration::seconds(whole.clamp(1, i64::from(i32::MAX)))
}

/// One row of the queue, as PostgreSQL's `jobs` holds it (kind and JSON payload: the
/// handler of the kind reads it, and one that does not parse fails the job).
#[derive(Debug, Clone)]
pub(crate) struct JobRow {
    pub tenant: TenantId,
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub subject: Option<Uuid>,
    pub dedupe_key: String,
    pub status: JobStatus,
    pub run_at: OffsetDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub outcome: Option<String>,
    pub locked_by: Option<String>,
    pub lease_token: Option<Uuid>,
    pub locked_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

impl JobRow {
    fn new(job: &NewJob, now: OffsetDateTime) -> Result<Self, StoreError> {
        // As the table's check constraint.
        if job.max_attempts < 1 {
            return Err(StoreError::unexpected("a job needs at least one attempt"));
        }
        Ok(Self {
            tenant: job.tenant_id,
            id: job.id,
            kind: job.job.kind.clone(),
            payload: job.job.payload.clone(),
            subject: job.job.subject,
            dedupe_key: job.job.dedupe_key.clone(),
            status: JobStatus::Queued,
            run_at: job.run_at,
            attempts: 0,
            max_attempts: job.max_attempts,
            last_error: None,
            outcome: None,
            locked_by: None,
            lease_token: None,
            locked_until: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        })
    }

    /// Holds its dedupe key (everything but a cancelled job does).
    fn holds_key(&self) -> bool {
        self.status != JobStatus::Cancelled
    }

    /// A queued job of `subject` of one of `kinds` (a task's reminders, a request's or
    /// a breach's planned jobs): what replacing the record's plan cancels. Subjects are
    /// record ids, so two records' jobs never meet.
    fn is_queued_reminder_of(&self, (subject, kinds): Planned) -> bool {
        self.subject == Some(subject)
            && kinds.contains(&self.kind.as_str())
            && self.status == JobStatus::Queued
    }

    fn lease_expired(&self, now: OffsetDateTime) -> bool {
        self.status == JobStatus::Running && self.locked_until.is_some_and(|until| until <= now)
    }

    fn clear_lease(&mut self) {
        self.locked_by = None;
        self.lease_token = None;
        self.locked_until = None;
    }

    fn summary(&self) -> JobSummary {
        JobSummary {
            id: self.id,
            tenant_id: self.tenant,
            kind: self.kind.clone(),
            status: self.status,
            run_at: self.run_at,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            last_error: self.last_error.clone(),
            outcome: self.outcome.clone(),
            updated_at: self.updated_at,
        }
    }
}

/// The queue's table, keyed by (tenant, id) like the primary key.
pub(crate) type Jobs = BTreeMap<(TenantId, Uuid), JobRow>;

/// A record and the kinds of the jobs it plans: its queued ones of these kinds are what
/// a new plan replaces.
pub(crate) type Planned = (Uuid, &'static [&'static str]);

/// The kinds a task's write replaces.
pub(crate) const TASK_KINDS: &[&str] = &[TaskReminder::KIND];

/// Jobs to add, checked but not yet stored: see [`State::plan_jobs`].
pub(crate) struct JobInsert {
    rows: Vec<JobRow>,
    /// The record whose queued planned jobs go first (replacing its plan).
    cancel_for: Option<Planned>,
    tenant: TenantId,
}

impl JobInsert {
    pub fn added(&self) -> u64 {
        u64::try_from(self.rows.len()).unwrap_or(u64::MAX)
    }
}

impl State {
    /// Checks adding `jobs` to `tenant` (after cancelling the queued reminders of
    /// `cancel_for`, if given) without changing anything: each job whose dedupe key is
    /// held (by a stored job that stays, or an earlier one of the batch) is left out; a
    /// job of another tenant is `NotFound`, a taken id `Conflict::Duplicate`.
    pub fn plan_jobs(
        &self,
        tenant: TenantId,
        jobs: &[NewJob],
        cancel_for: Option<Planned>,
        now: OffsetDateTime,
    ) -> Result<JobInsert, StoreError> {
        if jobs.iter().any(|job| job.tenant_id != tenant) || !self.tenants.contains_key(&tenant) {
            return Err(StoreError::NotFound);
        }
        let mut rows: Vec<JobRow> = Vec::new();
        for job in jobs {
            let row = JobRow::new(job, now)?;
            let stays = |r: &JobRow| cancel_for.is_none_or(|of| !r.is_queued_reminder_of(of));
            let held = tenant_jobs(&self.jobs, tenant)
                .any(|r| r.dedupe_key == row.dedupe_key && r.holds_key() && stays(r))
                || rows.iter().any(|r| r.dedupe_key == row.dedupe_key);
            if held {
                continue;
            }
            if self.jobs.contains_key(&(tenant, row.id)) || rows.iter().any(|r| r.id == row.id) {
                return Err(StoreError::Conflict(Conflict::Duplicate));
            }
            rows.push(row);
        }
        Ok(JobInsert {
            rows,
            cancel_for,
            tenant,
        })
    }

    /// Applies a checked [`JobInsert`]: cancels, then stores.
    pub fn apply_jobs(&mut self, insert: JobInsert, now: OffsetDateTime) {
        if let Some(planned) = insert.cancel_for {
            self.cancel_reminders(insert.tenant, planned, now);
        }
        for row in insert.rows {
            self.jobs.insert((row.tenant, row.id), row);
        }
    }

    /// Cancels the queued planned jobs of a record (running and finished ones stay).
    pub fn cancel_reminders(&mut self, tenant: TenantId, planned: Planned, now: OffsetDateTime) {
        for row in tenant_jobs_mut(&mut self.jobs, tenant) {
            if row.is_queued_reminder_of(planned) {
                row.status = JobStatus::Cancelled;
                row.updated_at = now;
                row.finished_at = Some(now);
            }
        }
    }
}

fn tenant_jobs(jobs: &Jobs, tenant: TenantId) -> impl Iterator<Item = &JobRow> {
    jobs.range((tenant, Uuid::nil())..=(tenant, Uuid::max()))
        .map(|(_, row)| row)
}

fn tenant_jobs_mut(jobs: &mut Jobs, tenant: TenantId) -> impl Iterator<Item = &mut JobRow> {
    jobs.range_mut((tenant, Uuid::nil())..=(tenant, Uuid::max()))
        .map(|(_, row)| row)
}

impl MemoryStore {
    /// Finishes the leased `job` with `change` if the lease is still the claim's and the
    /// job still running.
    fn finish(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        change: impl FnOnce(&mut JobRow),
    ) -> Result<bool, StoreError> {
        if job.tenant_id != scope.tenant_id() {
            return Ok(false);
        }
        let mut state = self.lock()?;
        match state.jobs.get_mut(&(job.tenant_id, job.id)) {
            Some(row)
                if row.status == JobStatus::Running && row.lease_token == Some(job.lease_token) =>
            {
                change(row);
                row.clear_lease();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait::async_trait]
impl JobQueue for MemoryStore {
    async fn claim(
        &self,
        _system: &SystemScope,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let mut state = self.lock()?;
        for row in state.jobs.values_mut() {
            if row.lease_expired(now) && row.attempts >= row.max_attempts {
                row.status = JobStatus::Dead;
                row.last_error = Some(LEASE_EXPIRED.to_owned());
                row.clear_lease();
                row.updated_at = now;
                row.finished_at = Some(now);
            }
        }
        let mut due: Vec<(OffsetDateTime, Uuid, TenantId)> = state
            .jobs
            .values()
            .filter(|row| {
                (row.status == JobStatus::Queued && row.run_at <= now)
                    || (row.lease_expired(now) && row.attempts < row.max_attempts)
            })
            .map(|row| (row.run_at, row.id, row.tenant))
            .collect();
        due.sort_unstable();
        due.truncate(limit);
        let until = now + lease_length(lease);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id, tenant) in due {
            let Some(row) = state.jobs.get_mut(&(tenant, id)) else {
                continue;
            };
            let token = Uuid::new_v4();
            row.status = JobStatus::Running;
            row.attempts += 1;
            row.locked_by = Some(note(worker));
            row.lease_token = Some(token);
            row.locked_until = Some(until);
            row.updated_at = now;
            claimed.push(ClaimedJob {
                id,
                tenant_id: tenant,
                kind: row.kind.clone(),
                payload: row.payload.clone(),
                attempts: row.attempts,
                max_attempts: row.max_attempts,
                lease_token: token,
            });
        }
        Ok(claimed)
    }

    async fn enqueue(&self, scope: &TenantScope, jobs: &[NewJob]) -> Result<u64, StoreError> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let now = self.clock().now();
        let mut state = self.lock()?;
        let insert = state.plan_jobs(scope.tenant_id(), jobs, None, now)?;
        let added = insert.added();
        state.apply_jobs(insert, now);
        Ok(added)
    }

    async fn complete(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        outcome: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.finish(scope, job, |row| {
            row.status = JobStatus::Done;
            row.outcome = Some(note(outcome));
            row.finished_at = Some(now);
            row.updated_at = now;
        })
    }

    async fn fail(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.finish(scope, job, |row| {
            row.last_error = Some(note(error));
            row.updated_at = now;
            match retry_at {
                Some(at) => {
                    row.status = JobStatus::Queued;
                    row.run_at = at;
                }
                None => {
                    row.status = JobStatus::Dead;
                    row.finished_at = Some(now);
                }
            }
        })
    }

    async fn schedule_for_active_tenants(
        &self,
        _system: &SystemScope,
        job: &EncodedJob,
        run_at: OffsetDateTime,
        max_attempts: i32,
    ) -> Result<u64, StoreError> {
        let now = self.clock().now();
        let mut state = self.lock()?;
        let active: Vec<TenantId> = state
            .tenants
            .values()
            .filter(|tenant| tenant.is_active)
            .map(|tenant| tenant.id)
            .collect();
        let mut added = 0;
        for tenant in active {
            let new = NewJob {
                id: Uuid::now_v7(),
                tenant_id: tenant,
                job: job.clone(),
                run_at,
                max_attempts,
            };
            let insert = state.plan_jobs(tenant, &[new], None, now)?;
            added += insert.added();
            state.apply_jobs(insert, now);
        }
        Ok(added)
    }

    async fn list(
        &self,
        _system: &SystemScope,
        filter: &JobFilter,
    ) -> Result<Vec<JobSummary>, StoreError> {
        let state = self.lock()?;
        let mut rows: Vec<&JobRow> = state
            .jobs
            .values()
            .filter(|row| filter.status.is_none_or(|s| row.status == s))
            .filter(|row| filter.tenant.is_none_or(|t| row.tenant == t))
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse((row.created_at, row.id)));
        Ok(rows
            .into_iter()
            .take(filter.limit)
            .map(JobRow::summary)
            .collect())
    }

    async fn retry(
        &self,
        _system: &SystemScope,
        id: Uuid,
        now: OffsetDateTime,
    ) -> Result<JobSummary, StoreError> {
        let mut state = self.lock()?;
        let key = state
            .jobs
            .values()
            .find(|row| row.id == id)
            .map(|row| (row.tenant, row.id))
            .ok_or(StoreError::NotFound)?;
        let row = &state.jobs[&key];
        if !matches!(row.status, JobStatus::Dead | JobStatus::Cancelled) {
            return Err(StoreError::Conflict(Conflict::JobState));
        }
        // A cancelled job whose key another job took since (the dedupe index).
        let taken = tenant_jobs(&state.jobs, row.tenant)
            .any(|other| other.id != id && other.dedupe_key == row.dedupe_key && other.holds_key());
        if taken {
            return Err(StoreError::Conflict(Conflict::DedupeKeyTaken));
        }
        let row = state.jobs.get_mut(&key).ok_or(StoreError::NotFound)?;
        row.status = JobStatus::Queued;
        row.attempts = 0;
        row.run_at = now;
        row.outcome = None;
        row.clear_lease();
        row.finished_at = None;
        row.updated_at = now;
        Ok(row.summary())
    }

    async fn stats(
        &self,
        _system: &SystemScope,
        now: OffsetDateTime,
    ) -> Result<QueueStats, StoreError> {
        let state = self.lock()?;
        let mut stats = QueueStats::default();
        let mut oldest: Option<OffsetDateTime> = None;
        for row in state.jobs.values() {
            match row.status {
                JobStatus::Queued if row.run_at <= now => {
                    stats.due += 1;
                    oldest = Some(oldest.map_or(row.run_at, |o| o.min(row.run_at)));
                }
                JobStatus::Queued => stats.scheduled += 1,
                JobStatus::Running => stats.running += 1,
                JobStatus::Dead => stats.dead += 1,
                JobStatus::Done | JobStatus::Cancelled => {}
            }
        }
        stats.oldest_due_seconds = oldest.map_or(0, |at| (now - at).whole_seconds());
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aura_adapter_crypto::HmacChainHasher;
    use aura_shared_kernel::{FixedClock, Tenant, TenantName, TenantSlug};
    use time::macros::datetime;

    use super::*;

    #[tokio::test]
    async fn an_unreadable_payload_is_reported_on_claim_not_a_panic() {
        let now = datetime!(2026-11-24 08:00 UTC);
        let store = MemoryStore::new(
            Arc::new(HmacChainHasher::with_test_key()),
            Arc::new(FixedClock::at(now)),
        );
        let tenant = Tenant::new(
            TenantName::parse("Acme").expect("name"),
            TenantSlug::parse("acme-unreadable").expect("slug"),
            now,
        );
        let job = NewJob::of(
            tenant.id,
            &aura_tasks::OverdueDigest { date: now.date() },
            now,
            3,
        );
        {
            let mut state = store.lock().expect("lock");
            state.tenants.insert(tenant.id, tenant.clone());
            let mut row = JobRow::new(&job, now).expect("row");
            row.payload = serde_json::json!({ "kind": "launch_rockets" });
            state.jobs.insert((tenant.id, job.id), row);
        }
        let system = SystemScope::for_platform_operation("test");
        let claimed = store
            .claim(&system, "w", now, Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        let read = claimed[0].decode::<aura_tasks::OverdueDigest>();
        assert!(read.is_err(), "{claimed:?}");
    }
}
