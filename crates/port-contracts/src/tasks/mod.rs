//! Contracts of the task ports (`aura_tasks::ports::TaskRepository`) and the job queue
//! (`aura_jobs::JobQueue`), and their building blocks.
//!
//! What the task repository owes, beyond the rules every register port follows
//! (isolation, optimistic versions, one audit event per write, keyset pages):
//! - An assignee who is not a user of the task's tenant is
//!   `Conflict::UnknownReference("assigned_to")` (a link: see [`records`]).
//! - A task's reminders are written with the change that made them due: `insert`
//!   stores the plan; `update` cancels the task's queued reminders and stores the new
//!   plan (a reminder already sent or running keeps its dedupe key, so it is not planned
//!   again); `complete` cancels them and stores the next occurrence with its plan;
//!   `delete` cancels them.
//! - Lists filter as `TaskQuery` documents (`due_before`/`due_after` inclusive,
//!   `overdue_on` = open or in progress and due before the date) and order by the
//!   `TaskSort` key with ties broken by id in the same direction, undated tasks as
//!   9999-12-31; `next` is `TaskSort::cursor` of the last item.
//!
//! What the queue owes: one job per dedupe key among those not cancelled; claims lease
//! due jobs (queued and due, or running with a lease run out) oldest `run_at` first,
//! never the same job twice at once; finishing needs the claim's lease token and happens
//! inside the job's tenant; a job whose lease ran out on its last attempt is dead.
//!
//! Jobs are observed through the operator's `list` (system scope, filtered by tenant).

pub mod queue;
pub mod records;
pub mod repository;
pub mod reviews;

pub use aura_tasks::Tasks;

use aura_audit::{Actor, AuditAction, PendingEvent};
use aura_identity::User;
use aura_jobs::{JobFilter, JobStatus, JobSummary, NewJob, RetryPolicy};
use aura_shared_kernel::{Role, SystemScope, TenantId, TenantScope, UserId};
use aura_tasks::{
    Category, DigestMail, Recurrence, ReminderPlan, ReminderPolicy, Task, TaskFields, TaskId,
    TaskState, TaskStatus,
};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    TaskStores,
    fixtures::{TenantFixture, add_user, chain, event, register_tenant},
};

pub use crate::fixtures::{assert_chain, events};

/// A fresh tenant (owner scope) and a member the tasks are assigned to.
#[derive(Debug, Clone)]
pub struct TaskFixture {
    pub fx: TenantFixture,
    pub member: User,
}

impl AsRef<TenantScope> for TaskFixture {
    fn as_ref(&self) -> &TenantScope {
        &self.fx.scope
    }
}

impl TaskFixture {
    pub fn scope(&self) -> &TenantScope {
        &self.fx.scope
    }

    pub fn tenant(&self) -> TenantId {
        self.fx.tenant.id
    }

    pub fn owner(&self) -> UserId {
        self.fx.owner.id
    }
}

/// Registers a fresh tenant with its owner and a member.
pub async fn register(stores: &TaskStores) -> TaskFixture {
    let fx = register_tenant(&stores.identity).await;
    let member = add_user(&stores.identity, &fx, Role::Member).await;
    TaskFixture { fx, member }
}

pub fn now(stores: &TaskStores) -> OffsetDateTime {
    stores.clock().now()
}

pub fn today(stores: &TaskStores) -> Date {
    now(stores).date()
}

/// The platform scope the worker and the CLI act in.
pub fn system() -> SystemScope {
    SystemScope::for_platform_operation("contract-tests")
}

/// An event of a task write, acted by the tenant's owner.
pub fn task_event(tf: &TaskFixture, action: &str, id: TaskId) -> PendingEvent {
    event(
        Actor::User(tf.owner()),
        AuditAction::from_stored(action.to_owned()),
        "task",
        id,
    )
}

/// Reminders 7 and 1 days before and on the due date, at 08:00 UTC.
pub fn reminder_policy() -> ReminderPolicy {
    ReminderPolicy::default()
}

pub fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
}

/// A complete open task due `due_in_days` from the store's today (undated for `None`),
/// assigned to the member, created by the owner now; not stored.
pub fn new_task(
    stores: &TaskStores,
    tf: &TaskFixture,
    title: &str,
    due_in_days: Option<i64>,
) -> Task {
    let now = now(stores);
    let fields = TaskFields {
        title: title.to_owned(),
        description: Some(format!(
            "{title}: check the record and document the result."
        )),
        category: Category::DpaReview,
        due_date: due_in_days.map(|days| now.date() + Duration::days(days)),
        assigned_to: Some(tf.member.id),
        link: None,
        recurrence: Recurrence::None,
        status: TaskStatus::Open,
    }
    .validated()
    .expect("a complete task is valid");
    let state = TaskState {
        created_by: Some(tf.owner()),
        ..TaskState::default()
    };
    aura_tasks::new_task(tf.tenant(), fields, state, now)
}

/// The reminders the domain plans for `task` now.
pub fn plan(stores: &TaskStores, task: &Task) -> ReminderPlan {
    reminder_policy().plan(task, now(stores), &retry_policy())
}

/// Stores `task` with its planned reminders and its creation event; returns the plan.
pub async fn insert_task(stores: &TaskStores, tf: &TaskFixture, task: &Task) -> ReminderPlan {
    let plan = plan(stores, task);
    stores
        .tasks
        .insert(
            tf.scope(),
            task,
            &plan,
            task_event(tf, "task.created", task.id),
        )
        .await
        .expect("insert a fresh task");
    plan
}

/// Stores a new task (see [`new_task`]) and returns it with its reminders.
pub async fn add_task(
    stores: &TaskStores,
    tf: &TaskFixture,
    title: &str,
    due_in_days: Option<i64>,
) -> (Task, ReminderPlan) {
    let task = new_task(stores, tf, title, due_in_days);
    let plan = insert_task(stores, tf, &task).await;
    (task, plan)
}

/// The next version of `task` as the domain builds it (version incremented, stamped at
/// the store's time).
pub fn edited(stores: &TaskStores, task: &Task, edit: impl FnOnce(&mut Task)) -> Task {
    let mut next = task.clone();
    edit(&mut next);
    next.version += 1;
    next.updated_at = now(stores);
    next
}

pub async fn get(stores: &TaskStores, tf: &TaskFixture, id: TaskId) -> Task {
    stores
        .tasks
        .get(tf.scope(), id)
        .await
        .expect("the task is stored")
}

/// Every job of `tenant`, newest first.
pub async fn jobs_of(stores: &TaskStores, tenant: TenantId) -> Vec<JobSummary> {
    stores
        .jobs
        .list(
            &system(),
            &JobFilter {
                status: None,
                tenant: Some(tenant),
                limit: 10_000,
            },
        )
        .await
        .expect("list the tenant's jobs")
}

/// The job `id` of `tenant`, if stored.
pub async fn find_job(stores: &TaskStores, tenant: TenantId, id: Uuid) -> Option<JobSummary> {
    jobs_of(stores, tenant)
        .await
        .into_iter()
        .find(|job| job.id == id)
}

/// `job` is dead, buried with a last error that `reason` accepts (`what` names the case).
#[track_caller]
pub fn assert_buried(job: &JobSummary, reason: impl Fn(&str) -> bool, what: &str) {
    assert_eq!(job.status, JobStatus::Dead, "{what}: dead: {job:?}");
    assert!(
        job.last_error.as_deref().is_some_and(reason),
        "{what}: with the reason: {job:?}"
    );
}

/// The status of each of `ids` (each must be stored).
pub async fn statuses(stores: &TaskStores, tenant: TenantId, ids: &[Uuid]) -> Vec<JobStatus> {
    let jobs = jobs_of(stores, tenant).await;
    ids.iter()
        .map(|id| {
            jobs.iter()
                .find(|job| job.id == *id)
                .unwrap_or_else(|| panic!("job {id} is stored"))
                .status
        })
        .collect()
}

/// The ids of a plan's jobs.
pub fn job_ids(plan: &ReminderPlan) -> Vec<Uuid> {
    plan.jobs.iter().map(|job| job.id).collect()
}

/// A job of `tenant` that mails a digest of `date` to a fresh recipient (a dedupe key
/// of its own), due at `run_at`, with `max_attempts`.
pub fn mail_job(tenant: TenantId, date: Date, run_at: OffsetDateTime, max_attempts: i32) -> NewJob {
    let mail = DigestMail {
        date,
        recipient: UserId::generate(),
    };
    NewJob::of(tenant, &mail, run_at, max_attempts)
}

/// Enqueues `jobs` in `tf`'s tenant; returns how many were added.
pub async fn enqueue(stores: &TaskStores, tf: &TaskFixture, jobs: &[NewJob]) -> u64 {
    stores
        .jobs
        .enqueue(tf.scope(), jobs)
        .await
        .expect("enqueue jobs")
}

/// The newest events are `actions` (oldest of them first) about `entities`.
pub async fn assert_last_events(
    stores: &TaskStores,
    tf: &TaskFixture,
    expected: &[(&str, TaskId)],
) {
    let records = chain(&stores.identity, tf.scope()).await;
    assert!(records.len() >= expected.len(), "enough events");
    let last = &records[records.len() - expected.len()..];
    for (record, (action, entity)) in last.iter().zip(expected) {
        assert_eq!(record.action.as_str(), *action, "the write's event");
        assert_eq!(
            record.entity_id,
            Some(entity.to_string()),
            "the event of {action} names its task"
        );
        assert_eq!(record.entity_type, "task");
    }
}
