//! The register of data-subject requests for a period (what a supervisory authority or
//! an auditor asks for: were requests answered, and in time?), as JSON rows and as CSV
//! with the registers' export conventions (RFC 4180 quoting, CRLF, a byte-order mark,
//! formula triggers defused). It holds no personal data of the person who asked: the
//! reference, dates, rights, status and outcome only.

use aura_audit::RequestContext;
use aura_gdpr_registers::{csv, string_enum};
use aura_records::{RecordKind, RecordUseCases, UseCaseError};
use aura_shared_kernel::TenantScope;
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::request::{Channel, DataSubjectRequest, Outcome, RequestStatus, Requests, Right};

string_enum!(
    /// Whether a request was answered in time, as of the export.
    Timeliness {
        /// Answered on or before its due date.
        OnTime => "on_time",
        /// Answered after its due date.
        Late => "late",
        /// Open and not yet due.
        Pending => "pending",
        /// Open and past its due date.
        Overdue => "overdue",
        /// Ended without an answer (withdrawn, rejected as unverifiable), or not dated.
        NotApplicable => "not_applicable",
    }
);

impl Timeliness {
    /// `request`'s timeliness on `today`.
    pub fn of(request: &DataSubjectRequest, today: Date) -> Self {
        let d = &request.derived;
        match (d.answered_in_time(), d.status.is_open(), d.due_on) {
            (Some(true), _, _) => Timeliness::OnTime,
            (Some(false), _, _) => Timeliness::Late,
            (None, true, Some(due)) if due < today => Timeliness::Overdue,
            (None, true, Some(_)) => Timeliness::Pending,
            _ => Timeliness::NotApplicable,
        }
    }
}

/// One request in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    pub reference: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub channel: Channel,
    pub rights: Vec<Right>,
    pub status: RequestStatus,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub first_due_on: Option<Date>,
    /// The due date after an extension (`None` when not extended).
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub extended_due_on: Option<Date>,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub answered_on: Option<Date>,
    pub timeliness: Timeliness,
    pub outcome: Option<Outcome>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

impl ExportRow {
    pub fn of(request: &DataSubjectRequest, today: Date) -> Self {
        let (f, d) = (&request.fields, &request.derived);
        Self {
            reference: d.reference.clone(),
            received_at: f.received_at,
            channel: f.channel,
            rights: f.rights.clone(),
            status: d.status,
            first_due_on: d.first_due_on,
            extended_due_on: d.extension.as_ref().and(d.due_on),
            answered_on: d.answer.as_ref().map(|a| a.answered_on),
            timeliness: Timeliness::of(request, today),
            outcome: d.answer.as_ref().map(|a| a.outcome),
            closed_at: d.closed_at,
        }
    }
}

/// The requests received in a period (dates of receipt, both ends included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestExport {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub from: Option<Date>,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub to: Option<Date>,
    /// Oldest receipt first.
    pub requests: Vec<ExportRow>,
}

/// The export of `requests` received from `from` to `to` (each optional, inclusive, on
/// the date of receipt as given), on `now`.
pub fn build_export(
    requests: Vec<DataSubjectRequest>,
    from: Option<Date>,
    to: Option<Date>,
    now: OffsetDateTime,
) -> RequestExport {
    let mut rows: Vec<ExportRow> = requests
        .iter()
        .filter(|r| {
            let received = r.fields.received_at.date();
            from.is_none_or(|from| received >= from) && to.is_none_or(|to| received <= to)
        })
        .map(|r| ExportRow::of(r, now.date()))
        .collect();
    rows.sort_by(|a, b| (a.received_at, &a.reference).cmp(&(b.received_at, &b.reference)));
    RequestExport {
        generated_at: now,
        from,
        to,
        requests: rows,
    }
}

/// The export through the register's use cases: the caller needs read permission
/// (viewers may export).
pub async fn export(
    records: &RecordUseCases<Requests>,
    scope: &TenantScope,
    from: Option<Date>,
    to: Option<Date>,
    now: OffsetDateTime,
    ctx: &RequestContext,
) -> Result<RequestExport, UseCaseError> {
    records.require(scope, Requests::READ, ctx).await?;
    let all = records.store().all(scope).await?;
    Ok(build_export(all, from, to, now))
}

pub const CSV_COLUMNS: &[&str] = &[
    "reference",
    "received_at",
    "channel",
    "rights",
    "status",
    "first_due_on",
    "extended_due_on",
    "answered_on",
    "timeliness",
    "outcome",
    "closed_at",
];

/// One row per request, with the exports' CSV conventions.
pub fn to_csv(export: &RequestExport) -> String {
    let rows = export.requests.iter().map(|row| {
        [
            row.reference.clone(),
            csv::instant(row.received_at),
            row.channel.as_str().to_owned(),
            csv::list(row.rights.iter().map(|r| r.as_str())),
            row.status.as_str().to_owned(),
            csv::optional_date(row.first_due_on),
            csv::optional_date(row.extended_due_on),
            csv::optional_date(row.answered_on),
            row.timeliness.as_str().to_owned(),
            row.outcome
                .map(|o| o.as_str().to_owned())
                .unwrap_or_default(),
            csv::optional_instant(row.closed_at),
        ]
    });
    csv::document(CSV_COLUMNS, rows)
}
