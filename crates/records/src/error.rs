use aura_audit::AuditError;
use aura_shared_kernel::{Conflict, Forbidden, StoreError, ValidationErrors};

/// What a use case fails with: the shared core every domain maps to HTTP the same way.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("not found")]
    NotFound,
    /// A field names a user or record that does not exist in the caller's tenant (another
    /// tenant's id included): answered like any unknown object, naming the field.
    #[error("`{field}` names nothing in this organisation")]
    UnknownReference { field: &'static str },
    /// The record changed since it was read: reload and apply the change again.
    #[error("the record was changed by someone else since you read it; reload it")]
    StaleVersion,
    /// A rule of the domain that the change would break, with a stable code.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: &'static str,
    },
    #[error("service temporarily unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for UseCaseError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(rule) => match rule {
                Conflict::Version => Self::StaleVersion,
                Conflict::UnknownReference(field) => Self::UnknownReference { field },
                Conflict::InUse => Self::Conflict {
                    code: "in_use",
                    message: "the record is still linked (activities or sub-processors refer to it)",
                },
                Conflict::VersionNumberTaken => Self::Conflict {
                    code: "concurrent_version",
                    message: "another version was added at the same time; try again",
                },
                _ => Self::Conflict {
                    code: "conflict",
                    message: "the change conflicts with another record",
                },
            },
            StoreError::Invalid(errors) => Self::Validation(errors),
            StoreError::Unavailable(_) => Self::Unavailable(error),
            StoreError::Unexpected(source) => Self::Internal(source),
        }
    }
}

impl From<AuditError> for UseCaseError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Forbidden(f) => Self::Forbidden(f),
            AuditError::Store(s) => s.into(),
        }
    }
}
