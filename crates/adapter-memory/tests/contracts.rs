//! The port contract suite on the memory adapter, once with the wall clock and once with
//! a clock that stands still.

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_port_contracts::{IdempotencyStores, Stores};
use aura_shared_kernel::{Clock, FixedClock, SystemClock};
use time::macros::datetime;

fn stores(clock: Arc<dyn Clock>) -> Stores {
    let store = MemoryStore::new(Arc::new(Sha256ChainHasher), clock.clone());
    Stores::from_single(store, clock)
}

/// The idempotency store's contracts (`idempotency_contract_tests!`).
fn idempotency_stores(clock: Arc<dyn Clock>) -> IdempotencyStores {
    let store = MemoryStore::new(Arc::new(Sha256ChainHasher), clock.clone());
    IdempotencyStores::from_single(store, clock)
}

mod system_clock {
    aura_port_contracts::contract_tests!(async {
        super::stores(std::sync::Arc::new(super::SystemClock))
    });
    aura_port_contracts::idempotency_contract_tests!(async {
        super::idempotency_stores(std::sync::Arc::new(super::SystemClock))
    });
}

mod fixed_clock {
    aura_port_contracts::contract_tests!(async {
        super::stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
    });
    aura_port_contracts::idempotency_contract_tests!(async {
        super::idempotency_stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
    });
}
