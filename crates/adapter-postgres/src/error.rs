//! Driver and pool errors in domain terms. Display texts name what went wrong, never
//! SQL or values (the sources keep the driver's detail for logs).

use std::fmt;

use aura_shared_kernel::{Conflict, StoreError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::pool::PoolError;

/// What work inside the adapter fails with: a driver error (translated at the end) or a
/// domain answer such as `NotFound`. Exists because neither diesel's error nor
/// `StoreError` is ours, so `?` needs a local type to convert into.
#[derive(Debug)]
pub(crate) enum DbError {
    Diesel(DieselError),
    Store(StoreError),
}

impl From<DieselError> for DbError {
    fn from(error: DieselError) -> Self {
        Self::Diesel(error)
    }
}

impl From<StoreError> for DbError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<DbError> for StoreError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Store(error) => error,
            DbError::Diesel(error) => map_diesel(error),
        }
    }
}

/// The rule a unique constraint stands for, as `StoreError::Conflict` names it. The
/// text never carries the conflicting value (it may belong to another tenant).
fn conflict_rule(constraint: Option<&str>) -> Conflict {
    match constraint {
        // A second account with the address, or a second membership of one account in
        // a tenant.
        Some("accounts_email_key" | "users_tenant_account_key") => Conflict::EmailTaken,
        Some("tenants_slug_key") => Conflict::SlugTaken,
        Some("policy_versions_number_key") => Conflict::VersionNumberTaken,
        Some("policy_versions_one_published_idx") => Conflict::AlreadyPublished,
        Some("jobs_dedupe_idx") => Conflict::DedupeKeyTaken,
        Some("request_intakes_token_key") => Conflict::TokenTaken,
        // A client's second grant to one partner.
        Some("partner_grants_pkey") => Conflict::IdTaken("partner"),
        _ => Conflict::Duplicate,
    }
}

/// Messages PostgreSQL sends when the server goes away or is not ready (SQLSTATE
/// classes 08 and 57P0x, which diesel reports without their code).
fn is_server_unavailable(message: &str) -> bool {
    const SIGNS: [&str; 5] = [
        "terminating connection",
        "the database system is",
        "connection closed",
        "server closed the connection",
        "connection reset",
    ];
    let message = message.to_ascii_lowercase();
    SIGNS.iter().any(|sign| message.contains(sign))
}

pub(crate) fn map_diesel(error: DieselError) -> StoreError {
    match error {
        DieselError::NotFound => StoreError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(conflict_rule(info.constraint_name()))
        }
        // A task assigned to a user outside its tenant (or a missing one): the domain
        // answers this as an unknown reference, naming the field.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
            if info.constraint_name() == Some("tasks_assigned_to_fkey") =>
        {
            StoreError::Conflict(Conflict::UnknownReference("assigned_to"))
        }
        // A row that points at a row outside the scope's tenant (or a missing one).
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::NotFound
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => StoreError::Unavailable(Box::new(Opaque::new(
            "database connection lost",
            info.message(),
        ))),
        DieselError::DatabaseError(_, info) if is_server_unavailable(info.message()) => {
            StoreError::Unavailable(Box::new(Opaque::new(
                "database server unavailable",
                info.message(),
            )))
        }
        DieselError::DatabaseError(kind, info) => StoreError::Unexpected(Box::new(Opaque::new(
            "database rejected a statement",
            &format!("{kind:?}: {}", info.message()),
        ))),
        other => StoreError::Unexpected(Box::new(Opaque::new(
            "database driver failure",
            &other.to_string(),
        ))),
    }
}

pub(crate) fn map_pool(error: PoolError) -> StoreError {
    use deadpool::managed::PoolError as P;
    match error {
        P::Timeout(kind) => StoreError::Unavailable(Box::new(Opaque::new(
            "timed out waiting for a database connection",
            &format!("{kind:?}"),
        ))),
        P::Backend(error) => StoreError::Unavailable(Box::new(Opaque::new(
            "cannot open a database connection",
            &error.to_string(),
        ))),
        P::Closed => StoreError::Unavailable(Box::new(Opaque::new("connection pool closed", ""))),
        other => StoreError::Unexpected(Box::new(Opaque::new(
            "connection pool failure",
            &other.to_string(),
        ))),
    }
}

/// A store failure for logs: `what` is the display text; `detail` (the driver's own
/// message, which may quote SQL or values) is kept out of `Display` and shown by `Debug`
/// only, so a log line written with `%` carries no data.
pub(crate) struct Opaque {
    what: &'static str,
    detail: String,
}

impl Opaque {
    pub(crate) fn new(what: &'static str, detail: &str) -> Self {
        Self {
            what,
            detail: detail.to_owned(),
        }
    }
}

impl fmt::Display for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what, self.detail)
    }
}

impl std::error::Error for Opaque {}

/// A stored row that breaks a domain rule (corrupted or written around the adapter).
pub(crate) fn corrupt(what: &'static str) -> StoreError {
    StoreError::Unexpected(Box::new(Opaque::new(what, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_map_to_rules() {
        assert_eq!(
            conflict_rule(Some("accounts_email_key")),
            Conflict::EmailTaken
        );
        assert_eq!(conflict_rule(Some("tenants_slug_key")), Conflict::SlugTaken);
        assert_eq!(
            conflict_rule(Some("policy_versions_number_key")),
            Conflict::VersionNumberTaken
        );
        assert_eq!(
            conflict_rule(Some("jobs_dedupe_idx")),
            Conflict::DedupeKeyTaken
        );
        assert_eq!(conflict_rule(Some("users_pkey")), Conflict::Duplicate);
        assert_eq!(conflict_rule(None), Conflict::Duplicate);
    }

    #[test]
    fn display_texts_hold_no_detail() {
        let error = Opaque::new("database rejected a statement", "Key (email)=(a@b.io)");
        assert_eq!(error.to_string(), "database rejected a statement");
        assert!(format!("{error:?}").contains("a@b.io"));
    }

    #[test]
    fn server_shutdown_messages_count_as_unavailable() {
        assert!(is_server_unavailable(
            "terminating connection due to administrator command"
        ));
        assert!(is_server_unavailable("the database system is starting up"));
        assert!(!is_server_unavailable(
            "new row violates row-level security policy"
        ));
    }
}
