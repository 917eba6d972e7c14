//! The kernel's [`RecordStore`] for every register, over one versioned table type. A
//! register adds only what is its own ([`MemoryRecord`]): where its table is, its
//! filters, the links the database would check with foreign keys, and derived values.

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_gdpr_registers::{Activities, Processors};
use aura_records::{Id, ListPage, ListQuery, MEMBER, Record, RecordKind, RecordStore, Reference};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, UserId};
use uuid::Uuid;

use crate::{
    MemoryStore,
    registers::{Tables, check_version, page},
    state::State,
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

/// The row just written, as a read would answer it.
fn written<K: MemoryRecord>(
    tables: &Tables,
    tenant: TenantId,
    id: Id<K>,
) -> Result<Record<K>, StoreError> {
    (K::table(tables).get(tenant, id))
        .map(|row| K::view(tables, row))
        .ok_or_else(|| StoreError::unexpected("a written row is gone"))
}

/// Every reference must name a row of the tenant, as the database's composite foreign
/// keys and the PostgreSQL store's check make it; all missing ones are named at once.
fn check_references(
    state: &State,
    tenant: TenantId,
    references: &[Reference],
) -> Result<(), StoreError> {
    let mut missing = Vec::new();
    for reference in references {
        if !names_row(state, tenant, reference)? {
            missing.push(reference);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(Reference::unresolved(missing)))
    }
}

/// Whether the tenant has the row a reference names. Each entity a record can refer to
/// is listed here once.
fn names_row(state: &State, tenant: TenantId, reference: &Reference) -> Result<bool, StoreError> {
    let tables = &state.registers;
    Ok(match reference.entity {
        MEMBER => state
            .user(tenant, UserId::from_uuid(reference.id))
            .is_some(),
        Activities::ENTITY => tables
            .activities
            .contains(tenant, Id::from_uuid(reference.id)),
        Processors::ENTITY => tables
            .processors
            .contains(tenant, Id::from_uuid(reference.id)),
        other => {
            return Err(StoreError::unexpected(format!(
                "no table for references to {other}"
            )));
        }
    })
}

#[async_trait::async_trait]
impl<K: MemoryRecord> RecordStore<K> for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if record.tenant_id != tenant || !tx.state.tenants.contains_key(&tenant) {
                return Err(StoreError::NotFound);
            }
            check_references(tx.state, tenant, &K::references(&record.fields))?;
            K::table_mut(&mut tx.state.registers).insert(record)?;
            tx.record(tenant, event);
            written(&tx.state.registers, tenant, record.id)
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
    ) -> Result<Record<K>, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if record.tenant_id != tenant {
                return Err(StoreError::NotFound);
            }
            K::table(&tx.state.registers).at_version(tenant, record.id, expected_version)?;
            check_references(tx.state, tenant, &K::references(&record.fields))?;
            K::table_mut(&mut tx.state.registers).replace(record);
            tx.record(tenant, event);
            written(&tx.state.registers, tenant, record.id)
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
