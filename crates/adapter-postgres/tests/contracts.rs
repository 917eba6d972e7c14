//! The port contract suites (crate `port-contracts`) on PostgreSQL, as the app role:
//! every suite once with the wall clock and once with a clock that stands still, each
//! contract on a fresh database, dropped when its stores are; and the rate limiter's, two
//! limiters on two pools of one fresh database, as two API processes would have.

mod common;

use std::sync::Arc;

use aura_adapter_postgres::{PgRateLimiter, TestDatabase};
use aura_port_contracts::LimitStores;
use aura_rate_limit::RateLimiter;
use aura_shared_kernel::SystemClock;
use common::open;
use time::OffsetDateTime;

aura_port_contracts::adapter_contract_tests!(open);

/// Two limiters on two pools of one fresh database (dropped when the last limiter is).
async fn limit_stores(base: OffsetDateTime) -> LimitStores {
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

aura_port_contracts::rate_limit_contract_tests!(limit_stores);
