//! `ScreeningAnswersStore`: one set of answers per activity of the tenant.

use aura_audit::PendingEvent;
use aura_dpia_screening::{ScreeningAnswers, StoredAnswers, ports::ScreeningAnswersStore};
use aura_gdpr_registers::{Activities, ActivityId};
use aura_shared_kernel::{StoreError, TenantScope, UserId};

use crate::{MemoryStore, registers::put_version};

#[async_trait::async_trait]
impl ScreeningAnswersStore for MemoryStore {
    async fn get(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
    ) -> Result<Option<StoredAnswers>, StoreError> {
        let key = (scope.tenant_id(), activity);
        Ok(self.lock()?.registers.dpia_screenings.get(&key).cloned())
    }

    async fn put(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
        answers: &ScreeningAnswers,
        updated_by: Option<UserId>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<StoredAnswers, StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_tenant(tenant)?;
            let tables = &mut tx.state.registers;
            // The database's foreign key: only an activity of the tenant has answers.
            if !tables.records.contains::<Activities>(tenant, activity) {
                return Err(StoreError::NotFound);
            }
            let stored = tables.dpia_screenings.get(&(tenant, activity));
            let version = put_version(stored.map(|row| row.version), expected_version)?;
            let stored = StoredAnswers {
                answers: answers.clone(),
                version,
                updated_by,
                updated_at: Some(tx.clock.now()),
            };
            tables
                .dpia_screenings
                .insert((tenant, activity), stored.clone());
            Ok(stored)
        })
    }
}
