//! The pack's audit actions.

use aura_audit::AuditAction;

/// Entity type of the pack's events.
pub const ENTITY: &str = "accountability_pack";

pub const REQUESTED: AuditAction = AuditAction::known("accountability_pack.requested");
pub const BUILT: AuditAction = AuditAction::known("accountability_pack.built");
pub const FAILED: AuditAction = AuditAction::known("accountability_pack.failed");
pub const EXPIRED: AuditAction = AuditAction::known("accountability_pack.expired");
