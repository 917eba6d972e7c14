//! Reports as files, in the tenant's language (or `lang`), stamped with the generation
//! time and the tenant's audit-chain head: the register as PDF (Art. 30(1) or 30(2)) or
//! XLSX — the register export route (`GET /api/v1/registers/export?format=pdf|xlsx`)
//! answers through here —, and one record as PDF: a DPIA, a breach's notification to the
//! authority (Art. 33(3)), a data-subject request's answer letter, a policy version. Each
//! record's PDF reads the record through its register's use cases (the read permission;
//! another tenant's id is 404). Rendering runs on the blocking pool, off the request
//! threads.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use aura_breaches::{
    defaults::present, draft::notification_draft, export::export as breach_export,
};
use aura_gdpr_registers::RegisterExport;
use aura_records::UseCaseError;
use aura_reports::{
    Language, OtherRegisters, RenderError, Report, Stamp, breach_report, dpia_report,
    policy_report, register_report, register_sheets, register_workbook, request_letter,
};
use aura_requests::export::export as request_export;
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, parse_query},
    routes::{params::typed_id, registers::version_number},
};

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

/// The stamp of a report the caller generates at `generated_at`: the tenant's chain head.
async fn stamp(caller: &Caller, generated_at: OffsetDateTime) -> Result<Stamp, ApiError> {
    Ok(Stamp {
        generated_at,
        chain_head: caller.state.audit.head(caller.scope()).await?,
    })
}

/// `render` run on the blocking pool, answered as the attachment
/// `<name>-<generated on>.pdf|xlsx`.
async fn file(
    render: impl FnOnce() -> Result<Vec<u8>, RenderError> + Send + 'static,
    format: DocumentFormat,
    name: &str,
    generated_on: Date,
) -> Result<HttpResponse, ApiError> {
    let bytes = web::block(render)
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

/// The register `export` as `format`, an attachment `<name>-<generated on>.pdf|xlsx`.
pub(crate) async fn register_file(
    caller: &Caller,
    export: RegisterExport,
    format: DocumentFormat,
    language: Language,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let stamp = stamp(caller, export.generated_at).await?;
    let others = match format {
        DocumentFormat::Pdf => None,
        DocumentFormat::Xlsx => Some(other_registers(caller, export.generated_at).await?),
    };
    let reports = caller.state.reports.clone();
    let generated_on = export.generated_at.date();
    let render = move || match others {
        None => reports
            .renderer
            .render(&register_report(&export, language, stamp)),
        Some(others) => {
            let mut workbook = register_workbook(&export, language);
            (workbook.sheets).extend(register_sheets(&export, &others, language));
            reports.workbooks.write(&workbook)
        }
    };
    file(render, format, name, generated_on).await
}

/// The registers the workbook adds, read through their use cases in the caller's tenant
/// (each with its read permission): the breaches without the drills, the requests, the
/// DPIAs and the tasks.
async fn other_registers(caller: &Caller, now: OffsetDateTime) -> Result<OtherRegisters, ApiError> {
    let (state, scope, ctx) = (&caller.state, caller.scope(), caller.ctx());
    let open = (None, None);
    Ok(OtherRegisters {
        breaches: breach_export(state.breaches.records(), scope, open, false, now, ctx).await?,
        requests: request_export(state.requests.records(), scope, None, None, now, ctx).await?,
        dpias: state.dpias.records().all(scope, ctx).await?,
        tasks: state.tasks.records().all(scope, ctx).await?,
    })
}

/// A record's report, built by `build` with the stamp of now, as the PDF attachment
/// `<name>-<today>.pdf`.
async fn record_pdf(
    caller: &Caller,
    name: &str,
    build: impl FnOnce(Stamp) -> Report + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let now = OffsetDateTime::now_utc();
    let stamp = stamp(caller, now).await?;
    let renderer = caller.state.reports.renderer.clone();
    let render = move || renderer.render(&build(stamp));
    file(render, DocumentFormat::Pdf, name, now.date()).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PdfParams {
    /// en or de (default: the tenant's `language` setting).
    #[param(pattern = "^(en|de)$")]
    pub lang: Option<String>,
}

fn pdf_language(req: &HttpRequest, caller: &Caller) -> Result<Language, ApiError> {
    let p: PdfParams = parse_query(req)?;
    language(caller, p.lang.as_deref())
}

/// The DPIA as a PDF: the covered activities, the Art. 35(7) content (description,
/// necessity and proportionality, risks before and after the measures, measures), the
/// DPO's advice, the people's views, the approval and the Art. 36 prior consultation.
#[utoipa::path(get, path = "/api/v1/dpias/{id}/pdf", tag = "dpias", security(("bearer" = [])),
    params(("id" = Uuid, Path), PdfParams),
    responses((status = 200, description = "the DPIA as a PDF document", content((BinaryFile = "application/pdf"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn dpia_pdf(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let language = pdf_language(&req, &caller)?;
    let id = typed_id(&path)?;
    let dpia = (caller.state.dpias.records())
        .get(caller.scope(), id, caller.ctx())
        .await?;
    let store = caller.state.registers.activity_records().store();
    let activities = present(store, caller.scope(), &dpia.fields.activity_ids)
        .await
        .map_err(UseCaseError::from)?;
    record_pdf(&caller, &format!("dpia-{id}"), move |stamp| {
        dpia_report(&dpia, &activities, language, stamp)
    })
    .await
}

/// The notification of the breach to the supervisory authority as a PDF, under the Art.
/// 33(3) headings, with the controller, the 72-hour deadline, the reasons for a delay, the
/// phases so far and what the record still lacks. Changes nothing.
#[utoipa::path(get, path = "/api/v1/breaches/{id}/pdf", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), PdfParams),
    responses((status = 200, description = "the notification draft as a PDF document", content((BinaryFile = "application/pdf"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn breach_pdf(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let language = pdf_language(&req, &caller)?;
    let state = &caller.state;
    let draft = notification_draft(
        state.breaches.records(),
        &state.registers,
        caller.scope(),
        typed_id(&path)?,
        OffsetDateTime::now_utc(),
        caller.ctx(),
    )
    .await?;
    let name = format!("breach-notification-{}", draft.reference);
    record_pdf(&caller, &name, move |stamp| {
        breach_report(&draft, language, stamp)
    })
    .await
}

/// The answer letter of a data-subject request as a PDF: addressed to the person by name,
/// the rights exercised, the outcome and its legal basis, the dates received and answered
/// (a request not answered yet: a draft with the due date).
#[utoipa::path(get, path = "/api/v1/data-subject-requests/{id}/pdf", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path), PdfParams),
    responses((status = 200, description = "the answer letter as a PDF document", content((BinaryFile = "application/pdf"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn request_pdf(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let language = pdf_language(&req, &caller)?;
    let request = (caller.state.requests.records())
        .get(caller.scope(), typed_id(&path)?, caller.ctx())
        .await?;
    let organisation = caller
        .state
        .registers
        .organisation(caller.scope(), caller.ctx())
        .await?
        .map(|o| o.profile);
    let name = format!("request-answer-{}", request.derived.reference);
    record_pdf(&caller, &name, move |stamp| {
        request_letter(&request, organisation.as_ref(), language, stamp)
    })
    .await
}

/// A version of a policy as a PDF: the policy's title and kind, the version's number,
/// status and effective date (its publication), what changed, and its text.
#[utoipa::path(get, path = "/api/v1/policies/{id}/versions/{number}/pdf", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i32, Path), PdfParams),
    responses((status = 200, description = "the policy version as a PDF document", content((BinaryFile = "application/pdf"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn policy_version_pdf(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let language = pdf_language(&req, &caller)?;
    let (id, number) = path.into_inner();
    let (id, number) = (typed_id(&id)?, version_number(&number)?);
    let policy = caller
        .state
        .registers
        .policy_records()
        .get(caller.scope(), id, caller.ctx())
        .await?;
    let version = caller
        .state
        .registers
        .version(caller.scope(), id, number, caller.ctx())
        .await?;
    record_pdf(&caller, &format!("policy-{id}-v{number}"), move |stamp| {
        policy_report(&policy, &version, language, stamp)
    })
    .await
}
