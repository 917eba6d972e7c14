//! [`RateLimiter`] in memory: one GCRA step per call under its own lock (not the store's),
//! for unit tests and demo mode. Limits are per process: nothing is shared.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use aura_rate_limit::{
    Quota, RateLimitDecision, RateLimitError, RateLimitKey, RateLimiter, micros,
};
use time::OffsetDateTime;

/// Above this many keys, expired ones are dropped before a new one is added.
const SWEEP_ABOVE: usize = 100_000;

/// The TAT of every key in a map. Cloning shares the map.
#[derive(Clone, Default)]
pub struct MemoryRateLimiter {
    tats: Arc<Mutex<HashMap<String, i64>>>,
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(
        &self,
        key: &RateLimitKey,
        quota: Quota,
        now: OffsetDateTime,
    ) -> Result<RateLimitDecision, RateLimitError> {
        let now_us = micros(now);
        let storage_key = key.storage_key();
        let mut tats = self
            .tats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if tats.len() >= SWEEP_ABOVE && !tats.contains_key(&storage_key) {
            tats.retain(|_, tat| *tat > now_us);
        }
        let stored = tats.get(&storage_key).copied().filter(|tat| *tat > now_us);
        let (allowed, tat) = quota.step(stored, now_us);
        if allowed {
            tats.insert(storage_key, tat);
        }
        Ok(quota.decision(allowed, tat, now_us))
    }
}
