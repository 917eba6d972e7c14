//! Audit's port: per-tenant hash chains.

use aura_audit::{
    AuditLog, AuditPage, AuditQuery, AuditRecord, ChainHash, PendingEvent, Shredding,
    ShreddingEvent,
};
use aura_shared_kernel::{StoreError, TenantId, TenantScope};

use crate::{MemoryStore, state::Tx};

impl MemoryStore {
    /// The write path of tenant data in memory: `change` on the tables (given the
    /// scope's tenant), then `event` sealed into that tenant's chain, under the one lock.
    /// A refused change records nothing.
    pub(crate) fn write_audited<T>(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
        change: impl FnOnce(&mut Tx<'_>, TenantId) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            let result = change(tx, tenant)?;
            tx.record(tenant, event);
            Ok(result)
        })
    }
}

#[async_trait::async_trait]
impl AuditLog for MemoryStore {
    async fn append(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
    ) -> Result<AuditRecord, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            // No chain for an unknown tenant.
            tx.state.check_tenant(tenant)?;
            Ok(tx.record(tenant, event))
        })
    }

    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let state = self.lock()?;
        let Some(chain) = state.audit.get(&scope.tenant_id()) else {
            return Ok(AuditPage {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let items: Vec<AuditRecord> = chain
            .iter()
            .rev()
            .filter(|record| query.matches(record))
            .take(query.limit.saturating_add(1))
            .cloned()
            .collect();
        Ok(AuditPage::from_overfetch(items, query.limit))
    }

    async fn chain_after(
        &self,
        scope: &TenantScope,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .audit
            .get(&scope.tenant_id())
            .map(|chain| {
                chain
                    .iter()
                    .filter(|record| record.seq > after_seq)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn head(&self, scope: &TenantScope) -> Result<Option<(i64, ChainHash)>, StoreError> {
        Ok(self.lock()?.audit_heads.get(&scope.tenant_id()).copied())
    }

    async fn shred_personal(
        &self,
        scope: &TenantScope,
        which: Shredding,
        event: ShreddingEvent,
    ) -> Result<u64, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            tx.state.check_tenant(tenant)?;
            let mut count = 0;
            for record in tx.state.audit.entry(tenant).or_default() {
                if which.selects(record) && record.shred() {
                    count += 1;
                }
            }
            // Nothing changed, nothing to record.
            if count > 0 {
                tx.record(tenant, event(count));
            }
            Ok(count)
        })
    }
}

#[cfg(feature = "test-support")]
impl MemoryStore {
    /// Test-only: changes a stored audit event in place (without resealing it), so tests
    /// can show that chain verification finds the alteration. Returns whether the event
    /// `seq` of `tenant` exists.
    #[doc(hidden)]
    pub fn tamper_audit_for_tests(
        &self,
        tenant: aura_shared_kernel::TenantId,
        seq: i64,
        alter: impl FnOnce(&mut AuditRecord),
    ) -> bool {
        let Ok(mut state) = self.lock() else {
            return false;
        };
        let record = state
            .audit
            .get_mut(&tenant)
            .and_then(|chain| chain.iter_mut().find(|record| record.seq == seq));
        match record {
            Some(record) => {
                alter(record);
                true
            }
            None => false,
        }
    }

    /// Test-only: deletes a stored audit event, so tests can show that chain
    /// verification finds the gap. Returns whether the event existed.
    #[doc(hidden)]
    pub fn remove_audit_for_tests(&self, tenant: aura_shared_kernel::TenantId, seq: i64) -> bool {
        let Ok(mut state) = self.lock() else {
            return false;
        };
        let Some(chain) = state.audit.get_mut(&tenant) else {
            return false;
        };
        let before = chain.len();
        chain.retain(|record| record.seq != seq);
        chain.len() != before
    }
}
