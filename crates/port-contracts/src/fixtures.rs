//! Building blocks of the contracts: fresh tenants and users with unique names, events,
//! tokens, and assertions on `StoreError`.

use std::fmt::Debug;

use aura_audit::{Actor, AuditAction, AuditRecord, Changes, PendingEvent, RequestContext};
use aura_identity::{Email, FullName, PasswordHash, RefreshFamily, TokenHash, User};
use aura_tenancy::{
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
    let events = register_events(&tenant, &owner);
    stores
        .tenants
        .register(
            &aura_tenancy::TenantScope::for_credential_check(tenant.id, None),
            &tenant,
            &owner,
            events,
        )
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
        event(actor, AuditAction::TENANT_CREATED, "tenant", tenant.id),
        event(actor, AuditAction::USER_CREATED, "user", owner.id),
    ]
}

/// Stores a new user of the fixture's tenant (created by the owner).
pub async fn add_user(stores: &Stores, fixture: &TenantFixture, role: Role) -> User {
    let user = new_user(fixture.tenant.id, role, stores.clock.now());
    stores
        .users
        .insert(
            &fixture.scope,
            &user,
            event(
                Actor::User(fixture.owner.id),
                AuditAction::USER_CREATED,
                "user",
                user.id,
            ),
        )
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
            event(
                Actor::User(user.id),
                AuditAction::USER_LOGIN_SUCCEEDED,
                "session",
                family.id,
            ),
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

/// How many events the scope's chain holds.
pub async fn audit_len(stores: &Stores, scope: &TenantScope) -> usize {
    chain(stores, scope).await.len()
}

/// The user as stored (through the owner's scope).
pub async fn stored_user(stores: &Stores, fixture: &TenantFixture, id: UserId) -> User {
    stores
        .users
        .get(&fixture.scope, id)
        .await
        .expect("the user is stored")
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
