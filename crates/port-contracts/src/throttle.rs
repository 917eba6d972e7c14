//! `LoginThrottle`: failure counters per key with `ThrottlePolicy::after_failure`
//! semantics.

use std::net::{IpAddr, Ipv6Addr};

use aura_identity::{CountedFailure, ThrottleKey, ThrottlePolicy, ThrottleState};
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

pub async fn record_failure_returns_the_counted_states(stores: Stores) {
    let keys = keys();
    let policy = ThrottlePolicy::default();
    let now = stores.clock.now();
    let first = stores
        .throttle
        .record_failure(&keys[..2], &policy, now)
        .await
        .unwrap();
    assert_eq!(
        first,
        vec![
            CountedFailure {
                state: ThrottleState {
                    failures: 1,
                    last_failure_at: now,
                },
                previous_failure_at: None,
            };
            2
        ],
        "a first failure starts the count"
    );
    let later = now + Duration::seconds(3);
    let second = stores
        .throttle
        .record_failure(&keys, &policy, later)
        .await
        .unwrap();
    assert_eq!(
        second,
        vec![
            CountedFailure {
                state: ThrottleState {
                    failures: 2,
                    last_failure_at: later,
                },
                previous_failure_at: Some(now),
            },
            CountedFailure {
                state: ThrottleState {
                    failures: 2,
                    last_failure_at: later,
                },
                previous_failure_at: Some(now),
            },
            CountedFailure {
                state: ThrottleState {
                    failures: 1,
                    last_failure_at: later,
                },
                previous_failure_at: None,
            },
        ],
        "the states after the failure, in the order of the keys, with the time before"
    );
    let loaded = stores.throttle.load(&keys).await.unwrap();
    let returned: Vec<Option<ThrottleState>> = second.iter().map(|c| Some(c.state)).collect();
    assert_eq!(loaded, returned, "what was returned is what is stored");

    // After a quiet window the count starts again and the old time is not reported.
    let much_later = later + policy.window + Duration::minutes(1);
    let restarted = stores
        .throttle
        .record_failure(&keys[..1], &policy, much_later)
        .await
        .unwrap();
    assert_eq!(restarted[0].state.failures, 1);
    assert_eq!(restarted[0].previous_failure_at, None);
}

pub async fn parallel_failures_get_distinct_counts(stores: Stores) {
    let keys = keys();
    let policy = ThrottlePolicy::default();
    let now = stores.clock.now();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let stores = stores.clone();
            let keys = keys.clone();
            tokio::spawn(async move {
                stores
                    .throttle
                    .record_failure(&keys[..1], &policy, now)
                    .await
                    .unwrap()[0]
                    .state
                    .failures
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<u32>>(),
        "every parallel caller sees its own count"
    );
}

pub async fn release_takes_back_one_failure(stores: Stores) {
    let keys = keys();
    let policy = ThrottlePolicy::default();
    let now = stores.clock.now();
    let later = now + Duration::seconds(2);
    for at in [now, later] {
        stores
            .throttle
            .record_failure(&keys[..2], &policy, at)
            .await
            .unwrap();
    }
    stores.throttle.release(&keys[..1]).await.unwrap();
    assert_eq!(
        stores.throttle.load(&keys).await.unwrap(),
        vec![
            Some(ThrottleState {
                failures: 1,
                last_failure_at: later,
            }),
            Some(ThrottleState {
                failures: 2,
                last_failure_at: later,
            }),
            None,
        ],
        "one failure taken back from the given key only, its time kept"
    );
    stores.throttle.release(&keys[..1]).await.unwrap();
    stores.throttle.release(&keys[..1]).await.unwrap();
    assert_eq!(
        stores.throttle.load(&keys[..1]).await.unwrap(),
        vec![None],
        "the count stops at zero: the key is forgotten"
    );
    stores.throttle.release(&keys[2..]).await.unwrap();
    assert_eq!(
        stores.throttle.load(&keys[2..]).await.unwrap(),
        vec![None],
        "releasing a key never counted leaves it alone"
    );
    let next = stores
        .throttle
        .record_failure(&keys[..1], &policy, later + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(next[0].state.failures, 1, "counting resumes from zero");
}
