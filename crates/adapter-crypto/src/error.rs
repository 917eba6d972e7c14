use std::path::PathBuf;

/// A problem with the crypto configuration, found at start-up. Messages name files, key ids
/// and limits, never key material, peppers or secrets.
#[derive(Debug, thiserror::Error)]
pub enum CryptoConfigError {
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no signing keys (*.pem) in {0}")]
    NoKeys(PathBuf),
    #[error("key id `{0}` is not in the key set")]
    UnknownKid(String),
    #[error(
        "invalid key id `{0}`: use 1-64 characters of A-Z a-z 0-9 . _ -, not starting with a dot"
    )]
    InvalidKid(String),
    #[error("key `{kid}` is not a PKCS#8 Ed25519 private key in PEM form")]
    InvalidKey { kid: String },
    #[error("{0}")]
    Invalid(String),
}

impl CryptoConfigError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
