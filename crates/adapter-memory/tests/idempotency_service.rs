//! The idempotency rules (`aura_idempotency::Idempotency`) on the memory store with the
//! real sealer: what is replayed, refused, held and released.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_crypto::{HmacAesIdempotencySealer, HmacChainHasher, Pepper};
use aura_adapter_memory::MemoryStore;
use aura_idempotency::{
    Begin, Idempotency, IdempotencyConfig, IdempotencyKey, KeySpace, RecordedResponse,
    RequestFacts, Ticket,
};
use aura_port_contracts::{Stores, fixtures::register_tenant};
use aura_shared_kernel::{FixedClock, UserId};
use time::{Duration, macros::datetime};
use uuid::Uuid;

/// The service, its clock, and a tenant's key space.
async fn service() -> (Idempotency, Arc<FixedClock>, KeySpace) {
    let clock = Arc::new(FixedClock::at(datetime!(2026-11-25 10:00 UTC)));
    let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
    let fx = register_tenant(&Stores::from_single(store.clone(), clock.clone())).await;
    let pepper = Pepper::from_bytes(vec![7; 32]).unwrap();
    let service = Idempotency::new(
        Arc::new(store),
        Arc::new(HmacAesIdempotencySealer::from_pepper(&pepper)),
        clock.clone(),
        IdempotencyConfig::default(),
    );
    (service, clock, KeySpace::Tenant(fx.scope))
}

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw.as_bytes()).unwrap()
}

fn facts(body: &[u8]) -> RequestFacts<'_> {
    RequestFacts {
        method: "POST",
        target: "/api/v1/tasks",
        principal: Some(UserId::from_uuid(Uuid::from_u128(2))),
        body,
    }
}

fn response(status: u16) -> RecordedResponse {
    RecordedResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: format!("{{\"status\":{status}}}").into_bytes(),
    }
}

async fn begin(service: &Idempotency, space: &KeySpace, body: &[u8]) -> Begin {
    service
        .begin(space.clone(), key("k-1"), &facts(body))
        .await
        .unwrap()
}

async fn proceed(service: &Idempotency, space: &KeySpace, body: &[u8]) -> Ticket {
    match begin(service, space, body).await {
        Begin::Proceed(ticket) => ticket,
        other => panic!("expected to proceed, got {other:?}"),
    }
}

/// Proceeds with the key and finishes with `answer`.
async fn answered(service: &Idempotency, space: &KeySpace, body: &[u8], answer: &RecordedResponse) {
    let ticket = proceed(service, space, body).await;
    service.finish(ticket, answer).await.unwrap();
}

#[tokio::test]
async fn a_success_is_replayed_and_another_body_is_refused() {
    let (service, _, space) = service().await;
    answered(&service, &space, b"{}", &response(201)).await;
    match begin(&service, &space, b"{}").await {
        Begin::Replay(replayed) => assert_eq!(replayed, response(201)),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(
        begin(&service, &space, b"{ }").await,
        Begin::KeyReused
    ));
}

#[tokio::test]
async fn failures_release_the_key() {
    let (service, _, space) = service().await;
    for status in [400, 403, 409, 422, 429, 500, 502, 503] {
        answered(&service, &space, b"{}", &response(status)).await;
    }
    // A later, corrected body may use the key: nothing was kept.
    let ticket = proceed(&service, &space, b"{\"fixed\":true}").await;
    service.release(ticket).await.unwrap();
}

#[tokio::test]
async fn a_running_request_holds_its_key_until_its_lock_passes() {
    let (service, clock, space) = service().await;
    let _held = proceed(&service, &space, b"{}").await;
    clock.advance(Duration::seconds(15));
    match begin(&service, &space, b"{}").await {
        Begin::InProgress { retry_after_secs } => assert_eq!(retry_after_secs, 45),
        other => panic!("expected in progress, got {other:?}"),
    }
    clock.advance(Duration::seconds(45));
    let _taken_over = proceed(&service, &space, b"{}").await;
}

#[tokio::test]
async fn answers_expire_after_the_ttl() {
    let (service, clock, space) = service().await;
    answered(&service, &space, b"{}", &response(201)).await;
    clock.advance(Duration::hours(24) - Duration::seconds(1));
    assert!(matches!(
        begin(&service, &space, b"{}").await,
        Begin::Replay(_)
    ));
    clock.advance(Duration::seconds(1));
    let _fresh = proceed(&service, &space, b"{\"another\":1}").await;
}

#[tokio::test]
async fn oversized_responses_are_not_kept() {
    let (service, _, space) = service().await;
    let big = RecordedResponse {
        body: vec![b'x'; 2 * 1024 * 1024],
        ..response(201)
    };
    answered(&service, &space, b"{}", &big).await;
    let _again = proceed(&service, &space, b"{}").await;
}
