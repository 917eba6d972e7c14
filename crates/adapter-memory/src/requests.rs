//! Data-subject requests in memory: their filters and their per-tenant, per-year
//! reference numbers (`Tables::assign_reference`). Memory holds no data at rest, so nothing is sealed here (the
//! PostgreSQL store seals the person; its contracts check it), and the request writes
//! that carry their reminder plan.

use aura_audit::PendingEvent;
use aura_jobs::PlannedWrites;
use aura_records::{Record, keep_reference};
use aura_requests::{
    pseudonym::is_pseudonymised,
    reminders::{PLANNED_KINDS, RequestPlan},
    request::{DataSubjectRequest, RequestFilter, RequestId, Requests},
    store::RequestRepository,
};
use aura_shared_kernel::{StoreError, TenantScope};
use time::OffsetDateTime;

use crate::{
    MemoryStore,
    registers::{Tables, records::MemoryRecord},
};

impl MemoryRecord for Requests {
    fn matches(request: &Record<Requests>, filter: &RequestFilter) -> bool {
        let (f, d) = (&request.fields, &request.derived);
        let email = |wanted: &str| {
            (f.subject.email.as_deref())
                .is_some_and(|e| e.trim().to_lowercase() == wanted.trim().to_lowercase())
        };
        filter.status.is_none_or(|s| d.status == s)
            && filter.right.is_none_or(|r| f.rights.contains(&r))
            && filter.assignee.is_none_or(|a| f.assignee_id == Some(a))
            && filter
                .due_by
                .is_none_or(|by| d.due_on.is_some_and(|due| due <= by))
            && (filter.overdue_on)
                .is_none_or(|on| d.status.is_open() && d.due_on.is_some_and(|due| due < on))
            && filter.email.as_deref().is_none_or(email)
    }

    fn assign(tables: &mut Tables, request: &mut Record<Requests>) {
        tables.assign_reference(request);
    }

    fn keep_assigned(stored: &Record<Requests>, request: &mut Record<Requests>) {
        keep_reference(stored, request);
    }
}

/// The request writes with their reminder plan: the plan is checked first, then the
/// kernel's write and the plan applied under the one lock (the queued planned jobs of
/// the request cancelled, the plan's jobs whose keys are free stored).
#[async_trait::async_trait]
impl RequestRepository for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        plan: &RequestPlan,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError> {
        let plan = plan.as_job_plan();
        PlannedWrites::<Requests>::insert(self, scope, request, &plan, event).await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        expected_version: i32,
        plan: &RequestPlan,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError> {
        let plan = plan.as_job_plan();
        PlannedWrites::<Requests>::update(self, scope, request, expected_version, &plan, event)
            .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: RequestId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        PlannedWrites::<Requests>::delete(self, scope, id, expected_version, PLANNED_KINDS, event)
            .await
    }

    async fn due_for_pseudonymisation(
        &self,
        scope: &TenantScope,
        closed_before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<RequestId>, StoreError> {
        let state = self.lock()?;
        let rows = state.registers.records.rows::<Requests>(scope.tenant_id());
        let mut due: Vec<(OffsetDateTime, RequestId)> = rows
            .filter(|r| !is_pseudonymised(&r.fields))
            .filter_map(|r| Some((r.derived.closed_at?, r.id)))
            .filter(|(closed, _)| *closed < closed_before)
            .collect();
        due.sort();
        Ok(due.into_iter().take(limit).map(|(_, id)| id).collect())
    }
}
