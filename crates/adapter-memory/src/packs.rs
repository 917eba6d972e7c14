//! [`PackStore`] on the memory store (demo mode): the packs in the store's tables, each
//! change recorded with its event under the one lock.

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_packs::{BuiltPack, Pack, PackId, PackStatus, ports::PackStore};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope};
use time::OffsetDateTime;

use crate::MemoryStore;

/// A pack and, while ready, its bytes.
pub(crate) type PackTable = BTreeMap<(TenantId, PackId), (Pack, Option<Vec<u8>>)>;

impl MemoryStore {
    /// `change` on the scope's pack `id` if its status is one of `from`, with `event`.
    fn move_pack(
        &self,
        scope: &TenantScope,
        id: PackId,
        from: &[PackStatus],
        event: PendingEvent,
        change: impl FnOnce(&mut Pack, &mut Option<Vec<u8>>),
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            let (pack, bytes) = tx
                .state
                .packs
                .get_mut(&(tenant, id))
                .filter(|(pack, _)| from.contains(&pack.status))
                .ok_or(StoreError::NotFound)?;
            change(pack, bytes);
            Ok(())
        })
    }
}

#[async_trait::async_trait]
impl PackStore for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        pack: &Pack,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if pack.tenant_id != scope.tenant_id() {
            return Err(StoreError::unexpected(
                "a new row must belong to the scope's tenant",
            ));
        }
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_tenant(tenant)?;
            if tx.state.packs.contains_key(&(tenant, pack.id)) {
                return Err(Conflict::IdTaken("accountability pack").into());
            }
            tx.state
                .packs
                .insert((tenant, pack.id), (pack.clone(), None));
            Ok(())
        })
    }

    async fn store_built(
        &self,
        scope: &TenantScope,
        id: PackId,
        built: &BuiltPack,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.move_pack(scope, id, &[PackStatus::Queued], event, |pack, bytes| {
            pack.status = PackStatus::Ready;
            pack.built_at = Some(built.built_at);
            pack.size = Some(built.bytes.len() as u64);
            pack.sha256 = Some(built.sha256.clone());
            *bytes = Some(built.bytes.clone());
        })
    }

    async fn store_failed(
        &self,
        scope: &TenantScope,
        id: PackId,
        reason: &str,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.move_pack(scope, id, &[PackStatus::Queued], event, |pack, _| {
            pack.status = PackStatus::Failed;
            pack.failure = Some(reason.chars().take(500).collect());
        })
    }

    async fn get(&self, scope: &TenantScope, id: PackId) -> Result<Pack, StoreError> {
        let state = self.lock()?;
        state
            .packs
            .get(&(scope.tenant_id(), id))
            .map(|(pack, _)| pack.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn content(&self, scope: &TenantScope, id: PackId) -> Result<Vec<u8>, StoreError> {
        let state = self.lock()?;
        state
            .packs
            .get(&(scope.tenant_id(), id))
            .and_then(|(_, bytes)| bytes.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn expired(
        &self,
        scope: &TenantScope,
        now: OffsetDateTime,
    ) -> Result<Vec<PackId>, StoreError> {
        let tenant = scope.tenant_id();
        let state = self.lock()?;
        Ok(state
            .packs
            .values()
            .map(|(pack, _)| pack)
            .filter(|pack| pack.tenant_id == tenant && pack.expires_at <= now)
            .filter(|pack| matches!(pack.status, PackStatus::Queued | PackStatus::Ready))
            .map(|pack| pack.id)
            .collect())
    }

    async fn expire(
        &self,
        scope: &TenantScope,
        id: PackId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let from = [PackStatus::Queued, PackStatus::Ready];
        self.move_pack(scope, id, &from, event, |pack, bytes| {
            pack.status = PackStatus::Expired;
            *bytes = None;
        })
    }
}
