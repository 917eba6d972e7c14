//! Reports as files: the register as PDF (Art. 30(1) or 30(2)) or XLSX, in the tenant's
//! language, stamped with the generation time and the tenant's audit-chain head. The
//! register export route (`GET /api/v1/registers/export?format=pdf|xlsx`) answers
//! through here; rendering runs on the blocking pool, off the request threads.

use actix_web::{HttpResponse, http::header, web};
use aura_gdpr_registers::RegisterExport;
use aura_reports::{Language, RenderError, Stamp, register_report, register_workbook};
use utoipa::ToSchema;

use crate::{error::ApiError, extract::Caller};

/// A file's bytes (a PDF document or an XLSX workbook).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct BinaryFile(#[allow(dead_code)] Vec<u8>);

pub(crate) const PDF: &str = "application/pdf";
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A document format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocumentFormat {
    Pdf,
    Xlsx,
}

/// The report's language: `lang` if given (`en` or `de`), else the tenant's setting.
pub(crate) fn language(caller: &Caller, lang: Option<&str>) -> Result<Language, ApiError> {
    match lang {
        None => Ok(Language::from_tag(caller.auth.tenant.settings.language())),
        Some("en") => Ok(Language::En),
        Some("de") => Ok(Language::De),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            Some("lang"),
            "must be en or de",
        )),
    }
}

fn render_failed(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::Internal(Box::new(e))
}

/// The register `export` as `format`, an attachment `<name>-<generated on>.pdf|xlsx`.
pub(crate) async fn register_file(
    caller: &Caller,
    export: RegisterExport,
    format: DocumentFormat,
    language: Language,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let stamp = Stamp {
        generated_at: export.generated_at,
        chain_head: caller.state.audit.head(caller.scope()).await?,
    };
    let reports = caller.state.reports.clone();
    let generated_on = export.generated_at.date();
    let bytes = web::block(move || -> Result<Vec<u8>, RenderError> {
        match format {
            DocumentFormat::Pdf => reports
                .renderer
                .render(&register_report(&export, language, stamp)),
            DocumentFormat::Xlsx => reports
                .workbooks
                .write(&register_workbook(&export, language)),
        }
    })
    .await
    .map_err(render_failed)?
    .map_err(render_failed)?;
    let (content_type, ext) = match format {
        DocumentFormat::Pdf => (PDF, "pdf"),
        DocumentFormat::Xlsx => (XLSX, "xlsx"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}-{generated_on}.{ext}\""),
        ))
        .body(bytes))
}
