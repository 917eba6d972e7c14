//! Running a job: a [`JobHandler`] per kind, registered at wiring time in a
//! [`JobRegistry`], which the worker dispatches through by the stored kind name. A domain
//! adds a kind by declaring its payload ([`crate::Job`]) and a handler; neither the
//! queue nor the worker changes.

use std::{collections::BTreeMap, sync::Arc};

use aura_shared_kernel::{StoreError, TenantScope};
use time::{Date, OffsetDateTime};

use crate::queue::{ClaimedJob, EncodedJob, Job};

/// What a finished job did (stored with the job for operators; no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Sent,
    /// Did something worth a short note, e.g. "enqueued 2 digest mails".
    Done(String),
    Skipped(&'static str),
}

impl JobOutcome {
    pub fn describe(&self) -> String {
        match self {
            JobOutcome::Sent => "sent".to_owned(),
            JobOutcome::Done(note) => note.clone(),
            JobOutcome::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// Why a job did not finish: worth retrying (with back-off, until its attempts are used
/// up), or hopeless (straight to the dead-letter state). The reason is stored with the
/// job: no personal data in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    Retry(String),
    Permanent(String),
}

impl From<StoreError> for JobFailure {
    fn from(error: StoreError) -> Self {
        // Store failures carry no personal data; unavailability is retried.
        JobFailure::Retry(format!("store: {error}"))
    }
}

/// Runs the jobs of one kind, inside the job's tenant.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The payload; its `KIND` is the kind this handler runs.
    type Job: Job;

    async fn run(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        payload: Self::Job,
    ) -> Result<JobOutcome, JobFailure>;
}

/// A job enqueued once a day for every active tenant (the overdue digest, the review
/// dates), at a moment of that day.
pub trait DailyJob: Send + Sync + 'static {
    /// When the job of `date` is due.
    fn due_at(&self, date: Date) -> OffsetDateTime;
    /// The job of `date`; its dedupe key makes it once per tenant and date.
    fn job(&self, date: Date) -> EncodedJob;
}

/// A handler with its payload type erased, for the registry.
#[async_trait::async_trait]
trait Dispatch: Send + Sync {
    async fn dispatch(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
    ) -> Result<JobOutcome, JobFailure>;
}

struct Typed<H>(H);

#[async_trait::async_trait]
impl<H: JobHandler> Dispatch for Typed<H> {
    async fn dispatch(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
    ) -> Result<JobOutcome, JobFailure> {
        let payload = job
            .decode::<H::Job>()
            .map_err(|problem| JobFailure::Permanent(format!("unreadable payload: {problem}")))?;
        self.0.run(scope, job, payload).await
    }
}

/// A kind was registered twice (a wiring mistake, reported at start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job kind `{0}` has two handlers")]
pub struct DuplicateKind(pub &'static str);

/// The job kinds this process runs: one handler per kind, and the daily jobs.
#[derive(Default, Clone)]
pub struct JobRegistry {
    handlers: BTreeMap<&'static str, Arc<dyn Dispatch>>,
    daily: Vec<Arc<dyn DailyJob>>,
}

impl JobRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for its payload's kind.
    pub fn register<H: JobHandler>(&mut self, handler: H) -> Result<&mut Self, DuplicateKind> {
        let kind = <H::Job as Job>::KIND;
        if self.handlers.contains_key(kind) {
            return Err(DuplicateKind(kind));
        }
        self.handlers.insert(kind, Arc::new(Typed(handler)));
        Ok(self)
    }

    /// Adds a job the worker enqueues once a day for every active tenant.
    pub fn daily(&mut self, job: impl DailyJob) -> &mut Self {
        self.daily.push(Arc::new(job));
        self
    }

    /// The registered kinds, in name order.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.handlers.keys().copied()
    }

    pub(crate) fn daily_jobs(&self) -> &[Arc<dyn DailyJob>] {
        &self.daily
    }

    /// Runs `job` with the handler of its kind. A kind without a handler is retried
    /// (another worker, of a newer release, may know it) and dead-lettered once its
    /// attempts are used up.
    pub async fn run(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
    ) -> Result<JobOutcome, JobFailure> {
        match self.handlers.get(job.kind.as_str()) {
            Some(handler) => handler.dispatch(scope, job).await,
            None => Err(JobFailure::Retry(format!(
                "no handler for job kind `{}`",
                crate::queue::short(&job.kind)
            ))),
        }
    }
}
