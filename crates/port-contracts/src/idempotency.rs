//! Contracts of the idempotency store (`aura_idempotency::IdempotencyStore`).
//!
//! What it owes:
//! - A reservation takes a free key (`New`); a live entry is reported as it stands
//!   (`Existing`: in progress with its lock, or completed with the sealed bytes) and
//!   left unchanged. Of concurrent reservations of one key exactly one is `New`.
//! - Only the holder's token completes or releases an entry; release frees the key,
//!   and never removes a completed entry.
//! - An entry past `expires_at` counts as absent; an in-progress entry past its lock is
//!   taken over by the same request (same fingerprint) only.
//! - Tenants keep their keys apart (the same key hash is two entries), and the sign-up
//!   space is apart from every tenant.

use aura_idempotency::{
    Fingerprint, KeyHash, KeySpace,
    ports::{EntryState, Existing, Reservation, Reserved},
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{IdempotencyStores, fixtures::register_tenant};

fn random32() -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    out[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    out
}

fn now(stores: &IdempotencyStores) -> OffsetDateTime {
    stores.identity.clock.now()
}

/// A reservation of a fresh key at `at`: 60 s lock, 24 h life.
fn reservation(at: OffsetDateTime) -> Reservation {
    Reservation {
        key_hash: KeyHash(random32()),
        fingerprint: Fingerprint(random32()),
        token: Uuid::new_v4(),
        now: at,
        locked_until: at + Duration::seconds(60),
        expires_at: at + Duration::hours(24),
    }
}

/// The same key and request, tried again at `at` by another holder.
fn retry(first: &Reservation, at: OffsetDateTime) -> Reservation {
    Reservation {
        token: Uuid::new_v4(),
        now: at,
        locked_until: at + Duration::seconds(60),
        expires_at: at + Duration::hours(24),
        ..first.clone()
    }
}

async fn reserve(stores: &IdempotencyStores, space: &KeySpace, r: &Reservation) -> Reserved {
    stores.keys.reserve(space, r).await.expect("reserve")
}

async fn complete(
    stores: &IdempotencyStores,
    space: &KeySpace,
    r: &Reservation,
    sealed: &[u8],
) -> bool {
    stores
        .keys
        .complete(space, &r.key_hash, r.token, sealed)
        .await
        .expect("complete")
}

async fn tenant_space(stores: &IdempotencyStores) -> KeySpace {
    KeySpace::Tenant(register_tenant(&stores.identity).await.scope)
}

fn completed(r: &Reservation, sealed: &[u8]) -> Reserved {
    Reserved::Existing(Existing {
        fingerprint: r.fingerprint,
        state: EntryState::Completed {
            sealed: sealed.to_vec(),
        },
    })
}

fn in_progress(r: &Reservation) -> Reserved {
    Reserved::Existing(Existing {
        fingerprint: r.fingerprint,
        state: EntryState::InProgress {
            locked_until: r.locked_until,
        },
    })
}

pub async fn a_free_key_is_reserved_then_reported_in_progress(stores: IdempotencyStores) {
    for space in [tenant_space(&stores).await, KeySpace::SignUp] {
        let first = reservation(now(&stores));
        assert_eq!(reserve(&stores, &space, &first).await, Reserved::New);
        let again = retry(&first, now(&stores) + Duration::seconds(1));
        assert_eq!(
            reserve(&stores, &space, &again).await,
            in_progress(&first),
            "a running request keeps its key and its lock"
        );
        // Another request with the same key sees the first one's fingerprint.
        let other = Reservation {
            fingerprint: Fingerprint(random32()),
            ..again
        };
        assert_eq!(reserve(&stores, &space, &other).await, in_progress(&first));
    }
}

pub async fn a_completed_entry_is_returned_sealed(stores: IdempotencyStores) {
    for space in [tenant_space(&stores).await, KeySpace::SignUp] {
        let first = reservation(now(&stores));
        assert_eq!(reserve(&stores, &space, &first).await, Reserved::New);
        let sealed = b"\x01sealed\x00bytes\xff".to_vec();
        assert!(complete(&stores, &space, &first, &sealed).await);
        let again = retry(&first, now(&stores) + Duration::minutes(5));
        assert_eq!(
            reserve(&stores, &space, &again).await,
            completed(&first, &sealed)
        );
        // Completing twice changes nothing.
        assert!(!complete(&stores, &space, &first, b"other").await);
        assert_eq!(
            reserve(&stores, &space, &again).await,
            completed(&first, &sealed)
        );
    }
}

pub async fn only_the_holder_completes_or_releases(stores: IdempotencyStores) {
    let space = tenant_space(&stores).await;
    let first = reservation(now(&stores));
    assert_eq!(reserve(&stores, &space, &first).await, Reserved::New);
    let stranger = Uuid::new_v4();
    assert!(
        !stores
            .keys
            .complete(&space, &first.key_hash, stranger, b"forged")
            .await
            .expect("complete")
    );
    stores
        .keys
        .release(&space, &first.key_hash, stranger)
        .await
        .expect("release");
    assert_eq!(
        reserve(&stores, &space, &retry(&first, now(&stores))).await,
        in_progress(&first),
        "a stranger's token neither completes nor releases"
    );
    // Unknown keys: nothing to do, no error.
    assert!(!complete(&stores, &space, &reservation(now(&stores)), b"x").await);
}

pub async fn release_frees_the_key_but_never_a_completed_one(stores: IdempotencyStores) {
    for space in [tenant_space(&stores).await, KeySpace::SignUp] {
        let first = reservation(now(&stores));
        assert_eq!(reserve(&stores, &space, &first).await, Reserved::New);
        stores
            .keys
            .release(&space, &first.key_hash, first.token)
            .await
            .expect("release");
        // Free again, even for another request.
        let second = Reservation {
            fingerprint: Fingerprint(random32()),
            ..retry(&first, now(&stores))
        };
        assert_eq!(reserve(&stores, &space, &second).await, Reserved::New);
        assert!(complete(&stores, &space, &second, b"done").await);
        stores
            .keys
            .release(&space, &second.key_hash, second.token)
            .await
            .expect("release");
        assert_eq!(
            reserve(&stores, &space, &retry(&second, now(&stores))).await,
            completed(&second, b"done")
        );
    }
}

pub async fn concurrent_reservations_have_one_winner(stores: IdempotencyStores) {
    for space in [tenant_space(&stores).await, KeySpace::SignUp] {
        let first = reservation(now(&stores));
        let mut tasks = Vec::new();
        for n in 0..12 {
            let stores = stores.clone();
            let space = space.clone();
            // Half the same request, half another one with the same key.
            let mut r = retry(&first, first.now);
            if n % 2 == 1 {
                r.fingerprint = Fingerprint(random32());
            }
            tasks.push(tokio::spawn(async move {
                stores
                    .keys
                    .reserve(&space, &r)
                    .await
                    .map(|out| (out, r.token))
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (out, token) = task.await.expect("task").expect("reserve");
            if out == Reserved::New {
                winners.push(token);
            }
        }
        assert_eq!(winners.len(), 1, "exactly one reservation holds the key");
        // The winner's token is the one that completes.
        let sealed = b"winner".to_vec();
        assert!(
            stores
                .keys
                .complete(&space, &first.key_hash, winners[0], &sealed)
                .await
                .expect("complete")
        );
    }
}

pub async fn expired_entries_count_as_absent(stores: IdempotencyStores) {
    for space in [tenant_space(&stores).await, KeySpace::SignUp] {
        let start = now(&stores);
        let first = reservation(start);
        assert_eq!(reserve(&stores, &space, &first).await, Reserved::New);
        assert!(complete(&stores, &space, &first, b"old").await);
        // Just before the end of its life it is still replayed …
        let late = retry(&first, first.expires_at - Duration::seconds(1));
        assert_eq!(
            reserve(&stores, &space, &late).await,
            completed(&first, b"old")
        );
        // … at its end it is gone, even for another request with the key.
        let after = Reservation {
            fingerprint: Fingerprint(random32()),
            ..retry(&first, first.expires_at)
        };
        assert_eq!(reserve(&stores, &space, &after).await, Reserved::New);
        assert!(
            !complete(&stores, &space, &first, b"late").await,
            "the expired holder's token no longer counts"
        );
        // An unrelated reservation a day later purges nothing it should not: the fresh
        // entry (expires a day after `after.now`) is still there.
        let unrelated = reservation(after.now + Duration::hours(23));
        assert_eq!(reserve(&stores, &space, &unrelated).await, Reserved::New);
        let probe = Reservation {
            fingerprint: Fingerprint(random32()),
            ..retry(&after, after.now + Duration::hours(23))
        };
        assert_eq!(
            reserve(&stores, &space, &probe).await,
            Reserved::Existing(Existing {
                fingerprint: after.fingerprint,
                state: EntryState::InProgress {
                    locked_until: after.locked_until
                },
            })
        );
    }
}

pub async fn a_dead_holders_key_goes_to_the_same_request_only(stores: IdempotencyStores) {
    let space = tenant_space(&stores).await;
    let first = reservation(now(&stores));
    assert_eq!(reserve(&stores, &space, &first).await, Reserved::New);
    let after_lock = first.locked_until;
    let other = Reservation {
        fingerprint: Fingerprint(random32()),
        ..retry(&first, after_lock)
    };
    assert_eq!(
        reserve(&stores, &space, &other).await,
        in_progress(&first),
        "another request never takes the key over"
    );
    let same = retry(&first, after_lock);
    assert_eq!(reserve(&stores, &space, &same).await, Reserved::New);
    assert!(
        !complete(&stores, &space, &first, b"late").await,
        "the dead holder cannot complete any more"
    );
    assert!(complete(&stores, &space, &same, b"new").await);
}

pub async fn tenants_and_sign_up_keep_their_keys_apart(stores: IdempotencyStores) {
    let a = tenant_space(&stores).await;
    let b = tenant_space(&stores).await;
    let first = reservation(now(&stores));
    assert_eq!(reserve(&stores, &a, &first).await, Reserved::New);
    assert!(complete(&stores, &a, &first, b"tenant a").await);
    // The same key hash and request elsewhere is a fresh key.
    for space in [&b, &KeySpace::SignUp] {
        let elsewhere = retry(&first, now(&stores));
        assert_eq!(reserve(&stores, space, &elsewhere).await, Reserved::New);
        // Nothing done elsewhere reaches tenant A's entry.
        assert!(!complete(&stores, space, &first, b"forged").await);
        stores
            .keys
            .release(space, &first.key_hash, elsewhere.token)
            .await
            .expect("release");
    }
    assert_eq!(
        reserve(&stores, &a, &retry(&first, now(&stores))).await,
        completed(&first, b"tenant a")
    );
}
