//! The writes of a register that plans jobs ([`PlannedWrites`], a breach's escalation
//! alerts), once for every kernel register: the kernel's statements for the record
//! ([`insert_record`], [`update_record`], [`delete_record`]) and, in the same
//! transaction, the record's queued jobs of the plan's kinds cancelled and the plan
//! inserted (`ON CONFLICT DO NOTHING`: a job already sent keeps its key and is not sent
//! again).

use aura_audit::PendingEvent;
use aura_jobs::{JobPlan, PlannedWrites};
use aura_records::{Id, Record};
use aura_shared_kernel::{StoreError, TenantScope};

use crate::{
    jobs::{cancel_queued, insert_jobs},
    registers::records::{PgRecord, delete_record, insert_record, update_record},
    rows::{in_scope, new_in_scope},
    stores::PgStores,
};

#[async_trait::async_trait]
impl<K: PgRecord> PlannedWrites<K> for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        plan: &JobPlan,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        new_in_scope(scope, record.tenant_id)?;
        plan.check(record.id.as_uuid())?;
        let cx = self.row_context(scope);
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            let written = insert_record(conn, cx, record).await?;
            insert_jobs(conn, record.tenant_id, &plan.jobs, now).await?;
            Ok(written)
        })
        .await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        plan: &JobPlan,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        in_scope(scope, record.tenant_id)?;
        plan.check(record.id.as_uuid())?;
        let cx = self.row_context(scope);
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            let written = update_record(conn, cx, record, expected_version).await?;
            cancel_queued(conn, cx.tenant, plan.subject, plan.kinds, now).await?;
            insert_jobs(conn, record.tenant_id, &plan.jobs, now).await?;
            Ok(written)
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        kinds: &'static [&'static str],
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            delete_record::<K>(conn, key, expected_version).await?;
            cancel_queued(conn, key.0, key.1, kinds, now).await?;
            Ok(())
        })
        .await
    }
}
