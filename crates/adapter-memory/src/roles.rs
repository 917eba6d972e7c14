//! [`CustomRoleRepository`] on the memory store: the tenant's roles in the store's
//! tables, each change recorded with its event under the one lock; a role a membership
//! holds is not removed (as PostgreSQL's RESTRICT key).

use std::collections::BTreeMap;

use aura_audit::PendingEvent;
use aura_identity::{CustomRole, CustomRoleRepository, User};
use aura_shared_kernel::{Conflict, CustomRoleId, StoreError, TenantId, TenantScope};

use crate::{MemoryStore, state::State};

pub(crate) type RoleTable = BTreeMap<(TenantId, CustomRoleId), CustomRole>;

impl State {
    /// A membership's custom role must be one of its tenant's (the composite key).
    pub fn check_custom_role(&self, user: &User) -> Result<(), StoreError> {
        match user.custom_role {
            Some(id) if !self.roles.contains_key(&(user.tenant_id, id)) => {
                Err(Conflict::UnknownReference("custom_role_id").into())
            }
            _ => Ok(()),
        }
    }

    fn check_role_name_free(&self, role: &CustomRole) -> Result<(), StoreError> {
        let taken = self.roles.values().any(|other| {
            other.tenant_id == role.tenant_id && other.id != role.id && other.name == role.name
        });
        if taken {
            Err(Conflict::Duplicate.into())
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl CustomRoleRepository for MemoryStore {
    async fn list(&self, scope: &TenantScope) -> Result<Vec<CustomRole>, StoreError> {
        let tenant = scope.tenant_id();
        let mut roles: Vec<CustomRole> = self
            .lock()?
            .roles
            .values()
            .filter(|role| role.tenant_id == tenant)
            .cloned()
            .collect();
        roles.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(roles)
    }

    async fn get(&self, scope: &TenantScope, id: CustomRoleId) -> Result<CustomRole, StoreError> {
        self.lock()?
            .roles
            .get(&(scope.tenant_id(), id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn insert(
        &self,
        scope: &TenantScope,
        role: &CustomRole,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_new_row(tenant, role.tenant_id)?;
            if tx.state.roles.contains_key(&(tenant, role.id)) {
                return Err(Conflict::IdTaken("role").into());
            }
            tx.state.check_role_name_free(role)?;
            tx.state.roles.insert((tenant, role.id), role.clone());
            Ok(())
        })
    }

    async fn update(
        &self,
        scope: &TenantScope,
        role: &CustomRole,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            let before = tx
                .state
                .roles
                .get(&(tenant, role.id))
                .filter(|_| role.tenant_id == tenant)
                .ok_or(StoreError::NotFound)?;
            if before.version != expected_version {
                return Err(Conflict::Version.into());
            }
            tx.state.check_role_name_free(role)?;
            let mut stored = role.clone();
            stored.version = expected_version + 1;
            tx.state.roles.insert((tenant, role.id), stored);
            Ok(())
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            let before = tx
                .state
                .roles
                .get(&(tenant, id))
                .ok_or(StoreError::NotFound)?;
            if before.version != expected_version {
                return Err(Conflict::Version.into());
            }
            if tx
                .state
                .tenant_users(tenant)
                .any(|u| u.custom_role == Some(id))
            {
                return Err(Conflict::InUse.into());
            }
            tx.state.roles.remove(&(tenant, id));
            Ok(())
        })
    }
}
