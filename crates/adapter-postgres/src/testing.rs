//! A fresh, migrated database per test (feature `test-support`).
//!
//! The server: `TEST_DATABASE_URL` (a superuser URL) when set; otherwise the local
//! `postgres://postgres@127.0.0.1:5432/postgres` if it answers; otherwise a PostgreSQL
//! container through testcontainers (needs Docker).

use std::{sync::Arc, time::Duration};

use aura_adapter_crypto::{AesGcmPersonalDataSeal, Pepper};
use aura_audit::ChainHasher;
use aura_shared_kernel::{Clock, PersonalDataSeal, StoreError, TenantScope};
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use testcontainers::{ContainerAsync, ImageExt, runners::AsyncRunner};
use testcontainers_modules::postgres::Postgres;
use url::Url;
use uuid::Uuid;

use crate::{
    PgStores, PoolSettings,
    pool::{acquire, in_tenant},
    setup::{SetupError, run_migrations},
};

/// The roles tests connect as (created on the test server if missing).
pub const TEST_OWNER_ROLE: &str = "aura_owner";
pub const TEST_APP_ROLE: &str = "aura_app";
/// Passwords set only when the roles are created here (test servers only).
const TEST_OWNER_PASSWORD: &str = "aura_owner";
const TEST_APP_PASSWORD: &str = "aura_app";
const LOCAL_SUPERUSER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Serialises role creation across parallel test processes.
const ROLE_LOCK_KEY: i64 = 0x4155_5241_5445_5354; // "AURATEST"

/// A database of its own for one test, migrated as the owner role. Dropped (with its
/// connections) when the value is dropped; set `AURA_KEEP_TEST_DB=1` to keep it.
pub struct TestDatabase {
    name: String,
    superuser_url: String,
    owner_url: String,
    app_url: String,
    // Kept alive for as long as the database is used; dropped last.
    _container: Option<ContainerAsync<Postgres>>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why a test database could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestDatabaseError {
    #[error("TEST_DATABASE_URL is not a valid URL")]
    InvalidUrl,
    #[error(
        "no PostgreSQL for tests: set TEST_DATABASE_URL, run one on 127.0.0.1:5432, or start Docker"
    )]
    NoServer(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("test database set-up failed: {0}")]
    Setup(
        &'static str,
        #[source] Box<dyn std::error::Error + Send + Sync>,
    ),
    #[error(transparent)]
    Migrations(#[from] SetupError),
}

impl TestDatabase {
    /// A fresh database; panics when none can be had (a test cannot go on without it).
    pub async fn create() -> Self {
        match Self::try_create().await {
            Ok(db) => db,
            Err(error) => panic!("cannot create a test database: {error} ({error:?})"),
        }
    }

    pub async fn try_create() -> Result<Self, TestDatabaseError> {
        let (superuser_url, container) = base_server().await?;
        let mut admin = AsyncPgConnection::establish(&superuser_url)
            .await
            .map_err(|e| TestDatabaseError::Setup("connect as superuser", Box::new(e)))?;
        ensure_test_roles(&mut admin).await?;
        let name = format!("aura_test_{}", Uuid::new_v4().simple());
        // template0 accepts no connections, so parallel creations never collide on it.
        admin
            .batch_execute(&format!(
                "CREATE DATABASE \"{name}\" OWNER \"{TEST_OWNER_ROLE}\" TEMPLATE template0 ENCODING 'UTF8'"
            ))
            .await
            .map_err(|e| TestDatabaseError::Setup("create database", Box::new(e)))?;
        let db = Self {
            owner_url: with_login(&superuser_url, TEST_OWNER_ROLE, TEST_OWNER_PASSWORD, &name)?,
            app_url: with_login(&superuser_url, TEST_APP_ROLE, TEST_APP_PASSWORD, &name)?,
            superuser_url: with_database(&superuser_url, &name)?,
            name,
            _container: container,
        };
        run_migrations(&db.owner_url).await?;
        Ok(db)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The owner role (runs migrations, owns the tables) on this database.
    pub fn owner_url(&self) -> &str {
        &self.owner_url
    }

    /// The app role (`aura_app`: not owner, not superuser, not BYPASSRLS).
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// A superuser on this database (bypasses row-level security: for set-up only).
    pub fn superuser_url(&self) -> &str {
        &self.superuser_url
    }

    /// Stores connected as the app role, with a small pool.
    /// Runs `sql` as the superuser (row-level security does not apply: everything
    /// stored is seen) and returns its `text` column, one value per row. For tests that
    /// check what is really in the database.
    pub async fn superuser_texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            text: String,
        }
        let mut conn = AsyncPgConnection::establish(&self.superuser_url)
            .await
            .expect("connect as the superuser");
        diesel::sql_query(sql)
            .load::<Row>(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|row| row.text)
            .collect()
    }

    pub async fn stores(
        &self,
        hasher: Arc<dyn ChainHasher>,
        clock: Arc<dyn Clock>,
    ) -> Result<PgStores, StoreError> {
        let settings = PoolSettings {
            max_size: 4,
            acquire_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            transaction_pooling: false,
            ..PoolSettings::default()
        };
        PgStores::connect(&self.app_url, settings, hasher, clock, test_seal()).await
    }
}

/// The production seal under a fresh random pepper: test stores seal for real.
pub fn test_seal() -> Arc<dyn PersonalDataSeal> {
    let pepper = [Uuid::new_v4(), Uuid::new_v4()]
        .map(|u| u.into_bytes())
        .concat();
    match Pepper::from_bytes(pepper) {
        Ok(pepper) => Arc::new(AesGcmPersonalDataSeal::from_pepper(&pepper)),
        Err(_) => unreachable!("a pepper of the minimum length is accepted"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::env::var_os("AURA_KEEP_TEST_DB").is_some() {
            eprintln!("keeping test database {}", self.name);
            return;
        }
        // A thread of its own with its own runtime: works from inside or outside any
        // runtime, and `WITH (FORCE)` ends the connections pools still hold.
        let Ok(mut admin_url) = Url::parse(&self.superuser_url) else {
            return;
        };
        admin_url.set_path("/postgres");
        let admin_url = admin_url.to_string();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = AsyncPgConnection::establish(&admin_url).await {
                    let _ = conn
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Counts the rows of `table` that a pooled connection of `stores` sees with no tenant
/// set, plus the value of `app.tenant_id` on it (tests of the tenant context).
pub async fn unscoped_view(stores: &PgStores, table: &str) -> Result<(i64, String), StoreError> {
    #[derive(diesel::QueryableByName)]
    struct View {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows: i64,
        #[diesel(sql_type = Text)]
        setting: String,
    }
    if !table.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(StoreError::unexpected("not a table name"));
    }
    let mut conn = acquire(&stores.inner.pool).await?;
    let view: View = diesel::sql_query(format!(
        "SELECT (SELECT count(*) FROM {table}) AS rows, \
         coalesce(current_setting('app.tenant_id', true), '<unset>') AS setting"
    ))
    .get_result(&mut conn)
    .await
    .map_err(crate::error::map_diesel)?;
    Ok((view.rows, view.setting))
}

/// How long ago the transaction that tenant work in `scope` runs in began (the
/// statement's time less the transaction's): about zero in a transaction of its own, the
/// time since the principal read in a request unit's (tests of `with_request_unit`).
pub async fn transaction_age(
    stores: &PgStores,
    scope: &TenantScope,
) -> Result<Duration, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Age {
        #[diesel(sql_type = diesel::sql_types::Double)]
        seconds: f64,
    }
    let age: Age = in_tenant(&stores.inner.pool, scope, async |conn| {
        Ok(diesel::sql_query(
            "SELECT extract(epoch FROM statement_timestamp() - transaction_timestamp())::float8 AS seconds",
        )
        .get_result(conn)
        .await?)
    })
    .await?;
    Ok(Duration::from_secs_f64(age.seconds.max(0.0)))
}

/// How many prepared statements a pooled connection of `stores` holds (besides the one
/// asking): statements cached there by earlier work (tests of transaction pooling).
pub async fn cached_statements(stores: &PgStores) -> Result<i64, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        statements: i64,
    }
    let mut conn = acquire(&stores.inner.pool).await?;
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS statements FROM pg_prepared_statements \
         WHERE statement NOT LIKE '%pg_prepared_statements%'",
    )
    .get_result(&mut conn)
    .await
    .map_err(crate::error::map_diesel)?;
    Ok(count.statements)
}

async fn base_server() -> Result<(String, Option<ContainerAsync<Postgres>>), TestDatabaseError> {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        Url::parse(&url).map_err(|_| TestDatabaseError::InvalidUrl)?;
        return Ok((url, None));
    }
    let local = tokio::time::timeout(
        Duration::from_secs(3),
        AsyncPgConnection::establish(LOCAL_SUPERUSER_URL),
    )
    .await;
    if let Ok(Ok(_)) = local {
        return Ok((LOCAL_SUPERUSER_URL.to_owned(), None));
    }
    let container = Postgres::default()
        .with_tag("15-alpine")
        .start()
        .await
        .map_err(|e| TestDatabaseError::NoServer(Box::new(e)))?;
    let host = container
        .get_host()
        .await
        .map_err(|e| TestDatabaseError::NoServer(Box::new(e)))?;
    let port = container
        .get_host_port_ipv4(5432)
        .await
        .map_err(|e| TestDatabaseError::NoServer(Box::new(e)))?;
    let url = format!("postgres://postgres:postgres@{host}:{port}/postgres");
    Ok((url, Some(container)))
}

/// Creates the test roles if missing, under an advisory lock so parallel test processes
/// do not race (a lost race would fail with `duplicate_object`).
async fn ensure_test_roles(admin: &mut AsyncPgConnection) -> Result<(), TestDatabaseError> {
    let sql = format!(
        "BEGIN;
         SELECT pg_advisory_xact_lock({ROLE_LOCK_KEY});
         DO $$
         BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{TEST_OWNER_ROLE}') THEN
                 CREATE ROLE {TEST_OWNER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{TEST_OWNER_PASSWORD}';
             END IF;
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{TEST_APP_ROLE}') THEN
                 CREATE ROLE {TEST_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{TEST_APP_PASSWORD}';
             -- `aura db init` makes the grant template a NOLOGIN group when it finds none
             -- (a db-init test that ran first on a fresh server): the harness logs in as it.
             ELSIF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = '{TEST_APP_ROLE}') THEN
                 ALTER ROLE {TEST_APP_ROLE} LOGIN PASSWORD '{TEST_APP_PASSWORD}';
             END IF;
         END
         $$;
         COMMIT;"
    );
    admin
        .batch_execute(&sql)
        .await
        .map_err(|e| TestDatabaseError::Setup("create test roles", Box::new(e)))
}

fn with_database(base: &str, database: &str) -> Result<String, TestDatabaseError> {
    let mut url = Url::parse(base).map_err(|_| TestDatabaseError::InvalidUrl)?;
    url.set_path(&format!("/{database}"));
    Ok(url.to_string())
}

fn with_login(
    base: &str,
    user: &str,
    password: &str,
    database: &str,
) -> Result<String, TestDatabaseError> {
    let mut url =
        Url::parse(&with_database(base, database)?).map_err(|_| TestDatabaseError::InvalidUrl)?;
    url.set_username(user)
        .and_then(|()| url.set_password(Some(password)))
        .map_err(|()| TestDatabaseError::InvalidUrl)?;
    Ok(url.to_string())
}
