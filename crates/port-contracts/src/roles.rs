//! The custom roles' store (`CustomRoleRepository`): versioned rows of one tenant, a
//! name the tenant's once, a role a membership holds kept, a membership naming only its
//! own tenant's role, and the principal read with the role's permissions as stored now.

use aura_audit::Actor;
use aura_identity::{CustomRole, RoleName, User};
use aura_shared_kernel::{
    Conflict, CustomRoleId, Permission, PermissionSet, Role, StoreError, TenantScope,
};

use crate::{
    Stores,
    fixtures::{
        TenantFixture, add_user, assert_conflict, assert_not_found, edit_user, event, principal,
        register_tenant, start_session, stored_user,
    },
};

const CREATED: &str = "tenant_role.created";

fn role_of(
    fx: &TenantFixture,
    name: &str,
    permissions: &[Permission],
    stores: &Stores,
) -> CustomRole {
    let now = stores.clock.now();
    CustomRole {
        id: CustomRoleId::generate(),
        tenant_id: fx.tenant.id,
        name: RoleName::parse(name).unwrap(),
        permissions: PermissionSet::of(permissions),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn role_event(
    fx: &TenantFixture,
    action: &'static str,
    role: &CustomRole,
) -> aura_audit::PendingEvent {
    event(
        Actor::User(fx.owner.id),
        aura_audit::AuditAction::known(action),
        "tenant_role",
        role.id,
    )
}

async fn insert(stores: &Stores, fx: &TenantFixture, role: &CustomRole) -> Result<(), StoreError> {
    let scope = fx.scope_of(&fx.owner);
    stores
        .roles
        .insert(&scope, role, role_event(fx, CREATED, role))
        .await
}

/// Gives `user` the custom role `role` (at the version it was read).
async fn hold(
    stores: &Stores,
    scope: &TenantScope,
    user: &User,
    role: CustomRoleId,
) -> Result<(), StoreError> {
    let mut holder = user.clone();
    holder.role = Role::Custom;
    holder.custom_role = Some(role);
    edit_user(stores, scope, &holder).await
}

pub async fn insert_then_get_and_list_by_name(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let scope = fx.scope_of(&fx.owner);
    let desk = role_of(&fx, "Desk", &[Permission::HandleRequests], &stores);
    let auditors = role_of(
        &fx,
        "Auditors",
        &[Permission::ReadRecords, Permission::ReadAudit],
        &stores,
    );
    insert(&stores, &fx, &desk).await.unwrap();
    insert(&stores, &fx, &auditors).await.unwrap();
    let read = stores.roles.get(&scope, desk.id).await.unwrap();
    assert_eq!(read.name, desk.name);
    assert_eq!(read.permissions, desk.permissions, "the set as written");
    assert_eq!(read.version, 1);
    let names: Vec<String> = (stores.roles.list(&scope).await.unwrap().iter())
        .map(|r| r.name.as_str().to_owned())
        .collect();
    assert_eq!(names, ["Auditors", "Desk"], "by name");
    assert_eq!(
        stores.events(&scope, CREATED).await.len(),
        2,
        "each with its event"
    );
}

pub async fn a_name_is_the_tenants_once(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let other = register_tenant(&stores).await;
    insert(&stores, &fx, &role_of(&fx, "Desk", &[], &stores))
        .await
        .unwrap();
    let again = insert(&stores, &fx, &role_of(&fx, "Desk", &[], &stores)).await;
    assert_conflict(again, Conflict::Duplicate, "a second role of the name");
    insert(&stores, &other, &role_of(&other, "Desk", &[], &stores))
        .await
        .expect("another tenant's role of the same name");
}

pub async fn update_at_its_version_only(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let scope = fx.scope_of(&fx.owner);
    let desk = role_of(&fx, "Desk", &[Permission::HandleRequests], &stores);
    insert(&stores, &fx, &desk).await.unwrap();
    let mut changed = desk.clone();
    changed.permissions = PermissionSet::of(&[Permission::HandleBreaches]);
    let updated = role_event(&fx, "tenant_role.updated", &desk);
    stores
        .roles
        .update(&scope, &changed, 1, updated.clone())
        .await
        .unwrap();
    let read = stores.roles.get(&scope, desk.id).await.unwrap();
    assert_eq!((read.version, read.permissions), (2, changed.permissions));
    let stale = stores.roles.update(&scope, &desk, 1, updated).await;
    assert_conflict(stale, Conflict::Version, "an update at a stale version");
    assert_eq!(
        stores.roles.get(&scope, desk.id).await.unwrap(),
        read,
        "nothing lost"
    );
}

pub async fn a_held_role_is_not_deleted(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let scope = fx.scope_of(&fx.owner);
    let desk = role_of(&fx, "Desk", &[Permission::HandleRequests], &stores);
    insert(&stores, &fx, &desk).await.unwrap();
    let member = add_user(&stores, &fx, Role::Member).await;
    hold(&stores, &scope, &member, desk.id).await.unwrap();
    let deleted = role_event(&fx, "tenant_role.deleted", &desk);
    let refused = stores
        .roles
        .delete(&scope, desk.id, 1, deleted.clone())
        .await;
    assert_conflict(refused, Conflict::InUse, "a role somebody holds");
    let mut back = stored_user(&stores, &fx, member.id).await;
    back.role = Role::Viewer;
    back.custom_role = None;
    edit_user(&stores, &scope, &back).await.unwrap();
    stores
        .roles
        .delete(&scope, desk.id, 1, deleted)
        .await
        .unwrap();
    assert_not_found(stores.roles.get(&scope, desk.id).await, "a deleted role");
}

pub async fn other_tenants_roles_are_not_found_nor_held(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let other = register_tenant(&stores).await;
    let theirs = role_of(&other, "Theirs", &[Permission::ReadRecords], &stores);
    insert(&stores, &other, &theirs).await.unwrap();
    let scope = fx.scope_of(&fx.owner);
    assert_not_found(
        stores.roles.get(&scope, theirs.id).await,
        "another tenant's role",
    );
    assert!(stores.roles.list(&scope).await.unwrap().is_empty());
    let deleted = role_event(&fx, "tenant_role.deleted", &theirs);
    assert!(
        stores
            .roles
            .delete(&scope, theirs.id, 1, deleted)
            .await
            .is_err()
    );
    // A membership never holds another tenant's role (the composite key).
    let member = add_user(&stores, &fx, Role::Member).await;
    assert!(hold(&stores, &scope, &member, theirs.id).await.is_err());
    assert_eq!(stored_user(&stores, &fx, member.id).await.custom_role, None);
}

pub async fn find_principal_reads_the_role_as_stored_now(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let scope = fx.scope_of(&fx.owner);
    let desk = role_of(&fx, "Desk", &[Permission::HandleRequests], &stores);
    insert(&stores, &fx, &desk).await.unwrap();
    let member = add_user(&stores, &fx, Role::Member).await;
    hold(&stores, &scope, &member, desk.id).await.unwrap();
    let holder = stored_user(&stores, &fx, member.id).await;
    let (session, _) = start_session(&stores, &fx, &holder).await;
    let found = principal(&stores, fx.tenant.id, member.id, session.id)
        .await
        .unwrap();
    assert_eq!(found.user.custom_role, Some(desk.id));
    assert_eq!(found.custom_permissions, Some(desk.permissions));

    let mut changed = desk.clone();
    changed.permissions = PermissionSet::of(&[Permission::HandleBreaches, Permission::ReadUsers]);
    let updated = role_event(&fx, "tenant_role.updated", &desk);
    stores
        .roles
        .update(&scope, &changed, 1, updated)
        .await
        .unwrap();
    let found = principal(&stores, fx.tenant.id, member.id, session.id)
        .await
        .unwrap();
    assert_eq!(
        found.custom_permissions,
        Some(changed.permissions),
        "the next read"
    );

    let owner = principal(&stores, fx.tenant.id, fx.owner.id, session.id)
        .await
        .unwrap();
    assert_eq!(owner.custom_permissions, None, "a built-in role reads none");
}
