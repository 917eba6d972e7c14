//! The kernel's [`RecordStore`] for every register, over one versioned table type
//! ([`RecordTables`]). A register adds only what is its own ([`MemoryRecord`]): its
//! filters, the links the database would check with foreign keys, and derived values.

use std::{
    any::{Any, TypeId},
    collections::{BTreeMap, HashMap},
};

use aura_audit::PendingEvent;
use aura_dpias::Dpias;
use aura_gdpr_registers::{Activities, Processors};
use aura_records::{Id, ListPage, ListQuery, MEMBER, Record, RecordKind, RecordStore, Reference};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, UserId};
use uuid::Uuid;

use crate::{
    MemoryStore,
    registers::{Tables, check_version, page},
    state::{State, in_scope},
};

/// One register's rows, keyed by tenant first, so a tenant's rows are one ordered range.
type Rows<K> = BTreeMap<(TenantId, Id<K>), Record<K>>;

/// The one versioned table type serving every register: each record kind's rows, found
/// by the kind, so a register needs no table of its own.
#[derive(Default)]
pub(crate) struct RecordTables {
    /// A `Rows<K>` for each kind `K` written so far, under `K`'s type id.
    tables: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl RecordTables {
    fn rows_of<K: RecordKind>(&self) -> Option<&Rows<K>> {
        self.tables.get(&TypeId::of::<K>())?.downcast_ref()
    }

    fn rows_of_mut<K: RecordKind>(&mut self) -> &mut Rows<K> {
        let rows = self
            .tables
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(Rows::<K>::new()));
        match rows.downcast_mut() {
            Some(rows) => rows,
            None => unreachable!("the table under a kind's type id holds that kind's rows"),
        }
    }

    pub fn get<K: RecordKind>(&self, tenant: TenantId, id: Id<K>) -> Option<&Record<K>> {
        self.rows_of::<K>()?.get(&(tenant, id))
    }

    pub fn contains<K: RecordKind>(&self, tenant: TenantId, id: Id<K>) -> bool {
        self.get(tenant, id).is_some()
    }

    /// The tenant's rows of `K` in id (creation) order.
    pub fn rows<K: RecordKind>(&self, tenant: TenantId) -> impl Iterator<Item = &Record<K>> {
        let first = Id::from_uuid(Uuid::nil());
        let last = Id::from_uuid(Uuid::max());
        self.rows_of::<K>()
            .into_iter()
            .flat_map(move |rows| rows.range((tenant, first)..=(tenant, last)))
            .map(|(_, row)| row)
    }

    fn insert<K: RecordKind>(&mut self, record: &Record<K>) -> Result<(), StoreError> {
        let key = (record.tenant_id, record.id);
        let rows = self.rows_of_mut::<K>();
        if rows.contains_key(&key) {
            return Err(StoreError::Conflict(Conflict::IdTaken(K::ENTITY)));
        }
        rows.insert(key, record.clone());
        Ok(())
    }

    /// The stored row if it is at `expected_version`: `NotFound` when there is none, a
    /// version conflict when it moved on. Checked before anything changes.
    pub(crate) fn at_version<K: RecordKind>(
        &self,
        tenant: TenantId,
        id: Id<K>,
        expected_version: i32,
    ) -> Result<&Record<K>, StoreError> {
        let row = self.get(tenant, id).ok_or(StoreError::NotFound)?;
        check_version(row.version, expected_version)?;
        Ok(row)
    }

    /// Replaces a row that [`RecordTables::at_version`] found, with the derived values
    /// the write carries (the use cases keep or re-derive them); `created_at` stays.
    pub(crate) fn replace<K: RecordKind>(&mut self, record: &Record<K>) {
        let key = (record.tenant_id, record.id);
        let rows = self.rows_of_mut::<K>();
        if let Some(before) = rows.get(&key) {
            let row = Record {
                created_at: before.created_at,
                ..record.clone()
            };
            rows.insert(key, row);
        }
    }

    fn remove<K: RecordKind>(&mut self, tenant: TenantId, id: Id<K>) {
        self.rows_of_mut::<K>().remove(&(tenant, id));
    }
}

/// What a register adds to the generic memory store.
pub(crate) trait MemoryRecord: RecordKind {
    fn matches(record: &Record<Self>, filter: &Self::Filter) -> bool;

    /// What keeps a row from being deleted (rows that refer to it): `Conflict::InUse`.
    fn check_unused(_: &Tables, _: TenantId, _: Id<Self>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Completes a new record with what the store assigns on insert (a request's
    /// per-tenant reference number). Most registers: nothing.
    fn assign(_: &mut Tables, _: &mut Record<Self>) {}

    /// Keeps what [`MemoryRecord::assign`] gave the stored row when it is replaced (an
    /// update leaves those columns as they are).
    fn keep_assigned(_stored: &Record<Self>, _record: &mut Record<Self>) {}

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
    tables
        .records
        .get(tenant, id)
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
pub(crate) fn names_row(
    state: &State,
    tenant: TenantId,
    reference: &Reference,
) -> Result<bool, StoreError> {
    let tables = &state.registers;
    Ok(match reference.entity {
        MEMBER => state
            .user(tenant, UserId::from_uuid(reference.id))
            .is_some(),
        Activities::ENTITY => tables
            .records
            .contains::<Activities>(tenant, Id::from_uuid(reference.id)),
        Processors::ENTITY => tables
            .records
            .contains::<Processors>(tenant, Id::from_uuid(reference.id)),
        Dpias::ENTITY => tables
            .records
            .contains::<Dpias>(tenant, Id::from_uuid(reference.id)),
        // A document's links (policies, tasks, breaches, requests).
        aura_gdpr_registers::Policies::ENTITY => (tables.records)
            .contains::<aura_gdpr_registers::Policies>(tenant, Id::from_uuid(reference.id)),
        aura_tasks::Tasks::ENTITY => {
            (state.tasks).contains_key(&(tenant, Id::from_uuid(reference.id)))
        }
        aura_breaches::Breaches::ENTITY => (tables.records)
            .contains::<aura_breaches::Breaches>(tenant, Id::from_uuid(reference.id)),
        aura_requests::request::Requests::ENTITY => {
            (tables.records)
                .contains::<aura_requests::request::Requests>(tenant, Id::from_uuid(reference.id))
        }
        other => {
            return Err(StoreError::unexpected(format!(
                "no table for references to {other}"
            )));
        }
    })
}

/// The kernel's insert under the store's lock (inside `write_audited`): a register whose
/// writes carry more (a request's reminder plan) calls it and adds its rows after.
pub(crate) fn insert_record<K: MemoryRecord>(
    state: &mut State,
    tenant: TenantId,
    record: &Record<K>,
) -> Result<Record<K>, StoreError> {
    state.check_new_row(tenant, record.tenant_id)?;
    check_references(state, tenant, &K::record_references(record))?;
    let mut record = record.clone();
    K::assign(&mut state.registers, &mut record);
    state.registers.records.insert(&record)?;
    written(&state.registers, tenant, record.id)
}

/// The kernel's optimistic update under the lock, as [`insert_record`].
pub(crate) fn update_record<K: MemoryRecord>(
    state: &mut State,
    tenant: TenantId,
    record: &Record<K>,
    expected_version: i32,
) -> Result<Record<K>, StoreError> {
    in_scope(tenant, record.tenant_id)?;
    let records = &state.registers.records;
    let stored = records.at_version(tenant, record.id, expected_version)?;
    let mut record = record.clone();
    K::keep_assigned(stored, &mut record);
    check_references(state, tenant, &K::record_references(&record))?;
    state.registers.records.replace(&record);
    written(&state.registers, tenant, record.id)
}

/// The kernel's delete at a version under the lock, as [`insert_record`].
pub(crate) fn delete_record<K: MemoryRecord>(
    state: &mut State,
    tenant: TenantId,
    id: Id<K>,
    expected_version: i32,
) -> Result<(), StoreError> {
    let tables = &mut state.registers;
    tables.records.at_version(tenant, id, expected_version)?;
    K::check_unused(tables, tenant, id)?;
    tables.records.remove(tenant, id);
    K::remove_owned(tables, tenant, id);
    Ok(())
}

#[async_trait::async_trait]
impl<K: MemoryRecord> RecordStore<K> for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            insert_record(tx.state, tenant, record)
        })
    }

    async fn get(&self, scope: &TenantScope, id: Id<K>) -> Result<Record<K>, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        tables
            .records
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
            tables
                .records
                .rows::<K>(scope.tenant_id())
                .filter(|row| K::matches(row, &query.filter))
                .map(|row| K::view(tables, row))
                .collect()
        };
        page(rows, query.sort, query.after.as_ref(), query.limit)
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Record<K>>, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        Ok(tables
            .records
            .rows::<K>(scope.tenant_id())
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
        self.write_audited(scope, event, |tx, tenant| {
            update_record(tx.state, tenant, record, expected_version)
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            delete_record::<K>(tx.state, tenant, id, expected_version)
        })
    }
}
