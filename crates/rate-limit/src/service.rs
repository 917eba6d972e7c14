use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
};

use time::{Duration, OffsetDateTime};

use crate::{KeyKind, Quota, RateLimitDecision, RateLimitKey, RateLimiter, micros};

/// The quota of each kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// Per client address on the public auth routes.
    pub client_address: Quota,
    /// Per tenant on the authenticated API.
    pub tenant: Quota,
    /// Per user on the authenticated API: a share of the tenant's ([`Quota::share`]).
    pub user: Quota,
    /// Per tenant on its public request intake page.
    pub intake: Quota,
}

impl RateLimitPolicy {
    pub fn quota(&self, kind: KeyKind) -> Quota {
        match kind {
            KeyKind::ClientAddress => self.client_address,
            KeyKind::Tenant => self.tenant,
            KeyKind::User => self.user,
            KeyKind::Intake => self.intake,
        }
    }
}

/// Counters for metrics and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    /// Requests refused (by the store or by the local block cache).
    pub refused: u64,
    /// Of those, refused by the local block cache without asking the store.
    pub refused_locally: u64,
    /// Checks the store could not answer (allowed: the limiter fails open).
    pub store_failures: u64,
    /// Checks allowed without asking the store because it failed very recently.
    pub skipped_while_store_down: u64,
}

/// Most keys the block cache holds; beyond it (after dropping expired entries) a new
/// refusal is simply not cached, and the store keeps answering for that key.
const BLOCK_CACHE_CAPACITY: usize = 65_536;
/// After a store failure, checks skip the store (and are allowed) for this long, so a
/// dead store costs one timeout per instance and pause, not one per request.
const STORE_PAUSE: Duration = Duration::seconds(5);

/// The rate limits as the HTTP layer uses them: a policy, a shared store, and a
/// per-instance cache of keys known to be blocked.
///
/// The cache is exact, not a guess: a refusal says the key's TAT stands at a time at
/// which a request can fit again; other instances can only move the TAT later, so until
/// then every request for the key would be refused by the store too. Refused requests
/// therefore cost a hash-map look-up instead of a store round trip — a flood on one
/// tenant leaves the store (and the other tenants' requests to it) alone.
///
/// Store failures fail open: the request is allowed, a warning is logged and
/// [`RateLimitStats::store_failures`] counted. The limiter protects capacity, not data,
/// and refusing everything because the limiter's store is down would turn a partial
/// outage into a full one; sign-in keeps its own per-account throttle in PostgreSQL.
pub struct RateLimits {
    limiter: Arc<dyn RateLimiter>,
    policy: RateLimitPolicy,
    blocked: Mutex<HashMap<RateLimitKey, (i64, RateLimitDecision)>>,
    store_down_until_us: AtomicI64,
    refused: AtomicU64,
    refused_locally: AtomicU64,
    store_failures: AtomicU64,
    skipped: AtomicU64,
}

impl RateLimits {
    pub fn new(limiter: Arc<dyn RateLimiter>, policy: RateLimitPolicy) -> Self {
        Self {
            limiter,
            policy,
            blocked: Mutex::new(HashMap::new()),
            store_down_until_us: AtomicI64::new(i64::MIN),
            refused: AtomicU64::new(0),
            refused_locally: AtomicU64::new(0),
            store_failures: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }

    pub fn policy(&self) -> &RateLimitPolicy {
        &self.policy
    }

    /// The refusal for `key` if this instance already knows it is blocked at `now`;
    /// never asks the store. Call it before expensive work (such as re-reading the
    /// principal), then [`RateLimits::check`].
    pub fn blocked(&self, key: &RateLimitKey, now: OffsetDateTime) -> Option<RateLimitDecision> {
        let now_us = micros(now);
        let mut blocked = self.lock_cache();
        let (until, refusal) = *blocked.get(key)?;
        if now_us >= until {
            blocked.remove(key);
            return None;
        }
        drop(blocked);
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.refused_locally.fetch_add(1, Ordering::Relaxed);
        let left = Duration::microseconds(until - now_us);
        Some(RateLimitDecision {
            retry_after: left,
            reset_after: (refusal.reset_after - (refusal.retry_after - left)).max(left),
            ..refusal
        })
    }

    /// Counts one request under `key` at `now`: the local block cache first, then the
    /// store. Never fails: a store error allows the request (see the type's docs).
    pub async fn check(&self, key: &RateLimitKey, now: OffsetDateTime) -> RateLimitDecision {
        if let Some(refusal) = self.blocked(key, now) {
            return refusal;
        }
        let now_us = micros(now);
        if now_us < self.store_down_until_us.load(Ordering::Relaxed) {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return RateLimitDecision::unlimited();
        }
        let quota = self.policy.quota(key.kind());
        match self.limiter.check(key, quota, now).await {
            Ok(decision) => {
                if !decision.allowed {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    self.remember_block(
                        *key,
                        now_us + decision.retry_after.whole_microseconds() as i64,
                        decision,
                    );
                }
                decision
            }
            Err(error) => {
                self.store_failures.fetch_add(1, Ordering::Relaxed);
                self.store_down_until_us.store(
                    now_us + STORE_PAUSE.whole_microseconds() as i64,
                    Ordering::Relaxed,
                );
                tracing::warn!(
                    %error,
                    kind = key.kind().name(),
                    pause_secs = STORE_PAUSE.whole_seconds(),
                    "rate-limit store failed; allowing requests (fail open)"
                );
                RateLimitDecision::unlimited()
            }
        }
    }

    pub fn stats(&self) -> RateLimitStats {
        RateLimitStats {
            refused: self.refused.load(Ordering::Relaxed),
            refused_locally: self.refused_locally.load(Ordering::Relaxed),
            store_failures: self.store_failures.load(Ordering::Relaxed),
            skipped_while_store_down: self.skipped.load(Ordering::Relaxed),
        }
    }

    fn remember_block(&self, key: RateLimitKey, until_us: i64, refusal: RateLimitDecision) {
        let mut blocked = self.lock_cache();
        if blocked.len() >= BLOCK_CACHE_CAPACITY && !blocked.contains_key(&key) {
            let now_us = until_us - refusal.retry_after.whole_microseconds() as i64;
            blocked.retain(|_, (until, _)| *until > now_us);
            if blocked.len() >= BLOCK_CACHE_CAPACITY {
                return;
            }
        }
        blocked.insert(key, (until_us, refusal));
    }

    fn lock_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<RateLimitKey, (i64, RateLimitDecision)>> {
        self.blocked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use aura_shared_kernel::TenantId;
    use time::macros::datetime;

    use super::*;
    use crate::RateLimitError;

    /// An in-process store (the GCRA step under a lock) that counts its calls.
    #[derive(Default)]
    struct CountingStore {
        tats: Mutex<HashMap<String, i64>>,
        calls: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl RateLimiter for CountingStore {
        async fn check(
            &self,
            key: &RateLimitKey,
            quota: Quota,
            now: OffsetDateTime,
        ) -> Result<RateLimitDecision, RateLimitError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err(RateLimitError("down".into()));
            }
            let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
            let now_us = micros(now);
            let (allowed, tat) = quota.step(tats.get(&key.storage_key()).copied(), now_us);
            tats.insert(key.storage_key(), tat);
            Ok(quota.decision(allowed, tat, now_us))
        }
    }

    /// `count` checks of `key`, a millisecond apart from T0, are each allowed.
    async fn assert_allowed_in_a_row(limits: &RateLimits, key: &RateLimitKey, count: i64) {
        for n in 0..count {
            let at = T0 + Duration::milliseconds(n);
            assert!(limits.check(key, at).await.allowed, "check {n}");
        }
    }

    fn limits(store: Arc<CountingStore>) -> RateLimits {
        let quota = Quota::new(60, 5).unwrap_or_else(|e| panic!("{e}"));
        RateLimits::new(
            store,
            RateLimitPolicy {
                client_address: quota,
                tenant: quota,
                user: quota,
                intake: quota,
            },
        )
    }

    const T0: OffsetDateTime = datetime!(2026-11-25 10:00:00 UTC);

    #[tokio::test]
    async fn a_flooding_tenants_refusals_do_not_reach_the_store() {
        let store = Arc::new(CountingStore::default());
        let limits = limits(store.clone());
        let flooder = RateLimitKey::Tenant(TenantId::generate());
        let quiet = RateLimitKey::Tenant(TenantId::generate());

        let mut allowed = 0;
        for n in 0..1_000 {
            // 1000 requests within the same second.
            let at = T0 + Duration::microseconds(n);
            if limits.check(&flooder, at).await.allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "the burst, then refusals");
        assert_eq!(
            store.calls.load(Ordering::SeqCst),
            6,
            "five allowed and one refused reached the store; 994 refusals were answered locally"
        );
        let stats = limits.stats();
        assert_eq!(stats.refused, 995);
        assert_eq!(stats.refused_locally, 994);

        // The other tenant is served by the store as usual, unaffected.
        let before = store.calls.load(Ordering::SeqCst);
        assert_allowed_in_a_row(&limits, &quiet, 5).await;
        assert_eq!(store.calls.load(Ordering::SeqCst), before + 5);
    }

    #[tokio::test]
    async fn the_local_block_ends_exactly_when_the_store_would_allow_again() {
        let store = Arc::new(CountingStore::default());
        let limits = limits(store.clone());
        let key = RateLimitKey::client_address(
            "203.0.113.9"
                .parse()
                .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
        );
        for _ in 0..5 {
            assert!(limits.check(&key, T0).await.allowed);
        }
        let refused = limits.check(&key, T0).await;
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::seconds(1));
        let local = limits
            .blocked(&key, T0 + Duration::milliseconds(400))
            .unwrap_or_else(|| panic!("still blocked"));
        assert_eq!(local.retry_after, Duration::milliseconds(600));
        assert_eq!(local.retry_after_secs(), 1);
        assert!(limits.blocked(&key, T0 + Duration::seconds(1)).is_none());
        assert!(limits.check(&key, T0 + Duration::seconds(1)).await.allowed);
    }

    #[tokio::test]
    async fn a_failing_store_fails_open_and_is_paused() {
        let store = Arc::new(CountingStore::default());
        store.fail.store(true, Ordering::SeqCst);
        let limits = limits(store.clone());
        let key = RateLimitKey::Tenant(TenantId::generate());
        assert_allowed_in_a_row(&limits, &key, 100).await;
        assert_eq!(
            store.calls.load(Ordering::SeqCst),
            1,
            "one failure, then a pause"
        );
        assert_eq!(limits.stats().store_failures, 1);
        assert_eq!(limits.stats().skipped_while_store_down, 99);
        store.fail.store(false, Ordering::SeqCst);
        assert!(limits.check(&key, T0 + STORE_PAUSE).await.allowed);
        assert_eq!(
            store.calls.load(Ordering::SeqCst),
            2,
            "asked again after the pause"
        );
    }
}
