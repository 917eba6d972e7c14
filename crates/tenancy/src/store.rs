use std::error::Error as StdError;

/// What a storage port can fail with, in domain terms. Adapters translate driver errors
/// into these; the domain crates turn them into their own errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Nothing with that id in the scope's tenant (a foreign row looks the same).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a stale version. The text names the rule, never another
    /// tenant's data.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store cannot be reached right now; the request may be retried.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Anything else: a bug or a broken invariant. Logged, never shown to clients.
    #[error("unexpected store failure")]
    Unexpected(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::Unexpected(message.into().into())
    }
}
