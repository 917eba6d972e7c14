//! Where the answers live: one versioned set per activity of the tenant, written with its
//! audit event in one transaction, removed with the activity.

use aura_audit::PendingEvent;
use aura_gdpr_registers::ActivityId;
use aura_shared_kernel::{StoreError, TenantScope, UserId};

use crate::answers::{ScreeningAnswers, StoredAnswers};

#[async_trait::async_trait]
pub trait ScreeningAnswersStore: Send + Sync {
    /// The answers for `activity`, or `None` before they were first saved (also for an
    /// activity of another tenant: the use cases read the activity first).
    async fn get(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
    ) -> Result<Option<StoredAnswers>, StoreError>;

    /// Creates (`expected_version` = 0) or replaces the answers of an activity of the
    /// tenant: `Conflict::Version` when the row is at another version (or exists on a
    /// first save), `NotFound` when an update finds no row or the activity is not the
    /// tenant's. Answers the stored set.
    async fn put(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
        answers: &ScreeningAnswers,
        updated_by: Option<UserId>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<StoredAnswers, StoreError>;
}
