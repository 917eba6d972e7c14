//! `ReviewDates` in memory: the registers' review dates of the scope's tenant (approved
//! DPIAs no revision started from among them), as the PostgreSQL query finds them.

use aura_dpias::{DpiaStatus, Dpias};
use aura_gdpr_registers::{
    Activities, ActivityStatus, Policies, PolicyStatus, Processors,
    reviews::{DueReview, ReviewDates, ReviewKind},
};
use aura_records::RecordKind;
use aura_shared_kernel::{StoreError, TenantId, TenantScope, UserId};
use time::Date;
use uuid::Uuid;

use crate::{MemoryStore, registers::Tables};

/// What a record's fields say of its review: the date and the owner, or none to review.
type Review<K> = fn(&<K as RecordKind>::Fields) -> Option<(Date, Option<UserId>)>;

/// The tenant's records of `K` with a review date, as reviews of `kind` named by the
/// record's label (name or title).
fn reviews<K: RecordKind>(
    tables: &Tables,
    tenant: TenantId,
    kind: ReviewKind,
    review: Review<K>,
) -> impl Iterator<Item = DueReview> + '_ {
    tables.records.rows::<K>(tenant).filter_map(move |record| {
        let (review_on, owner) = review(&record.fields)?;
        Some(DueReview {
            kind,
            id: record.id.as_uuid(),
            name: K::label(&record.fields).to_owned(),
            review_on,
            owner,
        })
    })
}

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
        let processors = reviews::<Processors>(tables, tenant, ReviewKind::Processor, |f| {
            Some((f.dpa_review_on?, None))
        });
        let policies = reviews::<Policies>(tables, tenant, ReviewKind::Policy, |f| {
            let live = f.status != PolicyStatus::Retired;
            live.then_some((f.next_review_date?, f.owner_id))
        });
        let activities = reviews::<Activities>(tables, tenant, ReviewKind::Activity, |f| {
            let live = f.status != ActivityStatus::Retired;
            live.then_some((f.review_date?, f.owner_id))
        });
        let dpias = tables.records.rows::<Dpias>(tenant);
        let revised: Vec<_> = dpias.filter_map(|d| d.fields.revision_of).collect();
        let dpias = (tables.records.rows::<Dpias>(tenant))
            .filter(|d| d.derived.status == DpiaStatus::Approved && !revised.contains(&d.id))
            .filter_map(|d| {
                Some(DueReview {
                    kind: ReviewKind::Dpia,
                    id: d.id.as_uuid(),
                    name: d.fields.title.clone(),
                    review_on: d.fields.review_date?,
                    owner: d.fields.owner_id,
                })
            });
        let documents =
            reviews::<aura_documents::Documents>(tables, tenant, ReviewKind::Document, |f| {
                Some((f.retention_until?, f.owner_id))
            })
            .filter(|r| state.documents.keeps_content(tenant, r.id));
        let mut due: Vec<DueReview> = processors
            .chain(policies)
            .chain(activities)
            .chain(dpias)
            .chain(documents)
            .filter(|r| r.review_on <= date)
            .filter(|r| after.is_none_or(|cursor| r.cursor() > cursor))
            .collect();
        due.sort_by_key(DueReview::cursor);
        due.truncate(limit);
        Ok(due)
    }
}
