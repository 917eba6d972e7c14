//! Storage ports of tasks. Every method takes the tenant scope; every write takes its
//! audit event and the task's reminder plan and commits all of them together, so a
//! reminder exists exactly when the change that made it due exists.

use aura_audit::PendingEvent;
pub use aura_gdpr_registers::ports::{Cursor, ListPage, Sort};
use aura_shared_kernel::{StoreError, TenantScope, UserId};
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    reminders::ReminderPlan,
    task::{Category, Task, TaskId, TaskStatus},
};

/// How a task list is ordered; pages continue after a (sort key, id) cursor. Besides the
/// kernel's orders a task list sorts by due date, which the kernel's lists do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSort {
    /// Soonest due first, tasks without a due date last.
    #[default]
    DueDate,
    DueDateDesc,
    /// One of the kernel's orders (the name sorts order by title).
    Record(Sort),
}

impl TaskSort {
    /// Stands in for "no due date" in the sort key, so undated tasks sort last.
    pub const UNDATED: Date = match Date::from_ordinal_date(9999, 365) {
        Ok(date) => date,
        Err(_) => Date::MAX,
    };

    /// The orders a client may ask for.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "due_date" => TaskSort::DueDate,
            "-due_date" => TaskSort::DueDateDesc,
            "created_at" => TaskSort::Record(Sort::Created),
            "-created_at" => TaskSort::Record(Sort::CreatedDesc),
            "-updated_at" => TaskSort::Record(Sort::UpdatedDesc),
            other => {
                return Err(format!(
                    "`{other}` is not one of: due_date, -due_date, created_at, -created_at, -updated_at"
                ));
            }
        })
    }

    /// The cursor that continues after `task`: its due date (ISO, undated as
    /// 9999-12-31) for due sorts, the title for title sorts, `updated_at` (RFC 3339)
    /// for `-updated_at`, empty for created sorts (the id is time-ordered).
    pub fn cursor(self, task: &Task) -> Cursor {
        let key = match self {
            TaskSort::DueDate | TaskSort::DueDateDesc => {
                task.fields.due_date.unwrap_or(Self::UNDATED).to_string()
            }
            TaskSort::Record(Sort::Name | Sort::NameDesc) => task.fields.title.clone(),
            TaskSort::Record(Sort::UpdatedDesc) => {
                task.updated_at.format(&Rfc3339).unwrap_or_default()
            }
            // Tasks have their own due sorts; the kernel's are refused for them.
            TaskSort::Record(Sort::Created | Sort::CreatedDesc | Sort::Due | Sort::DueDesc) => {
                String::new()
            }
        };
        Cursor {
            key,
            id: task.id.as_uuid(),
        }
    }

    /// Whether a cursor's key fits this sort (a cursor from another sort is refused).
    pub fn fits(self, cursor: &Cursor) -> bool {
        match self {
            TaskSort::DueDate | TaskSort::DueDateDesc => parse_date_key(&cursor.key).is_some(),
            TaskSort::Record(sort) => cursor.fits(sort),
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

/// The `updated_at` key of a `-updated_at` cursor.
pub fn parse_time_key(key: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(key, &Rfc3339).ok()
}

/// The task list's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub assigned_to: Option<UserId>,
    pub status: Option<TaskStatus>,
    pub category: Option<Category>,
    /// Due on or before this date.
    pub due_before: Option<Date>,
    /// Due on or after this date.
    pub due_after: Option<Date>,
    /// Only tasks overdue on this date: open or in progress and due before it.
    pub overdue_on: Option<Date>,
}

impl TaskFilter {
    /// Whether `task` passes the filter (the memory store's; PostgreSQL says the same
    /// in SQL).
    pub fn matches(&self, task: &Task) -> bool {
        let f = &task.fields;
        self.assigned_to.is_none_or(|u| f.assigned_to == Some(u))
            && self.status.is_none_or(|s| f.status == s)
            && self.category.is_none_or(|c| f.category == c)
            && self
                .due_before
                .is_none_or(|d| f.due_date.is_some_and(|due| due <= d))
            && self
                .due_after
                .is_none_or(|d| f.due_date.is_some_and(|due| due >= d))
            && self.overdue_on.is_none_or(|d| f.is_overdue(d))
    }
}

/// A task list: filters, order, where to start, how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub sort: TaskSort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

/// The tasks table and the reminders of each task. Every write stores the task's
/// reminder plan in its transaction (queued reminders of the task cancelled, the plan
/// inserted; one already sent for the same task, date, offset and assignee is not
/// planned again).
#[async_trait::async_trait]
pub trait TaskRepository: Send + Sync {
    /// Stores a new task with its reminders. `assigned_to` must be a user of the same
    /// tenant and `link` a record of it (`Conflict::UnknownReference` naming the field
    /// otherwise), checked inside the write's transaction. [`TaskRepository::update`]
    /// checks the same, the link only when it changed.
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

    async fn get(&self, scope: &TenantScope, id: TaskId) -> Result<Task, StoreError>;

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
        id: TaskId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}
