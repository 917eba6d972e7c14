//! Documents in memory: the register's filters (its rows live in the shared
//! `RecordTables`) and the [`ContentStore`]: versions, sealed chunks and wrapped data
//! keys under the store's one lock, each write with its audit event.

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_documents::{
    DocumentFilter, DocumentId, Documents, VersionId, VersionMeta,
    ports::{ContentStore, WrappedKey},
};
use aura_records::Record;
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope};
use time::OffsetDateTime;

use crate::{MemoryStore, registers::records::MemoryRecord};

impl MemoryRecord for Documents {
    fn matches(document: &Record<Documents>, filter: &DocumentFilter) -> bool {
        filter.admits(document)
    }
}

/// The content tables, keyed by tenant first like the primary keys.
#[derive(Default)]
pub(crate) struct Tables {
    keys: BTreeMap<TenantId, WrappedKey>,
    versions: BTreeMap<(TenantId, VersionId), VersionMeta>,
    chunks: BTreeMap<(TenantId, VersionId, u32), Vec<u8>>,
}

impl Tables {
    /// Whether a version of the document still has its content (the retention review).
    pub(crate) fn keeps_content(&self, tenant: TenantId, document: uuid::Uuid) -> bool {
        (self.versions.iter()).any(|((t, _), v)| {
            *t == tenant && v.document_id.as_uuid() == document && v.removed_at.is_none()
        })
    }
}

#[async_trait::async_trait]
impl ContentStore for MemoryStore {
    async fn data_key(&self, scope: &TenantScope) -> Result<Option<WrappedKey>, StoreError> {
        Ok(self.lock()?.documents.keys.get(&scope.tenant_id()).cloned())
    }

    async fn keep_data_key(
        &self,
        scope: &TenantScope,
        key: WrappedKey,
    ) -> Result<WrappedKey, StoreError> {
        let mut state = self.lock()?;
        let kept = state.documents.keys.entry(scope.tenant_id()).or_insert(key);
        Ok(kept.clone())
    }

    async fn replace_data_key(
        &self,
        scope: &TenantScope,
        key: WrappedKey,
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if let Some(kept) = state.documents.keys.get_mut(&scope.tenant_id()) {
            *kept = key;
        }
        Ok(())
    }

    async fn put_chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let key = (scope.tenant_id(), version, index);
        if state.documents.chunks.contains_key(&key) {
            return Err(StoreError::Conflict(Conflict::Version));
        }
        state.documents.chunks.insert(key, sealed);
        Ok(())
    }

    async fn discard(&self, scope: &TenantScope, version: VersionId) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let tenant = scope.tenant_id();
        if !state.documents.versions.contains_key(&(tenant, version)) {
            (state.documents.chunks).retain(|(t, v, _), _| !(*t == tenant && *v == version));
        }
        Ok(())
    }

    async fn commit(
        &self,
        scope: &TenantScope,
        meta: &VersionMeta,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_tenant(tenant)?;
            if !(tx.state.registers.records).contains::<Documents>(tenant, meta.document_id) {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.documents;
            let taken = (tables.versions.iter()).any(|((t, _), v)| {
                *t == tenant && v.document_id == meta.document_id && v.number == meta.number
            });
            if taken {
                return Err(StoreError::Conflict(Conflict::VersionNumberTaken));
            }
            tables.versions.insert((tenant, meta.id), meta.clone());
            Ok(())
        })
    }

    async fn versions(
        &self,
        scope: &TenantScope,
        document: DocumentId,
    ) -> Result<Vec<VersionMeta>, StoreError> {
        let state = self.lock()?;
        let tenant = scope.tenant_id();
        let mut found: Vec<VersionMeta> = (state.documents.versions.iter())
            .filter(|((t, _), v)| *t == tenant && v.document_id == document)
            .map(|(_, v)| v.clone())
            .collect();
        found.sort_by_key(|v| v.number);
        Ok(found)
    }

    async fn chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
    ) -> Result<Vec<u8>, StoreError> {
        let state = self.lock()?;
        let tenant = scope.tenant_id();
        if !state.documents.versions.contains_key(&(tenant, version)) {
            return Err(StoreError::NotFound);
        }
        (state.documents.chunks.get(&(tenant, version, index)))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn usage(&self, scope: &TenantScope) -> Result<u64, StoreError> {
        let state = self.lock()?;
        let tenant = scope.tenant_id();
        Ok((state.documents.versions.iter())
            .filter(|((t, _), v)| *t == tenant && v.removed_at.is_none())
            .map(|(_, v)| v.size)
            .sum())
    }

    async fn remove_content(
        &self,
        scope: &TenantScope,
        document: DocumentId,
        removed_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            let tables = &mut tx.state.documents;
            let mut removed = Vec::new();
            for ((t, id), v) in tables.versions.iter_mut() {
                if *t == tenant && v.document_id == document {
                    removed.push(*id);
                    v.removed_at.get_or_insert(removed_at);
                }
            }
            (tables.chunks).retain(|(t, v, _), _| !(*t == tenant && removed.contains(v)));
            Ok(())
        })
    }
}
