//! The connection pool (private to the crate) and the one way to a connection for
//! tenant work: [`in_tenant`] ([`read_in_tenant`] for work that only reads); [`unscoped`]
//! for work with no tenant; a request's principal read through [`read_opening_unit`],
//! whose transaction the request's work continues.
//!
//! Every statement runs inside an explicit transaction. Besides atomicity, that is what
//! lets the API sit behind a transaction-mode pooler (PgBouncer `pool_mode =
//! transaction`), which lends a server connection for one transaction at a time: the
//! driver prepares each statement (Parse) and runs it (Bind, Execute) in separate round
//! trips, and only an open transaction keeps both on the same server connection.

use std::{future::Future, time::Duration};

use ::deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use aura_shared_kernel::{StoreError, TenantId, TenantScope};
use diesel::sql_types::Text;
use diesel::{
    ConnectionError, ConnectionResult,
    connection::{CacheSize, TransactionDepthChange},
};
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    TransactionManager,
    pooled_connection::{
        AsyncDieselConnectionManager, ManagerConfig, PoolError as ConnectError, PoolableConnection,
    },
};

use crate::{
    error::{DbError, map_pool},
    request_unit,
    tls::{Target, bad_connection},
};

pub(crate) type Pool = managed::Pool<Manager>;
pub(crate) type PoolError = managed::PoolError<ConnectError>;
pub(crate) type PooledConnection = Object<Manager>;

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
    /// A connection handed out again after at least this long is checked first (a
    /// `SELECT 1`): it may have died unseen (a half-open socket). A busier one is not: a
    /// connection the server closed is seen without a round trip, and one lost
    /// before its transaction's first statement is replaced once (see [`in_tenant`]).
    /// Zero checks every connection on every checkout.
    pub check_idle_after: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 10,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            transaction_pooling: false,
            check_idle_after: Duration::from_secs(30),
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

/// diesel-async's connection manager, with the check on checkout kept for connections
/// idle long enough to be suspect ([`PoolSettings::check_idle_after`]).
pub(crate) struct Manager {
    connections: AsyncDieselConnectionManager<AsyncPgConnection>,
    check_idle_after: Duration,
}

impl managed::Manager for Manager {
    type Type = AsyncPgConnection;
    type Error = ConnectError;

    async fn create(&self) -> Result<AsyncPgConnection, ConnectError> {
        managed::Manager::create(&self.connections).await
    }

    async fn recycle(
        &self,
        conn: &mut AsyncPgConnection,
        metrics: &Metrics,
    ) -> RecycleResult<ConnectError> {
        // Closed by the server (a restart, a terminated backend), or returned inside a
        // transaction by a cancelled request: known without a round trip.
        if std::thread::panicking() || conn.is_broken() {
            return Err(RecycleError::message("broken connection"));
        }
        // `last_used` is the time since the connection was last handed out: never
        // shorter than its idle time, so no connection idle past the bound goes unchecked.
        if metrics.last_used() >= self.check_idle_after {
            // The simple query protocol: no prepared statement outside a transaction
            // (see the module documentation).
            conn.batch_execute("SELECT 1")
                .await
                .map_err(ConnectError::QueryError)?;
        }
        Ok(())
    }
}

pub(crate) fn build_pool(database_url: &str, settings: &PoolSettings) -> Result<Pool, StoreError> {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
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
    let manager = Manager {
        connections: AsyncDieselConnectionManager::new_with_config(database_url, config),
        check_idle_after: settings.check_idle_after,
    };
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
///
/// A request holding its open unit (see [`crate::request_unit`]) ends it first: no request
/// holds one connection while it takes another. Checking only this pool would not do:
/// behind a transaction-mode pooler a free connection here may still wait there for a
/// server connection, which open units may hold all of.
pub(crate) async fn acquire(pool: &Pool) -> Result<PooledConnection, StoreError> {
    request_unit::end().await;
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
/// `BEGIN` and the setting travel in one round trip (one simple-protocol batch). A
/// pooled connection found dead by that batch is replaced once: nothing of the
/// transaction ran on it.
///
/// Inside a request whose principal read left its transaction open in the same tenant
/// ([`crate::request_unit`]), `work` continues that transaction instead of beginning one.
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
    if let Some(begun) = request_unit::take(scope.tenant_id()) {
        return run_and_end(begun, work).await;
    }
    transaction(pool, &begin_in_tenant(scope.tenant_id()), work).await
}

/// [`in_tenant`] for a request's principal read: the first such read of a request opens
/// its unit — the transaction stays open after `read` succeeds, for the request's work to
/// continue ([`crate::request_unit`]). `read` must only read: it is never committed
/// unless later work commits it. Outside a request, or after its first read, this is
/// [`in_tenant`].
///
/// The unit's `BEGIN` and tenant setting are pipelined with `read`'s first statement:
/// every authenticated request's first round trip carries all three. (`read` works on a
/// shared connection, which is what lets its statements follow the batch unanswered; it is
/// cloned to run once more when the pooled connection turns out dead, as in [`begun`].)
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` cannot declare its future `Send`; this one must"
)]
pub(crate) fn read_opening_unit<'a, R, F>(
    pool: &'a Pool,
    scope: &'a TenantScope,
    read: F,
) -> impl Future<Output = Result<R, StoreError>> + Send + 'a
where
    F: SharedRead<R> + Clone + 'a,
    R: Send,
{
    async move {
        let tenant = scope.tenant_id();
        if !request_unit::claim() {
            return in_tenant(pool, scope, async move |conn| read(conn).await).await;
        }
        let begin = begin_in_tenant(tenant);
        let (conn, value) = match begin_pipelined(pool, &begin, read.clone()).await? {
            Pipelined::Begun(conn, value) => (conn, value),
            Pipelined::Closed(_) => {
                tracing::debug!("a pooled connection was closed; beginning on another");
                match begin_pipelined(pool, &begin, read).await? {
                    Pipelined::Begun(conn, value) => (conn, value),
                    Pipelined::Closed(error) => return Err(DbError::from(error).into()),
                }
            }
        };
        keep_or_end(tenant, conn, value).await
    }
}

/// A read on a shared connection, whose statements can be pipelined after others (see
/// [`read_opening_unit`]).
pub(crate) trait SharedRead<R>:
    for<'c> AsyncFnOnce(&'c AsyncPgConnection) -> Result<R, DbError>
    + for<'c> AsyncWork<&'c AsyncPgConnection, Result<R, DbError>, Fut: Send>
    + Send
{
}

impl<R, F> SharedRead<R> for F where
    F: for<'c> AsyncFnOnce(&'c AsyncPgConnection) -> Result<R, DbError>
        + for<'c> AsyncWork<&'c AsyncPgConnection, Result<R, DbError>, Fut: Send>
        + Send
{
}

/// What [`begin_pipelined`] found.
#[expect(
    clippy::large_enum_variant,
    reason = "one per request, moved once: a box would allocate per request"
)]
enum Pipelined<R> {
    /// The transaction begun on the connection, and what `read` found in it.
    Begun(PooledConnection, Result<R, DbError>),
    /// The pooled connection was closed: nothing ran on it, another may be tried.
    Closed(diesel::result::Error),
}

/// A pooled connection with the transaction `begin` begun and `read` run in it, its
/// statements sent right after the batch.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` cannot declare its future `Send`; this one must"
)]
fn begin_pipelined<'a, R, F>(
    pool: &'a Pool,
    begin: &'a str,
    read: F,
) -> impl Future<Output = Result<Pipelined<R>, StoreError>> + Send + 'a
where
    F: SharedRead<R> + 'a,
    R: Send,
{
    async move {
        let mut conn = acquire(pool).await?;
        // Counted as begun before the batch is sent: a request cancelled before the end
        // leaves a connection the pool sees inside a transaction, and discards.
        AnsiTransactionManager::transaction_manager_status_mut(&mut *conn)
            .transaction_state()
            .and_then(|state| state.change_transaction_depth(TransactionDepthChange::IncreaseDepth))
            .map_err(DbError::from)?;
        let (begun, value) = {
            let shared: &AsyncPgConnection = &conn;
            let mut batch = shared;
            // `biased`: polled in the order written, so the batch is sent first (each
            // future sends on its first poll), the read's statements after it, all
            // before the first answer.
            tokio::join!(biased; batch.batch_execute(begin), read(shared))
        };
        match begun {
            Ok(()) => Ok(Pipelined::Begun(conn, value)),
            Err(error) => {
                // Never pooled again: its transaction state is not known.
                let closed = {
                    let status = AnsiTransactionManager::transaction_manager_status_mut(&mut *conn);
                    let _ = (status.transaction_state()).and_then(|state| {
                        state.change_transaction_depth(TransactionDepthChange::DecreaseDepth)
                    });
                    conn.is_broken()
                };
                drop(Object::take(conn));
                if closed {
                    Ok(Pipelined::Closed(error))
                } else {
                    Err(DbError::from(error).into())
                }
            }
        }
    }
}

/// [`in_tenant`] for work that only reads. Inside the request's open unit in the same
/// tenant ([`crate::request_unit`]) it continues the unit's transaction and leaves it
/// open: a read needs no `COMMIT`, so the answer does not wait for one (the unit ends
/// after the answer, or with the request's next work that writes). `read` must only
/// read. Elsewhere, [`in_tenant`].
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` cannot declare its future `Send`; this one must"
)]
pub(crate) fn read_in_tenant<'a, R, F>(
    pool: &'a Pool,
    scope: &'a TenantScope,
    read: F,
) -> impl Future<Output = Result<R, StoreError>> + Send + 'a
where
    F: TxWork<R> + 'a,
    R: Send,
{
    async move {
        match request_unit::take(scope.tenant_id()) {
            Some(conn) => read_and_keep(scope.tenant_id(), conn, read).await,
            None => in_tenant(pool, scope, read).await,
        }
    }
}

/// Runs `read` in the transaction begun on `conn` in `tenant`, then keeps the transaction
/// open as the request's unit; a failed read rolls it back.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` cannot declare its future `Send`; this one must"
)]
fn read_and_keep<R, F>(
    tenant: TenantId,
    mut conn: PooledConnection,
    read: F,
) -> impl Future<Output = Result<R, StoreError>> + Send
where
    F: TxWork<R>,
    R: Send,
{
    async move {
        let value = {
            let begun: &mut AsyncPgConnection = &mut conn;
            read(begun).await
        };
        keep_or_end(tenant, conn, value).await
    }
}

/// After a read in the transaction on `conn` (begun in `tenant`): keeps it open as the
/// request's unit when the read succeeded, rolls it back when it failed.
async fn keep_or_end<R: Send>(
    tenant: TenantId,
    conn: PooledConnection,
    value: Result<R, DbError>,
) -> Result<R, StoreError> {
    match value {
        Ok(value) => {
            request_unit::keep(tenant, conn);
            Ok(value)
        }
        Err(error) => end(conn, Err(error)).await,
    }
}

/// `BEGIN` and the tenant setting as one batch. The tenant is a UUID's hyphenated hex
/// (no quote can appear in it), so it is safe inside the literal.
fn begin_in_tenant(tenant: TenantId) -> String {
    format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{}', true)",
        tenant.as_uuid().hyphenated()
    )
}

/// Sets the transaction's tenant context (`app.tenant_id`, transaction-local): for work
/// that moves to another tenant inside its transaction.
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
    transaction(pool, "BEGIN", work).await
}

/// diesel-async's `AsyncConnection::transaction`, begun with `begin` on a pooled
/// connection (see [`begun`]).
async fn transaction<R, F>(pool: &Pool, begin: &str, work: F) -> Result<R, StoreError>
where
    F: TxWork<R>,
    R: Send,
{
    let conn = begun(pool, begin).await?;
    run_and_end(conn, work).await
}

/// Runs `work` in the begun transaction on `conn`, then commits, or rolls back when it
/// failed. (`Send` declared: proven here for the generic `work`, not left to callers.)
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` cannot declare its future `Send`; this one must"
)]
fn run_and_end<R, F>(
    mut conn: PooledConnection,
    work: F,
) -> impl Future<Output = Result<R, StoreError>> + Send
where
    F: TxWork<R>,
    R: Send,
{
    async move {
        let outcome = {
            let begun: &mut AsyncPgConnection = &mut conn;
            work(begun).await
        };
        end(conn, outcome).await
    }
}

/// Ends the transaction on `conn` as `outcome` says: commits a success, rolls a failure
/// back.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` cannot declare its future `Send`; this one must"
)]
fn end<R: Send>(
    mut conn: PooledConnection,
    outcome: Result<R, DbError>,
) -> impl Future<Output = Result<R, StoreError>> + Send {
    async move {
        let conn: &mut AsyncPgConnection = &mut conn;
        match outcome {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(conn)
                    .await
                    .map_err(DbError::from)?;
                Ok(value)
            }
            Err(error) => match AnsiTransactionManager::rollback_transaction(conn).await {
                // A broken transaction manager: the original error says more.
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error.into()),
                Err(rollback) => Err(DbError::from(rollback).into()),
            },
        }
    }
}

/// A pooled connection with a transaction begun by `begin`. A connection the batch
/// finds closed (it died after its last use, unseen by the checkout) leaves the pool
/// and the batch is tried once more on another: no statement of the transaction ran.
async fn begun(pool: &Pool, begin: &str) -> Result<PooledConnection, StoreError> {
    let mut conn = acquire(pool).await?;
    match AnsiTransactionManager::begin_transaction_sql(&mut *conn, begin).await {
        Ok(()) => return Ok(conn),
        Err(error) if !conn.is_broken() => return Err(DbError::from(error).into()),
        Err(_) => {
            tracing::debug!("a pooled connection was closed; beginning on another");
            drop(Object::take(conn));
        }
    }
    let mut conn = acquire(pool).await?;
    AnsiTransactionManager::begin_transaction_sql(&mut *conn, begin)
        .await
        .map_err(DbError::from)?;
    Ok(conn)
}
