//! The durable job queue, open to every domain: a domain declares a job kind (a payload
//! type implementing [`Job`]) and a [`JobHandler`] for it, the binary registers the
//! handlers in a [`JobRegistry`] at wiring time, and the [`Worker`] dispatches each
//! claimed job to the handler of its kind. Task reminders, the overdue digest and the
//! review dates are kinds of the tasks domain; breach deadlines or report builds join
//! the same way without touching this crate.
//! Pure domain crate: types, the `JobQueue` port, the worker use case.

mod handler;
pub mod planned;
pub mod queue;
mod worker;

pub use handler::{DailyJob, DuplicateKind, JobFailure, JobHandler, JobOutcome, JobRegistry};
pub use planned::{JobPlan, JobPlanner, PlannedRecords, PlannedWrites};
pub use queue::{
    ClaimedJob, EncodedJob, Job, JobFilter, JobQueue, JobStatus, JobSummary, NewJob, QueueStats,
    RetryPolicy,
};
pub use worker::{Worker, WorkerPorts, WorkerSettings};
