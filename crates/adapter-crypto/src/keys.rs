//! The Ed25519 signing keys for access tokens: one file per key, `<kid>.pem` (PKCS#8),
//! one active signing key, the others still verifying until their tokens have expired.

use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{Ed25519KeyPair, KeyPair},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::RngCore;
use serde_json::json;
use zeroize::Zeroizing;

use crate::CryptoConfigError;

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// One Ed25519 key of the set.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// The raw 32-byte public key (the JWK `x`).
    public: Vec<u8>,
}

impl SigningKey {
    fn from_pkcs8_der(kid: String, der: &[u8]) -> Result<Self, CryptoConfigError> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .map_err(|_| CryptoConfigError::InvalidKey { kid: kid.clone() })?;
        let public = pair.public_key().as_ref().to_vec();
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der),
            decoding: DecodingKey::from_ed_der(&public),
            public,
            kid,
        })
    }

    fn from_pem(kid: String, pem: &str) -> Result<Self, CryptoConfigError> {
        let der =
            pem_to_der(pem).ok_or_else(|| CryptoConfigError::InvalidKey { kid: kid.clone() })?;
        Self::from_pkcs8_der(kid, &der)
    }
}

/// The Ed25519 key set behind EdDSA access tokens. Debug output shows key ids only.
pub struct JwtKeySet {
    /// Sorted by kid.
    keys: Vec<SigningKey>,
    active: usize,
}

impl JwtKeySet {
    /// Loads every `<kid>.pem` (unencrypted PKCS#8 Ed25519 private key) in `dir`. The active
    /// signing key is `active_kid` when given, else the last kid in sorted order (generated
    /// kids start with their UTC creation time, so that is the newest).
    ///
    /// A missing or empty directory gives [`CryptoConfigError::NoKeys`]; a file that is not
    /// an Ed25519 key fails the whole load.
    pub fn load_dir(
        dir: impl AsRef<Path>,
        active_kid: Option<&str>,
    ) -> Result<Self, CryptoConfigError> {
        let dir = dir.as_ref();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CryptoConfigError::NoKeys(dir.to_owned()));
            }
            Err(e) => return Err(CryptoConfigError::io(dir, e)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| CryptoConfigError::io(dir, e))?.path();
            let Some(kid) = pem_kid(&path) else { continue };
            // Follows symlinks (mounted secrets are often links).
            let metadata = std::fs::metadata(&path).map_err(|e| CryptoConfigError::io(&path, e))?;
            if !metadata.is_file() {
                continue;
            }
            validate_kid(&kid)?;
            warn_if_readable_by_others(&path, &metadata);
            let pem = Zeroizing::new(
                std::fs::read_to_string(&path).map_err(|e| CryptoConfigError::io(&path, e))?,
            );
            keys.push(SigningKey::from_pem(kid, &pem)?);
        }
        Self::from_keys(keys, active_kid).map_err(|e| match e {
            CryptoConfigError::NoKeys(_) => CryptoConfigError::NoKeys(dir.to_owned()),
            other => other,
        })
    }

    /// Creates a new Ed25519 key in `dir` (created with mode 0700 when missing) as
    /// `<kid>.pem` with mode 0600, and returns its kid. The kid starts with the UTC time
    /// (`20250101T120000Z-1a2b3c4d`), so the newest key sorts last.
    pub fn generate_into_dir(dir: impl AsRef<Path>) -> Result<String, CryptoConfigError> {
        let dir = dir.as_ref();
        create_private_dir(dir)?;
        let kid = new_kid();
        let pem = Zeroizing::new(pem_from_der(generate_pkcs8()?.as_slice()));
        let path = dir.join(format!("{kid}.pem"));
        let mut file = open_private_new(&path).map_err(|e| CryptoConfigError::io(&path, e))?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| CryptoConfigError::io(&path, e))?;
        Ok(kid)
    }

    /// A set of one fresh key that lives only in memory (tests, tools). Tokens signed with
    /// it die with the process.
    pub fn ephemeral() -> Result<Self, CryptoConfigError> {
        let der = generate_pkcs8()?;
        let key = SigningKey::from_pkcs8_der(new_kid(), &der)?;
        Self::from_keys(vec![key], None)
    }

    fn from_keys(
        mut keys: Vec<SigningKey>,
        active_kid: Option<&str>,
    ) -> Result<Self, CryptoConfigError> {
        if keys.is_empty() {
            return Err(CryptoConfigError::NoKeys(PathBuf::new()));
        }
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        let active = match active_kid {
            Some(kid) => keys
                .iter()
                .position(|key| key.kid == kid)
                .ok_or_else(|| CryptoConfigError::UnknownKid(kid.to_owned()))?,
            None => keys.len() - 1,
        };
        Ok(Self { keys, active })
    }

    /// The kid new tokens are signed with.
    pub fn active_kid(&self) -> &str {
        &self.active_key().kid
    }

    /// Every kid in the set, sorted.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.kid.as_str()).collect()
    }

    /// The public JWK set for `GET /.well-known/jwks.json`:
    /// `{"keys":[{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}]}`.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|key| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(&key.public),
                    "kid": key.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        json!({ "keys": keys })
    }

    pub(crate) fn active_key(&self) -> &SigningKey {
        &self.keys[self.active]
    }

    pub(crate) fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys
            .binary_search_by(|key| key.kid.as_str().cmp(kid))
            .ok()
            .map(|i| &self.keys[i])
    }
}

impl fmt::Debug for JwtKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeySet")
            .field("kids", &self.kids())
            .field("active", &self.active_kid())
            .finish()
    }
}

/// Key ids become file names and travel in token headers: keep them plain.
pub(crate) fn validate_kid(kid: &str) -> Result<(), CryptoConfigError> {
    let ok = !kid.is_empty()
        && kid.len() <= 64
        && !kid.starts_with('.')
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CryptoConfigError::InvalidKid(
            kid.chars().take(80).collect(),
        ))
    }
}

fn pem_kid(path: &Path) -> Option<String> {
    if path.extension()? != "pem" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    // Hidden files (editor swap files, `..data` of mounted secrets) are not keys.
    (!stem.starts_with('.')).then(|| stem.to_owned())
}

fn new_kid() -> String {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    let mut suffix = [0u8; 4];
    rand::rng().fill_bytes(&mut suffix);
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    format!("{stamp}-{hex}")
}

fn generate_pkcs8() -> Result<Zeroizing<Vec<u8>>, CryptoConfigError> {
    Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map(|doc| Zeroizing::new(doc.as_ref().to_vec()))
        .map_err(|_| CryptoConfigError::Invalid("Ed25519 key generation failed".to_owned()))
}

fn pem_to_der(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let start = text.find(PEM_BEGIN)? + PEM_BEGIN.len();
    let stop = start + text[start..].find(PEM_END)?;
    let body: Zeroizing<String> = Zeroizing::new(
        text[start..stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    STANDARD.decode(body.as_bytes()).ok().map(Zeroizing::new)
}

fn pem_from_der(der: &[u8]) -> String {
    let body = Zeroizing::new(STANDARD.encode(der));
    let mut pem = String::with_capacity(body.len() + 80);
    pem.push_str(PEM_BEGIN);
    pem.push('\n');
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), CryptoConfigError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CryptoConfigError::io(dir, e))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), CryptoConfigError> {
    std::fs::create_dir_all(dir).map_err(|e| CryptoConfigError::io(dir, e))
}

#[cfg(unix)]
fn open_private_new(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, metadata: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", mode & 0o777),
            "JWT signing key is accessible to group or others; use chmod 600"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path, _metadata: &std::fs::Metadata) {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// A scratch directory removed on drop.
    pub(crate) struct ScratchDir(pub(crate) PathBuf);

    impl ScratchDir {
        pub(crate) fn new() -> Self {
            Self(std::env::temp_dir().join(format!("aura-keys-{}", uuid::Uuid::new_v4())))
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn generate_load_and_rotate() {
        let dir = ScratchDir::new();
        assert!(matches!(
            JwtKeySet::load_dir(&dir.0, None),
            Err(CryptoConfigError::NoKeys(_))
        ));
        let first = JwtKeySet::generate_into_dir(&dir.0).unwrap();
        let set = JwtKeySet::load_dir(&dir.0, None).unwrap();
        assert_eq!(set.active_kid(), first);

        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = JwtKeySet::generate_into_dir(&dir.0).unwrap();
        assert!(second > first);
        let set = JwtKeySet::load_dir(&dir.0, None).unwrap();
        assert_eq!(set.kids(), vec![first.as_str(), second.as_str()]);
        assert_eq!(set.active_kid(), second);
        let pinned = JwtKeySet::load_dir(&dir.0, Some(&first)).unwrap();
        assert_eq!(pinned.active_kid(), first);
        assert!(matches!(
            JwtKeySet::load_dir(&dir.0, Some("nope")),
            Err(CryptoConfigError::UnknownKid(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = ScratchDir::new();
        let kid = JwtKeySet::generate_into_dir(&dir.0).unwrap();
        let mode = std::fs::metadata(dir.0.join(format!("{kid}.pem")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(&dir.0).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    #[test]
    fn broken_files_fail_the_load() {
        let dir = ScratchDir::new();
        JwtKeySet::generate_into_dir(&dir.0).unwrap();
        std::fs::write(
            dir.0.join("broken.pem"),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = JwtKeySet::load_dir(&dir.0, None).unwrap_err();
        assert!(matches!(err, CryptoConfigError::InvalidKey { ref kid } if kid == "broken"));
        std::fs::remove_file(dir.0.join("broken.pem")).unwrap();
        std::fs::write(dir.0.join("bad kid.pem"), "x").unwrap();
        assert!(matches!(
            JwtKeySet::load_dir(&dir.0, None),
            Err(CryptoConfigError::InvalidKid(_))
        ));
    }

    #[test]
    fn openssl_style_pkcs8_v1_keys_load() {
        // `openssl genpkey -algorithm ED25519` (RFC 8410 test key).
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let key = SigningKey::from_pem("rfc8410".to_owned(), pem).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&key.public),
            "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE"
        );
    }

    #[test]
    fn jwks_publishes_public_keys_only() {
        let set = JwtKeySet::ephemeral().unwrap();
        let jwks = set.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], set.active_kid());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(key["x"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert!(key.get("d").is_none());
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert!(!format!("{set:?}").contains("PRIVATE"));
    }

    #[test]
    fn kids_are_plain() {
        for good in ["a", "20250101T120000Z-1a2b3c4d", "key_1.v2"] {
            assert!(validate_kid(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "../x", "a/b", "a b", &"k".repeat(65), "ü"] {
            assert!(validate_kid(bad).is_err(), "{bad}");
        }
    }
}
