//! Repeated permission denials, recorded in bulk: [`BulkDenials`] wraps the audit log.
//!
//! Every refusal is audited, but a user hammering a route they may not use must not
//! write one chained event per attempt under the tenant's chain-head lock (it slowed the
//! whole tenant's writes and filled the trail). The first denial of a user for one
//! permission in a window is appended as usual; the repeats in that window are counted
//! in memory and appended as one `auth.permission_denied` event carrying the count
//! (`repeated`) and the window, when the window has passed ([`BulkDenials::flush`],
//! which the service calls periodically and at shutdown) or when the next denial for the
//! same user and permission starts a new window. Every other event passes straight
//! through. What a crash loses is the count of the current window, never the first
//! denial.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use aura_shared_kernel::{Clock, StoreError, TenantId, TenantScope, UserId};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{
    AuditAction, AuditLog, AuditPage, AuditQuery, AuditRecord, ChainHash, PendingEvent,
    RequestContext, Shredding, ShreddingEvent,
};

/// The denials one key has had in its open window.
struct Window {
    scope: TenantScope,
    /// The first denial, as appended: what repeats answer, and the summary's template.
    first: AuditRecord,
    last: PendingEvent,
    started: OffsetDateTime,
    repeated: u64,
}

/// Tenant, acting user (none: the system) and what was denied (the event's changes: the
/// permission).
type Key = (TenantId, Option<UserId>, String);

/// The audit log with permission denials recorded in bulk (see the module docs).
pub struct BulkDenials {
    inner: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    window: Duration,
    open: Mutex<HashMap<Key, Window>>,
}

impl BulkDenials {
    /// Wraps `inner`; repeats within `window` of a key's first denial are counted.
    pub fn new(inner: Arc<dyn AuditLog>, clock: Arc<dyn Clock>, window: Duration) -> Self {
        Self {
            inner,
            clock,
            window,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends the summary of every window that has passed at the clock's now (all of
    /// them with `all`, at shutdown); returns how many summaries were appended.
    pub async fn flush(&self, all: bool) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let closed: Vec<Window> = {
            let mut open = self.lock();
            let keys: Vec<Key> = open
                .iter()
                .filter(|(_, w)| all || now >= w.started + self.window)
                .map(|(k, _)| k.clone())
                .collect();
            keys.into_iter().filter_map(|k| open.remove(&k)).collect()
        };
        let mut appended = 0;
        for window in closed {
            if self.summarise(window, now).await?.is_some() {
                appended += 1;
            }
        }
        Ok(appended)
    }

    /// The summary event of a closed window with repeats (none without).
    async fn summarise(
        &self,
        window: Window,
        now: OffsetDateTime,
    ) -> Result<Option<AuditRecord>, StoreError> {
        if window.repeated == 0 {
            return Ok(None);
        }
        let mut changes = match window.last.changes.clone() {
            Value::Object(map) => map,
            other => [("denied".to_owned(), other)].into_iter().collect(),
        };
        changes.insert("repeated".to_owned(), Value::from(window.repeated));
        changes.insert("first_seq".to_owned(), Value::from(window.first.seq));
        changes.insert(
            "window_secs".to_owned(),
            Value::from((now - window.started).whole_seconds().max(0)),
        );
        // The summary carries no personal values (client address, user agent): the first
        // denial has them, where erasure and retention reach them; a summary written after
        // an erasure must not bring them back.
        let event = PendingEvent {
            changes: Value::Object(changes),
            personal: Map::new(),
            context: RequestContext::new(None, None, window.last.context.request_id.clone()),
            ..window.last
        };
        self.inner.append(&window.scope, event).await.map(Some)
    }
}

#[async_trait]
impl AuditLog for BulkDenials {
    async fn append(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
    ) -> Result<AuditRecord, StoreError> {
        if event.action != AuditAction::AUTH_PERMISSION_DENIED {
            return self.inner.append(scope, event).await;
        }
        let now = self.clock.now();
        let user = event.actor.user_id();
        let key = (scope.tenant_id(), user, event.changes.to_string());
        let passed = {
            let mut open = self.lock();
            match open.get_mut(&key) {
                Some(window) if now < window.started + self.window => {
                    window.repeated += 1;
                    window.last = event.clone();
                    return Ok(window.first.clone());
                }
                Some(_) => open.remove(&key),
                None => None,
            }
        };
        if let Some(passed) = passed {
            self.summarise(passed, now).await?;
        }
        let first = self.inner.append(scope, event.clone()).await?;
        self.lock().insert(
            key,
            Window {
                scope: scope.clone(),
                first: first.clone(),
                last: event,
                started: now,
                repeated: 0,
            },
        );
        Ok(first)
    }

    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        self.inner.list(scope, query).await
    }

    async fn chain_after(
        &self,
        scope: &TenantScope,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner.chain_after(scope, after_seq, limit).await
    }

    async fn head(&self, scope: &TenantScope) -> Result<Option<(i64, ChainHash)>, StoreError> {
        self.inner.head(scope).await
    }

    async fn shred_personal(
        &self,
        scope: &TenantScope,
        which: Shredding,
        event: ShreddingEvent,
    ) -> Result<u64, StoreError> {
        self.inner.shred_personal(scope, which, event).await
    }
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::{FixedClock, Permission, Role};
    use time::macros::datetime;

    use super::*;
    use crate::{ChainHash, MixHasher, RequestContext, require_audited, seal_event};

    /// Keeps what is appended, numbered like a chain.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<PendingEvent>>);

    impl Recorded {
        fn all(&self) -> Vec<PendingEvent> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
        }
    }

    #[async_trait]
    impl AuditLog for Recorded {
        async fn append(
            &self,
            scope: &TenantScope,
            event: PendingEvent,
        ) -> Result<AuditRecord, StoreError> {
            let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
            all.push(event.clone());
            let seq = i64::try_from(all.len()).unwrap_or(i64::MAX);
            let at = OffsetDateTime::UNIX_EPOCH;
            Ok(seal_event(
                event,
                scope.tenant_id(),
                seq,
                at,
                ChainHash::GENESIS,
                &MixHasher,
            ))
        }
        async fn list(&self, _: &TenantScope, _: &AuditQuery) -> Result<AuditPage, StoreError> {
            Err(StoreError::NotFound)
        }
        async fn chain_after(
            &self,
            _: &TenantScope,
            _: i64,
            _: usize,
        ) -> Result<Vec<AuditRecord>, StoreError> {
            Ok(Vec::new())
        }
        async fn head(&self, _: &TenantScope) -> Result<Option<(i64, ChainHash)>, StoreError> {
            Ok(None)
        }
        async fn shred_personal(
            &self,
            _: &TenantScope,
            _: Shredding,
            _: ShreddingEvent,
        ) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    fn viewer() -> TenantScope {
        TenantScope::for_tests(TenantId::generate(), UserId::generate(), Role::Viewer)
    }

    #[tokio::test]
    async fn repeats_in_a_window_become_one_counted_event() {
        let recorded = Arc::new(Recorded::default());
        let clock = Arc::new(FixedClock::at(datetime!(2026-12-06 10:00 UTC)));
        let log = BulkDenials::new(recorded.clone(), clock.clone(), Duration::minutes(1));
        let (alice, bob) = (viewer(), viewer());
        let ctx = RequestContext::default();
        for _ in 0..50 {
            assert!(
                require_audited(&log, &alice, Permission::WriteRecords, &ctx)
                    .await
                    .is_err()
            );
        }
        assert!(
            require_audited(&log, &bob, Permission::WriteRecords, &ctx)
                .await
                .is_err()
        );
        assert!(
            require_audited(&log, &alice, Permission::ManageMembers, &ctx)
                .await
                .is_err()
        );
        // Other events pass straight through.
        let other = PendingEvent::new(
            &alice,
            AuditAction::known("test.other"),
            "thing",
            "1",
            crate::Changes::new(),
            &ctx,
        );
        for _ in 0..2 {
            assert!(log.append(&alice, other.clone()).await.is_ok());
        }
        assert_eq!(
            recorded.all().len(),
            5,
            "one first denial per user and permission"
        );
        assert_eq!(
            log.flush(false).await.unwrap_or_default(),
            0,
            "the window is open"
        );
        clock.advance(Duration::minutes(1));
        assert_eq!(log.flush(false).await.unwrap_or_default(), 1);
        let all = recorded.all();
        let summary = &all[5];
        assert_eq!(summary.action, AuditAction::AUTH_PERMISSION_DENIED);
        assert_eq!(summary.changes["repeated"], 49);
        assert_eq!(summary.changes["first_seq"], 1);
        assert_eq!(summary.changes["permission"], all[0].changes["permission"]);
        // A denial after the window starts a new one.
        assert!(
            require_audited(&log, &alice, Permission::WriteRecords, &ctx)
                .await
                .is_err()
        );
        assert_eq!(recorded.all().len(), 7);
        assert_eq!(
            log.flush(true).await.unwrap_or_default(),
            0,
            "no repeats, no summary"
        );
    }
}
