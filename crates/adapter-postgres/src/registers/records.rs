//! The kernel's [`RecordStore`] for every register on PostgreSQL. The transaction, the
//! tenant setting, the version check, the audit event and the keyset page are written
//! here once; a register adds only its table's statements ([`PgRecord`]).

use aura_audit::PendingEvent;
use aura_records::{Id, ListPage, ListQuery, Record, RecordKind, RecordStore};
use aura_tenancy::{StoreError, TenantScope};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{cursor_after, missing_or_stale, page_from_overfetch};
use crate::{error::DbError, pool::in_tenant, stores::PgStores};

/// Which rows a read wants.
pub(crate) enum Select<'a, F> {
    One(Uuid),
    /// A page in list order: up to `limit + 1` rows (the extra one says more follow).
    Page(&'a ListQuery<F>),
    /// All of the tenant's, oldest first.
    All,
}

/// A register's table on PostgreSQL. Every method runs inside the caller's transaction,
/// with the tenant set; statements still filter by `tenant_id` themselves.
#[async_trait::async_trait]
pub(crate) trait PgRecord: RecordKind {
    /// The rows `which` selects, with their derived values.
    async fn select(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        which: Select<'_, Self::Filter>,
    ) -> Result<Vec<Record<Self>>, DbError>;

    /// Inserts the row and the rows it owns (links). A link outside the tenant fails the
    /// composite foreign key: `NotFound`.
    async fn insert_row(conn: &mut AsyncPgConnection, record: &Record<Self>)
    -> Result<(), DbError>;

    /// Replaces the row if it is at `expected_version`; the rows changed (0: gone or
    /// moved on).
    async fn update_row(
        conn: &mut AsyncPgConnection,
        record: &Record<Self>,
        expected_version: i32,
    ) -> Result<usize, DbError>;

    /// Deletes the row if it is at `expected_version`; the rows deleted.
    async fn delete_row(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        id: Uuid,
        expected_version: i32,
    ) -> Result<usize, DbError>;
}

/// After an optimistic write that changed no row: `NotFound` or a version conflict.
async fn missing_or_moved<K: PgRecord>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> DbError {
    match K::select(conn, tenant, Select::One(id)).await {
        Ok(rows) => missing_or_stale(!rows.is_empty()),
        Err(error) => error,
    }
}

#[async_trait::async_trait]
impl<K: PgRecord> RecordStore<K> for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if record.tenant_id != scope.tenant_id() {
            return Err(StoreError::unexpected(
                "a new record must belong to the scope's tenant",
            ));
        }
        self.write_audited(scope, event, async move |conn| {
            K::insert_row(conn, record).await
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, id: Id<K>) -> Result<Record<K>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows = in_tenant(&self.inner.pool, scope, async move |conn| {
            K::select(conn, tenant, Select::One(id.as_uuid())).await
        })
        .await?;
        rows.into_iter().next().ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<K::Filter>,
    ) -> Result<ListPage<Record<K>>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows = in_tenant(&self.inner.pool, scope, async move |conn| {
            K::select(conn, tenant, Select::Page(query)).await
        })
        .await?;
        let sort = query.sort;
        page_from_overfetch(rows, query.limit, |r| {
            cursor_after(sort, r.id.as_uuid(), K::label(&r.fields), r.updated_at)
        })
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Record<K>>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            K::select(conn, tenant, Select::All).await
        })
        .await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if record.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let tenant = scope.tenant_id().as_uuid();
        self.write_audited(scope, event, async move |conn| {
            if K::update_row(conn, record, expected_version).await? == 0 {
                return Err(missing_or_moved::<K>(conn, tenant, record.id.as_uuid()).await);
            }
            Ok(())
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
        let tenant = scope.tenant_id().as_uuid();
        let id = id.as_uuid();
        self.write_audited(scope, event, async move |conn| {
            if K::delete_row(conn, tenant, id, expected_version).await? == 0 {
                return Err(missing_or_moved::<K>(conn, tenant, id).await);
            }
            Ok(())
        })
        .await
    }
}
