//! Signing keys, the password pepper and the audit chain key: from configuration in production; generated and
//! persisted (with a warning) in development; throw-away in demo mode.

use std::{fs, io::Write, path::Path};

use aura_adapter_crypto::{
    ChainKey, HmacChainHasher, Hs256Secret, JwtAccessTokens, JwtKeySet, JwtMode, Pepper,
};
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::{
    StartError,
    config::{Environment, Secret, Settings},
};

pub fn access_tokens(settings: &Settings, demo: bool) -> Result<JwtAccessTokens, StartError> {
    let mode = if let Some(secret) = &settings.jwt_hs256_secret {
        tracing::warn!("JWT_HS256_SECRET is set: access tokens use HS256 (development only)");
        JwtMode::Hs256Dev(
            Hs256Secret::new(secret.expose().as_bytes().to_vec())
                .map_err(|e| StartError::from("JWT_HS256_SECRET", e))?,
        )
    } else if demo {
        // Demo mode and the CLI: keys that live as long as the process.
        JwtMode::EdDsa(JwtKeySet::ephemeral().map_err(|e| StartError::from("signing key", e))?)
    } else {
        JwtMode::EdDsa(load_or_create_keys(settings)?)
    };
    JwtAccessTokens::new(
        mode,
        &settings.jwt_issuer,
        &settings.jwt_audience,
        time::Duration::seconds(settings.access_token_ttl_secs),
    )
    .map_err(|e| StartError::from("JWT settings", e))
}

fn load_or_create_keys(settings: &Settings) -> Result<JwtKeySet, StartError> {
    let dir = &settings.jwt_keys_dir;
    let has_keys = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "pem"))
        })
        .unwrap_or(false);
    if !has_keys {
        if settings.environment == Environment::Production {
            return Err(StartError(format!(
                "JWT_KEYS_DIR: no signing key (*.pem) in {}; create one with `aura keys generate` before starting in production",
                dir.display()
            )));
        }
        let kid =
            JwtKeySet::generate_into_dir(dir).map_err(|e| StartError::from("JWT_KEYS_DIR", e))?;
        tracing::warn!(kid, dir = %dir.display(), "no signing key found: generated one (development only)");
    }
    JwtKeySet::load_dir(dir, settings.jwt_active_kid.as_deref())
        .map_err(|e| StartError::from("JWT_KEYS_DIR", e))
}

pub fn password_pepper(settings: &Settings, demo: bool) -> Result<Pepper, StartError> {
    let text = configured_or_generated(
        settings.password_pepper.as_ref(),
        demo,
        &settings.jwt_keys_dir.with_file_name("password-pepper"),
        "PASSWORD_PEPPER",
    )?;
    Pepper::from_base64(&text).map_err(|e| StartError::from("PASSWORD_PEPPER", e))
}

/// The audit chain's hasher under `AUDIT_CHAIN_KEY` (in development a generated key file
/// beside the pepper's, random in demo mode).
pub fn audit_chain(settings: &Settings, demo: bool) -> Result<HmacChainHasher, StartError> {
    let text = configured_or_generated(
        settings.audit.chain_key.as_ref(),
        demo,
        &settings.jwt_keys_dir.with_file_name("audit-chain-key"),
        "AUDIT_CHAIN_KEY",
    )?;
    let key = ChainKey::from_base64(&text).map_err(|e| StartError::from("AUDIT_CHAIN_KEY", e))?;
    Ok(HmacChainHasher::new(&key))
}

/// A secret's base64 text: the configured one; in demo mode a random one; in development
/// on PostgreSQL one kept in `path`, generated the first time (it must survive restarts,
/// or no password and no audit link verifies).
fn configured_or_generated(
    configured: Option<&Secret>,
    demo: bool,
    path: &Path,
    variable: &str,
) -> Result<String, StartError> {
    if let Some(secret) = configured {
        return Ok(secret.expose().to_owned());
    }
    if demo {
        return Ok(STANDARD.encode(random_bytes()));
    }
    if let Ok(text) = fs::read_to_string(path) {
        return Ok(text.trim().to_owned());
    }
    let text = STANDARD.encode(random_bytes());
    write_private(path, &text).map_err(|e| StartError::from(variable, e))?;
    tracing::warn!(path = %path.display(), variable, "not set: generated one (development only)");
    Ok(text)
}

fn random_bytes() -> Vec<u8> {
    let token = aura_identity::ports::Secrets::opaque_token(&aura_adapter_crypto::RandomSecrets);
    token.hash.0.to_vec()
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// The documents' content cipher: tenants' data keys wrapped under `DOCUMENT_KEY` (else a
/// key derived from the pepper), still opening those wrapped under
/// `DOCUMENT_KEY_PREVIOUS` during a rotation.
pub fn document_cipher(
    settings: &Settings,
    pepper: &Pepper,
) -> Result<aura_adapter_crypto::AesGcmContentCipher, StartError> {
    use aura_adapter_crypto::{AesGcmContentCipher, DocumentKey};
    let parse = |secret: &Secret, name: &str| {
        DocumentKey::from_base64(secret.expose()).map_err(|e| StartError::from(name, e))
    };
    let documents = &settings.documents;
    let current = match &documents.key {
        Some(secret) => parse(secret, "DOCUMENT_KEY")?,
        None => DocumentKey::from_pepper(pepper),
    };
    let previous = (documents.previous_key.as_ref())
        .map(|secret| parse(secret, "DOCUMENT_KEY_PREVIOUS"))
        .transpose()?;
    Ok(AesGcmContentCipher::new(&current, previous.as_ref()))
}
