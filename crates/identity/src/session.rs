use std::fmt;

use aura_shared_kernel::{Role, TenantId, TenantSlug, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an access token says once its signature and registered claims were verified.
/// The adapter adds and checks `iss`, `aud`, `typ` and `nbf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user: UserId,
    pub tenant: TenantId,
    pub tenant_slug: TenantSlug,
    pub role: Role,
    /// The refresh-token family (the sign-in session) the token belongs to.
    pub session_id: Uuid,
    /// The user's session version when the token was issued.
    pub session_version: i32,
    pub jti: Uuid,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// The SHA-256 of an opaque token: what the store keeps instead of the token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// A fresh opaque token (256 random bits) and its hash.
pub struct OpaqueToken {
    pub plain: String,
    pub hash: TokenHash,
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken(<redacted>)")
    }
}

/// A sign-in session: the chain of refresh tokens that rotate from one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub session_version: i32,
    pub created_at: OffsetDateTime,
    /// The session ends here however actively it is used.
    pub absolute_expires_at: OffsetDateTime,
}

/// A presented refresh token as found by the global lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLookup {
    pub family: RefreshFamily,
    pub family_revoked: bool,
    /// Set once the token was exchanged: presenting it again is reuse.
    pub used: bool,
    /// The token dies if not exchanged by then.
    pub idle_expires_at: OffsetDateTime,
}
