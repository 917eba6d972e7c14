//! The connection pool (private to the crate) and the one way to a connection for
//! tenant work: [`in_tenant`]; [`unscoped`] for work with no tenant.
//!
//! Every statement runs inside an explicit transaction. Besides atomicity, that is what
//! lets the API sit behind a transaction-mode pooler (PgBouncer `pool_mode =
//! transaction`), which lends a server connection for one transaction at a time: the
//! driver prepares each statement (Parse) and runs it (Bind, Execute) in separate round
//! trips, and only an open transaction keeps both on the same server connection.

use std::{future::Future, time::Duration};

use aura_shared_kernel::{StoreError, TenantId, TenantScope};
use diesel::sql_types::Text;
use diesel::{ConnectionError, ConnectionResult, connection::CacheSize};
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod, deadpool},
};

use crate::{
    error::{DbError, map_pool},
    tls::{Target, bad_connection},
};

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
    /// The URL reaches PostgreSQL through a transaction-mode pooler (PgBouncer
    /// `pool_mode = transaction`), which may give every transaction another server
    /// connection: prepared statements are then never cached (a cached statement exists
    /// on one server connection only), and the connection's set-up runs in a transaction.
    pub transaction_pooling: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 10,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            transaction_pooling: false,
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
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // An idle connection is checked with the simple query protocol: no prepared
    // statement outside a transaction (see the module documentation).
    config.recycling_method = RecyclingMethod::CustomFunction(Box::new(|conn| {
        Box::pin(async move { conn.batch_execute("SELECT 1").await })
    }));
    // TLS as the URL's `sslmode` says (see `tls`); the pool's own set-up otherwise.
    let target = Target::parse(database_url).map_err(|e| StoreError::unexpected(e.0))?;
    if settings.transaction_pooling {
        config.custom_setup = Box::new(move |_| {
            let target = target.clone();
            Box::pin(async move { establish_for_transaction_pooling(&target).await })
        });
    } else if target.uses_tls() {
        config.custom_setup = Box::new(move |_| {
            let target = target.clone();
            Box::pin(async move { target.connect().await })
        });
    }
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(settings.max_size.max(1))
        .wait_timeout(Some(settings.acquire_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .runtime(::deadpool::Runtime::Tokio1)
        .build()
        .map_err(|_| StoreError::unexpected("invalid connection pool settings"))
}

/// A connection for a transaction-mode pooler. diesel-async's set-up sends two `SET`s as
/// prepared statements; inside one transaction their Parse and Bind reach the same server
/// connection (the settings are session parameters the pooler then carries to whichever
/// server connection serves this client). No statement is cached afterwards: each one is
/// prepared, run and closed inside its own transaction.
async fn establish_for_transaction_pooling(target: &Target) -> ConnectionResult<AsyncPgConnection> {
    match target.tls() {
        None => {
            let (client, connection) = tokio_postgres::connect(target.url(), tokio_postgres::NoTls)
                .await
                .map_err(bad_connection)?;
            set_up_in_transaction(client, connection).await
        }
        Some(tls) => {
            let (client, connection) = tokio_postgres::connect(target.url(), tls.clone())
                .await
                .map_err(bad_connection)?;
            set_up_in_transaction(client, connection).await
        }
    }
}

async fn set_up_in_transaction<S>(
    client: tokio_postgres::Client,
    mut connection: tokio_postgres::Connection<tokio_postgres::Socket, S>,
) -> ConnectionResult<AsyncPgConnection>
where
    S: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
{
    let bad = bad_connection;
    {
        // The client's requests move only while the connection is polled.
        let begin = client.batch_execute("BEGIN");
        tokio::pin!(begin);
        tokio::select! {
            begun = &mut begin => begun.map_err(bad)?,
            ended = &mut connection => {
                ended.map_err(bad)?;
                return Err(ConnectionError::BadConnection("the connection closed".to_owned()));
            }
        }
    }
    let mut conn = AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
    conn.batch_execute("COMMIT")
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
    Ok(conn)
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

/// A connection for work that is not tenant data. Tenant tables are unreadable on it: no
/// tenant is set. Use [`unscoped`] unless the work opens a transaction around each of its
/// statements itself (see the module documentation).
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

/// Work for one transaction: an async closure over its connection whose future is
/// `Send`, as [`in_tenant`], [`unscoped`] and the writes built on them take it.
pub(crate) trait TxWork<R>:
    for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<R, DbError>
    + for<'c> AsyncWork<&'c mut AsyncPgConnection, Result<R, DbError>, Fut: Send>
    + Send
{
}

impl<R, F> TxWork<R> for F where
    F: for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<R, DbError>
        + for<'c> AsyncWork<&'c mut AsyncPgConnection, Result<R, DbError>, Fut: Send>
        + Send
{
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
    F: TxWork<R>,
    R: Send,
{
    let tenant = scope.tenant_id();
    unscoped(pool, async move |conn| {
        enter_tenant(conn, tenant).await?;
        work(conn).await
    })
    .await
}

/// Sets the transaction's tenant context (`app.tenant_id`, transaction-local).
pub(crate) async fn enter_tenant(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
) -> Result<(), DbError> {
    diesel::sql_query("SELECT set_config('app.tenant_id', $1, true)")
        .bind::<Text, _>(tenant.as_uuid().to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs `work` in one transaction on a connection with no tenant set: the global lookup
/// functions, the job queue's cross-tenant functions, the throttle counters. Tenant
/// tables are unreadable here. Commits when `work` succeeds, rolls back otherwise.
pub(crate) async fn unscoped<R, F>(pool: &Pool, work: F) -> Result<R, StoreError>
where
    F: TxWork<R>,
    R: Send,
{
    let mut conn = acquire(pool).await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    conn.transaction::<R, DbError, _>(async move |conn| work(conn).await)
        .await
        .map_err(StoreError::from)
}
