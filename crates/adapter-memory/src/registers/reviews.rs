//! `ReviewDates` in memory: the three registers' review dates of the scope's tenant, as
//! the PostgreSQL query finds them.

use aura_gdpr_registers::{
    Activities, ActivityStatus, Policies, PolicyStatus, Processors,
    reviews::{DueReview, ReviewDates, ReviewKind},
};
use aura_shared_kernel::{StoreError, TenantScope};
use time::Date;
use uuid::Uuid;

use crate::MemoryStore;

#[async_trait::async_trait]
impl ReviewDates for MemoryStore {
    async fn due_reviews(
        &self,
        scope: &TenantScope,
        date: Date,
        after: Option<(Date, Uuid)>,
        limit: usize,
    ) -> Result<Vec<DueReview>, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        let tenant = scope.tenant_id();
        let processors = tables.records.rows::<Processors>(tenant).filter_map(|p| {
            Some(DueReview {
                kind: ReviewKind::Processor,
                id: p.id.as_uuid(),
                name: p.fields.name.clone(),
                review_on: p.fields.dpa_review_on?,
                owner: None,
            })
        });
        let policies = tables
            .records
            .rows::<Policies>(tenant)
            .filter(|p| p.fields.status != PolicyStatus::Retired)
            .filter_map(|p| {
                Some(DueReview {
                    kind: ReviewKind::Policy,
                    id: p.id.as_uuid(),
                    name: p.fields.title.clone(),
                    review_on: p.fields.next_review_date?,
                    owner: p.fields.owner_id,
                })
            });
        let activities = tables
            .records
            .rows::<Activities>(tenant)
            .filter(|a| a.fields.status != ActivityStatus::Retired)
            .filter_map(|a| {
                Some(DueReview {
                    kind: ReviewKind::Activity,
                    id: a.id.as_uuid(),
                    name: a.fields.name.clone(),
                    review_on: a.fields.review_date?,
                    owner: a.fields.owner_id,
                })
            });
        let mut due: Vec<DueReview> = processors
            .chain(policies)
            .chain(activities)
            .filter(|r| r.review_on <= date)
            .filter(|r| after.is_none_or(|cursor| r.cursor() > cursor))
            .collect();
        due.sort_by_key(DueReview::cursor);
        due.truncate(limit);
        Ok(due)
    }
}
