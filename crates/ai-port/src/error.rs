use aura_audit::AuditError;
use aura_records::UseCaseError;
use aura_shared_kernel::{StoreError, ValidationErrors};

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

/// What the assistant's use cases fail with: the shared use-case core (validation,
/// permission, not found, stale version, conflicts, store faults), plus what only the
/// assistant adds: its switch, its hourly limit and a failed provider.
#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
    /// The tenant switched the assistant off (setting `ai_enabled: false`).
    #[error("the AI assistant is switched off for this organisation")]
    Disabled,
    /// The tenant used up its requests for the current hour.
    #[error("too many AI requests; try again later")]
    RateLimited { retry_after_secs: i64 },
    /// The provider failed; nothing was stored.
    #[error(transparent)]
    Provider(AiError),
}

impl From<AiError> for AssistantError {
    fn from(error: AiError) -> Self {
        match error {
            AiError::Disabled => Self::Disabled,
            other => Self::Provider(other),
        }
    }
}

// What the core reads from (`?` on stores, audit and validation) reads into the core here.
impl From<StoreError> for AssistantError {
    fn from(error: StoreError) -> Self {
        Self::UseCase(error.into())
    }
}

impl From<AuditError> for AssistantError {
    fn from(error: AuditError) -> Self {
        Self::UseCase(error.into())
    }
}

impl From<ValidationErrors> for AssistantError {
    fn from(errors: ValidationErrors) -> Self {
        Self::UseCase(errors.into())
    }
}
