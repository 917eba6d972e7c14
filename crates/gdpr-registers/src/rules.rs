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
        let mut next = fields.parent_id;
        let mut depth = 0;
        while let Some(current) = next {
            if current == id {
                return Err(ValidationErrors::single(
                    "parent_id",
                    "would make the processor its own sub-processor",
                )
                .into());
            }
            depth += 1;
            if depth > 10 {
                return Err(ValidationErrors::single(
                    "parent_id",
                    "sub-processor chains are limited to 10 levels",
                )
                .into());
            }
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
