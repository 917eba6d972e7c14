//! The request store beyond the kernel's: the writes carry the request's reminder plan
//! through the queue's [`PlannedWrites`] (stored in the write's transaction, like a
//! breach's escalation plan), and the reads the pseudonymisation job needs.
//! [`RequestPlanner`] is the register's [`JobPlanner`], so the kernel's
//! [`aura_jobs::PlannedRecords`] of requests plans on every write and the use cases
//! (create, edit, the actions) stay the kernel's.

use std::sync::Arc;

use aura_jobs::{JobPlan, JobPlanner, RetryPolicy};
use aura_records::Record;
use aura_shared_kernel::{Clock, StoreError, TenantScope};
use time::OffsetDateTime;

use crate::{
    reminders::{PLANNED_KINDS, RequestReminderPolicy},
    request::{RequestId, Requests},
};

/// The pseudonymisation's read. The request writes are the queue's
/// [`aura_jobs::PlannedWrites`] of requests: each commits the request, its audit event
/// and its plan together — the request's queued jobs of [`PLANNED_KINDS`] are cancelled
/// and the plan inserted, a job whose dedupe key is held (already sent) left out.
#[async_trait::async_trait]
pub trait RequestRepository: Send + Sync {
    /// Requests closed (`closed_at` set) before `closed_before` whose person is not
    /// pseudonymised yet ([`crate::pseudonym::is_pseudonymised`]), oldest closing first,
    /// at most `limit`.
    async fn due_for_pseudonymisation(
        &self,
        scope: &TenantScope,
        closed_before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<RequestId>, StoreError>;
}

/// Plans a request's reminders from now on.
#[derive(Clone)]
pub struct RequestPlanner {
    pub policy: RequestReminderPolicy,
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
}

impl JobPlanner<Requests> for RequestPlanner {
    fn plan(&self, request: &Record<Requests>) -> JobPlan {
        (self.policy)
            .plan(request, self.clock.now(), &self.retry)
            .as_job_plan()
    }

    fn kinds(&self) -> &'static [&'static str] {
        PLANNED_KINDS
    }
}
