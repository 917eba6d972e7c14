//! When a request's reminders go out, planned on every write like a task's (the same
//! offsets and time of day, [`ReminderPolicy`]) and stored by the request store in the
//! write's transaction: a reminder exists exactly when the change that made it due does.
//!
//! - The assignee, at each offset before the due date, while the request is open.
//! - Owners and admins, a few days before the FIRST due date of an open request that was
//!   not extended: the last moment to tell the person of an extension (Art. 12(3)) is
//!   that date, so the warning says "extend or answer".
//!
//! Payloads name the request by id and carry dates and user ids only: never the person.
//! Every job re-reads the request before mailing, so one planned for a due date, assignee
//! or status that has moved on since is skipped.

use aura_jobs::{Job, JobPlan, NewJob, RetryPolicy};
use aura_shared_kernel::UserId;
use aura_tasks::ReminderPolicy;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::request::{DataSubjectRequest, RequestId};

/// Remind the assignee of `request`, `days_before` its due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestReminder {
    pub request: Uuid,
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub due_date: Date,
    pub days_before: u16,
    pub assignee: UserId,
}

impl Job for RequestReminder {
    const KIND: &'static str = "request_reminder";
    fn dedupe_key(&self) -> String {
        let Self {
            request,
            due_date,
            days_before,
            assignee,
        } = self;
        format!("request_reminder:{request}:{due_date}:{days_before}:{assignee}")
    }
    fn subject(&self) -> Option<Uuid> {
        Some(self.request)
    }
}

/// Warn owners and admins that `request`'s first due date is `days_before` away and it
/// is neither answered nor extended; fans out to one [`ExtendOrAnswerMail`] per
/// recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendOrAnswer {
    pub request: Uuid,
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub first_due: Date,
    pub days_before: u16,
}

impl Job for ExtendOrAnswer {
    const KIND: &'static str = "request_extend_or_answer";
    fn dedupe_key(&self) -> String {
        format!("request_extend:{}:{}", self.request, self.first_due)
    }
    fn subject(&self) -> Option<Uuid> {
        Some(self.request)
    }
}

/// One "extend or answer" mail to one owner or admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendOrAnswerMail {
    pub request: Uuid,
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub first_due: Date,
    pub recipient: UserId,
}

impl Job for ExtendOrAnswerMail {
    const KIND: &'static str = "request_extend_mail";
    fn dedupe_key(&self) -> String {
        format!(
            "request_extend:{}:{}:{}",
            self.request, self.first_due, self.recipient
        )
    }
}

/// The kinds a request's write replaces: its queued ones of these kinds are cancelled
/// before its new plan is stored.
pub const PLANNED_KINDS: &[&str] = &[RequestReminder::KIND, ExtendOrAnswer::KIND];

/// The requests' reminder policy: the tasks' offsets and time of day, and how many days
/// before the first due date the "extend or answer" warning goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReminderPolicy {
    pub reminders: ReminderPolicy,
    /// Days before the first due date (default 5).
    pub extend_warning_days: u16,
}

impl Default for RequestReminderPolicy {
    fn default() -> Self {
        Self {
            reminders: ReminderPolicy::default(),
            extend_warning_days: 5,
        }
    }
}

/// The reminders of one request from now on. Storing a plan replaces the request's
/// queued reminders, in the transaction that changes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPlan {
    pub request: RequestId,
    pub jobs: Vec<NewJob>,
}

impl RequestPlan {
    /// No reminders any more (answered, closed, deleted).
    pub fn none(request: RequestId) -> Self {
        Self {
            request,
            jobs: Vec::new(),
        }
    }

    /// The plan as the kernel's [`JobPlan`]: the request's queued jobs of
    /// [`PLANNED_KINDS`] (its reminders and warning) replaced by these.
    pub fn as_job_plan(&self) -> JobPlan {
        JobPlan {
            subject: self.request.as_uuid(),
            kinds: PLANNED_KINDS,
            jobs: self.jobs.clone(),
        }
    }
}

impl RequestReminderPolicy {
    /// The reminders `request` should have from `now` on: none unless it is open; one
    /// per offset still ahead for its assignee and due date; the warning before the
    /// first due date unless it was extended.
    pub fn plan(
        &self,
        request: &DataSubjectRequest,
        now: OffsetDateTime,
        retry: &RetryPolicy,
    ) -> RequestPlan {
        let (f, d) = (&request.fields, &request.derived);
        let mut jobs = Vec::new();
        if !d.status.is_open() {
            return RequestPlan::none(request.id);
        }
        let id = request.id.as_uuid();
        if let (Some(due), Some(assignee)) = (d.due_on, f.assignee_id) {
            for &days_before in &self.reminders.offsets_days {
                let run_at = self.reminders.moment(due, days_before);
                if run_at >= now {
                    let reminder = RequestReminder {
                        request: id,
                        due_date: due,
                        days_before,
                        assignee,
                    };
                    jobs.push(NewJob::of(
                        request.tenant_id,
                        &reminder,
                        run_at,
                        retry.max_attempts,
                    ));
                }
            }
        }
        if let (Some(first_due), None) = (d.first_due_on, &d.extension) {
            let days_before = self.extend_warning_days;
            let run_at = self.reminders.moment(first_due, days_before);
            if run_at >= now {
                let warning = ExtendOrAnswer {
                    request: id,
                    first_due,
                    days_before,
                };
                jobs.push(NewJob::of(
                    request.tenant_id,
                    &warning,
                    run_at,
                    retry.max_attempts,
                ));
            }
        }
        RequestPlan {
            request: request.id,
            jobs,
        }
    }
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::TenantId;
    use time::macros::{date, datetime};

    use super::*;
    use crate::request::{
        Channel, DataSubject, Extension, RequestFields, RequestState, RequestStatus,
        SubjectCategory,
    };

    fn request(status: RequestStatus, assignee: Option<UserId>) -> DataSubjectRequest {
        let at = datetime!(2027-01-11 09:00 UTC);
        DataSubjectRequest::first_version(
            aura_records::Id::generate(),
            TenantId::generate(),
            RequestFields {
                received_at: at,
                channel: Channel::Email,
                subject: DataSubject {
                    name: "Erika Mustermann".into(),
                    email: Some("erika@example.test".into()),
                    contact: None,
                    category: SubjectCategory::Customer,
                },
                agent: None,
                rights: vec![crate::request::Right::Access],
                scope: None,
                assignee_id: assignee,
            },
            RequestState {
                reference: "DSR-2027-0001".into(),
                status,
                first_due_on: Some(date!(2027 - 02 - 11)),
                due_on: Some(date!(2027 - 02 - 11)),
                ..RequestState::default()
            },
            at,
        )
    }

    fn moments(plan: &RequestPlan, kind: &str) -> Vec<OffsetDateTime> {
        let jobs = plan.jobs.iter().filter(|j| j.job.kind == kind);
        jobs.map(|j| j.run_at).collect()
    }

    #[test]
    fn an_open_request_reminds_its_assignee_and_warns_before_the_first_due_date() {
        let assignee = UserId::generate();
        let r = request(RequestStatus::InProgress, Some(assignee));
        let policy = RequestReminderPolicy::default();
        let plan = policy.plan(&r, datetime!(2027-02-05 09:00 UTC), &RetryPolicy::default());
        // 7 days before (4 Feb) is past; 1 day before and on the day remain.
        assert_eq!(
            moments(&plan, RequestReminder::KIND),
            [
                datetime!(2027-02-10 08:00 UTC),
                datetime!(2027-02-11 08:00 UTC)
            ]
        );
        // Five days before the first due date: 6 Feb.
        assert_eq!(
            moments(&plan, ExtendOrAnswer::KIND),
            [datetime!(2027-02-06 08:00 UTC)]
        );
        for job in &plan.jobs {
            let text = job.job.payload.to_string() + &job.job.dedupe_key;
            assert!(
                !text.contains("Erika") && !text.contains("erika@"),
                "{text}"
            );
            assert_eq!(job.job.subject, Some(r.id.as_uuid()));
        }
    }

    #[test]
    fn no_warning_once_extended_and_nothing_for_a_closed_request() {
        let mut r = request(RequestStatus::InProgress, None);
        r.derived.extension = Some(Extension {
            months: 2,
            reasons: "many systems".into(),
            told_on: date!(2027 - 02 - 01),
        });
        r.derived.due_on = Some(date!(2027 - 04 - 12));
        let now = datetime!(2027-02-01 09:00 UTC);
        let retry = RetryPolicy::default();
        let plan = RequestReminderPolicy::default().plan(&r, now, &retry);
        assert!(plan.jobs.is_empty(), "no assignee, extended: {plan:?}");
        for status in [
            RequestStatus::Answered,
            RequestStatus::Closed,
            RequestStatus::Withdrawn,
        ] {
            let r = request(status, Some(UserId::generate()));
            let plan = RequestReminderPolicy::default().plan(&r, now, &retry);
            assert!(plan.jobs.is_empty(), "{status}");
        }
    }

    #[test]
    fn keys_change_with_the_due_date_and_the_assignee() {
        let (a, b) = (UserId::generate(), UserId::generate());
        let id = Uuid::now_v7();
        let key = |due, who| {
            RequestReminder {
                request: id,
                due_date: due,
                days_before: 1,
                assignee: who,
            }
            .dedupe_key()
        };
        let due = date!(2027 - 02 - 11);
        assert_eq!(key(due, a), key(due, a));
        assert_ne!(key(due, a), key(due, b));
        assert_ne!(key(due, a), key(date!(2027 - 02 - 12), a));
    }
}
