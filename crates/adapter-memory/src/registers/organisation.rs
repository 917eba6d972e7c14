//! `OrganisationRepository`: one profile per tenant.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{OrganisationProfile, StoredOrganisation, ports::OrganisationRepository};
use aura_shared_kernel::{StoreError, TenantScope};

use crate::{MemoryStore, registers::put_version};

#[async_trait::async_trait]
impl OrganisationRepository for MemoryStore {
    async fn get(&self, scope: &TenantScope) -> Result<Option<StoredOrganisation>, StoreError> {
        Ok(self
            .lock()?
            .registers
            .organisations
            .get(&scope.tenant_id())
            .cloned())
    }

    async fn put(
        &self,
        scope: &TenantScope,
        profile: &OrganisationProfile,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<i32, StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_tenant(tenant)?;
            let stored = tx.state.registers.organisations.get(&tenant);
            let version = put_version(stored.map(|row| row.version), expected_version)?;
            let now = tx.clock.now();
            tx.state.registers.organisations.insert(
                tenant,
                StoredOrganisation {
                    profile: profile.clone(),
                    version,
                    updated_at: Some(now),
                },
            );
            Ok(version)
        })
    }
}
