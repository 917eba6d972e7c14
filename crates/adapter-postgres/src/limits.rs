//! [`RateLimiter`] on PostgreSQL: the GCRA step as one atomic upsert on the UNLOGGED
//! table `rate_limits`. Not tenant data: rows are keyed by a pepper-keyed HMAC of the key
//! ([`aura_shared_kernel::KeyedHash`]), so no client address is stored in clear or can be
//! found by hashing candidates. Every instance on the database shares the counts.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use aura_rate_limit::{
    Quota, RateLimitDecision, RateLimitError, RateLimitKey, RateLimiter, micros,
};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Bool, Bytea},
};
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;

use crate::{pool::unscoped, stores::PgStores};

/// One round trip: insert a fresh key, or move its TAT forward when the quota allows
/// (`$2` now, `$3` the interval, `$4` the tolerance, all µs). The row is locked for the
/// statement, so concurrent checks on one key are serialised and never over-allow. A
/// refusal keeps the TAT and records `allowed = false`, which is what is returned.
const CHECK: &str = "\
INSERT INTO rate_limits AS r (key_hash, tat_us, allowed) VALUES ($1, $2 + $3, $3 <= $4)
ON CONFLICT (key_hash) DO UPDATE SET
    allowed = GREATEST(r.tat_us, $2) + $3 - $2 <= $4,
    tat_us = CASE WHEN GREATEST(r.tat_us, $2) + $3 - $2 <= $4
                  THEN GREATEST(r.tat_us, $2) + $3 ELSE r.tat_us END
RETURNING tat_us, allowed";

/// Expired rows (TAT passed: the same as no row), a bounded batch at a time. Rows a
/// check holds are skipped, and the outer condition is re-checked on the newest row
/// version, so a key counted meanwhile is never deleted.
const SWEEP: &str = "\
DELETE FROM rate_limits WHERE tat_us < $1 AND key_hash IN (
    SELECT key_hash FROM rate_limits WHERE tat_us < $1 LIMIT 10000 FOR UPDATE SKIP LOCKED)";

/// How often one instance sweeps expired rows (in the background, off the request path).
const SWEEP_EVERY_US: i64 = 60_000_000;

#[derive(QueryableByName)]
struct Checked {
    #[diesel(sql_type = BigInt)]
    tat_us: i64,
    #[diesel(sql_type = Bool)]
    allowed: bool,
}

/// The rate limiter on the stores' pool.
#[derive(Clone)]
pub struct PgRateLimiter {
    stores: PgStores,
    last_sweep_us: Arc<AtomicI64>,
}

impl PgRateLimiter {
    pub fn new(stores: PgStores) -> Self {
        Self {
            stores,
            last_sweep_us: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// Deletes expired rows (up to 10 000); returns how many.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<usize, RateLimitError> {
        let now_us = micros(now);
        unscoped(&self.stores.inner.pool, async move |conn| {
            Ok(diesel::sql_query(SWEEP)
                .bind::<BigInt, _>(now_us)
                .execute(conn)
                .await?)
        })
        .await
        .map_err(unavailable)
    }

    /// Starts a background sweep when this instance has not swept for a minute.
    fn sweep_now_and_then(&self, now_us: i64) {
        let last = AtomicI64::load(&self.last_sweep_us, Ordering::Relaxed);
        if now_us.saturating_sub(last) < SWEEP_EVERY_US
            || self
                .last_sweep_us
                .compare_exchange(last, now_us, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let limiter = self.clone();
        let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_us) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        tokio::spawn(async move {
            if let Err(error) = limiter.sweep(now).await {
                tracing::warn!(%error, "rate-limit sweep failed");
            }
        });
    }
}

fn unavailable(error: impl std::fmt::Display) -> RateLimitError {
    RateLimitError(error.to_string())
}

/// The row key: the pepper-keyed hash of the rate-limit key (a plain digest of a client
/// address could be found by hashing candidates).
pub(crate) fn key_hash(stores: &PgStores, key: &RateLimitKey) -> Vec<u8> {
    stores
        .inner
        .seal
        .keyed_hash(b"rate-limit", key.storage_key().as_bytes())
        .to_vec()
}

#[async_trait::async_trait]
impl RateLimiter for PgRateLimiter {
    async fn check(
        &self,
        key: &RateLimitKey,
        quota: Quota,
        now: OffsetDateTime,
    ) -> Result<RateLimitDecision, RateLimitError> {
        let now_us = micros(now);
        let hash = key_hash(&self.stores, key);
        // In a transaction like every statement, even this single one: behind a pooler in
        // transaction mode only a transaction keeps its statements (prepare, bind, execute)
        // on one server connection; an autocommit statement failed there (scale-out test).
        let checked: Checked = unscoped(&self.stores.inner.pool, async move |conn| {
            Ok(diesel::sql_query(CHECK)
                .bind::<Bytea, _>(hash)
                .bind::<BigInt, _>(now_us)
                .bind::<BigInt, _>(quota.interval_us())
                .bind::<BigInt, _>(quota.tolerance_us())
                .get_result(conn)
                .await?)
        })
        .await
        .map_err(unavailable)?;
        self.sweep_now_and_then(now_us);
        Ok(quota.decision(checked.allowed, checked.tat_us, now_us))
    }
}
