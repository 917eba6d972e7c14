//! Review dates across the registers: a processor's `dpa_review_on`, a policy's
//! `next_review_date`, an activity's `review_date` and an approved DPIA's `review_date`
//! (Art. 35(11); a DPIA already under revision is left out: the revision is its review). The [`ReviewDates`] port finds the
//! records whose review is due on or before a date, so a daily job can turn each into a
//! task once. Retired policies and activities have no reviews due.

use aura_shared_kernel::{StoreError, TenantScope, UserId};
use time::Date;
use uuid::Uuid;

/// Which register a review date belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReviewKind {
    /// `Processor::fields.dpa_review_on`: the data processing agreement's review.
    Processor,
    /// `Policy::fields.next_review_date`.
    Policy,
    /// `ProcessingActivity::fields.review_date`.
    Activity,
    /// An approved DPIA's `review_date` (the `aura-dpias` register).
    Dpia,
    /// A document's `retention_until` while it keeps content (the `aura-documents`
    /// register): past it, someone decides to keep it or remove its content; nothing is
    /// ever deleted on its own.
    Document,
}

impl ReviewKind {
    pub const ALL: &'static [ReviewKind] = &[
        ReviewKind::Processor,
        ReviewKind::Policy,
        ReviewKind::Activity,
        ReviewKind::Dpia,
        ReviewKind::Document,
    ];

    /// A stable name (in keys and logs).
    pub const fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Processor => "processor",
            ReviewKind::Policy => "policy",
            ReviewKind::Activity => "processing_activity",
            ReviewKind::Dpia => "dpia",
            ReviewKind::Document => "document",
        }
    }
}

/// A record whose review is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReview {
    pub kind: ReviewKind,
    pub id: Uuid,
    /// The record's name (processor, activity) or title (policy).
    pub name: String,
    pub review_on: Date,
    /// The record's owner; processors have none.
    pub owner: Option<UserId>,
}

impl DueReview {
    /// Where the next page starts after this review.
    pub fn cursor(&self) -> (Date, Uuid) {
        (self.review_on, self.id)
    }
}

#[async_trait::async_trait]
pub trait ReviewDates: Send + Sync {
    /// The scope's tenant's records whose review date is on or before `date`, ordered
    /// by (review date, id), after `after` when given, at most `limit` of them. Retired
    /// policies and activities are left out.
    async fn due_reviews(
        &self,
        scope: &TenantScope,
        date: Date,
        after: Option<(Date, Uuid)>,
        limit: usize,
    ) -> Result<Vec<DueReview>, StoreError>;
}
