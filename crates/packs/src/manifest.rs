//! The manifest: every file's name, size and SHA-256, the tenant, the period and the
//! tenant's audit-chain head at build time (`manifest.json`), signed over its exact bytes
//! (`manifest.sig`); and [`check`], what `aura verify-pack` runs on a received pack.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Period,
    ports::{Digest, PackFile, PublicKeys, SignError, Signature, SignatureCheck, Signer},
};

/// The manifest's format name; a verifier refuses any other.
pub const FORMAT: &str = "aura-accountability-pack/1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// One file the manifest vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub pack_id: Uuid,
    pub tenant_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub built_at: OffsetDateTime,
    pub period: Period,
    /// The tenant's audit-chain head when the pack was built (`null`: an empty chain).
    pub audit_chain_head: Option<String>,
    pub files: Vec<ManifestFile>,
}

/// `files` with their manifest and its signature appended.
pub fn seal(
    files: Vec<PackFile>,
    header: Manifest,
    digest: &dyn Digest,
    signer: &dyn Signer,
) -> Result<Vec<PackFile>, SignError> {
    let manifest = Manifest {
        files: files
            .iter()
            .map(|f| ManifestFile {
                name: f.name.clone(),
                size: f.bytes.len() as u64,
                sha256: digest.sha256_hex(&f.bytes),
            })
            .collect(),
        ..header
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| SignError(e.to_string()))?;
    let signature = signer.sign(&bytes)?;
    let signature = serde_json::to_vec_pretty(&signature).map_err(|e| SignError(e.to_string()))?;
    let mut files = files;
    files.push(PackFile::new(MANIFEST, bytes));
    files.push(PackFile::new(SIGNATURE, signature));
    Ok(files)
}

/// Something wrong with a received pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    MissingManifest,
    UnreadableManifest(String),
    MissingSignature,
    UnreadableSignature(String),
    UnknownKey(String),
    BadSignature,
    /// A name the archive holds twice.
    Duplicate(String),
    Missing(String),
    Extra(String),
    Size {
        name: String,
        expected: u64,
        actual: u64,
    },
    Digest(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingManifest => write!(f, "{MANIFEST} is missing"),
            Self::UnreadableManifest(why) => write!(f, "{MANIFEST} does not read: {why}"),
            Self::MissingSignature => write!(f, "{SIGNATURE} is missing"),
            Self::UnreadableSignature(why) => write!(f, "{SIGNATURE} does not read: {why}"),
            Self::UnknownKey(kid) => write!(f, "no Ed25519 key `{kid}` in the key set"),
            Self::BadSignature => write!(f, "the signature does not match {MANIFEST}"),
            Self::Duplicate(name) => write!(f, "{name}: twice in the archive"),
            Self::Missing(name) => write!(f, "{name}: listed in the manifest, not in the archive"),
            Self::Extra(name) => write!(f, "{name}: in the archive, not in the manifest"),
            Self::Size {
                name,
                expected,
                actual,
            } => write!(f, "{name}: {actual} bytes, the manifest says {expected}"),
            Self::Digest(name) => write!(f, "{name}: SHA-256 differs from the manifest"),
        }
    }
}

/// What a check found: the manifest when it read, the key that signed, the files
/// checked, and every problem (none: the pack is intact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackCheck {
    pub manifest: Option<Manifest>,
    pub kid: Option<String>,
    pub files_checked: usize,
    pub problems: Vec<Problem>,
}

impl PackCheck {
    pub fn intact(&self) -> bool {
        self.problems.is_empty() && self.manifest.is_some()
    }
}

/// Checks a received pack's `files`: the signature of `manifest.json` against `keys`,
/// then every listed file's presence, size and SHA-256, and that nothing else is there.
pub fn check(files: Vec<PackFile>, digest: &dyn Digest, keys: &dyn PublicKeys) -> PackCheck {
    let mut problems = Vec::new();
    let mut by_name: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for file in files {
        if by_name.contains_key(&file.name) {
            problems.push(Problem::Duplicate(file.name.clone()));
        }
        by_name.insert(file.name, file.bytes);
    }
    let manifest_bytes = by_name.remove(MANIFEST);
    let signature_bytes = by_name.remove(SIGNATURE);
    let mut result = PackCheck {
        manifest: None,
        kid: None,
        files_checked: 0,
        problems,
    };
    let Some(manifest_bytes) = manifest_bytes else {
        result.problems.push(Problem::MissingManifest);
        return result;
    };
    match signature_bytes {
        None => result.problems.push(Problem::MissingSignature),
        Some(raw) => match serde_json::from_slice::<Signature>(&raw) {
            Err(e) => result
                .problems
                .push(Problem::UnreadableSignature(e.to_string())),
            Ok(signature) => {
                match keys.verify(&signature, &manifest_bytes) {
                    SignatureCheck::Valid => {}
                    SignatureCheck::Invalid => result.problems.push(Problem::BadSignature),
                    SignatureCheck::UnknownKey => result
                        .problems
                        .push(Problem::UnknownKey(signature.kid.clone())),
                }
                result.kid = Some(signature.kid);
            }
        },
    }
    let manifest = match serde_json::from_slice::<Manifest>(&manifest_bytes) {
        Ok(m) if m.format == FORMAT => m,
        Ok(m) => {
            result.problems.push(Problem::UnreadableManifest(format!(
                "unknown format `{}`",
                m.format
            )));
            return result;
        }
        Err(e) => {
            result
                .problems
                .push(Problem::UnreadableManifest(e.to_string()));
            return result;
        }
    };
    for listed in &manifest.files {
        let Some(bytes) = by_name.remove(&listed.name) else {
            result.problems.push(Problem::Missing(listed.name.clone()));
            continue;
        };
        result.files_checked += 1;
        if bytes.len() as u64 != listed.size {
            result.problems.push(Problem::Size {
                name: listed.name.clone(),
                expected: listed.size,
                actual: bytes.len() as u64,
            });
        }
        if digest.sha256_hex(&bytes) != listed.sha256 {
            result.problems.push(Problem::Digest(listed.name.clone()));
        }
    }
    result
        .problems
        .extend(by_name.into_keys().map(Problem::Extra));
    result.manifest = Some(manifest);
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    /// A digest that is not SHA-256 but tells inputs apart, and a "signature" that is the
    /// message's digest: enough to check the logic (the real ones: adapter-crypto).
    struct Fake;

    impl Digest for Fake {
        fn sha256_hex(&self, bytes: &[u8]) -> String {
            let mut h: u64 = 1469598103934665603;
            for b in bytes {
                h = (h ^ u64::from(*b)).wrapping_mul(1099511628211);
            }
            format!("{h:016x}")
        }
    }

    impl Signer for Fake {
        fn sign(&self, message: &[u8]) -> Result<Signature, SignError> {
            Ok(Signature {
                alg: "EdDSA".to_owned(),
                kid: "k1".to_owned(),
                signature: self.sha256_hex(message),
            })
        }
    }

    impl PublicKeys for Fake {
        fn verify(&self, signature: &Signature, message: &[u8]) -> SignatureCheck {
            if signature.kid != "k1" {
                SignatureCheck::UnknownKey
            } else if signature.signature == self.sha256_hex(message) {
                SignatureCheck::Valid
            } else {
                SignatureCheck::Invalid
            }
        }
    }

    fn sealed() -> Vec<PackFile> {
        let header = Manifest {
            format: FORMAT.to_owned(),
            pack_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            built_at: datetime!(2026-12-11 10:00 UTC),
            period: Period::new(date!(2026 - 01 - 01), date!(2026 - 12 - 31)).unwrap(),
            audit_chain_head: Some("ab".repeat(32)),
            files: Vec::new(),
        };
        let files = vec![
            PackFile::new("a.csv", "one,two\r\n"),
            PackFile::new("b.json", "{}"),
        ];
        seal(files, header, &Fake, &Fake).unwrap()
    }

    #[test]
    fn an_intact_pack_passes() {
        let check = check(sealed(), &Fake, &Fake);
        assert!(check.intact(), "{:?}", check.problems);
        assert_eq!(check.files_checked, 2);
        assert_eq!(check.kid.as_deref(), Some("k1"));
        let manifest = check.manifest.unwrap();
        assert_eq!(manifest.files[0].size, 9);
    }

    #[test]
    fn every_kind_of_change_is_named() {
        let with = |change: &dyn Fn(&mut Vec<PackFile>)| {
            let mut files = sealed();
            change(&mut files);
            check(files, &Fake, &Fake).problems
        };
        assert_eq!(
            with(&|f| f[0].bytes[0] ^= 1),
            [Problem::Digest("a.csv".to_owned())]
        );
        assert_eq!(
            with(&|f| f[1].bytes.push(b' ')),
            [
                Problem::Size {
                    name: "b.json".to_owned(),
                    expected: 2,
                    actual: 3
                },
                Problem::Digest("b.json".to_owned())
            ]
        );
        assert_eq!(with(&|f| f[2].bytes[5] ^= 1)[0], Problem::BadSignature);
        assert_eq!(
            with(&|f| {
                f.remove(0);
            }),
            [Problem::Missing("a.csv".to_owned())]
        );
        assert_eq!(
            with(&|f| f.push(PackFile::new("c.txt", "x"))),
            [Problem::Extra("c.txt".to_owned())]
        );
        assert!(
            with(&|f| f.push(PackFile::new("a.csv", "x")))
                .contains(&Problem::Duplicate("a.csv".to_owned()))
        );
        assert_eq!(
            with(&|f| {
                f.pop();
            }),
            [Problem::MissingSignature]
        );
        assert_eq!(
            with(&|f| f[3].bytes = br#"{"alg":"EdDSA","kid":"k2","signature":"x"}"#.to_vec()),
            [Problem::UnknownKey("k2".to_owned())]
        );
        assert!(!check(Vec::new(), &Fake, &Fake).intact());
    }
}
