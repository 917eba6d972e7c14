//! The writes of a register that plans jobs ([`PlannedWrites`], a breach's escalation
//! alerts), once for every kernel register: the plan is checked first, then the kernel's
//! write and the plan applied under the one lock (the record's queued jobs of the plan's
//! kinds cancelled, the plan's jobs whose keys are free stored).

use aura_audit::PendingEvent;
use aura_jobs::{JobPlan, NewJob, PlannedWrites};
use aura_records::{Id, Record};
use aura_shared_kernel::{StoreError, TenantId, TenantScope};

use crate::{
    MemoryStore,
    jobs::Planned,
    registers::records::{MemoryRecord, delete_record, insert_record, update_record},
    state::State,
};

#[async_trait::async_trait]
impl<K: MemoryRecord> PlannedWrites<K> for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        plan: &JobPlan,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        plan.check(record.id.as_uuid())?;
        self.write_planned(scope, event, &plan.jobs, None, |state, tenant| {
            insert_record(state, tenant, record)
        })
    }

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        plan: &JobPlan,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        plan.check(record.id.as_uuid())?;
        let replaced = Some((plan.subject, plan.kinds));
        self.write_planned(scope, event, &plan.jobs, replaced, |state, tenant| {
            update_record(state, tenant, record, expected_version)
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        kinds: &'static [&'static str],
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let now = self.clock().now();
        self.write_audited(scope, event, |tx, tenant| {
            delete_record::<K>(tx.state, tenant, id, expected_version)?;
            tx.state
                .cancel_reminders(tenant, (id.as_uuid(), kinds), now);
            Ok(())
        })
    }
}

impl MemoryStore {
    /// A record's audited write with the jobs it plans, under the one lock: the plan is
    /// checked first (after cancelling the queued jobs of `replaced`, if given), then
    /// `write` runs and the plan's jobs whose keys are free are stored.
    pub(crate) fn write_planned<T>(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
        jobs: &[NewJob],
        replaced: Option<Planned>,
        write: impl FnOnce(&mut State, TenantId) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let now = self.clock().now();
        self.write_audited(scope, event, |tx, tenant| {
            let planned = tx.state.plan_jobs(tenant, jobs, replaced, now)?;
            let written = write(tx.state, tenant)?;
            tx.state.apply_jobs(planned, now);
            Ok(written)
        })
    }
}
