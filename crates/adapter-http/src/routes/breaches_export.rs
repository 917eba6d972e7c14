//! `GET /api/v1/breaches/export`: the register of breaches the organisation became aware
//! of in a period, as JSON or CSV, with the exports' conventions (`format`, the
//! attachment named with the generation date); and `GET
//! /api/v1/breaches/{id}/notification-draft`: the Art. 33(3) content of a breach's
//! notification assembled from the record and the register. Both read only; viewers may
//! use them. The export is registered before `/breaches/{id}` (actix matches in order).

use actix_web::{HttpRequest, HttpResponse, web};
use aura_breaches::{
    draft::notification_draft,
    export::{export, to_csv},
};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, parse_query},
    routes::{
        exports::{ExportFormat, attachment, period},
        params::typed_id,
    },
    schemas::breaches_export::{BreachExportBody, NotificationDraftBody},
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BreachExportParams {
    /// json (default) or csv.
    pub format: Option<String>,
    /// Breaches the organisation became aware of on or after this date (YYYY-MM-DD, UTC).
    pub from: Option<String>,
    /// Breaches the organisation became aware of on or before this date (YYYY-MM-DD, UTC).
    pub to: Option<String>,
    /// true: the drills (exercises) instead of the register; they never count in it.
    pub drill: Option<bool>,
}

/// Every breach the organisation became aware of in the period (both ends included;
/// open-ended without them) with its dates, whether the authority was notified on time
/// or late and by how many hours, the reasons for a delay, the risk, the decisions and
/// the status: JSON, or CSV with one row per breach. Drills only with `drill=true`.
#[utoipa::path(get, path = "/api/v1/breaches/export", tag = "breaches", security(("bearer" = [])), params(BreachExportParams),
    responses((status = 200, description = "the breaches as JSON (default) or as CSV with one row per breach",
        content((BreachExportBody = "application/json"), (String = "text/csv"))), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn export_breaches(req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let p: BreachExportParams = parse_query(&req)?;
    let period = period(p.from.as_deref(), p.to.as_deref())?;
    let format = ExportFormat::parse(p.format.as_deref())?;
    let drill = p.drill.unwrap_or(false);
    let records = caller.state.breaches.records();
    let now = OffsetDateTime::now_utc();
    let export = export(records, caller.scope(), period, drill, now, caller.ctx()).await?;
    let generated_on = export.generated_at.date();
    let name = if drill {
        "breach-drills"
    } else {
        "breach-register"
    };
    Ok(attachment::<_, BreachExportBody>(
        format,
        name,
        generated_on,
        export,
        to_csv,
    ))
}

/// The notification to the supervisory authority as far as the record holds it (Art.
/// 33(3)): the nature of the breach with the categories and approximate numbers of
/// subjects and records, the contact point and the DPO, the likely consequences, the
/// measures, the controller, the processing activities and processors concerned, the
/// timeline, and what is still missing or to follow. Changes nothing.
#[utoipa::path(get, operation_id = "breach_notification_draft", path = "/api/v1/breaches/{id}/notification-draft", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NotificationDraftBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn draft(
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<NotificationDraftBody>, ApiError> {
    let id = typed_id(&path)?;
    let (state, now) = (&caller.state, OffsetDateTime::now_utc());
    let draft = notification_draft(
        state.breaches.records(),
        &state.registers,
        caller.scope(),
        id,
        now,
        caller.ctx(),
    )
    .await?;
    Ok(web::Json(draft.into()))
}
