//! The screening's audit actions.

use aura_audit::AuditAction;

/// The extra answers of an activity's screening were saved.
pub const ANSWERS_UPDATED: AuditAction = AuditAction::known("dpia_screening.answers_updated");
/// A user accepted the screening's suggestion: the activity's `dpia_required` and
/// `dpia_reason` changed (the activity's event, entity `processing_activity`).
pub const SUGGESTION_ACCEPTED: AuditAction =
    AuditAction::known("processing_activity.dpia_screening_accepted");

/// The entity of the answers' events (its id is the activity's).
pub const ENTITY: &str = "dpia_screening";
