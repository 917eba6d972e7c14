//! The request store's writes with their reminder plan ([`RequestRepository`]): the
//! kernel's statements for the request ([`insert_record`], [`update_record`],
//! [`delete_record`]) and, in the same transaction, the request's queued reminders
//! cancelled and its plan inserted, as a task's (`ON CONFLICT DO NOTHING`: a reminder
//! already sent keeps its key and is not sent again).

use aura_audit::PendingEvent;
use aura_records::Id;
use aura_requests::{
    reminders::{PLANNED_KINDS, RequestPlan},
    request::{DataSubjectRequest, RequestId},
    store::RequestRepository,
};
use aura_shared_kernel::{StoreError, TenantScope};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;

use crate::{
    jobs::{cancel_queued, insert_jobs},
    pool::in_tenant,
    registers::records::{delete_record, insert_record, update_record},
    rows::{in_scope, new_in_scope},
    schema::data_subject_requests as requests,
    stores::PgStores,
};

/// The plan must be the written request's own.
fn plan_of(request: &DataSubjectRequest, plan: &RequestPlan) -> Result<(), StoreError> {
    if plan.request == request.id {
        Ok(())
    } else {
        Err(StoreError::unexpected("a reminder plan of another request"))
    }
}

#[async_trait::async_trait]
impl RequestRepository for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        plan: &RequestPlan,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError> {
        new_in_scope(scope, request.tenant_id)?;
        plan_of(request, plan)?;
        let cx = self.row_context(scope);
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            let written = insert_record(conn, cx, request).await?;
            insert_jobs(conn, request.tenant_id, &plan.jobs, now).await?;
            Ok(written)
        })
        .await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        request: &DataSubjectRequest,
        expected_version: i32,
        plan: &RequestPlan,
        event: PendingEvent,
    ) -> Result<DataSubjectRequest, StoreError> {
        in_scope(scope, request.tenant_id)?;
        plan_of(request, plan)?;
        let cx = self.row_context(scope);
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            let written = update_record(conn, cx, request, expected_version).await?;
            let id = request.id.as_uuid();
            cancel_queued(conn, cx.tenant, id, PLANNED_KINDS, now).await?;
            insert_jobs(conn, request.tenant_id, &plan.jobs, now).await?;
            Ok(written)
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: RequestId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            delete_record::<aura_requests::request::Requests>(conn, key, expected_version).await?;
            cancel_queued(conn, key.0, key.1, PLANNED_KINDS, now).await?;
            Ok(())
        })
        .await
    }

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
