//! Documents in memory: the register's filters (its rows live in the shared
//! `RecordTables`) and the [`ContentStore`]: versions, sealed chunks and wrapped data
//! keys under the store's one lock, each write with its audit event.

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_documents::{
    DocumentFilter, DocumentId, Documents, VersionId, VersionMeta,
    ports::{ContentError, ContentRefusal, ContentStore, Staging, WrappedKey},
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
    /// Uploads in progress.
    staged: BTreeMap<(TenantId, VersionId), Staging>,
}

impl Tables {
    /// Whether a version of the document still has its content (the retention review).
    pub(crate) fn keeps_content(&self, tenant: TenantId, document: uuid::Uuid) -> bool {
        (self.versions.iter()).any(|((t, _), v)| {
            *t == tenant && v.document_id.as_uuid() == document && v.removed_at.is_none()
        })
    }

    /// What the quota counts: the versions whose content is kept and the uploads staged.
    fn used(&self, tenant: TenantId) -> u64 {
        let kept = (self.versions.iter())
            .filter(|((t, _), v)| *t == tenant && v.removed_at.is_none())
            .map(|(_, v)| v.size);
        let staged = (self.staged.iter())
            .filter(|((t, _), _)| *t == tenant)
            .map(|(_, s)| s.size);
        kept.chain(staged).fold(0, u64::saturating_add)
    }

    /// Removes an upload's staging, and its chunks unless a version names them.
    fn unstage(&mut self, tenant: TenantId, version: VersionId) {
        self.staged.remove(&(tenant, version));
        if !self.versions.contains_key(&(tenant, version)) {
            (self.chunks).retain(|(t, v, _), _| !(*t == tenant && *v == version));
        }
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

    async fn stage(
        &self,
        scope: &TenantScope,
        staging: &Staging,
        quota: u64,
    ) -> Result<(), ContentError> {
        let mut state = self.lock()?;
        let tenant = scope.tenant_id();
        if !(state.registers.records).contains::<Documents>(tenant, staging.document) {
            return Err(StoreError::NotFound.into());
        }
        if state.documents.used(tenant).saturating_add(staging.size) > quota {
            return Err(ContentError::Refused(ContentRefusal::QuotaExceeded));
        }
        (state.documents.staged).insert((tenant, staging.version), staging.clone());
        Ok(())
    }

    async fn put_chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
        sealed: Vec<u8>,
    ) -> Result<(), ContentError> {
        let mut state = self.lock()?;
        let tenant = scope.tenant_id();
        if !state.documents.staged.contains_key(&(tenant, version)) {
            return Err(ContentError::Refused(ContentRefusal::NotStaged));
        }
        let key = (tenant, version, index);
        if state.documents.chunks.contains_key(&key) {
            return Err(StoreError::Conflict(Conflict::Version).into());
        }
        state.documents.chunks.insert(key, sealed);
        Ok(())
    }

    async fn discard(&self, scope: &TenantScope, version: VersionId) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        state.documents.unstage(scope.tenant_id(), version);
        Ok(())
    }

    async fn commit(
        &self,
        scope: &TenantScope,
        meta: &VersionMeta,
        quota: u64,
        event: PendingEvent,
    ) -> Result<(), ContentError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_tenant(tenant)?;
            if !(tx.state.registers.records).contains::<Documents>(tenant, meta.document_id) {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.documents;
            let stored = (tables.chunks.keys())
                .filter(|(t, v, _)| *t == tenant && *v == meta.id)
                .count();
            let Some(staged) = tables.staged.get(&(tenant, meta.id)) else {
                return Err(ContentRefusal::NotStaged.abort());
            };
            if stored != meta.chunks as usize {
                return Err(ContentRefusal::NotStaged.abort());
            }
            let others = tables.used(tenant).saturating_sub(staged.size);
            if others.saturating_add(meta.size) > quota {
                return Err(ContentRefusal::QuotaExceeded.abort());
            }
            let taken = (tables.versions.iter()).any(|((t, _), v)| {
                *t == tenant && v.document_id == meta.document_id && v.number == meta.number
            });
            if taken {
                return Err(StoreError::Conflict(Conflict::VersionNumberTaken));
            }
            tables.staged.remove(&(tenant, meta.id));
            tables.versions.insert((tenant, meta.id), meta.clone());
            Ok(())
        })
        .map_err(ContentError::from)
    }

    async fn staged_before(
        &self,
        scope: &TenantScope,
        before: OffsetDateTime,
    ) -> Result<Vec<Staging>, StoreError> {
        let state = self.lock()?;
        let tenant = scope.tenant_id();
        let mut found: Vec<Staging> = (state.documents.staged.iter())
            .filter(|((t, _), s)| *t == tenant && s.staged_at < before)
            .map(|(_, s)| s.clone())
            .collect();
        found.sort_by_key(|s| (s.staged_at, s.version.as_uuid()));
        Ok(found)
    }

    async fn sweep_staged(
        &self,
        scope: &TenantScope,
        version: VersionId,
        before: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        let tenant = scope.tenant_id();
        let expired = (self.lock()?.documents.staged.get(&(tenant, version)))
            .is_some_and(|s| s.staged_at < before);
        if !expired {
            return Ok(false);
        }
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.documents.unstage(tenant, version);
            Ok(true)
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
        Ok(self.lock()?.documents.used(scope.tenant_id()))
    }

    async fn remove_content(
        &self,
        scope: &TenantScope,
        document: DocumentId,
        removing: &[VersionId],
        removed_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), ContentError> {
        self.write_audited(scope, event, |tx, tenant| {
            // The hold as the write reads it, under the store's one lock.
            let record = (tx.state.registers.records)
                .get::<Documents>(tenant, document)
                .ok_or(StoreError::NotFound)?;
            if record.fields.legal_hold {
                return Err(ContentRefusal::LegalHold.abort());
            }
            let tables = &mut tx.state.documents;
            let mut removed = Vec::new();
            for ((t, id), v) in tables.versions.iter_mut() {
                if *t == tenant && v.document_id == document && removing.contains(id) {
                    removed.push(*id);
                    v.removed_at.get_or_insert(removed_at);
                }
            }
            (tables.chunks).retain(|(t, v, _), _| !(*t == tenant && removed.contains(v)));
            Ok(())
        })
        .map_err(ContentError::from)
    }
}
