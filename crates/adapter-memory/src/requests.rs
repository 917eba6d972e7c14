//! Data-subject requests in memory: their filters and their per-tenant, per-year
//! reference numbers (`Tables::assign_reference`). Memory holds no data at rest, so nothing is sealed here (the
//! PostgreSQL store seals the person; its contracts check it), and the retention job's
//! read (the writes that carry the reminder plan are the kernel's, `crate::planned`).

use aura_records::{Record, keep_reference};
use aura_requests::{
    pseudonym::is_pseudonymised,
    request::{RequestFilter, RequestId, Requests},
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

/// The retention job's read. The request writes with their reminder plan are the
/// kernel's [`aura_jobs::PlannedWrites`] of the memory store.
#[async_trait::async_trait]
impl RequestRepository for MemoryStore {
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
