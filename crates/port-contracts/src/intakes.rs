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
use aura_requests::intake::{IntakeForm, IntakeId, IntakeStore, PendingIntake};
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

/// A fresh tenant's scope, the stores' `now` and a pending intake created then, stored
/// in that tenant.
async fn stored_pending(stores: &IntakeStores) -> (TenantScope, OffsetDateTime, PendingIntake) {
    let (_, scope) = tenant(stores).await;
    let t0 = now(stores);
    let intake = pending(t0);
    insert(stores, &scope, &intake).await;
    (scope, t0, intake)
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

async fn release(stores: &IntakeStores, scope: &TenantScope, id: IntakeId) {
    stores.intakes.release(scope, id).await.expect("release");
}

/// `purge_expired` at `at` forgets `expected` of the scope's intakes: `what`.
async fn assert_purges(
    stores: &IntakeStores,
    scope: &TenantScope,
    at: OffsetDateTime,
    expected: u64,
    what: &str,
) {
    let purged = stores
        .intakes
        .purge_expired(scope, at)
        .await
        .expect("purge");
    assert_eq!(purged, expected, "{what}");
}

/// Whether a confirmation with `token` at `at` takes an intake.
async fn takes(
    stores: &IntakeStores,
    scope: &TenantScope,
    token: &TokenHash,
    at: OffsetDateTime,
) -> bool {
    take(stores, scope, token, at).await.is_some()
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
    let (scope, t0, intake) = stored_pending(&stores).await;
    let confirm = |minutes| {
        take(
            &stores,
            &scope,
            &intake.token_hash,
            t0 + Duration::minutes(minutes),
        )
    };
    let taken = confirm(5).await;
    assert_eq!(
        taken.as_ref(),
        Some(&intake),
        "the stored intake, unchanged"
    );
    let again = confirm(6).await;
    assert_eq!(again, None, "a second confirmation finds nothing");
    let unknown = take(&stores, &scope, &token(), t0).await;
    assert_eq!(unknown, None);
}

pub async fn concurrent_confirmations_have_one_winner(stores: IntakeStores) {
    let (scope, t0, intake) = stored_pending(&stores).await;
    let attempts = (0..6).map(|_| {
        let stores = stores.clone();
        let scope = scope.clone();
        let hash = intake.token_hash;
        tokio::spawn(async move { takes(&stores, &scope, &hash, t0).await })
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
    assert!(takes(&stores, &scope, &in_time.token_hash, just).await);
}

pub async fn another_tenants_token_finds_nothing(stores: IntakeStores) {
    let (a, t0, intake) = stored_pending(&stores).await;
    let (_, b) = tenant(&stores).await;
    assert_eq!(take(&stores, &b, &intake.token_hash, t0).await, None);
    assert!(
        takes(&stores, &a, &intake.token_hash, t0).await,
        "the foreign attempt did not use it up"
    );
}

pub async fn release_makes_the_link_work_again(stores: IntakeStores) {
    let (scope, t0, intake) = stored_pending(&stores).await;
    assert!(takes(&stores, &scope, &intake.token_hash, t0).await);
    release(&stores, &scope, intake.id).await;
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
    assert!(takes(&stores, &scope, &confirmed_long_ago.token_hash, long_ago).await);
    assert!(takes(&stores, &scope, &confirmed_now.token_hash, t0).await);
    let gone = "the expired one and the one confirmed long ago";
    assert_purges(&stores, &scope, t0, 2, gone).await;
    // What is left: the recent confirmation can still be put back, the open one taken.
    release(&stores, &scope, confirmed_now.id).await;
    assert!(takes(&stores, &scope, &confirmed_now.token_hash, t0).await);
    assert!(takes(&stores, &scope, &open.token_hash, t0).await);
    // The other tenant's expired intake is its own purge's business.
    assert_purges(&stores, &other, t0, 1, "the other tenant's expired one").await;
}

pub async fn a_token_is_unique_within_a_tenant(stores: IntakeStores) {
    let (a, t0, first) = stored_pending(&stores).await;
    let (_, b) = tenant(&stores).await;
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
