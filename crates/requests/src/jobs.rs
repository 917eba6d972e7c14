//! The requests' job kinds and their handlers on the open queue, registered with
//! [`register`]: the assignee's reminders and the "extend or answer" warning (planned on
//! every write, [`crate::reminders`]), the daily pseudonymisation
//! ([`crate::pseudonym`]), and the requests' section of the tasks' daily overdue digest
//! ([`OverdueRequests`], one digest mail for both).
//!
//! As the tasks' jobs do, every job re-reads the request before it mails: one planned
//! for a due date, assignee or status that has moved on is skipped. The shared pieces
//! (the tenant check, the administrators, the mail rendering) are the tasks' own.

use std::sync::Arc;

use aura_identity::ports::{Mailer, TenantRepository, UserRepository};
use aura_jobs::{
    ClaimedJob, DailyJob, DuplicateKind, EncodedJob, JobFailure, JobHandler, JobOutcome, JobQueue,
    JobRegistry, RetryPolicy,
};
use aura_records::{Id, ListQuery, RecordStore, RecordUseCases};
use aura_shared_kernel::{Clock, StoreError, Tenant, TenantScope, UserId};
use aura_tasks::{
    AssigneeNames, DigestPart, DigestSection, administrators, mails_to, messages::Addressee,
    recipient, send_mail, with_active_tenant,
};
use time::{Date, Duration, OffsetDateTime};

use crate::{
    messages,
    pseudonym::{PseudonymiseClosed, pseudonymise_closed, retention_cutoff},
    reminders::{ExtendOrAnswer, ExtendOrAnswerMail, RequestReminder, RequestReminderPolicy},
    request::{DataSubjectRequest, RequestFilter, Requests},
    settings::RequestSettings,
    store::RequestRepository,
};

/// What the requests' jobs use.
#[derive(Clone)]
pub struct RequestJobPorts {
    pub queue: Arc<dyn JobQueue>,
    /// The register's store (reads).
    pub requests: Arc<dyn RecordStore<Requests>>,
    /// The register's use cases (the pseudonymisation writes through them).
    pub cases: RecordUseCases<Requests>,
    pub repository: Arc<dyn RequestRepository>,
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone)]
pub struct RequestJobSettings {
    /// Link to a request in mails; `{id}` is replaced by the request id.
    pub request_link: String,
    pub reminders: RequestReminderPolicy,
    pub retry: RetryPolicy,
}

/// Registers the reminder, warning and pseudonymisation handlers and the daily
/// pseudonymisation.
pub fn register(
    registry: &mut JobRegistry,
    ports: RequestJobPorts,
    settings: RequestJobSettings,
) -> Result<(), DuplicateKind> {
    let daily = DailyPseudonymisation(settings.reminders.reminders.clone());
    let jobs = Arc::new(RequestMailing { ports, settings });
    registry
        .register(Reminders(jobs.clone()))?
        .register(Warnings(jobs.clone()))?
        .register(WarningMails(jobs.clone()))?
        .register(Pseudonymisation(jobs))?
        .daily(daily);
    Ok(())
}

/// The pseudonymisation, once a day at the reminders' time.
struct DailyPseudonymisation(aura_tasks::ReminderPolicy);

impl DailyJob for DailyPseudonymisation {
    fn due_at(&self, date: Date) -> OffsetDateTime {
        self.0.digest_moment(date)
    }
    fn job(&self, date: Date) -> EncodedJob {
        EncodedJob::of(&PseudonymiseClosed { date })
    }
}

struct RequestMailing {
    ports: RequestJobPorts,
    settings: RequestJobSettings,
}

struct Reminders(Arc<RequestMailing>);
struct Warnings(Arc<RequestMailing>);
struct WarningMails(Arc<RequestMailing>);
struct Pseudonymisation(Arc<RequestMailing>);

#[async_trait::async_trait]
impl JobHandler for Reminders {
    type Job = RequestReminder;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        reminder: RequestReminder,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |tenant| async move {
            self.0.remind(scope, &tenant, reminder).await
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobHandler for Warnings {
    type Job = ExtendOrAnswer;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        warning: ExtendOrAnswer,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |_| {
            self.0.fan_out_warning(scope, warning)
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobHandler for WarningMails {
    type Job = ExtendOrAnswerMail;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        mail: ExtendOrAnswerMail,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |tenant| async move {
            self.0.send_warning(scope, &tenant, mail).await
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobHandler for Pseudonymisation {
    type Job = PseudonymiseClosed;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        _daily: PseudonymiseClosed,
    ) -> Result<JobOutcome, JobFailure> {
        let ports = &self.0.ports;
        with_active_tenant(ports.tenants.as_ref(), scope, |tenant| async move {
            let years = RequestSettings::read(&tenant.settings).retention_years;
            let cutoff = retention_cutoff(ports.clock.now(), years);
            let repository = ports.repository.as_ref();
            match pseudonymise_closed(&ports.cases, repository, scope, cutoff).await {
                Ok(0) => Ok(JobOutcome::Skipped("nothing to pseudonymise")),
                Ok(done) => Ok(JobOutcome::Done(format!("pseudonymised {done} requests"))),
                // Use-case errors name rules and fields, never values.
                Err(error) => Err(JobFailure::Retry(format!("pseudonymisation: {error}"))),
            }
        })
        .await
    }
}

/// Why a request's job is skipped, if it is: gone, no longer open, or moved on.
enum Current {
    Open(Box<DataSubjectRequest>),
    Skip(&'static str),
}

impl RequestMailing {
    async fn current(&self, scope: &TenantScope, id: uuid::Uuid) -> Result<Current, JobFailure> {
        match self.ports.requests.get(scope, Id::from_uuid(id)).await {
            Ok(request) if request.derived.status.is_open() => Ok(Current::Open(Box::new(request))),
            Ok(_) => Ok(Current::Skip("request no longer open")),
            Err(StoreError::NotFound) => Ok(Current::Skip("request deleted")),
            Err(other) => Err(other.into()),
        }
    }

    fn link(&self, request: &DataSubjectRequest) -> String {
        (self.settings.request_link).replace("{id}", &request.id.to_string())
    }

    async fn remind(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        reminder: RequestReminder,
    ) -> Result<JobOutcome, JobFailure> {
        let request = match self.current(scope, reminder.request).await? {
            Current::Open(request) => request,
            Current::Skip(why) => return Ok(JobOutcome::Skipped(why)),
        };
        if request.derived.due_on != Some(reminder.due_date)
            || request.fields.assignee_id != Some(reminder.assignee)
        {
            return Ok(JobOutcome::Skipped("request rescheduled or reassigned"));
        }
        let Some(user) = recipient(self.ports.users.as_ref(), scope, reminder.assignee).await?
        else {
            return Ok(JobOutcome::Skipped("assignee inactive or removed"));
        };
        let today = reminder.due_date - Duration::days(i64::from(reminder.days_before));
        let mail = messages::reminder(
            Addressee::of(&user, tenant),
            &request.derived.reference,
            reminder.due_date,
            today,
            &self.link(&request),
        );
        send_mail(self.ports.mailer.as_ref(), mail).await
    }

    async fn fan_out_warning(
        &self,
        scope: &TenantScope,
        warning: ExtendOrAnswer,
    ) -> Result<JobOutcome, JobFailure> {
        let request = match self.current(scope, warning.request).await? {
            Current::Open(request) => request,
            Current::Skip(why) => return Ok(JobOutcome::Skipped(why)),
        };
        if request.derived.extension.is_some() {
            return Ok(JobOutcome::Skipped("request extended"));
        }
        if request.derived.first_due_on != Some(warning.first_due) {
            return Ok(JobOutcome::Skipped("request rescheduled"));
        }
        let run_at = self.ports.clock.now();
        let admins = administrators(self.ports.users.as_ref(), scope).await?;
        let mails = mails_to(
            scope,
            admins.iter().map(|user| user.id),
            run_at,
            &self.settings.retry,
            |recipient| ExtendOrAnswerMail {
                request: warning.request,
                first_due: warning.first_due,
                recipient,
            },
        );
        let added = self.ports.queue.enqueue(scope, &mails).await?;
        Ok(JobOutcome::Done(format!("enqueued {added} warning mails")))
    }

    async fn send_warning(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        mail: ExtendOrAnswerMail,
    ) -> Result<JobOutcome, JobFailure> {
        let request = match self.current(scope, mail.request).await? {
            Current::Open(request) => request,
            Current::Skip(why) => return Ok(JobOutcome::Skipped(why)),
        };
        if request.derived.extension.is_some()
            || request.derived.first_due_on != Some(mail.first_due)
        {
            return Ok(JobOutcome::Skipped("request extended or rescheduled"));
        }
        let Some(user) = recipient(self.ports.users.as_ref(), scope, mail.recipient).await? else {
            return Ok(JobOutcome::Skipped("recipient inactive or removed"));
        };
        if !user.role.is_privileged() {
            return Ok(JobOutcome::Skipped("recipient no longer owner or admin"));
        }
        let text = messages::extend_or_answer(
            Addressee::of(&user, tenant),
            &request.derived.reference,
            mail.first_due,
            &self.link(&request),
        );
        send_mail(self.ports.mailer.as_ref(), text).await
    }
}

/// The overdue requests' section of the daily digest: open requests due before the
/// digest's date, soonest due first, by reference and assignee (a user), never the person.
pub struct OverdueRequests {
    pub requests: Arc<dyn RecordStore<Requests>>,
    pub users: Arc<dyn UserRepository>,
}

/// More overdue requests than this are counted by the section, not read.
const MAX_OVERDUE_READ: usize = 10_000;

#[async_trait::async_trait]
impl DigestSection for OverdueRequests {
    async fn overdue(
        &self,
        scope: &TenantScope,
        date: Date,
        shown: usize,
        language: &str,
    ) -> Result<Option<DigestPart>, StoreError> {
        let query = ListQuery {
            filter: RequestFilter {
                overdue_on: Some(date),
                ..RequestFilter::default()
            },
            limit: MAX_OVERDUE_READ,
            ..ListQuery::default()
        };
        let mut overdue = self.requests.list(scope, &query).await?.items;
        if overdue.is_empty() {
            return Ok(None);
        }
        overdue.sort_by_key(|r| (r.derived.due_on, r.derived.reference.clone()));
        let total = overdue.len();
        overdue.truncate(shown.max(1));
        let assignees: Vec<UserId> = overdue
            .iter()
            .filter_map(|r| r.fields.assignee_id)
            .collect();
        let names = AssigneeNames::read(self.users.as_ref(), scope, assignees, false).await?;
        let lines = names.lines(&overdue, |r| {
            let reference = r.derived.reference.as_str();
            (reference, r.derived.due_on, r.fields.assignee_id)
        });
        Ok(Some(messages::digest_section(language, &lines, total)))
    }
}
