//! The tasks' bodies.

use aura_shared_kernel::UserId;
use aura_tasks::{
    Category, LinkKind, RecordLink, Recurrence, TaskFields, TaskPatch, TaskState, TaskStatus, Tasks,
};
use serde::{Deserialize, Deserializer, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{ToSchema, openapi::schema::Object};
use uuid::Uuid;

use super::{
    enum_of, one_of, one_of_or_null,
    record::{RecordBodies, RecordBody, RecordList},
};

/// The statuses a patch may ask for (completion and reopening have their own routes).
fn patch_status() -> Object {
    enum_of(
        [
            TaskStatus::Open,
            TaskStatus::InProgress,
            TaskStatus::Cancelled,
        ]
        .iter()
        .map(|v| v.as_str()),
        true,
    )
}

/// A pointer to a record of the same tenant.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLinkBody {
    #[schema(schema_with = one_of::<LinkKind>)]
    pub kind: LinkKind,
    pub id: Uuid,
}

impl From<RecordLinkBody> for RecordLink {
    fn from(b: RecordLinkBody) -> Self {
        Self {
            kind: b.kind,
            id: b.id,
        }
    }
}

impl From<RecordLink> for RecordLinkBody {
    fn from(l: RecordLink) -> Self {
        Self {
            kind: l.kind,
            id: l.id,
        }
    }
}

/// Everything a user sets on a new task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Review the DPA with Mail Inc.", "category": "dpa_review", "due_date": "2026-12-15",
    "assigned_to": "0193a0c4-5b6e-7c3d-9f00-3a1b2c3d4e5f", "link": {"kind": "processor", "id": "0193a0c4-1111-7c3d-9f00-3a1b2c3d4e5f"}, "recurrence": "yearly"}))]
pub struct TaskFieldsBody {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(schema_with = one_of::<Category>)]
    pub category: Category,
    /// Required for a recurring task.
    #[serde(default, with = "aura_shared_kernel::date::iso_date::option")]
    pub due_date: Option<Date>,
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub assigned_to: Option<UserId>,
    #[serde(default)]
    pub link: Option<RecordLinkBody>,
    /// Default `none`.
    #[serde(default = "no_recurrence")]
    #[schema(schema_with = one_of::<Recurrence>)]
    pub recurrence: Recurrence,
}

fn no_recurrence() -> Recurrence {
    Recurrence::None
}

impl From<TaskFieldsBody> for TaskFields {
    fn from(b: TaskFieldsBody) -> Self {
        Self {
            title: b.title,
            description: b.description,
            category: b.category,
            due_date: b.due_date,
            assigned_to: b.assigned_to,
            link: b.link.map(Into::into),
            recurrence: b.recurrence,
            status: TaskStatus::Open,
        }
    }
}

/// A partial change (JSON merge patch): absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_date": "2027-01-10", "status": "in_progress"}))]
pub struct TaskPatchBody {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(schema_with = one_of_or_null::<Category>)]
    pub category: Option<Category>,
    #[serde(default, deserialize_with = "present_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Option<Date>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub assigned_to: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<RecordLinkBody>)]
    pub link: Option<Option<RecordLinkBody>>,
    #[schema(schema_with = one_of_or_null::<Recurrence>)]
    pub recurrence: Option<Recurrence>,
    /// `open`, `in_progress` or `cancelled`; completion and reopening have their own routes.
    #[schema(schema_with = patch_status)]
    pub status: Option<TaskStatus>,
}

/// Distinguishes an explicit `null` (`Some(None)`) from an absent field (`None`).
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn present_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<Date>>, D::Error> {
    aura_shared_kernel::date::iso_date::option::deserialize(deserializer).map(Some)
}

impl From<TaskPatchBody> for TaskPatch {
    fn from(b: TaskPatchBody) -> Self {
        Self {
            title: b.title,
            description: b.description,
            category: b.category,
            due_date: b.due_date,
            assigned_to: b.assigned_to,
            link: b.link.map(|l| l.map(Into::into)),
            recurrence: b.recurrence,
            status: b.status,
        }
    }
}

impl From<TaskFields> for TaskFieldsBody {
    fn from(f: TaskFields) -> Self {
        Self {
            title: f.title,
            description: f.description,
            category: f.category,
            due_date: f.due_date,
            assigned_to: f.assigned_to,
            link: f.link.map(Into::into),
            recurrence: f.recurrence,
        }
    }
}

/// A task's status (a new task's body does not set it) and what the store derives.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskStateBody {
    #[schema(schema_with = one_of::<TaskStatus>)]
    pub status: TaskStatus,
    #[schema(value_type = Option<Uuid>)]
    pub created_by: Option<UserId>,
    #[schema(value_type = Option<Uuid>)]
    pub completed_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// The occurrence this one follows (recurring tasks).
    pub previous_id: Option<Uuid>,
}

impl RecordBodies for Tasks {
    const BODY_NAME: &'static str = "TaskBody";
    const BODY_DESCRIPTION: &'static str = "A stored task; its `version` is the `ETag`.";
    const LIST_NAME: &'static str = "TaskList";
    const LIST_DESCRIPTION: &'static str = "A page of tasks.";
    type FieldsBody = TaskFieldsBody;
    type DerivedBody = TaskStateBody;

    fn bodies(fields: TaskFields, state: TaskState) -> (TaskFieldsBody, TaskStateBody) {
        let state = TaskStateBody {
            status: fields.status,
            created_by: state.created_by,
            completed_by: state.completed_by,
            completed_at: state.completed_at,
            previous_id: state.previous_id.map(|p| p.as_uuid()),
        };
        (fields.into(), state)
    }
}

/// A stored task.
pub type TaskBody = RecordBody<Tasks>;

/// A page of tasks.
pub type TaskList = RecordList<Tasks>;

/// A completed task and, for a recurring one, the next occurrence it created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletedTask {
    #[serde(flatten)]
    pub task: TaskBody,
    pub next_task: Option<TaskBody>,
}

#[cfg(test)]
mod tests {
    //! The task bodies read and write exactly what the domain types did.

    use aura_records::Id;
    use aura_shared_kernel::TenantId;
    use aura_tasks::Task;
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;

    fn read<D: serde::de::DeserializeOwned>(value: &Value) -> Result<D, String> {
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }

    #[test]
    fn task_bodies_match_the_domain() {
        let full = json!({"title": "Review the DPA", "description": "yearly", "category": "dpa_review",
            "due_date": "2026-12-15", "assigned_to": "0193a0c4-5b6e-7c3d-9f00-3a1b2c3d4e5f",
            "link": {"kind": "processor", "id": "0193a0c4-1111-7c3d-9f00-3a1b2c3d4e5f"},
            "recurrence": "yearly"});
        let direct: TaskFields = read(&full).expect("domain reads it");
        let via: TaskFieldsBody = read(&full).expect("body reads it");
        assert_eq!(TaskFields::from(via), direct);
        for bad in [
            json!({"title": "x"}),
            json!({"title": "x", "category": "dsar", "due_date": "tomorrow"}),
            json!({"title": "x", "category": "dsar", "link": {"kind": "user", "id": "x"}}),
            json!({"title": "x", "category": "dsar", "extra": true}),
            json!({"title": "x", "category": "dsar", "status": "done"}),
        ] {
            // Both refuse it (the domain's fields also know `status`, which a new task's
            // body does not take, so the lists of known fields differ).
            let body = read::<TaskFieldsBody>(&bad);
            assert!(body.is_err(), "{bad}");
            assert!(
                read::<TaskFields>(&bad).is_err() || bad.get("status").is_some(),
                "{bad}"
            );
        }
        // A patch body reads into the domain's patch: absent stays, `null` clears.
        let link = RecordLink {
            kind: LinkKind::Policy,
            id: Uuid::from_u128(7),
        };
        for (patch, expected) in [
            (json!({}), Some(TaskPatch::default())),
            (
                json!({"description": null, "due_date": null, "assigned_to": null, "link": null}),
                Some(TaskPatch {
                    description: Some(None),
                    due_date: Some(None),
                    assigned_to: Some(None),
                    link: Some(None),
                    ..TaskPatch::default()
                }),
            ),
            (
                json!({"title": "y", "due_date": "2027-01-10", "status": "in_progress",
                    "link": {"kind": "policy", "id": Uuid::from_u128(7)}}),
                Some(TaskPatch {
                    title: Some("y".into()),
                    due_date: Some(Some(time::macros::date!(2027 - 01 - 10))),
                    status: Some(TaskStatus::InProgress),
                    link: Some(Some(link)),
                    ..TaskPatch::default()
                }),
            ),
            (json!({"status": "finished"}), None),
            (json!({"due_date": "10.01.2027"}), None),
            (json!({"owner": 1}), None),
        ] {
            assert_eq!(
                read::<TaskPatchBody>(&patch).map(TaskPatch::from).ok(),
                expected,
                "{patch}"
            );
        }
        let task = Task {
            id: Id::from_uuid(Uuid::from_u128(5)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            fields: TaskFields {
                status: TaskStatus::Done,
                ..direct
            },
            derived: TaskState {
                created_by: Some(UserId::from_uuid(Uuid::from_u128(2))),
                completed_by: Some(UserId::from_uuid(Uuid::from_u128(3))),
                completed_at: Some(datetime!(2026-12-01 10:00:00 UTC)),
                previous_id: Some(Id::from_uuid(Uuid::from_u128(4))),
            },
            version: 6,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            updated_at: datetime!(2026-12-01 10:00:00 UTC),
        };
        assert_eq!(
            serde_json::to_value(&task).expect("domain"),
            serde_json::to_value(TaskBody::from(task.clone())).expect("body")
        );
    }
}
