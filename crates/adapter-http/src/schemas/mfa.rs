//! The bodies of multi-factor sign-in: the challenge login answers, the second step,
//! enrolment and recovery codes.

use aura_identity::{
    SignInOutcome, TokenPair, TotpEnrolment,
    mfa::{ChallengePurpose, MfaChallenge, MfaStatus},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::TokenResponse;

/// What `POST /auth/login` answers with 202 instead of tokens: the account signs in with
/// a second factor (`mfa_required`: send a code to `/auth/login/mfa`), or must enrol one
/// first (`mfa_enrolment_required`: `/auth/login/mfa/enrolment`, then its `/confirm`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaChallengeResponse {
    pub mfa_required: bool,
    pub mfa_enrolment_required: bool,
    /// Opaque, single use; valid `expires_in` seconds.
    pub challenge: String,
    #[schema(example = 300)]
    pub expires_in: i64,
}

impl From<MfaChallenge> for MfaChallengeResponse {
    fn from(challenge: MfaChallenge) -> Self {
        Self {
            mfa_required: challenge.purpose == ChallengePurpose::SignIn,
            mfa_enrolment_required: challenge.purpose == ChallengePurpose::Enrolment,
            challenge: challenge.token,
            expires_in: challenge.expires_in,
        }
    }
}

/// The answer of a correct password: tokens (200) or a challenge (202).
pub enum LoginAnswer {
    Tokens(TokenResponse),
    Challenge(MfaChallengeResponse),
}

impl From<SignInOutcome> for LoginAnswer {
    fn from(outcome: SignInOutcome) -> Self {
        match outcome {
            SignInOutcome::Tokens(pair) => Self::Tokens(pair.into()),
            SignInOutcome::SecondFactor(challenge) => Self::Challenge(challenge.into()),
        }
    }
}

/// The second step of a sign-in: the challenge and either a code from the authenticator
/// or one of the recovery codes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginBody {
    pub challenge: String,
    /// Six digits from the authenticator app.
    #[schema(example = "123456")]
    pub code: Option<String>,
    /// One of the recovery codes (each works once).
    #[schema(example = "ABCDE-FGHIJ")]
    pub recovery_code: Option<String>,
}

/// The challenge of an account that must enrol a second factor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentChallengeBody {
    pub challenge: String,
}

/// A code from the authenticator, confirming an enrolment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeBody {
    #[schema(example = "123456")]
    pub code: String,
}

/// Confirming an enrolment with the challenge of a sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentConfirmBody {
    pub challenge: String,
    #[schema(example = "123456")]
    pub code: String,
}

/// The password, checked again before a second factor changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordCheckBody {
    pub password: String,
}

/// A started enrolment, shown this once: the secret for typing in, the URI for a QR code.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolmentBody {
    /// Base32 (RFC 4648, no padding).
    pub secret: String,
    /// `otpauth://totp/AURA-GDPR:{email}?secret=…&issuer=AURA-GDPR&…` (SHA-1, 6 digits,
    /// 30 s).
    pub otpauth_uri: String,
}

impl From<TotpEnrolment> for TotpEnrolmentBody {
    fn from(enrolment: TotpEnrolment) -> Self {
        Self {
            secret: enrolment.secret_base32,
            otpauth_uri: enrolment.uri,
        }
    }
}

/// Recovery codes, shown this once (each signs in once instead of a code).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesBody {
    pub recovery_codes: Vec<String>,
}

/// A finished enrolment during sign-in: the token pair and the recovery codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolledSignInResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    pub expires_in: i64,
    pub recovery_codes: Vec<String>,
}

impl EnrolledSignInResponse {
    pub fn new(pair: TokenPair, recovery_codes: Vec<String>) -> Self {
        let tokens = TokenResponse::from(pair);
        Self {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: tokens.token_type,
            expires_in: tokens.expires_in,
            recovery_codes,
        }
    }
}

/// The caller's second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatusBody {
    /// A confirmed TOTP factor.
    pub enabled: bool,
    /// An enrolment was started and not confirmed.
    pub pending: bool,
    /// The account must use a second factor (two or more memberships, or the tenant's
    /// `require_mfa`).
    pub required: bool,
    pub recovery_codes_left: u32,
}

impl From<MfaStatus> for MfaStatusBody {
    fn from(status: MfaStatus) -> Self {
        Self {
            enabled: status.enabled,
            pending: status.pending,
            required: status.required,
            recovery_codes_left: status.recovery_codes_left,
        }
    }
}
