//! The kernel's [`RecordStore`] for every register, over one versioned table type. A
//! register adds only what is its own ([`MemoryRecord`]): where its table is, its
//! filters, the links the database would check with foreign keys, and derived values.

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_records::{Id, ListPage, ListQuery, Record, RecordKind, RecordStore};
use aura_tenancy::{Conflict, StoreError, TenantId, TenantScope};
use uuid::Uuid;

use crate::{
    MemoryStore,
    registers::{Tables, check_version, page},
};

/// One register's rows, keyed by tenant first, so a tenant's rows are one ordered range.
pub(crate) struct VersionedTable<K: RecordKind> {
    rows: BTreeMap<(TenantId, Id<K>), Record<K>>,
}

impl<K: RecordKind> Default for VersionedTable<K> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
        }
    }
}

impl<K: RecordKind> VersionedTable<K> {
    pub fn get(&self, tenant: TenantId, id: Id<K>) -> Option<&Record<K>> {
        self.rows.get(&(tenant, id))
    }

    pub fn contains(&self, tenant: TenantId, id: Id<K>) -> bool {
        self.rows.contains_key(&(tenant, id))
    }

    /// The tenant's rows in id (creation) order.
    pub fn rows(&self, tenant: TenantId) -> impl Iterator<Item = &Record<K>> {
        let first = Id::from_uuid(Uuid::nil());
        let last = Id::from_uuid(Uuid::max());
        self.rows
            .range((tenant, first)..=(tenant, last))
            .map(|(_, row)| row)
    }

    fn insert(&mut self, record: &Record<K>) -> Result<(), StoreError> {
        let key = (record.tenant_id, record.id);
        if self.rows.contains_key(&key) {
            return Err(StoreError::Conflict(Conflict::IdTaken(K::ENTITY)));
        }
        self.rows.insert(key, record.clone());
        Ok(())
    }

    /// The stored row if it is at `expected_version`: `NotFound` when there is none, a
    /// version conflict when it moved on. Checked before anything changes.
    pub(crate) fn at_version(
        &self,
        tenant: TenantId,
        id: Id<K>,
        expected_version: i32,
    ) -> Result<&Record<K>, StoreError> {
        let row = self.get(tenant, id).ok_or(StoreError::NotFound)?;
        check_version(row.version, expected_version)?;
        Ok(row)
    }

    /// Replaces a row that [`VersionedTable::at_version`] found; creation facts
    /// (`created_at`, the derived values kept in the row) stay as they were.
    pub(crate) fn replace(&mut self, record: &Record<K>) {
        let key = (record.tenant_id, record.id);
        if let Some(before) = self.rows.get(&key) {
            let row = Record {
                derived: before.derived.clone(),
                created_at: before.created_at,
                ..record.clone()
            };
            self.rows.insert(key, row);
        }
    }

    fn remove(&mut self, tenant: TenantId, id: Id<K>) {
        self.rows.remove(&(tenant, id));
    }
}

/// What a register adds to the generic memory store.
pub(crate) trait MemoryRecord: RecordKind {
    fn table(tables: &Tables) -> &VersionedTable<Self>;
    fn table_mut(tables: &mut Tables) -> &mut VersionedTable<Self>;
    fn matches(record: &Record<Self>, filter: &Self::Filter) -> bool;

    /// The links the database checks with composite foreign keys: each must name a row
    /// of the same tenant (`NotFound` otherwise).
    fn check_links(_: &Tables, _: TenantId, _: &Self::Fields) -> Result<(), StoreError> {
        Ok(())
    }

    /// What keeps a row from being deleted (rows that refer to it): `Conflict::InUse`.
    fn check_unused(_: &Tables, _: TenantId, _: Id<Self>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Removes what the row owns when it is deleted (the database's ON DELETE CASCADE).
    fn remove_owned(_: &mut Tables, _: TenantId, _: Id<Self>) {}

    /// The record as read: derived values filled in from other tables.
    fn view(_: &Tables, row: &Record<Self>) -> Record<Self> {
        row.clone()
    }
}

#[async_trait::async_trait]
impl<K: MemoryRecord> RecordStore<K> for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if record.tenant_id != tenant || !tx.state.tenants.contains_key(&tenant) {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            K::check_links(tables, tenant, &record.fields)?;
            K::table_mut(tables).insert(record)?;
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn get(&self, scope: &TenantScope, id: Id<K>) -> Result<Record<K>, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        K::table(tables)
            .get(scope.tenant_id(), id)
            .map(|row| K::view(tables, row))
            .ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<K::Filter>,
    ) -> Result<ListPage<Record<K>>, StoreError> {
        let rows: Vec<Record<K>> = {
            let state = self.lock()?;
            let tables = &state.registers;
            K::table(tables)
                .rows(scope.tenant_id())
                .filter(|row| K::matches(row, &query.filter))
                .map(|row| K::view(tables, row))
                .collect()
        };
        page(rows, query.sort, query.after.as_ref(), query.limit)
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Record<K>>, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        Ok(K::table(tables)
            .rows(scope.tenant_id())
            .map(|row| K::view(tables, row))
            .collect())
    }

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if record.tenant_id != tenant {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            K::table(tables).at_version(tenant, record.id, expected_version)?;
            K::check_links(tables, tenant, &record.fields)?;
            K::table_mut(tables).replace(record);
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            let tables = &mut tx.state.registers;
            K::table(tables).at_version(tenant, id, expected_version)?;
            K::check_unused(tables, tenant, id)?;
            K::table_mut(tables).remove(tenant, id);
            K::remove_owned(tables, tenant, id);
            tx.record(tenant, event);
            Ok(())
        })
    }
}
