//! The loop around the worker use case: passes back to back while jobs are due, a pause
//! when the queue is idle, a longer pause after a store failure, and a clean stop (the
//! job in hand is finished first) when told to stop.

use std::{sync::Arc, time::Duration};

use aura_breaches::jobs::{BreachJobPorts, BreachJobSettings};
use aura_gdpr_registers::reviews::ReviewDates;
use aura_jobs::Worker;
use aura_jobs::{DuplicateKind, JobQueue, JobRegistry, QueueStats, RetryPolicy, WorkerSettings};
use aura_requests::{
    jobs::{RequestJobPorts, RequestJobSettings},
    reminders::RequestReminderPolicy,
};
use aura_shared_kernel::{Clock, StoreError, SystemScope};
use aura_tasks::{
    AuditJobPorts, AuditJobSettings, ReminderPolicy, ReviewJobPorts, TaskJobPorts, TaskJobSettings,
};
use tokio::{sync::watch, task::JoinHandle};

use crate::config::{AuditSettings, WorkerConfig};

/// A running worker loop.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the loop to stop after the current pass and waits for it (at most `grace`).
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("worker did not stop within the grace period");
        }
    }
}

/// The use case's settings from configuration.
pub fn worker_settings(config: &WorkerConfig) -> WorkerSettings {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "aura".to_owned());
    WorkerSettings {
        worker_id: format!("{host}:{}", std::process::id()),
        lease: time::Duration::seconds(config.lease_secs),
        batch: config.batch,
        retry: retry_policy(config),
    }
}

/// The tasks domain's job settings from configuration.
pub fn task_job_settings(config: &WorkerConfig) -> TaskJobSettings {
    TaskJobSettings {
        task_link: config.task_url.clone(),
        digest_lines: config.digest_max_tasks,
        reminders: reminder_policy(config),
        retry: retry_policy(config),
    }
}

/// The requests' job settings from configuration: the tasks' reminder offsets and time.
pub fn request_job_settings(config: &WorkerConfig) -> RequestJobSettings {
    RequestJobSettings {
        request_link: config.request_url.clone(),
        reminders: request_reminder_policy(config),
        retry: retry_policy(config),
    }
}

/// The audit upkeep's settings from configuration.
pub fn audit_job_settings(audit: &AuditSettings, config: &WorkerConfig) -> AuditJobSettings {
    AuditJobSettings {
        personal_retention: (audit.personal_retention_days > 0)
            .then(|| time::Duration::days(i64::from(audit.personal_retention_days))),
        checkpoint_every_days: audit.checkpoint_mail_days,
        retry: retry_policy(config),
    }
}

/// The breaches' job settings from configuration.
pub fn breach_job_settings(config: &WorkerConfig) -> BreachJobSettings {
    BreachJobSettings {
        breach_link: config.breach_url.clone(),
        retry: retry_policy(config),
    }
}

pub fn request_reminder_policy(config: &WorkerConfig) -> RequestReminderPolicy {
    RequestReminderPolicy {
        reminders: reminder_policy(config),
        extend_warning_days: config.request_extend_warning_days,
    }
}

/// Every job kind this service runs, registered in one place: a domain that adds a kind
/// adds its registration here. The requests', the breaches' and the audit trail's jobs
/// come with their ports and settings (`None`: a process without them, as some tests
/// build).
pub fn job_registry(
    tasks: TaskJobPorts,
    settings: TaskJobSettings,
    reviews: Arc<dyn ReviewDates>,
    requests: Option<(RequestJobPorts, RequestJobSettings)>,
    breaches: Option<(BreachJobPorts, BreachJobSettings)>,
    audit: Option<(AuditJobPorts, AuditJobSettings)>,
) -> Result<JobRegistry, DuplicateKind> {
    let mut registry = JobRegistry::new();
    let review_ports = ReviewJobPorts {
        reviews,
        tasks: tasks.tasks.clone(),
        tenants: tasks.tenants.clone(),
        users: tasks.users.clone(),
        clock: tasks.clock.clone(),
    };
    let (reminders, retry) = (settings.reminders.clone(), settings.retry);
    aura_tasks::register_jobs(&mut registry, tasks, settings)?;
    aura_tasks::register_reviews(&mut registry, review_ports, reminders, retry)?;
    if let Some((ports, settings)) = requests {
        aura_requests::jobs::register(&mut registry, ports, settings)?;
    }
    if let Some((ports, settings)) = breaches {
        aura_breaches::jobs::register(&mut registry, ports, settings)?;
    }
    if let Some((ports, settings)) = audit {
        aura_tasks::register_audit_upkeep(&mut registry, ports, settings)?;
    }
    Ok(registry)
}

pub fn reminder_policy(config: &WorkerConfig) -> ReminderPolicy {
    ReminderPolicy {
        offsets_days: config.reminder_offsets_days.clone(),
        send_at: config.send_time_utc,
    }
}

pub fn retry_policy(config: &WorkerConfig) -> RetryPolicy {
    RetryPolicy {
        max_attempts: config.max_attempts,
        base_delay: time::Duration::seconds(config.retry_base_secs),
        max_delay: time::Duration::seconds(config.retry_max_secs),
    }
}

/// Starts the loop on the current runtime.
pub fn spawn(worker: Arc<Worker>, poll: Duration, purpose: &'static str) -> WorkerHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let system = SystemScope::for_platform_operation(purpose);
        tracing::info!(worker = %worker.settings().worker_id, "worker started");
        loop {
            let pause = match worker.run_once(&system).await {
                Ok(0) => poll,
                Ok(_) => Duration::ZERO,
                Err(error) => {
                    tracing::warn!(%error, "worker pass failed; retrying after a pause");
                    poll.max(Duration::from_secs(5))
                }
            };
            if *stopped.borrow() {
                break;
            }
            tokio::select! {
                _ = stopped.changed() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("worker stopped");
    });
    WorkerHandle { stop, task }
}

/// The queue's depth and age for `/metrics`: a cross-tenant read, so it takes the system
/// scope (built here, beside the worker loop, under the same rule).
pub fn queue_probe(
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
) -> Arc<dyn aura_adapter_http::metrics::QueueProbe> {
    Arc::new(QueueMetrics {
        queue,
        clock,
        system: SystemScope::for_platform_operation("metrics"),
    })
}

struct QueueMetrics {
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    system: SystemScope,
}

#[async_trait::async_trait]
impl aura_adapter_http::metrics::QueueProbe for QueueMetrics {
    async fn queue(&self) -> Result<QueueStats, StoreError> {
        self.queue.stats(&self.system, self.clock.now()).await
    }
}
