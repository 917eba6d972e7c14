//! The storage port every register implements once per store, generically.

use aura_audit::PendingEvent;
use aura_shared_kernel::{StoreError, TenantScope};

use crate::{
    id::Id,
    list::{ListPage, ListQuery},
    record::{Record, RecordKind},
};

/// A register's table. Every method takes the tenant scope; every write takes its audit
/// event and commits with it, so a change cannot be stored without its event. Updates
/// and deletes name the version they read and fail with a version conflict when the row
/// moved on (nothing changes). Another tenant's record is `NotFound`. Inserts and updates
/// check the record's [`RecordKind::references`] in their transaction: any that names
/// nothing in the tenant fails the write with `StoreError::Invalid`, naming each field.
/// Both answer the record as a read would right after: with the derived values the store
/// computes from other rows (read in the same transaction).
#[async_trait::async_trait]
pub trait RecordStore<K: RecordKind>: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError>;

    async fn get(&self, scope: &TenantScope, id: Id<K>) -> Result<Record<K>, StoreError>;

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<K::Filter>,
    ) -> Result<ListPage<Record<K>>, StoreError>;

    /// Every record of the tenant, oldest first (exports, summaries).
    async fn all(&self, scope: &TenantScope) -> Result<Vec<Record<K>>, StoreError>;

    /// Stores `record` (its `version` already incremented) if the row is at
    /// `expected_version`.
    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError>;

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}
