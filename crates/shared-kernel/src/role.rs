use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A user's role inside their tenant: the four built-in roles, from most to least
/// privileged, or `Custom` — a role the tenant defined, whose permissions are data (a
/// [`PermissionSet`] stored with the role) rather than this matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
    /// The membership holds a tenant-defined role (its id is the membership's
    /// `custom_role`); the permissions come from that role.
    Custom,
}

/// What a request may do. Routes name the permission they need; [`Role::permissions`] is
/// the one place that says which built-in role holds which permission, and
/// [`PermissionSet::allows`] the one place that says what a held permission brings with
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read the own tenant's profile.
    ReadTenant,
    /// Change the tenant's name and settings.
    ManageTenant,
    /// List and read the tenant's users.
    ReadUsers,
    /// Create, change and remove members, viewers and holders of custom roles.
    ManageMembers,
    /// Grant, change or remove the owner and admin roles, and define custom roles.
    /// Never held by a custom role.
    ManagePrivilegedUsers,
    /// Read and verify the audit trail.
    ReadAudit,
    /// Read every register: activities, processors, policies, tasks, requests,
    /// breaches, DPIAs, documents and the rest.
    ReadRecords,
    /// Create and edit the compliance records no narrower permission covers.
    WriteRecords,
    /// Delete compliance records and publish or retire versions.
    DeleteRecords,
    /// Read data-subject requests (also held with `ReadRecords` or `HandleRequests`).
    ReadRequests,
    /// Create data-subject requests and move them through their case.
    HandleRequests,
    /// Read breaches (also held with `ReadRecords` or `HandleBreaches`).
    ReadBreaches,
    /// Record breaches and move them through assessment and notification.
    HandleBreaches,
    /// Read DPIAs (also held with `ReadRecords` or `ApproveDpias`).
    ReadDpias,
    /// Approve a DPIA submitted for review.
    ApproveDpias,
    /// Read documents and their content (also held with `ReadRecords` or
    /// `ManageDocuments`).
    ReadDocuments,
    /// Create and edit documents and upload their versions.
    ManageDocuments,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Permission::ReadTenant,
        Permission::ManageTenant,
        Permission::ReadUsers,
        Permission::ManageMembers,
        Permission::ManagePrivilegedUsers,
        Permission::ReadAudit,
        Permission::ReadRecords,
        Permission::WriteRecords,
        Permission::DeleteRecords,
        Permission::ReadRequests,
        Permission::HandleRequests,
        Permission::ReadBreaches,
        Permission::HandleBreaches,
        Permission::ReadDpias,
        Permission::ApproveDpias,
        Permission::ReadDocuments,
        Permission::ManageDocuments,
    ];

    /// The stable name (as stored with a custom role and shown to clients).
    pub const fn as_str(self) -> &'static str {
        use Permission as P;
        match self {
            P::ReadTenant => "read_tenant",
            P::ManageTenant => "manage_tenant",
            P::ReadUsers => "read_users",
            P::ManageMembers => "manage_members",
            P::ManagePrivilegedUsers => "manage_privileged_users",
            P::ReadAudit => "read_audit",
            P::ReadRecords => "read_records",
            P::WriteRecords => "write_records",
            P::DeleteRecords => "delete_records",
            P::ReadRequests => "read_requests",
            P::HandleRequests => "handle_requests",
            P::ReadBreaches => "read_breaches",
            P::HandleBreaches => "handle_breaches",
            P::ReadDpias => "read_dpias",
            P::ApproveDpias => "approve_dpias",
            P::ReadDocuments => "read_documents",
            P::ManageDocuments => "manage_documents",
        }
    }

    /// Whether a tenant-defined role may hold it: every permission but the one that
    /// grants owners and admins (and defines roles), so no custom role escalates.
    pub const fn grantable_to_custom_roles(self) -> bool {
        !matches!(self, Permission::ManagePrivilegedUsers)
    }

    /// The held permissions that bring this one with them: reading a domain comes with
    /// reading every record and with handling that domain, so "the people handling
    /// requests see those and nothing more".
    const fn comes_with(self) -> PermissionSet {
        use Permission as P;
        match self {
            P::ReadRequests => PermissionSet::of(&[P::ReadRecords, P::HandleRequests]),
            P::ReadBreaches => PermissionSet::of(&[P::ReadRecords, P::HandleBreaches]),
            P::ReadDpias => PermissionSet::of(&[P::ReadRecords, P::ApproveDpias]),
            P::ReadDocuments => PermissionSet::of(&[P::ReadRecords, P::ManageDocuments]),
            _ => PermissionSet::EMPTY,
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown permission `{s}`"))
    }
}

/// A set of permissions: what a principal holds, resolved from a built-in role
/// ([`Role::permissions`]) or stored with a custom role.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);
    pub const ALL: PermissionSet = PermissionSet::of(&Permission::ALL);

    pub const fn of(permissions: &[Permission]) -> PermissionSet {
        let mut bits = 0;
        let mut i = 0;
        while i < permissions.len() {
            bits |= permissions[i].bit();
            i += 1;
        }
        PermissionSet(bits)
    }

    pub const fn with(self, permission: Permission) -> PermissionSet {
        PermissionSet(self.0 | permission.bit())
    }

    pub const fn without(self, permission: Permission) -> PermissionSet {
        PermissionSet(self.0 & !permission.bit())
    }

    /// Whether the permission itself is in the set (not what it brings with it).
    pub const fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// Whether the holder may do what `permission` guards: the permission itself, or
    /// one that brings it with it.
    pub const fn allows(self, permission: Permission) -> bool {
        self.contains(permission) || self.0 & permission.comes_with().0 != 0
    }

    /// Every permission `other` allows, this set allows too (no grant escalates).
    pub fn covers(self, other: PermissionSet) -> bool {
        other.iter().all(|p| self.allows(p))
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in the set, in the order of [`Permission::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Role {
    /// The built-in roles (a custom role is the tenant's data, not one of these).
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    /// The role → permission matrix of the built-in roles. A custom role holds nothing
    /// here: its permissions are the set stored with it.
    pub const fn permissions(self) -> PermissionSet {
        use Permission as P;
        match self {
            Role::Owner => PermissionSet::ALL,
            Role::Admin => PermissionSet::ALL.without(P::ManagePrivilegedUsers),
            Role::Member => PermissionSet::of(&[
                P::ReadTenant,
                P::ReadUsers,
                P::ReadRecords,
                P::WriteRecords,
                P::HandleRequests,
                P::HandleBreaches,
                P::ManageDocuments,
            ]),
            Role::Viewer => PermissionSet::of(&[P::ReadTenant, P::ReadUsers, P::ReadRecords]),
            Role::Custom => PermissionSet::EMPTY,
        }
    }

    /// Whether the built-in role holds the permission ([`Role::permissions`]).
    pub const fn allows(self, permission: Permission) -> bool {
        self.permissions().allows(permission)
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
            Role::Custom => "custom",
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
            .chain([Role::Custom])
            .find(|role| role.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}` (expected owner, admin, member, viewer or custom)")
            })
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

    #[test]
    fn the_built_in_roles_keep_their_meaning() {
        use Permission as P;
        assert_eq!(Role::Owner.permissions(), PermissionSet::ALL);
        for p in Permission::ALL {
            assert_eq!(Role::Admin.allows(p), p != P::ManagePrivilegedUsers, "{p}");
            // Members write what they wrote before the narrower permissions: the
            // records, requests, breaches and documents; never delete, approve or
            // administer.
            let member = !matches!(
                p,
                P::ManageTenant
                    | P::ManageMembers
                    | P::ManagePrivilegedUsers
                    | P::ReadAudit
                    | P::DeleteRecords
                    | P::ApproveDpias
            );
            assert_eq!(Role::Member.allows(p), member, "{p}");
            let viewer = matches!(
                p,
                P::ReadTenant
                    | P::ReadUsers
                    | P::ReadRecords
                    | P::ReadRequests
                    | P::ReadBreaches
                    | P::ReadDpias
                    | P::ReadDocuments
            );
            assert_eq!(Role::Viewer.allows(p), viewer, "{p}");
            assert!(!Role::Custom.allows(p), "{p}");
        }
    }

    #[test]
    fn handling_a_domain_reads_that_domain_and_nothing_more() {
        use Permission as P;
        let handlers = PermissionSet::of(&[P::HandleRequests]);
        assert!(handlers.allows(P::ReadRequests));
        assert!(handlers.allows(P::HandleRequests));
        for other in [
            P::ReadRecords,
            P::WriteRecords,
            P::ReadBreaches,
            P::HandleBreaches,
            P::ReadDocuments,
            P::ReadDpias,
            P::ReadUsers,
            P::ReadTenant,
        ] {
            assert!(!handlers.allows(other), "{other}");
        }
        // Reading a domain never brings handling it.
        assert!(!PermissionSet::of(&[P::ReadRequests]).allows(P::HandleRequests));
        assert!(!PermissionSet::of(&[P::ReadRecords]).allows(P::WriteRecords));
    }

    #[test]
    fn a_permission_set_is_a_set() {
        use Permission as P;
        let set: PermissionSet = [P::ReadAudit, P::HandleBreaches, P::ReadAudit]
            .into_iter()
            .collect();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![P::ReadAudit, P::HandleBreaches]
        );
        assert!(set.contains(P::ReadAudit) && !set.contains(P::ReadBreaches));
        assert!(set.allows(P::ReadBreaches), "comes with handling breaches");
        assert_eq!(set.without(P::ReadAudit).with(P::ReadAudit), set);
        assert!(PermissionSet::EMPTY.is_empty());
        assert_eq!(PermissionSet::ALL.iter().count(), Permission::ALL.len());
        assert_eq!(format!("{set:?}"), "{ReadAudit, HandleBreaches}");
    }

    #[test]
    fn covering_is_what_a_grant_needs() {
        use Permission as P;
        let admin = Role::Admin.permissions();
        assert!(admin.covers(Role::Member.permissions()));
        assert!(!admin.covers(Role::Owner.permissions()));
        let handler = PermissionSet::of(&[P::HandleRequests, P::ManageMembers]);
        assert!(handler.covers(PermissionSet::of(&[P::ReadRequests])));
        assert!(!handler.covers(Role::Viewer.permissions()));
        assert!(!handler.covers(PermissionSet::of(&[P::HandleBreaches])));
    }

    #[test]
    fn permissions_round_trip_through_their_names() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::from(p.as_str())
            );
        }
        assert!("sudo".parse::<Permission>().is_err());
        let grantable: Vec<_> = Permission::ALL
            .into_iter()
            .filter(|p| !p.grantable_to_custom_roles())
            .collect();
        assert_eq!(grantable, vec![Permission::ManagePrivilegedUsers]);
    }
}
