//! The shared port contract suite (crate `port-contracts`) on PostgreSQL, as the app
//! role, once with the wall clock and once with a clock that stands still. Each
//! contract gets a fresh database, dropped when its stores are.

mod common;

use std::sync::Arc;

use aura_port_contracts::{IdempotencyStores, Stores};
use aura_shared_kernel::{Clock, FixedClock, SystemClock};
use time::macros::datetime;

async fn stores(clock: Arc<dyn Clock>) -> Stores {
    common::connected(clock, Stores::from_single).await
}

/// The idempotency store's contracts (`idempotency_contract_tests!`).
async fn idempotency_stores(clock: Arc<dyn Clock>) -> IdempotencyStores {
    common::connected(clock, IdempotencyStores::from_single).await
}

mod system_clock {
    aura_port_contracts::contract_tests!(async {
        super::stores(std::sync::Arc::new(super::SystemClock)).await
    });
    aura_port_contracts::idempotency_contract_tests!(async {
        super::idempotency_stores(std::sync::Arc::new(super::SystemClock)).await
    });
}

mod fixed_clock {
    aura_port_contracts::contract_tests!(async {
        super::stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
        .await
    });
    aura_port_contracts::idempotency_contract_tests!(async {
        super::idempotency_stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
        .await
    });
}
