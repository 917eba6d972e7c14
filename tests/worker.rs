//! The background worker against PostgreSQL and a real SMTP listener (the in-process server
//! of `support::smtp`), delivering through the real `SmtpMailer`:
//!
//! - reminders arrive once, at their offsets (a fixed clock stepped through the days), to
//!   the assignee only; rescheduling, reassigning and completion (with recurrence) behave;
//! - the overdue digest goes once a day to owners and admins of tenants with overdue work;
//! - a failing SMTP server leads to retries with back-off and then the dead-letter state,
//!   never to a failed pass or a lost job; an operator's retry then delivers once;
//! - two workers at once never send the same reminder twice;
//! - a worker process killed mid-delivery (`kill -9` of the real `aura-api`) leaves its job
//!   leased, and another worker takes it over when the lease runs out and delivers once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::HashMap,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration as StdDuration, Instant},
};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_mail::{SmtpConfig, SmtpMailer, SmtpTls};
use aura_adapter_postgres::{PgStores, testing::TestDatabase};
use aura_audit::{Actor, AuditAction, Changes, PendingEvent, RequestContext};
use aura_identity::{Email, FullName, PasswordHash, User, mail::OutgoingMail, ports::Mailer};
use aura_jobs::{
    JobFilter, JobQueue, JobStatus, JobSummary, NewJob, RetryPolicy, Worker, WorkerPorts,
    WorkerSettings,
};
use aura_shared_kernel::{
    Clock, Conflict, FixedClock, Role, StoreError, SystemClock, SystemScope, Tenant, TenantName,
    TenantScope, TenantSlug, UserId,
};
use aura_tasks::{
    Category, Recurrence, ReminderPolicy, Task, TaskFields, TaskJobPorts, TaskJobSettings,
    TaskPatch, TaskPorts, TaskReminder, TaskService, TaskStatus,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use support::smtp::{Message, Mode, SmtpServer, Stage};
use time::{
    Duration, OffsetDateTime,
    macros::{date, datetime, time},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The first moment of most tests: a Sunday morning, after the day's send time (08:00).
const START: OffsetDateTime = datetime!(2026-11-01 09:00 UTC);
const TASK_LINK: &str = "https://app.aura.test/tasks/{id}";
/// Bounds every single wait of the suite.
const BOUND: StdDuration = StdDuration::from_secs(30);

fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::minutes(1),
        max_delay: Duration::hours(1),
    }
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

fn event(
    actor: UserId,
    action: AuditAction,
    entity: &'static str,
    id: impl ToString,
) -> PendingEvent {
    PendingEvent::new(
        Actor::User(actor),
        action,
        entity,
        id,
        Changes::new(),
        &RequestContext::default(),
    )
}

fn person(tenant: &Tenant, role: Role, name: &str, now: OffsetDateTime) -> User {
    let label = name.split_whitespace().next().unwrap().to_ascii_lowercase();
    User::new(
        tenant.id,
        Email::parse(&format!("{label}-{}@example.test", suffix())).unwrap(),
        FullName::parse(name).unwrap(),
        role,
        PasswordHash::from_stored(format!("$test${}", suffix())),
        now,
    )
}

/// A tenant with one user of each role (and a second member).
struct Org {
    tenant: Tenant,
    owner: User,
    admin: User,
    member: User,
    colleague: User,
    viewer: User,
}

impl Org {
    fn scope(&self, user: &User) -> TenantScope {
        TenantScope::for_tests(self.tenant.id, user.id, user.role)
    }

    fn everyone(&self) -> [&User; 5] {
        [
            &self.owner,
            &self.admin,
            &self.member,
            &self.colleague,
            &self.viewer,
        ]
    }
}

/// Registers a tenant and its users through the stores (as sign-up and the owner would).
async fn add_org(stores: &PgStores, name: &str, now: OffsetDateTime) -> Org {
    let tenant = Tenant::new(
        TenantName::parse(name).unwrap(),
        TenantSlug::parse(&format!("org-{}", suffix())).unwrap(),
        now,
    );
    let owner = person(&tenant, Role::Owner, "Olivia Owner", now);
    stores
        .tenants()
        .register(
            &TenantScope::for_credential_check(tenant.id, None),
            &tenant,
            &owner,
            vec![
                event(
                    owner.id,
                    aura_identity::actions::TENANT_CREATED,
                    "tenant",
                    tenant.id,
                ),
                event(
                    owner.id,
                    aura_identity::actions::USER_CREATED,
                    "user",
                    owner.id,
                ),
            ],
        )
        .await
        .expect("register the tenant");
    let org = Org {
        admin: person(&tenant, Role::Admin, "Adam Admin", now),
        member: person(&tenant, Role::Member, "Mia Member", now),
        colleague: person(&tenant, Role::Member, "Carl Colleague", now),
        viewer: person(&tenant, Role::Viewer, "Vera Viewer", now),
        tenant,
        owner,
    };
    for user in [&org.admin, &org.member, &org.colleague, &org.viewer] {
        stores
            .users()
            .insert(
                &org.scope(&org.owner),
                user,
                event(
                    org.owner.id,
                    aura_identity::actions::USER_CREATED,
                    "user",
                    user.id,
                ),
            )
            .await
            .expect("add a user");
    }
    org
}

fn smtp_mailer(port: u16, timeout: StdDuration) -> Arc<dyn Mailer> {
    Arc::new(
        SmtpMailer::new(SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "AURA-GDPR <no-reply@aura.test>".to_owned(),
            timeout,
        })
        .expect("SMTP mailer"),
    )
}

/// A fresh database with one tenant, the task service and workers on a fixed clock, and
/// an SMTP server to deliver to.
struct World {
    smtp: SmtpServer,
    clock: Arc<FixedClock>,
    policy: ReminderPolicy,
    tasks: TaskService,
    queue: Arc<dyn JobQueue>,
    system: SystemScope,
    org: Org,
    stores: PgStores,
    db: TestDatabase,
}

impl World {
    async fn new() -> Self {
        Self::with(START, ReminderPolicy::default()).await
    }

    async fn with(start: OffsetDateTime, policy: ReminderPolicy) -> Self {
        let db = TestDatabase::create().await;
        let clock = Arc::new(FixedClock::at(start));
        let stores = db
            .stores(Arc::new(HmacChainHasher::with_test_key()), clock.clone())
            .await
            .expect("stores on the test database");
        let org = add_org(&stores, "Acme Privacy", start).await;
        let tasks = TaskService::new(TaskPorts {
            tasks: Arc::new(stores.clone()),
            audit: stores.audit(),
            clock: clock.clone(),
            reminders: policy.clone(),
            retry: retry_policy(),
        });
        Self {
            smtp: SmtpServer::start().await,
            queue: Arc::new(stores.clone()),
            system: SystemScope::for_platform_operation("worker-tests"),
            clock,
            policy,
            tasks,
            org,
            stores,
            db,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn set_clock(&self, at: OffsetDateTime) {
        self.clock.advance(at - self.clock.now());
    }

    /// A worker on the world's fixed clock.
    fn worker(&self, id: &str, batch: usize) -> Worker {
        self.worker_with(self.clock.clone(), id, batch, StdDuration::from_secs(5))
    }

    fn worker_with(
        &self,
        clock: Arc<dyn Clock>,
        id: &str,
        batch: usize,
        smtp_timeout: StdDuration,
    ) -> Worker {
        // The job kinds registered as the service registers them.
        let registry = aura_api::worker::job_registry(
            TaskJobPorts {
                queue: Arc::new(self.stores.clone()),
                tasks: Arc::new(self.stores.clone()),
                tenants: self.stores.tenants(),
                users: self.stores.users(),
                mailer: smtp_mailer(self.smtp.port(), smtp_timeout),
                clock: clock.clone(),
                sections: Vec::new(),
            },
            TaskJobSettings {
                task_link: TASK_LINK.to_owned(),
                digest_lines: 20,
                reminders: self.policy.clone(),
                retry: retry_policy(),
            },
            Arc::new(self.stores.clone()),
            None,
            None,
            None,
        )
        .expect("one handler per kind");
        Worker::new(
            WorkerPorts {
                queue: Arc::new(self.stores.clone()),
                clock,
            },
            WorkerSettings {
                worker_id: id.to_owned(),
                lease: Duration::minutes(5),
                batch,
                retry: retry_policy(),
            },
            registry,
        )
    }

    async fn create_task(
        &self,
        org: &Org,
        title: &str,
        due: time::Date,
        assignee: Option<&User>,
        recurrence: Recurrence,
    ) -> Task {
        self.tasks
            .records()
            .create(
                &org.scope(&org.member),
                TaskFields {
                    title: title.to_owned(),
                    description: None,
                    category: Category::PolicyReview,
                    due_date: Some(due),
                    assigned_to: assignee.map(|u| u.id),
                    link: None,
                    recurrence,
                    status: TaskStatus::Open,
                },
                None,
                &RequestContext::default(),
            )
            .await
            .expect("create a task")
    }

    async fn patch(&self, task: &Task, patch: TaskPatch) -> Task {
        self.tasks
            .update(
                &self.org.scope(&self.org.member),
                task.id,
                patch,
                task.version,
                &RequestContext::default(),
            )
            .await
            .expect("update the task")
    }

    /// Passes until the queue has nothing due at the current time; every pass must
    /// succeed. Returns how many jobs ran.
    async fn drain(&self, worker: &Worker) -> usize {
        let mut total = 0;
        for _ in 0..200 {
            let ran = tokio::time::timeout(BOUND, worker.run_once(&self.system))
                .await
                .expect("a worker pass ends in time")
                .expect("a worker pass never fails");
            if ran == 0 {
                return total;
            }
            total += ran;
        }
        panic!("the queue never ran dry");
    }

    /// Steps the clock by `step` until `until`, draining the queue after each step;
    /// returns each delivered message with the clock at its delivery.
    async fn step_through(
        &self,
        worker: &Worker,
        until: OffsetDateTime,
        step: Duration,
    ) -> Vec<(OffsetDateTime, Message)> {
        let mut log = Vec::new();
        while self.now() < until {
            self.clock.advance(step);
            self.drain(worker).await;
            log.extend(self.smtp.take().into_iter().map(|m| (self.now(), m)));
        }
        log
    }

    async fn jobs(&self, org: &Org) -> Vec<JobSummary> {
        self.queue
            .list(
                &self.system,
                &JobFilter {
                    status: None,
                    tenant: Some(org.tenant.id),
                    limit: 1_000,
                },
            )
            .await
            .expect("list jobs")
    }

    async fn reminder_jobs(&self, org: &Org) -> Vec<JobSummary> {
        let mut jobs: Vec<_> = self
            .jobs(org)
            .await
            .into_iter()
            .filter(|j| j.kind == "task_reminder")
            .collect();
        jobs.sort_by_key(|j| j.run_at);
        jobs
    }

    async fn job(&self, id: uuid::Uuid) -> JobSummary {
        self.jobs(&self.org)
            .await
            .into_iter()
            .find(|j| j.id == id)
            .expect("the job is listed")
    }
}

fn is_reminder(message: &Message) -> bool {
    message.subject.starts_with("Reminder:")
}

fn to(message: &Message, user: &User) -> bool {
    message.recipients == vec![user.email.as_str().to_owned()]
}

fn reminder_subject(task: &Task, when: &str) -> String {
    format!(
        "Reminder: \u{201c}{}\u{201d} is due {when}",
        task.fields.title
    )
}

/// The log, one line per message, for assertion messages.
fn describe(log: &[(OffsetDateTime, Message)]) -> String {
    log.iter()
        .map(|(at, m)| format!("\n  {at}: {:?} {}", m.recipients, m.subject))
        .collect()
}

/// The reminders in the log: (delivered at, recipient, subject).
fn reminders(log: &[(OffsetDateTime, Message)]) -> Vec<(OffsetDateTime, String, String)> {
    log.iter()
        .filter(|(_, m)| is_reminder(m))
        .map(|(at, m)| (*at, m.recipients.join(","), m.subject.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The SMTP server itself: what lettre sends arrives decoded; every failure mode fails.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_smtp_server_decodes_what_lettre_sends_and_fails_on_demand() {
    let smtp = SmtpServer::start().await;
    let mailer = smtp_mailer(smtp.port(), StdDuration::from_secs(1));
    let subject = "Erinnerung: \u{201e}Überprüfung der Auftragsverarbeitungsverträge mit allen Dienstleistern\u{201c} ist morgen fällig";
    let text = "Hallo Jörg,\n\n.a line that starts with a dot\n..and one with two\n.\nA long line: "
        .to_owned()
        + &"lorem ipsum dolor sit amet ".repeat(8) + "\n\nGrüße";
    let html = "<p>Hallo J&ouml;rg, <a href=\"https://x.test/t?a=1&amp;b=2\">öffnen</a></p>";
    let mail = |to: &str| OutgoingMail {
        to: Email::parse(to).unwrap(),
        subject: subject.to_owned(),
        text: text.clone(),
        html: html.to_owned(),
    };

    mailer
        .send(mail("joerg@example.test"))
        .await
        .expect("accepted");
    let received = smtp.take();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.recipients, vec!["joerg@example.test"]);
    assert_eq!(message.mail_from, "no-reply@aura.test");
    assert_eq!(message.subject, subject, "raw:\n{}", message.raw);
    assert_eq!(message.text.trim_end(), text, "raw:\n{}", message.raw);
    assert_eq!(message.html.trim_end(), html, "raw:\n{}", message.raw);

    let failures = [
        (Mode::Defer(Stage::Rcpt), "451"),
        (Mode::Refuse(Stage::Rcpt), "554"),
        (Mode::Defer(Stage::Data), "451"),
        (Mode::Refuse(Stage::Data), "554"),
        (Mode::Drop, "smtp"),
        (Mode::Stall, "timed out"),
    ];
    for (mode, reason) in failures {
        smtp.set_mode(mode);
        let error = tokio::time::timeout(BOUND, mailer.send(mail("joerg@example.test")))
            .await
            .expect("the mailer gives up in time")
            .expect_err("the server fails the delivery");
        assert!(error.0.contains(reason), "{mode:?}: {error:?}");
    }
    assert!(smtp.take().is_empty(), "nothing accepted while failing");
    let stats = smtp.stats();
    assert_eq!(
        (stats.deferred, stats.refused, stats.dropped, stats.stalled),
        (2, 2, 1, 1),
        "{stats:?}"
    );
    assert_eq!(smtp.stalled()[0].subject, subject);

    smtp.set_mode(Mode::Accept);
    mailer
        .send(mail("joerg@example.test"))
        .await
        .expect("accepted again");
    assert_eq!(smtp.take().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Reminders: offsets, once, the right recipient.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_arrive_once_at_their_offsets_to_the_assignee_only() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Review the retention policy",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let worker = world.worker("worker-a", 10);

    let log = world
        .step_through(&worker, datetime!(2026-11-12 09:00 UTC), Duration::hours(6))
        .await;

    // 7 days, 1 day and 0 days before, at 08:00 UTC: the first steps after those moments.
    let member = org.member.email.as_str().to_owned();
    assert_eq!(
        reminders(&log),
        vec![
            (
                datetime!(2026-11-03 09:00 UTC),
                member.clone(),
                reminder_subject(&task, "in 7 days")
            ),
            (
                datetime!(2026-11-09 09:00 UTC),
                member.clone(),
                reminder_subject(&task, "tomorrow")
            ),
            (
                datetime!(2026-11-10 09:00 UTC),
                member.clone(),
                reminder_subject(&task, "today")
            ),
        ],
        "{}",
        describe(&log)
    );
    for (_, message) in log.iter().filter(|(_, m)| is_reminder(m)) {
        assert!(
            message.text.starts_with("Hello Mia Member,"),
            "{}",
            message.text
        );
        assert!(message.text.contains("(2026-11-10)"), "{}", message.text);
        assert!(message.text.contains("Acme Privacy"), "{}", message.text);
        assert!(
            message
                .text
                .contains(&TASK_LINK.replace("{id}", &task.id.to_string())),
            "{}",
            message.text
        );
        assert!(message.html.contains("Review the retention policy"));
    }
    // The member got nothing else; everything else is the overdue digest (from 11 Nov,
    // the first day the task is overdue) to the owner and the admin.
    assert_eq!(log.iter().filter(|(_, m)| to(m, &org.member)).count(), 3);
    for (at, message) in log.iter().filter(|(_, m)| !is_reminder(m)) {
        assert!(message.subject.contains("overdue"), "{}", describe(&log));
        assert!(*at >= datetime!(2026-11-11 08:00 UTC), "{}", describe(&log));
        assert!(to(message, &org.owner) || to(message, &org.admin));
    }

    // More passes send nothing more.
    for _ in 0..3 {
        world.drain(&worker).await;
    }
    assert!(world.smtp.take().is_empty());

    // The queue agrees: three reminders, each done on its first attempt.
    let jobs = world.reminder_jobs(org).await;
    assert_eq!(jobs.len(), 3, "{jobs:#?}");
    for job in &jobs {
        assert_eq!(job.status, JobStatus::Done, "{job:?}");
        assert_eq!(job.attempts, 1, "{job:?}");
        assert_eq!(job.outcome.as_deref(), Some("sent"), "{job:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Rescheduling, reassigning, completing.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_the_due_date_replaces_the_reminders_of_the_old_date() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Update the privacy notice",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let worker = world.worker("worker-b", 10);

    // Moved before any reminder went out: 10 Nov → 20 Nov.
    let task = world
        .patch(
            &task,
            TaskPatch {
                due_date: Some(Some(date!(2026 - 11 - 20))),
                ..TaskPatch::default()
            },
        )
        .await;
    let first = world
        .step_through(
            &worker,
            datetime!(2026-11-13 09:00 UTC),
            Duration::hours(12),
        )
        .await;
    let member = org.member.email.as_str().to_owned();
    assert_eq!(
        reminders(&first),
        vec![(
            datetime!(2026-11-13 09:00 UTC),
            member.clone(),
            reminder_subject(&task, "in 7 days")
        )],
        "{}",
        describe(&first)
    );
    assert!(
        first[0].1.text.contains("(2026-11-20)"),
        "{}",
        first[0].1.text
    );

    // Moved again after its first reminder went out: 20 Nov → 25 Nov.
    let task = world
        .patch(
            &task,
            TaskPatch {
                due_date: Some(Some(date!(2026 - 11 - 25))),
                ..TaskPatch::default()
            },
        )
        .await;
    let second = world
        .step_through(
            &worker,
            datetime!(2026-11-25 21:00 UTC),
            Duration::hours(12),
        )
        .await;
    assert_eq!(
        reminders(&second),
        vec![
            (
                datetime!(2026-11-18 09:00 UTC),
                member.clone(),
                reminder_subject(&task, "in 7 days")
            ),
            (
                datetime!(2026-11-24 09:00 UTC),
                member.clone(),
                reminder_subject(&task, "tomorrow")
            ),
            (
                datetime!(2026-11-25 09:00 UTC),
                member.clone(),
                reminder_subject(&task, "today")
            ),
        ],
        "reminders of 10 and 20 Nov must never be sent: {}",
        describe(&second)
    );
    for (_, message) in &second {
        assert!(message.text.contains("(2026-11-25)"), "{}", message.text);
    }
    assert!(
        first.iter().chain(&second).all(|(_, m)| is_reminder(m)),
        "nothing was overdue: {}{}",
        describe(&first),
        describe(&second)
    );

    // A stale reminder that slipped past the store (planned for the old date and due
    // now) is skipped by the worker's re-read, not sent.
    let stale = NewJob::of(
        org.tenant.id,
        &TaskReminder {
            task: task.id.as_uuid(),
            due_date: date!(2026 - 11 - 27),
            days_before: 0,
            assignee: org.member.id,
        },
        world.now(),
        5,
    );
    let added = world
        .queue
        .enqueue(
            &world.system.within(org.tenant.id),
            std::slice::from_ref(&stale),
        )
        .await
        .expect("enqueue");
    assert_eq!(added, 1);
    world.drain(&worker).await;
    assert!(world.smtp.take().is_empty());
    let skipped = world.job(stale.id).await;
    assert_eq!(skipped.status, JobStatus::Done, "{skipped:?}");
    assert!(
        skipped
            .outcome
            .as_deref()
            .is_some_and(|o| o.starts_with("skipped")),
        "{skipped:?}"
    );

    // Four reminders were sent in all; the other planned ones never were.
    let jobs = world.reminder_jobs(org).await;
    let sent = jobs
        .iter()
        .filter(|j| j.outcome.as_deref() == Some("sent"))
        .count();
    assert_eq!(sent, 4, "{jobs:#?}");
    assert!(
        jobs.iter()
            .all(|j| matches!(j.status, JobStatus::Done | JobStatus::Cancelled)),
        "{jobs:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassigning_sends_the_remaining_reminders_to_the_new_assignee_only() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Train the support team",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let worker = world.worker("worker-c", 10);

    let before = world
        .step_through(&worker, datetime!(2026-11-03 09:00 UTC), Duration::hours(6))
        .await;
    assert_eq!(
        reminders(&before),
        vec![(
            datetime!(2026-11-03 09:00 UTC),
            org.member.email.as_str().to_owned(),
            reminder_subject(&task, "in 7 days")
        )],
        "{}",
        describe(&before)
    );

    let task = world
        .patch(
            &task,
            TaskPatch {
                assigned_to: Some(Some(org.colleague.id)),
                ..TaskPatch::default()
            },
        )
        .await;
    let after = world
        .step_through(&worker, datetime!(2026-11-10 21:00 UTC), Duration::hours(6))
        .await;
    let colleague = org.colleague.email.as_str().to_owned();
    assert_eq!(
        reminders(&after),
        vec![
            (
                datetime!(2026-11-09 09:00 UTC),
                colleague.clone(),
                reminder_subject(&task, "tomorrow")
            ),
            (
                datetime!(2026-11-10 09:00 UTC),
                colleague.clone(),
                reminder_subject(&task, "today")
            ),
        ],
        "{}",
        describe(&after)
    );
    assert!(
        after[0].1.text.starts_with("Hello Carl Colleague,"),
        "{}",
        after[0].1.text
    );
    assert_eq!(after.len(), 2, "{}", describe(&after));

    // Unassigned: no reminders at all any more.
    let task = world
        .patch(
            &task,
            TaskPatch {
                due_date: Some(Some(date!(2026 - 11 - 30))),
                assigned_to: Some(None),
                ..TaskPatch::default()
            },
        )
        .await;
    assert_eq!(task.fields.assigned_to, None);
    let unassigned = world
        .step_through(
            &worker,
            datetime!(2026-11-30 21:00 UTC),
            Duration::hours(12),
        )
        .await;
    assert!(
        reminders(&unassigned).is_empty(),
        "{}",
        describe(&unassigned)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_already_sent_is_not_planned_again_by_a_change_at_the_same_instant() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Review the DPIA",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let worker = world.worker("worker-h", 10);

    // Exactly at the send time: the 7-day reminder goes out…
    world.set_clock(datetime!(2026-11-03 08:00 UTC));
    world.drain(&worker).await;
    let sent = world.smtp.take();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].subject, reminder_subject(&task, "in 7 days"));

    // …and changes at that same instant (whose plans include the 7-day reminder again,
    // as its moment is not yet past) do not send it twice: a new title, then the task
    // handed to a colleague and back before any pass.
    let task = world
        .patch(
            &task,
            TaskPatch {
                title: Some("Review the DPIA of the CRM".to_owned()),
                ..TaskPatch::default()
            },
        )
        .await;
    let task = world
        .patch(
            &task,
            TaskPatch {
                assigned_to: Some(Some(org.colleague.id)),
                ..TaskPatch::default()
            },
        )
        .await;
    let task = world
        .patch(
            &task,
            TaskPatch {
                assigned_to: Some(Some(org.member.id)),
                ..TaskPatch::default()
            },
        )
        .await;
    world.drain(&worker).await;
    let again = world.smtp.take();
    assert!(again.is_empty(), "sent again: {again:#?}");

    // The remaining reminders come once each, with the new title, to the member only
    // (steps from 08:00: at 08:00 and 20:00, to the eve of the first overdue day).
    let log = world
        .step_through(
            &worker,
            datetime!(2026-11-10 20:00 UTC),
            Duration::hours(12),
        )
        .await;
    let member = org.member.email.as_str().to_owned();
    assert_eq!(
        reminders(&log),
        vec![
            (
                datetime!(2026-11-09 08:00 UTC),
                member.clone(),
                reminder_subject(&task, "tomorrow")
            ),
            (
                datetime!(2026-11-10 08:00 UTC),
                member.clone(),
                reminder_subject(&task, "today")
            ),
        ],
        "{}",
        describe(&log)
    );
    assert_eq!(log.len(), 2, "{}", describe(&log));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_stops_reminders_and_a_recurring_task_reminds_of_its_next_occurrence() {
    let world = World::new().await;
    let org = &world.org;
    let worker = world.worker("worker-d", 10);
    let once = world
        .create_task(
            org,
            "Sign the DPA with Parcel Co",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let monthly = world
        .create_task(
            org,
            "Check the access log",
            date!(2026 - 11 - 10),
            Some(&org.colleague),
            Recurrence::Monthly,
        )
        .await;
    let deleted = world
        .create_task(
            org,
            "Draft the cookie banner",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;

    let reopened = world
        .create_task(
            org,
            "Test the backup restore",
            date!(2026 - 11 - 10),
            Some(&org.member),
            Recurrence::None,
        )
        .await;

    // All four remind 7 days ahead; then three are completed and one deleted.
    let before = world
        .step_through(&worker, datetime!(2026-11-03 09:00 UTC), Duration::hours(6))
        .await;
    assert_eq!(reminders(&before).len(), 4, "{}", describe(&before));
    let ctx = RequestContext::default();
    let (closed, _) = world
        .tasks
        .complete(&org.scope(&org.member), reopened.id, reopened.version, &ctx)
        .await
        .expect("complete");
    world
        .tasks
        .records()
        .delete(&org.scope(&org.owner), deleted.id, deleted.version, &ctx)
        .await
        .expect("delete");
    let (done, next) = world
        .tasks
        .complete(&org.scope(&org.member), once.id, once.version, &ctx)
        .await
        .expect("complete");
    assert!(next.is_none() && done.derived.completed_at == Some(world.now()));
    let (_, next) = world
        .tasks
        .complete(&org.scope(&org.member), monthly.id, monthly.version, &ctx)
        .await
        .expect("complete the recurring task");
    let next = next.expect("the next occurrence");
    assert_eq!(next.fields.due_date, Some(date!(2026 - 12 - 10)));

    // Reopened two days later, a task gets the reminders still ahead again.
    world.set_clock(datetime!(2026-11-05 09:00 UTC));
    world.drain(&worker).await;
    assert!(world.smtp.take().is_empty());
    let reopened = world
        .tasks
        .reopen(&org.scope(&org.member), closed.id, closed.version, &ctx)
        .await
        .expect("reopen");
    let week = world
        .step_through(
            &worker,
            datetime!(2026-11-10 21:00 UTC),
            Duration::hours(12),
        )
        .await;
    let member = org.member.email.as_str().to_owned();
    assert_eq!(
        week.iter()
            .map(|(at, m)| (*at, m.recipients.join(","), m.subject.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                datetime!(2026-11-09 09:00 UTC),
                member.clone(),
                reminder_subject(&reopened, "tomorrow")
            ),
            (
                datetime!(2026-11-10 09:00 UTC),
                member.clone(),
                reminder_subject(&reopened, "today")
            ),
        ],
        "only the reopened task reminds: {}",
        describe(&week)
    );
    world
        .tasks
        .complete(&org.scope(&org.member), reopened.id, reopened.version, &ctx)
        .await
        .expect("complete again");

    // Nothing more about the completed and deleted tasks (no reminder, no digest); the
    // next occurrence reminds its assignee at its own offsets.
    let after = world
        .step_through(
            &worker,
            datetime!(2026-12-10 21:00 UTC),
            Duration::hours(12),
        )
        .await;
    let colleague = org.colleague.email.as_str().to_owned();
    assert_eq!(
        after
            .iter()
            .map(|(at, m)| (*at, m.recipients.join(","), m.subject.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                datetime!(2026-12-03 09:00 UTC),
                colleague.clone(),
                reminder_subject(&next, "in 7 days")
            ),
            (
                datetime!(2026-12-09 09:00 UTC),
                colleague.clone(),
                reminder_subject(&next, "tomorrow")
            ),
            (
                datetime!(2026-12-10 09:00 UTC),
                colleague.clone(),
                reminder_subject(&next, "today")
            ),
        ],
        "{}",
        describe(&after)
    );
    for (_, message) in &after {
        assert!(message.text.contains("(2026-12-10)"), "{}", message.text);
        assert!(
            message
                .text
                .contains(&TASK_LINK.replace("{id}", &next.id.to_string())),
            "the link points to the new occurrence: {}",
            message.text
        );
    }
}

// ---------------------------------------------------------------------------------------
// The daily overdue digest.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overdue_digest_goes_daily_to_owners_and_admins_of_tenants_with_overdue_work() {
    let world = World::new().await;
    let acme = &world.org;
    let calm = add_org(&world.stores, "Calm Co", START).await;
    let dormant = add_org(&world.stores, "Dormant Ltd", START).await;
    let overdue = world
        .create_task(
            acme,
            "Answer the access request",
            date!(2026 - 11 - 05),
            Some(&acme.member),
            Recurrence::None,
        )
        .await;
    world
        .create_task(
            &calm,
            "Plan the next audit",
            date!(2026 - 12 - 31),
            Some(&calm.member),
            Recurrence::None,
        )
        .await;
    world
        .create_task(
            &dormant,
            "Erase old backups",
            date!(2026 - 11 - 05),
            Some(&dormant.member),
            Recurrence::None,
        )
        .await;
    let mut suspended = dormant.tenant.clone();
    suspended.is_active = false;
    let read = suspended.bump_version();
    world
        .stores
        .tenants()
        .update(
            &dormant.scope(&dormant.owner),
            &suspended,
            read,
            event(
                dormant.owner.id,
                aura_identity::actions::TENANT_SUSPENDED,
                "tenant",
                suspended.id,
            ),
        )
        .await
        .expect("suspend the tenant");
    let worker = world.worker("worker-e", 10);

    // Before the send time of the first day the task is overdue: reminders only.
    world.set_clock(datetime!(2026-11-06 07:59 UTC));
    world.drain(&worker).await;
    let early = world.smtp.take();
    assert!(early.iter().all(is_reminder), "{early:#?}");

    // At 08:00: one digest each for Acme's owner and admin, nobody else anywhere.
    world.set_clock(datetime!(2026-11-06 08:00 UTC));
    world.drain(&worker).await;
    let digests = world.smtp.take();
    let subject = "1 overdue privacy task at Acme Privacy";
    let check = |digests: &[Message]| {
        assert_eq!(digests.len(), 2, "{digests:#?}");
        for user in [&acme.owner, &acme.admin] {
            let mine: Vec<_> = digests.iter().filter(|m| to(m, user)).collect();
            assert_eq!(mine.len(), 1, "{user:?}: {digests:#?}");
            assert_eq!(mine[0].subject, subject);
            assert!(
                mine[0]
                    .text
                    .contains("- Answer the access request (due 2026-11-05, Mia Member)"),
                "{}",
                mine[0].text
            );
            assert!(
                mine[0]
                    .text
                    .starts_with(&format!("Hello {},", user.full_name.as_str())),
                "{}",
                mine[0].text
            );
        }
    };
    check(&digests);
    let nobody_else: Vec<&User> = [&acme.member, &acme.colleague, &acme.viewer]
        .into_iter()
        .chain(calm.everyone())
        .chain(dormant.everyone())
        .collect();
    assert!(
        digests
            .iter()
            .all(|m| nobody_else.iter().all(|u| !to(m, u))),
        "{digests:#?}"
    );

    // Once a day: later passes that day send nothing more.
    world.set_clock(datetime!(2026-11-06 15:00 UTC));
    world.drain(&worker).await;
    assert!(world.smtp.take().is_empty());

    // The next day, the next digest.
    world.set_clock(datetime!(2026-11-07 08:30 UTC));
    world.drain(&worker).await;
    check(&world.smtp.take());

    // Once done, no more digests.
    world
        .tasks
        .complete(
            &acme.scope(&acme.member),
            overdue.id,
            overdue.version,
            &RequestContext::default(),
        )
        .await
        .expect("complete");
    world.set_clock(datetime!(2026-11-08 08:30 UTC));
    world.drain(&worker).await;
    assert!(world.smtp.take().is_empty());

    // The suspended tenant's member never got a reminder either; Acme's member got the
    // two still ahead when the task was created.
    assert!(
        early
            .iter()
            .all(|m| dormant.everyone().iter().all(|u| !to(m, u))),
        "{early:#?}"
    );
    assert_eq!(
        early
            .iter()
            .map(|m| (m.recipients.join(","), m.subject.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                acme.member.email.as_str().to_owned(),
                reminder_subject(&overdue, "tomorrow")
            ),
            (
                acme.member.email.as_str().to_owned(),
                reminder_subject(&overdue, "today")
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// A failing SMTP server.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_smtp_server_leads_to_retries_then_dead_letter_never_a_crash() {
    let world = World::new().await;
    let org = &world.org;
    // Due tomorrow: of 7, 1 and 0 days before, only "on the day" is still ahead.
    let task = world
        .create_task(
            org,
            "Rehearse the breach drill",
            date!(2026 - 11 - 02),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let jobs = world.reminder_jobs(org).await;
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    let id = jobs[0].id;
    assert_eq!(jobs[0].run_at, datetime!(2026-11-02 08:00 UTC));
    assert_eq!(jobs[0].max_attempts, 5);
    let worker = world.worker_with(
        world.clock.clone(),
        "worker-f",
        10,
        StdDuration::from_secs(1),
    );

    world.set_clock(datetime!(2026-11-02 08:00 UTC));
    let failures = [
        (Mode::Defer(Stage::Rcpt), "(451)"),
        (Mode::Drop, "smtp"),
        (Mode::Stall, "timed out"),
        (Mode::Defer(Stage::Data), "(451)"),
        (Mode::Refuse(Stage::Data), "(554)"),
    ];
    let mut wait: Duration = Duration::minutes(1);
    for (attempt, (mode, reason)) in (1..).zip(failures) {
        world.smtp.set_mode(mode);
        world.drain(&worker).await;
        let job = world.job(id).await;
        assert_eq!(job.attempts, attempt, "{mode:?}: {job:?}");
        let error = job.last_error.clone().unwrap_or_default();
        assert!(error.contains(reason), "{mode:?}: {job:?}");
        assert!(
            !error.contains(org.member.email.as_str()),
            "no address in the reason: {error}"
        );
        if attempt < 5 {
            assert_eq!(job.status, JobStatus::Queued, "{mode:?}: {job:?}");
            assert_eq!(job.run_at, world.now() + wait, "back-off: {job:?}");
            // Not before its time…
            world.set_clock(job.run_at - Duration::seconds(1));
            world.drain(&worker).await;
            assert_eq!(world.job(id).await.attempts, attempt);
            // …then again.
            world.set_clock(job.run_at);
            wait = (wait * 2_i32).min(Duration::hours(1));
        } else {
            assert_eq!(job.status, JobStatus::Dead, "{job:?}");
        }
    }
    assert!(world.smtp.messages().is_empty());
    let stats = world.smtp.stats();
    assert_eq!(
        (stats.deferred, stats.dropped, stats.stalled, stats.refused),
        (2, 1, 1, 1),
        "{stats:?}"
    );
    let queue = world
        .queue
        .stats(&world.system, world.now())
        .await
        .expect("queue stats");
    assert_eq!(queue.dead, 1, "{queue:?}");

    // Dead stays dead, even with the server healthy again.
    world.smtp.set_mode(Mode::Accept);
    world.set_clock(world.now() + Duration::hours(2));
    world.drain(&worker).await;
    assert_eq!(world.job(id).await.status, JobStatus::Dead);
    assert!(world.smtp.messages().is_empty());

    // An operator's retry: queued now with fresh attempts, then delivered exactly once.
    let retried = world
        .queue
        .retry(&world.system, id, world.now())
        .await
        .expect("retry the dead job");
    assert_eq!(retried.status, JobStatus::Queued, "{retried:?}");
    assert_eq!(retried.attempts, 0, "{retried:?}");
    assert_eq!(retried.run_at, world.now(), "{retried:?}");
    world.drain(&worker).await;
    world.drain(&worker).await;
    let delivered = world.smtp.take();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert!(to(&delivered[0], &org.member));
    assert_eq!(delivered[0].subject, reminder_subject(&task, "today"));
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts, job.outcome.as_deref()),
        (JobStatus::Done, 1, Some("sent")),
        "{job:?}"
    );

    // A live (done) job is not retried; an unknown one is not found.
    match world.queue.retry(&world.system, id, world.now()).await {
        Err(StoreError::Conflict(rule)) => assert_eq!(rule, Conflict::JobState),
        other => panic!("retry of a done job: {other:?}"),
    }
    match world
        .queue
        .retry(&world.system, uuid::Uuid::now_v7(), world.now())
        .await
    {
        Err(StoreError::NotFound) => {}
        other => panic!("retry of an unknown job: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_recovers_before_the_attempts_run_out_gets_the_reminder_once() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Renew the cookie consent",
            date!(2026 - 11 - 02),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let id = world.reminder_jobs(org).await[0].id;
    let worker = world.worker("worker-g", 10);

    world.set_clock(datetime!(2026-11-02 08:00 UTC));
    for (attempt, mode) in (1..).zip([Mode::Defer(Stage::Rcpt), Mode::Refuse(Stage::Rcpt)]) {
        world.smtp.set_mode(mode);
        world.drain(&worker).await;
        let job = world.job(id).await;
        assert_eq!((job.status, job.attempts), (JobStatus::Queued, attempt));
        assert!(job.run_at > world.now(), "{job:?}");
        world.set_clock(job.run_at);
    }
    world.smtp.set_mode(Mode::Accept);
    world.drain(&worker).await;
    world.set_clock(world.now() + Duration::hours(3));
    world.drain(&worker).await;

    let delivered = world.smtp.take();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert!(to(&delivered[0], &org.member));
    assert_eq!(delivered[0].subject, reminder_subject(&task, "today"));
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts, job.outcome.as_deref()),
        (JobStatus::Done, 3, Some("sent")),
        "{job:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Exactly once in effect.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_at_once_never_send_the_same_reminder_twice() {
    let world = World::new().await;
    let org = &world.org;
    for i in 0..30 {
        let assignee = if i % 2 == 0 {
            &org.member
        } else {
            &org.colleague
        };
        world
            .create_task(
                org,
                &format!("Drill task {i:02}"),
                date!(2026 - 11 - 09),
                Some(assignee),
                Recurrence::None,
            )
            .await;
    }
    // Every reminder (3 per task) is due, and the digest of the day too.
    world.set_clock(datetime!(2026-11-10 09:00 UTC));
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let run = |worker: Worker| {
        let system = world.system.clone();
        let barrier = Arc::clone(&barrier);
        tokio::spawn(async move {
            barrier.wait().await;
            let mut claimed = 0;
            loop {
                let ran = worker.run_once(&system).await.expect("a pass never fails");
                if ran == 0 {
                    return claimed;
                }
                claimed += ran;
            }
        })
    };
    let a = run(world.worker("worker-1", 4));
    let b = run(world.worker("worker-2", 4));
    let (a, b) = tokio::time::timeout(BOUND, async { tokio::join!(a, b) })
        .await
        .expect("both workers finish in time");
    let (a, b) = (a.expect("worker 1"), b.expect("worker 2"));
    let rest = world.drain(&world.worker("mop-up", 4)).await;
    eprintln!("claims: worker 1 {a}, worker 2 {b}, mop-up {rest}");

    let jobs = world.jobs(org).await;
    assert!(
        jobs.iter()
            .all(|j| j.status == JobStatus::Done && j.attempts == 1),
        "every job done on its first and only claim: {jobs:#?}"
    );
    assert_eq!(
        a + b + rest,
        jobs.len(),
        "claims (worker 1: {a}, worker 2: {b}, after: {rest}) = jobs: no job claimed twice"
    );

    let messages = world.smtp.take();
    let mut count: HashMap<(String, String), usize> = HashMap::new();
    for message in &messages {
        *count
            .entry((message.recipients.join(","), message.subject.clone()))
            .or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:#?}");
    let reminders: Vec<_> = messages.iter().filter(|m| is_reminder(m)).collect();
    assert_eq!(reminders.len(), 90);
    assert_eq!(reminders.iter().filter(|m| to(m, &org.member)).count(), 45);
    assert_eq!(
        reminders.iter().filter(|m| to(m, &org.colleague)).count(),
        45
    );
    let digests: Vec<_> = messages.iter().filter(|m| !is_reminder(m)).collect();
    assert_eq!(digests.len(), 2, "one digest each for owner and admin");
    assert!(
        digests
            .iter()
            .all(|m| m.subject == "30 overdue privacy tasks at Acme Privacy")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_that_runs_out_hands_the_job_over_and_its_old_holder_cannot_finish_it() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Renew the DPA with Mailer Inc",
            date!(2026 - 11 - 02),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let id = world.reminder_jobs(org).await[0].id;
    let claimed_at = datetime!(2026-11-02 08:00 UTC);
    world.set_clock(claimed_at);

    // A worker takes the job and goes silent (it died, or hangs).
    let ghost = world
        .queue
        .claim(&world.system, "ghost", claimed_at, Duration::minutes(5), 10)
        .await
        .expect("claim");
    assert_eq!(ghost.len(), 1, "{ghost:?}");
    assert_eq!((ghost[0].id, ghost[0].attempts), (id, 1));

    // Until its lease runs out nobody else takes it…
    let heir = world.worker("heir", 10);
    world.set_clock(claimed_at + Duration::minutes(5) - Duration::seconds(1));
    world.drain(&heir).await;
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Running, 1),
        "{job:?}"
    );
    assert!(world.smtp.messages().is_empty());

    // …then another worker does, and delivers it once.
    world.set_clock(claimed_at + Duration::minutes(5));
    world.drain(&heir).await;
    let delivered = world.smtp.take();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert_eq!(delivered[0].subject, reminder_subject(&task, "today"));
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts, job.outcome.as_deref()),
        (JobStatus::Done, 2, Some("sent")),
        "{job:?}"
    );

    // The old holder, back again, can neither finish nor fail it.
    let scope = world.system.within(org.tenant.id);
    let now = world.now();
    let completed = world
        .queue
        .complete(&scope, &ghost[0], "sent", now)
        .await
        .expect("complete");
    let failed = world
        .queue
        .fail(&scope, &ghost[0], "smtp timed out", Some(now), now)
        .await
        .expect("fail");
    assert!(!completed && !failed, "a stale lease finished the job");
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts, job.outcome.as_deref()),
        (JobStatus::Done, 2, Some("sent")),
        "{job:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_workers_keep_dying_ends_dead_with_a_reason_not_lost() {
    let world = World::new().await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Rotate the encryption keys",
            date!(2026 - 11 - 02),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let id = world.reminder_jobs(org).await[0].id;
    world.set_clock(datetime!(2026-11-02 08:00 UTC));

    // Five workers in a row take it and die (the policy allows five attempts).
    for attempt in 1..=5 {
        let claimed = world
            .queue
            .claim(
                &world.system,
                "doomed",
                world.now(),
                Duration::minutes(1),
                10,
            )
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "attempt {attempt}: {claimed:?}");
        assert_eq!((claimed[0].id, claimed[0].attempts), (id, attempt));
        world.set_clock(world.now() + Duration::minutes(1));
    }
    // The last lease ran out: dead, saying why, and not handed out again.
    let worker = world.worker("worker-i", 10);
    world.drain(&worker).await;
    let job = world.job(id).await;
    assert_eq!((job.status, job.attempts), (JobStatus::Dead, 5), "{job:?}");
    assert!(
        job.last_error
            .as_deref()
            .is_some_and(|e| e.contains("lease")),
        "{job:?}"
    );
    assert!(world.smtp.messages().is_empty());

    // Not lost: an operator's retry delivers it once.
    world
        .queue
        .retry(&world.system, id, world.now())
        .await
        .expect("retry");
    world.drain(&worker).await;
    let delivered = world.smtp.take();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert_eq!(delivered[0].subject, reminder_subject(&task, "today"));
    assert_eq!(world.job(id).await.status, JobStatus::Done);
}

// ---------------------------------------------------------------------------------------
// A worker process killed mid-job.

/// The real `aura-api` binary on the world's database, delivering to `smtp_port`.
struct ApiProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
}

impl ApiProcess {
    async fn spawn(db: &TestDatabase, smtp_port: u16, lease_secs: u32) -> Self {
        let dir = std::env::temp_dir().join(format!("aura-worker-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let pepper = STANDARD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
        let mut child = Command::new(env!("CARGO_BIN_EXE_aura-api"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ENV", "development")
            .env("DATABASE_URL", db.app_url())
            .env("MIGRATION_DATABASE_URL", db.owner_url())
            .env("RUN_MIGRATIONS", "true")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("WORKERS", "1")
            .env("BCRYPT_COST", "10")
            .env("JWT_KEYS_DIR", dir.join("keys"))
            .env("PASSWORD_PEPPER", pepper)
            .env("AUDIT_CHAIN_KEY", support::TEST_AUDIT_CHAIN_KEY)
            .env("AUDIT_CHECKPOINT_MAIL_DAYS", "0")
            .env("MAIL_TRANSPORT", "smtp")
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", smtp_port.to_string())
            .env("SMTP_TLS", "none")
            .env("WORKER_LEASE_SECS", lease_secs.to_string())
            .env("WORKER_POLL_MS", "100")
            .env("WORKER_BATCH", "1")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("aura-api starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                lines.lock().unwrap().push(line);
            }
        });
        Self { child, log, dir }
    }

    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_delivery_leaves_the_job_to_be_retried_not_lost() {
    // A reminder that fell due days ago by the wall clock: planned by a task service
    // whose clock stood six days back, 7 days before a due date three days ahead.
    let real_now = OffsetDateTime::now_utc();
    let world = World::with(
        real_now - Duration::days(6),
        ReminderPolicy {
            offsets_days: vec![7],
            send_at: time!(08:00),
        },
    )
    .await;
    let org = &world.org;
    let task = world
        .create_task(
            org,
            "Renew the DPA with Parcel Co",
            (real_now + Duration::days(3)).date(),
            Some(&org.member),
            Recurrence::None,
        )
        .await;
    let jobs = world.reminder_jobs(org).await;
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    let id = jobs[0].id;
    assert!(jobs[0].run_at < real_now, "{jobs:?}");

    // The real binary's worker takes the job and hangs at the end of DATA…
    world.smtp.set_mode(Mode::Stall);
    let lease_secs = 3;
    let mut api = ApiProcess::spawn(&world.db, world.smtp.port(), lease_secs).await;
    let reached = tokio::time::timeout(
        StdDuration::from_secs(60),
        world.smtp.wait_until(
            "aura-api's worker reaches DATA",
            StdDuration::from_secs(60),
            |s| s.stalled >= 1,
        ),
    )
    .await;
    if reached.is_err() {
        panic!("aura-api never delivered; its log:\n{}", api.log_tail());
    }
    let stalled_at = Instant::now();
    let stalled = world.smtp.stalled();
    // (Only the prefix of the subject: it says how far off the due date is.)
    let about_the_task = format!("Reminder: \u{201c}{}\u{201d} is due ", task.fields.title);
    assert!(to(&stalled[0], &org.member));
    assert!(
        stalled[0].subject.starts_with(&about_the_task),
        "{}",
        stalled[0].subject
    );
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Running, 1),
        "{job:?}"
    );

    // …and is killed there (SIGKILL: no clean-up of any kind).
    api.child.kill().await.expect("kill -9 aura-api");
    let status = api.child.wait().await.expect("exit status");
    assert!(!status.success(), "{status:?}");
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    // The job is neither lost nor done: still leased to the dead worker.
    let job = world.job(id).await;
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Running, 1),
        "{job:?}"
    );
    assert!(world.smtp.messages().is_empty());

    // Another worker (on the wall clock) against a healthy server.
    world.smtp.set_mode(Mode::Accept);
    let survivor = world.worker_with(
        Arc::new(SystemClock),
        "survivor",
        10,
        StdDuration::from_secs(5),
    );
    // While the dead worker's lease runs, the job is not taken over.
    if stalled_at.elapsed() < StdDuration::from_secs(1) {
        survivor
            .run_once(&world.system)
            .await
            .expect("a pass never fails");
        let job = world.job(id).await;
        assert_eq!(
            (job.status, job.attempts),
            (JobStatus::Running, 1),
            "taken over before the lease ran out: {job:?}"
        );
    } else {
        eprintln!("note: too slow to check the lease before it ran out");
    }
    // Once it has run out, the job is claimed again and delivered exactly once.
    let taken_over = tokio::time::timeout(StdDuration::from_secs(20), async {
        loop {
            survivor
                .run_once(&world.system)
                .await
                .expect("a pass never fails");
            let job = world.job(id).await;
            if job.status == JobStatus::Done {
                return job;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    })
    .await
    .expect("the job is taken over after the lease ran out");
    assert!(
        stalled_at.elapsed() >= StdDuration::from_secs(lease_secs.into()) / 2,
        "taken over suspiciously early"
    );
    assert_eq!(
        (taken_over.attempts, taken_over.outcome.as_deref()),
        (2, Some("sent")),
        "{taken_over:?}"
    );
    for _ in 0..3 {
        survivor
            .run_once(&world.system)
            .await
            .expect("a pass never fails");
    }
    let delivered = world.smtp.take();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert!(to(&delivered[0], &org.member));
    assert!(
        delivered[0].subject.starts_with(&about_the_task),
        "{}",
        delivered[0].subject
    );
    let due = format!("({})", task.fields.due_date.expect("due date"));
    assert!(delivered[0].text.contains(&due), "{}", delivered[0].text);
}
