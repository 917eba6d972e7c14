//! `TaskRepository` in memory: tasks keyed by (tenant, id), each write with its audit
//! event and its reminders under the one lock, every rule checked before anything
//! changes. Like the PostgreSQL schema: an assignee outside the tenant is
//! `Conflict::UnknownAssignee`, other references outside it (`created_by`,
//! `completed_by`, `previous_id`) are `NotFound`, and deleting a task leaves its
//! successor without `previous_id`.

use std::{cmp::Ordering, collections::BTreeMap};

use aura_audit::PendingEvent;
use aura_tasks::{
    ReminderPlan, Task, TaskStatus,
    ports::{Cursor, ListPage, TaskQuery, TaskRepository, TaskSort, parse_date_key},
};
use aura_tenancy::{Conflict, StoreError, TenantId, TenantScope};
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{MemoryStore, registers::check_version, state::State};

/// The tasks table, keyed by (tenant, id) like the primary key.
pub(crate) type Tasks = BTreeMap<(TenantId, Uuid), Task>;

fn tenant_tasks(tasks: &Tasks, tenant: TenantId) -> impl Iterator<Item = &Task> {
    tasks
        .range((tenant, Uuid::nil())..=(tenant, Uuid::max()))
        .map(|(_, task)| task)
}

impl State {
    /// The references of a task row, as the schema's composite foreign keys check them.
    fn check_task_references(&self, tenant: TenantId, task: &Task) -> Result<(), StoreError> {
        let is_user = |user: aura_tenancy::UserId| self.user(tenant, user).is_some();
        if task.fields.assigned_to.is_some_and(|user| !is_user(user)) {
            return Err(StoreError::Conflict(Conflict::UnknownAssignee));
        }
        if task.created_by.is_some_and(|user| !is_user(user))
            || task.completed_by.is_some_and(|user| !is_user(user))
            || task
                .previous_id
                .is_some_and(|previous| !self.tasks.contains_key(&(tenant, previous)))
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A new task of `tenant`: its id free, its references inside the tenant.
    fn check_new_task(&self, tenant: TenantId, task: &Task) -> Result<(), StoreError> {
        if task.tenant_id != tenant || !self.tenants.contains_key(&tenant) {
            return Err(StoreError::NotFound);
        }
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
        if task.tenant_id != tenant {
            return Err(StoreError::NotFound);
        }
        let before = self
            .tasks
            .get(&(tenant, task.id))
            .ok_or(StoreError::NotFound)?;
        check_version(before.version, expected_version)?;
        let row = Task {
            created_by: before.created_by,
            created_at: before.created_at,
            previous_id: before.previous_id,
            ..task.clone()
        };
        self.check_task_references(tenant, &row)?;
        Ok(row)
    }

    /// Removes a task; like `ON DELETE SET NULL (previous_id)`, its successor forgets it.
    fn remove_task(&mut self, tenant: TenantId, id: Uuid) {
        self.tasks.remove(&(tenant, id));
        for task in self
            .tasks
            .range_mut((tenant, Uuid::nil())..=(tenant, Uuid::max()))
            .map(|(_, task)| task)
        {
            if task.previous_id == Some(id) {
                task.previous_id = None;
            }
        }
    }

    /// Like the foreign keys' `ON DELETE SET NULL`: the tasks of `tenant` forget `user`.
    pub fn forget_user_in_tasks(&mut self, tenant: TenantId, user: aura_tenancy::UserId) {
        for task in self
            .tasks
            .range_mut((tenant, Uuid::nil())..=(tenant, Uuid::max()))
            .map(|(_, task)| task)
        {
            if task.fields.assigned_to == Some(user) {
                task.fields.assigned_to = None;
            }
            if task.created_by == Some(user) {
                task.created_by = None;
            }
            if task.completed_by == Some(user) {
                task.completed_by = None;
            }
        }
    }
}

/// The due-date sort key (undated last).
fn due_key(task: &Task) -> Date {
    task.fields.due_date.unwrap_or(TaskSort::UNDATED)
}

/// The order of `sort` between two tasks, ties broken by id in the same direction.
fn compare(sort: TaskSort, a: &Task, b: &Task) -> Ordering {
    match sort {
        TaskSort::DueDate => (due_key(a), a.id).cmp(&(due_key(b), b.id)),
        TaskSort::DueDateDesc => (due_key(b), b.id).cmp(&(due_key(a), a.id)),
        TaskSort::Created => a.id.cmp(&b.id),
        TaskSort::CreatedDesc => b.id.cmp(&a.id),
        TaskSort::UpdatedDesc => (b.updated_at, b.id).cmp(&(a.updated_at, a.id)),
    }
}

/// Whether `task` comes strictly after the cursor in the order of `sort`.
fn after_cursor(sort: TaskSort, cursor: &Cursor, task: &Task) -> Result<bool, StoreError> {
    let order = match sort {
        TaskSort::DueDate | TaskSort::DueDateDesc => {
            let key = parse_date_key(&cursor.key)
                .ok_or_else(|| StoreError::unexpected("a due-date cursor that is no date"))?;
            let order = (due_key(task), task.id).cmp(&(key, cursor.id));
            if sort == TaskSort::DueDate {
                order
            } else {
                order.reverse()
            }
        }
        TaskSort::Created => task.id.cmp(&cursor.id),
        TaskSort::CreatedDesc => cursor.id.cmp(&task.id),
        TaskSort::UpdatedDesc => {
            let at = OffsetDateTime::parse(&cursor.key, &Rfc3339)
                .map_err(|_| StoreError::unexpected("a -updated_at cursor that is no time"))?;
            (at, cursor.id).cmp(&(task.updated_at, task.id))
        }
    };
    Ok(order == Ordering::Greater)
}

fn matches(task: &Task, query: &TaskQuery) -> bool {
    let f = &task.fields;
    query.assigned_to.is_none_or(|u| f.assigned_to == Some(u))
        && query.status.is_none_or(|s| task.status == s)
        && query.category.is_none_or(|c| f.category == c)
        && query
            .due_before
            .is_none_or(|d| f.due_date.is_some_and(|due| due <= d))
        && query
            .due_after
            .is_none_or(|d| f.due_date.is_some_and(|due| due >= d))
        && query.overdue_on.is_none_or(|d| {
            matches!(task.status, TaskStatus::Open | TaskStatus::InProgress)
                && f.due_date.is_some_and(|due| due < d)
        })
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
            let tenant = scope.tenant_id();
            let now = tx.clock.now();
            tx.state.check_new_task(tenant, task)?;
            let jobs = tx.state.plan_jobs(tenant, &reminders.jobs, None, now)?;
            tx.state.tasks.insert((tenant, task.id), task.clone());
            tx.record(tenant, event);
            tx.state.apply_jobs(jobs, now);
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
            let tenant = scope.tenant_id();
            let now = tx.clock.now();
            if !tx.state.tenants.contains_key(&tenant) {
                return Err(StoreError::NotFound);
            }
            if tx.state.task_origins.contains(&(tenant, origin.to_owned())) {
                return Ok(false);
            }
            tx.state.check_new_task(tenant, task)?;
            let jobs = tx.state.plan_jobs(tenant, &reminders.jobs, None, now)?;
            tx.state.task_origins.insert((tenant, origin.to_owned()));
            tx.state.tasks.insert((tenant, task.id), task.clone());
            tx.record(tenant, event);
            tx.state.apply_jobs(jobs, now);
            Ok(true)
        })
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Task, StoreError> {
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
        let mut rows: Vec<Task> = {
            let state = self.lock()?;
            tenant_tasks(&state.tasks, scope.tenant_id())
                .filter(|task| matches(task, query))
                .cloned()
                .collect()
        };
        if let Some(cursor) = &query.after {
            let mut kept = Vec::with_capacity(rows.len());
            for task in rows {
                if after_cursor(query.sort, cursor, &task)? {
                    kept.push(task);
                }
            }
            rows = kept;
        }
        rows.sort_by(|a, b| compare(query.sort, a, b));
        let more = rows.len() > query.limit;
        rows.truncate(query.limit);
        let next = match rows.last() {
            Some(last) if more => Some(query.sort.cursor(last)),
            _ => None,
        };
        Ok(ListPage { items: rows, next })
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
            let tenant = scope.tenant_id();
            let now = tx.clock.now();
            let row = tx.state.check_task_update(tenant, task, expected_version)?;
            let jobs = tx
                .state
                .plan_jobs(tenant, &reminders.jobs, Some(task.id), now)?;
            tx.state.tasks.insert((tenant, task.id), row);
            tx.record(tenant, event);
            tx.state.apply_jobs(jobs, now);
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
            let tenant = scope.tenant_id();
            let now = tx.clock.now();
            let row = tx.state.check_task_update(tenant, task, expected_version)?;
            let cancel = tx.state.plan_jobs(tenant, &[], Some(task.id), now)?;
            let follow_up = match next {
                Some((next, plan, next_event)) => {
                    // Its `previous_id` names the completed task, which is stored.
                    tx.state.check_new_task(tenant, next)?;
                    let jobs = tx.state.plan_jobs(tenant, &plan.jobs, None, now)?;
                    Some((next.clone(), jobs, next_event))
                }
                None => None,
            };
            tx.state.tasks.insert((tenant, task.id), row);
            tx.record(tenant, event);
            tx.state.apply_jobs(cancel, now);
            if let Some((next, jobs, next_event)) = follow_up {
                tx.state.tasks.insert((tenant, next.id), next);
                tx.record(tenant, next_event);
                tx.state.apply_jobs(jobs, now);
            }
            Ok(())
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
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
            tx.state.cancel_reminders(tenant, id, now);
            tx.record(tenant, event);
            Ok(())
        })
    }
}
