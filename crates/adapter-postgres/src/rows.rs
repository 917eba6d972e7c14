//! What every port on a tenant table keyed by `(tenant_id, id)` repeats, written once:
//! the scope check of a row about to be written, reading one row in its own transaction,
//! one statement sealed with its audit event, what an optimistic write that changed
//! no row means, and the put of a versioned jsonb row per parent (one organisation profile
//! per tenant, one screening per activity). Generic over diesel's queries and statements, so a port keeps only its
//! own table's statements.

use aura_audit::PendingEvent;
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope};
use diesel::{
    dsl::{Eq, Filter, Find},
    expression::AsExpression,
    pg::Pg,
    prelude::*,
    query_builder::{QueryFragment, QueryId},
    query_dsl::methods::{FilterDsl, FindDsl},
    sql_types::{Bool, Integer, SqlType, Uuid as SqlUuid},
};
use diesel_async::{
    AsyncPgConnection, RunQueryDsl,
    methods::{ExecuteDsl, LoadQuery},
};
use uuid::Uuid;

use crate::{error::DbError, pool::read_in_tenant, stores::PgStores};

/// The primary key of the tenant tables with an id: `(tenant_id, id)`.
pub(crate) type RowKey = (Uuid, Uuid);

/// A row written for the scope must be one of its tenant's: `NotFound` otherwise (the
/// answer tells nothing of other tenants).
pub(crate) fn in_scope(scope: &TenantScope, tenant: TenantId) -> Result<(), StoreError> {
    if tenant == scope.tenant_id() {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// A new row must be the scope's tenant's: writing one for another tenant is a bug of
/// the caller, not an answer about other tenants.
pub(crate) fn new_in_scope(scope: &TenantScope, tenant: TenantId) -> Result<(), StoreError> {
    if tenant == scope.tenant_id() {
        Ok(())
    } else {
        Err(StoreError::unexpected(
            "a new row must belong to the scope's tenant",
        ))
    }
}

/// What an optimistic write that changed no row means: the row is gone (`NotFound`) or
/// at another version (`Conflict::Version`).
pub(crate) fn missing_or_stale(exists: bool) -> DbError {
    if exists {
        DbError::Store(StoreError::Conflict(Conflict::Version))
    } else {
        DbError::Store(StoreError::NotFound)
    }
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

/// Whether the tenant's row `key` of `table` exists (in the caller's transaction).
pub(crate) async fn row_exists(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    (tenant, id): RowKey,
) -> Result<bool, DbError> {
    let sql =
        format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE tenant_id = $1 AND id = $2) AS found");
    let row: Found = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant)
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await?;
    Ok(row.found)
}

/// Done when an optimistic write (`… WHERE version = expected`) changed the row `key` of
/// `table`; when it changed none, the row is gone or moved on ([`missing_or_stale`]).
pub(crate) async fn expect_changed(
    conn: &mut AsyncPgConnection,
    changed: usize,
    table: &'static str,
    key: RowKey,
) -> Result<(), DbError> {
    if changed > 0 {
        return Ok(());
    }
    Err(missing_or_stale(row_exists(conn, table, key).await?))
}

/// Deletes the tenant's row `key` of `table` if it is at `expected_version`; the rows
/// deleted (a row that other rows still refer to fails with the driver's error).
pub(crate) async fn delete_at_version(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    (tenant, id): RowKey,
    expected_version: i32,
) -> Result<usize, diesel::result::Error> {
    let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND id = $2 AND version = $3");
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant)
        .bind::<SqlUuid, _>(id)
        .bind::<Integer, _>(expected_version)
        .execute(conn)
        .await
}

impl PgStores {
    /// The one row the select `query` finds inside the scope's tenant (in the request's
    /// unit when it has one: see `read_in_tenant`), converted: `NotFound` when there is
    /// none.
    pub(crate) async fn read_one<Row, Out, Q>(
        &self,
        scope: &TenantScope,
        query: Q,
    ) -> Result<Out, StoreError>
    where
        Q: for<'q> LoadQuery<'q, AsyncPgConnection, Row> + Send + 'static,
        Row: Send + 'static,
        Out: TryFrom<Row, Error = StoreError>,
    {
        let row: Row = read_in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(query.get_result(conn).await?)
        })
        .await?;
        Out::try_from(row)
    }

    /// Runs one `statement` (an insert, say) and seals `event` with it, in one
    /// transaction inside the scope's tenant.
    pub(crate) async fn execute_audited<S>(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
        statement: S,
    ) -> Result<(), StoreError>
    where
        S: ExecuteDsl<AsyncPgConnection> + Send + 'static,
    {
        self.write_audited(scope, event, async move |conn| {
            statement.execute(conn).await?;
            Ok(())
        })
        .await
    }
}

/// The version a put of a versioned row per parent gives it: `expected_version` 0 means
/// "not saved yet"; a negative one is never a row's (`Conflict::Version`).
pub(crate) fn next_version(expected_version: i32) -> Result<i32, StoreError> {
    (expected_version.checked_add(1))
        .filter(|_| expected_version >= 0)
        .ok_or(StoreError::Conflict(Conflict::Version))
}

impl PgStores {
    /// Puts a versioned row per parent (a jsonb document with its `version`), sealed with
    /// `event`: at `expected_version` 0 the `insert` (whose `ON CONFLICT DO NOTHING` leaves
    /// an existing row: `Conflict::Version`), otherwise the `update` (`… WHERE version =
    /// expected`), which changes no row when the row is at another version
    /// (`Conflict::Version`) or there is none yet (`NotFound`, by `exists`).
    pub(crate) async fn put_versioned<I, U, E>(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
        expected_version: i32,
        (insert, update): (I, U),
        exists: E,
    ) -> Result<(), StoreError>
    where
        I: Statement,
        U: Statement,
        E: for<'q> LoadQuery<'q, AsyncPgConnection, bool> + Send + 'static,
    {
        self.write_audited(scope, event, async move |conn| {
            let written = if expected_version == 0 {
                insert.execute(conn).await?
            } else {
                update.execute(conn).await?
            };
            if written == 0 {
                let exists = expected_version == 0 || exists.get_result(conn).await?;
                return Err(missing_or_stale(exists));
            }
            Ok(())
        })
        .await
    }
}

/// A statement a write runs: owns its values, so a register can hand it to the kernel
/// (which runs it kept prepared: `Prepared`).
pub(crate) trait Statement: QueryFragment<Pg> + QueryId + Send + 'static {}

impl<S: QueryFragment<Pg> + QueryId + Send + 'static> Statement for S {}

/// The row `key` (its primary key) of `table` if it is at `expected_version` (its
/// `version` column): the target of an optimistic update.
pub(crate) fn at_version<T, K, V>(
    table: T,
    version: V,
    key: K,
    expected_version: i32,
) -> Filter<Find<T, K>, Eq<V, i32>>
where
    T: FindDsl<K>,
    Find<T, K>: FilterDsl<Eq<V, i32>>,
    V: ExpressionMethods,
    V::SqlType: SqlType,
    i32: AsExpression<V::SqlType>,
{
    table.find(key).filter(version.eq(expected_version))
}
