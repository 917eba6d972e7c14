//! End to end: an audit chain altered in storage fails verification at the right link.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_audit::{
    Actor, AuditLog, AuditService, ChainHasher, ChainVerification, Changes, PendingEvent,
    RequestContext,
};
use aura_port_contracts::{
    Stores,
    fixtures::{TenantFixture, register_tenant},
};
use aura_shared_kernel::{StoreError, SystemClock, TenantId};

async fn tenant_with_events(count: usize) -> (MemoryStore, Stores, TenantFixture) {
    let clock = Arc::new(SystemClock);
    let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
    let stores = Stores::from_single(store.clone(), clock);
    let fx = register_tenant(&stores).await;
    for n in 0..count {
        let event = PendingEvent::new(
            Actor::User(fx.owner.id),
            aura_identity::actions::USER_UPDATED,
            "user",
            fx.owner.id,
            Changes::new().note("n", n),
            &RequestContext::default(),
        );
        stores.audit.append(&fx.scope, event).await.unwrap();
    }
    (store, stores, fx)
}

fn service(stores: &Stores) -> AuditService {
    AuditService::new(
        stores.audit.clone(),
        Arc::new(HmacChainHasher::with_test_key()),
    )
}

/// Verifies the tenant's chain and checks that it breaks first at link `seq`, for a
/// reason naming `reason`; the verification, for what else a test checks.
async fn assert_broken_at(
    stores: &Stores,
    fx: &TenantFixture,
    seq: i64,
    reason: &str,
) -> ChainVerification {
    let verification = service(stores).verify(&fx.scope).await.unwrap();
    assert!(!verification.valid, "{verification:?}");
    let broken = verification.first_broken_link.as_ref().unwrap();
    assert_eq!(broken.seq, seq);
    assert!(broken.reason.contains(reason), "{}", broken.reason);
    verification
}

/// A platform change of tenant `id`.
fn tenant_event(id: TenantId) -> PendingEvent {
    PendingEvent::new(
        Actor::System,
        aura_identity::actions::TENANT_UPDATED,
        "tenant",
        id,
        Changes::new(),
        &RequestContext::default(),
    )
}

#[tokio::test]
async fn an_intact_chain_verifies() {
    let (_, stores, fx) = tenant_with_events(3).await;
    let verification = service(&stores).verify(&fx.scope).await.unwrap();
    assert!(verification.valid);
    assert_eq!(verification.events_checked, 5);
}

#[tokio::test]
async fn an_altered_event_is_found() {
    let (store, stores, fx) = tenant_with_events(3).await;
    assert!(store.tamper_audit_for_tests(fx.tenant.id, 3, |record| {
        record.stored_changes = r#"{"full_name":{"after":"Mallory"}}"#.to_owned();
    }));
    let verification = assert_broken_at(&stores, &fx, 3, "altered").await;
    assert_eq!(
        verification.broken_count, 1,
        "only that link: {verification:?}"
    );
    assert_eq!(verification.events_checked, 5, "every link was checked");
}

#[tokio::test]
async fn a_removed_event_is_found() {
    let (store, stores, fx) = tenant_with_events(3).await;
    assert!(store.remove_audit_for_tests(fx.tenant.id, 2));
    assert_broken_at(&stores, &fx, 2, "gap").await;
}

#[tokio::test]
async fn a_removed_newest_event_is_found() {
    let (store, stores, fx) = tenant_with_events(3).await;
    let newest = stores.audit.head(&fx.scope).await.unwrap().unwrap().0;
    assert!(store.remove_audit_for_tests(fx.tenant.id, newest));
    let verification = assert_broken_at(&stores, &fx, newest, "newest events removed").await;
    assert_eq!(verification.events_checked, (newest - 1) as u64);
}

#[tokio::test]
async fn a_resealed_forgery_breaks_the_next_link() {
    let (store, stores, fx) = tenant_with_events(3).await;
    assert!(store.tamper_audit_for_tests(fx.tenant.id, 3, |record| {
        record.action = aura_identity::actions::USER_DELETED;
        record.hash =
            HmacChainHasher::with_test_key().link(record.tenant_id, &record.canonical_bytes());
    }));
    assert_broken_at(&stores, &fx, 4, "prev_hash").await;
}

#[tokio::test]
async fn tampering_needs_an_existing_event() {
    let (store, _, fx) = tenant_with_events(1).await;
    assert!(!store.tamper_audit_for_tests(fx.tenant.id, 99, |_| {}));
    assert!(!store.tamper_audit_for_tests(TenantId::generate(), 1, |_| {}));
    assert!(!store.remove_audit_for_tests(fx.tenant.id, 99));
}

#[tokio::test]
async fn clones_share_the_tables() {
    let (store, _, fx) = tenant_with_events(0).await;
    let clone = store.clone();
    let record = clone
        .append(&fx.scope, tenant_event(fx.tenant.id))
        .await
        .unwrap();
    let seen = store.chain_after(&fx.scope, 0, 100).await.unwrap();
    assert_eq!(seen.last(), Some(&record));
}

#[tokio::test]
async fn no_chain_for_an_unknown_tenant() {
    let (store, _, _) = tenant_with_events(0).await;
    let scope = aura_shared_kernel::SystemScope::for_platform_operation("test")
        .within(TenantId::generate());
    let event = tenant_event(scope.tenant_id());
    assert!(matches!(
        store.append(&scope, event).await,
        Err(StoreError::NotFound)
    ));
}
