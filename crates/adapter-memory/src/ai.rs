//! The AI assistant's ports (`aura_ai_port::ports`): stored suggestions and the
//! per-tenant usage counter. Same rules as the other tables: keyed by tenant first,
//! every write checks before it changes and seals its audit event under the same lock.

use std::collections::{BTreeMap, HashMap};

use aura_ai_port::{AiUsage, Suggestion, SuggestionQuery, SuggestionRepository, UsageLimits};
use aura_audit::PendingEvent;
use aura_shared_kernel::{Conflict, Page, StoreError, TenantId, TenantScope, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{MemoryStore, registers::check_version, state::in_scope};

#[derive(Default)]
pub(crate) struct Tables {
    pub suggestions: BTreeMap<(TenantId, Uuid), Suggestion>,
    /// Per tenant (user `None`) and per user of a tenant: the current window's start and
    /// the uses counted in it.
    pub usage: HashMap<(TenantId, Option<UserId>), (OffsetDateTime, u32)>,
}

#[async_trait::async_trait]
impl SuggestionRepository for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_new_row(tenant, suggestion.tenant_id)?;
            let key = (tenant, suggestion.id);
            if tx.state.ai.suggestions.contains_key(&key) {
                return Err(StoreError::Conflict(Conflict::IdTaken("suggestion")));
            }
            tx.state.ai.suggestions.insert(key, suggestion.clone());
            Ok(())
        })
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Suggestion, StoreError> {
        self.lock()?
            .ai
            .suggestions
            .get(&(scope.tenant_id(), id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &SuggestionQuery,
    ) -> Result<Page<Suggestion>, StoreError> {
        let state = self.lock()?;
        let tenant = scope.tenant_id();
        let items: Vec<Suggestion> = state
            .ai
            .suggestions
            .range((tenant, Uuid::nil())..=(tenant, Uuid::max()))
            .rev()
            .map(|(_, s)| s)
            .filter(|s| query.after.is_none_or(|after| s.id < after))
            .filter(|s| query.matches(s))
            .take(query.limit.saturating_add(1))
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, query.limit, |s| s.id))
    }

    async fn decide(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            in_scope(tenant, suggestion.tenant_id)?;
            let row = tx
                .state
                .ai
                .suggestions
                .get_mut(&(tenant, suggestion.id))
                .ok_or(StoreError::NotFound)?;
            check_version(row.version, expected_version)?;
            // Only the decision changes; content and provenance stay as generated.
            row.status = suggestion.status;
            row.decided_by = suggestion.decided_by;
            row.decided_at = suggestion.decided_at;
            row.version = suggestion.version;
            Ok(())
        })
    }
}

#[async_trait::async_trait]
impl AiUsage for MemoryStore {
    async fn try_acquire(
        &self,
        scope: &TenantScope,
        window_start: OffsetDateTime,
        limits: UsageLimits,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        let tenant = scope.tenant_id();
        let user = scope.user_id().filter(|_| limits.user < limits.tenant);
        let counters = [(None, limits.tenant)]
            .into_iter()
            .chain(user.map(|user| (Some(user), limits.user)));
        // Both checked before either is counted (one lock: nothing else runs between).
        let mut counted = Vec::new();
        for (who, limit) in counters {
            let entry = state
                .ai
                .usage
                .entry((tenant, who))
                .or_insert((window_start, 0));
            if entry.0 != window_start {
                // Like the PostgreSQL counter: another window starts afresh.
                *entry = (window_start, 0);
            }
            if entry.1 >= limit {
                return Ok(false);
            }
            counted.push((tenant, who));
        }
        for key in counted {
            if let Some(entry) = state.ai.usage.get_mut(&key) {
                entry.1 += 1;
            }
        }
        Ok(true)
    }
}
