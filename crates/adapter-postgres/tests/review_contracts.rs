//! Review dates fire, on PostgreSQL as the app role: the `ReviewDates` port contracts and
//! the rule that makes each due review a task once, including two passes and two workers
//! at once (crate `port-contracts`, `review_contract_tests!`), with the wall clock and
//! with a fixed clock. Each contract gets a fresh database.

mod common;

use std::sync::Arc;

use aura_port_contracts::tasks::reviews::ReviewStores;
use aura_shared_kernel::{Clock, FixedClock, SystemClock};
use time::macros::datetime;

async fn stores(clock: Arc<dyn Clock>) -> ReviewStores {
    common::connected(clock, ReviewStores::from_single).await
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
