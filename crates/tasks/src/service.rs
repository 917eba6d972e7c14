//! The task use cases. Create, get, edit and delete are the record kernel's
//! (`RecordUseCases<Tasks>`: permission, validation, [`TaskRules`], `If-Match` version,
//! change diff, audit event), over a store that plans the task's reminders on every
//! write. What is a task's own is here: the merge-patch edit, the due-date list, and
//! the completion and reopening transitions.

use std::sync::Arc;

use aura_audit::{Actor, AuditAction, AuditLog, Changes, PendingEvent, RequestContext};
use aura_jobs::RetryPolicy;
use aura_records::{RecordKind, RecordUseCases, at_version};
use aura_shared_kernel::{Clock, TenantScope, ValidationErrors};

use crate::{
    actions,
    error::TasksError,
    ports::{ListPage, TaskQuery, TaskRepository},
    reminders::ReminderPolicy,
    rules::TaskRules,
    store::{Planner, TaskRecords},
    task::{Task, TaskFields, TaskId, TaskPatch, TaskState, TaskStatus, Tasks, new_task},
};

#[derive(Clone)]
pub struct TaskPorts {
    pub tasks: Arc<dyn TaskRepository>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
    pub reminders: ReminderPolicy,
    pub retry: RetryPolicy,
}

#[derive(Clone)]
pub struct TaskService {
    records: RecordUseCases<Tasks>,
    tasks: Arc<dyn TaskRepository>,
    planner: Planner,
}

/// The audit event of a change of task `id`.
pub(crate) fn task_event(
    actor: Actor,
    action: AuditAction,
    id: TaskId,
    changes: Changes,
    ctx: &RequestContext,
) -> PendingEvent {
    PendingEvent::new(actor, action, Tasks::ENTITY, id, changes, ctx)
}

impl TaskService {
    pub fn new(ports: TaskPorts) -> Self {
        let planner = Planner {
            reminders: ports.reminders,
            retry: ports.retry,
            clock: ports.clock.clone(),
        };
        let store = TaskRecords {
            tasks: ports.tasks.clone(),
            planner: planner.clone(),
        };
        Self {
            records: RecordUseCases::new(
                Arc::new(store),
                Arc::new(TaskRules),
                ports.audit,
                ports.clock,
            ),
            tasks: ports.tasks,
            planner,
        }
    }

    /// The kernel's use cases of tasks: create, get, replace, delete.
    pub fn records(&self) -> &RecordUseCases<Tasks> {
        &self.records
    }

    /// Today by the service's clock (what "overdue" is measured against).
    pub fn today(&self) -> time::Date {
        self.planner.clock.now().date()
    }

    /// A page of tasks, in any of the kernel's orders or by due date.
    pub async fn list(
        &self,
        scope: &TenantScope,
        query: &TaskQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage<Task>, TasksError> {
        self.records.require(scope, Tasks::READ, ctx).await?;
        if let Some(cursor) = &query.after
            && !query.sort.fits(cursor)
        {
            return Err(ValidationErrors::single(
                "cursor",
                "belongs to another sort order; start again without it",
            )
            .into());
        }
        if let (Some(after), Some(before)) = (query.filter.due_after, query.filter.due_before)
            && after > before
        {
            return Err(
                ValidationErrors::single("due_after", "must not be after due_before").into(),
            );
        }
        Ok(self.tasks.list(scope, query).await?)
    }

    /// The task at `expected_version`, after the permission to change it.
    async fn before_change(
        &self,
        scope: &TenantScope,
        id: TaskId,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        self.records.require(scope, Tasks::WRITE, ctx).await?;
        let before = self.tasks.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        Ok(before)
    }

    /// Applies a partial change through the kernel's update. Status may move between
    /// open, in progress and cancelled here; completion and reopening have their own
    /// use cases.
    pub async fn update(
        &self,
        scope: &TenantScope,
        id: TaskId,
        patch: TaskPatch,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        let before = self.before_change(scope, id, expected_version, ctx).await?;
        let fields = patch.apply(&before.fields);
        self.records
            .update(scope, id, fields, expected_version, None, ctx)
            .await
    }

    /// Marks the task done; a recurring task gets its next occurrence (same fields,
    /// the due date moved on by the recurrence period), returned alongside.
    pub async fn complete(
        &self,
        scope: &TenantScope,
        id: TaskId,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(Task, Option<Task>), TasksError> {
        let before = self.before_change(scope, id, expected_version, ctx).await?;
        if !before.fields.status.is_active() {
            return Err(TasksError::Conflict {
                code: "task_not_open",
                message: "only an open or in-progress task can be completed",
            });
        }
        let now = self.planner.clock.now();
        let next = before
            .fields
            .due_date
            .and_then(|due| before.fields.recurrence.next_due(due))
            .map(|due| {
                let fields = TaskFields {
                    due_date: Some(due),
                    ..before.fields.clone()
                };
                let state = TaskState {
                    created_by: scope.user_id(),
                    previous_id: Some(before.id),
                    ..TaskState::default()
                };
                new_task(scope.tenant_id(), fields, state, now)
            });
        let done = Task {
            fields: TaskFields {
                status: TaskStatus::Done,
                ..before.fields.clone()
            },
            derived: TaskState {
                completed_by: scope.user_id(),
                completed_at: Some(now),
                ..before.derived.clone()
            },
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        let mut changes =
            Changes::new().field("status", &before.fields.status, &done.fields.status);
        if let Some(next) = &next {
            changes = changes.note("next_task_id", next.id);
        }
        let actor = Actor::of(scope);
        let event = task_event(actor, actions::TASK_COMPLETED, id, changes, ctx);
        let plan = next.as_ref().map(|next| self.planner.plan(next));
        let follow_up = next.as_ref().zip(plan.as_ref()).map(|(next, plan)| {
            let changes = Changes::of_new(&next.fields).note("previous_id", before.id);
            let created = task_event(actor, actions::TASK_CREATED, next.id, changes, ctx);
            (next, plan, created)
        });
        self.tasks
            .complete(scope, &done, expected_version, event, follow_up)
            .await?;
        Ok((done, next))
    }

    /// Back to open from done or cancelled; reminders still ahead are planned again.
    pub async fn reopen(
        &self,
        scope: &TenantScope,
        id: TaskId,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        let before = self.before_change(scope, id, expected_version, ctx).await?;
        if before.fields.status.is_active() {
            return Err(TasksError::Conflict {
                code: "task_open",
                message: "the task is already open",
            });
        }
        let task = Task {
            fields: TaskFields {
                status: TaskStatus::Open,
                ..before.fields.clone()
            },
            derived: TaskState {
                completed_by: None,
                completed_at: None,
                ..before.derived.clone()
            },
            version: before.version + 1,
            updated_at: self.planner.clock.now(),
            ..before.clone()
        };
        let changes = Changes::new().field("status", &before.fields.status, &task.fields.status);
        let event = task_event(Actor::of(scope), actions::TASK_REOPENED, id, changes, ctx);
        self.tasks
            .update(
                scope,
                &task,
                expected_version,
                &self.planner.plan(&task),
                event,
            )
            .await?;
        Ok(task)
    }
}
