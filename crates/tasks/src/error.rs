use aura_audit::AuditError;
use aura_tenancy::{Conflict, Forbidden, StoreError, ValidationErrors};

/// What the task use cases fail with.
#[derive(Debug, thiserror::Error)]
pub enum TasksError {
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

impl From<StoreError> for TasksError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(Conflict::Version) => Self::StaleVersion,
            StoreError::Conflict(Conflict::UnknownAssignee) => Self::UnknownReference {
                field: "assigned_to",
            },
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

impl From<AuditError> for TasksError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Forbidden(f) => Self::Forbidden(f),
            AuditError::Store(s) => s.into(),
        }
    }
}
