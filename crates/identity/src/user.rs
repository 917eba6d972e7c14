use std::fmt;

use aura_shared_kernel::{CustomRoleId, Role, TenantId, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{email::Email, password::PasswordHash};

/// Who a person is, apart from where they work: one account per e-mail address, with
/// the password. An account's first membership shares its id (every user of before
/// the split became an account with the user's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(Uuid);

impl AccountId {
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A member of a tenant as the tenant sees them: the membership (`id`, tenant, name,
/// role, active, invited by, accepted at, its session version) joined with its
/// account (`account_id`, e-mail, password hash, the account's session version).
/// The `id` is the membership's: owners, assignees, sessions and tokens name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub email: Email,
    pub full_name: FullName,
    pub role: Role,
    /// The tenant-defined role whose permissions the membership holds; set exactly when
    /// `role` is [`Role::Custom`].
    pub custom_role: Option<CustomRoleId>,
    pub is_active: bool,
    pub password_hash: PasswordHash,
    /// The membership's: bumped when this membership's sessions must end
    /// (deactivation, role change).
    pub session_version: i32,
    /// The account's: bumped when every session of every membership must end
    /// (password change or reset). Starts at 0.
    pub account_session_version: i32,
    /// Who added the membership (`None`: the tenant's founder, or from before).
    pub invited_by: Option<UserId>,
    /// When the person accepted the membership; `None` while it is pending (added by
    /// an administrator, accepted by the person's first sign-in or link). A pending
    /// membership of an existing account signs nobody in; the one that created its
    /// account is accepted by signing in with the password it was given. The tenant
    /// reads nothing of a pending member's account but the address: a pending
    /// `User` read in the tenant carries no password hash and an account session
    /// version of 0.
    pub accepted_at: Option<OffsetDateTime>,
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
        let id = UserId::generate();
        Self {
            id,
            tenant_id,
            account_id: AccountId(id.as_uuid()),
            email,
            full_name,
            role,
            custom_role: None,
            is_active: true,
            password_hash,
            session_version: 1,
            account_session_version: 0,
            invited_by: None,
            accepted_at: Some(now),
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

    /// The session version tokens and sessions carry: the membership's plus the
    /// account's. Either moving on ends them; for a user of before the split it is the
    /// number it always was (the account's part starts at 0).
    pub fn session_generation(&self) -> i32 {
        self.session_version
            .wrapping_add(self.account_session_version)
    }

    /// Ends every session and token of this membership issued so far.
    pub fn end_sessions(&mut self) {
        self.session_version = self.session_version.wrapping_add(1);
    }

    /// Sets a new password hash on the account: every session signed in with the old
    /// password ends, in every tenant. Returns the version the write names (see
    /// [`Self::bump_version`]).
    pub fn replace_password(&mut self, hash: PasswordHash, now: OffsetDateTime) -> i32 {
        self.password_hash = hash;
        self.account_session_version = self.account_session_version.wrapping_add(1);
        self.updated_at = now;
        self.bump_version()
    }
}

/// A name people read (a person's, a custom role's): trimmed, 1–`max` characters, no
/// control characters; a refusal names `field`.
pub(crate) fn display_name(raw: &str, field: &str, max: usize) -> Result<String, ValidationErrors> {
    let name = raw.trim();
    let problem = if name.is_empty() {
        Some("must not be empty".to_owned())
    } else if name.chars().count() > max {
        Some(format!("must be at most {max} characters"))
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(ValidationErrors::single(field, message)),
        None => Ok(name.to_owned()),
    }
}

/// A person's name as they want it shown: 1–200 characters, no control characters.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

impl FullName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        display_name(raw, "full_name", Self::MAX_CHARS).map(Self)
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
