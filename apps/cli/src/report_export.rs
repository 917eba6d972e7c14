//! `aura export --format pdf|xlsx`: the register as a document, rendered with the same
//! report model and renderers the API uses, stamped with the tenant's audit-chain head.

use std::path::PathBuf;

use aura_adapter_reports::{PdfRenderer, XlsxWriter};
use aura_gdpr_registers::RecordKind;
use aura_reports::{
    Language, ReportRenderer, Stamp, WorkbookWriter, register_report, register_workbook,
};
use aura_shared_kernel::SystemScope;

use crate::{Failure, find_tenant, settings};

pub(crate) struct Request {
    pub tenant: String,
    pub kind: RecordKind,
    pub format: String,
    pub lang: Option<String>,
    pub output: Option<PathBuf>,
}

pub(crate) async fn run(system: &SystemScope, request: Request) -> Result<(), Failure> {
    let Some(output) = request.output else {
        return Err(Failure::usage("--output: required for pdf and xlsx"));
    };
    let language = match request.lang.as_deref() {
        None => None,
        Some("en") => Some(Language::En),
        Some("de") => Some(Language::De),
        Some(_) => return Err(Failure::usage("--lang: must be en or de")),
    };
    let settings = settings()?;
    let platform = aura_api::platform(&settings)
        .await
        .map_err(Failure::runtime)?;
    let tenant = find_tenant(&platform.identity, system, &request.tenant).await?;
    let language = language.unwrap_or_else(|| Language::from_tag(tenant.settings.language()));
    let scope = system.within(tenant.id);
    let export = platform
        .registers
        .export(&scope, request.kind, &Default::default())
        .await
        .map_err(Failure::runtime)?;
    let bytes = if request.format == "pdf" {
        let stamp = Stamp {
            generated_at: export.generated_at,
            chain_head: platform
                .audit
                .head(&scope)
                .await
                .map_err(Failure::runtime)?,
        };
        PdfRenderer.render(&register_report(&export, language, stamp))
    } else {
        XlsxWriter.write(&register_workbook(&export, language))
    }
    .map_err(Failure::runtime)?;
    std::fs::write(&output, bytes).map_err(Failure::runtime)?;
    eprintln!(
        "wrote {} activities to {}",
        export.activities.len(),
        output.display()
    );
    Ok(())
}
