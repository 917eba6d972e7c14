//! The AI assistant's port contracts on the memory adapter, once with the wall clock and
//! once with a clock that stands still.

use std::sync::Arc;

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_port_contracts::AiStores;
use aura_shared_kernel::{Clock, FixedClock, SystemClock};
use time::macros::datetime;

fn stores(clock: Arc<dyn Clock>) -> AiStores {
    let store = MemoryStore::new(Arc::new(Sha256ChainHasher), clock.clone());
    AiStores::from_single(store, clock)
}

mod system_clock {
    aura_port_contracts::ai_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::SystemClock))
    });
}

mod fixed_clock {
    aura_port_contracts::ai_contract_tests!(async {
        super::stores(std::sync::Arc::new(super::FixedClock::at(
            super::datetime!(2026-03-01 09:30:00.123456 UTC),
        )))
    });
}
