//! The writes of a register that plans jobs ([`PlannedWrites`], a breach's escalation
//! alerts), once for every kernel register: the plan is checked first, then the kernel's
//! write and the plan applied under the one lock (the record's queued jobs of the plan's
//! kinds cancelled, the plan's jobs whose keys are free stored).

use aura_audit::PendingEvent;
use aura_jobs::{JobPlan, PlannedWrites};
use aura_records::{Id, Record};
use aura_shared_kernel::{StoreError, TenantScope};

use crate::{
    MemoryStore,
    registers::records::{MemoryRecord, delete_record, insert_record, update_record},
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
        let now = self.clock().now();
        self.write_audited(scope, event, |tx, tenant| {
            let jobs = tx.state.plan_jobs(tenant, &plan.jobs, None, now)?;
            let written = insert_record(tx.state, tenant, record)?;
            tx.state.apply_jobs(jobs, now);
            Ok(written)
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
        let now = self.clock().now();
        self.write_audited(scope, event, |tx, tenant| {
            let replaced = Some((plan.subject, plan.kinds));
            let jobs = tx.state.plan_jobs(tenant, &plan.jobs, replaced, now)?;
            let written = update_record(tx.state, tenant, record, expected_version)?;
            tx.state.apply_jobs(jobs, now);
            Ok(written)
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
