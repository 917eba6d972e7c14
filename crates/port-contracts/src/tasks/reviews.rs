//! Review dates fire: the `ReviewDates` port (the three registers' due review dates) and
//! the rule built on it, `ReviewTasks` of the tasks domain: due reviews become tasks once
//! per record and review date, through `TaskRepository::insert_once`, however often and
//! however concurrently the pass runs; reviews not yet due and retired records make
//! none. Run against both stores by [`review_contract_tests!`].

use std::sync::Arc;

use aura_gdpr_registers::{
    Activities, ActivityStatus, Policies, PolicyStatus, ProcessingActivity, Processors,
    ports::PolicyVersions,
    reviews::{DueReview, ReviewDates, ReviewKind},
};
use aura_jobs::{JobQueue, JobRegistry, RetryPolicy, Worker, WorkerPorts, WorkerSettings};
use aura_shared_kernel::{Clock, TenantScope};
use aura_tasks::{
    Category, LinkKind, ReminderPolicy, ReviewJobPorts, ReviewTasks, Task, TaskStatus,
    ports::{Sort, TaskQuery, TaskRepository, TaskSort},
    register_reviews,
};
use time::{Date, Duration, Time};

use crate::{
    RegisterStores, Stores, TaskStores,
    registers::{
        RegisterFixture, add_processor, insert_policy, new_activity, new_policy,
        records::{edited, insert},
        register,
    },
};

/// The registers, tasks and review ports of one adapter, sharing one store.
#[derive(Clone)]
pub struct ReviewStores {
    pub registers: RegisterStores,
    pub tasks: TaskStores,
    pub reviews: Arc<dyn ReviewDates>,
}

impl ReviewStores {
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: crate::IdentityStore
            + aura_gdpr_registers::ports::OrganisationRepository
            + aura_records::RecordStore<Activities>
            + aura_records::RecordStore<Processors>
            + aura_records::RecordStore<Policies>
            + aura_records::RecordStore<aura_requests::request::Requests>
            + aura_records::RecordStore<aura_breaches::Breaches>
            + aura_dpia_screening::ports::ScreeningAnswersStore
            + aura_records::RecordStore<aura_dpias::Dpias>
            + PolicyVersions
            + TaskRepository
            + JobQueue
            + ReviewDates
            + 'static,
    {
        let store = Arc::new(store);
        let identity = Stores::from_single_arc(store.clone(), clock);
        Self {
            registers: RegisterStores::new(identity.clone(), store.clone()),
            tasks: TaskStores::new(identity, store.clone(), store.clone()),
            reviews: store,
        }
    }

    fn today(&self) -> Date {
        self.tasks.clock().now().date()
    }

    /// The review job's rule over these stores.
    pub fn review_tasks(&self) -> ReviewTasks {
        ReviewTasks {
            ports: self.review_ports(),
            reminders: policy(),
            retry: RetryPolicy::default(),
        }
    }

    fn review_ports(&self) -> ReviewJobPorts {
        ReviewJobPorts {
            reviews: self.reviews.clone(),
            tasks: self.tasks.tasks.clone(),
            tenants: self.tasks.identity.tenants.clone(),
            users: self.tasks.identity.users.clone(),
            clock: self.tasks.clock().clone(),
        }
    }
}

/// One pass of the review job over `scope` on `date` (`what` names it): how many tasks
/// it made and how many due reviews it found.
async fn fire(stores: &ReviewStores, scope: &TenantScope, date: Date, what: &str) -> (u64, u64) {
    let pass = stores.review_tasks().fire(scope, date).await;
    pass.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// Reminders at 7, 1 and 0 days before, sent (and the daily jobs due) from midnight.
fn policy() -> ReminderPolicy {
    ReminderPolicy {
        offsets_days: vec![7, 1, 0],
        send_at: Time::MIDNIGHT,
    }
}

/// A policy owned by the member whose next review is `on` (retired when `retired`).
async fn add_policy(stores: &ReviewStores, rf: &RegisterFixture, on: Date, retired: bool) {
    let mut policy = new_policy(&stores.registers, rf, "Privacy policy");
    policy.fields.next_review_date = Some(on);
    if retired {
        policy.fields.status = PolicyStatus::Retired;
    }
    insert_policy(&stores.registers, rf, &policy).await;
}

/// An activity owned by the member whose review is `on`.
async fn add_activity(
    stores: &ReviewStores,
    rf: &RegisterFixture,
    name: &str,
    on: Date,
    status: ActivityStatus,
) -> ProcessingActivity {
    let mut activity = new_activity(&stores.registers, rf, name, &[]);
    activity.fields.review_date = Some(on);
    activity.fields.status = status;
    insert(&stores.registers, rf, &activity).await;
    activity
}

async fn tasks_of(stores: &ReviewStores, scope: &TenantScope) -> Vec<Task> {
    let query = TaskQuery {
        sort: TaskSort::Record(Sort::Created),
        limit: 100,
        ..TaskQuery::default()
    };
    stores
        .tasks
        .tasks
        .list(scope, &query)
        .await
        .expect("list tasks")
        .items
}

fn kinds(reviews: &[DueReview]) -> Vec<ReviewKind> {
    reviews.iter().map(|r| r.kind).collect()
}

pub async fn due_reviews_span_the_registers_in_date_order(stores: ReviewStores) {
    let rf = register(&stores.registers).await;
    let other = register(&stores.registers).await;
    let today = stores.today();
    // The fixture's processor is reviewed on 2027-06-01.
    let processor = add_processor(&stores.registers, &rf, "Payroll Ltd").await;
    let review_on = processor.fields.dpa_review_on.expect("a review date");
    add_policy(&stores, &rf, review_on - Duration::days(10), false).await;
    add_policy(&stores, &rf, review_on - Duration::days(9), true).await;
    let mut activities = Vec::new();
    for (name, days, status) in [
        ("Payroll", -5, ActivityStatus::Active),
        ("Old payroll", -4, ActivityStatus::Retired),
        ("Later", 1, ActivityStatus::Draft),
    ] {
        let on = review_on + Duration::days(days);
        activities.push(add_activity(&stores, &rf, name, on, status).await);
    }
    let activity = &activities[0];
    add_processor(&stores.registers, &other, "Someone else's").await;

    let due = stores
        .reviews
        .due_reviews(rf.scope(), review_on, None, 10)
        .await
        .expect("due");
    assert_eq!(
        kinds(&due),
        [
            ReviewKind::Policy,
            ReviewKind::Activity,
            ReviewKind::Processor
        ],
        "date order; retired records, later dates and other tenants left out: {due:?}"
    );
    assert_eq!(due[1].id, activity.id.as_uuid());
    assert_eq!(due[1].name, "Payroll");
    assert_eq!(due[1].owner, Some(rf.member));
    assert_eq!(due[2].id, processor.id.as_uuid());
    assert_eq!(due[2].review_on, review_on);
    assert_eq!(due[2].owner, None, "processors have no owner");

    // Pages continue after a cursor.
    let first = stores
        .reviews
        .due_reviews(rf.scope(), review_on, None, 2)
        .await
        .expect("first page");
    assert_eq!(first, due[..2]);
    let rest = stores
        .reviews
        .due_reviews(rf.scope(), review_on, Some(first[1].cursor()), 2)
        .await
        .expect("second page");
    assert_eq!(rest, due[2..]);

    // On or before: the day before the processor's review leaves it out.
    let before = stores
        .reviews
        .due_reviews(rf.scope(), review_on - Duration::days(1), None, 10)
        .await
        .expect("due before");
    assert_eq!(kinds(&before), [ReviewKind::Policy, ReviewKind::Activity]);
    assert!(
        stores
            .reviews
            .due_reviews(
                rf.scope(),
                today.min(review_on - Duration::days(11)),
                None,
                10
            )
            .await
            .expect("nothing due")
            .is_empty()
    );
}

/// A tenant with a processor due on `day`, a member's policy due before it, an activity
/// due the day after and a retired activity due before it.
async fn reviews_around(stores: &ReviewStores, day: Date) -> (RegisterFixture, ProcessingActivity) {
    let rf = register(&stores.registers).await;
    let mut processor = crate::registers::new_processor(&stores.registers, &rf, "Payroll Ltd");
    processor.fields.dpa_signed_on = Some(day - Duration::days(400));
    processor.fields.dpa_review_on = Some(day);
    insert(&stores.registers, &rf, &processor).await;
    add_policy(stores, &rf, day - Duration::days(3), false).await;
    let later = add_activity(
        stores,
        &rf,
        "Payroll",
        day + Duration::days(1),
        ActivityStatus::Active,
    )
    .await;
    add_activity(
        stores,
        &rf,
        "Old payroll",
        day - Duration::days(1),
        ActivityStatus::Retired,
    )
    .await;
    (rf, later)
}

pub async fn due_reviews_become_tasks_once(stores: ReviewStores) {
    let today = stores.today();
    let (rf, later) = reviews_around(&stores, today).await;
    let scope = rf.scope().clone();
    let system_scope = rf.fx.system_scope();

    // Two passes at once (two workers): one task per due review.
    let (a, b) = (stores.review_tasks(), stores.review_tasks());
    let (one, two) = tokio::join!(a.fire(&system_scope, today), b.fire(&system_scope, today));
    let (one, two) = (one.expect("first pass"), two.expect("second pass"));
    assert_eq!(
        one.0 + two.0,
        2,
        "two reviews due, two tasks: {one:?} {two:?}"
    );
    assert_eq!((one.1, two.1), (2, 2), "each pass sees both due reviews");

    let tasks = tasks_of(&stores, &scope).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let dpa = tasks
        .iter()
        .find(|t| t.fields.category == Category::DpaReview)
        .expect("the DPA review task");
    let link = dpa.fields.link.as_ref().expect("linked");
    assert_eq!(link.kind, LinkKind::Processor);
    assert_eq!(dpa.fields.due_date, Some(today));
    assert_eq!(
        dpa.fields.assigned_to,
        Some(rf.owner()),
        "no owner on a processor: the tenant's owner"
    );
    assert!(
        dpa.fields.title.contains("Payroll Ltd"),
        "{}",
        dpa.fields.title
    );
    assert_eq!(dpa.fields.status, TaskStatus::Open);
    assert_eq!(dpa.derived.created_by, None, "made by the system");
    let policy_task = tasks
        .iter()
        .find(|t| t.fields.category == Category::PolicyReview)
        .expect("the policy review task");
    assert_eq!(
        policy_task.fields.assigned_to,
        Some(rf.member),
        "the policy's owner"
    );
    assert_eq!(
        policy_task.fields.link.as_ref().map(|l| l.kind),
        Some(LinkKind::Policy)
    );
    assert_eq!(policy_task.fields.due_date, Some(today - Duration::days(3)));

    // Again: nothing new.
    let again = fire(&stores, &system_scope, today, "again").await;
    assert_eq!(again, (0, 2));

    // A task deleted by hand is not made again for the same review date.
    stores
        .tasks
        .tasks
        .delete(
            &scope,
            dpa.id,
            dpa.version,
            crate::fixtures::event(
                aura_audit::Actor::User(rf.owner()),
                aura_audit::AuditAction::from_stored("task.deleted".to_owned()),
                "task",
                dpa.id,
            ),
        )
        .await
        .expect("delete");
    let after_delete = fire(&stores, &system_scope, today, "after delete").await;
    assert_eq!(after_delete.0, 0);
    assert_eq!(tasks_of(&stores, &scope).await.len(), 1);

    // The next day the activity is due: one more task, for it alone.
    let tomorrow = fire(
        &stores,
        &system_scope,
        today + Duration::days(1),
        "tomorrow",
    )
    .await;
    assert_eq!(tomorrow.0, 1);
    let tasks = tasks_of(&stores, &scope).await;
    let activity_task = tasks
        .iter()
        .find(|t| {
            t.fields
                .link
                .as_ref()
                .is_some_and(|l| l.id == later.id.as_uuid())
        })
        .expect("the activity review task");
    assert_eq!(
        activity_task.fields.link.as_ref().map(|l| l.kind),
        Some(LinkKind::ProcessingActivity)
    );
    assert_eq!(activity_task.fields.assigned_to, Some(rf.member));

    // Moving a review date makes a new review (and a new task).
    let moved = edited(&stores.registers, &later, |f| {
        f.review_date = Some(today);
    });
    stores
        .registers
        .activities
        .update(
            rf.scope(),
            &moved,
            later.version,
            crate::registers::reg_event(&rf, "activity.updated", "activity", later.id),
        )
        .await
        .expect("move the review");
    let moved_pass = fire(&stores, &system_scope, today + Duration::days(1), "moved").await;
    assert_eq!(moved_pass.0, 1);
}

pub async fn two_workers_make_each_review_task_once(stores: ReviewStores) {
    let today = stores.today();
    let (rf, _later) = reviews_around(&stores, today).await;
    let (other, _) = reviews_around(&stores, today).await;
    let worker = |id: &str| {
        let mut registry = JobRegistry::new();
        register_reviews(
            &mut registry,
            stores.review_ports(),
            policy(),
            RetryPolicy::default(),
        )
        .expect("one handler");
        Worker::new(
            WorkerPorts {
                queue: stores.tasks.jobs.clone(),
                clock: stores.tasks.clock().clone(),
            },
            WorkerSettings {
                worker_id: id.to_owned(),
                lease: Duration::minutes(5),
                batch: 10,
                retry: RetryPolicy::default(),
            },
            registry,
        )
    };
    let (w1, w2) = (worker("w1"), worker("w2"));
    let system = crate::tasks::system();
    for _ in 0..3 {
        let (a, b) = tokio::join!(w1.run_once(&system), w2.run_once(&system));
        a.expect("w1");
        b.expect("w2");
    }
    for fixture in [&rf, &other] {
        let tasks = tasks_of(&stores, fixture.scope()).await;
        assert_eq!(tasks.len(), 2, "one task per due review: {tasks:?}");
        let mut linked: Vec<_> = tasks
            .iter()
            .filter_map(|t| t.fields.link.as_ref().map(|l| l.id))
            .collect();
        linked.sort();
        linked.dedup();
        assert_eq!(linked.len(), 2);
    }
}

/// Expands to one `#[tokio::test]` per review contract. The argument is an async
/// expression (evaluated afresh for each test) that yields [`ReviewStores`] no other test
/// uses (the worker contract claims across tenants).
#[macro_export]
macro_rules! review_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(
            __review_contract_stores: $crate::tasks::reviews::ReviewStores =
                $stores
        );

        $crate::__contract_module!(__review_contract_stores: review_dates => tasks::reviews {
            due_reviews_span_the_registers_in_date_order,
            due_reviews_become_tasks_once,
            two_workers_make_each_review_task_once,
        });
        $crate::__contract_module!(__review_contract_stores: dpia_reviews => registers::dpias {
            approved_dpias_fall_due_once_until_revised,
        });
    };
}
