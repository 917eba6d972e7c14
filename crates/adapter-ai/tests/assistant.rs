//! The assistant's use cases on the memory store with the offline provider: suggestions
//! are stored, become changes only when accepted (with audit events naming them), stay
//! inside their tenant, and respect the tenant's switch and rate limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aura_adapter_ai::OfflineAssistant;
use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_ai_port::{
    ActivityDraft, ActivitySuggestionRequest, AiAssistant, AiConfig, AiError, AiProvider, Answer,
    Applied, AssistantError, BreachMeasuresDraft, Generated, PolicyDraft, PolicyDraftInput,
    PolicyDraftRequest, Provenance, QuestionRequest, Suggestion, SuggestionContent, SuggestionKind,
    SuggestionQuery, SuggestionStatus, TargetRequest,
};
use aura_audit::{AuditRecord, RequestContext};
use aura_gdpr_registers::{
    ActivityFields, PolicyFields, PolicyKind, PolicyStatus, RegisterPorts, Registers,
};
use aura_port_contracts::{
    RegisterStores, Stores,
    fixtures::{TenantFixture, add_user, register_tenant},
    registers::activity_fields,
};
use aura_records::{Id, UseCaseError};
use aura_shared_kernel::{Clock, Role, SystemClock, Tenant, TenantScope, TenantSettings, UserId};
use serde_json::json;
use uuid::Uuid;

mod common;

use common::{AllMembers, ai_ports};

struct World {
    store: MemoryStore,
    stores: Stores,
    registers: Registers,
    register_ports: RegisterPorts,
    clock: Arc<dyn Clock>,
}

impl World {
    fn new() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
        let stores = RegisterStores::from_single(store.clone(), clock.clone());
        let register_ports = stores.ports(Arc::new(AllMembers));
        Self {
            stores: stores.identity,
            registers: Registers::new(register_ports.clone()),
            register_ports,
            store,
            clock,
        }
    }

    fn assistant_with(&self, provider: Arc<dyn AiProvider>, limit: u32) -> AiAssistant {
        AiAssistant::new(
            ai_ports(&self.store, self.clock.clone(), provider),
            self.register_ports.clone(),
            AiConfig {
                rate_limit_per_hour: limit,
                ..AiConfig::default()
            },
        )
    }

    /// The assistant on a [`Stub`] provider that fails with `fail`, or cites `extra`.
    fn stubbed(&self, fail: Option<AiError>, extra: Uuid) -> AiAssistant {
        let stub = Stub {
            fail,
            extra_citation: extra,
            seen: Mutex::new(Vec::new()),
        };
        self.assistant_with(Arc::new(stub), 100)
    }

    fn assistant(&self) -> AiAssistant {
        self.assistant_with(Arc::new(OfflineAssistant::new(self.clock.clone())), 100)
    }

    async fn tenant(&self) -> TenantFixture {
        register_tenant(&self.stores).await
    }

    async fn events(&self, scope: &TenantScope, action: &str) -> Vec<AuditRecord> {
        self.stores.events(scope, action).await
    }
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

/// The suggestions `scope` sees.
async fn listed(ai: &AiAssistant, scope: &TenantScope) -> Vec<Suggestion> {
    let query = SuggestionQuery {
        limit: 100,
        ..Default::default()
    };
    ai.suggestions(scope, &query, &ctx()).await.unwrap().items
}

fn draft(kind: PolicyKind) -> PolicyDraftInput {
    PolicyDraftInput {
        kind: Some(kind),
        title: None,
        policy_id: None,
    }
}

async fn add_activity(world: &World, fx: &TenantFixture, name: &str) -> Uuid {
    world
        .registers
        .activity_records()
        .create(&fx.scope, activity_fields(name, None, &[]), None, &ctx())
        .await
        .unwrap()
        .id
        .as_uuid()
}

/// A tenant whose register holds a `Payroll` activity, and the offline assistant.
async fn with_payroll() -> (World, TenantFixture, AiAssistant) {
    let world = World::new();
    let fx = world.tenant().await;
    add_activity(&world, &fx, "Payroll").await;
    let ai = world.assistant();
    (world, fx, ai)
}

#[tokio::test]
async fn an_accepted_draft_becomes_a_new_policy_with_its_first_draft_version() {
    let (world, fx, ai) = with_payroll().await;
    let suggestion = ai
        .draft_policy(
            &fx.scope,
            &fx.tenant,
            draft(PolicyKind::PrivacyPolicy),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(suggestion.status, SuggestionStatus::Pending);
    assert_eq!(suggestion.provenance.provider, "offline");
    assert!(!suggestion.citations.is_empty());
    // Nothing changed in the register yet.
    let policies = world
        .register_ports
        .policies
        .list(
            &fx.scope,
            &aura_gdpr_registers::ports::PolicyQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(policies.items.is_empty(), "a suggestion is not a change");

    let accepted = ai
        .accept(&fx.scope, suggestion.id, 1, &ctx())
        .await
        .unwrap();
    assert_eq!(accepted.suggestion.status, SuggestionStatus::Accepted);
    assert_eq!(accepted.suggestion.version, 2);
    let Some(Applied::PolicyVersion {
        policy_id,
        number,
        policy_created,
    }) = accepted.applied
    else {
        panic!("a policy version: {:?}", accepted.applied);
    };
    assert!(policy_created);
    assert_eq!(number, 1);
    let version = world
        .registers
        .version(&fx.scope, Id::from_uuid(policy_id), 1, &ctx())
        .await
        .unwrap();
    let SuggestionContent::PolicyDraft { text, .. } = &suggestion.content else {
        panic!()
    };
    assert_eq!(&version.content, text);
    assert_eq!(version.status, aura_gdpr_registers::VersionStatus::Draft);
    let policy = world
        .registers
        .policy_records()
        .get(&fx.scope, Id::from_uuid(policy_id), &ctx())
        .await
        .unwrap();
    assert_eq!(policy.fields.status, PolicyStatus::Draft);

    // The audit trail: created, accepted, and the register events naming the suggestion.
    let source = json!({"kind": "ai_suggestion", "id": suggestion.id});
    assert_eq!(
        world.events(&fx.scope, "ai.suggestion.created").await.len(),
        1
    );
    assert_eq!(
        world
            .events(&fx.scope, "ai.suggestion.accepted")
            .await
            .len(),
        1
    );
    for action in ["policy.created", "policy_version.created"] {
        let events = world.events(&fx.scope, action).await;
        assert_eq!(events.len(), 1, "{action}");
        assert_eq!(
            events[0].changes["source"], source,
            "{action} names the suggestion"
        );
    }
    // The created event names provider and template, never the text.
    let created = &world.events(&fx.scope, "ai.suggestion.created").await[0];
    assert_eq!(created.changes["provider"], "offline");
    assert!(
        created.changes["template_version"]
            .as_str()
            .unwrap()
            .contains('@')
    );
    assert!(!created.changes.to_string().contains("Who we are"));
}

#[tokio::test]
async fn a_draft_for_an_existing_policy_adds_a_draft_version() {
    let world = World::new();
    let fx = world.tenant().await;
    let policy = world
        .registers
        .policy_records()
        .create(
            &fx.scope,
            PolicyFields {
                title: "Retention".into(),
                kind: PolicyKind::RetentionPolicy,
                owner_id: None,
                review_interval_months: None,
                next_review_date: None,
                status: PolicyStatus::Draft,
            },
            None,
            &ctx(),
        )
        .await
        .unwrap();
    world
        .registers
        .create_version(&fx.scope, policy.id, "old text", None, &ctx())
        .await
        .unwrap();
    let ai = world.assistant();
    let suggestion = ai
        .draft_policy(
            &fx.scope,
            &fx.tenant,
            PolicyDraftInput {
                kind: None,
                title: None,
                policy_id: Some(policy.id.as_uuid()),
            },
            &ctx(),
        )
        .await
        .unwrap();
    let SuggestionContent::PolicyDraft {
        policy_kind, title, ..
    } = &suggestion.content
    else {
        panic!()
    };
    assert_eq!(*policy_kind, PolicyKind::RetentionPolicy);
    assert_eq!(title, "Retention");
    let accepted = ai
        .accept(&fx.scope, suggestion.id, 1, &ctx())
        .await
        .unwrap();
    assert_eq!(
        accepted.applied,
        Some(Applied::PolicyVersion {
            policy_id: policy.id.as_uuid(),
            number: 2,
            policy_created: false
        })
    );
    let version = world
        .registers
        .version(&fx.scope, policy.id, 2, &ctx())
        .await
        .unwrap();
    assert!(
        version
            .change_note
            .unwrap()
            .contains(&suggestion.id.to_string())
    );

    // A policy of another tenant (or none) cannot be named.
    let error = ai
        .draft_policy(
            &fx.scope,
            &fx.tenant,
            PolicyDraftInput {
                kind: None,
                title: None,
                policy_id: Some(Uuid::now_v7()),
            },
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, AssistantError::UseCase(UseCaseError::Validation(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_accepted_activity_suggestion_creates_a_draft_activity() {
    let world = World::new();
    let fx = world.tenant().await;
    let ai = world.assistant();
    let suggestion = ai
        .suggest_activity(
            &fx.scope,
            &fx.tenant,
            "We send a monthly newsletter to subscribers",
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(suggestion.kind, SuggestionKind::ActivitySuggestion);
    let accepted = ai
        .accept(&fx.scope, suggestion.id, 1, &ctx())
        .await
        .unwrap();
    let Some(Applied::ProcessingActivity { activity_id }) = accepted.applied else {
        panic!()
    };
    let activity = world
        .registers
        .activity_records()
        .get(&fx.scope, aura_records::Id::from_uuid(activity_id), &ctx())
        .await
        .unwrap();
    assert_eq!(activity.fields.name, "Newsletter");
    assert_eq!(
        activity.fields.status,
        aura_gdpr_registers::ActivityStatus::Draft
    );
    let events = world.events(&fx.scope, "processing_activity.created").await;
    assert_eq!(events[0].changes["source"]["id"], json!(suggestion.id));
}

#[tokio::test]
async fn answers_are_acknowledged_or_rejected_and_change_nothing() {
    let (world, fx, ai) = with_payroll().await;
    let answer = ai
        .ask(
            &fx.scope,
            &fx.tenant,
            "Which activities have missing items?",
            &ctx(),
        )
        .await
        .unwrap();
    let acknowledged = ai.accept(&fx.scope, answer.id, 1, &ctx()).await.unwrap();
    assert_eq!(
        acknowledged.suggestion.status,
        SuggestionStatus::Acknowledged
    );
    assert_eq!(acknowledged.applied, None);
    assert_eq!(
        world
            .events(&fx.scope, "ai.suggestion.acknowledged")
            .await
            .len(),
        1
    );

    let other = ai
        .ask(&fx.scope, &fx.tenant, "Who is our DPO?", &ctx())
        .await
        .unwrap();
    let rejected = ai.reject(&fx.scope, other.id, 1, &ctx()).await.unwrap();
    assert_eq!(rejected.status, SuggestionStatus::Rejected);
    assert!(rejected.decided_by.is_some() && rejected.decided_at.is_some());
    assert_eq!(
        world
            .events(&fx.scope, "ai.suggestion.rejected")
            .await
            .len(),
        1
    );

    // Decided is decided; a stale version is refused.
    let again = ai.accept(&fx.scope, other.id, 2, &ctx()).await.unwrap_err();
    assert!(
        matches!(
            again,
            AssistantError::UseCase(UseCaseError::Conflict {
                code: "already_decided",
                ..
            })
        ),
        "{again:?}"
    );
    let third = ai
        .ask(&fx.scope, &fx.tenant, "What about consent?", &ctx())
        .await
        .unwrap();
    let stale = ai.reject(&fx.scope, third.id, 7, &ctx()).await.unwrap_err();
    assert!(
        matches!(stale, AssistantError::UseCase(UseCaseError::StaleVersion)),
        "{stale:?}"
    );
}

#[tokio::test]
async fn viewers_read_but_never_generate_or_decide() {
    let world = World::new();
    let fx = world.tenant().await;
    let viewer = add_user(&world.stores, &fx, Role::Viewer).await;
    let viewer_scope = fx.scope_of(&viewer);
    let ai = world.assistant();
    let suggestion = ai
        .ask(&fx.scope, &fx.tenant, "Who is our DPO?", &ctx())
        .await
        .unwrap();
    assert!(matches!(
        ai.ask(&viewer_scope, &fx.tenant, "Who is our DPO?", &ctx())
            .await,
        Err(AssistantError::UseCase(UseCaseError::Forbidden(_)))
    ));
    assert!(matches!(
        ai.reject(&viewer_scope, suggestion.id, 1, &ctx()).await,
        Err(AssistantError::UseCase(UseCaseError::Forbidden(_)))
    ));
    assert_eq!(listed(&ai, &viewer_scope).await.len(), 1);
    assert_eq!(
        world
            .events(&fx.scope, "auth.permission_denied")
            .await
            .len(),
        2
    );
}

fn with_settings(tenant: &Tenant, settings: serde_json::Value) -> Tenant {
    Tenant {
        settings: TenantSettings::parse(settings).unwrap(),
        ..tenant.clone()
    }
}

#[tokio::test]
async fn the_tenant_switch_and_the_rate_limit_hold() {
    let world = World::new();
    let fx = world.tenant().await;
    let ai = world.assistant_with(Arc::new(OfflineAssistant::new(world.clock.clone())), 2);
    let off = with_settings(&fx.tenant, json!({"ai_enabled": false}));
    assert!(matches!(
        ai.ask(&fx.scope, &off, "Who is our DPO?", &ctx()).await,
        Err(AssistantError::Disabled)
    ));
    // Two per hour, then 429 with the wait until the next hour.
    for _ in 0..2 {
        ai.ask(&fx.scope, &fx.tenant, "Who is our DPO?", &ctx())
            .await
            .unwrap();
    }
    match ai
        .ask(&fx.scope, &fx.tenant, "Who is our DPO?", &ctx())
        .await
    {
        Err(AssistantError::RateLimited { retry_after_secs }) => {
            assert!((1..=3600).contains(&retry_after_secs));
        }
        other => panic!("rate limited: {other:?}"),
    }
    // A tenant may lower the limit, never raise it.
    let other = world.tenant().await;
    let lower = with_settings(&other.tenant, json!({"ai_rate_limit_per_hour": 1}));
    let higher = with_settings(&other.tenant, json!({"ai_rate_limit_per_hour": 1000}));
    assert_eq!(ai.hourly_limit(&lower), 1);
    assert_eq!(ai.hourly_limit(&higher), 2);
    // Invalid input costs no request.
    assert!(matches!(
        ai.ask(&other.scope, &lower, "?", &ctx()).await,
        Err(AssistantError::UseCase(UseCaseError::Validation(_)))
    ));
    ai.ask(&other.scope, &lower, "Who is our DPO?", &ctx())
        .await
        .unwrap();
}

#[tokio::test]
async fn retrieval_and_citations_stay_in_the_tenant_even_with_colliding_titles() {
    let world = World::new();
    let a = world.tenant().await;
    let b = world.tenant().await;
    let a_payroll = add_activity(&world, &a, "Payroll").await;
    let b_payroll = add_activity(&world, &b, "Payroll").await;
    let b_other = add_activity(&world, &b, "Payroll archive").await;
    let ai = world.assistant();
    let mut suggestions = Vec::new();
    suggestions.push(
        ai.ask(&a.scope, &a.tenant, "What is missing for payroll?", &ctx())
            .await
            .unwrap(),
    );
    suggestions.push(
        ai.suggest_activity(&a.scope, &a.tenant, "Payroll for our staff", &ctx())
            .await
            .unwrap(),
    );
    suggestions.push(
        ai.draft_policy(
            &a.scope,
            &a.tenant,
            draft(PolicyKind::PrivacyPolicy),
            &ctx(),
        )
        .await
        .unwrap(),
    );
    for s in &suggestions {
        let cited: Vec<Uuid> = s.citations.iter().map(|c| c.id).collect();
        for foreign in [b_payroll, b_other] {
            assert!(
                !s.provenance.record_ids.contains(&foreign),
                "{:?}: B in A's context",
                s.kind
            );
            assert!(!cited.contains(&foreign), "{:?}: B cited for A", s.kind);
        }
        assert!(
            s.provenance.record_ids.contains(&a_payroll),
            "{:?}: A's own Payroll used",
            s.kind
        );
    }
    // B sees none of A's suggestions and cannot decide them.
    assert!(listed(&ai, &b.scope).await.is_empty());
    for s in &suggestions {
        assert!(matches!(
            ai.suggestion(&b.scope, s.id, &ctx()).await,
            Err(AssistantError::UseCase(UseCaseError::NotFound))
        ));
        assert!(matches!(
            ai.accept(&b.scope, s.id, 1, &ctx()).await,
            Err(AssistantError::UseCase(UseCaseError::NotFound))
        ));
        assert!(matches!(
            ai.reject(&b.scope, s.id, 1, &ctx()).await,
            Err(AssistantError::UseCase(UseCaseError::NotFound))
        ));
    }
    // A tenant object that is not the caller's is refused outright.
    assert!(matches!(
        ai.ask(&a.scope, &b.tenant, "Who is our DPO?", &ctx()).await,
        Err(AssistantError::UseCase(UseCaseError::NotFound))
    ));
}

/// A provider that fails, or answers citing ids it was never given.
struct Stub {
    fail: Option<AiError>,
    extra_citation: Uuid,
    seen: Mutex<Vec<Uuid>>,
}

impl Stub {
    /// `output`, made from `context` (noted as seen).
    fn made<T>(&self, context: &[aura_ai_port::ContextRecord], output: T) -> Generated<T> {
        self.seen
            .lock()
            .unwrap()
            .extend(context.iter().map(|r| r.id));
        let provenance = Provenance {
            provider: "stub".into(),
            model: "stub-1".into(),
            template_version: "stub@1".into(),
            record_ids: Vec::new(),
            generated_at: time::OffsetDateTime::now_utc(),
        };
        Generated { output, provenance }
    }

    /// The stub's failure if it has one, else `output` as [`Stub::made`].
    fn failing_or<T>(
        &self,
        context: &[aura_ai_port::ContextRecord],
        output: T,
    ) -> Result<Generated<T>, AiError> {
        match &self.fail {
            Some(e) => Err(e.clone()),
            None => Ok(self.made(context, output)),
        }
    }
}

#[async_trait::async_trait]
impl AiProvider for Stub {
    fn provider(&self) -> &str {
        "stub"
    }
    fn model(&self) -> &str {
        "stub-1"
    }
    async fn draft_policy(
        &self,
        r: &PolicyDraftRequest,
    ) -> Result<Generated<PolicyDraft>, AiError> {
        let draft = PolicyDraft {
            title: "t".into(),
            content: " ".into(),
            citations: Vec::new(),
        };
        self.failing_or(&r.context, draft)
    }
    async fn suggest_activity(
        &self,
        r: &ActivitySuggestionRequest,
    ) -> Result<Generated<ActivityDraft>, AiError> {
        let mut fields: ActivityFields = activity_fields("Stubbed", None, &[]);
        fields.owner_id = Some(UserId::generate());
        fields.processor_ids = vec![aura_records::Id::from_uuid(self.extra_citation)];
        let draft = ActivityDraft {
            fields,
            rationale: "r".into(),
            citations: vec![self.extra_citation],
        };
        Ok(self.made(&r.context, draft))
    }
    async fn answer(&self, r: &QuestionRequest) -> Result<Generated<Answer>, AiError> {
        let mut citations: Vec<Uuid> = r.context.iter().map(|c| c.id).collect();
        citations.push(self.extra_citation);
        let answer = Answer {
            text: "An answer.".into(),
            citations,
        };
        self.failing_or(&r.context, answer)
    }
    async fn suggest_breach_measures(
        &self,
        r: &TargetRequest,
    ) -> Result<Generated<BreachMeasuresDraft>, AiError> {
        let draft = BreachMeasuresDraft {
            consequences: "c".into(),
            measures: "m".into(),
            rationale: "r".into(),
            citations: vec![self.extra_citation],
        };
        self.failing_or(&r.context, draft)
    }
    async fn draft_dpia(
        &self,
        r: &TargetRequest,
    ) -> Result<Generated<aura_ai_port::DpiaContentDraft>, AiError> {
        let draft = aura_ai_port::DpiaContentDraft {
            description: "d".into(),
            necessity: Vec::new(),
            risks: Vec::new(),
            rationale: "r".into(),
            citations: vec![self.extra_citation],
        };
        self.failing_or(&r.context, draft)
    }
}

#[tokio::test]
async fn provider_failures_store_nothing_and_are_audited() {
    let world = World::new();
    let fx = world.tenant().await;
    for failure in [
        AiError::Timeout,
        AiError::Unavailable("HTTP 503".into()),
        AiError::InvalidResponse("x".into()),
    ] {
        let ai = world.stubbed(Some(failure.clone()), Uuid::now_v7());
        let error = ai
            .ask(&fx.scope, &fx.tenant, "Who is our DPO?", &ctx())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, AssistantError::Provider(e) if *e == failure),
            "{error:?}"
        );
    }
    // An empty draft is an invalid response too.
    let ai = world.stubbed(None, Uuid::now_v7());
    assert!(matches!(
        ai.draft_policy(&fx.scope, &fx.tenant, draft(PolicyKind::Other), &ctx())
            .await,
        Err(AssistantError::Provider(AiError::InvalidResponse(_)))
    ));
    assert!(listed(&ai, &fx.scope).await.is_empty(), "nothing stored");
    let failed = world.events(&fx.scope, "ai.request_failed").await;
    assert_eq!(failed.len(), 4);
    assert_eq!(failed[0].changes["error"], "invalid_response");
    assert_eq!(failed[3].changes["error"], "timeout");
}

#[tokio::test]
async fn what_a_provider_invents_is_dropped() {
    let world = World::new();
    let fx = world.tenant().await;
    let own = add_activity(&world, &fx, "Payroll").await;
    let foreign = Uuid::now_v7();
    let ai = world.stubbed(None, foreign);
    let answer = ai
        .ask(&fx.scope, &fx.tenant, "What about payroll?", &ctx())
        .await
        .unwrap();
    let cited: Vec<Uuid> = answer.citations.iter().map(|c| c.id).collect();
    assert!(cited.contains(&own));
    assert!(
        !cited.contains(&foreign),
        "an id outside the context is not cited"
    );
    assert!(
        answer.provenance.record_ids.contains(&own),
        "provenance lists the context"
    );
    let suggestion = ai
        .suggest_activity(&fx.scope, &fx.tenant, "payroll", &ctx())
        .await
        .unwrap();
    let SuggestionContent::ActivitySuggestion { fields, .. } = &suggestion.content else {
        panic!()
    };
    assert_eq!(fields.owner_id, None, "no owner is suggested");
    assert!(
        fields.processor_ids.is_empty(),
        "no link outside the context"
    );
    assert!(suggestion.citations.is_empty());
}
