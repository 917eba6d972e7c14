//! The request store beyond the kernel's: writes that carry the request's reminder plan
//! (stored in the write's transaction, like a task's), and the reads the
//! pseudonymisation job needs. [`RequestRecords`] is the kernel's [`RecordStore`] of
//! requests over it, planning on every write, so the use cases (create, edit, the
//! actions) stay the kernel's.

use std::sync::Arc;

use aura_audit::PendingEvent;
use aura_jobs::RetryPolicy;
use aura_records::{ListPage, ListQuery, RecordStore};
use aura_shared_kernel::{Clock, StoreError, TenantScope};
use time::OffsetDateTime;

use crate::{
    reminders::{RequestPlan, RequestReminderPolicy},
    request::{DataSubjectRequest, RequestFilter, RequestId, Requests},
};

/// The request store's writes with their reminder plan, and the pseudonymisation's
/// read. Each write commits the request, its audit event and its plan together: the
/// request's queued jobs of [`crate::reminders::PLANNED_KINDS`] are cancelled and the
/// plan inserted, a job whose dedupe key is held (already sent) left out.
#[async_trait::async_trait]
pub trait RequestRepository: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        plan: &RequestPlan,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError>;

    async fn update(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        expected_version: i32,
        plan: &RequestPlan,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError>;

    /// Deletes the request and cancels its queued reminders.
    async fn delete(
        &self,
        scope: &TenantScope,
        id: RequestId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

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

impl RequestPlanner {
    pub fn plan(&self, request: &DataSubjectRequest) -> RequestPlan {
        self.policy.plan(request, self.clock.now(), &self.retry)
    }
}

/// The kernel's [`RecordStore`] of requests: reads from the register's store, writes
/// through the [`RequestRepository`] with the plan of the request as written.
pub struct RequestRecords {
    pub records: Arc<dyn RecordStore<Requests>>,
    pub repository: Arc<dyn RequestRepository>,
    pub planner: RequestPlanner,
}

#[async_trait::async_trait]
impl RecordStore<Requests> for RequestRecords {
    async fn insert(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError> {
        let plan = self.planner.plan(request);
        self.repository.insert(scope, request, &plan, event).await
    }

    async fn get(
        &self,
        scope: &TenantScope,
        id: RequestId,
    ) -> Result<DataSubjectRequest, StoreError> {
        self.records.get(scope, id).await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<RequestFilter>,
    ) -> Result<ListPage<DataSubjectRequest>, StoreError> {
        self.records.list(scope, query).await
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<DataSubjectRequest>, StoreError> {
        self.records.all(scope).await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError> {
        let plan = self.planner.plan(request);
        (self.repository)
            .update(scope, request, expected_version, &plan, event)
            .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: RequestId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.repository
            .delete(scope, id, expected_version, event)
            .await
    }
}
