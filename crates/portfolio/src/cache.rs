//! A tenant's summary kept briefly in process memory, so a dashboard refresh does not
//! recompute every client. Keyed by the account *and* the membership (tenant, user,
//! role, the permissions it holds, the partner it acts for): one account's entry is
//! never another's answer, and a changed role or custom role's permission set is a new
//! key, so a demotion shows at once. A membership that is no longer usable (a revoked
//! grant, a removal) is not listed at all, so its entry is never served. An entry older than [`FRESH_FOR`] is never served;
//! the map holds at most [`CACHE_CAPACITY`] entries.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use aura_identity::AccountId;
use aura_shared_kernel::{PermissionSet, Role, TenantId, UserId};
use time::{Duration, OffsetDateTime};

use crate::summary::TenantSummary;

/// How long a summary is served after it was computed: the staleness bound.
pub const FRESH_FOR: Duration = Duration::seconds(30);

/// The most entries kept (about 200 consultants with 50 clients each); beyond it, the
/// expired ones go first, then the oldest.
pub const CACHE_CAPACITY: usize = 10_000;

/// Whose view of which tenant a summary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub account: AccountId,
    pub tenant: TenantId,
    pub user: UserId,
    pub role: Role,
    /// What the membership's scope holds (a custom role's permissions as stored now).
    pub permissions: PermissionSet,
    /// The partner the scope acts for.
    pub partner: Option<TenantId>,
}

/// A summary and when it was computed.
#[derive(Debug, Clone)]
pub struct Cached {
    pub summary: Arc<TenantSummary>,
    pub computed_at: OffsetDateTime,
}

pub struct SummaryCache {
    entries: Mutex<HashMap<CacheKey, Cached>>,
    fresh_for: Duration,
    capacity: usize,
}

impl Default for SummaryCache {
    fn default() -> Self {
        Self::new(FRESH_FOR, CACHE_CAPACITY)
    }
}

impl SummaryCache {
    pub fn new(fresh_for: Duration, capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            fresh_for,
            capacity: capacity.max(1),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Cached>> {
        // A panic while holding the lock leaves a map of whole entries: keep using it.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_fresh(&self, entry: &Cached, now: OffsetDateTime) -> bool {
        now - entry.computed_at < self.fresh_for && entry.computed_at <= now
    }

    /// The summary for `key` if it was computed less than the bound before `now`.
    pub fn get(&self, key: &CacheKey, now: OffsetDateTime) -> Option<Cached> {
        let entries = self.entries();
        (entries.get(key))
            .filter(|entry| self.is_fresh(entry, now))
            .cloned()
    }

    pub fn put(&self, key: CacheKey, entry: Cached, now: OffsetDateTime) {
        let mut entries = self.entries();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, kept| self.is_fresh(kept, now));
            if entries.len() >= self.capacity {
                let oldest = (entries.iter())
                    .min_by_key(|(_, kept)| kept.computed_at)
                    .map(|(key, _)| *key);
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key, entry);
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2027-03-01 09:00 UTC);

    fn key(role: Role) -> CacheKey {
        CacheKey {
            account: AccountId::from_uuid(Uuid::new_v4()),
            tenant: TenantId::generate(),
            user: UserId::generate(),
            role,
            permissions: role.permissions(),
            partner: None,
        }
    }

    fn entry(overdue_tasks: usize, computed_at: OffsetDateTime) -> Cached {
        Cached {
            summary: Arc::new(TenantSummary {
                overdue_tasks: Some(overdue_tasks),
                ..TenantSummary::default()
            }),
            computed_at,
        }
    }

    #[test]
    fn an_entry_is_served_until_the_bound_and_not_after() {
        let cache = SummaryCache::default();
        let k = key(Role::Viewer);
        cache.put(k, entry(3, NOW), NOW);
        let almost = NOW + FRESH_FOR - Duration::milliseconds(1);
        assert_eq!(
            cache.get(&k, almost).unwrap().summary.overdue_tasks,
            Some(3)
        );
        assert!(cache.get(&k, NOW + FRESH_FOR).is_none());
        // A clock that went back does not make an entry from the future fresh.
        assert!(cache.get(&k, NOW - Duration::seconds(1)).is_none());
    }

    #[test]
    fn another_account_or_role_in_the_same_tenant_is_another_key() {
        let cache = SummaryCache::default();
        let mine = key(Role::Owner);
        cache.put(mine, entry(1, NOW), NOW);
        let theirs = CacheKey {
            account: AccountId::from_uuid(Uuid::new_v4()),
            ..mine
        };
        let demoted = CacheKey {
            role: Role::Viewer,
            ..mine
        };
        assert!(cache.get(&theirs, NOW).is_none());
        assert!(cache.get(&demoted, NOW).is_none());
        assert!(cache.get(&mine, NOW).is_some());
    }

    #[test]
    fn the_map_stays_within_its_capacity_dropping_expired_then_oldest() {
        let cache = SummaryCache::new(FRESH_FOR, 3);
        let old = key(Role::Member);
        cache.put(old, entry(0, NOW - Duration::minutes(5)), NOW);
        let (a, b) = (key(Role::Member), key(Role::Member));
        cache.put(a, entry(1, NOW - Duration::seconds(2)), NOW);
        cache.put(b, entry(2, NOW - Duration::seconds(1)), NOW);
        let c = key(Role::Member);
        cache.put(c, entry(3, NOW), NOW);
        assert_eq!(cache.len(), 3, "the expired one made room");
        assert!(cache.get(&a, NOW).is_some());
        let d = key(Role::Member);
        cache.put(d, entry(4, NOW), NOW);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&a, NOW).is_none(), "the oldest fresh one went");
        for kept in [b, c, d] {
            assert!(cache.get(&kept, NOW).is_some());
        }
    }
}
