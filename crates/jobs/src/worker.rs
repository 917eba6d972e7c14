//! The background worker's use case: one pass enqueues the day's daily jobs, leases a
//! batch of due jobs across tenants (system scope) and runs each inside its own tenant's
//! scope with the handler registered for its kind. The loop around it (timing, shutdown)
//! belongs to the binaries.
//!
//! Delivery is at-least-once with a lease: a job is finished only by the worker holding
//! its lease, and a worker that dies leaves the lease to expire and the job to be claimed
//! again. Handlers re-read what they act on, so a job whose reason went away is skipped.

use std::sync::{Arc, Mutex};

use aura_shared_kernel::{Clock, StoreError, SystemScope};
use time::{Date, Duration, OffsetDateTime};

use crate::{
    handler::{JobFailure, JobRegistry},
    queue::{ClaimedJob, JobQueue, RetryPolicy},
};

#[derive(Clone)]
pub struct WorkerPorts {
    pub queue: Arc<dyn JobQueue>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Names the worker in leases (host and process, for operators).
    pub worker_id: String,
    /// How long a claimed job is this worker's; longer than any one job takes.
    pub lease: Duration,
    /// Jobs claimed per pass.
    pub batch: usize,
    pub retry: RetryPolicy,
}

/// How much of a lease must be left to start a job (at most half the lease).
const LEASE_MARGIN: Duration = Duration::seconds(30);

pub struct Worker {
    ports: WorkerPorts,
    settings: WorkerSettings,
    jobs: JobRegistry,
    /// Per daily job, the last date this worker scheduled (scheduling is idempotent;
    /// this only saves the query on every pass).
    scheduled: Mutex<Vec<Option<Date>>>,
}

impl Worker {
    pub fn new(ports: WorkerPorts, settings: WorkerSettings, jobs: JobRegistry) -> Self {
        let scheduled = Mutex::new(vec![None; jobs.daily_jobs().len()]);
        Self {
            ports,
            settings,
            jobs,
            scheduled,
        }
    }

    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    pub fn jobs(&self) -> &JobRegistry {
        &self.jobs
    }

    /// One pass. Returns how many jobs it ran (0: the queue had nothing due).
    pub async fn run_once(&self, system: &SystemScope) -> Result<usize, StoreError> {
        let now = self.ports.clock.now();
        self.schedule_daily(system, now).await?;
        let jobs = self
            .ports
            .queue
            .claim(
                system,
                &self.settings.worker_id,
                now,
                self.settings.lease,
                self.settings.batch,
            )
            .await?;
        // A batch shares one lease. Once little of it is left, another worker may soon
        // hold the remaining jobs: leave them to be claimed again rather than risk a
        // second send. The margin covers one job (an SMTP exchange times out within it).
        let margin = LEASE_MARGIN.min(self.settings.lease / 2);
        let lease_ends = now + self.settings.lease;
        for (done, job) in jobs.iter().enumerate() {
            if self.ports.clock.now() + margin >= lease_ends {
                tracing::warn!(
                    left = jobs.len() - done,
                    "lease nearly over; the rest of the batch will be claimed again"
                );
                return Ok(done);
            }
            self.run(system, job).await?;
        }
        Ok(jobs.len())
    }

    async fn schedule_daily(
        &self,
        system: &SystemScope,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let today = now.date();
        for (index, daily) in self.jobs.daily_jobs().iter().enumerate() {
            // The latest run that is due: today's once its hour has come, yesterday's
            // before that — so a worker started (or a tenant created) before today's hour
            // still gets the run it missed. The queue's dedupe key keeps each run once.
            let Some(date) = [Some(today), today.previous_day()]
                .into_iter()
                .flatten()
                .find(|date| daily.due_at(*date) <= now)
            else {
                continue;
            };
            let at = daily.due_at(date);
            let done = self
                .scheduled
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get(index)
                .copied()
                .flatten();
            if done == Some(date) {
                continue;
            }
            let job = daily.job(date);
            let added = self
                .ports
                .queue
                .schedule_for_active_tenants(system, &job, at, self.settings.retry.max_attempts)
                .await?;
            tracing::info!(%date, kind = %job.kind, added, "daily jobs scheduled");
            if let Some(slot) = self
                .scheduled
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get_mut(index)
            {
                *slot = Some(date);
            }
        }
        Ok(())
    }

    async fn run(&self, system: &SystemScope, job: &ClaimedJob) -> Result<(), StoreError> {
        let scope = system.within(job.tenant_id);
        let result = self.jobs.run(&scope, job).await;
        let now = self.ports.clock.now();
        let queue = &self.ports.queue;
        let kept = match &result {
            Ok(outcome) => {
                tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, outcome = %outcome.describe(), "job done");
                queue
                    .complete(&scope, job, &outcome.describe(), now)
                    .await?
            }
            Err(JobFailure::Retry(reason)) => {
                let retry_at = self
                    .settings
                    .retry
                    .retry_at(job.attempts, job.max_attempts, now);
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, reason = %reason, dead = retry_at.is_none(), "job failed");
                queue.fail(&scope, job, reason, retry_at, now).await?
            }
            Err(JobFailure::Permanent(reason)) => {
                tracing::warn!(job = %job.id, kind = %job.kind, reason = %reason, "job failed for good");
                queue.fail(&scope, job, reason, None, now).await?
            }
        };
        if !kept {
            tracing::warn!(job = %job.id, "lease lost before the job finished; another worker owns it now");
        }
        Ok(())
    }
}
