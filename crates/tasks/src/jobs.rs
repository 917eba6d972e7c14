//! The durable job queue: work that must happen later (reminders, digests) survives
//! restarts because it is a row written in the same transaction as the change that made it
//! due. Workers lease jobs; a lease that runs out (a killed worker) makes the job
//! claimable again, and a job that keeps failing ends in the dead-letter state with the
//! reason of its last failure.

use aura_tenancy::{StoreError, SystemScope, TenantId, TenantScope, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

aura_gdpr_registers::string_enum!(
    /// What a job does.
    JobKind {
        TaskReminder => "task_reminder",
        OverdueDigest => "overdue_digest",
        DigestMail => "digest_mail",
    }
);

aura_gdpr_registers::string_enum!(
    /// A job's life: `queued` (waiting for `run_at`), `running` (leased to a worker),
    /// then `done`, `dead` (gave up; see `last_error`) or `cancelled` (no longer needed).
    JobStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Dead => "dead",
        Cancelled => "cancelled",
    }
);

/// What a job needs to know, stored as JSON with the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// Remind the assignee of `task`, `days_before` its due date. The due date and
    /// assignee the reminder was planned for travel along: a reminder whose task has moved
    /// on since is skipped, not sent.
    TaskReminder {
        task: Uuid,
        #[serde(with = "aura_gdpr_registers::text::iso_date")]
        due_date: Date,
        days_before: u16,
        assignee: UserId,
    },
    /// Find out whether the tenant has overdue tasks on `date` and, if so, enqueue one
    /// [`JobPayload::DigestMail`] per owner and admin (one mail per job, so a failure
    /// for one recipient never resends to another).
    OverdueDigest {
        #[serde(with = "aura_gdpr_registers::text::iso_date")]
        date: Date,
    },
    /// Send the overdue digest of `date` to `recipient`.
    DigestMail {
        #[serde(with = "aura_gdpr_registers::text::iso_date")]
        date: Date,
        recipient: UserId,
    },
}

impl JobPayload {
    pub fn kind(&self) -> JobKind {
        match self {
            JobPayload::TaskReminder { .. } => JobKind::TaskReminder,
            JobPayload::OverdueDigest { .. } => JobKind::OverdueDigest,
            JobPayload::DigestMail { .. } => JobKind::DigestMail,
        }
    }

    /// Equal keys mean the same piece of work: the queue keeps one live job per key.
    pub fn dedupe_key(&self) -> String {
        match self {
            JobPayload::TaskReminder {
                task,
                due_date,
                days_before,
                assignee,
            } => format!("reminder:{task}:{due_date}:{days_before}:{assignee}"),
            JobPayload::OverdueDigest { date } => format!("digest:{date}"),
            JobPayload::DigestMail { date, recipient } => format!("digest:{date}:{recipient}"),
        }
    }

    /// The record a job belongs to; its queued jobs are replaced when it changes.
    pub fn subject(&self) -> Option<Uuid> {
        match self {
            JobPayload::TaskReminder { task, .. } => Some(*task),
            JobPayload::OverdueDigest { .. } | JobPayload::DigestMail { .. } => None,
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub payload: JobPayload,
    pub run_at: OffsetDateTime,
    pub max_attempts: i32,
}

/// A job leased to one worker. Finishing it needs the lease token, so a worker whose
/// lease ran out (and whose job another worker took over) cannot finish it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub payload: Result<JobPayload, String>,
    /// Attempts so far, this one included.
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: Uuid,
}

/// One row of `aura jobs list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSummary {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: String,
    pub status: JobStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Why the last attempt failed, or what a finished job did.
    pub last_error: Option<String>,
    pub outcome: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub tenant: Option<TenantId>,
    pub limit: usize,
}

/// Queue depth and age, for metrics and operators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Queued jobs whose time has come.
    pub due: i64,
    /// Queued jobs planned for later.
    pub scheduled: i64,
    pub running: i64,
    pub dead: i64,
    /// Seconds the oldest due job has waited past its `run_at` (0 when none).
    pub oldest_due_seconds: i64,
}

/// How often and how far apart a failing job is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    /// Wait after the first failure; doubled after each further one.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::seconds(30),
            max_delay: Duration::hours(2),
        }
    }
}

impl RetryPolicy {
    /// When to try again after the `attempts`-th failed attempt, or `None` when the job
    /// has used up its attempts and goes to the dead-letter state.
    pub fn retry_at(
        &self,
        attempts: i32,
        max_attempts: i32,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        if attempts >= max_attempts {
            return None;
        }
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let delay = self
            .base_delay
            .checked_mul(2_i32.saturating_pow(doublings))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        Some(now + delay)
    }
}

/// The queue. Tenant-side writes (enqueue, cancel) happen inside the task repository's
/// transactions; these are the worker's and the operator's operations. Claiming spans
/// tenants and therefore takes the system scope; finishing acts inside the job's tenant.
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync {
    /// Leases up to `limit` jobs that are due at `now` (queued with `run_at <= now`, or
    /// running with an expired lease) to `worker` until `now + lease`. Two workers never
    /// hold the same job; jobs are taken oldest `run_at` first.
    async fn claim(
        &self,
        system: &SystemScope,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedJob>, StoreError>;

    /// Adds jobs of the scope's tenant; a job whose dedupe key is already held (by a job
    /// that is queued, running, done or dead: every status but cancelled) is left out.
    /// Returns how many were added.
    async fn enqueue(&self, scope: &TenantScope, jobs: &[NewJob]) -> Result<u64, StoreError>;

    /// Marks a leased job done with a short note of what it did. `false` when the lease
    /// is no longer this worker's (it ran out and someone else took the job).
    async fn complete(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        outcome: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Records a failed attempt: queued again at `retry_at`, or dead when `None`.
    async fn fail(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Enqueues the overdue digest of `date` for every active tenant, once per tenant
    /// and date however often it is called. Returns how many were new.
    async fn schedule_digests(
        &self,
        system: &SystemScope,
        date: Date,
        run_at: OffsetDateTime,
        max_attempts: i32,
    ) -> Result<u64, StoreError>;

    /// Newest first.
    async fn list(
        &self,
        system: &SystemScope,
        filter: &JobFilter,
    ) -> Result<Vec<JobSummary>, StoreError>;

    /// Puts a dead (or cancelled) job back in the queue to run at `now` with fresh
    /// attempts (its `last_error` stays until it fails again). `NotFound` for an unknown
    /// id, `Conflict("job_state")` for a live one, `Conflict("dedupe_key")` for a
    /// cancelled one whose key another job has taken since.
    async fn retry(
        &self,
        system: &SystemScope,
        id: Uuid,
        now: OffsetDateTime,
    ) -> Result<JobSummary, StoreError>;

    async fn stats(
        &self,
        system: &SystemScope,
        now: OffsetDateTime,
    ) -> Result<QueueStats, StoreError>;
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_a_cap_then_stop() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::seconds(10),
            max_delay: Duration::seconds(60),
        };
        let now = datetime!(2026-11-24 08:00 UTC);
        let waits: Vec<Option<Duration>> = (1..=5)
            .map(|attempt| policy.retry_at(attempt, 5, now).map(|at| at - now))
            .collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::seconds(10)),
                Some(Duration::seconds(20)),
                Some(Duration::seconds(40)),
                Some(Duration::seconds(60)),
                None,
            ]
        );
    }

    #[test]
    fn payloads_round_trip_and_name_their_work() {
        let task = Uuid::now_v7();
        let assignee = UserId::generate();
        let payload = JobPayload::TaskReminder {
            task,
            due_date: date!(2026 - 12 - 01),
            days_before: 7,
            assignee,
        };
        let json = serde_json::to_value(&payload).expect("json");
        assert_eq!(json["kind"], "task_reminder");
        assert_eq!(json["due_date"], "2026-12-01");
        assert_eq!(
            serde_json::from_value::<JobPayload>(json).expect("back"),
            payload
        );
        assert_eq!(payload.kind(), JobKind::TaskReminder);
        assert_eq!(payload.subject(), Some(task));
        assert_eq!(
            payload.dedupe_key(),
            format!("reminder:{task}:2026-12-01:7:{assignee}")
        );
    }
}
