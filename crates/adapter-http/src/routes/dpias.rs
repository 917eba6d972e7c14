//! `/api/v1/dpias`: the kernel's list, create (`Idempotency-Key`), read and replace
//! (`If-Match`), the DPIA's actions (each `If-Match`): submit, approve (admins and
//! owners), send back, record the prior consultation, turn a planned measure into a task;
//! start a revision of an approved DPIA; and the export as JSON. Members write, viewers
//! read. There is no delete: an assessment stays as the documentation of Art. 35.

use actix_web::{HttpResponse, http::StatusCode, http::header, web};
use aura_dpias::{ConsultationRecord, Dpia, DpiaCases, DpiaFilter, DpiaStatus, Dpias, RiskLevel};
use aura_records::{ListQuery, RecordUseCases};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody},
    routes::{
        params::{Versioned, list_query, query_enum, query_id, typed_id, with_etag},
        records::{RecordApi, RecordRoutes},
        tasks::query_date,
    },
    schemas::{
        dpias::{
            DpiaBody, DpiaExportBody, DpiaFieldsBody, DpiaList, PriorConsultationBody, SendBackBody,
        },
        record::RecordBody,
    },
    state::ApiState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DpiaParams {
    /// draft, in_review or approved.
    pub status: Option<String>,
    /// Only DPIAs covering this processing activity (its id).
    pub activity: Option<String>,
    /// Only DPIAs whose review date is on or before this day (YYYY-MM-DD).
    pub review_due_on: Option<String>,
    /// Only DPIAs whose highest residual level (after the measures) is low, medium or high.
    pub residual_risk: Option<String>,
    /// created_at (default), -created_at, -updated_at, name (the title), -name, due_on
    /// (by the review date, undated last), -due_on.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Data protection impact assessments (Art. 35).
#[utoipa::path(get, path = "/api/v1/dpias", tag = "dpias", security(("bearer" = [])), params(DpiaParams),
    responses((status = 200, body = DpiaList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub fn list_dpias() {}

/// Starts a DPIA as a draft covering at least one processing activity; the description's
/// pre-fill (`processing`) comes from the activities.
#[utoipa::path(post, path = "/api/v1/dpias", tag = "dpias", security(("bearer" = [])),
    request_body = DpiaFieldsBody,
    responses((status = 201, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_dpia() {}

#[utoipa::path(get, path = "/api/v1/dpias/{id}", tag = "dpias", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_dpia() {}

/// Replaces what a user edits (send all). Only a draft changes: a DPIA in review is 409
/// `dpia_in_review`, an approved one 409 `dpia_approved` (start a revision).
#[utoipa::path(put, path = "/api/v1/dpias/{id}", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = DpiaFieldsBody,
    responses((status = 200, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_dpia() {}

impl RecordRoutes for Dpias {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.dpias.records()
    }
}

impl RecordApi for Dpias {
    type Request = DpiaFieldsBody;
    type Params = DpiaParams;

    fn list_query(p: DpiaParams, caller: &Caller) -> Result<ListQuery<DpiaFilter>, ApiError> {
        let filter = DpiaFilter {
            status: query_enum::<DpiaStatus>(p.status.as_deref(), "status")?,
            activity: query_id(p.activity.as_deref(), "activity")?.map(aura_records::Id::from_uuid),
            review_due_on: query_date(p.review_due_on.as_deref(), "review_due_on")?,
            residual: query_enum::<RiskLevel>(p.residual_risk.as_deref(), "residual_risk")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

// ------------------------------------------------------------------ actions

fn answer(dpia: Dpia) -> HttpResponse {
    with_etag(StatusCode::OK, dpia.version, &RecordBody::from(dpia))
}

impl Caller {
    fn dpias(&self) -> &DpiaCases {
        &self.state.dpias
    }
}

/// Submits a draft for approval (draft → in_review).
#[utoipa::path(post, operation_id = "submit_dpia", path = "/api/v1/dpias/{id}/submit", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn submit(
    caller: Caller,
    Versioned { id, expected }: Versioned<Dpias>,
) -> Result<HttpResponse, ApiError> {
    let dpia = (caller.dpias())
        .submit(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answer(dpia))
}

/// Approves a DPIA in review (admins and owners). Incomplete (`missing` not empty) is 422
/// naming `missing`; a residual high risk without the prior consultation is 422 naming
/// `prior_consultation` (Art. 36(1)).
#[utoipa::path(post, operation_id = "approve_dpia", path = "/api/v1/dpias/{id}/approve", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = DpiaBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn approve(
    caller: Caller,
    Versioned { id, expected }: Versioned<Dpias>,
) -> Result<HttpResponse, ApiError> {
    let dpia = (caller.dpias())
        .approve(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answer(dpia))
}

/// Sends a DPIA in review back to draft, with the reason.
#[utoipa::path(post, operation_id = "send_back_dpia", path = "/api/v1/dpias/{id}/send-back", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = SendBackBody,
    responses((status = 200, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn send_back(
    caller: Caller,
    Versioned { id, expected }: Versioned<Dpias>,
    JsonBody(body): JsonBody<SendBackBody>,
) -> Result<HttpResponse, ApiError> {
    let dpia = (caller.dpias())
        .send_back(caller.scope(), id, expected, &body.reason, caller.ctx())
        .await?;
    Ok(answer(dpia))
}

/// Records or updates the prior consultation of the supervisory authority (Art. 36);
/// the answer is due eight weeks after `submitted_on`, fourteen when `extended`.
#[utoipa::path(post, operation_id = "record_prior_consultation", path = "/api/v1/dpias/{id}/prior-consultation", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = PriorConsultationBody,
    responses((status = 200, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn prior_consultation(
    caller: Caller,
    Versioned { id, expected }: Versioned<Dpias>,
    JsonBody(body): JsonBody<PriorConsultationBody>,
) -> Result<HttpResponse, ApiError> {
    let record = ConsultationRecord {
        authority: body.authority,
        submitted_on: body.submitted_on,
        extended: body.extended,
        extension_reason: body.extension_reason,
        answered_on: body.answered_on,
        answer: body.answer,
    };
    let dpia = (caller.dpias())
        .record_prior_consultation(caller.scope(), id, expected, record, caller.ctx())
        .await?;
    Ok(answer(dpia))
}

/// Starts a revision of an approved DPIA: a new draft with its content, `revision_of`
/// naming it. The approved version stays. Not approved: 409 `dpia_not_approved`.
#[utoipa::path(post, operation_id = "start_dpia_revision", path = "/api/v1/dpias/{id}/start-revision", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 201, body = DpiaBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn start_revision(
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let dpia = (caller.dpias())
        .start_revision(caller.scope(), typed_id(&id)?, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::CREATED,
        dpia.version,
        &RecordBody::from(dpia),
    ))
}

/// Turns the planned measure at `index` (from 0) into a task (category `dpia`, the
/// measure's due date and owner); the measure keeps the task's id in `task_id`.
#[utoipa::path(post, operation_id = "dpia_measure_task", path = "/api/v1/dpias/{id}/measures/{index}/task", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("index" = usize, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = DpiaBody), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn measure_task(
    caller: Caller,
    Versioned { id, expected }: Versioned<Dpias>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (_, raw_index) = path.into_inner();
    let index: usize = raw_index.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_path",
            Some("index"),
            "must be a measure's position, from 0",
        )
    })?;
    let dpia = (caller.dpias())
        .measure_to_task(caller.scope(), id, expected, index, caller.ctx())
        .await?;
    Ok(answer(dpia))
}

/// The DPIA with the approved versions it revises, as a JSON attachment.
#[utoipa::path(get, operation_id = "export_dpia", path = "/api/v1/dpias/{id}/export", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DpiaExportBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn export(
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (dpia, earlier) = (caller.dpias())
        .with_earlier_versions(caller.scope(), typed_id(&id)?, caller.ctx())
        .await?;
    let exported_at = time::OffsetDateTime::now_utc();
    let disposition = format!(
        "attachment; filename=\"dpia-{}-{}.json\"",
        dpia.id.as_uuid(),
        exported_at.date()
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .json(DpiaExportBody {
            exported_at,
            dpia: dpia.into(),
            earlier_versions: earlier.into_iter().map(Into::into).collect(),
        }))
}
