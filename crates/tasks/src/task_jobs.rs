//! The tasks domain's job kinds: a task's reminders, the daily overdue digest (one job
//! per tenant that fans out to one mail per owner and admin) and the mails themselves,
//! with their handlers. [`register`] adds them to the process's [`JobRegistry`].
//!
//! Every job re-reads what it mails about, so a reminder for a task that was completed,
//! rescheduled or reassigned in the meantime is skipped, not sent.

use std::sync::Arc;

use aura_identity::{
    User,
    ports::{Mailer, TenantRepository, UserRepository},
};
use aura_jobs::{
    ClaimedJob, DailyJob, DuplicateKind, EncodedJob, Job, JobFailure, JobHandler, JobOutcome,
    JobQueue, JobRegistry, NewJob, RetryPolicy,
};
use aura_records::Id;
use aura_shared_kernel::{Clock, PageRequest, StoreError, Tenant, TenantScope, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    messages::{self, Addressee, OverdueLine},
    ports::{TaskFilter, TaskQuery, TaskRepository, TaskSort},
    reminders::ReminderPolicy,
};

/// Remind the assignee of `task`, `days_before` its due date. The due date and assignee
/// the reminder was planned for travel along: a reminder whose task has moved on since
/// is skipped, not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReminder {
    pub task: Uuid,
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub due_date: Date,
    pub days_before: u16,
    pub assignee: UserId,
}

impl Job for TaskReminder {
    const KIND: &'static str = "task_reminder";
    fn dedupe_key(&self) -> String {
        let Self {
            task,
            due_date,
            days_before,
            assignee,
        } = self;
        format!("reminder:{task}:{due_date}:{days_before}:{assignee}")
    }
    fn subject(&self) -> Option<Uuid> {
        Some(self.task)
    }
}

/// Find out whether the tenant has overdue tasks on `date` and, if so, enqueue one
/// [`DigestMail`] per owner and admin (one mail per job, so a failure for one recipient
/// never resends to another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueDigest {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
}

impl Job for OverdueDigest {
    const KIND: &'static str = "overdue_digest";
    fn dedupe_key(&self) -> String {
        format!("digest:{}", self.date)
    }
}

/// Send the overdue digest of `date` to `recipient`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestMail {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
    pub recipient: UserId,
}

impl Job for DigestMail {
    const KIND: &'static str = "digest_mail";
    fn dedupe_key(&self) -> String {
        format!("digest:{}:{}", self.date, self.recipient)
    }
}

/// What the tasks domain's jobs use.
#[derive(Clone)]
pub struct TaskJobPorts {
    pub queue: Arc<dyn JobQueue>,
    pub tasks: Arc<dyn TaskRepository>,
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    /// What other domains add to the overdue digest (data-subject requests), one
    /// section each after the tasks'.
    pub sections: Vec<Arc<dyn DigestSection>>,
}

/// A part of the daily overdue digest that another domain writes: its heading and
/// lines in the recipient's language. No personal data of anyone but users in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestPart {
    pub heading: String,
    pub lines: Vec<String>,
    /// How many are overdue in all (the lines show at most the digest's limit).
    pub total: usize,
}

/// A domain's overdue work for the daily digest: one digest mail per recipient carries
/// every domain's section, so nobody gets one mail per kind.
#[async_trait::async_trait]
pub trait DigestSection: Send + Sync {
    /// The section of what is overdue on `date` (due before it and still open), at most
    /// `shown` lines, in `language`; `None` when nothing is.
    async fn overdue(
        &self,
        scope: &TenantScope,
        date: Date,
        shown: usize,
        language: &str,
    ) -> Result<Option<DigestPart>, StoreError>;
}

#[derive(Debug, Clone)]
pub struct TaskJobSettings {
    /// Link to a task in mails; `{id}` is replaced by the task id.
    pub task_link: String,
    /// Overdue tasks listed in one digest (the rest are counted).
    pub digest_lines: usize,
    pub reminders: ReminderPolicy,
    pub retry: RetryPolicy,
}

/// Registers the reminder, digest and digest-mail handlers and the daily digest.
pub fn register(
    registry: &mut JobRegistry,
    ports: TaskJobPorts,
    settings: TaskJobSettings,
) -> Result<(), DuplicateKind> {
    let mailing = Arc::new(Mailing { ports, settings });
    registry
        .register(Reminders(mailing.clone()))?
        .register(Digests(mailing.clone()))?
        .register(DigestMails(mailing.clone()))?
        .daily(DailyDigest(mailing.settings.reminders.clone()));
    Ok(())
}

/// The overdue digest, once a day at the reminders' time.
struct DailyDigest(ReminderPolicy);

impl DailyJob for DailyDigest {
    fn due_at(&self, date: Date) -> OffsetDateTime {
        self.0.digest_moment(date)
    }
    fn job(&self, date: Date) -> EncodedJob {
        EncodedJob::of(&OverdueDigest { date })
    }
}

struct Reminders(Arc<Mailing>);
struct Digests(Arc<Mailing>);
struct DigestMails(Arc<Mailing>);

#[async_trait::async_trait]
impl JobHandler for Reminders {
    type Job = TaskReminder;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        reminder: TaskReminder,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |tenant| async move {
            self.0.remind(scope, &tenant, reminder).await
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobHandler for Digests {
    type Job = OverdueDigest;
    async fn run(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        digest: OverdueDigest,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |_| {
            self.0.fan_out_digest(scope, job.id, digest.date)
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobHandler for DigestMails {
    type Job = DigestMail;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        mail: DigestMail,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |tenant| async move {
            (self
                .0
                .send_digest(scope, &tenant, mail.date, mail.recipient))
            .await
        })
        .await
    }
}

// The job's tenant if active, and a mail's recipient if active: shared by every
// domain's mail jobs, identity's own included.
pub use aura_identity::mail_jobs::{active_tenant, recipient};

/// Runs `job` with the job's tenant if it is active; otherwise answers the outcome that
/// skips the job (see [`active_tenant`]).
pub async fn with_active_tenant<F: Future<Output = Result<JobOutcome, JobFailure>>>(
    tenants: &dyn TenantRepository,
    scope: &TenantScope,
    job: impl FnOnce(Tenant) -> F,
) -> Result<JobOutcome, JobFailure> {
    match active_tenant(tenants, scope).await? {
        Ok(tenant) => job(tenant).await,
        Err(skipped) => Ok(skipped),
    }
}

/// The names of the users a digest's lines are assigned to, each read once. Shared by
/// every domain's digest.
#[derive(Debug, Default)]
pub struct AssigneeNames(Vec<(UserId, String)>);

impl AssigneeNames {
    /// Reads the name of each of `assignees` once: of every user still stored, or with
    /// `active_only` of the active ones only (a line of any other shows no name).
    pub async fn read(
        users: &dyn UserRepository,
        scope: &TenantScope,
        assignees: Vec<UserId>,
        active_only: bool,
    ) -> Result<Self, StoreError> {
        let mut names: Vec<(UserId, String)> = Vec::new();
        for assignee in assignees {
            if names.iter().any(|(id, _)| *id == assignee) {
                continue;
            }
            match users.get(scope, assignee).await {
                Ok(user) if user.is_active || !active_only => {
                    names.push((assignee, user.full_name.as_str().to_owned()));
                }
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(Self(names))
    }

    /// The name of `assignee`, if it was read.
    pub fn of(&self, assignee: Option<UserId>) -> Option<&str> {
        let assignee = assignee?;
        self.0
            .iter()
            .find(|(id, _)| *id == assignee)
            .map(|(_, name)| name.as_str())
    }

    /// The digest lines of `items`: `line` says each one's label, due date and assignee;
    /// an item without a due date is left out.
    pub fn lines<'a, T>(
        &'a self,
        items: &'a [T],
        line: impl Fn(&'a T) -> (&'a str, Option<Date>, Option<UserId>),
    ) -> Vec<OverdueLine<'a>> {
        items
            .iter()
            .filter_map(|item| {
                let (label, due, assignee) = line(item);
                Some(OverdueLine {
                    label,
                    due: due?,
                    assignee: self.of(assignee),
                })
            })
            .collect()
    }
}

/// Sends `mail`: sent, or a failure the queue retries.
pub async fn send(
    mailer: &dyn Mailer,
    mail: aura_identity::mail::OutgoingMail,
) -> Result<JobOutcome, JobFailure> {
    mailer
        .send(mail)
        .await
        .map(|()| JobOutcome::Sent)
        .map_err(|error| JobFailure::Retry(error.to_string()))
}

/// One mail job per recipient (`mail` of each), to run at `run_at` with the retry
/// policy's attempts: a failed delivery retries one mail, never the others.
pub fn mails_to<J: Job>(
    scope: &TenantScope,
    recipients: impl IntoIterator<Item = UserId>,
    run_at: OffsetDateTime,
    retry: &RetryPolicy,
    mail: impl Fn(UserId) -> J,
) -> Vec<NewJob> {
    (recipients.into_iter())
        .map(|recipient| {
            NewJob::of(
                scope.tenant_id(),
                &mail(recipient),
                run_at,
                retry.max_attempts,
            )
        })
        .collect()
}

/// Owners and admins of the tenant who can receive mail (and be given work).
pub async fn administrators(
    users: &dyn UserRepository,
    scope: &TenantScope,
) -> Result<Vec<User>, StoreError> {
    let mut found = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let listed = users.list(scope, page).await?;
        found.extend(
            listed
                .items
                .into_iter()
                .filter(|u| u.is_active && u.role.is_privileged()),
        );
        match listed.next_cursor {
            Some(after) => page.after = Some(after),
            None => return Ok(found),
        }
    }
}

struct Mailing {
    ports: TaskJobPorts,
    settings: TaskJobSettings,
}

impl Mailing {
    async fn remind(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        reminder: TaskReminder,
    ) -> Result<JobOutcome, JobFailure> {
        let TaskReminder {
            task: task_id,
            due_date,
            days_before,
            assignee,
        } = reminder;
        let task = match self.ports.tasks.get(scope, Id::from_uuid(task_id)).await {
            Ok(task) => task,
            Err(StoreError::NotFound) => return Ok(JobOutcome::Skipped("task deleted")),
            Err(other) => return Err(other.into()),
        };
        if !task.fields.status.is_active() {
            return Ok(JobOutcome::Skipped("task no longer open"));
        }
        if task.fields.due_date != Some(due_date) || task.fields.assigned_to != Some(assignee) {
            return Ok(JobOutcome::Skipped("task rescheduled or reassigned"));
        }
        let Some(user) = recipient(self.ports.users.as_ref(), scope, assignee).await? else {
            return Ok(JobOutcome::Skipped("assignee inactive or removed"));
        };
        let link = self
            .settings
            .task_link
            .replace("{id}", &task.id.to_string());
        // The day the reminder was planned for (a late delivery still names the due
        // date itself in the text).
        let today = due_date - Duration::days(i64::from(days_before));
        let mail = messages::reminder(Addressee::of(&user, tenant), &task, due_date, today, &link);
        send(self.ports.mailer.as_ref(), mail).await
    }

    async fn overdue(
        &self,
        scope: &TenantScope,
        date: Date,
        limit: usize,
    ) -> Result<Vec<crate::task::Task>, JobFailure> {
        let query = TaskQuery {
            filter: TaskFilter {
                overdue_on: Some(date),
                ..TaskFilter::default()
            },
            sort: TaskSort::DueDate,
            limit,
            ..TaskQuery::default()
        };
        Ok(self.ports.tasks.list(scope, &query).await?.items)
    }

    async fn fan_out_digest(
        &self,
        scope: &TenantScope,
        job: Uuid,
        date: Date,
    ) -> Result<JobOutcome, JobFailure> {
        if self.overdue(scope, date, 1).await?.is_empty()
            && self.sections(scope, date, 1, "en").await?.is_empty()
        {
            return Ok(JobOutcome::Skipped("nothing overdue"));
        }
        let run_at = self.ports.clock.now();
        let admins = administrators(self.ports.users.as_ref(), scope).await?;
        let mails = mails_to(
            scope,
            admins.iter().map(|user| user.id),
            run_at,
            &self.settings.retry,
            |recipient| DigestMail { date, recipient },
        );
        let added = self.ports.queue.enqueue(scope, &mails).await?;
        tracing::debug!(%job, added, "digest mails enqueued");
        Ok(JobOutcome::Done(format!("enqueued {added} digest mails")))
    }

    async fn send_digest(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        date: Date,
        recipient: UserId,
    ) -> Result<JobOutcome, JobFailure> {
        let Some(user) = self::recipient(self.ports.users.as_ref(), scope, recipient).await? else {
            return Ok(JobOutcome::Skipped("recipient inactive or removed"));
        };
        if !user.role.is_privileged() {
            return Ok(JobOutcome::Skipped("recipient no longer owner or admin"));
        }
        // One more than shown, to know whether "… and N more" is needed; the full count
        // comes from a bounded second read only then.
        let shown = self.settings.digest_lines.max(1);
        let mut tasks = self.overdue(scope, date, shown + 1).await?;
        let language = tenant.settings.language();
        let sections = self.sections(scope, date, shown, language).await?;
        if tasks.is_empty() && sections.is_empty() {
            return Ok(JobOutcome::Skipped("nothing overdue any more"));
        }
        let total = if tasks.len() > shown {
            self.overdue(scope, date, 10_000).await?.len()
        } else {
            tasks.len()
        };
        tasks.truncate(shown);
        let assignees: Vec<UserId> = tasks.iter().filter_map(|t| t.fields.assigned_to).collect();
        let names = AssigneeNames::read(self.ports.users.as_ref(), scope, assignees, true).await?;
        let lines = names.lines(&tasks, |task| {
            let f = &task.fields;
            (f.title.as_str(), f.due_date, f.assigned_to)
        });
        let mail = messages::digest(Addressee::of(&user, tenant), &lines, total, &sections);
        send(self.ports.mailer.as_ref(), mail).await
    }

    /// The other domains' digest sections that have something overdue.
    async fn sections(
        &self,
        scope: &TenantScope,
        date: Date,
        shown: usize,
        language: &str,
    ) -> Result<Vec<DigestPart>, JobFailure> {
        let mut parts = Vec::new();
        for section in &self.ports.sections {
            if let Some(part) = section.overdue(scope, date, shown, language).await? {
                parts.push(part);
            }
        }
        Ok(parts)
    }
}
