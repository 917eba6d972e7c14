//! What the assistant's tests on the memory store share.

use std::sync::Arc;

use aura_adapter_memory::MemoryStore;
use aura_ai_port::{AiPorts, AiProvider};
use aura_gdpr_registers::Members;
use aura_shared_kernel::{Clock, StoreError, TenantScope, UserId};

/// Everyone is a member: the tests name owners and assignees freely.
pub struct AllMembers;

#[async_trait::async_trait]
impl Members for AllMembers {
    async fn is_member(&self, _: &TenantScope, _: UserId) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// The assistant's ports on `store`, with `provider`.
pub fn ai_ports(
    store: &MemoryStore,
    clock: Arc<dyn Clock>,
    provider: Arc<dyn AiProvider>,
) -> AiPorts {
    AiPorts {
        provider,
        suggestions: Arc::new(store.clone()),
        usage: Arc::new(store.clone()),
        audit: Arc::new(store.clone()),
        clock,
    }
}
