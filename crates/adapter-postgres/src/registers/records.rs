//! The kernel's [`RecordStore`] for every register on PostgreSQL. The transaction, the
//! tenant setting, the version check, the audit event and the keyset page are written
//! here once; a register adds only its table's statements ([`PgRecord`]).

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_dpias::Dpias;
use aura_gdpr_registers::{Activities, Processors};
use aura_records::{
    Id, ListPage, ListQuery, MEMBER, Numbered, Record, RecordKind, RecordStore, Reference,
    assign_reference,
};
use aura_shared_kernel::{Conflict, PersonalDataSeal, StoreError, TenantId, TenantScope};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
    upsert::excluded,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{SortKeys, cursor_after, page_from_overfetch};
use crate::{
    error::{DbError, corrupt},
    pool::read_in_tenant,
    prepared::Prepared,
    rows::{
        Statement, delete_at_version, expect_changed, in_scope, missing_or_stale, new_in_scope,
    },
    schema::{dpias, processing_activities, processors, record_numbers as numbers, users},
    stores::PgStores,
};

/// Which rows a read wants.
pub(crate) enum Select<'a, F> {
    One(Uuid),
    /// A page in list order: up to `limit + 1` rows (the extra one says more follow).
    Page(&'a ListQuery<F>),
    /// All of the tenant's, oldest first.
    All,
}

/// What a register's statements get besides the connection: the tenant (statements
/// filter by it besides row-level security) and the seal for the personal data a register
/// keeps unreadable at rest (a data subject's identity).
#[derive(Clone, Copy)]
pub(crate) struct RowContext<'a> {
    pub tenant: Uuid,
    pub seal: &'a dyn PersonalDataSeal,
}

impl RowContext<'_> {
    pub fn tenant_id(&self) -> TenantId {
        TenantId::from_uuid(self.tenant)
    }
}

/// A register's table on PostgreSQL: its statements; the kernel runs them. Every method
/// runs inside the caller's transaction, with the tenant set; statements still filter by
/// `tenant_id` themselves.
#[async_trait::async_trait]
pub(crate) trait PgRecord: RecordKind {
    /// The table, keyed by `(tenant_id, id)` with a `version` column: a delete and the
    /// check of an optimistic write that changed nothing name it.
    const TABLE: &'static str;

    /// The rows `which` selects, with their derived values.
    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, Self::Filter>,
    ) -> Result<Vec<Record<Self>>, DbError>;

    /// Fills in the derived values of `records` that come from other rows, after a
    /// write or a select (most registers: none; a select may derive its own).
    async fn derive(
        _conn: &mut AsyncPgConnection,
        _tenant: Uuid,
        _records: &mut [Record<Self>],
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// Checks, inside an update's transaction before the row is written and with the
    /// rows it reads locked, a rule that a read before the transaction cannot settle
    /// under concurrency (a sub-processor loop closed by two writes at once). Most
    /// registers: nothing.
    async fn check_locked(
        _conn: &mut AsyncPgConnection,
        _tenant: Uuid,
        _record: &Record<Self>,
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// Completes a new record with what the store assigns inside the insert's
    /// transaction (a request's per-tenant reference number). Most registers: nothing.
    async fn assign(
        _conn: &mut AsyncPgConnection,
        _tenant: Uuid,
        _record: &mut Record<Self>,
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// Carries over to a replacement what [`PgRecord::assign`] gave the stored row (the
    /// update statement leaves it as it is; the answer says so too). Most registers:
    /// nothing.
    async fn keep_assigned(
        _conn: &mut AsyncPgConnection,
        _tenant: Uuid,
        _record: &mut Record<Self>,
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// The statement that inserts the record's row. A reference outside the tenant
    /// fails the composite foreign key: `NotFound`.
    fn insert(record: &Record<Self>, cx: RowContext<'_>) -> Result<impl Statement, StoreError>;

    /// The statement that replaces the record's row if it is at `expected_version`
    /// ([`crate::rows::at_version`]).
    fn update(
        record: &Record<Self>,
        expected_version: i32,
        cx: RowContext<'_>,
    ) -> Result<impl Statement, StoreError>;

    /// Writes the rows the record owns (links) after its own row was inserted or
    /// replaced. Deleting the row removes them (ON DELETE CASCADE).
    async fn write_owned(
        _conn: &mut AsyncPgConnection,
        _record: &Record<Self>,
    ) -> Result<(), DbError> {
        Ok(())
    }
}

/// Numbers a new record in its tenant's series for its year ([`Numbered`]): the counter
/// row is created or bumped in the insert's transaction, so concurrent inserts queue on
/// it and a number is never given twice. A register's [`PgRecord::assign`] calls it.
pub(crate) async fn assign_number<K: Numbered>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    record: &mut Record<K>,
) -> Result<(), DbError> {
    let number: i32 = diesel::insert_into(numbers::table)
        .values((
            numbers::tenant_id.eq(tenant),
            numbers::series.eq(K::SERIES),
            numbers::year.eq(K::numbering_year(record)),
            numbers::last.eq(1),
        ))
        .on_conflict((numbers::tenant_id, numbers::series, numbers::year))
        .do_update()
        .set(numbers::last.eq(numbers::last + excluded(numbers::last)))
        .returning(numbers::last)
        .get_result(conn)
        .await?;
    let number = u32::try_from(number).map_err(|_| corrupt("reference number"))?;
    assign_reference(record, number);
    Ok(())
}

#[derive(QueryableByName)]
struct StoredReference {
    #[diesel(sql_type = diesel::sql_types::Text)]
    reference: String,
}

/// The stored reference of a numbered record (its `reference` column), which an update
/// never changes, into `record`: a [`PgRecord::keep_assigned`] of a [`Numbered`] register.
pub(crate) async fn keep_number<K: Numbered + PgRecord>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    record: &mut Record<K>,
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT reference FROM {} WHERE tenant_id = $1 AND id = $2",
        K::TABLE
    );
    let stored: StoredReference = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Uuid, _>(tenant)
        .bind::<diesel::sql_types::Uuid, _>(record.id.as_uuid())
        .get_result(conn)
        .await?;
    *K::reference_mut(record) = stored.reference;
    Ok(())
}

/// Replaces the record's row if it is at `expected_version`, then what it owns; 0 when
/// no row changed (gone or moved on).
pub(crate) async fn update_row<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    cx: RowContext<'_>,
    record: &Record<K>,
    expected_version: i32,
) -> Result<usize, DbError> {
    let updated = Prepared(K::update(record, expected_version, cx)?)
        .execute(conn)
        .await?;
    if updated > 0 {
        K::write_owned(conn, record).await?;
    }
    Ok(updated)
}

/// Fails with `StoreError::Invalid` (each field named) when a reference names no row of
/// the tenant: one statement per entity named, inside the write's transaction, so the
/// write needs no reads before it.
async fn check_references(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    references: &[Reference],
) -> Result<(), DbError> {
    let mut by_entity: BTreeMap<&'static str, Vec<Uuid>> = BTreeMap::new();
    for reference in references {
        by_entity
            .entry(reference.entity)
            .or_default()
            .push(reference.id);
    }
    let mut present = Vec::new();
    for (entity, ids) in by_entity {
        present.extend(present_ids(conn, tenant, entity, ids).await?);
    }
    let missing: Vec<&Reference> = (references.iter())
        .filter(|r| !present.contains(&(r.entity, r.id)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(Reference::unresolved(missing)).into())
    }
}

/// Which of `ids` the tenant has in the table of `entity`. Each entity a record can
/// refer to is listed here once.
pub(crate) async fn present_ids(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    entity: &'static str,
    ids: Vec<Uuid>,
) -> Result<Vec<(&'static str, Uuid)>, DbError> {
    let found: Vec<Uuid> = match entity {
        MEMBER => {
            (users::table.filter(users::tenant_id.eq(tenant).and(users::id.eq_any(ids))))
                .select(users::id)
                .load(conn)
                .await?
        }
        Activities::ENTITY => {
            let rows = processing_activities::table;
            (rows.filter(processing_activities::tenant_id.eq(tenant)))
                .filter(processing_activities::id.eq_any(ids))
                .select(processing_activities::id)
                .load(conn)
                .await?
        }
        Processors::ENTITY => {
            (processors::table.filter(processors::tenant_id.eq(tenant)))
                .filter(processors::id.eq_any(ids))
                .select(processors::id)
                .load(conn)
                .await?
        }
        Dpias::ENTITY => {
            (dpias::table.filter(dpias::tenant_id.eq(tenant)))
                .filter(dpias::id.eq_any(ids))
                .select(dpias::id)
                .load(conn)
                .await?
        }
        // A document's links (policies, tasks, breaches, requests).
        aura_gdpr_registers::Policies::ENTITY => {
            use crate::schema::policies as t;
            (t::table.filter(t::tenant_id.eq(tenant)))
                .filter(t::id.eq_any(ids))
                .select(t::id)
                .load(conn)
                .await?
        }
        aura_tasks::Tasks::ENTITY => {
            use crate::schema::tasks as t;
            (t::table.filter(t::tenant_id.eq(tenant)))
                .filter(t::id.eq_any(ids))
                .select(t::id)
                .load(conn)
                .await?
        }
        aura_breaches::Breaches::ENTITY => {
            use crate::schema::personal_data_breaches as t;
            (t::table.filter(t::tenant_id.eq(tenant)))
                .filter(t::id.eq_any(ids))
                .select(t::id)
                .load(conn)
                .await?
        }
        aura_requests::request::Requests::ENTITY => {
            use crate::schema::data_subject_requests as t;
            (t::table.filter(t::tenant_id.eq(tenant)))
                .filter(t::id.eq_any(ids))
                .select(t::id)
                .load(conn)
                .await?
        }
        other => {
            return Err(
                StoreError::unexpected(format!("no table for references to {other}")).into(),
            );
        }
    };
    Ok(found.into_iter().map(|id| (entity, id)).collect())
}

/// The rows `which` selects with all their derived values.
async fn read<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    cx: RowContext<'_>,
    which: Select<'_, K::Filter>,
) -> Result<Vec<Record<K>>, DbError> {
    let mut rows = K::select(conn, cx, which).await?;
    K::derive(conn, cx.tenant, &mut rows).await?;
    Ok(rows)
}

/// The record just written, as a read in the same transaction would answer it.
async fn as_written<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    record: &Record<K>,
) -> Result<Record<K>, DbError> {
    let mut written = record.clone();
    K::derive(conn, tenant, std::slice::from_mut(&mut written)).await?;
    Ok(written)
}

/// The kernel's insert inside the caller's transaction (the tenant set): references
/// checked, store-assigned values, the row and what it owns; the record as written. A
/// register whose writes carry more (a request's reminder plan) calls it in its own
/// `write_audited` and adds its rows after.
pub(crate) async fn insert_record<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    cx: RowContext<'_>,
    record: &Record<K>,
) -> Result<Record<K>, DbError> {
    let tenant = cx.tenant;
    check_references(conn, tenant, &K::record_references(record)).await?;
    let mut record = record.clone();
    K::assign(conn, tenant, &mut record).await?;
    Prepared(K::insert(&record, cx)?).execute(conn).await?;
    K::write_owned(conn, &record).await?;
    as_written(conn, tenant, &record).await
}

/// The kernel's optimistic update inside the caller's transaction, as
/// [`insert_record`].
pub(crate) async fn update_record<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    cx: RowContext<'_>,
    record: &Record<K>,
    expected_version: i32,
) -> Result<Record<K>, DbError> {
    let tenant = cx.tenant;
    if let Err(unresolved) = check_references(conn, tenant, &K::record_references(record)).await {
        // A record not in the tenant is `NotFound` whatever it names, and a stale one a
        // version conflict: the answer tells nothing of other tenants.
        let rows = K::select(conn, cx, Select::One(record.id.as_uuid())).await?;
        return Err(match <[_]>::first(&rows) {
            Some(row) if row.version == expected_version => unresolved,
            found => missing_or_stale(found.is_some()),
        });
    }
    K::check_locked(conn, tenant, record).await?;
    let updated = update_row(conn, cx, record, expected_version).await?;
    expect_changed(conn, updated, K::TABLE, (tenant, record.id.as_uuid())).await?;
    let mut record = record.clone();
    K::keep_assigned(conn, tenant, &mut record).await?;
    as_written(conn, tenant, &record).await
}

/// The kernel's delete at a version inside the caller's transaction, as
/// [`insert_record`].
pub(crate) async fn delete_record<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    key: (Uuid, Uuid),
    expected_version: i32,
) -> Result<(), DbError> {
    let deleted = match delete_at_version(conn, K::TABLE, key, expected_version).await {
        // Rows of other tables refer to it (RESTRICT): processors linked from activities
        // or with sub-processors.
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            return Err(StoreError::Conflict(Conflict::InUse).into());
        }
        deleted => deleted?,
    };
    expect_changed(conn, deleted, K::TABLE, key).await
}

impl PgStores {
    pub(crate) fn row_context(&self, scope: &TenantScope) -> RowContext<'_> {
        RowContext {
            tenant: scope.tenant_id().as_uuid(),
            seal: self.inner.seal.as_ref(),
        }
    }
}

#[async_trait::async_trait]
impl<K: PgRecord> RecordStore<K> for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        new_in_scope(scope, record.tenant_id)?;
        let cx = self.row_context(scope);
        self.write_audited(scope, event, async move |conn| {
            insert_record(conn, cx, record).await
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, id: Id<K>) -> Result<Record<K>, StoreError> {
        let cx = self.row_context(scope);
        let rows = read_in_tenant(&self.inner.pool, scope, async move |conn| {
            read::<K>(conn, cx, Select::One(id.as_uuid())).await
        })
        .await?;
        rows.into_iter().next().ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<K::Filter>,
    ) -> Result<ListPage<Record<K>>, StoreError> {
        let cx = self.row_context(scope);
        let rows = read_in_tenant(&self.inner.pool, scope, async move |conn| {
            read::<K>(conn, cx, Select::Page(query)).await
        })
        .await?;
        let sort = query.sort;
        page_from_overfetch(rows, query.limit, |r| {
            let keys = SortKeys {
                name: K::label(&r.fields),
                updated_at: r.updated_at,
                due_on: K::due_on(r),
            };
            cursor_after(sort, r.id.as_uuid(), keys)
        })
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Record<K>>, StoreError> {
        let cx = self.row_context(scope);
        read_in_tenant(&self.inner.pool, scope, async move |conn| {
            read::<K>(conn, cx, Select::All).await
        })
        .await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        in_scope(scope, record.tenant_id)?;
        let cx = self.row_context(scope);
        self.write_audited(scope, event, async move |conn| {
            update_record(conn, cx, record, expected_version).await
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        self.write_audited(scope, event, async move |conn| {
            delete_record::<K>(conn, key, expected_version).await
        })
        .await
    }
}
