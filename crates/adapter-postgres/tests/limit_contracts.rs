//! The rate limiter's contracts (`rate_limit_contract_tests!`) on PostgreSQL, as the app
//! role: two limiters on two pools of one fresh database, as two API processes would
//! have. The database is dropped when the last limiter is.

mod common;

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_postgres::{PgRateLimiter, PgStores, TestDatabase};
use aura_port_contracts::LimitStores;
use aura_rate_limit::{Quota, RateLimitKey, RateLimiter};
use aura_shared_kernel::SystemClock;
use time::{OffsetDateTime, macros::datetime};

/// Two limiters on two pools of one fresh database, as two API processes would have.
async fn stores(base: OffsetDateTime) -> LimitStores {
    let db = Arc::new(TestDatabase::create().await);
    let limiter = async || {
        let clock = common::holding(&db, Arc::new(SystemClock));
        let limiter: Arc<dyn RateLimiter> =
            Arc::new(PgRateLimiter::new(common::pool_on(&db, clock).await));
        limiter
    };
    LimitStores {
        first: limiter().await,
        second: limiter().await,
        base,
    }
}

aura_port_contracts::rate_limit_contract_tests!(stores);

/// Expired rows are swept (this check's background sweep or an explicit one); a row
/// still counting stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_removes_expired_keys_only() {
    use diesel::{QueryableByName, sql_types::BigInt};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    let db = Arc::new(TestDatabase::create().await);
    let stores = PgStores::connect(
        db.app_url(),
        Default::default(),
        Arc::new(Sha256ChainHasher),
        Arc::new(SystemClock),
    )
    .await
    .expect("stores");
    let limiter = PgRateLimiter::new(stores);
    let t0 = datetime!(2026-03-01 09:30:00 UTC);
    let quota = Quota::new(60, 2).expect("quota");
    let old = RateLimitKey::Tenant(aura_shared_kernel::TenantId::generate());
    let recent = RateLimitKey::Tenant(aura_shared_kernel::TenantId::generate());
    limiter.check(&old, quota, t0).await.expect("check");
    let later = t0 + time::Duration::minutes(10);
    limiter.check(&recent, quota, later).await.expect("check");
    limiter.sweep(later).await.expect("sweep");
    let mut conn = AsyncPgConnection::establish(db.superuser_url())
        .await
        .expect("connect");
    let mut rows = i64::MAX;
    for _ in 0..50 {
        let count: Count = diesel::sql_query("SELECT count(*) AS n FROM rate_limits")
            .get_result(&mut conn)
            .await
            .expect("count");
        rows = count.n;
        if rows == 1 {
            break;
        }
        // A background sweep may hold the old row for a moment (SKIP LOCKED).
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows, 1, "the expired key is gone, the recent one stays");
    // The recent key is still counted: its burst of 2 has one left.
    assert!(
        limiter
            .check(&recent, quota, later)
            .await
            .expect("check")
            .allowed
    );
    assert!(
        !limiter
            .check(&recent, quota, later)
            .await
            .expect("check")
            .allowed
    );
}
