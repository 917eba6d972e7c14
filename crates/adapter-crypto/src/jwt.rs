//! Access tokens: JWTs signed with Ed25519 (EdDSA) from a [`JwtKeySet`], or HS256 as an
//! explicit development option. Verification follows RFC 8725: one allowed algorithm,
//! required `iss`/`aud`/`typ`/`exp`/`nbf`/`iat`, a known `kid`, no key-carrying headers,
//! and time checks against the injected clock with at most 30 s of leeway.

use std::{
    collections::HashMap,
    fmt,
    sync::{Mutex, PoisonError},
};

use aura_identity::{
    AccessClaims,
    ports::{AccessTokens, CryptoError, TokenRejected},
};
use aura_shared_kernel::{Role, TenantId, TenantSlug, UserId};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    errors::ErrorKind,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{CryptoConfigError, JwtKeySet};

/// The `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_HEADER_TYP: &str = "at+jwt";
/// The `typ` claim of access tokens; refresh tokens are opaque and never JWTs, but any
/// other `typ` is refused all the same.
pub const ACCESS_TOKEN_TYP: &str = "access";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;
/// Longer strings are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest access-token lifetime accepted by [`JwtAccessTokens::new`].
pub const MAX_LIFETIME: Duration = Duration::hours(1);

const HS256_KID: &str = "hs256-dev";

/// An HS256 secret for development (at least 32 bytes); never printed.
#[derive(Clone)]
pub struct Hs256Secret(Zeroizing<Vec<u8>>);

impl Hs256Secret {
    pub const MIN_BYTES: usize = 32;

    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, CryptoConfigError> {
        let secret = Zeroizing::new(secret.into());
        if secret.len() < Self::MIN_BYTES {
            return Err(CryptoConfigError::Invalid(format!(
                "the HS256 development secret must be at least {} bytes",
                Self::MIN_BYTES
            )));
        }
        Ok(Self(secret))
    }
}

impl fmt::Debug for Hs256Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hs256Secret(<redacted>)")
    }
}

/// How access tokens are signed.
#[derive(Debug)]
pub enum JwtMode {
    /// Production: Ed25519 keys with `kid`s and a public JWKS.
    EdDsa(JwtKeySet),
    /// Development only: a shared HMAC secret. No JWKS is published.
    Hs256Dev(Hs256Secret),
}

enum Keys {
    EdDsa(JwtKeySet),
    Hs256 {
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
}

/// [`AccessTokens`] as JWTs.
pub struct JwtAccessTokens {
    keys: Keys,
    issuer: String,
    audience: String,
    lifetime: Duration,
    validation: Validation,
    verified: VerifiedTokens,
}

/// How many verified tokens an instance remembers (about 200 bytes each).
pub const VERIFIED_TOKENS_KEPT: usize = 4096;

/// The access tokens this instance has verified, by the SHA-256 of the whole token, with
/// what their checks found. A client presents one access token on every request of its
/// short life, and checking its Ed25519 signature is most of what authenticating a request
/// costs; a token's bytes — so its signature, key and claims — cannot change, so checking
/// them once is enough. Its times are checked again on every use, and the caller re-reads
/// the principal on every request: revocation never depends on this. Only tokens that
/// passed every check are kept; when full, the expired ones are forgotten, or all.
#[derive(Default)]
struct VerifiedTokens(Mutex<HashMap<[u8; 32], Verified>>);

#[derive(Clone)]
struct Verified {
    claims: AccessClaims,
    times: Times,
}

/// A token's registered times, in Unix seconds.
#[derive(Debug, Clone, Copy)]
struct Times {
    iat: i64,
    nbf: i64,
    exp: i64,
}

impl VerifiedTokens {
    fn get(&self, digest: &[u8; 32]) -> Option<Verified> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
            .cloned()
    }

    fn keep(&self, digest: [u8; 32], verified: Verified, now: i64) {
        let mut entries = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= VERIFIED_TOKENS_KEPT {
            entries.retain(|_, kept| !kept.times.expired_at(now));
            if entries.len() >= VERIFIED_TOKENS_KEPT {
                entries.clear();
            }
        }
        entries.insert(digest, verified);
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Times {
    fn expired_at(self, now: i64) -> bool {
        now > self.exp.saturating_add(LEEWAY_SECONDS)
    }

    /// The checks against the injected clock, with [`LEEWAY_SECONDS`] either way.
    fn check(self, now: OffsetDateTime) -> Result<(), TokenRejected> {
        let now = now.unix_timestamp();
        if self.expired_at(now) {
            return Err(TokenRejected("expired"));
        }
        if self.nbf > now.saturating_add(LEEWAY_SECONDS) {
            return Err(TokenRejected("not yet valid"));
        }
        if self.iat > now.saturating_add(LEEWAY_SECONDS) {
            return Err(TokenRejected("issued in the future"));
        }
        Ok(())
    }
}

/// The claims on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct WireClaims {
    iss: String,
    aud: String,
    sub: Uuid,
    tenant_id: Uuid,
    tenant_slug: String,
    role: String,
    jti: Uuid,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(default)]
    typ: Option<String>,
    sid: Uuid,
    sv: i32,
}

impl JwtAccessTokens {
    /// Tokens from `mode`, naming `issuer` and `audience` (both required on every token
    /// verified), valid for `lifetime` (1 s to 1 h; 5–15 min recommended).
    pub fn new(
        mode: JwtMode,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        lifetime: Duration,
    ) -> Result<Self, CryptoConfigError> {
        let issuer = issuer.into();
        let audience = audience.into();
        if issuer.trim().is_empty() || audience.trim().is_empty() {
            return Err(CryptoConfigError::Invalid(
                "the token issuer and audience must not be empty".to_owned(),
            ));
        }
        if lifetime < Duration::SECOND || lifetime > MAX_LIFETIME {
            return Err(CryptoConfigError::Invalid(
                "the access-token lifetime must be between 1 second and 1 hour".to_owned(),
            ));
        }
        let (keys, algorithm) = match mode {
            JwtMode::EdDsa(set) => (Keys::EdDsa(set), Algorithm::EdDSA),
            JwtMode::Hs256Dev(secret) => (
                Keys::Hs256 {
                    encoding: EncodingKey::from_secret(&secret.0),
                    decoding: DecodingKey::from_secret(&secret.0),
                },
                Algorithm::HS256,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.validate_aud = true;
        // Time is checked against the injected clock in `verify`, not the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.reject_tokens_expiring_in_less_than = 0;
        Ok(Self {
            keys,
            issuer,
            audience,
            lifetime,
            validation,
            verified: VerifiedTokens::default(),
        })
    }

    fn algorithm(&self) -> Algorithm {
        match self.keys {
            Keys::EdDsa(_) => Algorithm::EdDSA,
            Keys::Hs256 { .. } => Algorithm::HS256,
        }
    }

    /// The public JWK set; empty in HS256 mode (a shared secret is never published).
    pub fn jwks(&self) -> serde_json::Value {
        match &self.keys {
            Keys::EdDsa(set) => set.jwks(),
            Keys::Hs256 { .. } => serde_json::json!({ "keys": [] }),
        }
    }

    /// The Ed25519 key set (none in HS256 mode).
    pub(crate) fn key_set(&self) -> Option<&JwtKeySet> {
        match &self.keys {
            Keys::EdDsa(set) => Some(set),
            Keys::Hs256 { .. } => None,
        }
    }

    /// Whether tokens are signed with the development HS256 secret.
    pub fn is_development_mode(&self) -> bool {
        matches!(self.keys, Keys::Hs256 { .. })
    }

    fn check_header(&self, header: &Header) -> Result<&DecodingKey, TokenRejected> {
        if header.alg != self.algorithm() {
            return Err(TokenRejected("algorithm not allowed"));
        }
        let typ_ok = header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(ACCESS_TOKEN_HEADER_TYP)
                || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(TokenRejected("header typ is not at+jwt"));
        }
        // Keys and certificates named by the token itself are never fetched nor trusted.
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.x5t.is_some()
            || header.x5t_s256.is_some()
        {
            return Err(TokenRejected("key-carrying header"));
        }
        if header.crit.is_some()
            || header.cty.is_some()
            || header.zip.is_some()
            || header.enc.is_some()
        {
            return Err(TokenRejected("unsupported header"));
        }
        if header
            .extras
            .inner()
            .keys()
            .any(|k| matches!(k.as_str(), "x5t#S256" | "b64"))
        {
            return Err(TokenRejected("unsupported header"));
        }
        let kid = header.kid.as_deref().ok_or(TokenRejected("missing kid"))?;
        match &self.keys {
            Keys::EdDsa(set) => set
                .find(kid)
                .map(|key| &key.decoding)
                .ok_or(TokenRejected("unknown kid")),
            Keys::Hs256 { decoding, .. } if kid == HS256_KID => Ok(decoding),
            Keys::Hs256 { .. } => Err(TokenRejected("unknown kid")),
        }
    }

    /// What the signed claims say, once the checks that do not depend on the time passed.
    fn check_claims(&self, wire: WireClaims) -> Result<Verified, TokenRejected> {
        // Belt and braces: jsonwebtoken has checked these already.
        if wire.iss != self.issuer {
            return Err(TokenRejected("wrong issuer"));
        }
        if wire.aud != self.audience {
            return Err(TokenRejected("wrong audience"));
        }
        if wire.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return Err(TokenRejected("not an access token"));
        }
        if wire.iat > wire.exp || wire.nbf > wire.exp {
            return Err(TokenRejected("inconsistent times"));
        }
        let tenant_slug = TenantSlug::parse(&wire.tenant_slug)
            .map_err(|_| TokenRejected("malformed tenant_slug"))?;
        let role: Role = wire
            .role
            .parse()
            .map_err(|_| TokenRejected("malformed role"))?;
        let issued_at = OffsetDateTime::from_unix_timestamp(wire.iat)
            .map_err(|_| TokenRejected("malformed iat"))?;
        let expires_at = OffsetDateTime::from_unix_timestamp(wire.exp)
            .map_err(|_| TokenRejected("malformed exp"))?;
        if wire.sub.is_nil() || wire.tenant_id.is_nil() {
            return Err(TokenRejected("malformed subject"));
        }
        Ok(Verified {
            claims: AccessClaims {
                user: UserId::from_uuid(wire.sub),
                tenant: TenantId::from_uuid(wire.tenant_id),
                tenant_slug,
                role,
                session_id: wire.sid,
                session_version: wire.sv,
                jti: wire.jti,
                issued_at,
                expires_at,
            },
            times: Times {
                iat: wire.iat,
                nbf: wire.nbf,
                exp: wire.exp,
            },
        })
    }

    /// How many verified tokens are remembered now (tests of the bound).
    pub fn verified_tokens_kept(&self) -> usize {
        self.verified.len()
    }
}

fn rejection(kind: &ErrorKind) -> TokenRejected {
    TokenRejected(match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "algorithm not allowed",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        ErrorKind::InvalidSubject => "wrong subject",
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid",
        ErrorKind::Json(_) => "malformed claims",
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => "malformed token",
        _ => "invalid token",
    })
}

impl AccessTokens for JwtAccessTokens {
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError> {
        let (kid, key) = match &self.keys {
            Keys::EdDsa(set) => {
                let active = set.active_key();
                (active.kid.as_str(), &active.encoding)
            }
            Keys::Hs256 { encoding, .. } => (HS256_KID, encoding),
        };
        let mut header = Header::new(self.algorithm());
        header.typ = Some(ACCESS_TOKEN_HEADER_TYP.to_owned());
        header.kid = Some(kid.to_owned());
        let iat = claims.issued_at.unix_timestamp();
        let wire = WireClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: claims.user.as_uuid(),
            tenant_id: claims.tenant.as_uuid(),
            tenant_slug: claims.tenant_slug.as_str().to_owned(),
            role: claims.role.as_str().to_owned(),
            jti: claims.jti,
            iat,
            nbf: iat,
            exp: claims.expires_at.unix_timestamp(),
            typ: Some(ACCESS_TOKEN_TYP.to_owned()),
            sid: claims.session_id,
            sv: claims.session_version,
        };
        encode(&header, &wire, key)
            .map_err(|e| CryptoError(format!("signing the access token failed: {e}")))
    }

    fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, TokenRejected> {
        if token.is_empty() {
            return Err(TokenRejected("empty"));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenRejected("oversized"));
        }
        if token.bytes().filter(|b| *b == b'.').count() != 2 {
            return Err(TokenRejected("malformed token"));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(known) = self.verified.get(&digest) {
            known.times.check(now)?;
            return Ok(known.claims);
        }
        let header = decode_header(token).map_err(|_| TokenRejected("malformed header"))?;
        let key = self.check_header(&header)?;
        let data =
            decode::<WireClaims>(token, key, &self.validation).map_err(|e| rejection(e.kind()))?;
        // The header that was signed is the one we checked (decode parses the same bytes).
        let verified = self.check_claims(data.claims)?;
        verified.times.check(now)?;
        let claims = verified.claims.clone();
        self.verified.keep(digest, verified, now.unix_timestamp());
        Ok(claims)
    }

    fn lifetime(&self) -> Duration {
        self.lifetime
    }
}

impl fmt::Debug for JwtAccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("JwtAccessTokens");
        match &self.keys {
            Keys::EdDsa(set) => s.field("keys", set),
            Keys::Hs256 { .. } => s.field("keys", &"Hs256Dev(<redacted>)"),
        };
        s.field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}
