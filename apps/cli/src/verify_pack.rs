//! `aura verify-pack FILE [--jwks URL|FILE]`: checks a received accountability pack with
//! nothing but the server's public keys — the signature of `manifest.json` by the key its
//! `manifest.sig` names, then every file's size and SHA-256, and that no file is missing
//! or extra. Needs no database. Exit 0: intact; 1: not intact (or unreadable).

use std::path::{Path, PathBuf};

use aura_adapter_crypto::{JwksKeys, Sha256Digest};
use aura_adapter_reports::ZipArchiver;
use aura_packs::{manifest, ports::Archive};
use serde_json::json;

use crate::{Failure, Output};

/// What is unpacked at most (a pack is a few MiB; a crafted archive stops here).
const MAX_UNPACKED: u64 = 512 * 1024 * 1024;

pub(crate) async fn run(out: &Output, file: PathBuf, jwks: Option<String>) -> Result<(), Failure> {
    let source = match jwks {
        Some(source) => source,
        None => match std::env::var("PUBLIC_BASE_URL") {
            Ok(base) => format!("{}/.well-known/jwks.json", base.trim_end_matches('/')),
            Err(_) => {
                return Err(Failure::usage(
                    "--jwks: required (a URL or file of the server's JWKS) unless PUBLIC_BASE_URL is set",
                ));
            }
        },
    };
    let keys = JwksKeys::from_json(&read_jwks(&source).await?)
        .map_err(|e| Failure::usage(format!("--jwks {source}: {e}")))?;
    if keys.is_empty() {
        return Err(Failure::usage(format!("--jwks {source}: no Ed25519 key")));
    }
    let bytes =
        std::fs::read(&file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
    let files = ZipArchiver
        .unpack(&bytes, MAX_UNPACKED)
        .map_err(|e| Failure::runtime(format!("{}: NOT INTACT: {e}", file.display())))?;
    let check = manifest::check(files, &Sha256Digest, &keys);
    let problems: Vec<String> = check.problems.iter().map(ToString::to_string).collect();
    let m = check.manifest.as_ref();
    out.print(
        &json!({
            "file": file.display().to_string(),
            "intact": check.intact(),
            "pack_id": m.map(|m| m.pack_id),
            "tenant_id": m.map(|m| m.tenant_id),
            "period": m.map(|m| &m.period),
            "built_at": m.map(|m| m.built_at.to_string()),
            "audit_chain_head": m.and_then(|m| m.audit_chain_head.clone()),
            "kid": check.kid,
            "files_checked": check.files_checked,
            "problems": problems,
        }),
        || report(&file, &check, &problems),
    );
    if check.intact() {
        Ok(())
    } else {
        Err(Failure::runtime(format!(
            "{}: NOT INTACT ({} problem(s))",
            file.display(),
            problems.len().max(1)
        )))
    }
}

fn report(file: &Path, check: &manifest::PackCheck, problems: &[String]) -> String {
    let mut lines = vec![format!("{}", file.display())];
    if let Some(m) = &check.manifest {
        lines.push(format!("  pack      {}", m.pack_id));
        lines.push(format!("  tenant    {}", m.tenant_id));
        lines.push(format!("  period    {} to {}", m.period.from, m.period.to));
        lines.push(format!("  built at  {}", m.built_at));
        lines.push(format!(
            "  chain head {}",
            m.audit_chain_head.as_deref().unwrap_or("(empty chain)")
        ));
    }
    if let Some(kid) = &check.kid {
        lines.push(format!("  signed by key {kid}"));
    }
    lines.push(format!("  {} files checked", check.files_checked));
    for problem in problems {
        lines.push(format!("  FAIL {problem}"));
    }
    lines.push(if check.intact() {
        "INTACT: the signature and every file match the manifest".to_owned()
    } else {
        "NOT INTACT".to_owned()
    });
    lines.join("\n")
}

/// The JWKS document at `source`: an http(s) URL or a file.
async fn read_jwks(source: &str) -> Result<String, Failure> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let fetch = async {
            reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(15))
                .build()?
                .get(source)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await
        };
        fetch
            .await
            .map_err(|e| Failure::runtime(format!("--jwks {source}: {e}")))
    } else {
        std::fs::read_to_string(source).map_err(|e| Failure::usage(format!("--jwks {source}: {e}")))
    }
}
