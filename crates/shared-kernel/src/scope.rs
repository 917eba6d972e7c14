//! The tenant rule as a type: tenant-owned data is reached only through a [`TenantScope`].

use crate::{
    error::Forbidden,
    ids::{TenantId, UserId},
    role::{Permission, PermissionSet, Role},
};

/// Who acts inside a tenant scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in user whose token was verified and whose record was re-read, with
    /// the permissions resolved from their role (a built-in role's matrix, or the
    /// custom role's stored set) at that read.
    User {
        id: UserId,
        role: Role,
        permissions: PermissionSet,
    },
    /// The credential flows before sign-in (login, refresh, password reset): they may
    /// touch the one user's own records but hold no permission.
    CredentialCheck { user: Option<UserId> },
    /// Platform operations (worker, CLI) acting inside one tenant.
    System,
}

/// Proof that the holder may act inside one tenant. The fields are private and the
/// constructors are few, named loudly, and counted by a tidy test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    tenant: TenantId,
    principal: Principal,
    /// The partner (another tenant) the user acts for, when they entered this tenant
    /// through the partner's grant: audit events name it beside the user.
    partner: Option<TenantId>,
}

impl TenantScope {
    /// The one constructor for user requests. Call it only after the access token has
    /// been verified and the user re-read from the store (active, same role, tenant
    /// active) with the permissions their role holds now, so deactivation, demotion or
    /// a changed custom role takes effect on the next request.
    pub fn from_verified_principal(
        tenant: TenantId,
        user: UserId,
        role: Role,
        permissions: PermissionSet,
    ) -> Self {
        Self {
            tenant,
            principal: Principal::User {
                id: user,
                role,
                permissions,
            },
            partner: None,
        }
    }

    /// The same scope, its user acting for `partner` (a membership held through the
    /// partner's grant, verified like the principal). It grants nothing: it only makes
    /// the audit trail name the partner.
    pub fn acting_for(self, partner: TenantId) -> Self {
        Self {
            partner: Some(partner),
            ..self
        }
    }

    /// The partner the user acts for (see [`Self::acting_for`]).
    pub fn partner(&self) -> Option<TenantId> {
        self.partner
    }

    /// For the credential flows, after the e-mail or an opaque token was looked up
    /// through the narrow global lookup path. Holds no permission.
    pub fn for_credential_check(tenant: TenantId, user: Option<UserId>) -> Self {
        Self {
            tenant,
            principal: Principal::CredentialCheck { user },
            partner: None,
        }
    }

    /// Test-only constructor (feature `test-support`).
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(tenant: TenantId, user: UserId, role: Role) -> Self {
        Self::from_verified_principal(tenant, user, role, role.permissions())
    }

    /// Test-only constructor for a holder of a custom role (feature `test-support`).
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests_with(tenant: TenantId, user: UserId, permissions: PermissionSet) -> Self {
        Self::from_verified_principal(tenant, user, Role::Custom, permissions)
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    pub fn principal(&self) -> Principal {
        self.principal
    }

    /// The acting user, if a user acts.
    pub fn user_id(&self) -> Option<UserId> {
        match self.principal {
            Principal::User { id, .. } => Some(id),
            Principal::CredentialCheck { user } => user,
            Principal::System => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self.principal {
            Principal::User { role, .. } => Some(role),
            _ => None,
        }
    }

    /// What the principal holds: a user's resolved permissions, everything for the
    /// system, nothing for a credential check.
    pub fn permissions(&self) -> PermissionSet {
        match self.principal {
            Principal::User { permissions, .. } => permissions,
            Principal::CredentialCheck { .. } => PermissionSet::EMPTY,
            Principal::System => PermissionSet::ALL,
        }
    }

    /// Checks the principal's permissions ([`PermissionSet::allows`]). System scopes
    /// hold every permission; credential checks hold none.
    pub fn require(&self, permission: Permission) -> Result<(), Forbidden> {
        if self.permissions().allows(permission) {
            Ok(())
        } else {
            Err(Forbidden(permission))
        }
    }
}

/// Work that spans tenants (the reminder scheduler, platform administration). Only the
/// worker and the CLI build one; a tidy test counts the call sites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemScope {
    purpose: &'static str,
}

impl SystemScope {
    /// `purpose` names the operation in logs and audit events (e.g. `"cli"`).
    pub fn for_platform_operation(purpose: &'static str) -> Self {
        Self { purpose }
    }

    pub fn purpose(&self) -> &'static str {
        self.purpose
    }

    /// Acts inside one tenant on the platform's behalf.
    pub fn within(&self, tenant: TenantId) -> TenantScope {
        TenantScope {
            tenant,
            principal: Principal::System,
            partner: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_scope_follows_the_matrix() {
        let scope = TenantScope::for_tests(TenantId::generate(), UserId::generate(), Role::Viewer);
        assert!(scope.require(Permission::ReadRecords).is_ok());
        assert_eq!(
            scope.require(Permission::WriteRecords),
            Err(Forbidden(Permission::WriteRecords))
        );
    }

    #[test]
    fn a_custom_role_holds_its_set_alone() {
        let scope = TenantScope::for_tests_with(
            TenantId::generate(),
            UserId::generate(),
            PermissionSet::of(&[Permission::HandleRequests]),
        );
        assert_eq!(scope.role(), Some(Role::Custom));
        assert!(scope.require(Permission::HandleRequests).is_ok());
        assert!(scope.require(Permission::ReadRequests).is_ok());
        assert_eq!(
            scope.require(Permission::ReadRecords),
            Err(Forbidden(Permission::ReadRecords))
        );
    }

    #[test]
    fn a_credential_check_holds_no_permission() {
        let scope = TenantScope::for_credential_check(TenantId::generate(), None);
        for permission in Permission::ALL {
            assert!(scope.require(permission).is_err());
        }
    }
}
