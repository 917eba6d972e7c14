//! `RateLimiter`: the GCRA contract every store keeps (memory, PostgreSQL, Redis).
//!
//! Every contract uses keys of its own (random tenants and addresses), so stores may be
//! shared. Times are explicit: `stores.base` plus offsets, never the wall clock.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    sync::Arc,
};

use aura_rate_limit::{Quota, RateLimitKey, RateLimiter};
use aura_shared_kernel::TenantId;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::LimitStores;

/// The fixed base time of [`crate::rate_limit_contract_tests!`]'s `fixed_time` runs.
pub const FIXED_BASE: OffsetDateTime = time::macros::datetime!(2026-03-01 09:30:00.123456 UTC);

fn quota(per_minute: u32, burst: u32) -> Quota {
    Quota::new(per_minute, burst).unwrap()
}

fn tenant() -> RateLimitKey {
    RateLimitKey::Tenant(TenantId::generate())
}

/// A random IPv6 /64, as a client address key.
fn address() -> (IpAddr, RateLimitKey) {
    let ip = IpAddr::V6(Ipv6Addr::from(Uuid::new_v4().as_u128()));
    (ip, RateLimitKey::client_address(ip))
}

async fn allowed(
    limiter: &Arc<dyn RateLimiter>,
    key: &RateLimitKey,
    quota: Quota,
    at: OffsetDateTime,
) -> bool {
    limiter.check(key, quota, at).await.unwrap().allowed
}

pub async fn a_quiet_key_gets_its_burst_then_refusals(stores: LimitStores) {
    let (limiter, t0) = (&stores.first, stores.base);
    let q = quota(60, 5);
    let key = tenant();
    for expected_remaining in (0..5).rev() {
        let decision = limiter.check(&key, q, t0).await.unwrap();
        assert!(decision.allowed, "within the burst");
        assert_eq!(decision.limit, 5);
        assert_eq!(
            decision.remaining, expected_remaining,
            "remaining counts down"
        );
    }
    let refused = limiter.check(&key, q, t0).await.unwrap();
    assert!(!refused.allowed, "the sixth at once is refused");
    assert_eq!(refused.remaining, 0);
    assert_eq!(refused.retry_after, Duration::seconds(1), "one interval");
    assert_eq!(refused.reset_after, Duration::seconds(5), "the whole burst");
}

pub async fn retry_after_is_exact(stores: LimitStores) {
    let (limiter, t0) = (&stores.first, stores.base);
    let q = quota(60, 2);
    let key = tenant();
    assert!(allowed(limiter, &key, q, t0).await);
    assert!(allowed(limiter, &key, q, t0).await);
    let at = t0 + Duration::milliseconds(250);
    let refused = limiter.check(&key, q, at).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.retry_after, Duration::milliseconds(750));
    assert_eq!(refused.retry_after_secs(), 1, "Retry-After rounds up");
    let refused = limiter
        .check(&key, q, t0 + Duration::microseconds(999_999))
        .await
        .unwrap();
    assert_eq!(refused.retry_after, Duration::microseconds(1));
    assert!(
        allowed(limiter, &key, q, t0 + Duration::seconds(1)).await,
        "allowed exactly at Retry-After"
    );
    assert!(
        !allowed(limiter, &key, q, t0 + Duration::seconds(1)).await,
        "and only one"
    );
}

pub async fn refusals_are_not_counted(stores: LimitStores) {
    let (limiter, t0) = (&stores.first, stores.base);
    let q = quota(6, 1); // one per 10 s
    let key = tenant();
    assert!(allowed(limiter, &key, q, t0).await);
    for n in 1..50 {
        assert!(!allowed(limiter, &key, q, t0 + Duration::milliseconds(n * 100)).await);
    }
    // Had the refusals counted, the key would be blocked far longer.
    assert!(allowed(limiter, &key, q, t0 + Duration::seconds(10)).await);
}

pub async fn the_burst_refills_at_the_rate(stores: LimitStores) {
    let (limiter, t0) = (&stores.first, stores.base);
    let q = quota(120, 4); // one per 500 ms
    let key = tenant();
    for _ in 0..4 {
        assert!(allowed(limiter, &key, q, t0).await);
    }
    assert!(!allowed(limiter, &key, q, t0).await);
    // After 1 s two more fit, not three.
    let later = t0 + Duration::seconds(1);
    assert!(allowed(limiter, &key, q, later).await);
    assert!(allowed(limiter, &key, q, later).await);
    assert!(!allowed(limiter, &key, q, later).await);
    // Once the reset time has passed the whole burst is back.
    let quiet = t0 + Duration::minutes(5);
    let decision = limiter.check(&key, q, quiet).await.unwrap();
    assert!(decision.allowed);
    assert_eq!(decision.remaining, 3, "a stale key counts as new");
}

pub async fn keys_are_counted_apart(stores: LimitStores) {
    let (limiter, t0) = (&stores.first, stores.base);
    let q = quota(60, 2);
    let (a, b) = (tenant(), tenant());
    let (_, address) = address();
    for _ in 0..2 {
        assert!(allowed(limiter, &a, q, t0).await);
    }
    assert!(!allowed(limiter, &a, q, t0).await, "tenant A is blocked");
    assert!(allowed(limiter, &b, q, t0).await, "tenant B is not");
    assert!(allowed(limiter, &address, q, t0).await, "nor an address");
    // A tenant id and an address never share a row, even with the same text inside.
    let ip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let by_ip = RateLimitKey::client_address(ip);
    assert!(allowed(limiter, &by_ip, quota(60, 1), t0).await);
    assert!(!allowed(limiter, &by_ip, quota(60, 1), t0).await);
}

pub async fn an_ipv6_network_shares_one_count(stores: LimitStores) {
    let (limiter, t0) = (&stores.first, stores.base);
    let q = quota(60, 2);
    let (ip, key) = address();
    let IpAddr::V6(v6) = ip else { unreachable!() };
    let neighbour = IpAddr::V6(Ipv6Addr::from(u128::from(v6) ^ 0xffff));
    assert!(allowed(limiter, &key, q, t0).await);
    assert!(allowed(limiter, &RateLimitKey::client_address(neighbour), q, t0).await);
    assert!(
        !allowed(limiter, &key, q, t0).await,
        "the same /64 is one client"
    );
}

/// Runs `tasks` tasks of `work` at once, half through each instance (two API processes on
/// one store); answers what each returned.
async fn on_both_instances<T, F, Fut>(stores: &LimitStores, tasks: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn RateLimiter>) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = (0..tasks)
        .map(|n| {
            let limiter = if n % 2 == 0 {
                stores.first.clone()
            } else {
                stores.second.clone()
            };
            tokio::spawn(work(limiter))
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

pub async fn concurrent_checks_allow_exactly_the_burst(stores: LimitStores) {
    let t0 = stores.base;
    let q = quota(60, 10);
    let key = tenant();
    let results = on_both_instances(&stores, 40, |limiter| async move {
        limiter.check(&key, q, t0).await.unwrap().allowed
    })
    .await;
    let passed = results.into_iter().filter(|allowed| *allowed).count();
    assert_eq!(
        passed, 10,
        "exactly the burst passes, whatever the interleaving"
    );
}

pub async fn concurrent_checks_over_time_never_exceed_the_rate(stores: LimitStores) {
    let t0 = stores.base;
    let q = quota(600, 3); // one per 100 ms
    let key = tenant();
    // 8 tasks each try once per 10 ms over 1 s (of the injected clock).
    let results = on_both_instances(&stores, 8, |limiter| async move {
        let mut passed = 0;
        for step in 0..100 {
            let at = t0 + Duration::milliseconds(step * 10);
            if limiter.check(&key, q, at).await.unwrap().allowed {
                passed += 1;
            }
        }
        passed
    })
    .await;
    let total: i32 = results.into_iter().sum();
    // Over [0, 990 ms]: the burst of 3 plus one per 100 ms → at most 3 + 9.
    assert!(total <= 12, "{total} passed, more than the quota allows");
    // Tasks race on the injected clock (one may run ahead and move the TAT past the
    // others' times), so only the burst is certain.
    assert!(total >= 3, "{total} passed, not even the burst");
}

pub async fn the_second_instance_sees_the_first_ones_count(stores: LimitStores) {
    let t0 = stores.base;
    let q = quota(60, 3);
    let key = tenant();
    for _ in 0..3 {
        assert!(allowed(&stores.first, &key, q, t0).await);
    }
    let refused = stores.second.check(&key, q, t0).await.unwrap();
    assert!(!refused.allowed, "the count is shared");
    assert_eq!(refused.retry_after, Duration::seconds(1));
}
