//! The audit actions the tasks domain emits: the one list of them.

use aura_audit::AuditAction;

pub const TASK_CREATED: AuditAction = AuditAction::known("task.created");
pub const TASK_UPDATED: AuditAction = AuditAction::known("task.updated");
pub const TASK_COMPLETED: AuditAction = AuditAction::known("task.completed");
pub const TASK_REOPENED: AuditAction = AuditAction::known("task.reopened");
pub const TASK_DELETED: AuditAction = AuditAction::known("task.deleted");
