//! The port contract suites (crate `port-contracts`) on PostgreSQL, as the app role:
//! every suite once with the wall clock and once with a clock that stands still, each
//! contract on a fresh database, dropped when its stores are; and the rate limiter's, two
//! limiters on two pools of one fresh database, as two API processes would have.

mod common;

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_postgres::{PgRateLimiter, PgStores, PoolSettings, TestDatabase};
use aura_port_contracts::LimitStores;
use aura_rate_limit::RateLimiter;
use aura_shared_kernel::SystemClock;
use common::open;
use time::OffsetDateTime;

aura_port_contracts::adapter_contract_tests!(open);

/// Two limiters on two pools of one fresh database (dropped when the last limiter is),
/// keyed by one pepper as two processes of one installation are.
async fn limit_stores(base: OffsetDateTime) -> LimitStores {
    let db = Arc::new(TestDatabase::create().await);
    let seal = aura_adapter_postgres::testing::test_seal();
    let limiter = async || {
        let clock = common::holding(&db, Arc::new(SystemClock));
        let settings = PoolSettings {
            max_size: 8,
            ..Default::default()
        };
        let stores = PgStores::connect(
            db.app_url(),
            settings,
            Arc::new(HmacChainHasher::with_test_key()),
            clock,
            seal.clone(),
        )
        .await
        .expect("stores");
        let limiter: Arc<dyn RateLimiter> = Arc::new(PgRateLimiter::new(stores));
        limiter
    };
    LimitStores {
        first: limiter().await,
        second: limiter().await,
        base,
    }
}

aura_port_contracts::rate_limit_contract_tests!(limit_stores);
