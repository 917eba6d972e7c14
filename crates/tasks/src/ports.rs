//! Storage ports of tasks. Every method takes the tenant scope; every write takes its
//! audit event and the task's reminder plan and commits all of them together, so a
//! reminder exists exactly when the change that made it due exists.

use std::sync::Arc;

use aura_audit::PendingEvent;
pub use aura_gdpr_registers::ports::{Cursor, ListPage};
use aura_gdpr_registers::{Activities, Policies, Processors};
use aura_records::{Id, RecordStore};
use aura_tenancy::{StoreError, TenantScope, UserId};
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    reminders::ReminderPlan,
    task::{Category, LinkKind, RecordLink, Task, TaskStatus},
};

/// How a task list is ordered; pages continue after a (sort key, id) cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSort {
    /// Soonest due first, tasks without a due date last.
    #[default]
    DueDate,
    DueDateDesc,
    Created,
    CreatedDesc,
    UpdatedDesc,
}

impl TaskSort {
    /// Stands in for "no due date" in the sort key, so undated tasks sort last.
    pub const UNDATED: Date = match Date::from_ordinal_date(9999, 365) {
        Ok(date) => date,
        Err(_) => Date::MAX,
    };

    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "due_date" => TaskSort::DueDate,
            "-due_date" => TaskSort::DueDateDesc,
            "created_at" => TaskSort::Created,
            "-created_at" => TaskSort::CreatedDesc,
            "-updated_at" => TaskSort::UpdatedDesc,
            other => {
                return Err(format!(
                    "`{other}` is not one of: due_date, -due_date, created_at, -created_at, -updated_at"
                ));
            }
        })
    }

    /// The cursor that continues after `task`: its due date (ISO, undated as
    /// 9999-12-31) for due sorts, `updated_at` (RFC 3339) for `-updated_at`, empty
    /// for created sorts (the id is time-ordered).
    pub fn cursor(self, task: &Task) -> Cursor {
        let key = match self {
            TaskSort::DueDate | TaskSort::DueDateDesc => {
                task.fields.due_date.unwrap_or(Self::UNDATED).to_string()
            }
            TaskSort::UpdatedDesc => task.updated_at.format(&Rfc3339).unwrap_or_default(),
            TaskSort::Created | TaskSort::CreatedDesc => String::new(),
        };
        Cursor { key, id: task.id }
    }

    /// Whether a cursor's key fits this sort (a cursor from another sort is refused).
    pub fn fits(self, cursor: &Cursor) -> bool {
        match self {
            TaskSort::DueDate | TaskSort::DueDateDesc => parse_date_key(&cursor.key).is_some(),
            TaskSort::UpdatedDesc => OffsetDateTime::parse(&cursor.key, &Rfc3339).is_ok(),
            TaskSort::Created | TaskSort::CreatedDesc => cursor.key.is_empty(),
        }
    }
}

/// The due-date key of a cursor.
pub fn parse_date_key(key: &str) -> Option<Date> {
    Date::parse(
        key,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub assigned_to: Option<UserId>,
    pub status: Option<TaskStatus>,
    pub category: Option<Category>,
    /// Due on or before this date.
    pub due_before: Option<Date>,
    /// Due on or after this date.
    pub due_after: Option<Date>,
    /// Only tasks overdue on this date: open or in progress and due before it.
    pub overdue_on: Option<Date>,
    pub sort: TaskSort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

#[async_trait::async_trait]
pub trait TaskRepository: Send + Sync {
    /// Stores a new task with its reminders. `assigned_to` must be a user of the same
    /// tenant (`Conflict::UnknownAssignee` otherwise — the schema enforces it too).
    async fn insert(
        &self,
        scope: &TenantScope,
        task: &Task,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Stores a new task the system made for `origin` (e.g. the review of a processor
    /// due on a date), with its reminders and event, unless a task was made for that
    /// origin before (even one deleted since): then nothing is written and the answer is
    /// `false`. However many calls for one origin run at once, one task is made.
    async fn insert_once(
        &self,
        scope: &TenantScope,
        origin: &str,
        task: &Task,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Task, StoreError>;

    async fn list(
        &self,
        scope: &TenantScope,
        query: &TaskQuery,
    ) -> Result<ListPage<Task>, StoreError>;

    /// Stores `task` (its `version` already incremented) if the row is at
    /// `expected_version`, and replaces its queued reminders with `reminders`.
    async fn update(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Completion: stores the done `task` (cancelling its queued reminders) and, for a
    /// recurring task, inserts the next occurrence with its reminders and event — one
    /// transaction, so a completed recurring task always has its successor.
    async fn complete(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        event: PendingEvent,
        next: Option<(&Task, &ReminderPlan, PendingEvent)>,
    ) -> Result<(), StoreError>;

    /// Deletes the task and cancels its queued reminders. A later occurrence that
    /// followed it keeps existing (its `previous_id` becomes empty).
    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// Whether a record a task links to exists in the scope's tenant.
#[async_trait::async_trait]
pub trait LinkTargets: Send + Sync {
    async fn exists(&self, scope: &TenantScope, link: &RecordLink) -> Result<bool, StoreError>;
}

/// Link targets looked up through the registers' own ports.
pub struct RegisterLinks {
    pub activities: Arc<dyn RecordStore<Activities>>,
    pub processors: Arc<dyn RecordStore<Processors>>,
    pub policies: Arc<dyn RecordStore<Policies>>,
}

#[async_trait::async_trait]
impl LinkTargets for RegisterLinks {
    async fn exists(&self, scope: &TenantScope, link: &RecordLink) -> Result<bool, StoreError> {
        let found = match link.kind {
            LinkKind::ProcessingActivity => self
                .activities
                .get(scope, Id::from_uuid(link.id))
                .await
                .map(|_| ()),
            LinkKind::Processor => self
                .processors
                .get(scope, Id::from_uuid(link.id))
                .await
                .map(|_| ()),
            LinkKind::Policy => self
                .policies
                .get(scope, Id::from_uuid(link.id))
                .await
                .map(|_| ()),
        };
        match found {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other),
        }
    }
}
