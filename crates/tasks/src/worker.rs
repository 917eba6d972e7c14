//! The background worker's use case: one pass schedules the day's digests, leases a batch
//! of due jobs across tenants (system scope) and runs each inside its own tenant's scope.
//! The loop around it (timing, shutdown) belongs to the binaries.
//!
//! Delivery is at-least-once with a lease: a job is finished only by the worker holding
//! its lease, and a worker that dies leaves the lease to expire and the job to be claimed
//! again. Every job re-reads its task before mailing, so a reminder for a task that was
//! completed, rescheduled or reassigned in the meantime is skipped, not sent.

use std::sync::{Arc, Mutex};

use aura_identity::{
    User,
    ports::{Mailer, TenantRepository, UserRepository},
};
use aura_tenancy::{Clock, PageRequest, StoreError, SystemScope, Tenant, TenantScope, UserId};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    jobs::{ClaimedJob, JobPayload, JobQueue, NewJob, RetryPolicy},
    messages::{self, Addressee, OverdueLine},
    ports::{TaskQuery, TaskRepository, TaskSort},
    reminders::ReminderPolicy,
};

#[derive(Clone)]
pub struct WorkerPorts {
    pub queue: Arc<dyn JobQueue>,
    pub tasks: Arc<dyn TaskRepository>,
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub mailer: Arc<dyn Mailer>,
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
    /// Link to a task in mails; `{id}` is replaced by the task id.
    pub task_link: String,
    /// Overdue tasks listed in one digest (the rest are counted).
    pub digest_lines: usize,
    pub reminders: ReminderPolicy,
    pub retry: RetryPolicy,
}

/// What a finished job did (stored with the job for operators; no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Sent,
    Enqueued(u64),
    Skipped(&'static str),
}

impl JobOutcome {
    pub fn describe(&self) -> String {
        match self {
            JobOutcome::Sent => "sent".to_owned(),
            JobOutcome::Enqueued(n) => format!("enqueued {n} digest mails"),
            JobOutcome::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// Why a job did not finish: worth retrying, or hopeless (straight to dead-letter).
enum Failure {
    Retry(String),
    Permanent(String),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        // Store failures carry no personal data; unavailability is retried.
        Failure::Retry(format!("store: {error}"))
    }
}

pub struct Worker {
    ports: WorkerPorts,
    settings: WorkerSettings,
    /// The last date whose digests this worker scheduled (scheduling is idempotent; this
    /// only saves the query on every pass).
    digests_scheduled: Mutex<Option<Date>>,
}

impl Worker {
    pub fn new(ports: WorkerPorts, settings: WorkerSettings) -> Self {
        Self {
            ports,
            settings,
            digests_scheduled: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    /// One pass. Returns how many jobs it ran (0: the queue had nothing due).
    pub async fn run_once(&self, system: &SystemScope) -> Result<usize, StoreError> {
        let now = self.ports.clock.now();
        self.schedule_digests(system, now).await?;
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
        for job in &jobs {
            self.run(system, job).await?;
        }
        Ok(jobs.len())
    }

    async fn schedule_digests(
        &self,
        system: &SystemScope,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let today = now.date();
        let at = self.settings.reminders.digest_moment(today);
        let done = *self
            .digests_scheduled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if now < at || done == Some(today) {
            return Ok(());
        }
        let added = self
            .ports
            .queue
            .schedule_digests(system, today, at, self.settings.retry.max_attempts)
            .await?;
        tracing::info!(date = %today, added, "overdue digests scheduled");
        *self
            .digests_scheduled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(today);
        Ok(())
    }

    async fn run(&self, system: &SystemScope, job: &ClaimedJob) -> Result<(), StoreError> {
        let scope = system.within(job.tenant_id);
        let result = match &job.payload {
            Ok(payload) => self.handle(&scope, job.id, payload).await,
            Err(problem) => Err(Failure::Permanent(format!("unreadable payload: {problem}"))),
        };
        let now = self.ports.clock.now();
        let queue = &self.ports.queue;
        let kept = match &result {
            Ok(outcome) => {
                tracing::info!(job = %job.id, attempt = job.attempts, outcome = %outcome.describe(), "job done");
                queue
                    .complete(&scope, job, &outcome.describe(), now)
                    .await?
            }
            Err(Failure::Retry(reason)) => {
                let retry_at = self
                    .settings
                    .retry
                    .retry_at(job.attempts, job.max_attempts, now);
                tracing::warn!(job = %job.id, attempt = job.attempts, reason = %reason, dead = retry_at.is_none(), "job failed");
                queue.fail(&scope, job, reason, retry_at, now).await?
            }
            Err(Failure::Permanent(reason)) => {
                tracing::warn!(job = %job.id, reason = %reason, "job failed for good");
                queue.fail(&scope, job, reason, None, now).await?
            }
        };
        if !kept {
            tracing::warn!(job = %job.id, "lease lost before the job finished; another worker owns it now");
        }
        Ok(())
    }

    async fn handle(
        &self,
        scope: &TenantScope,
        job: Uuid,
        payload: &JobPayload,
    ) -> Result<JobOutcome, Failure> {
        let tenant = match self.ports.tenants.get(scope).await {
            Ok(tenant) if tenant.is_active => tenant,
            Ok(_) => return Ok(JobOutcome::Skipped("organisation suspended")),
            Err(StoreError::NotFound) => return Ok(JobOutcome::Skipped("organisation gone")),
            Err(other) => return Err(other.into()),
        };
        match payload {
            JobPayload::TaskReminder {
                task,
                due_date,
                days_before,
                assignee,
            } => {
                self.remind(scope, &tenant, *task, *due_date, *days_before, *assignee)
                    .await
            }
            JobPayload::OverdueDigest { date } => self.fan_out_digest(scope, job, *date).await,
            JobPayload::DigestMail { date, recipient } => {
                self.send_digest(scope, &tenant, *date, *recipient).await
            }
        }
    }

    async fn recipient(&self, scope: &TenantScope, id: UserId) -> Result<Option<User>, Failure> {
        match self.ports.users.get(scope, id).await {
            Ok(user) if user.is_active => Ok(Some(user)),
            Ok(_) | Err(StoreError::NotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    async fn send(&self, mail: aura_identity::mail::OutgoingMail) -> Result<JobOutcome, Failure> {
        self.ports
            .mailer
            .send(mail)
            .await
            .map(|()| JobOutcome::Sent)
            .map_err(|error| Failure::Retry(error.to_string()))
    }

    async fn remind(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        task_id: Uuid,
        due_date: Date,
        days_before: u16,
        assignee: UserId,
    ) -> Result<JobOutcome, Failure> {
        let task = match self.ports.tasks.get(scope, task_id).await {
            Ok(task) => task,
            Err(StoreError::NotFound) => return Ok(JobOutcome::Skipped("task deleted")),
            Err(other) => return Err(other.into()),
        };
        if !task.status.is_active() {
            return Ok(JobOutcome::Skipped("task no longer open"));
        }
        if task.fields.due_date != Some(due_date) || task.fields.assigned_to != Some(assignee) {
            return Ok(JobOutcome::Skipped("task rescheduled or reassigned"));
        }
        let Some(user) = self.recipient(scope, assignee).await? else {
            return Ok(JobOutcome::Skipped("assignee inactive or removed"));
        };
        let link = self
            .settings
            .task_link
            .replace("{id}", &task.id.to_string());
        let today = due_date - Duration::days(i64::from(days_before));
        let mail = messages::reminder(
            Addressee {
                email: user.email.clone(),
                name: user.full_name.as_str(),
                organisation: tenant.name.as_str(),
                language: tenant.settings.language(),
            },
            &task,
            due_date,
            today,
            &link,
        );
        self.send(mail).await
    }

    async fn overdue(
        &self,
        scope: &TenantScope,
        date: Date,
        limit: usize,
    ) -> Result<Vec<crate::task::Task>, Failure> {
        let query = TaskQuery {
            overdue_on: Some(date),
            sort: TaskSort::DueDate,
            limit,
            ..TaskQuery::default()
        };
        Ok(self.ports.tasks.list(scope, &query).await?.items)
    }

    /// Owners and admins of the tenant who can receive mail.
    async fn administrators(&self, scope: &TenantScope) -> Result<Vec<User>, Failure> {
        let mut found = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let users = self.ports.users.list(scope, page).await?;
            found.extend(
                users
                    .items
                    .into_iter()
                    .filter(|u| u.is_active && u.role.is_privileged()),
            );
            match users.next_cursor {
                Some(after) => page.after = Some(after),
                None => return Ok(found),
            }
        }
    }

    async fn fan_out_digest(
        &self,
        scope: &TenantScope,
        job: Uuid,
        date: Date,
    ) -> Result<JobOutcome, Failure> {
        if self.overdue(scope, date, 1).await?.is_empty() {
            return Ok(JobOutcome::Skipped("nothing overdue"));
        }
        let run_at = self.ports.clock.now();
        let mails: Vec<NewJob> = self
            .administrators(scope)
            .await?
            .into_iter()
            .map(|user| NewJob {
                id: Uuid::now_v7(),
                tenant_id: scope.tenant_id(),
                payload: JobPayload::DigestMail {
                    date,
                    recipient: user.id,
                },
                run_at,
                max_attempts: self.settings.retry.max_attempts,
            })
            .collect();
        let added = self.ports.queue.enqueue(scope, &mails).await?;
        tracing::debug!(%job, added, "digest mails enqueued");
        Ok(JobOutcome::Enqueued(added))
    }

    async fn send_digest(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        date: Date,
        recipient: UserId,
    ) -> Result<JobOutcome, Failure> {
        let Some(user) = self.recipient(scope, recipient).await? else {
            return Ok(JobOutcome::Skipped("recipient inactive or removed"));
        };
        if !user.role.is_privileged() {
            return Ok(JobOutcome::Skipped("recipient no longer owner or admin"));
        }
        // One more than shown, to know whether "… and N more" is needed; the full count
        // comes from a bounded second read only then.
        let shown = self.settings.digest_lines.max(1);
        let mut tasks = self.overdue(scope, date, shown + 1).await?;
        if tasks.is_empty() {
            return Ok(JobOutcome::Skipped("nothing overdue any more"));
        }
        let total = if tasks.len() > shown {
            self.overdue(scope, date, 10_000).await?.len()
        } else {
            tasks.len()
        };
        tasks.truncate(shown);
        let mut names: Vec<(UserId, String)> = Vec::new();
        for assignee in tasks.iter().filter_map(|t| t.fields.assigned_to) {
            if !names.iter().any(|(id, _)| *id == assignee)
                && let Some(user) = self.recipient(scope, assignee).await?
            {
                names.push((assignee, user.full_name.as_str().to_owned()));
            }
        }
        let lines: Vec<OverdueLine<'_>> = tasks
            .iter()
            .filter_map(|task| {
                Some(OverdueLine {
                    title: &task.fields.title,
                    due: task.fields.due_date?,
                    assignee: task.fields.assigned_to.and_then(|a| {
                        names
                            .iter()
                            .find(|(id, _)| *id == a)
                            .map(|(_, name)| name.as_str())
                    }),
                })
            })
            .collect();
        let mail = messages::digest(
            Addressee {
                email: user.email.clone(),
                name: user.full_name.as_str(),
                organisation: tenant.name.as_str(),
                language: tenant.settings.language(),
            },
            &lines,
            total,
        );
        self.send(mail).await
    }
}
