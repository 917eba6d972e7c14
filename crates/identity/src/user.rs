use std::fmt;

use aura_shared_kernel::{Role, TenantId, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{email::Email, password::PasswordHash};

/// A person who signs in. One tenant per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: Email,
    pub full_name: FullName,
    pub role: Role,
    pub is_active: bool,
    pub password_hash: PasswordHash,
    /// Bumped whenever existing sessions must end (password change or reset,
    /// deactivation, role change). Tokens and sessions carry the value they were
    /// issued under and die when it moves on.
    pub session_version: i32,
    pub last_login_at: Option<OffsetDateTime>,
    /// Optimistic-concurrency version of the row: 1 when created, +1 with every write
    /// but the sign-in stamp (`last_login_at`). Writes name the version they read and
    /// fail with `Conflict::Version` when the row moved on in the meantime.
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl User {
    pub fn new(
        tenant_id: TenantId,
        email: Email,
        full_name: FullName,
        role: Role,
        password_hash: PasswordHash,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: UserId::generate(),
            tenant_id,
            email,
            full_name,
            role,
            is_active: true,
            password_hash,
            session_version: 1,
            last_login_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Moves the row to its next version before a write and returns the version it had
    /// (the `expected_version` the write names).
    pub fn bump_version(&mut self) -> i32 {
        let read = self.version;
        self.version = read.wrapping_add(1);
        read
    }

    /// Ends every session and token issued so far.
    pub fn end_sessions(&mut self) {
        self.session_version = self.session_version.wrapping_add(1);
    }

    /// Sets a new password hash: every session signed in with the old password ends.
    /// Returns the version the write names (see [`Self::bump_version`]).
    pub fn replace_password(&mut self, hash: PasswordHash, now: OffsetDateTime) -> i32 {
        self.password_hash = hash;
        self.end_sessions();
        self.updated_at = now;
        self.bump_version()
    }
}

/// A person's name as they want it shown: 1–200 characters, no control characters.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

impl FullName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let name = raw.trim();
        let problem = if name.is_empty() {
            Some("must not be empty".to_owned())
        } else if name.chars().count() > Self::MAX_CHARS {
            Some(format!("must be at most {} characters", Self::MAX_CHARS))
        } else if name.chars().any(char::is_control) {
            Some("must not contain control characters".to_owned())
        } else {
            None
        };
        match problem {
            Some(message) => Err(ValidationErrors::single("full_name", message)),
            None => Ok(Self(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Names are personal data: debug output does not show them.
impl fmt::Debug for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FullName(<personal>)")
    }
}

impl TryFrom<String> for FullName {
    type Error = ValidationErrors;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FullName> for String {
    fn from(value: FullName) -> Self {
        value.0
    }
}
