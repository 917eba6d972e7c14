//! The port contract suites (crate `port-contracts`) on the memory adapter: every suite
//! once with the wall clock and once with a clock that stands still, each contract on a
//! fresh store; and the rate limiter's, two clones sharing one map as two handles on one
//! store.

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::{MemoryRateLimiter, MemoryStore};
use aura_port_contracts::LimitStores;
use aura_shared_kernel::Clock;
use time::OffsetDateTime;

/// A fresh store reading `clock`.
async fn open(clock: Arc<dyn Clock>) -> (MemoryStore, Arc<dyn Clock>) {
    (
        MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone()),
        clock,
    )
}

aura_port_contracts::adapter_contract_tests!(open);

/// Two clones of one limiter.
async fn limit_stores(base: OffsetDateTime) -> LimitStores {
    let limiter = MemoryRateLimiter::new();
    LimitStores {
        first: Arc::new(limiter.clone()),
        second: Arc::new(limiter),
        base,
    }
}

aura_port_contracts::rate_limit_contract_tests!(limit_stores);
