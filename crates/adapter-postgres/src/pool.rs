//! The connection pool (private to the crate) and the one way to a connection for
//! tenant work: [`in_tenant`].

use std::{future::Future, time::Duration};

use aura_tenancy::{StoreError, TenantScope};
use diesel::sql_types::Text;
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl,
    pooled_connection::{AsyncDieselConnectionManager, deadpool},
};

use crate::error::{DbError, map_pool};

pub(crate) type Pool = deadpool::Pool<AsyncPgConnection>;
pub(crate) type PoolError = deadpool::PoolError;
pub(crate) type PooledConnection = deadpool::Object<AsyncPgConnection>;

/// How the pool behaves. The timeouts make requests fail fast (`StoreError::Unavailable`)
/// when the database is down or saturated, instead of queueing without end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections held open at once.
    pub max_size: usize,
    /// Longest wait for a free connection before giving up.
    pub acquire_timeout: Duration,
    /// Longest time to open a new connection (or to check an idle one) before giving up.
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 10,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A snapshot of the pool for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections not in use.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

pub(crate) fn build_pool(database_url: &str, settings: &PoolSettings) -> Result<Pool, StoreError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    Pool::builder(manager)
        .max_size(settings.max_size.max(1))
        .wait_timeout(Some(settings.acquire_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .runtime(::deadpool::Runtime::Tokio1)
        .build()
        .map_err(|_| StoreError::unexpected("invalid connection pool settings"))
}

pub(crate) fn status(pool: &Pool) -> PoolStatus {
    let status = pool.status();
    PoolStatus {
        max_size: status.max_size,
        size: status.size,
        available: status.available,
        waiting: status.waiting,
    }
}

/// A connection for work that is not tenant data (the global lookup functions, the
/// throttle counters). Tenant tables are unreadable on it: no tenant is set.
pub(crate) async fn acquire(pool: &Pool) -> Result<PooledConnection, StoreError> {
    pool.get().await.map_err(map_pool)
}

/// An async closure over a connection whose future is `Send` (mirrors diesel-async's
/// own bound on `transaction`: async closures cannot name their future's bounds yet).
pub(crate) trait AsyncWork<T, R>:
    AsyncFnOnce(T) -> R + FnOnce(T) -> <Self as AsyncWork<T, R>>::Fut
{
    type Fut: Future<Output = R>;
}

impl<F, T, Fut, R> AsyncWork<T, R> for F
where
    F: AsyncFnOnce(T) -> R + FnOnce(T) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// Runs `work` in one transaction inside the scope's tenant: `app.tenant_id` is set
/// transaction-locally first, so row-level security confines every statement to that
/// tenant, and the setting ends with the transaction (the next borrower of the pooled
/// connection sees no tenant). Commits when `work` succeeds, rolls back otherwise.
///
/// Queries inside still filter by `tenant_id` themselves: two independent layers.
pub(crate) async fn in_tenant<R, F>(
    pool: &Pool,
    scope: &TenantScope,
    work: F,
) -> Result<R, StoreError>
where
    for<'c> F: AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<R, DbError>
        + AsyncWork<&'c mut AsyncPgConnection, Result<R, DbError>, Fut: Send>
        + Send,
    R: Send,
{
    let tenant = scope.tenant_id().as_uuid().to_string();
    let mut conn = acquire(pool).await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    conn.transaction::<R, DbError, _>(async move |conn| {
        diesel::sql_query("SELECT set_config('app.tenant_id', $1, true)")
            .bind::<Text, _>(tenant)
            .execute(conn)
            .await?;
        work(conn).await
    })
    .await
    .map_err(StoreError::from)
}
