//! Contracts of the public intake's store (`aura_requests::intake::IntakeStore`).
//!
//! What it owes:
//! - The slug lookup finds an active tenant (id, name, settings), never a suspended or
//!   unknown one.
//! - A pending intake is taken for confirmation once: a second take of its token, a
//!   concurrent one, a take at or after its expiry, or a take in another tenant's scope
//!   finds nothing. What is taken is what was stored.
//! - `release` makes a taken intake's token work again; `purge_expired` forgets the
//!   tenant's expired intakes and those confirmed longer than `CONFIRMED_KEPT` ago, and
//!   nothing else (no other tenant's, no pending one).
//! - A token hash is unique within a tenant (`Conflict::TokenTaken`).
//!
//! That the PostgreSQL store keeps the submission sealed is PostgreSQL's own test
//! (`adapter-postgres/tests/intakes.rs`: the row read as superuser).

use std::sync::Arc;

use aura_audit::{Actor, AuditAction};
use aura_identity::TokenHash;
use aura_requests::intake::{IntakeForm, IntakeStore, PendingIntake};
use aura_shared_kernel::{Clock, Conflict, StoreError, Tenant, TenantScope, TenantSettings};
use time::{Duration, OffsetDateTime};

use crate::{
    IdentityStore, Stores,
    fixtures::{TenantFixture, register_tenant, token, unique_slug},
};

/// The intake store under test, with the identity [`Stores`] of the same adapter.
#[derive(Clone)]
pub struct IntakeStores {
    pub intakes: Arc<dyn IntakeStore>,
    pub identity: Stores,
}

impl IntakeStores {
    /// Every port, identity's and the intake store, from one value.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore + IntakeStore,
    {
        let store = Arc::new(store);
        Self {
            intakes: store.clone(),
            identity: Stores::from_single_arc(store, clock),
        }
    }
}

/// Expands to one `#[tokio::test]` per contract of the intake store. The argument is an
/// async expression (evaluated afresh for each test) that yields an [`IntakeStores`].
/// Defines `__intake_contract_stores` and the module `intakes` in the calling module.
#[macro_export]
macro_rules! intake_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(
            __intake_contract_stores: $crate::intakes::IntakeStores = $stores
        );

        $crate::__contract_module!(__intake_contract_stores: intakes => intakes {
            the_slug_finds_an_active_tenant_only,
            a_token_confirms_once_and_gives_back_what_was_stored,
            concurrent_confirmations_have_one_winner,
            an_expired_token_finds_nothing,
            another_tenants_token_finds_nothing,
            release_makes_the_link_work_again,
            purge_forgets_expired_and_long_confirmed_intakes_only,
            a_token_is_unique_within_a_tenant,
        });
    };
}

fn now(stores: &IntakeStores) -> OffsetDateTime {
    stores.identity.clock.now()
}

/// A submission as the form would make it.
fn submission(name: &str) -> aura_requests::intake::IntakeSubmission {
    IntakeForm {
        name: name.into(),
        email: "erika@example.test".into(),
        contact: "Musterstraße 1".into(),
        category: "customer".into(),
        rights: vec!["access".into(), "erasure".into()],
        scope: "Everything about my orders.".into(),
        ..IntakeForm::default()
    }
    .validated()
    .expect("a valid form")
}

/// A pending intake created at `at` with a fresh token.
fn pending(at: OffsetDateTime) -> PendingIntake {
    PendingIntake::new(token(), submission("Erika Mustermann"), at)
}

async fn tenant(stores: &IntakeStores) -> (TenantFixture, TenantScope) {
    let fixture = register_tenant(&stores.identity).await;
    let scope = fixture.system_scope();
    (fixture, scope)
}

async fn insert(stores: &IntakeStores, scope: &TenantScope, intake: &PendingIntake) {
    stores
        .intakes
        .insert_pending(scope, intake)
        .await
        .expect("insert_pending");
}

async fn take(
    stores: &IntakeStores,
    scope: &TenantScope,
    token: &TokenHash,
    at: OffsetDateTime,
) -> Option<PendingIntake> {
    stores
        .intakes
        .take_confirmed(scope, token, at)
        .await
        .expect("take_confirmed")
}

/// Stores `tenant` as changed (at its next version) with a platform event.
async fn store_tenant(stores: &IntakeStores, fixture: &TenantFixture, tenant: &mut Tenant) {
    let read = tenant.bump_version();
    let event = crate::fixtures::event(
        Actor::System,
        AuditAction::known("tenant.updated"),
        "tenant",
        tenant.id,
    );
    stores
        .identity
        .tenants
        .update(&fixture.system_scope(), tenant, read, event)
        .await
        .expect("tenant stored");
}

pub async fn the_slug_finds_an_active_tenant_only(stores: IntakeStores) {
    let (fixture, _) = tenant(&stores).await;
    let mut changed = fixture.tenant.clone();
    changed.settings = TenantSettings::parse(serde_json::json!({
        "requests_intake_enabled": true
    }))
    .expect("settings");
    store_tenant(&stores, &fixture, &mut changed).await;
    let found = stores
        .intakes
        .find_public_tenant(&fixture.tenant.slug)
        .await
        .expect("lookup")
        .expect("an active tenant is found");
    assert_eq!(found.id, fixture.tenant.id);
    assert_eq!(found.name, fixture.tenant.name.as_str());
    assert_eq!(found.slug, fixture.tenant.slug);
    assert!(found.intake().enabled, "its settings come along");
    let unknown = stores.intakes.find_public_tenant(&unique_slug()).await;
    assert!(unknown.expect("lookup").is_none(), "an unknown slug");

    changed.is_active = false;
    store_tenant(&stores, &fixture, &mut changed).await;
    let gone = stores
        .intakes
        .find_public_tenant(&fixture.tenant.slug)
        .await;
    assert!(
        gone.expect("lookup").is_none(),
        "a suspended tenant has no page"
    );
}

pub async fn a_token_confirms_once_and_gives_back_what_was_stored(stores: IntakeStores) {
    let (_, scope) = tenant(&stores).await;
    let t0 = now(&stores);
    let intake = pending(t0);
    insert(&stores, &scope, &intake).await;
    let taken = take(
        &stores,
        &scope,
        &intake.token_hash,
        t0 + Duration::minutes(5),
    )
    .await;
    assert_eq!(
        taken.as_ref(),
        Some(&intake),
        "the stored intake, unchanged"
    );
    let again = take(
        &stores,
        &scope,
        &intake.token_hash,
        t0 + Duration::minutes(6),
    )
    .await;
    assert_eq!(again, None, "a second confirmation finds nothing");
    let unknown = take(&stores, &scope, &token(), t0).await;
    assert_eq!(unknown, None);
}

pub async fn concurrent_confirmations_have_one_winner(stores: IntakeStores) {
    let (_, scope) = tenant(&stores).await;
    let t0 = now(&stores);
    let intake = pending(t0);
    insert(&stores, &scope, &intake).await;
    let attempts = (0..6).map(|_| {
        let stores = stores.clone();
        let scope = scope.clone();
        let hash = intake.token_hash;
        tokio::spawn(async move { take(&stores, &scope, &hash, t0).await.is_some() })
    });
    let mut winners = 0;
    for attempt in attempts {
        if attempt.await.expect("joined") {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one confirmation takes the intake");
}

pub async fn an_expired_token_finds_nothing(stores: IntakeStores) {
    let (_, scope) = tenant(&stores).await;
    let t0 = now(&stores);
    let late = pending(t0);
    insert(&stores, &scope, &late).await;
    assert_eq!(
        take(&stores, &scope, &late.token_hash, late.expires_at).await,
        None,
        "at its expiry the link is dead"
    );
    let in_time = pending(t0);
    insert(&stores, &scope, &in_time).await;
    let just = in_time.expires_at - Duration::seconds(1);
    assert!(
        take(&stores, &scope, &in_time.token_hash, just)
            .await
            .is_some()
    );
}

pub async fn another_tenants_token_finds_nothing(stores: IntakeStores) {
    let (_, a) = tenant(&stores).await;
    let (_, b) = tenant(&stores).await;
    let t0 = now(&stores);
    let intake = pending(t0);
    insert(&stores, &a, &intake).await;
    assert_eq!(take(&stores, &b, &intake.token_hash, t0).await, None);
    assert!(
        take(&stores, &a, &intake.token_hash, t0).await.is_some(),
        "the foreign attempt did not use it up"
    );
}

pub async fn release_makes_the_link_work_again(stores: IntakeStores) {
    let (_, scope) = tenant(&stores).await;
    let t0 = now(&stores);
    let intake = pending(t0);
    insert(&stores, &scope, &intake).await;
    assert!(
        take(&stores, &scope, &intake.token_hash, t0)
            .await
            .is_some()
    );
    stores
        .intakes
        .release(&scope, intake.id)
        .await
        .expect("release");
    let again = take(&stores, &scope, &intake.token_hash, t0).await;
    assert_eq!(again.map(|i| i.id), Some(intake.id));
}

pub async fn purge_forgets_expired_and_long_confirmed_intakes_only(stores: IntakeStores) {
    let (_, scope) = tenant(&stores).await;
    let (_, other) = tenant(&stores).await;
    let t0 = now(&stores);
    let expired = pending(t0 - PendingIntake::LIFETIME - Duration::minutes(1));
    let confirmed_long_ago = pending(t0 - Duration::hours(3));
    let confirmed_now = pending(t0 - Duration::minutes(10));
    let open = pending(t0);
    let elsewhere = pending(t0 - PendingIntake::LIFETIME - Duration::minutes(1));
    for intake in [&expired, &confirmed_long_ago, &confirmed_now, &open] {
        insert(&stores, &scope, intake).await;
    }
    insert(&stores, &other, &elsewhere).await;
    let long_ago = t0 - PendingIntake::CONFIRMED_KEPT - Duration::minutes(1);
    assert!(
        take(&stores, &scope, &confirmed_long_ago.token_hash, long_ago)
            .await
            .is_some()
    );
    assert!(
        take(&stores, &scope, &confirmed_now.token_hash, t0)
            .await
            .is_some()
    );
    let purged = stores
        .intakes
        .purge_expired(&scope, t0)
        .await
        .expect("purge");
    assert_eq!(purged, 2, "the expired one and the one confirmed long ago");
    // What is left: the recent confirmation can still be put back, the open one taken.
    stores
        .intakes
        .release(&scope, confirmed_now.id)
        .await
        .expect("release");
    assert!(
        take(&stores, &scope, &confirmed_now.token_hash, t0)
            .await
            .is_some()
    );
    assert!(take(&stores, &scope, &open.token_hash, t0).await.is_some());
    // The other tenant's expired intake is its own purge's business.
    let theirs = stores
        .intakes
        .purge_expired(&other, t0)
        .await
        .expect("purge");
    assert_eq!(theirs, 1);
}

pub async fn a_token_is_unique_within_a_tenant(stores: IntakeStores) {
    let (_, a) = tenant(&stores).await;
    let (_, b) = tenant(&stores).await;
    let t0 = now(&stores);
    let first = pending(t0);
    insert(&stores, &a, &first).await;
    let twin = PendingIntake::new(first.token_hash, submission("Max Mustermann"), t0);
    let refused = stores.intakes.insert_pending(&a, &twin).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::TokenTaken))),
        "{refused:?}"
    );
    insert(&stores, &b, &twin).await;
    let taken = take(&stores, &a, &first.token_hash, t0).await;
    assert_eq!(
        taken.map(|i| i.submission.name),
        Some("Erika Mustermann".into())
    );
}
