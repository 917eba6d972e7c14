//! The durable job queue: work that must happen later (reminders, digests) survives
//! restarts because it is a row written in the same transaction as the change that made it
//! due. Workers lease jobs; a lease that runs out (a killed worker) makes the job
//! claimable again, and a job that keeps failing ends in the dead-letter state with the
//! reason of its last failure.

use aura_shared_kernel::{StoreError, SystemScope, TenantId, TenantScope};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A job's life: `queued` (waiting for `run_at`), `running` (leased to a worker),
/// then `done`, `dead` (gave up; see `last_error`) or `cancelled` (no longer needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
    Cancelled,
}

impl JobStatus {
    pub const ALL: &'static [JobStatus] = &[
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Dead,
        JobStatus::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        JobStatus::ALL
            .iter()
            .copied()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
                format!("`{raw}` is not one of: {}", names.join(", "))
            })
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of job: its stable name and its payload, stored as JSON with the job. The
/// domain that owns the work declares it (a task reminder in tasks, a breach deadline
/// alert in breaches); the queue only stores the name and the JSON.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stable name in the `kind` column; a handler registered under it runs the job.
    const KIND: &'static str;

    /// Equal keys mean the same piece of work: the queue keeps one live job per key (and
    /// tenant). Start it with something of the kind, so kinds never share keys.
    fn dedupe_key(&self) -> String;

    /// The record a job belongs to, for cancelling its queued jobs when it changes.
    fn subject(&self) -> Option<Uuid> {
        None
    }
}

/// A job in the form the queue stores: kind, JSON payload, dedupe key, subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub dedupe_key: String,
    pub subject: Option<Uuid>,
}

impl EncodedJob {
    /// `job` as stored. A payload that cannot be written as JSON (a domain bug: payloads
    /// are plain data) is stored as `null` and fails when the job runs, never here.
    pub fn of<J: Job>(job: &J) -> Self {
        Self {
            kind: J::KIND.to_owned(),
            payload: serde_json::to_value(job).unwrap_or(serde_json::Value::Null),
            dedupe_key: job.dedupe_key(),
            subject: job.subject(),
        }
    }

    /// The typed payload, if this is a job of kind `J` whose JSON reads as one.
    pub fn decode<J: Job>(&self) -> Result<J, String> {
        decode(&self.kind, &self.payload)
    }
}

fn decode<J: Job>(kind: &str, payload: &serde_json::Value) -> Result<J, String> {
    if kind != J::KIND {
        return Err(format!("a `{kind}` job, not `{}`", J::KIND));
    }
    J::deserialize(payload).map_err(|error| format!("not a job payload of kind `{kind}`: {error}"))
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub job: EncodedJob,
    pub run_at: OffsetDateTime,
    pub max_attempts: i32,
}

impl NewJob {
    /// `job` of `tenant` under a fresh id.
    pub fn of<J: Job>(
        tenant: TenantId,
        job: &J,
        run_at: OffsetDateTime,
        max_attempts: i32,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            job: EncodedJob::of(job),
            run_at,
            max_attempts,
        }
    }

    pub fn decode<J: Job>(&self) -> Result<J, String> {
        self.job.decode()
    }
}

/// A job leased to one worker. Finishing it needs the lease token, so a worker whose
/// lease ran out (and whose job another worker took over) cannot finish it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: String,
    /// The stored JSON; [`ClaimedJob::decode`] reads it as the kind's payload.
    pub payload: serde_json::Value,
    /// Attempts so far, this one included.
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: Uuid,
}

impl ClaimedJob {
    /// The typed payload, or why it cannot be read (another kind, or JSON that does not
    /// fit): the worker sends such a job to the dead-letter state, never panics.
    pub fn decode<J: Job>(&self) -> Result<J, String> {
        decode(&self.kind, &self.payload)
    }
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

    /// Enqueues `job` for every active tenant (a daily job such as the overdue digest),
    /// once per tenant and dedupe key however often it is called. Returns how many were
    /// new.
    async fn schedule_for_active_tenants(
        &self,
        system: &SystemScope,
        job: &EncodedJob,
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
    /// id, `Conflict::JobState` for a live one, `Conflict::DedupeKeyTaken` for a
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

/// `text` cut to 64 characters (a stored kind name in a failure reason).
pub(crate) fn short(text: &str) -> String {
    text.chars().take(64).collect()
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

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        target: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    }

    impl Job for Ping {
        const KIND: &'static str = "ping";
        fn dedupe_key(&self) -> String {
            format!("ping:{}", self.target)
        }
        fn subject(&self) -> Option<Uuid> {
            Some(self.target)
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pong {
        day: time::Date,
    }

    impl Job for Pong {
        const KIND: &'static str = "pong";
        fn dedupe_key(&self) -> String {
            format!("pong:{}", self.day)
        }
    }

    #[test]
    fn payloads_round_trip_and_name_their_work() {
        let target = Uuid::now_v7();
        let ping = Ping {
            target,
            at: datetime!(2026-12-01 08:00 UTC),
        };
        let tenant = TenantId::generate();
        let job = NewJob::of(tenant, &ping, datetime!(2026-12-01 08:00 UTC), 3);
        assert_eq!(job.job.kind, "ping");
        assert_eq!(job.job.payload["at"], "2026-12-01T08:00:00Z");
        assert_eq!(job.job.dedupe_key, format!("ping:{target}"));
        assert_eq!(job.job.subject, Some(target));
        assert_eq!(job.decode::<Ping>(), Ok(ping));
        let other = job.decode::<Pong>().expect_err("another kind");
        assert!(other.contains("`ping`"), "{other}");
        let broken = EncodedJob {
            payload: serde_json::json!({ "kind": "ping" }),
            ..job.job.clone()
        };
        assert!(broken.decode::<Ping>().is_err());
        let pong = Pong {
            day: date!(2026 - 12 - 01),
        };
        assert_eq!(EncodedJob::of(&pong).dedupe_key, "pong:2026-12-01");
    }

    #[test]
    fn statuses_parse_their_names() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>(), Ok(*status));
        }
        assert!("launched".parse::<JobStatus>().is_err());
    }
}
