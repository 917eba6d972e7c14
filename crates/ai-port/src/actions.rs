//! The audit actions the assistant emits: the one list of them.

use aura_audit::AuditAction;

pub const REQUEST_FAILED: AuditAction = AuditAction::known("ai.request_failed");
pub const SUGGESTION_CREATED: AuditAction = AuditAction::known("ai.suggestion.created");
pub const SUGGESTION_REJECTED: AuditAction = AuditAction::known("ai.suggestion.rejected");
pub const SUGGESTION_ACKNOWLEDGED: AuditAction = AuditAction::known("ai.suggestion.acknowledged");
pub const SUGGESTION_ACCEPTED: AuditAction = AuditAction::known("ai.suggestion.accepted");
pub const SUGGESTION_ACCEPT_FAILED: AuditAction = AuditAction::known("ai.suggestion.accept_failed");
