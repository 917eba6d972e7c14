//! `TaskRepository`: tasks of the tenant with their reminders, optimistic versions,
//! completion with the next occurrence, isolation, filters and keyset pages. What every
//! kernel register owes (a plain round trip, a taken id, an update at the version read,
//! stale and concurrent updates, the kernel's sorts) runs for tasks too, through
//! `super::records` and `registers::records`; the cases here are the tasks' own.

use std::{cmp::Reverse, time::Duration as StdDuration};

use aura_jobs::JobStatus;
use aura_records::Id;
use aura_shared_kernel::{Conflict, Role, StoreError, UserId};
use aura_tasks::{
    Category, Recurrence, ReminderPlan, Task, TaskId, TaskState, TaskStatus,
    ports::{Cursor, ListPage, Sort, TaskFilter, TaskQuery, TaskSort},
};
use time::{Duration, OffsetDateTime};

use crate::{
    TaskStores,
    fixtures::{add_user, assert_conflict, assert_not_found, delete_by_owner, one_winner},
    registers::{ListOrder, assert_any_conflict, assert_pages_in_every_order, records::sorted_ids},
    tasks::{
        TaskFixture, add_task, assert_chain, assert_last_events, edited, events, find_job, get,
        insert_task, job_ids, jobs_of, new_task, now, plan, register, statuses, system, task_event,
        today,
    },
};

/// Every sort a task list offers.
pub const TASK_SORTS: [TaskSort; 5] = [
    TaskSort::DueDate,
    TaskSort::DueDateDesc,
    TaskSort::Record(Sort::Created),
    TaskSort::Record(Sort::CreatedDesc),
    TaskSort::Record(Sort::UpdatedDesc),
];

async fn update(
    stores: &TaskStores,
    tf: &TaskFixture,
    task: &Task,
    expected: i32,
    reminders: &ReminderPlan,
) -> Result<(), StoreError> {
    stores
        .tasks
        .update(
            tf.scope(),
            task,
            expected,
            reminders,
            task_event(tf, "task.updated", task.id),
        )
        .await
}

/// Updates `task` with the reminders the domain plans for its new state.
async fn update_planned(
    stores: &TaskStores,
    tf: &TaskFixture,
    task: &Task,
    expected: i32,
) -> Result<ReminderPlan, StoreError> {
    let reminders = plan(stores, task);
    update(stores, tf, task, expected, &reminders)
        .await
        .map(|()| reminders)
}

async fn delete(
    stores: &TaskStores,
    tf: &TaskFixture,
    id: TaskId,
    expected: i32,
) -> Result<(), StoreError> {
    stores
        .tasks
        .delete(tf.scope(), id, expected, task_event(tf, "task.deleted", id))
        .await
}

/// The completed version of `task` (by the owner, now) as the domain builds it.
fn completed(stores: &TaskStores, tf: &TaskFixture, task: &Task) -> Task {
    let at = now(stores);
    edited(stores, task, |t| {
        t.fields.status = TaskStatus::Done;
        t.derived.completed_by = Some(tf.owner());
        t.derived.completed_at = Some(at);
    })
}

/// The occurrence after `task` as the domain builds it.
fn successor(stores: &TaskStores, tf: &TaskFixture, task: &Task) -> Task {
    let at = now(stores);
    let due = task
        .fields
        .due_date
        .expect("a recurring task has a due date");
    let mut next = task.clone();
    next.id = Id::generate();
    next.fields.due_date = task.fields.recurrence.next_due(due);
    next.fields.status = TaskStatus::Open;
    next.derived.created_by = Some(tf.owner());
    next.derived.completed_by = None;
    next.derived.completed_at = None;
    next.derived.previous_id = Some(task.id);
    next.version = 1;
    next.created_at = at;
    next.updated_at = at;
    next
}

/// A stored monthly task due in ten days, with its reminders.
async fn add_recurring(stores: &TaskStores, tf: &TaskFixture, title: &str) -> (Task, ReminderPlan) {
    let mut task = new_task(stores, tf, title, Some(10));
    task.fields.recurrence = Recurrence::Monthly;
    let reminders = insert_task(stores, tf, &task).await;
    (task, reminders)
}

/// Completes `task` at `expected` with its successor (if given) and its reminders.
async fn complete(
    stores: &TaskStores,
    tf: &TaskFixture,
    done: &Task,
    expected: i32,
    next: Option<(&Task, &ReminderPlan)>,
) -> Result<(), StoreError> {
    stores
        .tasks
        .complete(
            tf.scope(),
            done,
            expected,
            task_event(tf, "task.completed", done.id),
            next.map(|(task, reminders)| {
                (task, reminders, task_event(tf, "task.created", task.id))
            }),
        )
        .await
}

fn query() -> TaskQuery {
    TaskQuery {
        limit: 100,
        ..TaskQuery::default()
    }
}

fn filtered(filter: TaskFilter) -> TaskQuery {
    TaskQuery { filter, ..query() }
}

async fn list(stores: &TaskStores, tf: &TaskFixture, query: &TaskQuery) -> ListPage<Task> {
    stores
        .tasks
        .list(tf.scope(), query)
        .await
        .expect("list tasks")
}

/// The ids a filtered list returns (one page), sorted.
async fn ids(stores: &TaskStores, tf: &TaskFixture, query: TaskQuery) -> Vec<TaskId> {
    let page = list(stores, tf, &query).await;
    assert_eq!(page.next, None, "the filtered list fits one page");
    let mut ids: Vec<TaskId> = page.items.iter().map(|t| t.id).collect();
    ids.sort();
    ids
}

/// Claims the jobs due at `at` (one worker, a long lease).
async fn claim_at(stores: &TaskStores, at: OffsetDateTime) -> Vec<aura_jobs::ClaimedJob> {
    stores
        .jobs
        .claim(&system(), "contract-worker", at, Duration::hours(1), 100)
        .await
        .expect("claim")
}

pub async fn insert_then_get_returns_the_task(stores: TaskStores) {
    let tf = register(&stores).await;
    let base = events(&stores, &tf).await;
    let (task, _) = add_task(&stores, &tf, "Review the DPA with Acme", Some(10)).await;
    assert_eq!(
        get(&stores, &tf, task.id).await,
        task,
        "every field reads back unchanged"
    );
    assert_last_events(&stores, &tf, &[("task.created", task.id)]).await;

    let mut full = new_task(&stores, &tf, "Yearly DPIA of the HR system", Some(30));
    full.fields.category = Category::Dpia;
    full.fields.recurrence = Recurrence::Yearly;
    // A link must name a record of the tenant, which these stores do not hold: its round
    // trip is `registers::tasks::a_link_names_a_record_of_the_tenant`'s.
    full.fields.status = TaskStatus::InProgress;
    insert_task(&stores, &tf, &full).await;
    assert_eq!(get(&stores, &tf, full.id).await, full);

    let mut bare = new_task(&stores, &tf, "Anything", None);
    bare.fields.description = None;
    bare.fields.assigned_to = None;
    bare.fields.category = Category::Other;
    bare.derived.created_by = None;
    let bare_plan = insert_task(&stores, &tf, &bare).await;
    assert!(bare_plan.jobs.is_empty());
    assert_eq!(get(&stores, &tf, bare.id).await, bare);

    let mut done = new_task(&stores, &tf, "Done already", Some(-3));
    done.fields.status = TaskStatus::Done;
    done.derived.completed_by = Some(tf.member.id);
    done.derived.completed_at = Some(now(&stores));
    insert_task(&stores, &tf, &done).await;
    assert_eq!(get(&stores, &tf, done.id).await, done);

    assert_not_found(
        stores.tasks.get(tf.scope(), Id::generate()).await,
        "an unknown task",
    );
    assert_chain(&stores, tf.scope(), base + 4, "one event per insert").await;
}

pub async fn insert_stores_the_reminder_plan(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, reminders) = add_task(&stores, &tf, "Review", Some(10)).await;
    assert_eq!(
        reminders.jobs.len(),
        3,
        "7 and 1 days before and on the day"
    );
    let jobs = jobs_of(&stores, tf.tenant()).await;
    assert_eq!(jobs.len(), 3, "the plan's jobs and nothing else");
    for planned in &reminders.jobs {
        let stored = jobs
            .iter()
            .find(|j| j.id == planned.id)
            .unwrap_or_else(|| panic!("reminder {} stored", planned.id));
        assert_eq!(stored.status, JobStatus::Queued);
        assert_eq!(stored.kind, "task_reminder");
        assert_eq!(stored.run_at, planned.run_at);
        assert_eq!(stored.attempts, 0);
        assert_eq!(stored.max_attempts, planned.max_attempts);
        assert_eq!(stored.tenant_id, tf.tenant());
        assert_eq!(stored.last_error, None);
    }

    // The payloads come back as the domain wrote them.
    let last = reminders.jobs.iter().map(|j| j.run_at).max().unwrap();
    let claimed = claim_at(&stores, last).await;
    assert_eq!(claimed.len(), 3);
    for planned in &reminders.jobs {
        let job = claimed.iter().find(|c| c.id == planned.id).unwrap();
        assert_eq!(
            (&job.kind, &job.payload),
            (&planned.job.kind, &planned.job.payload)
        );
        assert_eq!(job.tenant_id, tf.tenant());
    }
    assert_eq!(get(&stores, &tf, task.id).await, task);
}

pub async fn an_assignee_outside_the_tenant_is_refused(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let base = events(&stores, &a).await;

    for (assignee, what) in [
        (b.member.id, "a user of another tenant"),
        (UserId::generate(), "an unknown user"),
    ] {
        let mut task = new_task(&stores, &a, "Foreign", Some(10));
        task.fields.assigned_to = Some(assignee);
        let reminders = plan(&stores, &task);
        assert_eq!(reminders.jobs.len(), 3);
        assert_conflict(
            stores
                .tasks
                .insert(
                    a.scope(),
                    &task,
                    &reminders,
                    task_event(&a, "task.created", task.id),
                )
                .await,
            Conflict::UnknownReference("assigned_to"),
            &format!("a task assigned to {what}"),
        );
        assert_not_found(
            stores.tasks.get(a.scope(), task.id).await,
            "the refused task",
        );
    }
    assert!(
        jobs_of(&stores, a.tenant()).await.is_empty(),
        "no reminders of refused tasks"
    );
    assert_chain(&stores, a.scope(), base, "no event for refused inserts").await;

    let (task, reminders) = add_task(&stores, &a, "Mine", Some(10)).await;
    let moved = edited(&stores, &task, |t| t.fields.assigned_to = Some(b.member.id));
    assert_conflict(
        update_planned(&stores, &a, &moved, 1).await,
        Conflict::UnknownReference("assigned_to"),
        "reassigning to a user of another tenant",
    );
    assert_eq!(
        get(&stores, &a, task.id).await,
        task,
        "the refused update changed nothing"
    );
    assert_eq!(
        statuses(&stores, a.tenant(), &job_ids(&reminders)).await,
        [JobStatus::Queued; 3],
        "the reminders stay"
    );
    assert_eq!(jobs_of(&stores, a.tenant()).await.len(), 3);
    assert_chain(&stores, a.scope(), base + 1, "one insert").await;
}

pub async fn other_tenants_tasks_are_out_of_reach(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let (task, reminders) = add_task(&stores, &a, "A's task", Some(10)).await;
    let (b_own, _) = add_task(&stores, &b, "B's task", Some(10)).await;
    let a_events = events(&stores, &a).await;
    let b_events = events(&stores, &b).await;

    assert_not_found(
        stores.tasks.get(b.scope(), task.id).await,
        "B reading A's task",
    );
    let as_b = edited(&stores, &task, |t| t.fields.title = "Taken over".into());
    let mut claimed_by_b = as_b.clone();
    claimed_by_b.tenant_id = b.tenant();
    for (attempt, what) in [(&as_b, "A's row"), (&claimed_by_b, "a row naming B")] {
        assert_not_found(
            update(&stores, &b, attempt, 1, &ReminderPlan::none(task.id)).await,
            &format!("B updating A's task as {what}"),
        );
        assert_not_found(
            complete(&stores, &b, attempt, 1, None).await,
            &format!("B completing A's task as {what}"),
        );
    }
    assert_not_found(delete(&stores, &b, task.id, 1).await, "B deleting A's task");
    let listed = list(&stores, &b, &query()).await;
    assert_eq!(
        listed.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [b_own.id],
        "B's list holds only B's tasks"
    );
    assert_eq!(get(&stores, &a, task.id).await, task, "A's task unchanged");
    assert_eq!(
        statuses(&stores, a.tenant(), &job_ids(&reminders)).await,
        [JobStatus::Queued; 3],
        "A's reminders unchanged"
    );

    // A task (or a reminder) claiming another tenant is refused and stored nowhere.
    let foreign = new_task(&stores, &b, "Smuggled", Some(10));
    let foreign_plan = plan(&stores, &foreign);
    assert!(
        stores
            .tasks
            .insert(
                a.scope(),
                &foreign,
                &foreign_plan,
                task_event(&a, "task.created", foreign.id),
            )
            .await
            .is_err(),
        "inserting a task of B in A's scope"
    );
    let mut own = new_task(&stores, &a, "Own, with B's reminders", Some(10));
    own.fields.assigned_to = None;
    let smuggled = ReminderPlan {
        task: own.id,
        jobs: foreign_plan.jobs.clone(),
    };
    assert!(
        stores
            .tasks
            .insert(
                a.scope(),
                &own,
                &smuggled,
                task_event(&a, "task.created", own.id),
            )
            .await
            .is_err(),
        "inserting reminders of B in A's scope"
    );
    for (id, what) in [(foreign.id, "the smuggled task"), (own.id, "the own task")] {
        assert_not_found(stores.tasks.get(a.scope(), id).await, what);
        assert_not_found(stores.tasks.get(b.scope(), id).await, what);
    }
    assert_eq!(jobs_of(&stores, a.tenant()).await.len(), 3);
    assert_eq!(jobs_of(&stores, b.tenant()).await.len(), 3);
    assert_chain(
        &stores,
        a.scope(),
        a_events,
        "A: no event for refused writes",
    )
    .await;
    assert_chain(
        &stores,
        b.scope(),
        b_events,
        "B: no event for refused writes",
    )
    .await;
}

pub async fn concurrent_updates_have_one_winner(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, first) = add_task(&stores, &tf, "Review", Some(10)).await;
    let base = events(&stores, &tf).await;
    let a = edited(&stores, &task, |t| {
        t.fields.due_date = t.fields.due_date.map(|d| d + Duration::days(5));
    });
    let b = edited(&stores, &task, |t| {
        t.fields.due_date = t.fields.due_date.map(|d| d + Duration::days(9));
    });
    let (plan_a, plan_b) = (plan(&stores, &a), plan(&stores, &b));

    let (ra, rb) = tokio::join!(
        update(&stores, &tf, &a, 1, &plan_a),
        update(&stores, &tf, &b, 1, &plan_b)
    );
    let ((winner, winning, losing), ()) = one_winner(
        ((a, plan_a.clone(), plan_b.clone()), ra),
        ((b, plan_b, plan_a), rb),
        Conflict::Version,
        "the concurrent update that lost",
    );
    assert_eq!(get(&stores, &tf, task.id).await, winner);
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&winning)).await,
        [JobStatus::Queued; 3],
        "the winner's reminders"
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&first)).await,
        [JobStatus::Cancelled; 3],
        "the first reminders were replaced"
    );
    for id in job_ids(&losing) {
        assert!(
            find_job(&stores, tf.tenant(), id).await.is_none(),
            "the loser's reminders are not stored"
        );
    }
    assert_chain(&stores, tf.scope(), base + 1, "one event for one winner").await;
}

pub async fn update_replaces_the_queued_reminders(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, first) = add_task(&stores, &tf, "Review", Some(10)).await;
    // The 7-day reminder is being sent right now: a rescheduling leaves it running (its
    // worker re-reads the task and skips it).
    let running = claim_at(&stores, first.jobs[0].run_at).await;
    assert_eq!(
        running.iter().map(|j| j.id).collect::<Vec<_>>(),
        [first.jobs[0].id]
    );

    let moved = edited(&stores, &task, |t| {
        t.fields.due_date = t.fields.due_date.map(|d| d + Duration::days(5));
    });
    let second = update_planned(&stores, &tf, &moved, 1)
        .await
        .expect("reschedule");
    assert_eq!(second.jobs.len(), 3);
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&first)).await,
        [
            JobStatus::Running,
            JobStatus::Cancelled,
            JobStatus::Cancelled
        ],
        "the queued reminders of the old due date are cancelled"
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&second)).await,
        [JobStatus::Queued; 3],
        "the new due date's reminders are queued"
    );

    // The same reminders planned again (same due date and assignee): the queued ones are
    // replaced by the new plan, not doubled.
    let renamed = edited(&stores, &moved, |t| {
        t.fields.title = "Review, renamed".into()
    });
    let third = update_planned(&stores, &tf, &renamed, 2)
        .await
        .expect("rename");
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&second)).await,
        [JobStatus::Cancelled; 3]
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&third)).await,
        [JobStatus::Queued; 3]
    );

    // Cancelling the task plans nothing: every queued reminder goes.
    let cancelled = edited(&stores, &renamed, |t| {
        t.fields.status = TaskStatus::Cancelled
    });
    let none = update_planned(&stores, &tf, &cancelled, 3)
        .await
        .expect("cancel the task");
    assert!(none.jobs.is_empty());
    let jobs = jobs_of(&stores, tf.tenant()).await;
    assert_eq!(jobs.len(), 9, "old reminders stay as history");
    assert!(
        jobs.iter().all(|j| j.status != JobStatus::Queued),
        "nothing queued for a cancelled task: {jobs:?}"
    );
}

pub async fn a_sent_reminder_is_not_planned_again(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, first) = add_task(&stores, &tf, "Review", Some(10)).await;
    // The 7-day reminder was sent; the 1-day one is being sent.
    let sent = claim_at(&stores, first.jobs[0].run_at).await;
    assert_eq!(sent.len(), 1);
    assert!(
        stores
            .jobs
            .complete(&tf.fx.system_scope(), &sent[0], "sent", now(&stores))
            .await
            .expect("complete")
    );
    let sending = claim_at(&stores, first.jobs[1].run_at).await;
    assert_eq!(
        sending.iter().map(|j| j.id).collect::<Vec<_>>(),
        [first.jobs[1].id]
    );

    // A change that plans the very same reminders again (same due date and assignee).
    let renamed = edited(&stores, &task, |t| {
        t.fields.title = "Review, renamed".into()
    });
    let again = update_planned(&stores, &tf, &renamed, 1)
        .await
        .expect("rename");
    assert_eq!(again.jobs.len(), 3, "the domain plans all three again");
    assert!(
        find_job(&stores, tf.tenant(), again.jobs[0].id)
            .await
            .is_none(),
        "a sent reminder keeps its key: not planned twice"
    );
    assert!(
        find_job(&stores, tf.tenant(), again.jobs[1].id)
            .await
            .is_none(),
        "a running reminder keeps its key"
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&first)).await,
        [JobStatus::Done, JobStatus::Running, JobStatus::Cancelled]
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &[again.jobs[2].id]).await,
        [JobStatus::Queued],
        "the reminder not yet sent is planned anew"
    );
}

pub async fn complete_cancels_reminders_and_creates_the_next_occurrence(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, reminders) = add_recurring(&stores, &tf, "Monthly access review").await;
    let base = events(&stores, &tf).await;
    let done = completed(&stores, &tf, &task);
    let next = successor(&stores, &tf, &task);
    let next_plan = plan(&stores, &next);
    assert_eq!(next_plan.jobs.len(), 3);
    complete(&stores, &tf, &done, 1, Some((&next, &next_plan)))
        .await
        .expect("complete with the next occurrence");
    assert_eq!(get(&stores, &tf, task.id).await, done);
    assert_eq!(get(&stores, &tf, next.id).await, next);
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&reminders)).await,
        [JobStatus::Cancelled; 3],
        "the completed task's reminders are cancelled"
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&next_plan)).await,
        [JobStatus::Queued; 3],
        "the next occurrence's reminders are queued"
    );
    assert_last_events(
        &stores,
        &tf,
        &[("task.completed", task.id), ("task.created", next.id)],
    )
    .await;
    assert_chain(&stores, tf.scope(), base + 2, "completion and successor").await;

    // A one-off task has no successor.
    let (once, once_plan) = add_task(&stores, &tf, "One-off", Some(10)).await;
    let once_done = completed(&stores, &tf, &once);
    complete(&stores, &tf, &once_done, 1, None)
        .await
        .expect("complete a one-off task");
    assert_eq!(get(&stores, &tf, once.id).await, once_done);
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&once_plan)).await,
        [JobStatus::Cancelled; 3]
    );
    assert_last_events(&stores, &tf, &[("task.completed", once.id)]).await;
    assert_eq!(list(&stores, &tf, &query()).await.items.len(), 3);
}

pub async fn a_stale_completion_changes_nothing(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, _) = add_recurring(&stores, &tf, "Monthly access review").await;
    let renamed = edited(&stores, &task, |t| t.fields.title = "Renamed".into());
    let current = update_planned(&stores, &tf, &renamed, 1)
        .await
        .expect("update");
    let base = events(&stores, &tf).await;

    let done = completed(&stores, &tf, &task);
    let next = successor(&stores, &tf, &task);
    let next_plan = plan(&stores, &next);
    assert_conflict(
        complete(&stores, &tf, &done, 1, Some((&next, &next_plan))).await,
        Conflict::Version,
        "a completion at a stale version",
    );
    assert_eq!(get(&stores, &tf, task.id).await, renamed);
    assert_not_found(
        stores.tasks.get(tf.scope(), next.id).await,
        "the successor of a refused completion",
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&current)).await,
        [JobStatus::Queued; 3],
        "the reminders stay"
    );
    for id in job_ids(&next_plan) {
        assert!(find_job(&stores, tf.tenant(), id).await.is_none());
    }
    assert_not_found(
        complete(
            &stores,
            &tf,
            &completed(&stores, &tf, &new_task(&stores, &tf, "Ghost", Some(3))),
            1,
            None,
        )
        .await,
        "completing a task that does not exist",
    );
    assert_chain(
        &stores,
        tf.scope(),
        base,
        "no event for refused completions",
    )
    .await;

    // A successor whose id is taken fails the whole completion.
    let done = completed(&stores, &tf, &renamed);
    let mut clash = successor(&stores, &tf, &renamed);
    clash.id = task.id;
    assert_any_conflict(
        complete(
            &stores,
            &tf,
            &done,
            2,
            Some((&clash, &ReminderPlan::none(clash.id))),
        )
        .await,
        "a successor with a taken id",
    );
    assert_eq!(get(&stores, &tf, task.id).await, renamed, "still open");
    assert_chain(&stores, tf.scope(), base, "no event").await;
}

pub async fn delete_checks_the_version_and_cancels_reminders(stores: TaskStores) {
    let tf = register(&stores).await;
    let (task, reminders) = add_task(&stores, &tf, "Review", Some(10)).await;
    let base = events(&stores, &tf).await;
    assert_conflict(
        delete(&stores, &tf, task.id, 2).await,
        Conflict::Version,
        "a delete at a stale version",
    );
    assert_eq!(get(&stores, &tf, task.id).await, task);
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&reminders)).await,
        [JobStatus::Queued; 3]
    );
    assert_chain(&stores, tf.scope(), base, "no event for a stale delete").await;

    delete(&stores, &tf, task.id, 1).await.expect("delete");
    assert_not_found(
        stores.tasks.get(tf.scope(), task.id).await,
        "a deleted task",
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&reminders)).await,
        [JobStatus::Cancelled; 3],
        "a deleted task's reminders are cancelled"
    );
    assert_last_events(&stores, &tf, &[("task.deleted", task.id)]).await;
    assert_not_found(delete(&stores, &tf, task.id, 1).await, "deleting it again");

    // The next occurrence outlives the one it followed.
    let (recurring, _) = add_recurring(&stores, &tf, "Monthly access review").await;
    let done = completed(&stores, &tf, &recurring);
    let next = successor(&stores, &tf, &recurring);
    let next_plan = plan(&stores, &next);
    complete(&stores, &tf, &done, 1, Some((&next, &next_plan)))
        .await
        .expect("complete");
    delete(&stores, &tf, recurring.id, 2)
        .await
        .expect("delete the completed occurrence");
    let orphan = get(&stores, &tf, next.id).await;
    assert_eq!(orphan.derived.previous_id, None, "its successor forgets it");
    assert_eq!(
        orphan,
        Task {
            derived: TaskState {
                previous_id: None,
                ..next.derived.clone()
            },
            ..next.clone()
        },
        "and keeps everything else"
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &job_ids(&next_plan)).await,
        [JobStatus::Queued; 3],
        "and its reminders"
    );
    assert_chain(
        &stores,
        tf.scope(),
        base + 5,
        "delete, insert, complete, delete",
    )
    .await;
}

pub async fn a_deleted_user_leaves_the_tasks_unassigned(stores: TaskStores) {
    let tf = register(&stores).await;
    let helper = add_user(&stores.identity, &tf.fx, Role::Member).await;
    let mut task = new_task(&stores, &tf, "Helper's task", Some(10));
    task.fields.assigned_to = Some(helper.id);
    task.derived.created_by = Some(helper.id);
    insert_task(&stores, &tf, &task).await;
    delete_by_owner(&stores.identity, &tf.fx, &helper)
        .await
        .expect("delete the helper");
    let stored = get(&stores, &tf, task.id).await;
    assert_eq!(stored.fields.assigned_to, None, "unassigned");
    assert_eq!(stored.derived.created_by, None, "creator forgotten");
    assert_eq!(
        stored,
        Task {
            fields: aura_tasks::TaskFields {
                assigned_to: None,
                ..task.fields.clone()
            },
            derived: TaskState {
                created_by: None,
                ..task.derived.clone()
            },
            ..task.clone()
        },
        "everything else stays"
    );
}

/// One case of the list filter contract: what it sets on the default filter, the tasks
/// the list then holds, and its name.
type FilterCase<'a> = (&'a dyn Fn(&mut TaskFilter), Vec<&'a Task>, &'a str);

pub async fn list_filters(stores: TaskStores) {
    let tf = register(&stores).await;
    let helper = add_user(&stores.identity, &tf.fx, Role::Member).await;
    let today = today(&stores);
    let at = now(&stores);
    let make = |title: &str,
                due: Option<i64>,
                status: TaskStatus,
                assignee: Option<UserId>,
                category: Category| {
        let mut task = new_task(&stores, &tf, title, due);
        task.fields.status = status;
        task.fields.assigned_to = assignee;
        task.fields.category = category;
        if status == TaskStatus::Done {
            task.derived.completed_by = Some(tf.owner());
            task.derived.completed_at = Some(at);
        }
        task
    };
    let member = Some(tf.member.id);
    let other = Some(helper.id);
    let a = make("A", Some(-3), TaskStatus::Open, member, Category::DpaReview);
    let b = make("B", Some(-1), TaskStatus::InProgress, other, Category::Dpia);
    let c = make("C", Some(0), TaskStatus::Open, member, Category::Training);
    let d = make("D", Some(5), TaskStatus::Open, None, Category::DpaReview);
    let e = make("E", Some(-10), TaskStatus::Done, member, Category::Other);
    let f = make("F", Some(-2), TaskStatus::Cancelled, other, Category::Dsar);
    let g = make("G", None, TaskStatus::Open, member, Category::BreachDrill);
    for task in [&a, &b, &c, &d, &e, &f, &g] {
        insert_task(&stores, &tf, task).await;
    }
    let other_tenant = register(&stores).await;
    add_task(&stores, &other_tenant, "Elsewhere", Some(-3)).await;

    let cases: &[FilterCase] = &[
        (&|_| {}, vec![&a, &b, &c, &d, &e, &f, &g], "no filter"),
        (
            &|f| f.assigned_to = member,
            vec![&a, &c, &e, &g],
            "assigned to the member",
        ),
        (
            &|f| f.status = Some(TaskStatus::Open),
            vec![&a, &c, &d, &g],
            "open",
        ),
        (
            &|f| f.category = Some(Category::DpaReview),
            vec![&a, &d],
            "DPA reviews",
        ),
        (
            &|f| f.due_before = Some(today),
            vec![&a, &b, &c, &e, &f],
            "due on or before today (undated never)",
        ),
        (
            &|f| f.due_after = Some(today),
            vec![&c, &d],
            "due on or after today",
        ),
        (
            &|f| {
                f.due_after = Some(today - Duration::days(2));
                f.due_before = Some(today);
            },
            vec![&b, &c, &f],
            "due within a range, both ends included",
        ),
        (
            &|f| f.overdue_on = Some(today),
            vec![&a, &b],
            "overdue: open or in progress and due before the date",
        ),
        (
            &|f| f.overdue_on = Some(today + Duration::days(1)),
            vec![&a, &b, &c],
            "overdue tomorrow",
        ),
        (
            &|f| {
                f.overdue_on = Some(today);
                f.assigned_to = other;
            },
            vec![&b],
            "filters combine",
        ),
        (
            &|f| f.assigned_to = Some(other_tenant.member.id),
            vec![],
            "another tenant's user",
        ),
    ];
    for (set, expected, what) in cases {
        let mut filter = TaskFilter::default();
        set(&mut filter);
        assert_eq!(
            ids(&stores, &tf, filtered(filter)).await,
            sorted_ids(expected),
            "filter: {what}"
        );
    }
}

/// The task sorts: the kernel's, and the due dates (undated last).
impl ListOrder<Task> for TaskSort {
    fn order(self, mut tasks: Vec<Task>) -> Vec<Task> {
        let key = |t: &Task| t.fields.due_date.unwrap_or(TaskSort::UNDATED);
        match self {
            TaskSort::DueDate => tasks.sort_by_key(|t| (key(t), t.id)),
            TaskSort::DueDateDesc => tasks.sort_by_key(|t| Reverse((key(t), t.id))),
            TaskSort::Record(sort) => return sort.order(tasks),
        }
        tasks
    }

    fn assert_cursor(self, cursor: &Cursor, last: &Task, what: &str) {
        assert_eq!(
            *cursor,
            self.cursor(last),
            "{what} ({self:?}): the cursor is the sort's cursor of the last item"
        );
        assert!(self.fits(cursor));
    }
}

/// Every sort's full walk, in pages of `limit`, equals `tasks` in that sort's order.
async fn assert_pages_in_every_sort(
    stores: &TaskStores,
    tf: &TaskFixture,
    base: &TaskQuery,
    tasks: &[Task],
    limit: usize,
    what: &str,
) {
    let fetch = |sort, after| {
        let q = TaskQuery {
            sort,
            after,
            limit,
            ..base.clone()
        };
        async move { list(stores, tf, &q).await }
    };
    assert_pages_in_every_order(&TASK_SORTS, tasks, limit, fetch, what).await;
}

/// Due dates (days from today; `None` undated) and `updated_at` offsets (minutes ago)
/// with repeats, so ties are broken by id.
const DUE: [Option<i64>; 9] = [
    Some(5),
    None,
    Some(1),
    Some(5),
    Some(-3),
    None,
    Some(1),
    Some(20),
    Some(5),
];
const UPDATED: [i64; 9] = [3, 1, 4, 1, 5, 9, 2, 6, 5];

pub async fn list_pages_through_every_sort(stores: TaskStores) {
    let tf = register(&stores).await;
    let base = now(&stores);
    let mut tasks = Vec::new();
    for (i, due) in DUE.iter().enumerate() {
        let mut task = new_task(&stores, &tf, &format!("Task {i}"), *due);
        task.updated_at = base - Duration::minutes(UPDATED[i]);
        insert_task(&stores, &tf, &task).await;
        tasks.push(task);
    }
    for limit in [1, 2, 4, 9, 10] {
        assert_pages_in_every_sort(&stores, &tf, &query(), &tasks, limit, "all tasks").await;
    }
    // A page of zero is empty and points nowhere.
    let empty = list(
        &stores,
        &tf,
        &TaskQuery {
            limit: 0,
            ..query()
        },
    )
    .await;
    assert!(empty.items.is_empty());
}

pub async fn list_pages_through_a_filtered_list(stores: TaskStores) {
    let tf = register(&stores).await;
    let base = now(&stores);
    let mut matching = Vec::new();
    for (i, due) in DUE.iter().enumerate() {
        let mut task = new_task(&stores, &tf, &format!("Task {i}"), *due);
        task.updated_at = base - Duration::minutes(UPDATED[i]);
        if i % 3 == 1 {
            task.fields.assigned_to = None;
        } else {
            matching.push(task.clone());
        }
        insert_task(&stores, &tf, &task).await;
    }
    let filter = filtered(TaskFilter {
        assigned_to: Some(tf.member.id),
        ..TaskFilter::default()
    });
    for limit in [1, 2, 5] {
        assert_pages_in_every_sort(&stores, &tf, &filter, &matching, limit, "assigned").await;
    }
}

pub async fn writes_keep_a_valid_chain(stores: TaskStores) {
    let tf = register(&stores).await;
    let base = events(&stores, &tf).await;
    let (task, _) = add_recurring(&stores, &tf, "Monthly access review").await;
    let moved = edited(&stores, &task, |t| {
        t.fields.due_date = t.fields.due_date.map(|d| d + Duration::days(1));
    });
    update_planned(&stores, &tf, &moved, 1).await.unwrap();
    let done = completed(&stores, &tf, &moved);
    let next = successor(&stores, &tf, &moved);
    let next_plan = plan(&stores, &next);
    complete(&stores, &tf, &done, 2, Some((&next, &next_plan)))
        .await
        .unwrap();
    delete(&stores, &tf, next.id, 1).await.unwrap();
    let records = assert_chain(&stores, tf.scope(), base + 5, "five task events").await;
    let actions: Vec<&str> = records[base..].iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "task.created",
            "task.updated",
            "task.completed",
            "task.created",
            "task.deleted"
        ]
    );
    // Give a moving clock a moment, then check nothing was written twice.
    tokio::time::sleep(StdDuration::from_millis(1)).await;
    assert_chain(&stores, tf.scope(), base + 5, "unchanged").await;
}
