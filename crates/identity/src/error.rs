use aura_audit::AuditError;
use aura_shared_kernel::{Conflict, Forbidden, StoreError, ValidationErrors};

use crate::ports::{CryptoError, MailError};

/// What the identity use cases fail with, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Unknown e-mail, wrong password, inactive account or suspended tenant: one answer.
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// A missing, forged, expired or revoked token.
    #[error("invalid or expired token")]
    InvalidToken,
    /// A wrong, replayed or used-up second-factor code (or recovery code).
    #[error("the code is not valid")]
    InvalidSecondFactor,
    #[error("too many attempts; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    /// A daily cap (named by its tenant setting) is used up until the next day.
    #[error("the limit `{setting}` is reached for today")]
    LimitReached {
        setting: &'static str,
        retry_after_secs: i64,
    },
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("self-service sign-up is disabled")]
    RegistrationDisabled,
    /// The account must use a second factor where it is going and has none confirmed:
    /// it enrols one (in the session it has) first.
    #[error("a second factor is required; enrol one first")]
    SecondFactorRequired,
    #[error("not found")]
    NotFound,
    /// A rule about the current state: `code` is stable for clients, `field` names the
    /// input it concerns.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
        message: &'static str,
    },
    #[error("service temporarily unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl IdentityError {
    pub(crate) fn conflict(
        code: &'static str,
        field: Option<&'static str>,
        message: &'static str,
    ) -> Self {
        Self::Conflict {
            code,
            field,
            message,
        }
    }
}

impl From<StoreError> for IdentityError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(rule) => match rule {
                Conflict::EmailTaken => Self::conflict(
                    "email_taken",
                    Some("email"),
                    "this e-mail address is already registered",
                ),
                Conflict::SlugTaken => {
                    Self::conflict("slug_taken", Some("slug"), "this slug is already taken")
                }
                Conflict::Version => Self::conflict(
                    "stale",
                    None,
                    "the record was changed by someone else in the meantime; reload it and retry",
                ),
                Conflict::LastOwner => Self::conflict(
                    "last_owner",
                    None,
                    "a tenant must keep at least one active owner",
                ),
                _ => Self::conflict(
                    "conflict",
                    None,
                    "the record changed or conflicts with another",
                ),
            },
            StoreError::Invalid(errors) => Self::Validation(errors),
            StoreError::Unavailable(_) => Self::Unavailable(error),
            StoreError::Unexpected(source) => Self::Internal(source),
        }
    }
}

impl From<AuditError> for IdentityError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Forbidden(f) => Self::Forbidden(f),
            AuditError::Store(s) => s.into(),
        }
    }
}

impl From<CryptoError> for IdentityError {
    fn from(error: CryptoError) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<MailError> for IdentityError {
    fn from(error: MailError) -> Self {
        Self::Internal(Box::new(error))
    }
}
