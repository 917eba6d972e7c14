use aura_audit::AuditError;
use aura_gdpr_registers::RegistersError;
use aura_tenancy::{Conflict, Forbidden, StoreError, ValidationErrors};

/// What a provider fails with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    /// The provider could not be reached or kept failing (5xx, connection errors).
    #[error("the AI provider is unavailable ({0})")]
    Unavailable(String),
    /// No answer within the configured time.
    #[error("the AI provider did not answer in time")]
    Timeout,
    /// The provider kept refusing with 429 (its own rate limit or quota).
    #[error("the AI provider refused the request: too many requests")]
    RateLimited { retry_after_secs: Option<u64> },
    /// An answer that is not what was asked for (malformed JSON, wrong shape, invalid
    /// fields).
    #[error("the AI provider's answer is not usable ({0})")]
    InvalidResponse(String),
    /// The assistant is switched off.
    #[error("the AI assistant is disabled")]
    Disabled,
}

impl AiError {
    /// A stable name for logs and audit events.
    pub const fn code(&self) -> &'static str {
        match self {
            AiError::Unavailable(_) => "unavailable",
            AiError::Timeout => "timeout",
            AiError::RateLimited { .. } => "rate_limited",
            AiError::InvalidResponse(_) => "invalid_response",
            AiError::Disabled => "disabled",
        }
    }
}

/// What the assistant's use cases fail with.
#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("not found")]
    NotFound,
    /// The suggestion changed since it was read.
    #[error("the suggestion was decided or changed since you read it; reload it")]
    StaleVersion,
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: &'static str,
    },
    /// The tenant switched the assistant off (setting `ai_enabled: false`).
    #[error("the AI assistant is switched off for this organisation")]
    Disabled,
    /// The tenant used up its requests for the current hour.
    #[error("too many AI requests; try again later")]
    RateLimited { retry_after_secs: i64 },
    /// The provider failed; nothing was stored.
    #[error(transparent)]
    Provider(AiError),
    #[error("service temporarily unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<AiError> for AssistantError {
    fn from(error: AiError) -> Self {
        match error {
            AiError::Disabled => Self::Disabled,
            other => Self::Provider(other),
        }
    }
}

impl From<StoreError> for AssistantError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(Conflict::Version) => Self::StaleVersion,
            StoreError::Conflict(_) => Self::Conflict {
                code: "conflict",
                message: "the change conflicts with another record",
            },
            StoreError::Invalid(errors) => Self::Validation(errors),
            StoreError::Unavailable(_) => Self::Unavailable(error),
            StoreError::Unexpected(source) => Self::Internal(source),
        }
    }
}

impl From<AuditError> for AssistantError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Forbidden(f) => Self::Forbidden(f),
            AuditError::Store(s) => s.into(),
        }
    }
}

impl From<RegistersError> for AssistantError {
    fn from(error: RegistersError) -> Self {
        match error {
            RegistersError::Validation(v) => Self::Validation(v),
            RegistersError::Forbidden(f) => Self::Forbidden(f),
            RegistersError::NotFound => Self::NotFound,
            RegistersError::StaleVersion => Self::StaleVersion,
            RegistersError::Conflict { code, message } => Self::Conflict { code, message },
            RegistersError::Unavailable(s) => Self::Unavailable(s),
            RegistersError::Internal(source) => Self::Internal(source),
        }
    }
}
