//! Review dates fire, on PostgreSQL as the app role: the `ReviewDates` port contracts and
//! the rule that makes each due review a task once, including two passes and two workers
//! at once (crate `port-contracts`, `review_contract_tests!`), with the wall clock and
//! with a fixed clock. Each contract gets a fresh database.

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_postgres::TestDatabase;
use aura_port_contracts::tasks::reviews::ReviewStores;
use aura_tenancy::{Clock, FixedClock, SystemClock};
use time::{OffsetDateTime, macros::datetime};

/// The stores' clock, which also keeps the test database alive.
struct ClockHoldingDatabase {
    clock: Arc<dyn Clock>,
    _db: TestDatabase,
}

impl Clock for ClockHoldingDatabase {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

async fn stores(clock: Arc<dyn Clock>) -> ReviewStores {
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
    ReviewStores::from_single(pg, clock)
}

mod system_clock {
    aura_port_contracts::review_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::SystemClock)).await
    });
}

mod fixed_clock {
    aura_port_contracts::review_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
        .await
    });
}
