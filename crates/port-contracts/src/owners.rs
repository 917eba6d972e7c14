//! The last-owner rule: every user update and delete keeps at least one active owner in
//! the tenant, or fails with `Conflict::LastOwner` and changes nothing.

use aura_identity::User;
use aura_identity::actions;
use aura_shared_kernel::{Conflict, PageRequest, Role, StoreError};

use crate::{
    Stores,
    fixtures::{
        TenantFixture, add_user, assert_conflict, assert_user_unchanged, audit_len, delete_user,
        insert_user, name, new_user, register_tenant, stored_user, update_user,
    },
};

/// Writes `user` at the version it carries; on success `user` moves to the stored
/// version, as a caller holding the row would.
async fn update(stores: &Stores, fx: &TenantFixture, user: &mut User) -> Result<(), StoreError> {
    let mut next = user.clone();
    let expected = next.bump_version();
    update_user(stores, &fx.scope, &next, expected, actions::USER_UPDATED).await?;
    *user = next;
    Ok(())
}

async fn delete(stores: &Stores, fx: &TenantFixture, user: &User) -> Result<(), StoreError> {
    delete_user(stores, &fx.scope, user).await
}

async fn active_owners(stores: &Stores, fx: &TenantFixture) -> Vec<User> {
    stores
        .users
        .list(&fx.scope, PageRequest::first(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|u| u.role == Role::Owner && u.is_active)
        .collect()
}

async fn assert_refused_and_unchanged(
    stores: &Stores,
    fx: &TenantFixture,
    result: Result<(), StoreError>,
    events_before: usize,
    what: &str,
) {
    assert_conflict(result, Conflict::LastOwner, what);
    assert_user_unchanged(stores, fx, &fx.owner, events_before, what).await;
}

/// `change` made to the last owner's row is refused by the last-owner rule and changes
/// nothing.
async fn assert_owner_change_refused(
    stores: &Stores,
    fx: &TenantFixture,
    change: impl FnOnce(&mut User),
    what: &str,
) {
    let events = audit_len(stores, &fx.scope).await;
    let mut changed = fx.owner.clone();
    change(&mut changed);
    let result = update(stores, fx, &mut changed).await;
    assert_refused_and_unchanged(stores, fx, result, events, what).await;
}

pub async fn the_last_owner_cannot_be_demoted(stores: Stores) {
    let fx = register_tenant(&stores).await;
    add_user(&stores, &fx, Role::Admin).await;
    for role in [Role::Admin, Role::Member, Role::Viewer] {
        let demote = |u: &mut User| u.role = role;
        assert_owner_change_refused(&stores, &fx, demote, "demoting the last owner").await;
    }
}

pub async fn the_last_owner_cannot_be_deactivated(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let deactivate = |u: &mut User| u.is_active = false;
    assert_owner_change_refused(&stores, &fx, deactivate, "deactivating the last owner").await;
}

pub async fn the_last_owner_cannot_be_deleted(stores: Stores) {
    let fx = register_tenant(&stores).await;
    add_user(&stores, &fx, Role::Member).await;
    let events = audit_len(&stores, &fx.scope).await;
    let result = delete(&stores, &fx, &fx.owner).await;
    assert_refused_and_unchanged(&stores, &fx, result, events, "deleting the last owner").await;
}

pub async fn one_of_two_owners_may_go(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let second = add_user(&stores, &fx, Role::Owner).await;

    let mut first = fx.owner.clone();
    first.role = Role::Admin;
    update(&stores, &fx, &mut first)
        .await
        .expect("with two owners, one may be demoted");

    let mut second_off = second.clone();
    second_off.is_active = false;
    assert_conflict(
        update(&stores, &fx, &mut second_off).await,
        Conflict::LastOwner,
        "deactivating the owner who is now the last",
    );
    assert_conflict(
        delete(&stores, &fx, &second).await,
        Conflict::LastOwner,
        "deleting the owner who is now the last",
    );
    assert_eq!(stored_user(&stores, &fx, second.id).await, second);

    first.role = Role::Owner;
    update(&stores, &fx, &mut first)
        .await
        .expect("promoting an owner again");
    delete(&stores, &fx, &second)
        .await
        .expect("with two owners again, one may be deleted");
    let owners = active_owners(&stores, &fx).await;
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].id, fx.owner.id);
}

pub async fn an_inactive_owner_does_not_count(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let mut dormant = new_user(fx.tenant.id, Role::Owner, stores.clock.now());
    dormant.is_active = false;
    insert_user(&stores, &fx.scope, &dormant)
        .await
        .expect("insert an inactive owner");
    let events = audit_len(&stores, &fx.scope).await;

    let mut demoted = fx.owner.clone();
    demoted.role = Role::Member;
    let result = update(&stores, &fx, &mut demoted).await;
    assert_refused_and_unchanged(
        &stores,
        &fx,
        result,
        events,
        "demoting the only active owner beside an inactive one",
    )
    .await;
    let result = delete(&stores, &fx, &fx.owner).await;
    assert_refused_and_unchanged(
        &stores,
        &fx,
        result,
        events,
        "deleting the only active owner beside an inactive one",
    )
    .await;

    let mut reactivated = dormant.clone();
    reactivated.is_active = true;
    update(&stores, &fx, &mut reactivated)
        .await
        .expect("reactivating an owner");
    update(&stores, &fx, &mut demoted)
        .await
        .expect("with the second owner active, the first may be demoted");
}

pub async fn concurrent_demotions_keep_an_owner(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let second = add_user(&stores, &fx, Role::Owner).await;
    let mut first_demoted = fx.owner.clone();
    first_demoted.role = Role::Admin;
    let mut second_demoted = second.clone();
    second_demoted.role = Role::Admin;

    let (r1, r2) = tokio::join!(
        update(&stores, &fx, &mut first_demoted),
        update(&stores, &fx, &mut second_demoted),
    );
    let loser = match (r1, r2) {
        (Ok(()), loser) | (loser, Ok(())) => loser,
        (r1, r2) => panic!("one demotion must succeed: {r1:?} / {r2:?}"),
    };
    assert_conflict(
        loser,
        Conflict::LastOwner,
        "the second of two concurrent demotions",
    );
    assert_eq!(
        active_owners(&stores, &fx).await.len(),
        1,
        "exactly one active owner remains"
    );
}

pub async fn members_change_freely(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let admin = add_user(&stores, &fx, Role::Admin).await;
    let member = add_user(&stores, &fx, Role::Member).await;

    let mut renamed_owner = fx.owner.clone();
    renamed_owner.full_name = name("Still The Owner");
    update(&stores, &fx, &mut renamed_owner)
        .await
        .expect("the last owner may change anything that keeps them an active owner");

    let mut demoted = admin.clone();
    demoted.role = Role::Viewer;
    demoted.is_active = false;
    update(&stores, &fx, &mut demoted)
        .await
        .expect("demoting and deactivating an admin");
    let mut promoted = member.clone();
    promoted.role = Role::Admin;
    update(&stores, &fx, &mut promoted)
        .await
        .expect("promoting a member");
    delete(&stores, &fx, &promoted)
        .await
        .expect("deleting an admin");
    delete(&stores, &fx, &demoted)
        .await
        .expect("deleting an inactive viewer");
    assert_eq!(active_owners(&stores, &fx).await, vec![renamed_owner]);
}
