//! `aura documents`: export a tenant's documents with a manifest of their hashes, and
//! re-wrap every tenant's data key under the current `DOCUMENT_KEY` after a rotation.

use std::{io::Write, path::PathBuf};

use aura_audit::RequestContext;
use aura_documents::ports::ContentHasher;
use aura_shared_kernel::SystemScope;
use clap::Subcommand;
use serde_json::json;

use crate::{Failure, Output, find_tenant, settings};

#[derive(Subcommand)]
pub(crate) enum DocumentsCommand {
    /// Writes every version whose content is kept into DIR/<document id>/, with
    /// DIR/manifest.json listing each file's SHA-256 (checked while writing).
    Export {
        /// The tenant's slug or id.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        output: PathBuf,
    },
    /// Wraps each tenant's data key under DOCUMENT_KEY (those still under
    /// DOCUMENT_KEY_PREVIOUS); the content is not re-encrypted.
    Rewrap,
}

pub(crate) async fn run(
    system: &SystemScope,
    out: &Output,
    command: DocumentsCommand,
) -> Result<(), Failure> {
    let settings = settings()?;
    let platform = aura_api::platform(&settings)
        .await
        .map_err(Failure::runtime)?;
    let documents = &platform.documents;
    let ctx = RequestContext::default();
    match command {
        DocumentsCommand::Export { tenant, output } => {
            let tenant = find_tenant(&platform.identity, system, &tenant).await?;
            let scope = system.within(tenant.id);
            let records = (documents.records().all(&scope, &ctx))
                .await
                .map_err(Failure::runtime)?;
            std::fs::create_dir_all(&output).map_err(Failure::runtime)?;
            let mut manifest = Vec::new();
            for document in records {
                let id = document.id;
                let versions = (documents.versions(&scope, id, &ctx))
                    .await
                    .map_err(Failure::runtime)?;
                for version in versions.into_iter().filter(|v| v.removed_at.is_none()) {
                    let reader = (documents.open(&scope, id, Some(version.number), &ctx))
                        .await
                        .map_err(Failure::runtime)?;
                    let dir = output.join(id.as_uuid().to_string());
                    std::fs::create_dir_all(&dir).map_err(Failure::runtime)?;
                    let name = format!("v{}-{}", version.number, version.file_name);
                    let mut file =
                        std::fs::File::create(dir.join(&name)).map_err(Failure::runtime)?;
                    let mut hash = aura_adapter_crypto::Sha256ContentHasher.start();
                    for index in 0..version.chunks {
                        let plain = reader.chunk(index).await.map_err(Failure::runtime)?;
                        hash.update(&plain);
                        file.write_all(&plain).map_err(Failure::runtime)?;
                    }
                    let written = hash.finish();
                    if written != version.sha256 {
                        return Err(Failure::runtime(format!(
                            "document {} version {}: the content read does not match its SHA-256",
                            id.as_uuid(),
                            version.number
                        )));
                    }
                    manifest.push(json!({
                        "document_id": id.as_uuid(),
                        "title": document.fields.title,
                        "kind": document.fields.kind.as_str(),
                        "version": version.number,
                        "path": format!("{}/{name}", id.as_uuid()),
                        "media_type": version.media_type.as_str(),
                        "size": version.size,
                        "sha256": version.sha256,
                        "uploaded_at": version.uploaded_at.to_string(),
                    }));
                }
            }
            let text = serde_json::to_string_pretty(&json!({
                "tenant": tenant.id,
                "files": manifest,
            }))
            .map_err(Failure::runtime)?;
            std::fs::write(output.join("manifest.json"), text).map_err(Failure::runtime)?;
            out.print(&json!({ "files": manifest.len() }), || {
                format!(
                    "wrote {} files and manifest.json to {}",
                    manifest.len(),
                    output.display()
                )
            });
        }
        DocumentsCommand::Rewrap => {
            let tenants = platform.identity.admin.list_tenants(system).await?;
            let mut rewrapped = 0;
            for tenant in &tenants {
                let scope = system.within(tenant.id);
                if documents
                    .rewrap_key(&scope)
                    .await
                    .map_err(Failure::runtime)?
                {
                    rewrapped += 1;
                }
            }
            out.print(
                &json!({ "rewrapped": rewrapped, "tenants": tenants.len() }),
                || {
                    format!(
                        "re-wrapped {rewrapped} of {} tenants' data keys",
                        tenants.len()
                    )
                },
            );
        }
    }
    Ok(())
}
