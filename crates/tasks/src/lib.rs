//! Tasks and reminders: the compliance to-do list of a tenant, the reminders that make
//! it happen without anyone watching, and the durable job queue they travel through.
//! Pure domain crate: types, rules, use cases (the task service and the worker) and ports.

mod error;
pub mod jobs;
mod messages;
pub mod ports;
mod reminders;
mod service;
mod task;
mod worker;

pub use error::TasksError;
pub use jobs::{
    ClaimedJob, JobFilter, JobKind, JobPayload, JobStatus, JobSummary, NewJob, QueueStats,
    RetryPolicy,
};
pub use reminders::{ReminderPlan, ReminderPolicy};
pub use service::{TaskPorts, Tasks, entity};
pub use task::{
    Category, LinkKind, RecordLink, Recurrence, Task, TaskFields, TaskPatch, TaskStatus,
};
pub use worker::{JobOutcome, Worker, WorkerPorts, WorkerSettings};
