//! Building blocks of the contracts: fresh tenants and users with unique names, events,
//! tokens, and assertions on `StoreError`.

use std::{fmt::Debug, future::Future, sync::Arc};

use aura_adapter_crypto::HmacChainHasher;
use aura_audit::{
    Actor, AuditAction, AuditRecord, AuditService, Changes, PendingEvent, RequestContext,
};
use aura_identity::actions;
use aura_identity::{
    Email, FullName, PasswordHash, RefreshFamily, TokenHash, User, ports::PrincipalRecord,
};
use aura_shared_kernel::{
    Conflict, Role, StoreError, SystemScope, Tenant, TenantId, TenantName, TenantScope, TenantSlug,
    UserId,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::Stores;

/// A random 16-hex-digit suffix: unique names in a database shared between contracts.
pub fn suffix() -> String {
    let simple = Uuid::new_v4().simple().to_string();
    simple[..16].to_owned()
}

pub fn unique_slug() -> TenantSlug {
    TenantSlug::parse(&format!("contract-{}", suffix())).expect("valid slug")
}

pub fn unique_email(label: &str) -> Email {
    Email::parse(&format!("{label}-{}@contracts.example.com", suffix())).expect("valid e-mail")
}

pub fn name(text: &str) -> FullName {
    FullName::parse(text).expect("valid name")
}

/// A random token hash (the stores never see the token itself).
pub fn token() -> TokenHash {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    TokenHash(bytes)
}

/// A user of `tenant` (not stored) with a unique e-mail address.
pub fn new_user(tenant: TenantId, role: Role, now: OffsetDateTime) -> User {
    User::new(
        tenant,
        unique_email(role.as_str()),
        name("Contract User"),
        role,
        PasswordHash::from_stored(format!("$contract${}", suffix())),
        now,
    )
}

/// An event about `entity_id`, acted by `actor`.
pub fn event(
    actor: Actor,
    action: AuditAction,
    entity_type: &'static str,
    entity_id: impl ToString,
) -> PendingEvent {
    PendingEvent::new(
        actor,
        action,
        entity_type,
        entity_id,
        Changes::new(),
        &RequestContext::default(),
    )
}

/// A user event acted by the user themselves.
pub fn user_event(user: &User, action: AuditAction) -> PendingEvent {
    event(Actor::User(user.id), action, "user", user.id)
}

/// An event about `entity_id`, acted by `user`.
pub fn acted_by(
    user: &User,
    action: AuditAction,
    entity_type: &'static str,
    entity_id: impl ToString,
) -> PendingEvent {
    event(Actor::User(user.id), action, entity_type, entity_id)
}

/// An event about session `id`, acted by `user`.
pub fn session_event(user: &User, action: AuditAction, id: impl ToString) -> PendingEvent {
    acted_by(user, action, "session", id)
}

/// A tenant scope before any user is known (sign-up, sign-in, principal reads).
pub fn credential_scope(tenant: TenantId) -> TenantScope {
    TenantScope::for_credential_check(tenant, None)
}

/// `users.insert` of `user` with its creation event, acted by the user.
pub async fn insert_user(
    stores: &Stores,
    scope: &TenantScope,
    user: &User,
) -> Result<(), StoreError> {
    let event = user_event(user, actions::USER_CREATED);
    stores.users.insert(scope, user, event).await
}

/// `users.update` of `user` at `expected` with an `action` event, acted by the user.
pub async fn update_user(
    stores: &Stores,
    scope: &TenantScope,
    user: &User,
    expected: i32,
    action: AuditAction,
) -> Result<(), StoreError> {
    let event = user_event(user, action);
    stores.users.update(scope, user, expected, event).await
}

/// `users.update` of `user` at the version it carries (the version it was read at), with
/// a `user.updated` event acted by the user.
pub async fn edit_user(
    stores: &Stores,
    scope: &TenantScope,
    user: &User,
) -> Result<(), StoreError> {
    update_user(stores, scope, user, user.version, actions::USER_UPDATED).await
}

/// `users.delete` of `user` with its deletion event, acted by the user.
pub async fn delete_user(
    stores: &Stores,
    scope: &TenantScope,
    user: &User,
) -> Result<(), StoreError> {
    let event = user_event(user, actions::USER_DELETED);
    stores.users.delete(scope, user.id, event).await
}

/// `users.update` of `user` at `expected` by the tenant's owner, with an `action` event.
pub async fn update_by_owner(
    stores: &Stores,
    fixture: &TenantFixture,
    user: &User,
    expected: i32,
    action: AuditAction,
) -> Result<(), StoreError> {
    let event = acted_by(&fixture.owner, action, "user", user.id);
    stores
        .users
        .update(&fixture.scope, user, expected, event)
        .await
}

/// `users.delete` of `user` by the tenant's owner, with its deletion event.
pub async fn delete_by_owner(
    stores: &Stores,
    fixture: &TenantFixture,
    user: &User,
) -> Result<(), StoreError> {
    let event = acted_by(&fixture.owner, actions::USER_DELETED, "user", user.id);
    stores.users.delete(&fixture.scope, user.id, event).await
}

/// An administrator deactivates `read` (its sessions ended, `change` made too) at the
/// version read; answers the user as written.
pub async fn deactivate(
    stores: &Stores,
    fixture: &TenantFixture,
    read: &User,
    change: impl FnOnce(&mut User),
) -> User {
    let mut deactivated = read.clone();
    deactivated.is_active = false;
    change(&mut deactivated);
    deactivated.end_sessions();
    let expected = deactivated.bump_version();
    let event = user_event(&deactivated, actions::USER_DEACTIVATED);
    stores
        .users
        .update(&fixture.scope, &deactivated, expected, event)
        .await
        .expect("deactivate at the version read");
    deactivated
}

/// `tenants.register` of `tenant` and `owner` in the tenant's credential scope, with
/// the registration events.
pub async fn register(stores: &Stores, tenant: &Tenant, owner: &User) -> Result<(), StoreError> {
    let events = register_events(tenant, owner);
    stores
        .tenants
        .register(&credential_scope(tenant.id), tenant, owner, events)
        .await
}

/// `tenants.update` of `tenant` at `expected` with an `action` event by `actor`.
pub async fn update_tenant(
    stores: &Stores,
    scope: &TenantScope,
    tenant: &Tenant,
    expected: i32,
    (actor, action): (Actor, AuditAction),
) -> Result<(), StoreError> {
    let event = event(actor, action, "tenant", tenant.id);
    stores.tenants.update(scope, tenant, expected, event).await
}

/// `users.find_principal` in the tenant's credential scope, as the `Auth` path reads it.
pub async fn principal(
    stores: &Stores,
    tenant: TenantId,
    user: UserId,
    session: Uuid,
) -> Option<PrincipalRecord> {
    stores
        .users
        .find_principal(&credential_scope(tenant), user, session)
        .await
        .expect("find_principal")
}

/// Two tenants, A with a member: the set-up of the isolation contracts.
#[derive(Debug, Clone)]
pub struct TwoTenants {
    pub a: TenantFixture,
    pub b: TenantFixture,
    pub a_member: User,
    /// A's chain length after the set-up.
    pub a_events: usize,
}

impl TwoTenants {
    pub async fn new(stores: &Stores) -> Self {
        let a = register_tenant(stores).await;
        let b = register_tenant(stores).await;
        let a_member = add_user(stores, &a, Role::Member).await;
        let a_events = audit_len(stores, &a.scope).await;
        Self {
            a,
            b,
            a_member,
            a_events,
        }
    }

    /// Neither chain moved since the set-up.
    pub async fn assert_no_new_events(&self, stores: &Stores) {
        assert_eq!(audit_len(stores, &self.a.scope).await, self.a_events);
        assert_eq!(audit_len(stores, &self.b.scope).await, REGISTER_EVENTS);
    }
}

/// A registered tenant with its owner and a scope acting as that owner.
#[derive(Debug, Clone)]
pub struct TenantFixture {
    pub tenant: Tenant,
    pub owner: User,
    /// The owner's scope.
    pub scope: TenantScope,
}

impl TenantFixture {
    /// A platform scope inside this tenant.
    pub fn system_scope(&self) -> TenantScope {
        SystemScope::for_platform_operation("contract-tests").within(self.tenant.id)
    }

    /// The scope of a user of this tenant.
    pub fn scope_of(&self, user: &User) -> TenantScope {
        TenantScope::for_tests(self.tenant.id, user.id, user.role)
    }
}

/// The events `register` stores with a new tenant: tenant created, owner created.
pub const REGISTER_EVENTS: usize = 2;

/// Registers a fresh tenant (unique slug) with its owner (unique e-mail) and the two
/// creation events.
pub async fn register_tenant(stores: &Stores) -> TenantFixture {
    let now = stores.clock.now();
    let tenant = Tenant::new(
        TenantName::parse("Contract Tenant").expect("valid name"),
        unique_slug(),
        now,
    );
    let owner = new_user(tenant.id, Role::Owner, now);
    register(stores, &tenant, &owner)
        .await
        .expect("register a fresh tenant");
    let scope = TenantScope::for_tests(tenant.id, owner.id, Role::Owner);
    TenantFixture {
        tenant,
        owner,
        scope,
    }
}

pub fn register_events(tenant: &Tenant, owner: &User) -> Vec<PendingEvent> {
    let actor = Actor::User(owner.id);
    vec![
        event(actor, actions::TENANT_CREATED, "tenant", tenant.id),
        event(actor, actions::USER_CREATED, "user", owner.id),
    ]
}

/// Stores a new user of the fixture's tenant (created by the owner).
pub async fn add_user(stores: &Stores, fixture: &TenantFixture, role: Role) -> User {
    let user = new_user(fixture.tenant.id, role, stores.clock.now());
    let created = acted_by(&fixture.owner, actions::USER_CREATED, "user", user.id);
    stores
        .users
        .insert(&fixture.scope, &user, created)
        .await
        .expect("insert a fresh user");
    user
}

/// A session of `user` created at `now`, ending 30 days later.
pub fn family(user: &User, now: OffsetDateTime) -> RefreshFamily {
    RefreshFamily {
        id: Uuid::now_v7(),
        tenant_id: user.tenant_id,
        user_id: user.id,
        session_version: user.session_version,
        created_at: now,
        absolute_expires_at: now + Duration::days(30),
    }
}

/// Starts a session of `user` (in the user's own scope); returns it and its first token.
pub async fn start_session(
    stores: &Stores,
    fixture: &TenantFixture,
    user: &User,
) -> (RefreshFamily, TokenHash) {
    let now = stores.clock.now();
    let family = family(user, now);
    let first = token();
    stores
        .sessions
        .start(
            &fixture.scope_of(user),
            &family,
            &first,
            now + Duration::days(14),
            session_event(user, actions::USER_LOGIN_SUCCEEDED, family.id),
        )
        .await
        .expect("start a session");
    (family, first)
}

/// The scope's whole chain, in order.
pub async fn chain(stores: &Stores, scope: &TenantScope) -> Vec<AuditRecord> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |r: &AuditRecord| r.seq);
        let batch = stores
            .audit
            .chain_after(scope, after, 500)
            .await
            .expect("read the chain");
        if batch.is_empty() {
            return all;
        }
        assert!(
            batch.iter().all(|r| r.seq > after),
            "chain_after({after}) must return only later positions"
        );
        all.extend(batch);
    }
}

/// The scope's chain verifies and holds `expected` events; returns them. `stores` is any
/// set of ports under test (their identity [`Stores`] read the chain).
pub async fn assert_chain(
    stores: &impl AsRef<Stores>,
    scope: &TenantScope,
    expected: usize,
    what: &str,
) -> Vec<AuditRecord> {
    let stores = stores.as_ref();
    let records = chain(stores, scope).await;
    assert_eq!(records.len(), expected, "{what}: events in the chain");
    let verification = AuditService::new(
        stores.audit.clone(),
        Arc::new(HmacChainHasher::with_test_key()),
    )
    .verify(scope)
    .await
    .expect("verify the chain");
    assert!(
        verification.valid,
        "{what}: the chain verifies: {verification:?}"
    );
    assert_eq!(verification.events_checked, expected as u64, "{what}");
    records
}

/// How many events the fixture's tenant's chain holds now (read in its scope).
pub async fn events(stores: &impl AsRef<Stores>, fixture: &impl AsRef<TenantScope>) -> usize {
    audit_len(stores.as_ref(), fixture.as_ref()).await
}

/// How many events the scope's chain holds.
pub async fn audit_len(stores: &Stores, scope: &TenantScope) -> usize {
    chain(stores, scope).await.len()
}

/// `user` as their tenant reads them: the account's password hash and session version
/// only through an accepted, active membership (a pending or deactivated one's account
/// is not the tenant's to read).
pub fn as_tenant_reads(user: &User) -> User {
    let mut seen = user.clone();
    if seen.accepted_at.is_none() || !seen.is_active {
        seen.password_hash = PasswordHash::unset();
        seen.account_session_version = 0;
    }
    seen
}

/// The user as stored (through the owner's scope).
pub async fn stored_user(stores: &Stores, fixture: &TenantFixture, id: UserId) -> User {
    stores
        .users
        .get(&fixture.scope, id)
        .await
        .expect("the user is stored")
}

/// A refused write (`what`) changed nothing: `kept` reads back as it was and the
/// fixture's tenant's chain still holds `events` events.
pub async fn assert_user_unchanged(
    stores: &Stores,
    fixture: &TenantFixture,
    kept: &User,
    events: usize,
    what: &str,
) {
    assert_eq!(
        stored_user(stores, fixture, kept.id).await,
        as_tenant_reads(kept),
        "{what}: the user is unchanged"
    );
    assert_eq!(
        audit_len(stores, &fixture.scope).await,
        events,
        "{what}: no event"
    );
}

/// A row refused in one tenant is stored in none: `read` answers `StoreError::NotFound`
/// in each fixture's scope.
pub async fn assert_stored_nowhere<T, F, Fut>(fixtures: [&TenantFixture; 2], read: F, what: &str)
where
    T: Debug,
    F: Fn(TenantScope) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    for fixture in fixtures {
        let slug = fixture.tenant.slug.as_str();
        assert_not_found(
            read(fixture.scope.clone()).await,
            &format!("{what} in {slug}"),
        );
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected StoreError::NotFound, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_conflict<T: Debug>(result: Result<T, StoreError>, rule: Conflict, what: &str) {
    match result {
        Err(StoreError::Conflict(found)) if found == rule => {}
        other => panic!("{what}: expected StoreError::Conflict({rule:?}), got {other:?}"),
    }
}

/// Of two concurrent writes, `a` and `b` (each a value and the write's answer), exactly one
/// succeeded and the other is `StoreError::Conflict(rule)` (`what` names the loser).
/// Answers the winner's value and answer.
#[track_caller]
pub fn one_winner<V, R: Debug>(
    a: (V, Result<R, StoreError>),
    b: (V, Result<R, StoreError>),
    rule: Conflict,
    what: &str,
) -> (V, R) {
    let (winner, loser) = match (a, b) {
        ((value, Ok(answer)), (_, loser)) => ((value, answer), loser),
        ((_, loser), (value, Ok(answer))) => ((value, answer), loser),
        ((_, ra), (_, rb)) => panic!("{what}: exactly one write must win: {ra:?} / {rb:?}"),
    };
    assert_conflict(loser, rule, what);
    winner
}
