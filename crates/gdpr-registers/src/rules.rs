//! The registers' rules that need other records, checked by the kernel's use cases after
//! validation: a sub-processor chain neither loops nor grows without end. (That an
//! activity's or a policy's owner and an activity's links, or a processor's parent, exist
//! is checked by the store in the write's transaction: the kinds declare them as
//! references.)

use std::sync::Arc;

use aura_records::{RecordRules, RecordStore, UseCaseError};
use aura_shared_kernel::{StoreError, TenantScope, UserId, ValidationErrors};

use crate::processor::{ProcessorFields, ProcessorId, Processors};

/// Whether a user belongs to the scope's tenant (owners of records must).
#[async_trait::async_trait]
pub trait Members: Send + Sync {
    async fn is_member(&self, scope: &TenantScope, user: UserId) -> Result<bool, StoreError>;
}

pub(crate) struct ProcessorRules {
    pub processors: Arc<dyn RecordStore<Processors>>,
}

#[async_trait::async_trait]
impl RecordRules<Processors> for ProcessorRules {
    /// A parent must not be the processor or one of its own sub-processors, and chains
    /// stay short. Read only when the parent changes (its existence is a reference).
    async fn check(
        &self,
        scope: &TenantScope,
        id: ProcessorId,
        before: Option<&ProcessorFields>,
        fields: &ProcessorFields,
    ) -> Result<(), UseCaseError> {
        if before.is_some_and(|b| b.parent_id == fields.parent_id) {
            return Ok(());
        }
        let mut chain = ParentChain::new(id);
        let mut next = fields.parent_id;
        while let Some(current) = next {
            chain.visit(current)?;
            next = match self.processors.get(scope, current).await {
                Ok(p) => p.fields.parent_id,
                Err(StoreError::NotFound) => {
                    return Err(ValidationErrors::single(
                        "parent_id",
                        "is not a processor of this organisation",
                    )
                    .into());
                }
                Err(other) => return Err(other.into()),
            };
        }
        Ok(())
    }
}

/// The walk up a processor's new chain of parents, one ancestor at a time: refused when it
/// comes back to the processor (a loop) or grows past ten levels. The use case walks it
/// before the write; the PostgreSQL store walks it again inside the write's transaction
/// with the ancestors locked, so two concurrent changes cannot close a loop together.
#[derive(Debug, Clone, Copy)]
pub struct ParentChain {
    id: ProcessorId,
    depth: usize,
}

/// The longest sub-processor chain.
const MAX_CHAIN_DEPTH: usize = 10;

impl ParentChain {
    /// The walk for processor `id`.
    pub fn new(id: ProcessorId) -> Self {
        Self { id, depth: 0 }
    }

    /// Visits the next ancestor (first the new parent): an error naming `parent_id` when
    /// it is the processor itself or the chain became too long.
    pub fn visit(&mut self, ancestor: ProcessorId) -> Result<(), ValidationErrors> {
        if ancestor == self.id {
            return Err(ValidationErrors::single(
                "parent_id",
                "would make the processor its own sub-processor",
            ));
        }
        self.depth += 1;
        if self.depth > MAX_CHAIN_DEPTH {
            return Err(ValidationErrors::single(
                "parent_id",
                "sub-processor chains are limited to 10 levels",
            ));
        }
        Ok(())
    }
}
