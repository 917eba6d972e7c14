use std::error::Error as StdError;

/// What a storage port can fail with, in domain terms. Adapters translate driver errors
/// into these; the domain crates turn them into their own errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Nothing with that id in the scope's tenant (a foreign row looks the same).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a stale version. The rule is named by a [`Conflict`], never
    /// by another tenant's data.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// A write names records that are not in the scope's tenant (a reference the store
    /// checked inside the write's transaction), by field: nothing changed.
    #[error("invalid references")]
    Invalid(crate::ValidationErrors),
    /// The store cannot be reached right now; the request may be retried.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Anything else: a bug or a broken invariant. Logged, never shown to clients.
    #[error("unexpected store failure")]
    Unexpected(#[source] Box<dyn StdError + Send + Sync>),
}

/// The rule a write broke, as a storage port reports it in [`StoreError::Conflict`].
/// Callers match on the variant, never on text; `Display` gives the rule's short name
/// (the text logs and messages have always shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// The row moved on since it was read (optimistic concurrency): `version`.
    Version,
    /// The row is still referred to by others and cannot be deleted: `in_use`.
    InUse,
    /// The change would leave a tenant without an active owner: `last_owner`.
    LastOwner,
    /// Another user (in any tenant) has the e-mail address: `email`.
    EmailTaken,
    /// Another tenant has the slug: `slug`.
    SlugTaken,
    /// A record with this id exists already: `<entity>_id` (e.g. `user_id`).
    IdTaken(&'static str),
    /// A token (by its hash) exists already: `token`.
    TokenTaken,
    /// Another policy version has this number: `version_number`.
    VersionNumberTaken,
    /// Another version of the policy is published already: `published`.
    AlreadyPublished,
    /// A live job holds the deduplication key: `dedupe_key`.
    DedupeKeyTaken,
    /// The job is not in a state that allows the change: `job_state`.
    JobState,
    /// A reference the schema (or the store, inside the write's transaction) checks names
    /// no row of the tenant; carries the field as a client wrote it (`assigned_to`,
    /// `link.id`).
    UnknownReference(&'static str),
    /// Any other uniqueness rule: `duplicate`.
    Duplicate,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rule = match self {
            Self::IdTaken(entity) => return write!(f, "{entity}_id"),
            Self::Version => "version",
            Self::InUse => "in_use",
            Self::LastOwner => "last_owner",
            Self::EmailTaken => "email",
            Self::SlugTaken => "slug",
            Self::TokenTaken => "token",
            Self::VersionNumberTaken => "version_number",
            Self::AlreadyPublished => "published",
            Self::DedupeKeyTaken => "dedupe_key",
            Self::JobState => "job_state",
            Self::UnknownReference(field) => field,
            Self::Duplicate => "duplicate",
        };
        f.write_str(rule)
    }
}

impl From<Conflict> for StoreError {
    fn from(conflict: Conflict) -> Self {
        Self::Conflict(conflict)
    }
}

impl StoreError {
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::Unexpected(message.into().into())
    }
}

#[cfg(test)]
mod tests {
    use super::{Conflict, StoreError};

    #[test]
    fn conflicts_display_the_rule_names_they_always_had() {
        let cases = [
            (Conflict::Version, "version"),
            (Conflict::InUse, "in_use"),
            (Conflict::LastOwner, "last_owner"),
            (Conflict::EmailTaken, "email"),
            (Conflict::SlugTaken, "slug"),
            (Conflict::IdTaken("user"), "user_id"),
            (Conflict::TokenTaken, "token"),
            (Conflict::VersionNumberTaken, "version_number"),
            (Conflict::AlreadyPublished, "published"),
            (Conflict::DedupeKeyTaken, "dedupe_key"),
            (Conflict::JobState, "job_state"),
            (Conflict::UnknownReference("assigned_to"), "assigned_to"),
            (Conflict::Duplicate, "duplicate"),
        ];
        for (conflict, text) in cases {
            assert_eq!(conflict.to_string(), text);
            assert_eq!(
                StoreError::Conflict(conflict).to_string(),
                format!("conflict: {text}")
            );
        }
    }
}
