//! What a second factor is made of: a TOTP secret (sealed by the crypto adapter, shown
//! once as base32 and an `otpauth://` URI), its recovery codes (shown once, kept as
//! keyed hashes), the time step a code was used for (a code is accepted once), the
//! challenge between the password and the code, and when a second factor is required.

use std::fmt;

use aura_shared_kernel::{Tenant, TenantId, UserId};
use time::{Duration, OffsetDateTime};

use crate::user::AccountId;

/// How long a sign-in or enrolment challenge lives.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(5);

/// How many recovery codes an account gets at once.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The tenant setting (a boolean) with which an owner requires a second factor of
/// everyone in the tenant.
pub const SETTING_REQUIRE_MFA: &str = "require_mfa";

/// From this many accepted, active memberships on, an account must use a second factor.
pub const MEMBERSHIPS_REQUIRING_MFA: u32 = 2;

/// A TOTP secret as the crypto adapter sealed it (bound to its account). Never opened
/// outside that adapter.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(pub Vec<u8>);

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(<redacted>)")
    }
}

/// A new TOTP secret: what the person types or scans (once), and what is stored.
pub struct NewTotp {
    /// The secret in base32 (RFC 4648, no padding), for typing into an authenticator.
    pub secret_base32: String,
    /// `otpauth://totp/…`, for a QR code.
    pub uri: String,
    pub sealed: SealedSecret,
}

impl fmt::Debug for NewTotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewTotp(<redacted>)")
    }
}

/// The time step (unix time / 30 s) a TOTP code matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeStep(pub i64);

/// The keyed hash of one recovery code (bound to its account).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecoveryHash(pub [u8; 32]);

impl fmt::Debug for RecoveryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryHash(<redacted>)")
    }
}

/// Fresh recovery codes: the plain codes for the person (once) and their hashes.
pub struct RecoveryCodes {
    pub plain: Vec<String>,
    pub hashes: Vec<RecoveryHash>,
}

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCodes({} codes, <redacted>)", self.plain.len())
    }
}

/// An account's TOTP factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    pub account: AccountId,
    pub sealed: SealedSecret,
    /// `None` while enrolment is started but not confirmed with a code.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The newest step a code was accepted for.
    pub last_used_step: Option<TimeStep>,
    pub recovery_codes_left: u32,
}

impl TotpFactor {
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// What a challenge lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePurpose {
    /// Sign in with a code or a recovery code.
    SignIn,
    /// Enrol a second factor (the account must have one and has none); confirming the
    /// enrolment signs in.
    Enrolment,
}

impl ChallengePurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Enrolment => "enrolment",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "sign_in" => Some(Self::SignIn),
            "enrolment" => Some(Self::Enrolment),
            _ => None,
        }
    }
}

/// A presented challenge as found by the global lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeLookup {
    pub tenant: TenantId,
    pub user: UserId,
    pub purpose: ChallengePurpose,
    pub expires_at: OffsetDateTime,
    pub used: bool,
}

/// A challenge handed to the client instead of tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    pub purpose: ChallengePurpose,
    /// The opaque token (256 random bits); only its hash is stored.
    pub token: String,
    pub expires_in: i64,
}

impl fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// What the second step of a sign-in presents.
#[derive(Clone)]
pub enum SecondProof {
    /// A six-digit TOTP code.
    Code(String),
    /// One of the recovery codes (used up by this).
    RecoveryCode(String),
}

impl fmt::Debug for SecondProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Code(_) => "Code(<redacted>)",
            Self::RecoveryCode(_) => "RecoveryCode(<redacted>)",
        })
    }
}

/// Whether the tenant's owner requires a second factor of everyone (`require_mfa`).
pub fn tenant_requires_mfa(tenant: &Tenant) -> bool {
    tenant.settings.as_map().get(SETTING_REQUIRE_MFA) == Some(&serde_json::Value::Bool(true))
}

/// Whether a member must use a second factor: the tenant requires it, or the account
/// works in two or more tenants — its own memberships and the clients reached through a
/// partner (one stolen password would open several organisations).
pub fn mfa_required(tenant: &Tenant, accepted_memberships: u32) -> bool {
    tenant_requires_mfa(tenant) || accepted_memberships >= MEMBERSHIPS_REQUIRING_MFA
}

/// The caller's standing, for `GET /me/mfa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    /// A confirmed TOTP factor.
    pub enabled: bool,
    /// Enrolment started and not confirmed yet.
    pub pending: bool,
    pub required: bool,
    pub recovery_codes_left: u32,
}
