//! Signing keys and the password pepper: from configuration in production; generated and
//! persisted (with a warning) in development; throw-away in demo mode.

use std::{fs, io::Write, path::Path};

use aura_adapter_crypto::{Hs256Secret, JwtAccessTokens, JwtKeySet, JwtMode, Pepper};
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::{
    StartError,
    config::{Environment, Settings},
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
    if let Some(pepper) = &settings.password_pepper {
        return Pepper::from_base64(pepper.expose())
            .map_err(|e| StartError::from("PASSWORD_PEPPER", e));
    }
    if demo {
        return Pepper::from_bytes(random_bytes()).map_err(|e| StartError::from("pepper", e));
    }
    // Development on PostgreSQL: the pepper must survive restarts or no password verifies.
    let path = settings.jwt_keys_dir.with_file_name("password-pepper");
    if let Ok(text) = fs::read_to_string(&path) {
        return Pepper::from_base64(text.trim())
            .map_err(|e| StartError::from("password-pepper file", e));
    }
    let text = STANDARD.encode(random_bytes());
    write_private(&path, &text).map_err(|e| StartError::from("password-pepper file", e))?;
    tracing::warn!(path = %path.display(), "PASSWORD_PEPPER not set: generated one (development only)");
    Pepper::from_base64(&text).map_err(|e| StartError::from("pepper", e))
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
