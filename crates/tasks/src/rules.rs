//! The task rules that need other records or the stored task, checked by the kernel's
//! use cases after validation: an edit moves the status only between open, in progress
//! and cancelled; the assignee and the linked record exist in the caller's tenant.

use std::sync::Arc;

use aura_gdpr_registers::Members;
use aura_records::{RecordRules, UseCaseError};
use aura_shared_kernel::{TenantScope, ValidationErrors};

use crate::{
    ports::LinkTargets,
    task::{TaskFields, TaskId, TaskStatus, Tasks},
};

pub(crate) struct TaskRules {
    pub members: Arc<dyn Members>,
    pub links: Arc<dyn LinkTargets>,
}

/// Completion and reopening have their own use cases; an edit neither reaches nor
/// leaves `done`, and a new task starts open.
fn check_status(before: TaskStatus, after: TaskStatus) -> Result<(), ValidationErrors> {
    let message = match (before, after) {
        _ if before == after => return Ok(()),
        (_, TaskStatus::Done) => "use POST /tasks/{id}/complete to complete a task",
        (TaskStatus::Done, _) => "use POST /tasks/{id}/reopen to reopen a completed task",
        _ => return Ok(()),
    };
    Err(ValidationErrors::single("status", message))
}

#[async_trait::async_trait]
impl RecordRules<Tasks> for TaskRules {
    /// A foreign assignee or link target is reported exactly like an unknown one.
    async fn check(
        &self,
        scope: &TenantScope,
        _: TaskId,
        before: Option<&TaskFields>,
        fields: &TaskFields,
    ) -> Result<(), UseCaseError> {
        check_status(before.map_or(TaskStatus::Open, |b| b.status), fields.status)?;
        if let Some(user) = fields.assigned_to
            && before.is_none_or(|b| b.assigned_to != Some(user))
            && !self.members.is_member(scope, user).await?
        {
            return Err(UseCaseError::UnknownReference {
                field: "assigned_to",
            });
        }
        if let Some(link) = &fields.link
            && before.is_none_or(|b| b.link.as_ref() != Some(link))
            && !self.links.exists(scope, link).await?
        {
            return Err(UseCaseError::UnknownReference { field: "link.id" });
        }
        Ok(())
    }
}
