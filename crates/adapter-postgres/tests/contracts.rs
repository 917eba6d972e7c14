//! The shared port contract suite (crate `port-contracts`) on PostgreSQL, as the app
//! role, once with the wall clock and once with a clock that stands still. Each
//! contract gets a fresh database, dropped when its stores are.

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_postgres::TestDatabase;
use aura_port_contracts::{IdempotencyStores, Stores};
use aura_tenancy::{Clock, FixedClock, SystemClock};
use time::{OffsetDateTime, macros::datetime};

/// The stores' clock, which also keeps the test database alive for as long as any
/// store (or the contract) holds it.
struct ClockHoldingDatabase {
    clock: Arc<dyn Clock>,
    _db: TestDatabase,
}

impl Clock for ClockHoldingDatabase {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// The stores on a fresh database, as `build` assembles them.
async fn connected<S>(
    clock: Arc<dyn Clock>,
    build: impl FnOnce(aura_adapter_postgres::PgStores, Arc<dyn Clock>) -> S,
) -> S {
    let db = TestDatabase::create().await;
    let url = db.app_url().to_owned();
    let clock: Arc<dyn Clock> = Arc::new(ClockHoldingDatabase { clock, _db: db });
    let settings = aura_adapter_postgres::PoolSettings {
        max_size: 8,
        ..Default::default()
    };
    let pg = aura_adapter_postgres::PgStores::connect(
        &url,
        settings,
        Arc::new(Sha256ChainHasher),
        clock.clone(),
    )
    .await
    .expect("stores");
    build(pg, clock)
}

async fn stores(clock: Arc<dyn Clock>) -> Stores {
    connected(clock, Stores::from_single).await
}

/// The idempotency store's contracts (`idempotency_contract_tests!`).
async fn idempotency_stores(clock: Arc<dyn Clock>) -> IdempotencyStores {
    connected(clock, IdempotencyStores::from_single).await
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
