//! `TaskRepository` in memory: tasks keyed by (tenant, id), each write with its audit
//! event and its reminders under the one lock, every rule checked before anything
//! changes. Like the PostgreSQL store: an assignee outside the tenant, or a link set or
//! changed to no record of the tenant, is `Conflict::UnknownReference` naming the field, other references outside it (`created_by`,
//! `completed_by`, `previous_id`) are `NotFound`, and deleting a task leaves its
//! successor without `previous_id`.

use std::{cmp::Ordering, collections::BTreeMap};

use aura_audit::PendingEvent;
use aura_records::{Id, Reference};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope};
use aura_tasks::{
    LINK_FIELD, ReminderPlan, Task, TaskId,
    ports::{Cursor, ListPage, TaskQuery, TaskRepository, TaskSort, parse_date_key},
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    MemoryStore,
    jobs::{JobInsert, TASK_KINDS},
    registers::{check_version, page, records::names_row},
    state::{State, Tx, in_scope},
};

/// The tasks table, keyed by (tenant, id) like the primary key.
pub(crate) type Tasks = BTreeMap<(TenantId, TaskId), Task>;

/// The tasks of `tenant`, in id (creation) order.
fn tenant_tasks(tasks: &mut Tasks, tenant: TenantId) -> impl Iterator<Item = &mut Task> {
    let (first, last) = (Id::from_uuid(Uuid::nil()), Id::from_uuid(Uuid::max()));
    tasks
        .range_mut((tenant, first)..=(tenant, last))
        .map(|(_, task)| task)
}

impl State {
    /// The references of a task row, as the schema's composite foreign keys check them.
    fn check_task_references(&self, tenant: TenantId, task: &Task) -> Result<(), StoreError> {
        let is_user = |user: aura_shared_kernel::UserId| self.user(tenant, user).is_some();
        if task.fields.assigned_to.is_some_and(|user| !is_user(user)) {
            return Err(StoreError::Conflict(Conflict::UnknownReference(
                "assigned_to",
            )));
        }
        let d = &task.derived;
        if d.created_by.is_some_and(|user| !is_user(user))
            || d.completed_by.is_some_and(|user| !is_user(user))
            || d.previous_id
                .is_some_and(|previous| !self.tasks.contains_key(&(tenant, previous)))
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A link the user sets or changes must name a record of the tenant (one left as it
    /// was may dangle, and a recurring task's next occurrence keeps it): checked on insert
    /// and update, as the PostgreSQL store does inside the write.
    fn check_task_link(&self, tenant: TenantId, task: &Task) -> Result<(), StoreError> {
        let stored = (self.tasks.get(&(tenant, task.id))).and_then(|t| t.fields.link);
        let Some(link) = task.fields.link.filter(|link| Some(*link) != stored) else {
            return Ok(());
        };
        let target = Reference {
            field: LINK_FIELD.into(),
            entity: link.kind.entity(),
            id: link.id,
        };
        if names_row(self, tenant, &target)? {
            Ok(())
        } else {
            Err(StoreError::Conflict(Conflict::UnknownReference(LINK_FIELD)))
        }
    }

    /// A new task of `tenant`: its id free, its references inside the tenant.
    fn check_new_task(&self, tenant: TenantId, task: &Task) -> Result<(), StoreError> {
        self.check_new_row(tenant, task.tenant_id)?;
        if self.tasks.contains_key(&(tenant, task.id)) {
            return Err(StoreError::Conflict(Conflict::Duplicate));
        }
        self.check_task_references(tenant, task)
    }

    /// A replacement of a stored task at `expected_version`; returns the row as it
    /// will be stored (creation fields kept from the stored row).
    fn check_task_update(
        &self,
        tenant: TenantId,
        task: &Task,
        expected_version: i32,
    ) -> Result<Task, StoreError> {
        in_scope(tenant, task.tenant_id)?;
        let before = self
            .tasks
            .get(&(tenant, task.id))
            .ok_or(StoreError::NotFound)?;
        check_version(before.version, expected_version)?;
        let mut row = Task {
            created_at: before.created_at,
            ..task.clone()
        };
        row.derived.created_by = before.derived.created_by;
        row.derived.previous_id = before.derived.previous_id;
        self.check_task_references(tenant, &row)?;
        Ok(row)
    }

    /// Removes a task; like `ON DELETE SET NULL (previous_id)`, its successor forgets it.
    fn remove_task(&mut self, tenant: TenantId, id: TaskId) {
        self.tasks.remove(&(tenant, id));
        for task in tenant_tasks(&mut self.tasks, tenant) {
            if task.derived.previous_id == Some(id) {
                task.derived.previous_id = None;
            }
        }
    }

    /// Like the foreign keys' `ON DELETE SET NULL`: the tasks of `tenant` forget `user`.
    pub fn forget_user_in_tasks(&mut self, tenant: TenantId, user: aura_shared_kernel::UserId) {
        for task in tenant_tasks(&mut self.tasks, tenant) {
            for place in [
                &mut task.fields.assigned_to,
                &mut task.derived.created_by,
                &mut task.derived.completed_by,
            ] {
                if *place == Some(user) {
                    *place = None;
                }
            }
        }
    }
}

/// The due-date sort key (undated last), the id breaking ties.
fn due_key(task: &Task) -> (Date, TaskId) {
    (task.fields.due_date.unwrap_or(TaskSort::UNDATED), task.id)
}

/// A page in due-date order (`descending` for `-due_date`); the kernel's orders are
/// the registers' [`page`].
fn due_page(
    mut rows: Vec<Task>,
    descending: bool,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<ListPage<Task>, StoreError> {
    let order = |a: &Task, b: &Task| {
        let order = due_key(a).cmp(&due_key(b));
        if descending { order.reverse() } else { order }
    };
    if let Some(cursor) = after {
        let key = parse_date_key(&cursor.key)
            .ok_or_else(|| StoreError::unexpected("a due-date cursor that is no date"))?;
        let key = (key, Id::from_uuid(cursor.id));
        rows.retain(|task| {
            let order = due_key(task).cmp(&key);
            (if descending { order.reverse() } else { order }) == Ordering::Greater
        });
    }
    rows.sort_by(order);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let sort = if descending {
        TaskSort::DueDateDesc
    } else {
        TaskSort::DueDate
    };
    let next = rows.last().filter(|_| more).map(|last| sort.cursor(last));
    Ok(ListPage { items: rows, next })
}

/// A task write checked against the state and ready to apply: every check of a write
/// runs before anything changes.
struct TaskWrite {
    row: Task,
    jobs: JobInsert,
    event: PendingEvent,
}

impl State {
    /// A new task of `tenant` with its reminders.
    fn new_task_write(
        &self,
        tenant: TenantId,
        task: &Task,
        plan: &ReminderPlan,
        event: PendingEvent,
        now: OffsetDateTime,
    ) -> Result<TaskWrite, StoreError> {
        self.check_new_task(tenant, task)?;
        let jobs = self.plan_jobs(tenant, &plan.jobs, None, now)?;
        Ok(TaskWrite {
            row: task.clone(),
            jobs,
            event,
        })
    }

    /// A replacement of a stored task at `expected_version`, its queued reminders
    /// replaced by `plan`.
    fn task_update_write(
        &self,
        tenant: TenantId,
        task: &Task,
        expected_version: i32,
        plan: &ReminderPlan,
        event: PendingEvent,
        now: OffsetDateTime,
    ) -> Result<TaskWrite, StoreError> {
        let row = self.check_task_update(tenant, task, expected_version)?;
        let jobs = self.plan_jobs(
            tenant,
            &plan.jobs,
            Some((task.id.as_uuid(), TASK_KINDS)),
            now,
        )?;
        Ok(TaskWrite { row, jobs, event })
    }
}

impl Tx<'_> {
    fn apply_task(&mut self, tenant: TenantId, write: TaskWrite, now: OffsetDateTime) {
        self.state.tasks.insert((tenant, write.row.id), write.row);
        self.record(tenant, write.event);
        self.state.apply_jobs(write.jobs, now);
    }
}

#[async_trait::async_trait]
impl TaskRepository for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        task: &Task,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let (tenant, now) = (scope.tenant_id(), tx.clock.now());
            tx.state.check_task_link(tenant, task)?;
            let write = tx
                .state
                .new_task_write(tenant, task, reminders, event, now)?;
            tx.apply_task(tenant, write, now);
            Ok(())
        })
    }

    async fn insert_once(
        &self,
        scope: &TenantScope,
        origin: &str,
        task: &Task,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let (tenant, now) = (scope.tenant_id(), tx.clock.now());
            tx.state.check_tenant(tenant)?;
            let origin = (tenant, origin.to_owned());
            if tx.state.task_origins.contains(&origin) {
                return Ok(false);
            }
            let write = tx
                .state
                .new_task_write(tenant, task, reminders, event, now)?;
            tx.state.task_origins.insert(origin);
            tx.apply_task(tenant, write, now);
            Ok(true)
        })
    }

    async fn get(&self, scope: &TenantScope, id: TaskId) -> Result<Task, StoreError> {
        let state = self.lock()?;
        state
            .tasks
            .get(&(scope.tenant_id(), id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &TaskQuery,
    ) -> Result<ListPage<Task>, StoreError> {
        let tenant = scope.tenant_id();
        let rows: Vec<Task> = {
            let state = self.lock()?;
            state
                .tasks
                .values()
                .filter(|task| task.tenant_id == tenant && query.filter.matches(task))
                .cloned()
                .collect()
        };
        let after = query.after.as_ref();
        match query.sort {
            TaskSort::Record(sort) => page(rows, sort, after, query.limit),
            TaskSort::DueDate => due_page(rows, false, after, query.limit),
            TaskSort::DueDateDesc => due_page(rows, true, after, query.limit),
        }
    }

    async fn update(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let (tenant, now) = (scope.tenant_id(), tx.clock.now());
            tx.state.check_task_link(tenant, task)?;
            let write = tx.state.task_update_write(
                tenant,
                task,
                expected_version,
                reminders,
                event,
                now,
            )?;
            tx.apply_task(tenant, write, now);
            Ok(())
        })
    }

    async fn complete(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        event: PendingEvent,
        next: Option<(&Task, &ReminderPlan, PendingEvent)>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let (tenant, now) = (scope.tenant_id(), tx.clock.now());
            let none = ReminderPlan::none(task.id);
            let done =
                tx.state
                    .task_update_write(tenant, task, expected_version, &none, event, now)?;
            // The next occurrence's `previous_id` names the completed task, which is stored.
            let follow_up = next
                .map(|(next, plan, event)| tx.state.new_task_write(tenant, next, plan, event, now))
                .transpose()?;
            tx.apply_task(tenant, done, now);
            if let Some(write) = follow_up {
                tx.apply_task(tenant, write, now);
            }
            Ok(())
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: TaskId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            let now = tx.clock.now();
            let before = tx
                .state
                .tasks
                .get(&(tenant, id))
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            tx.state.remove_task(tenant, id);
            tx.state
                .cancel_reminders(tenant, (id.as_uuid(), TASK_KINDS), now);
            tx.record(tenant, event);
            Ok(())
        })
    }
}
