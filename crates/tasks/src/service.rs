//! The task use cases: permission, validation, references checked inside the tenant,
//! optimistic concurrency, and for every change its audit event and reminder plan handed
//! to one port call.

use std::sync::Arc;

use aura_audit::{
    Actor, AuditAction, AuditLog, Changes, PendingEvent, RequestContext, require_audited,
};
use aura_gdpr_registers::Members;
use aura_jobs::RetryPolicy;
use aura_tenancy::{Clock, Permission, TenantScope, ValidationErrors};
use uuid::Uuid;

use crate::{
    actions,
    error::TasksError,
    ports::{LinkTargets, ListPage, TaskQuery, TaskRepository},
    reminders::{ReminderPlan, ReminderPolicy},
    task::{Recurrence, Task, TaskFields, TaskPatch, TaskStatus},
};

#[derive(Clone)]
pub struct TaskPorts {
    pub tasks: Arc<dyn TaskRepository>,
    pub members: Arc<dyn Members>,
    pub links: Arc<dyn LinkTargets>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
    pub reminders: ReminderPolicy,
    pub retry: RetryPolicy,
}

#[derive(Clone)]
pub struct Tasks {
    ports: TaskPorts,
}

/// The entity type in audit events.
pub mod entity {
    pub const TASK: &str = "task";
}

impl Tasks {
    pub fn new(ports: TaskPorts) -> Self {
        Self { ports }
    }

    /// Today by the service's clock (what "overdue" is measured against).
    pub fn today(&self) -> time::Date {
        self.ports.clock.now().date()
    }

    async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), TasksError> {
        Ok(require_audited(self.ports.audit.as_ref(), scope, permission, ctx).await?)
    }

    fn event(
        scope: &TenantScope,
        action: AuditAction,
        id: Uuid,
        changes: Changes,
        ctx: &RequestContext,
    ) -> PendingEvent {
        PendingEvent::new(Actor::of(scope), action, entity::TASK, id, changes, ctx)
    }

    fn plan(&self, task: &Task) -> ReminderPlan {
        self.ports
            .reminders
            .plan(task, self.ports.clock.now(), &self.ports.retry)
    }

    /// The assignee and the linked record must exist in the caller's tenant; a foreign
    /// id is reported exactly like an unknown one.
    async fn check_references(
        &self,
        scope: &TenantScope,
        fields: &TaskFields,
        before: Option<&TaskFields>,
    ) -> Result<(), TasksError> {
        if let Some(user) = fields.assigned_to
            && before.is_none_or(|b| b.assigned_to != Some(user))
            && !self.ports.members.is_member(scope, user).await?
        {
            return Err(TasksError::UnknownReference {
                field: "assigned_to",
            });
        }
        if let Some(link) = &fields.link
            && before.is_none_or(|b| b.link.as_ref() != Some(link))
            && !self.ports.links.exists(scope, link).await?
        {
            return Err(TasksError::UnknownReference { field: "link.id" });
        }
        Ok(())
    }

    pub async fn create(
        &self,
        scope: &TenantScope,
        fields: TaskFields,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let fields = fields.validated()?;
        self.check_references(scope, &fields, None).await?;
        let now = self.ports.clock.now();
        let task = Task {
            id: Uuid::now_v7(),
            tenant_id: scope.tenant_id(),
            fields,
            status: TaskStatus::Open,
            created_by: scope.user_id(),
            completed_by: None,
            completed_at: None,
            previous_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let event = Self::event(
            scope,
            actions::TASK_CREATED,
            task.id,
            Changes::of_new(&task.fields),
            ctx,
        );
        self.ports
            .tasks
            .insert(scope, &task, &self.plan(&task), event)
            .await?;
        Ok(task)
    }

    pub async fn get(
        &self,
        scope: &TenantScope,
        id: Uuid,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self.ports.tasks.get(scope, id).await?)
    }

    pub async fn list(
        &self,
        scope: &TenantScope,
        query: &TaskQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage<Task>, TasksError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        if let Some(cursor) = &query.after
            && !query.sort.fits(cursor)
        {
            return Err(ValidationErrors::single(
                "cursor",
                "belongs to another sort order; start again without it",
            )
            .into());
        }
        if let (Some(after), Some(before)) = (query.due_after, query.due_before)
            && after > before
        {
            return Err(
                ValidationErrors::single("due_after", "must not be after due_before").into(),
            );
        }
        Ok(self.ports.tasks.list(scope, query).await?)
    }

    /// Applies a partial change. Status may move between open, in progress and
    /// cancelled here; completion and reopening have their own use cases.
    pub async fn update(
        &self,
        scope: &TenantScope,
        id: Uuid,
        patch: TaskPatch,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let before = self.ports.tasks.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        let (fields, status) = patch.apply(&before.fields, before.status);
        let fields = fields.validated()?;
        if status != before.status {
            match (before.status, status) {
                (_, TaskStatus::Done) => {
                    return Err(ValidationErrors::single(
                        "status",
                        "use POST /tasks/{id}/complete to complete a task",
                    )
                    .into());
                }
                (TaskStatus::Done, _) => {
                    return Err(ValidationErrors::single(
                        "status",
                        "use POST /tasks/{id}/reopen to reopen a completed task",
                    )
                    .into());
                }
                _ => {}
            }
        }
        self.check_references(scope, &fields, Some(&before.fields))
            .await?;
        let mut changes = Changes::between(&before.fields, &fields);
        changes = changes.field("status", &before.status, &status);
        let task = Task {
            fields,
            status,
            version: before.version + 1,
            updated_at: self.ports.clock.now(),
            ..before
        };
        let event = Self::event(scope, actions::TASK_UPDATED, id, changes, ctx);
        self.ports
            .tasks
            .update(scope, &task, expected_version, &self.plan(&task), event)
            .await?;
        Ok(task)
    }

    /// Marks the task done; a recurring task gets its next occurrence (same fields,
    /// the due date moved on by the recurrence period), returned alongside.
    pub async fn complete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(Task, Option<Task>), TasksError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let before = self.ports.tasks.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        if !before.status.is_active() {
            return Err(TasksError::Conflict {
                code: "task_not_open",
                message: "only an open or in-progress task can be completed",
            });
        }
        let now = self.ports.clock.now();
        let done = Task {
            status: TaskStatus::Done,
            completed_by: scope.user_id(),
            completed_at: Some(now),
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        let next = match (before.fields.recurrence, before.fields.due_date) {
            (Recurrence::None, _) | (_, None) => None,
            (recurrence, Some(due)) => Some(Task {
                id: Uuid::now_v7(),
                fields: TaskFields {
                    due_date: recurrence.next_due(due),
                    ..before.fields.clone()
                },
                status: TaskStatus::Open,
                created_by: scope.user_id(),
                completed_by: None,
                completed_at: None,
                previous_id: Some(before.id),
                version: 1,
                created_at: now,
                updated_at: now,
                ..before.clone()
            }),
        };
        let mut changes = Changes::new().field("status", &before.status, &done.status);
        if let Some(next) = &next {
            changes = changes.note("next_task_id", next.id);
        }
        let event = Self::event(scope, actions::TASK_COMPLETED, id, changes, ctx);
        let next_plan = next.as_ref().map(|next| self.plan(next));
        let next_event = next.as_ref().map(|next| {
            let changes = Changes::of_new(&next.fields).note("previous_id", before.id);
            Self::event(scope, actions::TASK_CREATED, next.id, changes, ctx)
        });
        let follow_up = match (&next, &next_plan, next_event) {
            (Some(task), Some(plan), Some(event)) => Some((task, plan, event)),
            _ => None,
        };
        self.ports
            .tasks
            .complete(scope, &done, expected_version, event, follow_up)
            .await?;
        Ok((done, next))
    }

    /// Back to open from done or cancelled; reminders still ahead are planned again.
    pub async fn reopen(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Task, TasksError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let before = self.ports.tasks.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        if before.status.is_active() {
            return Err(TasksError::Conflict {
                code: "task_open",
                message: "the task is already open",
            });
        }
        let task = Task {
            status: TaskStatus::Open,
            completed_by: None,
            completed_at: None,
            version: before.version + 1,
            updated_at: self.ports.clock.now(),
            ..before.clone()
        };
        let changes = Changes::new().field("status", &before.status, &task.status);
        let event = Self::event(scope, actions::TASK_REOPENED, id, changes, ctx);
        self.ports
            .tasks
            .update(scope, &task, expected_version, &self.plan(&task), event)
            .await?;
        Ok(task)
    }

    pub async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(), TasksError> {
        self.require(scope, Permission::DeleteRecords, ctx).await?;
        let before = self.ports.tasks.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        let changes = Changes::new().note("title", &before.fields.title);
        let event = Self::event(scope, actions::TASK_DELETED, id, changes, ctx);
        Ok(self
            .ports
            .tasks
            .delete(scope, id, expected_version, event)
            .await?)
    }
}

/// The record must still be at the version the caller read; otherwise nothing changes.
fn at_version(read: i32, expected: i32) -> Result<(), TasksError> {
    if read == expected {
        Ok(())
    } else {
        Err(TasksError::StaleVersion)
    }
}
