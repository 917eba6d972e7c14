//! The idempotency store's contracts (crate `port-contracts`, `idempotency_contract_tests!`)
//! on PostgreSQL, as the app role, once with the wall clock and once with a clock that
//! stands still. Each contract gets a fresh database, dropped when its stores are.

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_postgres::TestDatabase;
use aura_port_contracts::IdempotencyStores;
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

async fn stores(clock: Arc<dyn Clock>) -> IdempotencyStores {
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
    IdempotencyStores::from_single(pg, clock)
}

mod system_clock {
    aura_port_contracts::idempotency_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::SystemClock)).await
    });
}

mod fixed_clock {
    aura_port_contracts::idempotency_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
        .await
    });
}
