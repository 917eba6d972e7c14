use time::{Duration, OffsetDateTime};

/// Microseconds since the Unix epoch: the unit every store keeps the TAT in.
pub fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// The most requests per minute a quota may allow (one per 6 µs).
const MAX_PER_MINUTE: u32 = 10_000_000;
const MINUTE_US: i64 = 60_000_000;

/// A rate per minute with a burst: at most `burst` requests at once from a quiet key,
/// then one every `60 s / per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    per_minute: u32,
    burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidQuota {
    #[error("the rate must be from 1 to {MAX_PER_MINUTE} per minute")]
    Rate,
    #[error("the burst must be at least 1")]
    Burst,
}

impl Quota {
    pub fn new(per_minute: u32, burst: u32) -> Result<Self, InvalidQuota> {
        if per_minute == 0 || per_minute > MAX_PER_MINUTE {
            return Err(InvalidQuota::Rate);
        }
        if burst == 0 {
            return Err(InvalidQuota::Burst);
        }
        Ok(Self { per_minute, burst })
    }

    /// `percent` of this quota's rate and burst (rounded up, at least 1 each): the share
    /// one user may take of the tenant's.
    pub fn share(&self, percent: u8) -> Quota {
        let part = |n: u32| {
            let scaled = (u64::from(n) * u64::from(percent.clamp(1, 100))).div_ceil(100);
            u32::try_from(scaled).unwrap_or(n).max(1)
        };
        Quota {
            per_minute: part(self.per_minute),
            burst: part(self.burst),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The emission interval: how far one allowed request moves the TAT (µs).
    pub fn interval_us(&self) -> i64 {
        MINUTE_US / i64::from(self.per_minute)
    }

    /// How far ahead of `now` the TAT may run after an allowed request (µs).
    pub fn tolerance_us(&self) -> i64 {
        self.interval_us().saturating_mul(i64::from(self.burst))
    }

    /// One GCRA step on a stored TAT (None: nothing stored or expired): whether the
    /// request at `now_us` is allowed, and the TAT to keep (unchanged when refused).
    /// The stores implement exactly this (SQL, Lua, memory); the contracts check it.
    pub fn step(&self, stored_tat_us: Option<i64>, now_us: i64) -> (bool, i64) {
        let tat = stored_tat_us.unwrap_or(now_us);
        let next = tat.max(now_us).saturating_add(self.interval_us());
        if next - now_us <= self.tolerance_us() {
            (true, next)
        } else {
            (false, tat)
        }
    }

    /// The decision for a store's answer: whether the request was allowed and the TAT
    /// after it.
    pub fn decision(&self, allowed: bool, tat_us: i64, now_us: i64) -> RateLimitDecision {
        let interval = self.interval_us();
        let ahead = (tat_us - now_us).max(0);
        let reset_after = Duration::microseconds(ahead);
        if allowed {
            let spare = (self.tolerance_us() - ahead).max(0) / interval.max(1);
            RateLimitDecision {
                allowed: true,
                limit: self.burst,
                remaining: u32::try_from(spare).unwrap_or(u32::MAX).min(self.burst),
                retry_after: Duration::ZERO,
                reset_after,
            }
        } else {
            // The next request fits once `tat + interval - t <= tolerance`.
            let wait = (tat_us + interval - self.tolerance_us() - now_us).max(1);
            RateLimitDecision {
                allowed: false,
                limit: self.burst,
                remaining: 0,
                retry_after: Duration::microseconds(wait),
                reset_after,
            }
        }
    }
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitDecision {
    pub allowed: bool,
    /// The burst of the quota (what a quiet key may send at once).
    pub limit: u32,
    /// Requests that would still be allowed right now.
    pub remaining: u32,
    /// Refused: how long until a request fits again (zero when allowed).
    pub retry_after: Duration,
    /// How long until the key is quiet again (the full burst available).
    pub reset_after: Duration,
}

impl RateLimitDecision {
    /// An allowed request when no store was asked (limits off, or the store failed).
    pub fn unlimited() -> Self {
        Self {
            allowed: true,
            limit: u32::MAX,
            remaining: u32::MAX,
            retry_after: Duration::ZERO,
            reset_after: Duration::ZERO,
        }
    }

    /// `Retry-After` in whole seconds, rounded up (at least 1 when refused).
    pub fn retry_after_secs(&self) -> u64 {
        if self.allowed {
            0
        } else {
            ceil_secs(self.retry_after).max(1)
        }
    }

    /// Seconds until the key is quiet again, rounded up.
    pub fn reset_secs(&self) -> u64 {
        ceil_secs(self.reset_after)
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    let micros = duration.whole_microseconds().max(0);
    u64::try_from((micros + 999_999) / 1_000_000).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(per_minute: u32, burst: u32) -> Quota {
        Quota::new(per_minute, burst).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_share_is_a_rounded_up_part_of_rate_and_burst() {
        assert_eq!(quota(600, 100).share(50), quota(300, 50));
        assert_eq!(quota(600, 100).share(100), quota(600, 100));
        assert_eq!(quota(3, 1).share(50), quota(2, 1));
        assert_eq!(quota(1, 1).share(1), quota(1, 1));
        assert_eq!(
            quota(600, 100).share(0),
            quota(6, 1),
            "at least one percent"
        );
    }

    #[test]
    fn a_quiet_key_gets_exactly_its_burst_then_one_per_interval() {
        let q = quota(60, 3); // one per second, three at once
        let now = 1_000_000_000;
        let mut tat = None;
        for n in 0..3 {
            let (allowed, next) = q.step(tat, now);
            assert!(allowed, "request {n} of the burst");
            tat = Some(next);
        }
        let (allowed, kept) = q.step(tat, now);
        assert!(!allowed, "the fourth at once is refused");
        assert_eq!(Some(kept), tat, "a refusal changes nothing");
        let refused = q.decision(false, kept, now);
        assert_eq!(refused.retry_after, Duration::seconds(1));
        assert_eq!(refused.retry_after_secs(), 1);
        assert_eq!(refused.reset_secs(), 3);
        // 999 ms later: still refused, 1 ms to wait (Retry-After rounds up to 1 s).
        let (allowed, _) = q.step(tat, now + 999_000);
        assert!(!allowed);
        assert_eq!(
            q.decision(false, kept, now + 999_000).retry_after,
            Duration::milliseconds(1)
        );
        // One interval later exactly one more fits.
        let (allowed, next) = q.step(tat, now + 1_000_000);
        assert!(allowed);
        assert!(!q.step(Some(next), now + 1_000_000).0);
    }

    #[test]
    fn remaining_counts_down_and_an_old_tat_is_forgotten() {
        let q = quota(600, 5);
        let now = 5_000_000;
        let (_, tat) = q.step(None, now);
        assert_eq!(q.decision(true, tat, now).remaining, 4);
        let (_, tat) = q.step(Some(tat), now);
        assert_eq!(q.decision(true, tat, now).remaining, 3);
        // Long after the TAT the key is as good as new.
        let later = now + 60_000_000;
        let (allowed, fresh) = q.step(Some(tat), later);
        assert!(allowed);
        assert_eq!(fresh, later + q.interval_us());
        assert_eq!(q.decision(true, fresh, later).remaining, 4);
    }

    #[test]
    fn quotas_are_validated() {
        assert_eq!(Quota::new(0, 1), Err(InvalidQuota::Rate));
        assert_eq!(Quota::new(60, 0), Err(InvalidQuota::Burst));
        assert!(Quota::new(MAX_PER_MINUTE, u32::MAX).is_ok());
        let q = quota(MAX_PER_MINUTE, u32::MAX);
        assert!(
            q.step(Some(i64::MAX - 10), i64::MAX - 20).1 > 0,
            "no overflow"
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let q = quota(1, 1); // one a minute
        let refused = q.decision(false, 60_000_000, 500_000);
        assert_eq!(refused.retry_after, Duration::microseconds(59_500_000));
        assert_eq!(refused.retry_after_secs(), 60);
    }
}
