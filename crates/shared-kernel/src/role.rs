use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A user's role inside their tenant, from most to least privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

/// What a request may do. Routes name the permission they need; the matrix below is the
/// one place that says which role holds which permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read the own tenant's profile.
    ReadTenant,
    /// Change the tenant's name and settings.
    ManageTenant,
    /// List and read the tenant's users.
    ReadUsers,
    /// Create, change and remove members and viewers.
    ManageMembers,
    /// Grant, change or remove the owner and admin roles.
    ManagePrivilegedUsers,
    /// Read and verify the audit trail.
    ReadAudit,
    /// Read registers, tasks and other compliance records.
    ReadRecords,
    /// Create and edit compliance records.
    WriteRecords,
    /// Delete compliance records and publish or retire versions.
    DeleteRecords,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::ReadTenant,
        Permission::ManageTenant,
        Permission::ReadUsers,
        Permission::ManageMembers,
        Permission::ManagePrivilegedUsers,
        Permission::ReadAudit,
        Permission::ReadRecords,
        Permission::WriteRecords,
        Permission::DeleteRecords,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    /// The role → permission matrix.
    pub const fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(permission, P::ManagePrivilegedUsers),
            Role::Member => matches!(
                permission,
                P::ReadTenant | P::ReadUsers | P::ReadRecords | P::WriteRecords
            ),
            Role::Viewer => matches!(permission, P::ReadTenant | P::ReadUsers | P::ReadRecords),
        }
    }

    /// Owner and admin may administer the tenant; granting or removing them needs
    /// [`Permission::ManagePrivilegedUsers`].
    pub const fn is_privileged(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (expected owner, admin, member or viewer)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_manage_privileged_users() {
        for role in Role::ALL {
            assert_eq!(
                role.allows(Permission::ManagePrivilegedUsers),
                role == Role::Owner
            );
        }
    }

    #[test]
    fn viewers_never_write() {
        for permission in [
            Permission::ManageTenant,
            Permission::ManageMembers,
            Permission::ManagePrivilegedUsers,
            Permission::WriteRecords,
            Permission::DeleteRecords,
            Permission::ReadAudit,
        ] {
            assert!(!Role::Viewer.allows(permission), "{permission:?}");
        }
    }

    #[test]
    fn only_admins_and_owners_read_the_audit_trail() {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Permission::ReadAudit))
            .collect();
        assert_eq!(readers, vec![Role::Owner, Role::Admin]);
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("superuser".parse::<Role>().is_err());
    }
}
