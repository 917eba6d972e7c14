//! [`PgStores`]: every port of this adapter on one private pool.

use std::{sync::Arc, time::Duration};

use aura_audit::{AuditLog, ChainHasher};
use aura_documents::ports::ChunkBlobs;
use aura_identity::ports::{
    LoginThrottle, PasswordResetStore, SecondFactorStore, SessionStore, TenantRepository,
    UserRepository,
};
use aura_shared_kernel::{Clock, PersonalDataSeal, StoreError};
use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;

use crate::pool::{Pool, PoolSettings, PoolStatus, build_pool, status, unscoped};

/// The PostgreSQL stores. Cheap to clone (one shared pool). Implements
/// [`TenantRepository`], [`UserRepository`], [`SessionStore`], [`PasswordResetStore`],
/// [`LoginThrottle`] and [`AuditLog`]; the accessors hand them out as trait objects.
///
/// Connect it as the app role (not owner, not superuser, not BYPASSRLS): row-level
/// security is what confines each transaction to its tenant.
#[derive(Clone)]
pub struct PgStores {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) hasher: Arc<dyn ChainHasher>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Seals a data subject's identity before it reaches a table.
    pub(crate) seal: Arc<dyn PersonalDataSeal>,
    /// Where the documents' sealed chunk bytes go instead of `document_chunks.sealed`
    /// (an S3-compatible bucket), if anywhere.
    pub(crate) blobs: Option<Arc<dyn ChunkBlobs>>,
    /// Told how long each committed write held its tenant's audit-chain head lock.
    chain_lock_observer: Option<fn(Duration)>,
}

impl Inner {
    /// A committed write held its tenant's chain head lock this long (from the lock to
    /// the end of the commit).
    pub(crate) fn chain_lock_held(&self, held: Duration) {
        if let Some(observe) = self.chain_lock_observer {
            observe(held);
        }
    }
}

impl std::fmt::Debug for PgStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStores")
            .field("pool", &self.pool_status())
            .finish_non_exhaustive()
    }
}

impl PgStores {
    /// Builds the pool for `database_url` (the app role's URL). Connections open lazily:
    /// this succeeds while the database is down, and [`PgStores::ready`] tells when it
    /// answers. Fails only on settings the pool cannot take.
    pub async fn connect(
        database_url: &str,
        settings: PoolSettings,
        hasher: Arc<dyn ChainHasher>,
        clock: Arc<dyn Clock>,
        seal: Arc<dyn PersonalDataSeal>,
    ) -> Result<Self, StoreError> {
        let valid = url::Url::parse(database_url)
            .is_ok_and(|url| matches!(url.scheme(), "postgres" | "postgresql"));
        if !valid {
            return Err(StoreError::unexpected(
                "the database URL is not a postgres:// URL",
            ));
        }
        let pool = build_pool(database_url, &settings)?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                hasher,
                clock,
                seal,
                blobs: None,
                chain_lock_observer: None,
            }),
        })
    }

    /// The same stores with one setting of theirs changed.
    fn with(&self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner::clone(&self.inner);
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The same stores (one pool) keeping the documents' sealed chunk bytes in `blobs`;
    /// the chunk rows keep only their place, and rows that still hold bytes are read
    /// from the table.
    pub fn with_chunk_blobs(&self, blobs: Arc<dyn ChunkBlobs>) -> Self {
        self.with(|inner| inner.blobs = Some(blobs))
    }

    /// The same stores (one pool) telling `observe` how long each audited write held
    /// its tenant's audit-chain head lock, from taking it to the end of the commit (the
    /// time that tenant's other writes wait): the service's metrics.
    pub fn with_chain_lock_observer(&self, observe: fn(Duration)) -> Self {
        self.with(|inner| inner.chain_lock_observer = Some(observe))
    }

    pub fn tenants(&self) -> Arc<dyn TenantRepository> {
        Arc::new(self.clone())
    }

    pub fn users(&self) -> Arc<dyn UserRepository> {
        Arc::new(self.clone())
    }

    pub fn sessions(&self) -> Arc<dyn SessionStore> {
        Arc::new(self.clone())
    }

    pub fn resets(&self) -> Arc<dyn PasswordResetStore> {
        Arc::new(self.clone())
    }

    pub fn throttle(&self) -> Arc<dyn LoginThrottle> {
        Arc::new(self.clone())
    }

    pub fn second_factors(&self) -> Arc<dyn SecondFactorStore> {
        Arc::new(self.clone())
    }

    pub fn audit(&self) -> Arc<dyn AuditLog> {
        Arc::new(self.clone())
    }

    /// Whether the database answers (`SELECT 1`), for the readiness probe.
    pub async fn ready(&self) -> Result<(), StoreError> {
        unscoped(&self.inner.pool, async |conn| {
            diesel::select(diesel::dsl::sql::<Integer>("1"))
                .get_result::<i32>(conn)
                .await?;
            Ok(())
        })
        .await
    }

    /// Checks that the connected role cannot get around row-level security: not a
    /// superuser, not BYPASSRLS, owner of no table here, not a member of a table owner.
    /// Call it at start-up and refuse to serve when it fails (fail closed).
    pub async fn check_app_role(&self) -> Result<(), StoreError> {
        #[derive(diesel::QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            privileged: bool,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            owned: i64,
        }
        let check: Check = unscoped(&self.inner.pool, async |conn| {
            Ok(diesel::sql_query(
            "SELECT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
                        AS privileged,
                    (SELECT count(*) FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = 'public' AND c.relkind = 'r'
                        AND pg_has_role(current_user, c.relowner, 'MEMBER')) AS owned",
        )
        .get_result(conn)
        .await?)
        })
        .await?;
        if check.privileged || check.owned > 0 {
            return Err(StoreError::unexpected(
                "the app's database role can bypass row-level security \
                 (superuser, BYPASSRLS or table owner): connect as aura_app",
            ));
        }
        Ok(())
    }

    /// The pool's size, idle connections and waiting requests, for metrics.
    pub fn pool_status(&self) -> PoolStatus {
        status(&self.inner.pool)
    }

    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }
}
