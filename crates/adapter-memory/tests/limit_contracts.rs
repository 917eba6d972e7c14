//! The rate limiter's contracts (`rate_limit_contract_tests!`) on the memory adapter:
//! two clones share one map, as two handles on one store.

use std::sync::Arc;

use aura_adapter_memory::MemoryRateLimiter;
use aura_port_contracts::LimitStores;
use time::OffsetDateTime;

async fn stores(base: OffsetDateTime) -> LimitStores {
    let limiter = MemoryRateLimiter::new();
    LimitStores {
        first: Arc::new(limiter.clone()),
        second: Arc::new(limiter),
        base,
    }
}

aura_port_contracts::rate_limit_contract_tests!(stores);
