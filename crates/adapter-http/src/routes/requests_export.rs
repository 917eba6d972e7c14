//! `GET /api/v1/data-subject-requests/export`: the register of requests received in a
//! period, as JSON or CSV, with the conventions of the registers' export (`format`,
//! `Content-Disposition` file names with the generation date, the CSV's quoting). No
//! personal data of the people who asked: references, dates, rights, outcome. Viewers
//! may export. Registered before `/data-subject-requests/{id}` (actix matches in order).

use actix_web::{HttpRequest, HttpResponse};
use aura_requests::{
    export::{ExportRow, RequestExport, Timeliness, export, to_csv},
    request::{Channel, Outcome, RequestStatus, Right},
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use aura_shared_kernel::date::iso_date;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, parse_query},
    routes::exports::{ExportFormat, attachment, period},
    schemas::{one_of, one_of_or_null, requests::rights_schema},
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestExportParams {
    /// json (default) or csv.
    pub format: Option<String>,
    /// Requests received on or after this date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Requests received on or before this date (YYYY-MM-DD).
    pub to: Option<String>,
}

/// One request of the export.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestExportRowBody {
    #[schema(example = "DSR-2027-0001")]
    pub reference: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[schema(schema_with = one_of::<Channel>)]
    pub channel: Channel,
    #[schema(schema_with = rights_schema)]
    pub rights: Vec<Right>,
    #[schema(schema_with = one_of::<RequestStatus>)]
    pub status: RequestStatus,
    /// The end of the first month (Art. 12(3)).
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub first_due_on: Option<Date>,
    /// The due date after an extension; `null` when not extended.
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub extended_due_on: Option<Date>,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub answered_on: Option<Date>,
    /// on_time or late once answered; pending or overdue while open; not_applicable for
    /// a request that ended without an answer.
    #[schema(schema_with = one_of::<Timeliness>)]
    pub timeliness: Timeliness,
    #[schema(schema_with = one_of_or_null::<Outcome>)]
    pub outcome: Option<Outcome>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

impl From<ExportRow> for RequestExportRowBody {
    fn from(r: ExportRow) -> Self {
        Self {
            reference: r.reference,
            received_at: r.received_at,
            channel: r.channel,
            rights: r.rights,
            status: r.status,
            first_due_on: r.first_due_on,
            extended_due_on: r.extended_due_on,
            answered_on: r.answered_on,
            timeliness: r.timeliness,
            outcome: r.outcome,
            closed_at: r.closed_at,
        }
    }
}

/// The register of data-subject requests for a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestExportBody {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    /// Oldest receipt first.
    pub requests: Vec<RequestExportRowBody>,
}

impl From<RequestExport> for RequestExportBody {
    fn from(e: RequestExport) -> Self {
        Self {
            generated_at: e.generated_at,
            from: e.from,
            to: e.to,
            requests: e.requests.into_iter().map(Into::into).collect(),
        }
    }
}

/// Every request received in the period (both ends included; open-ended without them)
/// with its dates, rights, status, timeliness and outcome, and no personal data of the
/// person: JSON, or CSV with one row per request.
#[utoipa::path(get, path = "/api/v1/data-subject-requests/export", tag = "requests", security(("bearer" = [])), params(RequestExportParams),
    responses((status = 200, description = "the requests as JSON (default) or as CSV with one row per request",
        content((RequestExportBody = "application/json"), (String = "text/csv"))), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn export_requests(req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let p: RequestExportParams = parse_query(&req)?;
    let (from, to) = period(p.from.as_deref(), p.to.as_deref())?;
    let format = ExportFormat::parse(p.format.as_deref())?;
    let records = caller.state.requests.records();
    let now = OffsetDateTime::now_utc();
    let export = export(records, caller.scope(), from, to, now, caller.ctx()).await?;
    let generated_on = export.generated_at.date();
    Ok(attachment::<_, RequestExportBody>(
        format,
        "dsr-register",
        generated_on,
        export,
        to_csv,
    ))
}
