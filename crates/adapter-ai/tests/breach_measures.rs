//! The assistant's suggestion of a breach's consequences and measures, on the memory store
//! with the offline provider: built from the breach and the activities and processors it
//! names (cited), stored pending, written into the breach only when a member accepts it —
//! through the breach's use cases, whose audit event names the suggestion — and only if
//! the breach has not changed since; another tenant's breach is out of reach.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_ai::OfflineAssistant;
use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_ai_port::{
    AiAssistant, AiConfig, Applied, AssistantError, ContextKind, SuggestionContent, SuggestionKind,
    SuggestionStatus,
};
use aura_audit::RequestContext;
use aura_breaches::{Breach, Breaches};
use aura_gdpr_registers::{RegisterPorts, Registers};
use aura_port_contracts::{
    RegisterStores, Stores,
    fixtures::{TenantFixture, add_user, register_tenant},
    registers::{activity_fields, breaches::breach_fields, processor_fields},
};
use aura_records::{RecordUseCases, UseCaseError};
use aura_shared_kernel::{Clock, Role, SystemClock, TenantScope};
use serde_json::json;
use time::Duration;

mod common;

use common::{AllMembers, ai_ports};

struct World {
    stores: Stores,
    registers: Registers,
    breaches: RecordUseCases<Breaches>,
    ai: AiAssistant,
    clock: Arc<dyn Clock>,
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

impl World {
    fn new() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
        let stores = RegisterStores::from_single(store.clone(), clock.clone());
        let ports: RegisterPorts = stores.ports(Arc::new(AllMembers));
        let breaches = stores.breach_use_cases(clock.clone());
        let ai = AiAssistant::new(
            ai_ports(
                &store,
                clock.clone(),
                Arc::new(OfflineAssistant::new(clock.clone())),
            ),
            ports.clone(),
            AiConfig::default(),
        )
        .with_breaches(breaches.clone());
        Self {
            stores: stores.identity,
            registers: Registers::new(ports),
            breaches,
            ai,
            clock,
        }
    }

    /// A tenant with a processor, an activity using it, and a breach of that activity whose
    /// data categories and processors the register filled in.
    async fn breach(&self) -> (TenantFixture, Breach) {
        let fx = register_tenant(&self.stores).await;
        let processor = (self.registers.processor_records())
            .create(&fx.scope, processor_fields("Mail Cloud"), None, &ctx())
            .await
            .unwrap();
        let activity = (self.registers.activity_records())
            .create(
                &fx.scope,
                activity_fields("Payroll", None, &[processor.id]),
                None,
                &ctx(),
            )
            .await
            .unwrap();
        let aware = self.clock.now() - Duration::hours(2);
        let mut fields = breach_fields("Laptop stolen", aware, None, &(vec![activity.id], vec![]));
        fields.consequences = None;
        fields.measures = None;
        // Left to the register: the activity's categories and processor fill them.
        fields.data_categories.clear();
        let breach = self
            .breaches
            .create(&fx.scope, fields, None, &ctx())
            .await
            .unwrap();
        (fx, breach)
    }
}

#[tokio::test]
async fn an_accepted_suggestion_is_written_into_the_breach_naming_it() {
    let world = World::new();
    let (fx, breach) = world.breach().await;
    let id = breach.id.as_uuid();
    let suggestion = world
        .ai
        .suggest_breach_measures(&fx.scope, &fx.tenant, id, &ctx())
        .await
        .unwrap();
    assert_eq!(suggestion.kind, SuggestionKind::BreachMeasures);
    assert_eq!(suggestion.status, SuggestionStatus::Pending);
    let SuggestionContent::BreachMeasures {
        breach_id,
        breach_version,
        consequences,
        measures,
        ..
    } = &suggestion.content
    else {
        panic!("breach measures: {:?}", suggestion.content)
    };
    assert_eq!((*breach_id, *breach_version), (id, 1));
    assert!(consequences.contains("identity theft"), "{consequences}");
    assert!(
        consequences.contains("Financial loss"),
        "the activity's bank details: {consequences}"
    );
    assert!(
        measures.contains("Mail Cloud"),
        "the activity's processor: {measures}"
    );
    let cited: Vec<(ContextKind, &str)> = (suggestion.citations.iter())
        .map(|c| (c.kind, c.title.as_str()))
        .collect();
    assert_eq!(
        cited,
        [
            (ContextKind::Breach, "Laptop stolen"),
            (ContextKind::ProcessingActivity, "Payroll"),
            (ContextKind::Processor, "Mail Cloud"),
        ],
        "the breach, its activity and the processor the register filled in"
    );
    let unchanged = world
        .breaches
        .get(&fx.scope, breach.id, &ctx())
        .await
        .unwrap();
    assert_eq!(unchanged, breach, "a suggestion is not a change");

    let accepted = world
        .ai
        .accept(&fx.scope, suggestion.id, 1, &ctx())
        .await
        .unwrap();
    assert_eq!(
        accepted.applied,
        Some(Applied::Breach {
            breach_id: id,
            version: 2
        })
    );
    let written = world
        .breaches
        .get(&fx.scope, breach.id, &ctx())
        .await
        .unwrap();
    assert_eq!(written.fields.consequences.as_ref(), Some(consequences));
    assert_eq!(written.fields.measures.as_ref(), Some(measures));
    assert_eq!(
        written.fields.title, breach.fields.title,
        "the rest as it was"
    );
    let updated = world
        .stores
        .events(&fx.scope, "personal_data_breach.updated")
        .await;
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0].changes["source"],
        json!({"kind": "ai_suggestion", "id": suggestion.id})
    );
    assert!(
        !updated[0].changes.to_string().contains("identity theft"),
        "the texts are personal fields: their values stay out of the trail"
    );
    let again = world.ai.accept(&fx.scope, suggestion.id, 2, &ctx()).await;
    assert!(
        matches!(
            again,
            Err(AssistantError::UseCase(UseCaseError::Conflict {
                code: "already_decided",
                ..
            }))
        ),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_breach_changed_since_refuses_the_accept_and_nothing_changes() {
    let world = World::new();
    let (fx, breach) = world.breach().await;
    let suggestion = world
        .ai
        .suggest_breach_measures(&fx.scope, &fx.tenant, breach.id.as_uuid(), &ctx())
        .await
        .unwrap();
    let mut fields = breach.fields.clone();
    fields.measures = Some("Written by hand meanwhile".into());
    let edited = world
        .breaches
        .update(&fx.scope, breach.id, fields, 1, None, &ctx())
        .await
        .unwrap();
    let refused = world.ai.accept(&fx.scope, suggestion.id, 1, &ctx()).await;
    assert!(
        matches!(
            refused,
            Err(AssistantError::UseCase(UseCaseError::Conflict {
                code: "target_changed",
                ..
            }))
        ),
        "{refused:?}"
    );
    let stored = world
        .ai
        .suggestion(&fx.scope, suggestion.id, &ctx())
        .await
        .unwrap();
    assert_eq!(stored.status, SuggestionStatus::Pending);
    assert_eq!(stored.version, 1, "refused before it was marked accepted");
    assert_eq!(
        world
            .breaches
            .get(&fx.scope, breach.id, &ctx())
            .await
            .unwrap(),
        edited,
        "the hand-written measures stay"
    );
}

#[tokio::test]
async fn another_tenants_breach_is_not_found_and_a_viewer_may_not_ask() {
    let world = World::new();
    let (_, theirs) = world.breach().await;
    let (fx, _) = world.breach().await;
    let result = world
        .ai
        .suggest_breach_measures(&fx.scope, &fx.tenant, theirs.id.as_uuid(), &ctx())
        .await;
    assert!(
        matches!(result, Err(AssistantError::UseCase(UseCaseError::NotFound))),
        "{result:?}"
    );
    let viewer = add_user(&world.stores, &fx, Role::Viewer).await;
    let viewer = TenantScope::for_tests(fx.tenant.id, viewer.id, Role::Viewer);
    let result = world
        .ai
        .suggest_breach_measures(&viewer, &fx.tenant, theirs.id.as_uuid(), &ctx())
        .await;
    assert!(
        matches!(
            result,
            Err(AssistantError::UseCase(UseCaseError::Forbidden(_)))
        ),
        "{result:?}"
    );
    let listed = world
        .ai
        .suggestions(
            &fx.scope,
            &aura_ai_port::SuggestionQuery {
                limit: 10,
                ..Default::default()
            },
            &ctx(),
        )
        .await
        .unwrap();
    assert!(listed.items.is_empty(), "nothing was generated or stored");
}
