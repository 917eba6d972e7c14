//! The kernel's records over HTTP, written once: create (201 with `ETag`), get (`ETag`),
//! list (a page and its cursor), replace and delete (both `If-Match`). A register's
//! routes are thin annotated functions that parse their own path, body and filters and
//! call these; what a register adds is [`RecordRoutes`]: its use cases and its answer body.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use aura_audit::RequestContext;
use aura_gdpr_registers::{Activities, Processors};
use aura_records::{ListQuery, Record, RecordKind, RecordUseCases};
use aura_tenancy::TenantScope;
use serde::Serialize;

use crate::{
    error::ApiError,
    routes::registers::{if_match, page_of, typed_id, with_etag},
    schemas::registers::{ActivityBody, ProcessorBody},
    state::ApiState,
};

/// What the HTTP edge adds to a kernel register.
pub(crate) trait RecordRoutes: RecordKind {
    /// The answer for one record.
    type Body: Serialize + From<Record<Self>>;

    fn use_cases(state: &ApiState) -> &RecordUseCases<Self>;
}

/// Who asks, in which tenant, from where.
pub(crate) struct Call<'a> {
    pub state: &'a ApiState,
    pub scope: &'a TenantScope,
    pub ctx: &'a RequestContext,
}

impl Call<'_> {
    fn answer<K: RecordRoutes>(status: StatusCode, record: Record<K>) -> HttpResponse {
        with_etag(status, record.version, &K::Body::from(record))
    }

    pub async fn create<K: RecordRoutes>(
        &self,
        fields: K::Fields,
    ) -> Result<HttpResponse, ApiError> {
        let record = K::use_cases(self.state)
            .create(self.scope, fields, None, self.ctx)
            .await?;
        Ok(Self::answer(StatusCode::CREATED, record))
    }

    pub async fn get<K: RecordRoutes>(&self, raw_id: &str) -> Result<HttpResponse, ApiError> {
        let record = K::use_cases(self.state)
            .get(self.scope, typed_id(raw_id)?, self.ctx)
            .await?;
        Ok(Self::answer(StatusCode::OK, record))
    }

    /// A page of bodies and the cursor of the next page.
    pub async fn list<K: RecordRoutes>(
        &self,
        query: &ListQuery<K::Filter>,
    ) -> Result<(Vec<K::Body>, Option<String>), ApiError> {
        let page = K::use_cases(self.state)
            .list(self.scope, query, self.ctx)
            .await?;
        let items = page.items.into_iter().map(K::Body::from).collect();
        Ok(page_of(items, page.next))
    }

    /// Replaces the record's fields at the version `If-Match` names.
    pub async fn replace<K: RecordRoutes>(
        &self,
        req: &HttpRequest,
        raw_id: &str,
        fields: K::Fields,
    ) -> Result<HttpResponse, ApiError> {
        let id = typed_id(raw_id)?;
        let expected = if_match(req)?;
        let record = K::use_cases(self.state)
            .update(self.scope, id, fields, expected, None, self.ctx)
            .await?;
        Ok(Self::answer(StatusCode::OK, record))
    }

    /// Deletes the record at the version `If-Match` names: 204.
    pub async fn delete<K: RecordRoutes>(
        &self,
        req: &HttpRequest,
        raw_id: &str,
    ) -> Result<HttpResponse, ApiError> {
        let id = typed_id(raw_id)?;
        let expected = if_match(req)?;
        K::use_cases(self.state)
            .delete(self.scope, id, expected, self.ctx)
            .await?;
        Ok(HttpResponse::NoContent().finish())
    }
}

impl RecordRoutes for Activities {
    /// With what each record still lacks for Art. 30 (`missing`).
    type Body = ActivityBody;

    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.registers.activity_records()
    }
}

impl RecordRoutes for Processors {
    type Body = ProcessorBody;

    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.registers.processor_records()
    }
}
