//! The requests' jobs on the memory store, driven by a clock that stands still until
//! moved: the assignee's reminders at their offsets (re-planned on reassignment, dropped
//! when the request is answered), the "extend or answer" warning to owners and admins,
//! overdue requests in the one daily digest, and the pseudonymisation after the
//! retention period. Mails name the request's reference, never the person.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_mail::OutboxMailer;
use aura_adapter_memory::MemoryStore;
use aura_audit::RequestContext;
use aura_gdpr_registers::CountryCode;
use aura_identity::{User, mail::OutgoingMail};
use aura_jobs::{
    JobFilter, JobQueue, JobRegistry, JobStatus, PlannedRecords, RetryPolicy, Worker, WorkerPorts,
    WorkerSettings,
};
use aura_port_contracts::{
    Stores,
    fixtures::{TenantFixture, add_user, register_tenant},
    requests::request_fields,
};
use aura_records::RecordUseCases;
use aura_requests::{
    AnswerGiven, PublicHolidays, RequestCases,
    jobs::{OverdueRequests, RequestJobPorts, RequestJobSettings},
    pseudonym::PSEUDONYM,
    reminders::RequestReminderPolicy,
    request::{
        DataSubjectRequest, Outcome, RequestFields, RequestFilter, Requests, SubjectCategory,
    },
    rules::RequestRules,
    settings::TenantCalendars,
    store::RequestPlanner,
};
use aura_shared_kernel::{Clock, FixedClock, Role, SystemScope, TenantScope};
use aura_tasks::{ReminderPolicy, TaskJobPorts, TaskJobSettings};
use time::{
    Date, OffsetDateTime,
    macros::{date, datetime},
};

const NAME: &str = "Erika Mustermann";
const EMAIL: &str = "erika.mustermann@example.test";

struct NoHolidays;

impl PublicHolidays for NoHolidays {
    fn public_holiday(&self, _: CountryCode, _: Date) -> Option<&'static str> {
        None
    }
}

struct World {
    clock: Arc<FixedClock>,
    store: MemoryStore,
    stores: Stores,
    cases: RequestCases,
    worker: Worker,
    outbox: OutboxMailer,
    org: TenantFixture,
    admin: User,
    member: User,
    colleague: User,
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

impl World {
    async fn new() -> Self {
        let clock = Arc::new(FixedClock::at(datetime!(2027-01-11 09:00 UTC)));
        let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
        let stores = Stores::from_single(store.clone(), clock.clone());
        let org = register_tenant(&stores).await;
        let admin = add_user(&stores, &org, Role::Admin).await;
        let member = add_user(&stores, &org, Role::Member).await;
        let colleague = add_user(&stores, &org, Role::Member).await;
        let retry = RetryPolicy::default();
        let rules = RequestRules {
            holidays: Arc::new(NoHolidays),
            calendars: Arc::new(TenantCalendars {
                tenants: Arc::new(store.clone()),
                organisation: Arc::new(store.clone()),
            }),
        };
        let records = PlannedRecords::<Requests> {
            records: Arc::new(store.clone()),
            writes: Arc::new(store.clone()),
            planner: Arc::new(RequestPlanner {
                policy: RequestReminderPolicy::default(),
                retry,
                clock: clock.clone(),
            }),
        };
        let use_cases = RecordUseCases::new(
            Arc::new(records),
            Arc::new(rules),
            Arc::new(store.clone()),
            clock.clone(),
        );
        let cases = RequestCases::new(
            use_cases.clone(),
            Arc::new(store.clone()),
            Arc::new(store.clone()),
            clock.clone(),
        );
        let outbox = OutboxMailer::default();
        let mailer = Arc::new(outbox.clone());
        let mut registry = JobRegistry::new();
        aura_tasks::register_jobs(
            &mut registry,
            TaskJobPorts {
                queue: Arc::new(store.clone()),
                tasks: Arc::new(store.clone()),
                tenants: Arc::new(store.clone()),
                users: Arc::new(store.clone()),
                mailer: mailer.clone(),
                clock: clock.clone(),
                sections: vec![Arc::new(OverdueRequests {
                    requests: Arc::new(store.clone()),
                    users: Arc::new(store.clone()),
                })],
            },
            TaskJobSettings {
                task_link: "https://aura.test/tasks/{id}".into(),
                digest_lines: 20,
                reminders: ReminderPolicy::default(),
                retry,
            },
        )
        .unwrap();
        aura_requests::jobs::register(
            &mut registry,
            RequestJobPorts {
                queue: Arc::new(store.clone()),
                requests: Arc::new(store.clone()),
                cases: use_cases,
                repository: Arc::new(store.clone()),
                tenants: Arc::new(store.clone()),
                users: Arc::new(store.clone()),
                mailer,
                clock: clock.clone(),
            },
            RequestJobSettings {
                request_link: "https://aura.test/requests/{id}".into(),
                reminders: RequestReminderPolicy::default(),
                retry,
            },
        )
        .unwrap();
        let worker = Worker::new(
            WorkerPorts {
                queue: Arc::new(store.clone()),
                clock: clock.clone(),
            },
            WorkerSettings {
                worker_id: "test".into(),
                lease: time::Duration::minutes(5),
                batch: 10,
                retry,
            },
            registry,
        );
        Self {
            clock,
            store,
            stores,
            cases,
            worker,
            outbox,
            org,
            admin,
            member,
            colleague,
        }
    }

    fn scope(&self, user: &User) -> TenantScope {
        self.org.scope_of(user)
    }

    /// Moves the clock to `at` and runs the worker until nothing is due; the mails sent.
    async fn run_at(&self, at: OffsetDateTime) -> Vec<OutgoingMail> {
        let now = self.clock.now();
        assert!(at >= now, "the clock only moves forward");
        self.clock.advance(at - now);
        let system = SystemScope::for_platform_operation("test");
        for _ in 0..50 {
            if self.worker.run_once(&system).await.unwrap() == 0 {
                break;
            }
        }
        self.outbox.take()
    }

    async fn create(&self, assignee: Option<&User>) -> DataSubjectRequest {
        // The contracts' complete request: NAME from EMAIL, at Heidestraße, about the
        // customer account.
        let fields = RequestFields {
            assignee_id: assignee.map(|u| u.id),
            ..request_fields(datetime!(2027-01-11 10:00 UTC), EMAIL)
        };
        self.cases
            .records()
            .create(&self.scope(&self.member), fields, None, &ctx())
            .await
            .expect("create a request")
    }

    async fn reassign(&self, request: &DataSubjectRequest, to: &User) -> DataSubjectRequest {
        let fields = RequestFields {
            assignee_id: Some(to.id),
            ..request.fields.clone()
        };
        let scope = self.scope(&self.member);
        (self.cases.records())
            .update(&scope, request.id, fields, request.version, None, &ctx())
            .await
            .expect("reassign")
    }

    async fn queued(&self) -> Vec<String> {
        let system = SystemScope::for_platform_operation("test");
        let filter = JobFilter {
            status: Some(JobStatus::Queued),
            tenant: Some(self.org.tenant.id),
            limit: 100,
        };
        let jobs = self.store.list(&system, &filter).await.unwrap();
        jobs.into_iter().map(|j| j.kind).collect()
    }
}

fn to(mail: &OutgoingMail, user: &User) -> bool {
    mail.to.as_str() == user.email.as_str()
}

/// Nothing of the person in a mail: name, e-mail, contact or what they asked.
fn assert_anonymous(mails: &[OutgoingMail]) {
    for mail in mails {
        for text in [&mail.subject, &mail.text, &mail.html] {
            for personal in [NAME, "Mustermann", EMAIL, "Heidestraße", "customer account"] {
                assert!(!text.contains(personal), "{personal} in a mail: {text}");
            }
        }
    }
}

#[tokio::test]
async fn the_assignee_is_reminded_at_the_offsets_and_owners_are_told_to_extend_or_answer() {
    let w = World::new().await;
    let request = w.create(Some(&w.member)).await;
    let due = request.derived.due_on.expect("dated");
    assert_eq!(due, date!(2027 - 02 - 11));
    let reference = request.derived.reference.clone();
    assert_eq!(reference, "DSR-2027-0001");

    // Seven days before, 08:00: the assignee only.
    let mails = w.run_at(datetime!(2027-02-04 08:00 UTC)).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(to(&mails[0], &w.member));
    assert_eq!(
        mails[0].subject,
        format!("Reminder: data-subject request {reference} is due in 7 days")
    );
    assert!(mails[0].text.contains("https://aura.test/requests/"));
    assert_anonymous(&mails);

    // Five days before the first due date: every owner and admin, once each.
    let mails = w.run_at(datetime!(2027-02-06 08:00 UTC)).await;
    let mut recipients: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    recipients.sort_unstable();
    let mut expected = vec![w.org.owner.email.as_str(), w.admin.email.as_str()];
    expected.sort_unstable();
    assert_eq!(recipients, expected);
    assert!(
        mails.iter().all(|m| m.subject
            == format!("Data-subject request {reference}: answer or extend by 2027-02-11")),
        "{mails:?}"
    );
    assert_anonymous(&mails);

    // Reassigned: the remaining reminders go to the new assignee only.
    let request = w.reassign(&request, &w.colleague).await;
    let mails = w.run_at(datetime!(2027-02-10 08:00 UTC)).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(to(&mails[0], &w.colleague), "{:?}", mails[0].to);
    assert!(mails[0].subject.ends_with("is due tomorrow"));

    // Answered before the due date: the last reminder is dropped, not sent.
    assert_eq!(w.queued().await, ["request_reminder"]);
    let answer = AnswerGiven {
        outcome: Outcome::Fulfilled,
        answered_on: None,
        refusal: None,
    };
    let scope = w.scope(&w.colleague);
    w.cases
        .answer(&scope, request.id, request.version, answer, &ctx())
        .await
        .expect("answer");
    assert!(w.queued().await.is_empty());
    assert!(w.run_at(datetime!(2027-02-11 08:00 UTC)).await.is_empty());
}

#[tokio::test]
async fn an_extended_request_gets_no_warning_and_reminders_follow_the_new_due_date() {
    let w = World::new().await;
    let request = w.create(Some(&w.member)).await;
    let notice = aura_requests::ExtensionNotice {
        months: 1,
        reasons: "many systems to search".into(),
        told_on: None,
    };
    let extended = w
        .cases
        .extend(
            &w.scope(&w.member),
            request.id,
            request.version,
            notice,
            &ctx(),
        )
        .await
        .expect("extend");
    assert_eq!(extended.derived.due_on, Some(date!(2027 - 03 - 11)));
    // The plan was replaced: reminders for the new date, no warning.
    let queued = w.queued().await;
    assert_eq!(queued.len(), 3, "{queued:?}");
    assert!(
        queued.iter().all(|kind| kind == "request_reminder"),
        "{queued:?}"
    );
    // Nothing around the first due date: neither the warning nor the old reminders.
    assert!(w.run_at(datetime!(2027-02-12 09:00 UTC)).await.is_empty());
    let mails = w.run_at(datetime!(2027-03-10 08:00 UTC)).await;
    assert_eq!(mails.len(), 2, "7 days and 1 day before: {mails:?}");
    assert!(mails.iter().all(|m| to(m, &w.member)));
    assert!(mails.iter().all(|m| m.text.contains("(2027-03-11)")));
}

#[tokio::test]
async fn overdue_requests_are_a_section_of_the_one_daily_digest() {
    let w = World::new().await;
    let request = w.create(Some(&w.member)).await;
    let reference = request.derived.reference.clone();
    // The day after the due date, at the digest's time.
    let mails: Vec<OutgoingMail> = w
        .run_at(datetime!(2027-02-12 08:00 UTC))
        .await
        .into_iter()
        .filter(|m| m.subject.contains("overdue"))
        .collect();
    assert_eq!(mails.len(), 2, "owner and admin: {mails:?}");
    for mail in &mails {
        assert_eq!(mail.subject, "1 overdue privacy item at Contract Tenant");
        assert!(
            mail.text.contains(&format!(
                "Data-subject requests past their due date:\n- {reference} (due 2027-02-11, "
            )),
            "{}",
            mail.text
        );
    }
    assert_anonymous(&mails);
}

#[tokio::test]
async fn closed_requests_are_pseudonymised_after_the_retention_period_once() {
    let w = World::new().await;
    let scope = w.scope(&w.member);
    let old = w.create(None).await;
    let answer = AnswerGiven {
        outcome: Outcome::NoDataHeld,
        answered_on: None,
        refusal: None,
    };
    let old = w
        .cases
        .answer(&scope, old.id, old.version, answer.clone(), &ctx())
        .await
        .unwrap();
    let old = w
        .cases
        .close(&scope, old.id, old.version, &ctx())
        .await
        .unwrap();
    let closed_at = old.derived.closed_at.expect("closed");
    // Answered but never closed: the case is not over, the person stays.
    let answered = w.create(None).await;
    let answered = w
        .cases
        .answer(&scope, answered.id, answered.version, answer, &ctx())
        .await
        .unwrap();

    // A day short of three years: nothing yet.
    w.run_at(datetime!(2030-01-10 09:00 UTC)).await;
    let read = |id| {
        let scope = scope.clone();
        let cases = w.cases.clone();
        async move { cases.records().get(&scope, id, &ctx()).await.unwrap() }
    };
    assert_eq!(read(old.id).await.fields.subject.name, NAME);

    // Three years after closing (the daily job at 08:00 the next day).
    w.run_at(datetime!(2030-01-12 09:00 UTC)).await;
    let gone = read(old.id).await;
    assert_eq!(gone.fields.subject.name, PSEUDONYM);
    assert_eq!(gone.fields.subject.email, None);
    assert_eq!(gone.fields.subject.contact, None);
    assert_eq!(gone.fields.scope, None);
    assert_eq!(gone.fields.subject.category, SubjectCategory::Customer);
    // What shows the request was answered, and when, stays.
    assert_eq!(gone.derived.reference, old.derived.reference);
    assert_eq!(gone.derived.answer, old.derived.answer);
    assert_eq!(gone.derived.due_on, old.derived.due_on);
    assert_eq!(gone.derived.closed_at, Some(closed_at));
    assert_eq!(gone.fields.rights, old.fields.rights);
    assert_eq!(read(answered.id).await.fields.subject.name, NAME);
    // The e-mail no longer finds it.
    let by_email = aura_records::ListQuery {
        filter: RequestFilter {
            email: Some(EMAIL.into()),
            ..RequestFilter::default()
        },
        limit: 10,
        ..aura_records::ListQuery::default()
    };
    let found = w
        .cases
        .records()
        .list(&scope, &by_email, &ctx())
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [answered.id]
    );
    // One audit event, by the system, naming what changed but no value.
    let event = (w.stores)
        .the_event(&w.org.scope, "data_subject_request.pseudonymised", old.id)
        .await;
    assert_eq!(event.actor, aura_audit::Actor::System);
    let changes = event.changes.to_string();
    assert!(changes.contains("subject"), "{changes}");
    for personal in [NAME, EMAIL, "Heidestraße", "customer account"] {
        assert!(!changes.contains(personal), "{changes}");
    }

    // The next day's run finds nothing left to do.
    w.run_at(datetime!(2030-01-13 09:00 UTC)).await;
    (w.stores)
        .the_event(&w.org.scope, "data_subject_request.pseudonymised", old.id)
        .await;
}
