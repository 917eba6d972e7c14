//! A task: something a person in the tenant has to do by a date, optionally tied to a
//! record of the registers and optionally recurring.

use aura_gdpr_registers::{
    Activities, Policies, Processors, add_months, string_enum,
    text::{TextRule, optional_text, text},
};
use aura_records::{Id, Record, RecordActions, RecordKind};
use aura_shared_kernel::{TenantId, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{actions, ports::TaskFilter};

string_enum!(
    /// What kind of compliance work a task is.
    Category {
        Dpia => "dpia",
        PolicyReview => "policy_review",
        BreachDrill => "breach_drill",
        DpaReview => "dpa_review",
        Dsar => "dsar",
        Training => "training",
        Other => "other",
    }
);

string_enum!(
    /// Where a task stands. `done` is reached only through completion (which records who
    /// and when and creates the next occurrence); `reopen` leads back to `open`.
    TaskStatus {
        Open => "open",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Whether completing the task creates the next occurrence, and how far ahead.
    Recurrence {
        None => "none",
        Monthly => "monthly",
        Quarterly => "quarterly",
        Yearly => "yearly",
    }
);

string_enum!(
    /// The kinds of record a task can point to.
    LinkKind {
        ProcessingActivity => "processing_activity",
        Processor => "processor",
        Policy => "policy",
    }
);

impl TaskStatus {
    /// Open work: it gets reminders and can be overdue.
    pub const fn is_active(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::InProgress)
    }
}

impl Recurrence {
    /// The due date of the next occurrence, `None` for one-off tasks.
    pub fn next_due(self, due: Date) -> Option<Date> {
        match self {
            Recurrence::None => None,
            Recurrence::Monthly => Some(add_months(due, 1)),
            Recurrence::Quarterly => Some(add_months(due, 3)),
            Recurrence::Yearly => Some(add_months(due, 12)),
        }
    }
}

/// A pointer to a record of the same tenant, checked by the store inside the write's
/// transaction when it is set or changed (`Conflict::UnknownReference("link.id")`
/// otherwise); a record deleted later leaves it dangling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordLink {
    pub kind: LinkKind,
    pub id: Uuid,
}

/// The field a client names a task's link by.
pub const LINK_FIELD: &str = "link.id";

impl LinkKind {
    /// The entity of the register it points into (a [`RecordKind::ENTITY`]).
    pub const fn entity(self) -> &'static str {
        match self {
            LinkKind::ProcessingActivity => Activities::ENTITY,
            LinkKind::Processor => Processors::ENTITY,
            LinkKind::Policy => Policies::ENTITY,
        }
    }
}

/// Everything a user edits about a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFields {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub category: Category,
    #[serde(default, with = "aura_gdpr_registers::text::iso_date::option")]
    pub due_date: Option<Date>,
    #[serde(default)]
    pub assigned_to: Option<UserId>,
    #[serde(default)]
    pub link: Option<RecordLink>,
    #[serde(default = "no_recurrence")]
    pub recurrence: Recurrence,
    /// Open, in progress or cancelled through an edit; `done` only through completion.
    #[serde(default = "open")]
    pub status: TaskStatus,
}

fn no_recurrence() -> Recurrence {
    Recurrence::None
}

fn open() -> TaskStatus {
    TaskStatus::Open
}

impl TaskFields {
    pub const MAX_TITLE: usize = 200;
    pub const MAX_DESCRIPTION: usize = 10_000;

    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.collect(text("title", &self.title, TextRule::line(Self::MAX_TITLE)));
        let description = e.collect(optional_text(
            "description",
            self.description.as_deref(),
            TextRule::block(Self::MAX_DESCRIPTION),
        ));
        if self.recurrence != Recurrence::None && self.due_date.is_none() {
            e.push("due_date", "is required for a recurring task");
        }
        if let Some(due) = self.due_date
            && !(2000..=2200).contains(&due.year())
        {
            e.push("due_date", "must be a year between 2000 and 2200");
        }
        e.into_result()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            description: description.flatten(),
            ..self
        })
    }
}

impl TaskFields {
    /// Active and due before `today`.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.status.is_active() && self.due_date.is_some_and(|due| due < today)
    }
}

/// The tasks of a tenant, a register on the record kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tasks {}

pub type TaskId = Id<Tasks>;

/// A stored task.
pub type Task = Record<Tasks>;

/// What a task records about its life that no edit sets: who made it, who completed it
/// and when, and the occurrence it follows (recurring tasks).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TaskState {
    pub created_by: Option<UserId>,
    pub completed_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    pub previous_id: Option<TaskId>,
}

impl RecordKind for Tasks {
    const ENTITY: &'static str = "task";
    const ACTIONS: RecordActions = RecordActions {
        created: actions::TASK_CREATED,
        updated: actions::TASK_UPDATED,
        deleted: actions::TASK_DELETED,
    };
    type Fields = TaskFields;
    type Derived = TaskState;
    type Filter = TaskFilter;

    fn validated(fields: TaskFields) -> Result<TaskFields, ValidationErrors> {
        fields.validated()
    }

    fn label(fields: &TaskFields) -> &str {
        &fields.title
    }

    fn derived_at_creation(actor: Option<UserId>) -> TaskState {
        TaskState {
            created_by: actor,
            ..TaskState::default()
        }
    }
}

/// A new open task of `tenant` (version 1, made `now`), not yet stored.
pub fn new_task(
    tenant: TenantId,
    fields: TaskFields,
    state: TaskState,
    now: OffsetDateTime,
) -> Task {
    let fields = TaskFields {
        status: TaskStatus::Open,
        ..fields
    };
    Record::first_version(Id::generate(), tenant, fields, state, now)
}

/// A partial change (JSON merge patch): absent fields stay (`None`), `Some(None)` clears
/// an optional one. Read from the wire by the HTTP edge's body type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub category: Option<Category>,
    pub due_date: Option<Option<Date>>,
    pub assigned_to: Option<Option<UserId>>,
    pub link: Option<Option<RecordLink>>,
    pub recurrence: Option<Recurrence>,
    /// `open`, `in_progress` or `cancelled`; completion and reopening have their own routes.
    pub status: Option<TaskStatus>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        *self == TaskPatch::default()
    }

    /// The fields after the patch (not yet validated).
    pub fn apply(self, fields: &TaskFields) -> TaskFields {
        TaskFields {
            title: self.title.unwrap_or_else(|| fields.title.clone()),
            description: self
                .description
                .unwrap_or_else(|| fields.description.clone()),
            category: self.category.unwrap_or(fields.category),
            due_date: self.due_date.unwrap_or(fields.due_date),
            assigned_to: self.assigned_to.unwrap_or(fields.assigned_to),
            link: self.link.unwrap_or(fields.link),
            recurrence: self.recurrence.unwrap_or(fields.recurrence),
            status: self.status.unwrap_or(fields.status),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn fields() -> TaskFields {
        TaskFields {
            title: "  Review the DPA with Acme  ".into(),
            description: Some("   ".into()),
            category: Category::DpaReview,
            due_date: Some(date!(2026 - 12 - 01)),
            assigned_to: None,
            link: None,
            recurrence: Recurrence::Yearly,
            status: TaskStatus::Open,
        }
    }

    #[test]
    fn validation_trims_and_names_fields() {
        let valid = fields().validated().expect("valid");
        assert_eq!(valid.title, "Review the DPA with Acme");
        assert_eq!(valid.description, None);

        let errors = TaskFields {
            title: String::new(),
            due_date: None,
            ..fields()
        }
        .validated()
        .expect_err("invalid");
        let text = format!("{errors:?}");
        assert!(
            text.contains("title") && text.contains("due_date"),
            "{text}"
        );
    }

    #[test]
    fn recurrence_moves_by_calendar_months() {
        let due = date!(2026 - 01 - 31);
        assert_eq!(Recurrence::None.next_due(due), None);
        assert_eq!(
            Recurrence::Monthly.next_due(due),
            Some(date!(2026 - 02 - 28))
        );
        assert_eq!(
            Recurrence::Quarterly.next_due(due),
            Some(date!(2026 - 04 - 30))
        );
        assert_eq!(
            Recurrence::Yearly.next_due(due),
            Some(date!(2027 - 01 - 31))
        );
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_clears_nulls() {
        let base = fields().validated().expect("valid");
        let patch = TaskPatch {
            title: Some("New title".into()),
            due_date: Some(None),
            recurrence: Some(Recurrence::None),
            ..TaskPatch::default()
        };
        assert!(!patch.is_empty());
        let after = patch.apply(&base);
        assert_eq!(after.title, "New title");
        assert_eq!(after.due_date, None);
        assert_eq!(after.category, base.category);
        assert_eq!(after.status, TaskStatus::Open);
        assert!(TaskPatch::default().is_empty());
    }
}
