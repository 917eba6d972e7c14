//! `/api/v1/data-subject-requests`: the kernel's list, create (`Idempotency-Key`), read,
//! replace (`If-Match`) and delete, and the request's actions (each `If-Match`): verify
//! identity, request information, extend, answer, close, withdraw, and the checklist.
//! Members handle requests, viewers read them.

use actix_web::{HttpResponse, http::StatusCode, web};
use aura_records::{ListQuery, RecordUseCases};
use aura_requests::{
    AnswerGiven, ExtensionNotice, IdentityResult, InformationAsked, ItemChange, RequestCases,
    request::{DataSubjectRequest, RequestFilter, RequestStatus, Requests, Right},
};
use aura_shared_kernel::{UserId, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody},
    routes::{
        params::{Versioned, list_query, query_enum, query_id, query_text, typed_id, with_etag},
        records::{RecordApi, RecordRoutes},
        tasks::query_date,
    },
    schemas::{
        record::RecordBody,
        requests::{
            AnswerRequestBody, ChecklistItemPatchBody, DataSubjectRequestBody,
            DataSubjectRequestList, ExtendBody, IdentityCheckResult, InformationKind,
            NewChecklistItemBody, RequestFieldsBody, RequestInformationBody, VerifyIdentityBody,
        },
    },
    state::ApiState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestParams {
    /// received, verifying_identity, in_progress, waiting_for_subject, answered, closed,
    /// withdrawn or rejected_unverifiable.
    pub status: Option<String>,
    /// Requests asking for this right, e.g. erasure.
    pub right: Option<String>,
    /// Requests assigned to this user id.
    pub assignee: Option<String>,
    /// Due on or before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
    /// true: only open requests whose due date has passed.
    pub overdue: Option<bool>,
    /// The person's e-mail address, exactly (any case).
    pub email: Option<String>,
    /// created_at (default), -created_at, -updated_at, name (the channel), -name, due_on
    /// (soonest due first, undated last), -due_on.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Data-subject requests (Art. 12, 15–22), with the legal clock's due dates.
#[utoipa::path(get, path = "/api/v1/data-subject-requests", tag = "requests", security(("bearer" = [])), params(RequestParams),
    responses((status = 200, body = DataSubjectRequestList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub fn list_requests() {}

/// Records a request. Its reference (`DSR-2027-0001`) and due date are the store's and
/// the clock's: the due date is one calendar month after receipt, moved past weekends
/// and the organisation's public holidays (Art. 12(3), Reg. 1182/71 Art. 3).
#[utoipa::path(post, path = "/api/v1/data-subject-requests", tag = "requests", security(("bearer" = [])),
    request_body = RequestFieldsBody,
    responses((status = 201, body = DataSubjectRequestBody), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_request() {}

#[utoipa::path(get, path = "/api/v1/data-subject-requests/{id}", tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = DataSubjectRequestBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_request() {}

/// Replaces what a user edits (send all); the dates follow a corrected receipt.
#[utoipa::path(put, path = "/api/v1/data-subject-requests/{id}", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = RequestFieldsBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_request() {}

/// Deletes a request recorded by mistake (admins and owners).
#[utoipa::path(delete, path = "/api/v1/data-subject-requests/{id}", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub fn delete_request() {}

impl RecordRoutes for Requests {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.requests.records()
    }
}

impl From<RequestFieldsBody> for aura_requests::request::RequestFields {
    /// `received_at` defaults to the time the request is recorded.
    fn from(body: RequestFieldsBody) -> Self {
        body.into_fields(time::OffsetDateTime::now_utc())
    }
}

impl RecordApi for Requests {
    type Request = RequestFieldsBody;
    type Params = RequestParams;

    fn list_query(p: RequestParams, caller: &Caller) -> Result<ListQuery<RequestFilter>, ApiError> {
        let filter = RequestFilter {
            status: query_enum::<RequestStatus>(p.status.as_deref(), "status")?,
            right: query_enum::<Right>(p.right.as_deref(), "right")?,
            assignee: query_id(p.assignee.as_deref(), "assignee")?.map(UserId::from_uuid),
            due_by: query_date(p.due_before.as_deref(), "due_before")?,
            overdue_on: p
                .overdue
                .filter(|overdue| *overdue)
                .map(|_| time::OffsetDateTime::now_utc().date()),
            email: query_text(p.email, "email")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

// ------------------------------------------------------------------ actions

fn answer(request: DataSubjectRequest) -> HttpResponse {
    with_etag(StatusCode::OK, request.version, &RecordBody::from(request))
}

impl Caller {
    fn requests(&self) -> &RequestCases {
        &self.state.requests
    }
}

/// Records the identity check: confirmed (by a method; where the organisation counts
/// from the confirmation, the clock starts) or failed (the case ends).
#[utoipa::path(post, operation_id = "verify_request_identity", path = "/api/v1/data-subject-requests/{id}/verify-identity", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = VerifyIdentityBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn verify_identity(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
    JsonBody(body): JsonBody<VerifyIdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let result = match (body.result, body.method) {
        (IdentityCheckResult::Confirmed, Some(method)) => IdentityResult::Confirmed(method),
        (IdentityCheckResult::Confirmed, None) => {
            let missing =
                ValidationErrors::single("method", "is required when the identity is confirmed");
            return Err(ApiError::Validation(missing));
        }
        (IdentityCheckResult::Failed, _) => IdentityResult::Failed,
    };
    let request = (caller.requests())
        .verify_identity(caller.scope(), id, expected, result, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Records that the person was asked for proof of identity or a clarification: the case
/// waits for them.
#[utoipa::path(post, operation_id = "request_information", path = "/api/v1/data-subject-requests/{id}/request-information", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = RequestInformationBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_information(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
    JsonBody(body): JsonBody<RequestInformationBody>,
) -> Result<HttpResponse, ApiError> {
    let asked = match body.asked {
        InformationKind::Identity => InformationAsked::Identity,
        InformationKind::Clarification => InformationAsked::Clarification,
    };
    let request = (caller.requests())
        .request_information(caller.scope(), id, expected, asked, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Extends the period by one or two months (Art. 12(3)): once, with reasons, told to
/// the person by the first due date (422 naming the rule otherwise).
#[utoipa::path(post, operation_id = "extend_request", path = "/api/v1/data-subject-requests/{id}/extend", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = ExtendBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn extend(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
    JsonBody(body): JsonBody<ExtendBody>,
) -> Result<HttpResponse, ApiError> {
    let notice = ExtensionNotice {
        months: body.months,
        reasons: body.reasons,
        told_on: body.told_on,
    };
    let request = (caller.requests())
        .extend(caller.scope(), id, expected, notice, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Records the answer given; a refusal states its ground and reasons and that the
/// person was told of the right to complain (Art. 12(4)).
#[utoipa::path(post, operation_id = "answer_request", path = "/api/v1/data-subject-requests/{id}/answer", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = AnswerRequestBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn answer_request(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
    JsonBody(body): JsonBody<AnswerRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let given = AnswerGiven {
        outcome: body.outcome,
        answered_on: body.answered_on,
        refusal: body.refusal.map(Into::into),
    };
    let request = (caller.requests())
        .answer(caller.scope(), id, expected, given, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Closes an answered request.
#[utoipa::path(post, operation_id = "close_request", path = "/api/v1/data-subject-requests/{id}/close", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn close(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
) -> Result<HttpResponse, ApiError> {
    let request = (caller.requests())
        .close(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Records that the person withdrew an open request.
#[utoipa::path(post, operation_id = "withdraw_request", path = "/api/v1/data-subject-requests/{id}/withdraw", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn withdraw(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
) -> Result<HttpResponse, ApiError> {
    let request = (caller.requests())
        .withdraw(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Adds the checklist items the register calls for: for the person's category, the
/// activities that concern them, their processors and recipients, and the rights asked.
/// Items already there keep their progress.
#[utoipa::path(post, operation_id = "generate_request_checklist", path = "/api/v1/data-subject-requests/{id}/checklist", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = DataSubjectRequestBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn generate_checklist(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
) -> Result<HttpResponse, ApiError> {
    let request = (caller.requests())
        .generate_checklist(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Adds an item by hand. An activity, processor or assignee the organisation does not
/// have is 404 naming the field.
#[utoipa::path(post, operation_id = "add_request_checklist_item", path = "/api/v1/data-subject-requests/{id}/checklist/items", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = NewChecklistItemBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_checklist_item(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
    JsonBody(body): JsonBody<NewChecklistItemBody>,
) -> Result<HttpResponse, ApiError> {
    let request = (caller.requests())
        .add_checklist_item(caller.scope(), id, expected, body.into(), caller.ctx())
        .await?;
    Ok(answer(request))
}

/// Marks an item done, not applicable (with a note saying why) or open again, assigns
/// it, or changes its note. `If-Match` names the request's version.
#[utoipa::path(patch, operation_id = "update_request_checklist_item", path = "/api/v1/data-subject-requests/{id}/checklist/items/{item_id}", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path), ("If-Match" = String, Header)), request_body = ChecklistItemPatchBody,
    responses((status = 200, body = DataSubjectRequestBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update_checklist_item(
    caller: Caller,
    Versioned { id, expected }: Versioned<Requests>,
    item_id: web::Path<(String, String)>,
    JsonBody(body): JsonBody<ChecklistItemPatchBody>,
) -> Result<HttpResponse, ApiError> {
    let (_, raw_item) = item_id.into_inner();
    let change = ItemChange {
        status: body.status,
        note: body.note,
        assignee_id: body.assignee_id.map(|a| a.map(UserId::from_uuid)),
    };
    let request = (caller.requests())
        .update_checklist_item(
            caller.scope(),
            id,
            expected,
            typed_id(&raw_item)?,
            change,
            caller.ctx(),
        )
        .await?;
    Ok(answer(request))
}
