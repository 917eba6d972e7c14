//! Custom roles: roles a tenant defines as sets of permissions from the one list
//! ([`Permission`]), besides the four built-in ones. The permissions are data; what a
//! permission guards is still the kernel's matrix ([`PermissionSet::allows`]). Only
//! owners define them (`ManagePrivilegedUsers`, which no custom role may hold), so no
//! custom role escalates.

use std::sync::Arc;

use aura_audit::{Changes, PendingEvent, RequestContext};
use aura_shared_kernel::{
    Conflict, CustomRoleId, Permission, PermissionSet, Role, StoreError, TenantId, TenantScope,
    ValidationErrors,
};
use time::OffsetDateTime;

use crate::{actions, error::IdentityError, shared::Core};

pub(crate) const ENTITY_ROLE: &str = "tenant_role";

/// A custom role's name: 1–80 characters, no control characters, unique in its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName(String);

impl RoleName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        crate::user::display_name(raw, "name", Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client writes about a custom role: its name and permissions, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDraft {
    pub name: RoleName,
    pub permissions: PermissionSet,
}

impl RoleDraft {
    /// Checks a name and permission names as a client sent them; every problem at once,
    /// each naming its field (`permissions[2]`). `manage_privileged_users` is refused by
    /// name: a custom role never grants owners or admins.
    pub fn parse(name: &str, permissions: &[String]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.collect(RoleName::parse(name));
        let mut set = PermissionSet::EMPTY;
        for (i, raw) in permissions.iter().enumerate() {
            match raw.parse::<Permission>() {
                Ok(p) if !p.grantable_to_custom_roles() => errors.push(
                    format!("permissions[{i}]"),
                    format!("`{p}` is never held by a custom role (owners only)"),
                ),
                Ok(p) => set = set.with(p),
                Err(message) => errors.push(format!("permissions[{i}]"), message),
            }
        }
        errors.into_result()?;
        name.map(|name| Self {
            name,
            permissions: set,
        })
        .ok_or_else(|| ValidationErrors::single("name", "is required"))
    }
}

/// A role a tenant defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    pub id: CustomRoleId,
    pub tenant_id: TenantId,
    pub name: RoleName,
    pub permissions: PermissionSet,
    /// 1 when created, +1 with every change (`If-Match`).
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The permissions a membership holds: its built-in role's from the matrix, or its
/// custom role's as read with it (`custom`; none when the role is gone or unread).
/// A custom role's stored set never yields `ManagePrivilegedUsers`, whatever the row
/// says.
pub fn resolved_permissions(role: Role, custom: Option<PermissionSet>) -> PermissionSet {
    match role {
        Role::Custom => custom
            .unwrap_or(PermissionSet::EMPTY)
            .without(Permission::ManagePrivilegedUsers),
        built_in => built_in.permissions(),
    }
}

/// The tenant's custom roles. Writes store their audit event in the same transaction.
#[async_trait::async_trait]
pub trait CustomRoleRepository: Send + Sync {
    /// The scope's roles by name.
    async fn list(&self, scope: &TenantScope) -> Result<Vec<CustomRole>, StoreError>;

    /// `NotFound` for an id not in the scope's tenant.
    async fn get(&self, scope: &TenantScope, id: CustomRoleId) -> Result<CustomRole, StoreError>;

    /// `Conflict::Duplicate` when the tenant has a role of that name.
    async fn insert(
        &self,
        scope: &TenantScope,
        role: &CustomRole,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Replaces the role if it is still at `expected_version` (`Conflict::Version`
    /// otherwise, `Conflict::Duplicate` for a name taken).
    async fn update(
        &self,
        scope: &TenantScope,
        role: &CustomRole,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Removes the role at `expected_version`; `Conflict::InUse` while a membership
    /// holds it (checked in the write's transaction).
    async fn delete(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// The use cases of custom roles: everyone who reads users reads them; owners define,
/// change and remove them.
#[derive(Clone)]
pub struct CustomRoles {
    core: Arc<Core>,
}

impl CustomRoles {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    pub async fn list(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<Vec<CustomRole>, IdentityError> {
        self.core.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(self.core.ports.roles.list(scope).await?)
    }

    pub async fn get(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
        ctx: &RequestContext,
    ) -> Result<CustomRole, IdentityError> {
        self.core.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(self.core.ports.roles.get(scope, id).await?)
    }

    pub async fn create(
        &self,
        scope: &TenantScope,
        draft: RoleDraft,
        ctx: &RequestContext,
    ) -> Result<CustomRole, IdentityError> {
        self.require_definer(scope, ctx).await?;
        let now = self.core.ports.clock.now();
        let role = CustomRole {
            id: CustomRoleId::generate(),
            tenant_id: scope.tenant_id(),
            name: draft.name,
            permissions: draft.permissions,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let changes = Changes::new()
            .created("name", &role.name.as_str())
            .created("permissions", &names(role.permissions));
        let event = PendingEvent::new(
            scope,
            actions::ROLE_CREATED,
            ENTITY_ROLE,
            role.id,
            changes,
            ctx,
        );
        self.core
            .ports
            .roles
            .insert(scope, &role, event)
            .await
            .map_err(name_taken)?;
        Ok(role)
    }

    /// Replaces the name and permissions at `expected_version`. Holders of the role
    /// hold the new permissions from their next request.
    pub async fn update(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
        draft: RoleDraft,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<CustomRole, IdentityError> {
        self.require_definer(scope, ctx).await?;
        let before = self.core.ports.roles.get(scope, id).await?;
        if before.version != expected_version {
            return Err(StoreError::Conflict(Conflict::Version).into());
        }
        if before.name == draft.name && before.permissions == draft.permissions {
            return Ok(before);
        }
        let role = CustomRole {
            name: draft.name,
            permissions: draft.permissions,
            version: before.version + 1,
            updated_at: self.core.ports.clock.now(),
            ..before.clone()
        };
        let changes = Changes::new()
            .field("name", &before.name.as_str(), &role.name.as_str())
            .field(
                "permissions",
                &names(before.permissions),
                &names(role.permissions),
            );
        let event = PendingEvent::new(scope, actions::ROLE_UPDATED, ENTITY_ROLE, id, changes, ctx);
        self.core
            .ports
            .roles
            .update(scope, &role, expected_version, event)
            .await
            .map_err(name_taken)?;
        Ok(role)
    }

    /// Removes a role nobody holds (409 `role_in_use` otherwise).
    pub async fn delete(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        self.require_definer(scope, ctx).await?;
        let before = self.core.ports.roles.get(scope, id).await?;
        let event = PendingEvent::new(
            scope,
            actions::ROLE_DELETED,
            ENTITY_ROLE,
            id,
            Changes::new().note("name", before.name.as_str()),
            ctx,
        );
        match self
            .core
            .ports
            .roles
            .delete(scope, id, expected_version, event)
            .await
        {
            Err(StoreError::Conflict(Conflict::InUse)) => Err(IdentityError::conflict(
                "role_in_use",
                None,
                "members hold this role; give them another role first",
            )),
            other => Ok(other?),
        }
    }

    /// Defining roles is the owners': it decides what others may do.
    async fn require_definer(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        self.core
            .require(scope, Permission::ManagePrivilegedUsers, ctx)
            .await
    }
}

/// The permission names of a set, as audit events record them.
fn names(set: PermissionSet) -> Vec<&'static str> {
    set.iter().map(Permission::as_str).collect()
}

fn name_taken(error: StoreError) -> IdentityError {
    match error {
        StoreError::Conflict(Conflict::Duplicate) => IdentityError::conflict(
            "role_name_taken",
            Some("name"),
            "the tenant has a role of this name",
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_draft_reads_names_and_permissions() {
        let draft = RoleDraft::parse(
            "  Request desk ",
            &strings(&["handle_requests", "read_users"]),
        )
        .unwrap();
        assert_eq!(draft.name.as_str(), "Request desk");
        assert_eq!(
            draft.permissions,
            PermissionSet::of(&[Permission::ReadUsers, Permission::HandleRequests])
        );
    }

    #[test]
    fn a_draft_refuses_escalation_and_unknown_names_by_field() {
        let errors = RoleDraft::parse(
            "",
            &strings(&["read_records", "manage_privileged_users", "root"]),
        )
        .unwrap_err();
        assert!(errors.names("name"));
        assert!(errors.names("permissions[1]"), "{errors}");
        assert!(errors.names("permissions[2]"), "{errors}");
        assert!(!errors.names("permissions[0]"));
    }

    #[test]
    fn a_custom_role_never_resolves_to_privileged_users() {
        let stored = PermissionSet::ALL;
        let held = resolved_permissions(Role::Custom, Some(stored));
        assert!(!held.allows(Permission::ManagePrivilegedUsers));
        assert!(held.allows(Permission::ManageTenant));
        assert_eq!(
            resolved_permissions(Role::Custom, None),
            PermissionSet::EMPTY
        );
        for role in Role::ALL {
            assert_eq!(
                resolved_permissions(role, Some(PermissionSet::EMPTY)),
                role.permissions()
            );
        }
    }
}
