//! The assistant's use cases: permission, the tenant's switch and rate limit, retrieval
//! inside the tenant, the provider call, and suggestions that change records only when a
//! user accepts them.

use std::{collections::HashSet, sync::Arc};

use aura_audit::{
    Actor, AuditAction, AuditLog, Changes, PendingEvent, RequestContext, require_audited,
};
use aura_breaches::{Breaches, defaults::present};
use aura_dpias::Dpias;
use aura_gdpr_registers::{
    ActivityFields, ActivityFilter, ActivityId, ActivityStatus, OrganisationProfile, Policy,
    PolicyFields, PolicyFilter, PolicyKind, PolicyStatus, PolicyVersion, ProcessingActivity,
    ProcessorFilter, ProcessorId, RegisterPorts, Registers, Source, activity_gaps,
    ports::{ActivityQuery, PolicyQuery, ProcessorQuery},
    text::{TextRule, text},
};
use aura_records::{Id, RecordUseCases, UseCaseError};
use aura_shared_kernel::{
    Clock, Page, Permission, StoreError, Tenant, TenantScope, ValidationErrors,
};
use time::{Duration, OffsetDateTime, Time};
use uuid::Uuid;

use crate::{
    context::{
        keywords, record_of_activity, record_of_organisation, record_of_policy, record_of_processor,
    },
    dpia::DpiaContent,
    error::{AiError, AssistantError},
    model::{
        ActivityDraft, ActivitySuggestionRequest, Answer, Citation, ContextKind, ContextRecord,
        Generated, PolicyDraft, PolicyDraftRequest, Provenance, QuestionRequest,
    },
    ports::{AiProvider, AiUsage, SuggestionQuery, SuggestionRepository, UsageLimits},
    suggestion::{
        Accepted, Applied, Suggestion, SuggestionContent, SuggestionKind, SuggestionStatus,
    },
};

/// The entity type of suggestions in audit events.
pub mod entity {
    pub const SUGGESTION: &str = "ai_suggestion";
}

/// The tenant setting that switches the assistant off (`false`).
pub const SETTING_ENABLED: &str = "ai_enabled";
/// The tenant setting that lowers the hourly limit below the installation's.
pub const SETTING_RATE_LIMIT: &str = "ai_rate_limit_per_hour";

#[derive(Clone)]
pub struct AiPorts {
    pub provider: Arc<dyn AiProvider>,
    pub suggestions: Arc<dyn SuggestionRepository>,
    pub usage: Arc<dyn AiUsage>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

/// Limits of the installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiConfig {
    /// Requests to the provider per tenant and clock hour. A tenant may set a lower
    /// `ai_rate_limit_per_hour`, never a higher one.
    pub rate_limit_per_hour: u32,
    /// Most records given to a provider as context.
    pub max_context_records: usize,
    /// The share (percent) of the tenant's hourly limit one user may use.
    pub user_share_percent: u8,
}

impl Default for AiConfig {
    fn default() -> Self {
        Self {
            rate_limit_per_hour: 60,
            max_context_records: 40,
            user_share_percent: 100,
        }
    }
}

/// What to draft: a policy of `kind`, titled `title` (default: the kind's name), or a new
/// text for the existing policy `policy_id` (its kind and title then apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDraftInput {
    pub kind: Option<PolicyKind>,
    pub title: Option<String>,
    pub policy_id: Option<Uuid>,
}

#[derive(Clone)]
pub struct AiAssistant {
    pub(crate) ports: AiPorts,
    pub(crate) registers: RegisterPorts,
    use_cases: Registers,
    pub(crate) config: AiConfig,
    /// The breach register's use cases (`crate::breach`), where wired.
    pub(crate) breaches: Option<RecordUseCases<Breaches>>,
    /// The DPIA register's use cases (`crate::dpia`), where wired.
    pub(crate) dpias: Option<RecordUseCases<Dpias>>,
}

fn default_title(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::PrivacyPolicy => "Privacy policy",
        PolicyKind::DataProtectionPolicy => "Data protection policy",
        PolicyKind::RetentionPolicy => "Retention policy",
        PolicyKind::BreachResponsePlan => "Personal data breach response plan",
        PolicyKind::Other => "Policy",
    }
}

/// Trimmed text of `min..=max` characters (line breaks allowed), named `field`: the
/// registers' text rule with a lower bound.
fn input_text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, ValidationErrors> {
    if raw.trim().chars().count() < min {
        return Err(ValidationErrors::single(
            field,
            format!("must be at least {min} characters"),
        ));
    }
    text(field, raw, TextRule::block(max))
}

/// The start of the clock hour `now` is in.
fn window_start(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_time(Time::from_hms(now.hour(), 0, 0).unwrap_or(Time::MIDNIGHT))
}

/// Collects context records once each, up to a cap.
pub(crate) struct Collected {
    pub(crate) records: Vec<ContextRecord>,
    seen: HashSet<Uuid>,
    cap: usize,
}

impl Collected {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            records: Vec::new(),
            seen: HashSet::new(),
            cap,
        }
    }

    fn full(&self) -> bool {
        self.records.len() >= self.cap
    }

    pub(crate) fn push(&mut self, record: ContextRecord) {
        if !self.full() && self.seen.insert(record.id) {
            self.records.push(record);
        }
    }
}

impl AiAssistant {
    pub fn new(ports: AiPorts, registers: RegisterPorts, config: AiConfig) -> Self {
        Self {
            use_cases: Registers::new(registers.clone()),
            ports,
            registers,
            config,
            breaches: None,
            dpias: None,
        }
    }

    /// The assistant with the breach register's use cases: it may then suggest a
    /// breach's consequences and measures, and write an accepted suggestion through them.
    pub fn with_breaches(self, breaches: RecordUseCases<Breaches>) -> Self {
        Self {
            breaches: Some(breaches),
            ..self
        }
    }

    /// The assistant with the DPIA register's use cases: it may then draft a DPIA's
    /// Art. 35(7) content, and write an accepted draft through them.
    pub fn with_dpias(self, dpias: RecordUseCases<Dpias>) -> Self {
        Self {
            dpias: Some(dpias),
            ..self
        }
    }

    async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), AssistantError> {
        Ok(require_audited(self.ports.audit.as_ref(), scope, permission, ctx).await?)
    }

    /// The tenant's switch. `tenant` is the caller's tenant as re-read for this request.
    fn check_enabled(scope: &TenantScope, tenant: &Tenant) -> Result<(), AssistantError> {
        if tenant.id != scope.tenant_id() {
            return Err(UseCaseError::NotFound.into());
        }
        match tenant.settings.as_map().get(SETTING_ENABLED) {
            Some(serde_json::Value::Bool(false)) => Err(AssistantError::Disabled),
            _ => Ok(()),
        }
    }

    /// The tenant's hourly limit: the installation's, or the tenant's own if lower.
    pub fn hourly_limit(&self, tenant: &Tenant) -> u32 {
        let own = tenant
            .settings
            .as_map()
            .get(SETTING_RATE_LIMIT)
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
        own.map_or(self.config.rate_limit_per_hour, |n| {
            n.min(self.config.rate_limit_per_hour)
        })
    }

    /// Counts the request against the tenant's hourly limit and its user's share of it
    /// (rounded up: a user may always make one request of a tenant with any).
    async fn admit(&self, scope: &TenantScope, tenant: &Tenant) -> Result<(), AssistantError> {
        let now = self.ports.clock.now();
        let start = window_start(now);
        let limit = self.hourly_limit(tenant);
        let share = u64::from(self.config.user_share_percent.clamp(1, 100));
        let limits = UsageLimits {
            tenant: limit,
            user: u32::try_from((u64::from(limit) * share).div_ceil(100)).unwrap_or(limit),
        };
        if limit > 0 && self.ports.usage.try_acquire(scope, start, limits).await? {
            return Ok(());
        }
        let retry_after_secs = (start + Duration::HOUR - now).whole_seconds().max(1);
        Err(AssistantError::RateLimited { retry_after_secs })
    }

    /// The gate of every generation, in this order: the permission, the tenant's switch,
    /// the input (`input`, so that invalid input costs no request), the hourly limit.
    pub(crate) async fn admitted<T>(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        input: impl Future<Output = Result<T, AssistantError>>,
        ctx: &RequestContext,
    ) -> Result<T, AssistantError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        Self::check_enabled(scope, tenant)?;
        let input = input.await?;
        self.admit(scope, tenant).await?;
        Ok(input)
    }

    // ------------------------------------------------------------ retrieval

    /// The context of a text (a description, a question), up to `cap` records: the
    /// organisation, then the records whose names contain one of the text's keywords.
    async fn context_for(
        &self,
        scope: &TenantScope,
        text: &str,
        cap: usize,
    ) -> Result<(Collected, Option<OrganisationProfile>), AssistantError> {
        let mut context = Collected::new(cap);
        let organisation = self.organisation(scope, &mut context).await?;
        let words = keywords(text, 6);
        self.matching(scope, &words, organisation.as_ref(), &mut context)
            .await?;
        Ok((context, organisation))
    }

    pub(crate) async fn organisation(
        &self,
        scope: &TenantScope,
        into: &mut Collected,
    ) -> Result<Option<OrganisationProfile>, AssistantError> {
        let profile = self
            .registers
            .organisation
            .get(scope)
            .await?
            .map(|stored| stored.profile);
        if let Some(profile) = &profile {
            into.push(record_of_organisation(scope.tenant_id(), profile));
        }
        Ok(profile)
    }

    /// The activities `ids` that are the tenant's (with what their records lack), as
    /// context; returns them.
    pub(crate) async fn activities(
        &self,
        scope: &TenantScope,
        ids: &[ActivityId],
        profile: Option<&OrganisationProfile>,
        into: &mut Collected,
    ) -> Result<Vec<ProcessingActivity>, AssistantError> {
        let activities = present(self.registers.activities.as_ref(), scope, ids).await?;
        for activity in &activities {
            into.push(record_of_activity(
                activity,
                &activity_gaps(&activity.fields, profile),
            ));
        }
        Ok(activities)
    }

    /// The processors `ids` that are the tenant's, as context.
    pub(crate) async fn processors(
        &self,
        scope: &TenantScope,
        ids: &[ProcessorId],
        into: &mut Collected,
    ) -> Result<(), AssistantError> {
        for processor in present(self.registers.processors.as_ref(), scope, ids).await? {
            into.push(record_of_processor(&processor));
        }
        Ok(())
    }

    /// Activities, processors and policies whose names contain one of `words`.
    async fn matching(
        &self,
        scope: &TenantScope,
        words: &[String],
        profile: Option<&OrganisationProfile>,
        into: &mut Collected,
    ) -> Result<(), AssistantError> {
        for word in words {
            if into.full() {
                break;
            }
            let activities = self
                .registers
                .activities
                .list(
                    scope,
                    &ActivityQuery {
                        filter: ActivityFilter {
                            search: Some(word.clone()),
                            ..ActivityFilter::default()
                        },
                        limit: 5,
                        ..ActivityQuery::default()
                    },
                )
                .await?;
            for a in &activities.items {
                into.push(record_of_activity(a, &activity_gaps(&a.fields, profile)));
            }
            let processors = self
                .registers
                .processors
                .list(
                    scope,
                    &ProcessorQuery {
                        filter: ProcessorFilter {
                            search: Some(word.clone()),
                            ..ProcessorFilter::default()
                        },
                        limit: 5,
                        ..ProcessorQuery::default()
                    },
                )
                .await?;
            for p in &processors.items {
                into.push(record_of_processor(p));
            }
            let policies = self
                .registers
                .policies
                .list(
                    scope,
                    &PolicyQuery {
                        filter: PolicyFilter {
                            search: Some(word.clone()),
                            ..PolicyFilter::default()
                        },
                        limit: 5,
                        ..PolicyQuery::default()
                    },
                )
                .await?;
            for p in &policies.items {
                into.push(record_of_policy(p));
            }
        }
        Ok(())
    }

    /// The rest of the register, oldest first, until the cap.
    async fn everything(
        &self,
        scope: &TenantScope,
        profile: Option<&OrganisationProfile>,
        into: &mut Collected,
    ) -> Result<(), AssistantError> {
        for a in self.registers.activities.all(scope).await? {
            if into.full() {
                return Ok(());
            }
            into.push(record_of_activity(&a, &activity_gaps(&a.fields, profile)));
        }
        for p in self.registers.processors.all(scope).await? {
            if into.full() {
                return Ok(());
            }
            into.push(record_of_processor(&p));
        }
        let policies = self
            .registers
            .policies
            .list(
                scope,
                &PolicyQuery {
                    limit: self.config.max_context_records,
                    ..PolicyQuery::default()
                },
            )
            .await?;
        for p in &policies.items {
            into.push(record_of_policy(p));
        }
        Ok(())
    }

    // ------------------------------------------------------------ generation

    /// Keeps the citations that name a context record, once each, in context order.
    fn citations(context: &[ContextRecord], cited: &[Uuid]) -> Vec<Citation> {
        context
            .iter()
            .filter(|r| cited.contains(&r.id))
            .map(Citation::from)
            .collect()
    }

    /// The provenance as stored: the provider's, with the record ids of the context
    /// actually given (never more, never fewer).
    fn provenance(mut provenance: Provenance, context: &[ContextRecord]) -> Provenance {
        provenance.record_ids = context.iter().map(|r| r.id).collect();
        provenance
    }

    /// Audits a failed provider call (no prompt, no answer) and hands the error on.
    async fn failed(
        &self,
        scope: &TenantScope,
        kind: &str,
        error: AiError,
        ctx: &RequestContext,
    ) -> AssistantError {
        let event = PendingEvent {
            actor: Actor::of(scope),
            action: crate::actions::REQUEST_FAILED,
            entity_type: entity::SUGGESTION.into(),
            entity_id: None,
            changes: Changes::new()
                .note("kind", kind)
                .note("provider", self.ports.provider.provider())
                .note("model", self.ports.provider.model())
                .note("error", error.code())
                .into_value(),
            personal: Default::default(),
            context: ctx.clone(),
        };
        if let Err(audit) = self.ports.audit.append(scope, event).await {
            tracing::warn!(error = %audit, "could not audit a failed AI request");
        }
        tracing::warn!(
            kind,
            error = error.code(),
            provider = self.ports.provider.provider(),
            "AI provider failed"
        );
        error.into()
    }

    /// Stores a new pending suggestion with its `ai.suggestion.created` event.
    async fn store(
        &self,
        scope: &TenantScope,
        content: SuggestionContent,
        citations: Vec<Citation>,
        provenance: Provenance,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let suggestion = Suggestion {
            id: Uuid::now_v7(),
            tenant_id: scope.tenant_id(),
            kind: content.kind(),
            status: SuggestionStatus::Pending,
            content,
            citations,
            provenance,
            created_by: scope.user_id(),
            created_at: self.ports.clock.now(),
            decided_by: None,
            decided_at: None,
            version: 1,
        };
        let p = &suggestion.provenance;
        let changes = Changes::new()
            .note("kind", suggestion.kind.as_str())
            .note("provider", &p.provider)
            .note("model", &p.model)
            .note("template_version", &p.template_version)
            .note("context_records", p.record_ids.len())
            .note("citations", suggestion.citations.len());
        let event = PendingEvent::new(
            scope,
            crate::actions::SUGGESTION_CREATED,
            entity::SUGGESTION,
            suggestion.id,
            changes,
            ctx,
        );
        self.ports
            .suggestions
            .insert(scope, &suggestion, event)
            .await?;
        Ok(suggestion)
    }

    /// A provider's answer turned into a stored suggestion: a failed call is audited;
    /// the output is checked into the content to store by `content` (which also gives
    /// the ids the output cites; its refusal is an invalid response, audited too); the
    /// citations are kept to the context; the pending suggestion is stored.
    pub(crate) async fn generation<T>(
        &self,
        scope: &TenantScope,
        kind: SuggestionKind,
        context: &[ContextRecord],
        generated: Result<Generated<T>, AiError>,
        content: impl FnOnce(T) -> Result<(SuggestionContent, Vec<Uuid>), AiError>,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let checked = generated.and_then(|g| Ok((content(g.output)?, g.provenance)));
        let ((content, cited), provenance) = match checked {
            Ok(checked) => checked,
            Err(error) => return Err(self.failed(scope, kind.as_str(), error, ctx).await),
        };
        let citations = Self::citations(context, &cited);
        let provenance = Self::provenance(provenance, context);
        self.store(scope, content, citations, provenance, ctx).await
    }

    /// What a draft is for: the named policy (whose kind and title apply), or the kind
    /// asked for with its title (default: the kind's name).
    async fn draft_target(
        &self,
        scope: &TenantScope,
        input: PolicyDraftInput,
    ) -> Result<(Option<Policy>, PolicyKind, String), AssistantError> {
        let mut errors = ValidationErrors::default();
        let title = input
            .title
            .as_deref()
            .and_then(|t| errors.collect(input_text("title", t, 1, 300)));
        let target = match input.policy_id {
            Some(id) => match self.registers.policies.get(scope, Id::from_uuid(id)).await {
                Ok(policy) => Some(policy),
                Err(StoreError::NotFound) => {
                    errors.push("policy_id", "is not a policy of this organisation");
                    None
                }
                Err(other) => return Err(other.into()),
            },
            None => None,
        };
        let kind = match (&target, input.kind) {
            (Some(policy), _) => policy.fields.kind,
            (None, Some(kind)) => kind,
            (None, None) => {
                errors.push("kind", "is required unless policy_id names a policy");
                PolicyKind::Other
            }
        };
        errors.into_result()?;
        let title = match (&target, title) {
            (Some(policy), _) => policy.fields.title.clone(),
            (None, Some(title)) => title,
            (None, None) => default_title(kind).to_owned(),
        };
        Ok((target, kind, title))
    }

    /// Drafts a policy from the organisation profile and a summary of the register.
    pub async fn draft_policy(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        input: PolicyDraftInput,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let (target, kind, title) = self
            .admitted(scope, tenant, self.draft_target(scope, input), ctx)
            .await?;
        let mut context = Collected::new(self.config.max_context_records);
        let organisation = self.organisation(scope, &mut context).await?;
        if let Some(policy) = &target {
            context.push(record_of_policy(policy));
        }
        self.everything(scope, organisation.as_ref(), &mut context)
            .await?;
        let request = PolicyDraftRequest {
            kind,
            title: title.clone(),
            language: tenant.settings.language().to_owned(),
            organisation,
            context: context.records,
        };
        let generated = self.ports.provider.draft_policy(&request).await;
        let content = |draft: PolicyDraft| {
            let text = PolicyVersion::validate_content(&draft.content).map_err(|_| {
                AiError::InvalidResponse("the policy text is empty or too long".into())
            })?;
            let content = SuggestionContent::PolicyDraft {
                policy_id: target.map(|p| p.id.as_uuid()),
                title,
                policy_kind: kind,
                text,
            };
            Ok((content, draft.citations))
        };
        let kind = SuggestionKind::PolicyDraft;
        self.generation(scope, kind, &request.context, generated, content, ctx)
            .await
    }

    /// Suggests the fields of a processing activity from a plain-language description.
    pub async fn suggest_activity(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        description: &str,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let input = async { Ok(input_text("description", description, 3, 2_000)?) };
        let description = self.admitted(scope, tenant, input, ctx).await?;
        let cap = self.config.max_context_records.min(15);
        let (context, organisation) = self.context_for(scope, &description, cap).await?;
        let request = ActivitySuggestionRequest {
            description: description.clone(),
            language: tenant.settings.language().to_owned(),
            organisation,
            context: context.records,
        };
        let generated = self.ports.provider.suggest_activity(&request).await;
        // What a suggestion may set: never an owner or links the context did not offer,
        // always a draft without a review date.
        let offered: Vec<Uuid> = request
            .context
            .iter()
            .filter(|r| r.kind == ContextKind::Processor)
            .map(|r| r.id)
            .collect();
        let content = |draft: ActivityDraft| {
            let mut fields = draft.fields;
            fields.owner_id = None;
            fields
                .processor_ids
                .retain(|id| offered.contains(&id.as_uuid()));
            fields.status = ActivityStatus::Draft;
            fields.review_date = None;
            let fields = fields.validated().map_err(|invalid| {
                AiError::InvalidResponse(format!("the suggested activity is invalid: {invalid}"))
            })?;
            let content = SuggestionContent::ActivitySuggestion {
                description,
                fields: Box::new(fields),
                rationale: draft.rationale.trim().chars().take(5_000).collect(),
            };
            Ok((content, draft.citations))
        };
        let kind = SuggestionKind::ActivitySuggestion;
        self.generation(scope, kind, &request.context, generated, content, ctx)
            .await
    }

    /// Answers a question about the tenant's own compliance state, citing its records.
    pub async fn ask(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        question: &str,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let input = async { Ok(input_text("question", question, 3, 1_000)?) };
        let question = self.admitted(scope, tenant, input, ctx).await?;
        let cap = self.config.max_context_records;
        let (mut context, organisation) = self.context_for(scope, &question, cap).await?;
        self.everything(scope, organisation.as_ref(), &mut context)
            .await?;
        let request = QuestionRequest {
            question: question.clone(),
            language: tenant.settings.language().to_owned(),
            organisation,
            context: context.records,
        };
        let generated = self.ports.provider.answer(&request).await;
        let content = |answer: Answer| {
            let text: String = answer.text.trim().chars().take(20_000).collect();
            if text.is_empty() {
                return Err(AiError::InvalidResponse("the answer is empty".into()));
            }
            Ok((
                SuggestionContent::Answer { question, text },
                answer.citations,
            ))
        };
        let kind = SuggestionKind::Answer;
        self.generation(scope, kind, &request.context, generated, content, ctx)
            .await
    }

    // ------------------------------------------------------------ reading

    pub async fn suggestions(
        &self,
        scope: &TenantScope,
        query: &SuggestionQuery,
        ctx: &RequestContext,
    ) -> Result<Page<Suggestion>, AssistantError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self.ports.suggestions.list(scope, query).await?)
    }

    pub async fn suggestion(
        &self,
        scope: &TenantScope,
        id: Uuid,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self.ports.suggestions.get(scope, id).await?)
    }

    // ------------------------------------------------------------ decisions

    /// The suggestion at `expected_version`, still pending.
    async fn pending(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
    ) -> Result<Suggestion, AssistantError> {
        let suggestion = self.ports.suggestions.get(scope, id).await?;
        if suggestion.version != expected_version {
            return Err(UseCaseError::StaleVersion.into());
        }
        if suggestion.status != SuggestionStatus::Pending {
            return Err(UseCaseError::Conflict {
                code: "already_decided",
                message: "this suggestion was already accepted, rejected or acknowledged",
            }
            .into());
        }
        Ok(suggestion)
    }

    /// Stores a new status with its event; returns the stored suggestion.
    async fn set_status(
        &self,
        scope: &TenantScope,
        before: &Suggestion,
        status: SuggestionStatus,
        action: AuditAction,
        changes: Changes,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let decided = status != SuggestionStatus::Pending;
        let after = Suggestion {
            status,
            decided_by: if decided { scope.user_id() } else { None },
            decided_at: decided.then(|| self.ports.clock.now()),
            version: before.version + 1,
            ..before.clone()
        };
        let changes = changes.field("status", &before.status, &after.status);
        let event = PendingEvent::new(scope, action, entity::SUGGESTION, before.id, changes, ctx);
        self.ports
            .suggestions
            .decide(scope, &after, before.version, event)
            .await?;
        Ok(after)
    }

    /// Dismisses a pending suggestion; nothing else changes.
    pub async fn reject(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let before = self.pending(scope, id, expected_version).await?;
        self.set_status(
            scope,
            &before,
            SuggestionStatus::Rejected,
            crate::actions::SUGGESTION_REJECTED,
            Changes::new(),
            ctx,
        )
        .await
    }

    /// Accepts a pending suggestion. A policy draft becomes a new draft version (of the
    /// named policy, or of a new draft policy); an activity suggestion becomes a new draft
    /// activity; a breach's consequences and measures are written into the breach (still
    /// at the version they were suggested for); an answer is only acknowledged. The
    /// change goes through the registers' use cases, whose audit events name the
    /// suggestion (`source`).
    ///
    /// The suggestion is marked accepted first (so a second accept, e.g. a double click,
    /// is refused rather than applied twice); if the change then fails, the suggestion is
    /// put back to pending (`ai.suggestion.accept_failed`) and the error returned.
    pub async fn accept(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Accepted, AssistantError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let before = self.pending(scope, id, expected_version).await?;
        if let SuggestionContent::Answer { .. } = before.content {
            let suggestion = self
                .set_status(
                    scope,
                    &before,
                    SuggestionStatus::Acknowledged,
                    crate::actions::SUGGESTION_ACKNOWLEDGED,
                    Changes::new(),
                    ctx,
                )
                .await?;
            return Ok(Accepted {
                suggestion,
                applied: None,
            });
        }
        // Checks that need no write come first, so most refusals change nothing.
        if let SuggestionContent::PolicyDraft {
            policy_id: Some(policy),
            ..
        } = &before.content
        {
            match self
                .registers
                .policies
                .get(scope, Id::from_uuid(*policy))
                .await
            {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(UseCaseError::Conflict {
                        code: "target_gone",
                        message: "the policy this draft was made for no longer exists; reject it or draft again",
                    }
                    .into());
                }
                Err(other) => return Err(other.into()),
            }
        }
        self.check_target(scope, &before.content, ctx).await?;
        let accepted = self
            .set_status(
                scope,
                &before,
                SuggestionStatus::Accepted,
                crate::actions::SUGGESTION_ACCEPTED,
                Changes::new(),
                ctx,
            )
            .await?;
        match self.apply(scope, &accepted, ctx).await {
            Ok(applied) => Ok(Accepted {
                suggestion: accepted,
                applied: Some(applied),
            }),
            Err(error) => {
                let reason = match &error {
                    AssistantError::UseCase(UseCaseError::Validation(_)) => "validation",
                    AssistantError::UseCase(UseCaseError::Conflict { code, .. }) => code,
                    _ => "error",
                };
                if let Err(undo) = self
                    .set_status(
                        scope,
                        &accepted,
                        SuggestionStatus::Pending,
                        crate::actions::SUGGESTION_ACCEPT_FAILED,
                        Changes::new().note("reason", reason),
                        ctx,
                    )
                    .await
                {
                    tracing::error!(suggestion = %accepted.id, error = %undo, "could not put a suggestion back to pending after a failed accept");
                }
                Err(error)
            }
        }
    }

    /// Makes the change an accepted suggestion stands for.
    async fn apply(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        ctx: &RequestContext,
    ) -> Result<Applied, AssistantError> {
        let source = Source {
            kind: entity::SUGGESTION,
            id: suggestion.id,
        };
        let note = format!(
            "Drafted with the AI assistant (suggestion {})",
            suggestion.id
        );
        match &suggestion.content {
            SuggestionContent::PolicyDraft {
                policy_id,
                title,
                policy_kind,
                text,
            } => {
                let (policy_id, policy_created) = match policy_id {
                    Some(id) => (Id::from_uuid(*id), false),
                    None => {
                        let fields = PolicyFields {
                            title: title.clone(),
                            kind: *policy_kind,
                            owner_id: None,
                            review_interval_months: None,
                            next_review_date: None,
                            status: PolicyStatus::Draft,
                        };
                        let policy = self
                            .use_cases
                            .policy_records()
                            .create(scope, fields, Some(&source), ctx)
                            .await?;
                        (policy.id, true)
                    }
                };
                let version = self
                    .use_cases
                    .create_version_from(scope, policy_id, text, Some(&note), Some(&source), ctx)
                    .await?;
                Ok(Applied::PolicyVersion {
                    policy_id: policy_id.as_uuid(),
                    number: version.number,
                    policy_created,
                })
            }
            SuggestionContent::ActivitySuggestion { fields, .. } => {
                let fields = ActivityFields {
                    status: ActivityStatus::Draft,
                    ..fields.as_ref().clone()
                };
                let created = self
                    .use_cases
                    .activity_records()
                    .create(scope, fields, Some(&source), ctx)
                    .await?;
                Ok(Applied::ProcessingActivity {
                    activity_id: created.id.as_uuid(),
                })
            }
            SuggestionContent::BreachMeasures {
                breach_id,
                breach_version,
                consequences,
                measures,
                ..
            } => {
                let target = (*breach_id, *breach_version);
                let texts = (consequences.as_str(), measures.as_str());
                self.apply_breach_measures(scope, target, texts, &source, ctx)
                    .await
            }
            SuggestionContent::DpiaDraft {
                dpia_id,
                dpia_version,
                description,
                necessity,
                risks,
                ..
            } => {
                let content = DpiaContent {
                    description,
                    necessity,
                    risks,
                };
                self.apply_dpia_draft(scope, (*dpia_id, *dpia_version), content, &source, ctx)
                    .await
            }
            SuggestionContent::Answer { .. } => Err(UseCaseError::Conflict {
                code: "not_applicable",
                message: "an answer changes no record",
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn windows_are_clock_hours() {
        assert_eq!(
            window_start(datetime!(2026-11-24 10:59:59.999 UTC)),
            datetime!(2026-11-24 10:00 UTC)
        );
    }

    #[test]
    fn inputs_are_bounded() {
        assert!(input_text("q", "  ab ", 3, 10).is_err());
        assert_eq!(
            input_text("q", " abc\n", 3, 10).ok(),
            Some("abc".to_owned())
        );
        assert!(input_text("q", &"x".repeat(11), 3, 10).is_err());
        assert!(input_text("q", "ab\u{0}c", 3, 10).is_err());
    }
}
