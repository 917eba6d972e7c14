//! A breach's escalation alerts on PostgreSQL, with a fixed clock stepped hour by hour
//! and two workers draining the queue at once after every step (the job kinds registered
//! as the service registers them, mails counted by a recording mailer):
//!
//! - at awareness and 24, 48, 60 and 70 hours after it, one alert to each of the
//!   breach's owner and assignee and the tenant's owners and admins — exactly once
//!   each, at the step's hour, naming the breach and the hours left; a drill's say so;
//! - none once the authority is notified or the decision not to notify is recorded,
//!   also for a step already fanned out into its mails;
//! - a corrected awareness time re-plans: the old instant's steps never go out, the new
//!   one's do; a breach recorded late alerts once (the latest step past), not in a burst;
//! - and through the real binary (wall clock, mail files): a breach recorded through the
//!   API is escalated by the service's own wiring.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration as StdDuration,
};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_postgres::{PgStores, testing::TestDatabase};
use aura_audit::RequestContext;
use aura_breaches::{
    Breach, BreachCases, BreachFields, BreachKind, BreachRules, Breaches, EscalationPlanner,
    PhaseSent, RiskLevel,
    escalation::{BreachAlert, BreachAlertMail},
    jobs::{BreachJobPorts, BreachJobSettings},
};
use aura_identity::{
    User,
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};
use aura_jobs::{
    Job, JobFilter, JobQueue, JobStatus, JobSummary, PlannedRecords, RetryPolicy, Worker,
    WorkerPorts, WorkerSettings,
};
use aura_port_contracts::{
    Stores,
    fixtures::{TenantFixture, add_user, register_tenant},
};
use aura_records::RecordUseCases;
use aura_shared_kernel::{Clock, FixedClock, Role, SystemScope, TenantScope};
use aura_tasks::{ReminderPolicy, TaskJobPorts, TaskJobSettings};
use reqwest::{Method, StatusCode};
use serde_json::json;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339, macros::datetime};

/// The first moment: every breach of a test becomes known here unless it says otherwise.
const START: OffsetDateTime = datetime!(2027-03-05 09:00 UTC);
const LINK: &str = "https://app.aura.test/breaches/{id}";
/// Bounds every single wait of the suite.
const BOUND: StdDuration = StdDuration::from_secs(60);

/// Every mail sent, with the clock when it was sent.
#[derive(Clone)]
struct Outbox {
    sent: Arc<Mutex<Vec<(OffsetDateTime, OutgoingMail)>>>,
    clock: Arc<FixedClock>,
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        self.sent.lock().unwrap().push((self.clock.now(), mail));
        Ok(())
    }
}

impl Outbox {
    fn take(&self) -> Vec<(OffsetDateTime, OutgoingMail)> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }
}

struct World {
    clock: Arc<FixedClock>,
    cases: BreachCases,
    workers: [Arc<Worker>; 2],
    outbox: Outbox,
    queue: Arc<dyn JobQueue>,
    org: TenantFixture,
    admin: User,
    /// The breaches' owner.
    member: User,
    /// The breaches' assignee.
    colleague: User,
    viewer: User,
    _db: TestDatabase,
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::minutes(1),
        max_delay: Duration::minutes(10),
    }
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

impl World {
    async fn new() -> Self {
        let db = TestDatabase::create().await;
        let clock = Arc::new(FixedClock::at(START));
        let pg: PgStores = db
            .stores(Arc::new(HmacChainHasher::with_test_key()), clock.clone())
            .await
            .expect("stores on the test database");
        let stores = Stores::from_single(pg.clone(), clock.clone());
        let org = register_tenant(&stores).await;
        let admin = add_user(&stores, &org, Role::Admin).await;
        let member = add_user(&stores, &org, Role::Member).await;
        let colleague = add_user(&stores, &org, Role::Member).await;
        let viewer = add_user(&stores, &org, Role::Viewer).await;
        // The register's store plans the escalation on every write, as the service's.
        let records = PlannedRecords::<Breaches> {
            records: Arc::new(pg.clone()),
            writes: Arc::new(pg.clone()),
            planner: Arc::new(EscalationPlanner {
                retry: retry(),
                clock: clock.clone(),
            }),
        };
        let use_cases = RecordUseCases::new(
            Arc::new(records),
            Arc::new(BreachRules {
                clock: clock.clone(),
                organisation: Arc::new(pg.clone()),
                activities: Arc::new(pg.clone()),
                zones: Arc::new(aura_adapter_holidays::IanaTimeZones::new()),
            }),
            Arc::new(pg.clone()),
            clock.clone(),
        );
        let cases = BreachCases::new(use_cases, clock.clone());
        let outbox = Outbox {
            sent: Arc::default(),
            clock: clock.clone(),
        };
        let worker = |id: &str| {
            let registry = aura_api::worker::job_registry(
                TaskJobPorts {
                    queue: Arc::new(pg.clone()),
                    tasks: Arc::new(pg.clone()),
                    tenants: pg.tenants(),
                    users: pg.users(),
                    mailer: Arc::new(outbox.clone()),
                    clock: clock.clone(),
                    sections: Vec::new(),
                },
                TaskJobSettings {
                    task_link: "https://app.aura.test/tasks/{id}".to_owned(),
                    digest_lines: 20,
                    reminders: ReminderPolicy::default(),
                    retry: retry(),
                },
                Arc::new(pg.clone()),
                None,
                Some((
                    BreachJobPorts {
                        queue: Arc::new(pg.clone()),
                        breaches: Arc::new(pg.clone()),
                        tenants: pg.tenants(),
                        users: pg.users(),
                        mailer: Arc::new(outbox.clone()),
                        clock: clock.clone(),
                    },
                    BreachJobSettings {
                        breach_link: LINK.to_owned(),
                        retry: retry(),
                    },
                )),
                None,
            )
            .expect("one handler per kind");
            Arc::new(Worker::new(
                WorkerPorts {
                    queue: Arc::new(pg.clone()),
                    clock: clock.clone(),
                },
                WorkerSettings {
                    worker_id: id.to_owned(),
                    lease: Duration::minutes(5),
                    batch: 3,
                    retry: retry(),
                },
                registry,
            ))
        };
        Self {
            workers: [worker("worker-1"), worker("worker-2")],
            queue: Arc::new(pg.clone()),
            clock,
            cases,
            outbox,
            org,
            admin,
            member,
            colleague,
            viewer,
            _db: db,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn scope(&self, user: &User) -> TenantScope {
        self.org.scope_of(user)
    }

    /// Both workers drain the queue at once; returns how many jobs each ran.
    async fn drain(&self) -> [usize; 2] {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let runs = self.workers.clone().map(|worker| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let system = SystemScope::for_platform_operation("breach-job-tests");
                barrier.wait().await;
                let mut ran = 0;
                for _ in 0..500 {
                    match worker.run_once(&system).await.expect("a pass never fails") {
                        0 => return ran,
                        n => ran += n,
                    }
                }
                panic!("the queue never ran dry");
            })
        });
        let [a, b] = runs;
        let (a, b) = tokio::time::timeout(BOUND, async { tokio::join!(a, b) })
            .await
            .expect("both workers finish in time");
        [a.expect("worker 1"), b.expect("worker 2")]
    }

    /// Steps the clock hour by hour until `until`, both workers draining after each
    /// step; every mail sent on the way, with the clock at its sending.
    async fn step_until(&self, until: OffsetDateTime) -> Vec<(OffsetDateTime, OutgoingMail)> {
        let mut sent = Vec::new();
        while self.now() < until {
            self.clock.advance(Duration::hours(1));
            self.drain().await;
            sent.extend(self.outbox.take());
        }
        sent
    }

    fn fields(&self, title: &str, became_aware_at: OffsetDateTime) -> BreachFields {
        BreachFields {
            title: title.to_owned(),
            description: Some("Erika Mustermann's records were sent to the wrong address".into()),
            discovery: None,
            became_aware_at,
            occurred_from: None,
            occurred_to: None,
            kinds: vec![BreachKind::Confidentiality],
            data_subject_categories: vec!["customers".into()],
            approximate_subjects: Some(1),
            data_categories: vec!["contact data".into()],
            approximate_records: Some(1),
            activity_ids: vec![],
            processor_ids: vec![],
            consequences: None,
            measures: None,
            contact_point: None,
            drill: false,
            owner_id: Some(self.member.id),
            assignee_id: Some(self.colleague.id),
        }
    }

    async fn record(&self, fields: BreachFields) -> Breach {
        let scope = self.scope(&self.member);
        (self.cases.records())
            .create(&scope, fields, None, &ctx())
            .await
            .expect("record the breach")
    }

    async fn jobs(&self, kind: &str) -> Vec<JobSummary> {
        let filter = JobFilter {
            status: None,
            tenant: Some(self.org.tenant.id),
            limit: 10_000,
        };
        let system = SystemScope::for_platform_operation("breach-job-tests");
        let jobs = self.queue.list(&system, &filter).await.expect("list jobs");
        jobs.into_iter().filter(|j| j.kind == kind).collect()
    }

    /// Everyone an alert goes to: the breach's owner and assignee, the tenant's owner
    /// and admin — never the viewer.
    fn recipients(&self) -> Vec<String> {
        let mut to: Vec<String> = [&self.org.owner, &self.admin, &self.member, &self.colleague]
            .iter()
            .map(|u| u.email.as_str().to_owned())
            .collect();
        to.sort();
        to
    }
}

fn subject(title: &str, hours_left: i64) -> String {
    format!(
        "Breach \u{201c}{title}\u{201d}: {hours_left} hours left to notify the supervisory authority"
    )
}

/// (when sent, subject) → recipients, sorted.
fn by_step(sent: &[(OffsetDateTime, OutgoingMail)]) -> Vec<(OffsetDateTime, String, Vec<String>)> {
    let mut steps: HashMap<(OffsetDateTime, String), Vec<String>> = HashMap::new();
    for (at, mail) in sent {
        (steps.entry((*at, mail.subject.clone())).or_default()).push(mail.to.as_str().to_owned());
    }
    let mut steps: Vec<_> = steps
        .into_iter()
        .map(|((at, subject), mut to)| {
            to.sort();
            (at, subject, to)
        })
        .collect();
    steps.sort();
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_reaches_owner_assignee_and_admins_exactly_once_with_two_workers() {
    let world = World::new().await;
    let titles: Vec<String> = (0..6).map(|i| format!("Misdirected letter {i}")).collect();
    for title in &titles {
        world.record(world.fields(title, START)).await;
    }
    let mut drill = world.fields("Ransomware exercise", START);
    drill.drill = true;
    world.record(drill).await;

    // The awareness step is due at once; then hour by hour to well past the deadline.
    let [a, b] = world.drain().await;
    let mut sent = world.outbox.take();
    sent.extend(world.step_until(START + Duration::hours(80)).await);
    eprintln!("at awareness: worker 1 ran {a} jobs, worker 2 {b}");

    let everyone = world.recipients();
    let steps = by_step(&sent);
    let hours = [(0, 72), (24, 48), (48, 24), (60, 12), (70, 2)];
    let mut expected: Vec<(OffsetDateTime, String, Vec<String>)> = Vec::new();
    for (after, left) in hours {
        let at = START + Duration::hours(after);
        for title in &titles {
            expected.push((at, subject(title, left), everyone.clone()));
        }
        let drill = format!("[Drill] {}", subject("Ransomware exercise", left));
        expected.push((at, drill, everyone.clone()));
    }
    expected.sort();
    assert_eq!(
        steps, expected,
        "each step once to each recipient, at its hour"
    );
    assert_eq!(sent.len(), 7 * 5 * 4);
    let viewer = world.viewer.email.as_str();
    for (_, mail) in &sent {
        assert!(mail.to.as_str() != viewer, "a viewer is not alerted");
        for personal in ["Erika", "Mustermann", "wrong address", "customers"] {
            assert!(!mail.text.contains(personal), "{personal}: {}", mail.text);
        }
        assert!(mail.text.contains("https://app.aura.test/breaches/"));
    }
    // Every planned step and every mail ran once, on its first claim.
    for kind in ["breach_alert", "breach_alert_mail"] {
        let jobs = world.jobs(kind).await;
        assert!(
            jobs.iter()
                .all(|j| j.status == JobStatus::Done && j.attempts == 1),
            "{kind}: {jobs:#?}"
        );
    }
    assert_eq!(world.jobs(BreachAlert::KIND).await.len(), 7 * 5);
    assert_eq!(world.jobs(BreachAlertMail::KIND).await.len(), 7 * 5 * 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_alert_once_the_authority_is_notified_or_the_decision_not_to_notify_is_recorded() {
    let world = World::new().await;
    let notified = world.record(world.fields("Notified breach", START)).await;
    let not_notified = world.record(world.fields("Harmless breach", START)).await;
    let left_open = world.record(world.fields("Open breach", START)).await;
    world.drain().await;
    assert_eq!(
        world.outbox.take().len(),
        3 * 4,
        "the awareness step of each"
    );
    let sent = world.step_until(START + Duration::hours(30)).await;
    assert_eq!(sent.len(), 3 * 4, "the 24-hour step of each");

    let scope = world.scope(&world.member);
    let assessed = (world.cases)
        .assess(
            &scope,
            notified.id,
            1,
            RiskLevel::Risk,
            "contact data of one customer",
            &ctx(),
        )
        .await
        .unwrap();
    let phase = PhaseSent {
        sent_at: None,
        authority_reference: Some("DPA-2027-17".into()),
        content: "Initial notification".into(),
        to_follow: vec![],
        delay_reasons: None,
    };
    (world.cases)
        .notify_authority(&scope, notified.id, assessed.version, phase, &ctx())
        .await
        .unwrap();
    let assessed = (world.cases)
        .assess(
            &scope,
            not_notified.id,
            1,
            RiskLevel::NoRisk,
            "encrypted",
            &ctx(),
        )
        .await
        .unwrap();
    (world.cases)
        .decide_not_to_notify(
            &scope,
            not_notified.id,
            assessed.version,
            "encrypted",
            &ctx(),
        )
        .await
        .unwrap();

    // The open breach's 48-hour step is fanned out into its mails, which are not sent
    // yet, when its decision is recorded too: the mails skip.
    let sent = world.step_until(START + Duration::hours(47)).await;
    assert!(sent.is_empty(), "{:?}", by_step(&sent));
    world.clock.advance(Duration::hours(1));
    let system = SystemScope::for_platform_operation("breach-job-tests");
    let ran = world.workers[0].run_once(&system).await.unwrap();
    assert_eq!(ran, 1, "the one job due: the open breach's 48-hour step");
    let queued_mails = world
        .jobs(BreachAlertMail::KIND)
        .await
        .into_iter()
        .filter(|j| j.status == JobStatus::Queued)
        .count();
    assert_eq!(queued_mails, 4, "the open breach's step fanned out");
    let assessed = (world.cases)
        .assess(
            &scope,
            left_open.id,
            1,
            RiskLevel::NoRisk,
            "no data left the house",
            &ctx(),
        )
        .await
        .unwrap();
    (world.cases)
        .decide_not_to_notify(&scope, left_open.id, assessed.version, "no risk", &ctx())
        .await
        .unwrap();

    let mut sent = world.outbox.take();
    world.drain().await;
    sent.extend(world.outbox.take());
    sent.extend(world.step_until(START + Duration::hours(80)).await);
    assert!(
        sent.is_empty(),
        "nothing after the decisions: {:?}",
        by_step(&sent)
    );
    // The steps that ran: awareness and 24 hours of each, and 48 of the third; the
    // rest cancelled by the writes that recorded the decisions.
    let steps = world.jobs(BreachAlert::KIND).await;
    let done = steps.iter().filter(|j| j.status == JobStatus::Done).count();
    assert_eq!(done, 2 + 2 + 3, "{steps:#?}");
    assert!(
        steps
            .iter()
            .all(|j| matches!(j.status, JobStatus::Done | JobStatus::Cancelled)),
        "none left to run: {steps:#?}"
    );
    let skipped = world.jobs(BreachAlertMail::KIND).await;
    let skipped: Vec<_> = skipped
        .iter()
        .filter(|j| j.outcome.as_deref() == Some("skipped: authority decision made"))
        .collect();
    assert_eq!(skipped.len(), 4, "the fanned-out mails skip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_awareness_time_replans_and_a_late_record_alerts_once_not_in_a_burst() {
    let world = World::new().await;
    let breach = world.record(world.fields("Lost USB stick", START)).await;
    // Recorded 50 hours after awareness: the 48-hour step now, once, and not 0 and 24.
    let late = world
        .record(world.fields("Late record", START - Duration::hours(50)))
        .await;
    world.drain().await;
    let sent = world.outbox.take();
    let steps = by_step(&sent);
    let everyone = world.recipients();
    assert_eq!(
        steps,
        [
            (START, subject("Late record", 22), everyone.clone()),
            (START, subject("Lost USB stick", 72), everyone.clone()),
        ]
    );

    // An edit an hour later at the same awareness time plans the same steps: the sent
    // one is not sent again.
    world.clock.advance(Duration::hours(1));
    let scope = world.scope(&world.member);
    let mut fields = breach.fields.clone();
    fields.title = "Lost USB stick (office)".into();
    let edited = (world.cases.records())
        .update(&scope, breach.id, fields, breach.version, None, &ctx())
        .await
        .unwrap();
    world.drain().await;
    assert!(world.outbox.take().is_empty(), "no alert for an edit");

    // At START + 10 h the awareness time is corrected to 20 hours before START: 30 hours
    // have passed, so the new instant's 24-hour step goes out now, and its later steps
    // at 28, 40 and 50 hours after START; the old instant's 24, 48, 60, 70 never do.
    world
        .clock
        .advance(START + Duration::hours(10) - world.now());
    let mut fields = edited.fields.clone();
    let corrected = START - Duration::hours(20);
    fields.became_aware_at = corrected;
    (world.cases.records())
        .update(&scope, breach.id, fields, edited.version, None, &ctx())
        .await
        .unwrap();
    world.drain().await;
    let mut sent = world.outbox.take();
    sent.extend(world.step_until(START + Duration::hours(80)).await);
    let title = "Lost USB stick (office)";
    let mine: Vec<_> = by_step(&sent)
        .into_iter()
        .filter(|(_, subject, _)| subject.contains(title))
        .collect();
    let at = |h: i64| START + Duration::hours(h);
    assert_eq!(
        mine,
        [
            (at(10), subject(title, 42), everyone.clone()),
            (at(28), subject(title, 24), everyone.clone()),
            (at(40), subject(title, 12), everyone.clone()),
            (at(50), subject(title, 2), everyone.clone()),
        ]
    );
    // The late record's 60 and 70-hour steps came at their instants.
    let theirs: Vec<_> = by_step(&sent)
        .into_iter()
        .filter(|(_, subject, _)| subject.contains("Late record"))
        .map(|(when, subject, _)| (when, subject))
        .collect();
    assert_eq!(
        theirs,
        [
            (at(10), subject("Late record", 12)),
            (at(20), subject("Late record", 2)),
        ]
    );
    let _ = late;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_recorded_through_the_api_is_escalated_by_the_service() {
    let app = support::TestApp::spawn_with(&[
        ("WORKER_POLL_MS", "200"),
        ("BREACH_URL", "https://aura.test/breaches/{id}"),
    ])
    .await;
    let owner = app.register("Escalation Works").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;
    // Aware 24.5 hours ago: the 24-hour step goes out at once, and only it.
    let aware = OffsetDateTime::now_utc() - Duration::minutes(24 * 60 + 30);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/breaches",
            Some(&member.access),
            Some(json!({
                "title": "Server room flood",
                "description": "Backup tapes of Erika Mustermann's branch got wet",
                "became_aware_at": aware.format(&Rfc3339).unwrap(),
                "kinds": ["availability"],
                "data_subject_categories": [],
                "data_categories": [],
                "activity_ids": [],
                "processor_ids": [],
                "drill": false,
                "owner_id": member.user_id,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mails = || -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(app.mail_dir()) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|text| text.contains("Server room flood"))
            .collect()
    };
    let deadline = tokio::time::Instant::now() + BOUND;
    while mails().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no alerts: {:#?}\nlog: {:#?}",
            mails(),
            app.logged()
                .into_iter()
                .filter(|l| l.contains("job") || l.contains("breach") || l.contains("ERROR"))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(StdDuration::from_millis(300)).await;
    }
    // A few more polls: no second step, no second mail.
    tokio::time::sleep(StdDuration::from_secs(2)).await;
    let sent = mails();
    assert_eq!(
        sent.len(),
        2,
        "the breach's owner and the tenant's owner: {sent:#?}"
    );
    for who in [&owner, &member] {
        let mail = sent.iter().find(|m| m.contains(&who.email));
        let mail = mail.unwrap_or_else(|| panic!("no alert to {}: {sent:#?}", who.email));
        assert!(mail.contains("47 hours left"), "{mail}");
        assert!(mail.contains("https://aura.test/breaches/"), "{mail}");
        assert!(!mail.contains("Mustermann"), "{mail}");
    }
    assert!(sent.iter().all(|m| !m.contains(&viewer.email)));
}
