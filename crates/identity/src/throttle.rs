//! Login throttling (NIST SP 800-63B §5.2.2): exponential back-off that delays an attacker
//! but never locks an account for good.

use std::net::IpAddr;

use aura_shared_kernel::TenantId;
use time::{Date, Duration, OffsetDateTime};

use crate::{email::Email, user::AccountId};

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
    /// Successful sign-ins to one account from one client address: not a failure
    /// count but a marker (its time is the last success), read to spare that address
    /// the account-wide limit.
    SignedIn(Email, IpAddr),
    /// Invitation mails of one tenant on one (UTC) day: a counter judged against the
    /// tenant's cap, not a back-off.
    Invitations(TenantId, Date),
    /// Second-factor codes (TOTP or recovery) tried for one account, from anywhere:
    /// the code is the secret here, so the account is what is guessed.
    SecondFactor(AccountId),
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
            ThrottleKey::SignedIn(email, ip) => format!("signed-in:{email}|{ip}"),
            ThrottleKey::Invitations(tenant, day) => format!("invitations:{tenant}|{day}"),
            ThrottleKey::SecondFactor(account) => format!("second-factor:{account}"),
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
    /// Wrong second-factor codes per account before the delay starts.
    pub second_factor_free: u32,
    pub max_delay: Duration,
    /// Failures older than this (since the last one) are forgotten.
    pub window: Duration,
    /// An address that signed into the account this recently is spared the
    /// account-wide limit.
    pub recent_sign_in: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_address_free: 5,
            account_free: 100,
            address_free: 100,
            reset_for_free: 3,
            reset_from_free: 20,
            second_factor_free: 5,
            max_delay: Duration::minutes(15),
            window: Duration::hours(1),
            recent_sign_in: Duration::days(30),
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
            ThrottleKey::SecondFactor(_) => self.second_factor_free,
            ThrottleKey::SignedIn(..) | ThrottleKey::Invitations(..) => u32::MAX,
        }
    }

    /// How long an attempt under `keys` must wait, judged on their states (same order),
    /// and whether the account-wide key is what refuses it. That key — the one anyone
    /// can push over its limit from many addresses — refuses only an address that has
    /// failed for this account itself (within the window) and has not signed into it
    /// within `recent_sign_in` (`signed_in_at`); without a client address it applies
    /// as it stands.
    pub fn wait(
        &self,
        keys: &[ThrottleKey],
        states: &[Option<ThrottleState>],
        signed_in_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Option<(Duration, bool)> {
        let per_address = keys.iter().zip(states).find_map(|(key, state)| {
            matches!(key, ThrottleKey::AccountFromAddress(..)).then_some(state)
        });
        let recent = signed_in_at.is_some_and(|at| now - at < self.recent_sign_in);
        let account_applies = match per_address {
            None => true,
            Some(state) => {
                let own_failures =
                    state.is_some_and(|s| s.failures > 0 && now - s.last_failure_at < self.window);
                own_failures && !recent
            }
        };
        keys.iter()
            .zip(states)
            .filter(|(key, _)| account_applies || !matches!(key, ThrottleKey::Account(_)))
            .filter_map(|(key, state)| {
                let wait = self.retry_after(key, state.as_ref()?, now)?;
                Some((wait, matches!(key, ThrottleKey::Account(_))))
            })
            .max()
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
    fn a_counted_attempt_is_judged_on_the_state_before_it() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let counted = |failures, previous| CountedFailure {
            state: ThrottleState {
                failures,
                last_failure_at: now,
            },
            previous_failure_at: previous,
        };
        assert_eq!(counted(1, None).before(), None, "a first failure had none");
        assert_eq!(
            counted(6, Some(now - Duration::seconds(2))).before(),
            Some(ThrottleState {
                failures: 5,
                last_failure_at: now - Duration::seconds(2)
            })
        );
    }

    #[test]
    fn the_account_wide_limit_spares_addresses_without_failures_of_their_own() {
        let policy = ThrottlePolicy::default();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let email = Email::parse("alice@example.com").expect("valid");
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let keys = [
            ThrottleKey::AccountFromAddress(email.clone(), ip),
            ThrottleKey::Account(email.clone()),
        ];
        let state = |failures| {
            Some(ThrottleState {
                failures,
                last_failure_at: now,
            })
        };
        // 500 failures from elsewhere: an address with none of its own gets through.
        assert_eq!(policy.wait(&keys, &[None, state(500)], None, now), None);
        // One of its own and no recent sign-in: the account-wide limit applies.
        let refused = policy.wait(&keys, &[state(1), state(500)], None, now);
        assert_eq!(refused, Some((Duration::minutes(15), true)));
        // ... unless it signed in within `recent_sign_in`.
        let yesterday = Some(now - Duration::days(1));
        assert_eq!(
            policy.wait(&keys, &[state(1), state(500)], yesterday, now),
            None
        );
        let long_ago = Some(now - Duration::days(31));
        assert!(
            policy
                .wait(&keys, &[state(1), state(500)], long_ago, now)
                .is_some()
        );
        // Its own limit always applies.
        assert_eq!(
            policy.wait(&keys, &[state(6), None], yesterday, now),
            Some((Duration::seconds(2), false))
        );
        // Without a client address the account-wide key stands alone.
        assert!(policy.wait(&keys[1..], &[state(500)], None, now).is_some());
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
