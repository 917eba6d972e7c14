//! The request store's retention read ([`RequestRepository`]). Its writes with their
//! reminder plan are the kernel's planned writes ([`aura_jobs::PlannedWrites`],
//! `crate::planned`): the request's statements and, in the same transaction, its queued
//! reminders cancelled and its plan inserted (`ON CONFLICT DO NOTHING`: a reminder
//! already sent keeps its key and is not sent again).

use aura_records::Id;
use aura_requests::{request::RequestId, store::RequestRepository};
use aura_shared_kernel::{StoreError, TenantScope};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;

use crate::{pool::in_tenant, schema::data_subject_requests as requests, stores::PgStores};

#[async_trait::async_trait]
impl RequestRepository for PgStores {
    async fn due_for_pseudonymisation(
        &self,
        scope: &TenantScope,
        closed_before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<RequestId>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let ids: Vec<uuid::Uuid> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(requests::table
                .filter(requests::tenant_id.eq(tenant))
                .filter(requests::closed_at.lt(closed_before))
                .filter(requests::pseudonymised.eq(false))
                .order((requests::closed_at.asc(), requests::id.asc()))
                .select(requests::id)
                .limit(limit)
                .load(conn)
                .await?)
        })
        .await?;
        Ok(ids.into_iter().map(Id::from_uuid).collect())
    }
}
