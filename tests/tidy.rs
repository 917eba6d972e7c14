//! Architecture rules that a reviewer would otherwise have to remember:
//! - domain crates depend on small general crates only (no framework, driver or crypto);
//! - the privileged scope constructors are called only where they belong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const DOMAIN_CRATES: &[&str] = &[
    "shared-kernel",
    "records",
    "identity",
    "audit",
    "gdpr-registers",
    "tasks",
    "jobs",
    "ai-port",
    "rate-limit",
    "idempotency",
    "requests",
    "breaches",
    "dpia-screening",
    "dpias",
    "documents",
    "reports",
    "portfolio",
];

/// What a domain crate may depend on: general-purpose crates and other domain crates.
const DOMAIN_ALLOWED: &[&str] = &[
    "serde",
    "serde_json",
    "uuid",
    "time",
    "thiserror",
    "async-trait",
    "tracing",
    "aura-shared-kernel",
    "aura-records",
    "aura-identity",
    "aura-audit",
    "aura-gdpr-registers",
    "aura-tasks",
    "aura-jobs",
    "aura-ai-port",
    "aura-rate-limit",
    "aura-idempotency",
    "aura-requests",
    "aura-breaches",
    "aura-dpia-screening",
    "aura-dpias",
    "aura-documents",
    "aura-reports",
    "aura-portfolio",
];

/// Extra crates a domain crate's own tests may use (runtimes, mocks and property tests, never
/// drivers): the in-memory store is the fake every use-case test runs on.
const DOMAIN_TEST_ALLOWED: &[&str] = &["tokio", "mockall", "aura-adapter-memory", "proptest"];

fn dependency_names(manifest: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == format!("[{section}]");
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            let name = line
                .split(['=', '.'])
                .next()
                .unwrap()
                .trim()
                .trim_matches('"');
            names.push(name.to_owned());
        }
    }
    names
}

#[test]
fn domain_crates_name_no_framework_driver_or_crypto_crate() {
    let mut checked = 0;
    let mut violations = Vec::new();
    for krate in DOMAIN_CRATES {
        let path = root().join("crates").join(krate).join("Cargo.toml");
        let Ok(manifest) = fs::read_to_string(&path) else {
            continue; // not built yet
        };
        checked += 1;
        for name in dependency_names(&manifest, "dependencies") {
            if !DOMAIN_ALLOWED.contains(&name.as_str()) {
                violations.push(format!("{krate} depends on `{name}`"));
            }
        }
        for name in dependency_names(&manifest, "dev-dependencies") {
            if !DOMAIN_ALLOWED.contains(&name.as_str())
                && !DOMAIN_TEST_ALLOWED.contains(&name.as_str())
            {
                violations.push(format!("{krate} (tests) depends on `{name}`"));
            }
        }
    }
    assert!(checked >= 3, "found only {checked} domain crates");
    assert!(
        violations.is_empty(),
        "domain crates must stay pure:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_rule_reader_sees_a_bad_manifest() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nserde.workspace = true\ndiesel = \"2\"\n\"actix-web\" = { version = \"4\" }\n\n[features]\na = []\n";
    assert_eq!(
        dependency_names(manifest, "dependencies"),
        vec!["serde", "diesel", "actix-web"]
    );
}

/// Every non-test Rust file of the workspace, relative to the root.
fn production_sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for top in ["crates", "apps"] {
        collect(&root().join(top), &mut files);
    }
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let is_test = relative.contains("/tests/")
                || relative.starts_with("crates/port-contracts/")
                || relative.ends_with("/testing.rs");
            if is_test {
                return None;
            }
            let text = fs::read_to_string(&path).unwrap();
            // Unit-test modules sit at the end of a file, after `#[cfg(test)]`.
            let production = text.split("#[cfg(test)]").next().unwrap().to_owned();
            Some((relative, production))
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn call_sites(needle: &str) -> Vec<String> {
    production_sources()
        .into_iter()
        .filter(|(path, _)| path != "crates/shared-kernel/src/scope.rs")
        .flat_map(|(path, text)| {
            let count = text.matches(needle).count();
            std::iter::repeat_n(path, count)
        })
        .collect()
}

#[test]
fn a_user_scope_is_built_in_one_place_only() {
    let sites = call_sites("TenantScope::from_verified_principal(");
    assert_eq!(
        sites,
        vec!["crates/identity/src/sign_in.rs"],
        "TenantScope::from_verified_principal must be called only after token verification in identity"
    );
}

#[test]
fn credential_scopes_stay_in_the_credential_flows() {
    let sites = call_sites("TenantScope::for_credential_check(");
    assert!(!sites.is_empty());
    assert!(
        sites.iter().all(|p| p == "crates/identity/src/sign_in.rs"),
        "for_credential_check outside identity's credential flows: {sites:?}"
    );
}

#[test]
fn system_scopes_are_built_by_platform_operations_only() {
    let sites = call_sites("SystemScope::for_platform_operation(");
    let allowed = [
        "apps/cli/src/main.rs",
        "apps/api/src/demo.rs",
        "apps/api/src/worker.rs",
        // The public intake: a confirmed submission opens its request for the tenant
        // whose public page was used, with no user signed in (one call site).
        "crates/requests/src/intake/service.rs",
    ];
    assert!(
        sites.iter().all(|p| allowed.contains(&p.as_str())),
        "SystemScope built outside the CLI, the demo seed and the worker: {sites:?}"
    );
}

#[test]
fn test_constructors_stay_in_tests() {
    let mut sites = call_sites("TenantScope::for_tests(");
    sites.extend(call_sites("TenantScope::for_tests_with("));
    assert!(
        sites.is_empty(),
        "TenantScope::for_tests in production code: {sites:?}"
    );
}

/// Every date a client sends reaches the service through the kernel's plausible range
/// (`aura_shared_kernel::date`): the HTTP adapter neither uses the registers' lenient
/// storage format for request bodies nor parses dates itself.
#[test]
fn client_dates_go_through_the_kernels_plausible_range() {
    let offending: Vec<String> = production_sources()
        .into_iter()
        .filter(|(path, _)| path.starts_with("crates/adapter-http/"))
        .filter(|(_, text)| text.contains("text::iso_date") || text.contains("Date::parse("))
        .map(|(path, _)| path)
        .collect();
    assert!(
        offending.is_empty(),
        "dates parsed outside the kernel: {offending:?}"
    );
    let uses = production_sources()
        .into_iter()
        .filter(|(path, _)| path.starts_with("crates/adapter-http/"))
        .map(|(_, text)| text.matches("date::iso_date").count())
        .sum::<usize>();
    assert!(uses >= 8, "the kernel's iso_date is used {uses} times");
}
