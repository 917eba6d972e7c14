//! Review dates fire, on the memory adapter: the `ReviewDates` port contracts and the
//! rule that makes each due review a task once (crate `port-contracts`,
//! `review_contract_tests!`), with the wall clock and with a clock that stands still.

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_port_contracts::tasks::reviews::ReviewStores;
use aura_shared_kernel::{Clock, FixedClock, SystemClock};
use time::macros::datetime;

fn stores(clock: Arc<dyn Clock>) -> ReviewStores {
    let store = MemoryStore::new(Arc::new(Sha256ChainHasher), clock.clone());
    ReviewStores::from_single(store, clock)
}

mod system_clock {
    aura_port_contracts::review_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::SystemClock))
    });
}

mod fixed_clock {
    aura_port_contracts::review_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
    });
}
