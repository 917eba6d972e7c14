//! Login throttling (NIST SP 800-63B §5.2.2): exponential back-off that delays an attacker
//! but never locks an account for good.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::email::Email;

/// What a failed sign-in is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    /// One account from one client address: the tight limit. Failures from an attacker's
    /// address do not slow the owner down at their own address.
    AccountFromAddress(Email, IpAddr),
    /// One account from anywhere: a loose limit against distributed guessing.
    Account(Email),
    /// One client address against any account: a loose limit against spraying.
    Address(IpAddr),
    /// Password-reset requests for one address (mail flooding).
    ResetFor(Email),
    /// Password-reset requests from one client address.
    ResetFrom(IpAddr),
}

impl ThrottleKey {
    /// A stable text key; adapters store only its hash.
    pub fn key(&self) -> String {
        match self {
            ThrottleKey::AccountFromAddress(email, ip) => format!("account-address:{email}|{ip}"),
            ThrottleKey::Account(email) => format!("account:{email}"),
            ThrottleKey::Address(ip) => format!("address:{ip}"),
            ThrottleKey::ResetFor(email) => format!("reset-for:{email}"),
            ThrottleKey::ResetFrom(ip) => format!("reset-from:{ip}"),
        }
    }
}

/// Consecutive failures counted against a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: u32,
    pub last_failure_at: OffsetDateTime,
}

/// One failure just counted against a key, as the store answered it atomically: the
/// key's state after the failure and when the failure before it (within the window) was
/// counted. Parallel callers get distinct counts, so each knows exactly which attempt it
/// is and whether that attempt was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedFailure {
    pub state: ThrottleState,
    /// The `last_failure_at` the key had before this failure; `None` when this failure
    /// started the count (first one, or the previous ones were older than the window).
    pub previous_failure_at: Option<OffsetDateTime>,
}

impl CountedFailure {
    /// The key's state just before this failure was counted.
    pub fn before(&self) -> Option<ThrottleState> {
        let failures = self.state.failures.saturating_sub(1);
        (failures > 0).then(|| ThrottleState {
            failures,
            // A store that could not tell (a row created concurrently) reports `None`
            // with a count above one: the time of this failure is the safe stand-in.
            last_failure_at: self
                .previous_failure_at
                .unwrap_or(self.state.last_failure_at),
        })
    }
}

/// How many failures are free and how the delay grows after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub account_address_free: u32,
    pub account_free: u32,
    pub address_free: u32,
    /// Reset mails per address within the window before requests are silently dropped.
    pub reset_for_free: u32,
    pub reset_from_free: u32,
    pub max_delay: Duration,
    /// Failures older than this (since the last one) are forgotten.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_address_free: 5,
            account_free: 100,
            address_free: 100,
            reset_for_free: 3,
            reset_from_free: 20,
            max_delay: Duration::minutes(15),
            window: Duration::hours(1),
        }
    }
}

impl ThrottlePolicy {
    fn free_attempts(&self, key: &ThrottleKey) -> u32 {
        match key {
            ThrottleKey::AccountFromAddress(..) => self.account_address_free,
            ThrottleKey::Account(_) => self.account_free,
            ThrottleKey::Address(_) => self.address_free,
            ThrottleKey::ResetFor(_) => self.reset_for_free,
            ThrottleKey::ResetFrom(_) => self.reset_from_free,
        }
    }

    /// How long the caller must wait before the next attempt under `key`, if at all.
    pub fn retry_after(
        &self,
        key: &ThrottleKey,
        state: &ThrottleState,
        now: OffsetDateTime,
    ) -> Option<Duration> {
        if now - state.last_failure_at >= self.window {
            return None;
        }
        let free = self.free_attempts(key);
        if state.failures < free {
            return None;
        }
        let exponent = (state.failures - free).min(20);
        let delay = Duration::seconds(1i64 << exponent).min(self.max_delay);
        let wait = state.last_failure_at + delay - now;
        wait.is_positive().then_some(wait)
    }

    /// Whether the attempt that counted `counted` (reserved before any real check) must
    /// be refused, judged on the key's state before it, and for how long.
    pub fn retry_after_counted(
        &self,
        key: &ThrottleKey,
        counted: &CountedFailure,
        now: OffsetDateTime,
    ) -> Option<Duration> {
        counted
            .before()
            .and_then(|before| self.retry_after(key, &before, now))
    }

    /// The state after one more failure at `now`.
    pub fn after_failure(
        &self,
        state: Option<ThrottleState>,
        now: OffsetDateTime,
    ) -> ThrottleState {
        match state {
            Some(s) if now - s.last_failure_at < self.window => ThrottleState {
                failures: s.failures.saturating_add(1),
                last_failure_at: now,
            },
            _ => ThrottleState {
                failures: 1,
                last_failure_at: now,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn key() -> ThrottleKey {
        let email = Email::parse("alice@example.com").expect("valid");
        ThrottleKey::AccountFromAddress(email, IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    #[test]
    fn the_first_failures_are_free_then_the_delay_doubles() {
        let policy = ThrottlePolicy::default();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let state = |failures| ThrottleState {
            failures,
            last_failure_at: now,
        };
        assert_eq!(policy.retry_after(&key(), &state(4), now), None);
        assert_eq!(
            policy.retry_after(&key(), &state(5), now),
            Some(Duration::seconds(1))
        );
        assert_eq!(
            policy.retry_after(&key(), &state(7), now),
            Some(Duration::seconds(4))
        );
        assert_eq!(
            policy.retry_after(&key(), &state(60), now),
            Some(Duration::minutes(15))
        );
    }

    #[test]
    fn the_delay_passes_and_nothing_locks_for_good() {
        let policy = ThrottlePolicy::default();
        let then = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let state = ThrottleState {
            failures: 1_000,
            last_failure_at: then,
        };
        assert_eq!(
            policy.retry_after(&key(), &state, then + Duration::minutes(16)),
            None
        );
    }

    #[test]
    fn a_reserved_attempt_is_judged_on_the_state_before_it() {
        let policy = ThrottlePolicy::default();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let counted = |failures, previous| CountedFailure {
            state: ThrottleState {
                failures,
                last_failure_at: now,
            },
            previous_failure_at: previous,
        };
        // The fifth failure had four before it: still free.
        assert_eq!(
            policy.retry_after_counted(&key(), &counted(5, Some(now)), now),
            None
        );
        // The sixth had five before it, the last one just now: refused.
        assert_eq!(
            policy.retry_after_counted(&key(), &counted(6, Some(now)), now),
            Some(Duration::seconds(1))
        );
        // ... unless the back-off since the previous failure has passed.
        assert_eq!(
            policy.retry_after_counted(&key(), &counted(6, Some(now - Duration::seconds(2))), now),
            None
        );
        // A first failure is never refused.
        assert_eq!(
            policy.retry_after_counted(&key(), &counted(1, None), now),
            None
        );
    }

    #[test]
    fn old_failures_are_forgotten() {
        let policy = ThrottlePolicy::default();
        let then = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let old = ThrottleState {
            failures: 50,
            last_failure_at: then,
        };
        let next = policy.after_failure(Some(old), then + Duration::hours(2));
        assert_eq!(next.failures, 1);
    }
}
