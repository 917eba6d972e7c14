//! `TenantRepository`: registration with unique slug and e-mail, reads and updates in
//! the scope's tenant only, the platform list.

use aura_audit::Actor;
use aura_identity::actions;
use aura_identity::ports::LoginRecord;
use aura_shared_kernel::{
    Conflict, Role, SubscriptionTier, SystemScope, Tenant, TenantId, TenantName, TenantScope,
    TenantSettings, UserId,
};
use time::Duration;

use crate::{
    Stores,
    fixtures::{
        REGISTER_EVENTS, assert_conflict, assert_not_found, audit_len, chain, event, new_user,
        one_winner, register, register_tenant, unique_slug, update_tenant,
    },
};

fn fresh_tenant(stores: &Stores) -> Tenant {
    Tenant::new(
        TenantName::parse("Contract Tenant").expect("valid name"),
        unique_slug(),
        stores.clock.now(),
    )
}

fn scope_in(tenant: TenantId) -> TenantScope {
    TenantScope::for_tests(tenant, UserId::generate(), Role::Owner)
}

pub async fn register_stores_tenant_owner_and_events(stores: Stores) {
    let fx = register_tenant(&stores).await;

    let tenant = stores.tenants.get(&fx.scope).await.expect("get the tenant");
    assert_eq!(tenant, fx.tenant, "the tenant reads back as registered");
    let owner = stores
        .users
        .get(&fx.scope, fx.owner.id)
        .await
        .expect("get the owner");
    assert_eq!(owner, fx.owner, "the owner reads back as registered");
    let login = stores
        .users
        .find_for_login(&fx.owner.email)
        .await
        .expect("find_for_login");
    assert_eq!(
        login,
        Some(LoginRecord {
            user: fx.owner.clone(),
            tenant: fx.tenant.clone(),
        }),
        "the owner signs in to the new tenant"
    );
    assert!(stores.tenants.slug_taken(&fx.tenant.slug).await.unwrap());

    let events = chain(&stores, &fx.scope).await;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            actions::TENANT_CREATED.as_str(),
            actions::USER_CREATED.as_str()
        ],
        "register stores its events in order"
    );
    assert_eq!(events[0].seq, 1, "a new tenant's chain starts at 1");
    assert_eq!(events[1].seq, 2);
    assert!(events.iter().all(|e| e.tenant_id == fx.tenant.id));
}

pub async fn register_rejects_a_taken_slug(stores: Stores) {
    let taken = register_tenant(&stores).await;
    let mut tenant = fresh_tenant(&stores);
    tenant.slug = taken.tenant.slug.clone();
    let owner = new_user(tenant.id, Role::Owner, stores.clock.now());
    let result = register(&stores, &tenant, &owner).await;
    assert_conflict(result, Conflict::SlugTaken, "register with a taken slug");

    assert_not_found(
        stores.tenants.get(&scope_in(tenant.id)).await,
        "the refused tenant",
    );
    assert_eq!(
        stores.users.find_for_login(&owner.email).await.unwrap(),
        None,
        "the refused tenant's owner is not stored"
    );
    assert_eq!(audit_len(&stores, &scope_in(tenant.id)).await, 0);
    assert_eq!(
        stores.tenants.get(&taken.scope).await.unwrap(),
        taken.tenant,
        "the slug's holder is unchanged"
    );
}

pub async fn register_rejects_a_taken_email(stores: Stores) {
    let taken = register_tenant(&stores).await;
    let tenant = fresh_tenant(&stores);
    let mut owner = new_user(tenant.id, Role::Owner, stores.clock.now());
    owner.email = taken.owner.email.clone();
    let result = register(&stores, &tenant, &owner).await;
    assert_conflict(result, Conflict::EmailTaken, "register with a taken e-mail");

    assert!(
        !stores.tenants.slug_taken(&tenant.slug).await.unwrap(),
        "the refused tenant's slug stays free"
    );
    assert_not_found(
        stores.tenants.get(&scope_in(tenant.id)).await,
        "the refused tenant",
    );
    assert_eq!(audit_len(&stores, &scope_in(tenant.id)).await, 0);
    let login = stores
        .users
        .find_for_login(&taken.owner.email)
        .await
        .unwrap()
        .expect("the address's holder");
    assert_eq!(login.user, taken.owner, "the address's holder is unchanged");
}

pub async fn slug_taken_sees_every_tenant(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    assert!(stores.tenants.slug_taken(&a.tenant.slug).await.unwrap());
    assert!(stores.tenants.slug_taken(&b.tenant.slug).await.unwrap());
    assert!(!stores.tenants.slug_taken(&unique_slug()).await.unwrap());
}

pub async fn update_replaces_the_row_with_its_event(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let mut changed = fx.tenant.clone();
    changed.name = TenantName::parse("Renamed Tenant").unwrap();
    changed.settings = TenantSettings::parse(serde_json::json!({"language": "de"})).unwrap();
    changed.subscription_tier = SubscriptionTier::Premium;
    changed.is_active = false;
    changed.updated_at = fx.tenant.updated_at + Duration::seconds(5);
    let new_slug = unique_slug();
    changed.slug = new_slug.clone();
    let expected_version = changed.bump_version();
    update_tenant(
        &stores,
        &fx.scope,
        &changed,
        expected_version,
        (Actor::User(fx.owner.id), actions::TENANT_UPDATED),
    )
    .await
    .expect("update the tenant");

    assert_eq!(stores.tenants.get(&fx.scope).await.unwrap(), changed);
    assert!(stores.tenants.slug_taken(&new_slug).await.unwrap());
    assert!(
        !stores.tenants.slug_taken(&fx.tenant.slug).await.unwrap(),
        "the old slug is free again"
    );
    let events = chain(&stores, &fx.scope).await;
    assert_eq!(events.len(), REGISTER_EVENTS + 1);
    assert_eq!(
        events.last().unwrap().action,
        actions::TENANT_UPDATED,
        "the update stores its event"
    );
}

pub async fn update_rejects_a_taken_slug(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let mut changed = a.tenant.clone();
    changed.slug = b.tenant.slug.clone();
    changed.name = TenantName::parse("Should Not Stick").unwrap();
    let result = update_tenant(
        &stores,
        &a.scope,
        &changed,
        changed.version,
        (Actor::System, actions::TENANT_UPDATED),
    )
    .await;
    assert_conflict(result, Conflict::SlugTaken, "update to a taken slug");
    assert_eq!(stores.tenants.get(&a.scope).await.unwrap(), a.tenant);
    assert_eq!(stores.tenants.get(&b.scope).await.unwrap(), b.tenant);
    assert_eq!(audit_len(&stores, &a.scope).await, REGISTER_EVENTS);
}

pub async fn other_tenants_are_not_found(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;

    assert_eq!(
        stores.tenants.get(&b.scope).await.unwrap(),
        b.tenant,
        "a scope reads its own tenant"
    );
    assert_not_found(
        stores.tenants.get(&scope_in(TenantId::generate())).await,
        "an unknown tenant",
    );

    let mut hijacked = a.tenant.clone();
    hijacked.name = TenantName::parse("Hijacked").unwrap();
    hijacked.is_active = false;
    let result = update_tenant(
        &stores,
        &b.scope,
        &hijacked,
        hijacked.version,
        (Actor::User(b.owner.id), actions::TENANT_UPDATED),
    )
    .await;
    assert_not_found(result, "updating tenant A through B's scope");
    assert_eq!(
        stores.tenants.get(&a.scope).await.unwrap(),
        a.tenant,
        "A is unchanged"
    );
    assert_eq!(
        stores.tenants.get(&b.scope).await.unwrap(),
        b.tenant,
        "B is unchanged"
    );
    assert_eq!(audit_len(&stores, &a.scope).await, REGISTER_EVENTS);
    assert_eq!(audit_len(&stores, &b.scope).await, REGISTER_EVENTS);
}

pub async fn list_all_contains_tenants_oldest_first(stores: Stores) {
    let now = stores.clock.now();
    let mut registered = Vec::new();
    for age_hours in [3, 2] {
        let mut tenant = fresh_tenant(&stores);
        tenant.created_at = now - Duration::hours(age_hours);
        tenant.updated_at = tenant.created_at;
        let owner = new_user(tenant.id, Role::Owner, tenant.created_at);
        register(&stores, &tenant, &owner).await.expect("register");
        registered.push(tenant);
    }
    let all = stores
        .tenants
        .list_all(&SystemScope::for_platform_operation("contract-tests"))
        .await
        .expect("list_all");
    let position = |tenant: &Tenant| {
        all.iter()
            .position(|t| t == tenant)
            .expect("list_all contains every registered tenant")
    };
    assert!(
        position(&registered[0]) < position(&registered[1]),
        "older tenants come first"
    );
    assert!(
        all.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "list_all is ordered by creation"
    );
}

pub async fn stale_update_loses_nothing(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let read = stores.tenants.get(&fx.scope).await.unwrap();

    let mut suspended = read.clone();
    suspended.is_active = false;
    let expected = suspended.bump_version();
    update_tenant(
        &stores,
        &fx.system_scope(),
        &suspended,
        expected,
        (Actor::System, actions::TENANT_SUSPENDED),
    )
    .await
    .expect("the first write at the version read");

    let mut renamed = read.clone();
    renamed.name = TenantName::parse("Stale Rename").unwrap();
    let expected = renamed.bump_version();
    let result = update_tenant(
        &stores,
        &fx.scope,
        &renamed,
        expected,
        (Actor::User(fx.owner.id), actions::TENANT_UPDATED),
    )
    .await;
    assert_conflict(result, Conflict::Version, "a write from a stale read");
    assert_eq!(
        stores.tenants.get(&fx.scope).await.unwrap(),
        suspended,
        "the stale write reactivated nothing"
    );
    assert_eq!(audit_len(&stores, &fx.scope).await, REGISTER_EVENTS + 1);

    assert_not_found(
        stores
            .tenants
            .update(
                &scope_in(TenantId::generate()),
                &renamed,
                expected,
                event(Actor::System, actions::TENANT_UPDATED, "tenant", read.id),
            )
            .await,
        "an update outside the scope's tenant",
    );
}

pub async fn concurrent_updates_have_one_winner(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let read = stores.tenants.get(&fx.scope).await.unwrap();
    let mut first = read.clone();
    first.name = TenantName::parse("First Writer").unwrap();
    let expected_first = first.bump_version();
    let mut second = read.clone();
    second.is_active = false;
    let expected_second = second.bump_version();
    let updated = || event(Actor::System, actions::TENANT_UPDATED, "tenant", read.id);

    let (a, b) = tokio::join!(
        stores
            .tenants
            .update(&fx.scope, &first, expected_first, updated()),
        stores
            .tenants
            .update(&fx.scope, &second, expected_second, updated()),
    );
    let (winner, ()) = one_winner(
        (first, a),
        (second, b),
        Conflict::Version,
        "the second update from the same read",
    );
    assert_eq!(stores.tenants.get(&fx.scope).await.unwrap(), winner);
    assert_eq!(audit_len(&stores, &fx.scope).await, REGISTER_EVENTS + 1);
}
