//! `OrganisationRepository`: one profile per tenant.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{OrganisationProfile, StoredOrganisation, ports::OrganisationRepository};
use aura_shared_kernel::{Conflict, StoreError, TenantScope};

use crate::{MemoryStore, registers::check_version};

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
            let version = match (stored, expected_version) {
                (None, 0) => 1,
                // Someone created it since the caller read "none".
                (Some(_), 0) => return Err(StoreError::Conflict(Conflict::Version)),
                (None, _) => return Err(StoreError::NotFound),
                (Some(row), expected) => {
                    check_version(row.version, expected)?;
                    expected + 1
                }
            };
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
