//! The assistant's ports: the provider (an LLM or the offline rules), the store of
//! suggestions, and the per-tenant usage counter behind the rate limit.

use aura_audit::PendingEvent;
use aura_shared_kernel::{Page, StoreError, TenantScope};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    breach::BreachMeasuresDraft,
    dpia::DpiaContentDraft,
    error::AiError,
    model::{
        ActivityDraft, ActivitySuggestionRequest, Answer, Generated, PolicyDraft,
        PolicyDraftRequest, QuestionRequest,
    },
    suggestion::{Suggestion, SuggestionKind, SuggestionStatus},
    target::TargetRequest,
};

/// Generates drafts, suggestions and answers from the context it is given, and nothing
/// else: a provider never reads storage. Every output carries its provenance, and its
/// citations name records of the request's context only.
#[async_trait::async_trait]
pub trait AiProvider: Send + Sync {
    /// The name in provenance (`offline`, `openai`).
    fn provider(&self) -> &str;
    /// The model in provenance.
    fn model(&self) -> &str;
    async fn draft_policy(
        &self,
        request: &PolicyDraftRequest,
    ) -> Result<Generated<PolicyDraft>, AiError>;
    async fn suggest_activity(
        &self,
        request: &ActivitySuggestionRequest,
    ) -> Result<Generated<ActivityDraft>, AiError>;
    async fn answer(&self, request: &QuestionRequest) -> Result<Generated<Answer>, AiError>;
    async fn suggest_breach_measures(
        &self,
        request: &TargetRequest,
    ) -> Result<Generated<BreachMeasuresDraft>, AiError>;
    async fn draft_dpia(
        &self,
        request: &TargetRequest,
    ) -> Result<Generated<DpiaContentDraft>, AiError>;
}

/// Filters of the suggestion list (newest first); `after` continues below that id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuggestionQuery {
    pub status: Option<SuggestionStatus>,
    pub kind: Option<SuggestionKind>,
    pub after: Option<Uuid>,
    pub limit: usize,
}

impl SuggestionQuery {
    /// Whether a suggestion passes the filters (not the cursor).
    pub fn matches(&self, suggestion: &Suggestion) -> bool {
        self.status.is_none_or(|s| suggestion.status == s)
            && self.kind.is_none_or(|k| suggestion.kind == k)
    }
}

/// Stored suggestions. Every write takes its audit event and commits with it; another
/// tenant's suggestion is `NotFound`.
#[async_trait::async_trait]
pub trait SuggestionRepository: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Suggestion, StoreError>;
    /// Newest first (by id, which is time-ordered), at most `query.limit` items.
    async fn list(
        &self,
        scope: &TenantScope,
        query: &SuggestionQuery,
    ) -> Result<Page<Suggestion>, StoreError>;
    /// Stores the decision of `suggestion` (status, decided_by, decided_at and its
    /// incremented `version`) if the row is at `expected_version`
    /// (`Conflict::Version` otherwise). Content and provenance never change.
    async fn decide(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// What one window allows: the tenant's uses, and the share of them one user may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageLimits {
    pub tenant: u32,
    pub user: u32,
}

/// The usage counter behind the rate limit, per tenant and per user, shared by every
/// instance.
#[async_trait::async_trait]
pub trait AiUsage: Send + Sync {
    /// Counts one use in the scope's window that starts at `window_start` for the tenant
    /// and for the scope's user, unless the tenant had `limits.tenant` uses there or the
    /// user `limits.user` (a scope without a user, or a user limit not below the
    /// tenant's, counts the tenant only); returns whether it was counted. A refused use
    /// counts for neither. Concurrent calls never count past either limit. Earlier
    /// windows may be forgotten.
    async fn try_acquire(
        &self,
        scope: &TenantScope,
        window_start: OffsetDateTime,
        limits: UsageLimits,
    ) -> Result<bool, StoreError>;
}
