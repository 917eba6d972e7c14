//! The kernel's records over HTTP, written once: create (201 with `ETag`), get (`ETag`),
//! list (a page and its cursor), replace and delete (both `If-Match`). The handlers are
//! generic ([`list`], [`create`], [`get`], [`replace`], [`delete`]): a register documents
//! its paths (`#[utoipa::path]` on a function without a body of its own) and names these
//! handlers for them in `routes::table()`. What a register adds is [`RecordRoutes`] (its
//! use cases; its answer and page bodies are its `RecordBodies`) and [`RecordApi`] (its
//! request body and list filters).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use aura_records::{ListQuery, Record, RecordUseCases, sort_refusal};
use serde::de::DeserializeOwned;

use crate::{
    error::ApiError,
    extract::{Caller, JsonBody, parse_query},
    routes::params::{Versioned, page_of, typed_id, with_etag},
    schemas::record::{RecordBodies, RecordBody, RecordList},
    state::ApiState,
};

/// What the HTTP edge adds to a kernel register: its use cases (its answer bodies are
/// its [`RecordBodies`]). Enough for a [`Caller`]'s record calls and the [`get`] and
/// [`delete`] handlers.
pub(crate) trait RecordRoutes: RecordBodies {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self>;
}

/// A register whose list, create and replace are the generic handlers too: its request
/// body and list parameters.
pub(crate) trait RecordApi: RecordRoutes {
    /// What a client sends: every field, on create and on replace.
    type Request: DeserializeOwned + Into<Self::Fields> + 'static;
    /// The list's query parameters: the register's filters, and `sort`, `cursor`, `limit`.
    type Params: DeserializeOwned;

    /// The list query the parameters ask for (filters checked, unknown values refused).
    fn list_query(
        params: Self::Params,
        caller: &Caller,
    ) -> Result<ListQuery<Self::Filter>, ApiError>;
}

/// The kernel's record use cases on behalf of a caller.
impl Caller {
    fn answer<K: RecordRoutes>(status: StatusCode, record: Record<K>) -> HttpResponse {
        with_etag(status, record.version, &RecordBody::from(record))
    }

    pub(crate) async fn create<K: RecordRoutes>(
        &self,
        fields: K::Fields,
    ) -> Result<HttpResponse, ApiError> {
        let record = K::use_cases(&self.state)
            .create(self.scope(), fields, None, self.ctx())
            .await?;
        Ok(Self::answer(StatusCode::CREATED, record))
    }

    pub(crate) async fn get<K: RecordRoutes>(
        &self,
        raw_id: &str,
    ) -> Result<HttpResponse, ApiError> {
        let record = K::use_cases(&self.state)
            .get(self.scope(), typed_id(raw_id)?, self.ctx())
            .await?;
        Ok(Self::answer(StatusCode::OK, record))
    }

    /// A page of bodies and the cursor of the next page.
    pub(crate) async fn list<K: RecordRoutes>(
        &self,
        query: &ListQuery<K::Filter>,
    ) -> Result<RecordList<K>, ApiError> {
        let page = K::use_cases(&self.state)
            .list(self.scope(), query, self.ctx())
            .await?;
        let (items, next_cursor) = page_of(page.items, page.next, self.cursors());
        Ok(RecordList { items, next_cursor })
    }

    /// Replaces the record's fields at the version `If-Match` names.
    pub(crate) async fn replace<K: RecordRoutes>(
        &self,
        target: Versioned<K>,
        fields: K::Fields,
    ) -> Result<HttpResponse, ApiError> {
        let Versioned { id, expected } = target;
        let record = K::use_cases(&self.state)
            .update(self.scope(), id, fields, expected, None, self.ctx())
            .await?;
        Ok(Self::answer(StatusCode::OK, record))
    }

    /// Deletes the record at the version `If-Match` names: 204.
    pub(crate) async fn delete<K: RecordRoutes>(
        &self,
        target: Versioned<K>,
    ) -> Result<HttpResponse, ApiError> {
        let Versioned { id, expected } = target;
        K::use_cases(&self.state)
            .delete(self.scope(), id, expected, self.ctx())
            .await?;
        Ok(HttpResponse::NoContent().finish())
    }
}

/// `GET` of a register: a page of records under the parameters' filters and order. A
/// due sort of a register without due dates is a bad parameter (400 naming `sort`), as an
/// unknown sort is.
pub(crate) async fn list<K: RecordApi>(
    req: HttpRequest,
    caller: Caller,
) -> Result<web::Json<RecordList<K>>, ApiError> {
    let query = K::list_query(parse_query(&req)?, &caller)?;
    if let Some(refusal) = sort_refusal::<K>(query.sort) {
        return Err(ApiError::bad_request(
            "invalid_query",
            Some("sort"),
            refusal,
        ));
    }
    Ok(web::Json(caller.list::<K>(&query).await?))
}

/// `POST` to a register: the new record, 201 with its `ETag`.
pub(crate) async fn create<K: RecordApi>(
    caller: Caller,
    JsonBody(body): JsonBody<K::Request>,
) -> Result<HttpResponse, ApiError> {
    caller.create::<K>(body.into()).await
}

/// `GET` of one record, with its `ETag`.
pub(crate) async fn get<K: RecordRoutes>(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.get::<K>(&path).await
}

/// `PUT` of a record's fields at the version `If-Match` names.
pub(crate) async fn replace<K: RecordApi>(
    caller: Caller,
    JsonBody(body): JsonBody<K::Request>,
    target: Versioned<K>,
) -> Result<HttpResponse, ApiError> {
    caller.replace::<K>(target, body.into()).await
}

/// `DELETE` of a record at the version `If-Match` names: 204.
pub(crate) async fn delete<K: RecordRoutes>(
    caller: Caller,
    target: Versioned<K>,
) -> Result<HttpResponse, ApiError> {
    caller.delete::<K>(target).await
}
