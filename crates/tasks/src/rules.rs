//! The task rule that needs the stored task, checked by the kernel's use cases after
//! validation: an edit moves the status only between open, in progress and cancelled.
//! (That the assignee and the linked record exist in the caller's tenant is checked by
//! the store inside the write's transaction, so a create reads nothing before it.)

use aura_records::{RecordRules, UseCaseError};
use aura_shared_kernel::{TenantScope, ValidationErrors};

use crate::task::{TaskFields, TaskId, TaskStatus, Tasks};

pub(crate) struct TaskRules;

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
    async fn check(
        &self,
        _: &TenantScope,
        _: TaskId,
        before: Option<&TaskFields>,
        fields: &TaskFields,
    ) -> Result<(), UseCaseError> {
        Ok(check_status(
            before.map_or(TaskStatus::Open, |b| b.status),
            fields.status,
        )?)
    }
}
