//! What the exports' handlers share (the registers', the requests', the breaches'): the
//! `format` parameter, a period of dates, and the answer as an attachment named with the
//! generation date, as JSON or as the export's CSV; the register's export also as a
//! document (PDF, XLSX: `routes::reports`).

use actix_web::{HttpResponse, http::header};
use serde::Serialize;
use time::Date;

use crate::{
    error::ApiError,
    routes::{params::ordered, reports::DocumentFormat, tasks::query_date},
};

/// `format`: json (the default) or csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    Json,
    Csv,
}

impl ExportFormat {
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw.unwrap_or("json") {
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            _ => Err(ApiError::bad_request(
                "invalid_query",
                Some("format"),
                "must be json or csv",
            )),
        }
    }
}

/// What an export with documents answers: data (JSON, CSV) or a document file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requested {
    Data(ExportFormat),
    File(DocumentFormat),
}

impl Requested {
    /// `format`: json (the default), csv, pdf or xlsx.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw {
            Some("pdf") => Ok(Self::File(DocumentFormat::Pdf)),
            Some("xlsx") => Ok(Self::File(DocumentFormat::Xlsx)),
            other => ExportFormat::parse(other).map(Self::Data).map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    Some("format"),
                    "must be json, csv, pdf or xlsx",
                )
            }),
        }
    }
}

/// `from` and `to` (YYYY-MM-DD, each optional, both ends included); `to` before `from`
/// is refused naming `to`.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<Date>, Option<Date>), ApiError> {
    ordered(query_date(from, "from")?, query_date(to, "to")?)
}

/// `export` as an attachment `<name>-<generated on>.json|csv`: its JSON body `B`, or the
/// CSV `csv` writes of it.
pub(crate) fn attachment<E, B: Serialize + From<E>>(
    format: ExportFormat,
    name: &str,
    generated_on: Date,
    export: E,
    csv: impl FnOnce(&E) -> String,
) -> HttpResponse {
    let disposition = |ext: &str| format!("attachment; filename=\"{name}-{generated_on}.{ext}\"");
    match format {
        ExportFormat::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, disposition("csv")))
            .body(csv(&export)),
        ExportFormat::Json => HttpResponse::Ok()
            .insert_header((header::CONTENT_DISPOSITION, disposition("json")))
            .json(B::from(export)),
    }
}
