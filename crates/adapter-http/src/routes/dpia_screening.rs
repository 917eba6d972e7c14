//! `/api/v1/processing-activities/{id}/dpia-screening`: an activity's DPIA screening
//! (Art. 35(3) cases and WP248 criteria with their reasons), its answers (`PUT`,
//! `If-Match` of the answers' `ETag`, `"0"` for the first save) and the acceptance of its
//! suggestion into the activity (`If-Match` of the activity's `ETag`). Viewers read;
//! members and up answer and accept.

use actix_web::{HttpResponse, http::StatusCode, web};
use aura_dpia_screening::{ActivityScreening, DpiaScreenings};
use aura_gdpr_registers::Activities;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody},
    routes::params::{Versioned, typed_id, with_etag},
    schemas::{
        dpia_screening::{AcceptScreeningBody, DpiaScreeningBody, ScreeningAnswersBody},
        record::RecordBody,
        registers::ActivityBody,
    },
};

impl Caller {
    fn screenings(&self) -> &DpiaScreenings {
        &self.state.dpia_screenings
    }
}

/// The screening with the answers' version as its `ETag`.
fn answer(screening: ActivityScreening) -> HttpResponse {
    let version = screening.answers.version;
    with_etag(StatusCode::OK, version, &DpiaScreeningBody::from(screening))
}

/// The DPIA screening of an activity: the Art. 35(3) cases and which of the nine WP248
/// criteria are met, each with the field or answer behind it, and the outcome (a case or
/// two criteria: likely required; one: to assess; none: not likely) as a suggestion.
#[utoipa::path(get, path = "/api/v1/processing-activities/{id}/dpia-screening", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DpiaScreeningBody, description = "the screening; ETag: the answers' version"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_screening(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let screening = (caller.screenings())
        .screening(caller.scope(), typed_id(&path)?, caller.ctx())
        .await?;
    Ok(answer(screening))
}

/// Saves the screening's answers (send all) and answers the new screening. The first
/// save sends `If-Match: "0"`.
#[utoipa::path(put, path = "/api/v1/processing-activities/{id}/dpia-screening", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "the answers' ETag, \"0\" for the first save")),
    request_body = ScreeningAnswersBody,
    responses((status = 200, body = DpiaScreeningBody, description = "the new screening; ETag: the answers' version"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_answers(
    caller: Caller,
    JsonBody(body): JsonBody<ScreeningAnswersBody>,
    Versioned { id, expected }: Versioned<Activities>,
) -> Result<HttpResponse, ApiError> {
    let screening = (caller.screenings())
        .put_answers(caller.scope(), id, body.into(), expected, caller.ctx())
        .await?;
    Ok(answer(screening))
}

/// Accepts the screening's suggestion: sets the activity's `dpia_required` and
/// `dpia_reason` (audited as `processing_activity.dpia_screening_accepted`). `If-Match`
/// is the activity's `ETag`; `outcome` the one shown (409 `screening_changed` when the
/// screening now says otherwise). Answers the activity.
#[utoipa::path(post, path = "/api/v1/processing-activities/{id}/dpia-screening/accept", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "the activity's ETag")),
    request_body = AcceptScreeningBody,
    responses((status = 200, body = ActivityBody, description = "the activity; ETag: its version"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn accept_suggestion(
    caller: Caller,
    JsonBody(body): JsonBody<AcceptScreeningBody>,
    Versioned { id, expected }: Versioned<Activities>,
) -> Result<HttpResponse, ApiError> {
    let activity = (caller.screenings())
        .accept(caller.scope(), id, expected, body.outcome, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        activity.version,
        &RecordBody::from(activity),
    ))
}
