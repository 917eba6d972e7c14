//! `ReviewDates` on PostgreSQL: one query over the registers' review-date columns
//! (`processors.dpa_review_on`, `policies.next_review_date`,
//! `processing_activities.review_date`, `dpias.review_date` of approved DPIAs no revision
//! started from, `documents.retention_until` of documents that keep content), inside the tenant under row-level security.

use aura_gdpr_registers::reviews::{DueReview, ReviewDates, ReviewKind};
use aura_shared_kernel::{StoreError, TenantScope, UserId};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Date as SqlDate, Nullable, Text, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use time::Date;
use uuid::Uuid;

use crate::{pool::in_tenant, stores::PgStores};

#[derive(Debug, QueryableByName)]
struct ReviewRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = SqlDate)]
    review_on: Date,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    owner: Option<Uuid>,
}

impl TryFrom<ReviewRow> for DueReview {
    type Error = StoreError;
    fn try_from(row: ReviewRow) -> Result<Self, StoreError> {
        let kind = ReviewKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == row.kind)
            .ok_or_else(|| StoreError::unexpected("stored review kind"))?;
        Ok(DueReview {
            kind,
            id: row.id,
            name: row.name,
            review_on: row.review_on,
            owner: row.owner.map(UserId::from_uuid),
        })
    }
}

/// The registers' due review dates, in (date, id) order after the cursor.
const DUE_REVIEWS: &str = "
    SELECT kind, id, name, review_on, owner FROM (
        SELECT 'processor' AS kind, p.id, p.name, p.dpa_review_on AS review_on,
               NULL::uuid AS owner
          FROM processors AS p
         WHERE p.tenant_id = $1 AND p.dpa_review_on <= $2
        UNION ALL
        SELECT 'policy', p.id, p.title, p.next_review_date, p.owner_id
          FROM policies AS p
         WHERE p.tenant_id = $1 AND p.next_review_date <= $2 AND p.status <> 'retired'
        UNION ALL
        SELECT 'processing_activity', a.id, a.name, a.review_date, a.owner_id
          FROM processing_activities AS a
         WHERE a.tenant_id = $1 AND a.review_date <= $2 AND a.status <> 'retired'
        UNION ALL
        SELECT 'dpia', d.id, d.title, d.review_date, d.owner_id
          FROM dpias AS d
         WHERE d.tenant_id = $1 AND d.review_date <= $2 AND d.status = 'approved'
           AND NOT EXISTS (SELECT 1 FROM dpias AS r
                            WHERE r.tenant_id = d.tenant_id AND r.revision_of = d.id)
        UNION ALL
        SELECT 'document', d.id, d.title, d.retention_until, d.owner_id
          FROM documents AS d
         WHERE d.tenant_id = $1 AND d.retention_until <= $2
           AND EXISTS (SELECT 1 FROM document_versions AS v
                        WHERE v.tenant_id = d.tenant_id AND v.document_id = d.id
                          AND v.removed_at IS NULL)
    ) AS due
     WHERE $3::date IS NULL OR (review_on, id) > ($3::date, $4::uuid)
     ORDER BY review_on, id
     LIMIT $5";

#[async_trait::async_trait]
impl ReviewDates for PgStores {
    async fn due_reviews(
        &self,
        scope: &TenantScope,
        date: Date,
        after: Option<(Date, Uuid)>,
        limit: usize,
    ) -> Result<Vec<DueReview>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<ReviewRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(diesel::sql_query(DUE_REVIEWS)
                .bind::<SqlUuid, _>(tenant)
                .bind::<SqlDate, _>(date)
                .bind::<Nullable<SqlDate>, _>(after.map(|(on, _)| on))
                .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
                .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
                .load(conn)
                .await?)
        })
        .await?;
        rows.into_iter().map(DueReview::try_from).collect()
    }
}
