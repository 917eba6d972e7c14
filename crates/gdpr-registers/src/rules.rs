//! The registers' rules that need other records, checked by the kernel's use cases after
//! validation: owners are members of the tenant, links name the tenant's processors, a
//! sub-processor chain neither loops nor grows without end.

use std::sync::Arc;

use aura_records::{RecordRules, RecordStore, UseCaseError};
use aura_tenancy::{StoreError, TenantScope, UserId, ValidationErrors};

use crate::{
    activity::{Activities, ActivityFields, ActivityId},
    processor::{ProcessorFields, ProcessorId, Processors},
};

/// Whether a user belongs to the scope's tenant (owners of records must).
#[async_trait::async_trait]
pub trait Members: Send + Sync {
    async fn is_member(&self, scope: &TenantScope, user: UserId) -> Result<bool, StoreError>;
}

/// An owner must be a user of the tenant.
pub(crate) async fn check_owner(
    members: &dyn Members,
    scope: &TenantScope,
    owner: Option<UserId>,
) -> Result<(), UseCaseError> {
    if let Some(owner) = owner
        && !members.is_member(scope, owner).await?
    {
        return Err(
            ValidationErrors::single("owner_id", "is not a user of this organisation").into(),
        );
    }
    Ok(())
}

pub(crate) struct ActivityRules {
    pub members: Arc<dyn Members>,
    pub processors: Arc<dyn RecordStore<Processors>>,
}

#[async_trait::async_trait]
impl RecordRules<Activities> for ActivityRules {
    async fn check(
        &self,
        scope: &TenantScope,
        _: ActivityId,
        before: Option<&ActivityFields>,
        fields: &ActivityFields,
    ) -> Result<(), UseCaseError> {
        if before.is_none_or(|b| b.owner_id != fields.owner_id) {
            check_owner(self.members.as_ref(), scope, fields.owner_id).await?;
        }
        let mut errors = ValidationErrors::default();
        for (i, id) in fields.processor_ids.iter().enumerate() {
            match self.processors.get(scope, *id).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.push(
                    format!("processor_ids[{i}]"),
                    "is not a processor of this organisation",
                ),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(errors.into_result()?)
    }
}

pub(crate) struct ProcessorRules {
    pub processors: Arc<dyn RecordStore<Processors>>,
}

#[async_trait::async_trait]
impl RecordRules<Processors> for ProcessorRules {
    /// A parent must exist in the tenant and must not be the processor or one of its
    /// own sub-processors.
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
