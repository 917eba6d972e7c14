//! Tasks and reminders: the compliance to-do list of a tenant, the reminders that make
//! it happen without anyone watching (job kinds on the open queue of `aura-jobs`).
//! Pure domain crate: types, rules, use cases (the task service and the worker) and ports.

pub mod actions;
mod audit_jobs;
mod error;
pub mod messages;
pub mod ports;
mod reminders;
mod reviews;
mod rules;
mod service;
mod store;
mod task;
mod task_jobs;

pub use audit_jobs::{
    AuditJobPorts, AuditJobSettings, AuditUpkeep, CheckpointMail, register_audit_upkeep,
};
pub use error::TasksError;
pub use reminders::{ReminderPlan, ReminderPolicy};
pub use reviews::{ReviewJobPorts, ReviewTasks, ReviewsDue, register_reviews, review_origin};
pub use service::{TaskPorts, TaskService};
pub use store::{Planner, TaskRecords};
pub use task::{
    Category, LINK_FIELD, LinkKind, RecordLink, Recurrence, Task, TaskFields, TaskId, TaskPatch,
    TaskState, TaskStatus, Tasks, new_task,
};
pub use task_jobs::{
    AssigneeNames, DigestMail, DigestPart, DigestSection, OverdueDigest, TaskJobPorts,
    TaskJobSettings, TaskReminder, active_tenant, administrators, mails_to, recipient,
    register as register_jobs, send as send_mail, with_active_tenant,
};
