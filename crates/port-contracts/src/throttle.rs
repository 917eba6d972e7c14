//! `LoginThrottle`: failure counters per key with `ThrottlePolicy::after_failure`
//! semantics.

use std::net::{IpAddr, Ipv6Addr};

use aura_identity::{ThrottleKey, ThrottlePolicy, ThrottleState};
use time::Duration;
use uuid::Uuid;

use crate::{Stores, fixtures::unique_email};

/// A random client address, so keys are not shared with other contracts.
fn address() -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(Uuid::new_v4().as_u128()))
}

/// The three kinds of key, all unique to the calling contract.
fn keys() -> Vec<ThrottleKey> {
    let email = unique_email("throttled");
    let ip = address();
    vec![
        ThrottleKey::AccountFromAddress(email.clone(), ip),
        ThrottleKey::Account(email),
        ThrottleKey::Address(address()),
    ]
}

pub async fn failures_are_counted_per_key(stores: Stores) {
    let keys = keys();
    let policy = ThrottlePolicy::default();
    let now = stores.clock.now();
    assert_eq!(
        stores.throttle.load(&keys).await.unwrap(),
        vec![None, None, None],
        "nothing counted yet"
    );

    stores
        .throttle
        .record_failure(&keys[..2], &policy, now)
        .await
        .unwrap();
    let later = now + Duration::seconds(1);
    stores
        .throttle
        .record_failure(&keys[..1], &policy, later)
        .await
        .unwrap();

    let expected = vec![
        Some(ThrottleState {
            failures: 2,
            last_failure_at: later,
        }),
        Some(ThrottleState {
            failures: 1,
            last_failure_at: now,
        }),
        None,
    ];
    assert_eq!(stores.throttle.load(&keys).await.unwrap(), expected);
    let reversed: Vec<ThrottleKey> = keys.iter().rev().cloned().collect();
    let mut expected_reversed = expected;
    expected_reversed.reverse();
    assert_eq!(
        stores.throttle.load(&reversed).await.unwrap(),
        expected_reversed,
        "load answers in the order of the keys"
    );
}

pub async fn old_failures_are_forgotten(stores: Stores) {
    let keys = keys();
    let key = &keys[..1];
    let policy = ThrottlePolicy::default();
    let now = stores.clock.now();
    let mut expected = None;
    for at in [
        now - policy.window - Duration::hours(1),
        now - policy.window - Duration::minutes(30),
        now,
        now + Duration::minutes(10),
    ] {
        stores
            .throttle
            .record_failure(key, &policy, at)
            .await
            .unwrap();
        expected = Some(policy.after_failure(expected, at));
        assert_eq!(
            stores.throttle.load(key).await.unwrap(),
            vec![expected],
            "the counter follows ThrottlePolicy::after_failure"
        );
    }
    assert_eq!(
        expected.map(|s| s.failures),
        Some(2),
        "the old failures were forgotten"
    );
}

pub async fn clear_forgets_only_the_given_keys(stores: Stores) {
    let keys = keys();
    let policy = ThrottlePolicy::default();
    let now = stores.clock.now();
    stores
        .throttle
        .record_failure(&keys, &policy, now)
        .await
        .unwrap();
    stores.throttle.clear(&keys[..2]).await.unwrap();
    let state = stores.throttle.load(&keys).await.unwrap();
    assert_eq!(state[..2], [None, None], "cleared keys are forgotten");
    assert_eq!(
        state[2].map(|s| s.failures),
        Some(1),
        "other keys keep counting"
    );
    stores
        .throttle
        .clear(&self::keys())
        .await
        .expect("clearing keys never counted is fine");
}
