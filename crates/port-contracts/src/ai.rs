//! Contracts of the AI assistant's ports (`aura_ai_port::ports`): stored suggestions and
//! the per-tenant usage counter.
//!
//! What they owe, beyond the rules of every port (isolation, one audit event per write,
//! optimistic versions):
//! - A suggestion reads back exactly as written, whatever its kind.
//! - A decision changes the status, who decided and when, and the version — never the
//!   content, citations or provenance.
//! - Lists are newest first (by id) and resume strictly below the cursor.
//! - The usage counter counts at most `limit` uses per tenant and window, also under
//!   concurrent calls; a new window starts afresh; tenants count apart.

use aura_ai_port::{
    Citation, ContextKind, Provenance, Suggestion, SuggestionContent, SuggestionKind,
    SuggestionQuery, SuggestionStatus, UsageLimits,
};
use aura_audit::{Actor, AuditAction, PendingEvent};
use aura_gdpr_registers::PolicyKind;
use aura_shared_kernel::{Conflict, Role, StoreError, TenantScope};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    AiStores,
    fixtures::{
        TenantFixture, add_user, assert_conflict, assert_not_found, assert_stored_nowhere,
        audit_len, chain, event, register_tenant,
    },
    registers::activity_fields,
};

fn now(stores: &AiStores) -> OffsetDateTime {
    stores.identity.clock.now()
}

/// The owner's event `action` about suggestion `id`.
fn suggestion_event(fx: &TenantFixture, action: &'static str, id: Uuid) -> PendingEvent {
    let action = AuditAction::known(action);
    event(Actor::User(fx.owner.id), action, "ai_suggestion", id)
}

fn created_event(fx: &TenantFixture, id: Uuid) -> PendingEvent {
    suggestion_event(fx, "ai.suggestion.created", id)
}

fn decided_event(fx: &TenantFixture, id: Uuid) -> PendingEvent {
    suggestion_event(fx, "ai.suggestion.accepted", id)
}

/// The scope's stored suggestion `id`.
async fn stored(stores: &AiStores, scope: &TenantScope, id: Uuid) -> Suggestion {
    stores.suggestions.get(scope, id).await.expect("get")
}

/// Stores `decision` in `fx`'s scope if the row is at `expected_version`, with the
/// decision's event.
async fn decide(
    stores: &AiStores,
    fx: &TenantFixture,
    decision: &Suggestion,
    expected_version: i32,
) -> Result<(), StoreError> {
    let event = decided_event(fx, decision.id);
    (stores.suggestions)
        .decide(&fx.scope, decision, expected_version, event)
        .await
}

fn content(kind: SuggestionKind) -> SuggestionContent {
    match kind {
        SuggestionKind::PolicyDraft => SuggestionContent::PolicyDraft {
            policy_id: Some(Uuid::now_v7()),
            title: "Privacy policy".into(),
            policy_kind: PolicyKind::PrivacyPolicy,
            text: "# Privacy policy\n\nWe process …".into(),
        },
        SuggestionKind::ActivitySuggestion => SuggestionContent::ActivitySuggestion {
            description: "We pay our staff every month".into(),
            // No review date: a `null` date must read back too.
            fields: Box::new(aura_gdpr_registers::ActivityFields {
                review_date: None,
                ..activity_fields("Payroll", None, &[])
            }),
            rationale: "Salaries are paid under the employment contract.".into(),
        },
        SuggestionKind::Answer => SuggestionContent::Answer {
            question: "Who is our DPO?".into(),
            text: "Jana Schmidt is your DPO.".into(),
        },
        SuggestionKind::BreachMeasures => SuggestionContent::BreachMeasures {
            breach_id: Uuid::now_v7(),
            breach_version: 3,
            consequences: "Phishing against the customers concerned".into(),
            measures: "- Passwords reset\n- Customers warned".into(),
            rationale: "A confidentiality breach of contact data.".into(),
        },
        SuggestionKind::DpiaDraft => SuggestionContent::DpiaDraft {
            dpia_id: Uuid::now_v7(),
            dpia_version: 2,
            description: "Twelve cameras record the shop floor".into(),
            necessity: vec![aura_dpias::NecessityItem {
                topic: aura_dpias::NecessityTopic::Retention,
                assessment: "Recordings are overwritten after 72 hours".into(),
            }],
            risks: vec![aura_dpias::Risk {
                source: "An attacker".into(),
                event: aura_dpias::RiskEvent::IllegitimateAccess,
                impact: "Recordings of customers disclosed".into(),
                likelihood: aura_dpias::Scale::Limited,
                severity: aura_dpias::Scale::Significant,
                residual_likelihood: aura_dpias::Scale::Limited,
                residual_severity: aura_dpias::Scale::Limited,
            }],
            rationale: "From the CCTV activity.".into(),
        },
    }
}

/// A pending suggestion of `kind` in the fixture's tenant, not stored.
pub fn new_suggestion(stores: &AiStores, fx: &TenantFixture, kind: SuggestionKind) -> Suggestion {
    let at = now(stores);
    let cited = Uuid::now_v7();
    Suggestion {
        id: Uuid::now_v7(),
        tenant_id: fx.tenant.id,
        kind,
        status: SuggestionStatus::Pending,
        content: content(kind),
        citations: vec![Citation {
            kind: ContextKind::ProcessingActivity,
            id: cited,
            title: "Payroll".into(),
        }],
        provenance: Provenance {
            provider: "offline".into(),
            model: "offline-rules-1".into(),
            template_version: "offline/answer@1".into(),
            record_ids: vec![cited, Uuid::now_v7()],
            generated_at: at,
        },
        created_by: Some(fx.owner.id),
        created_at: at,
        decided_by: None,
        decided_at: None,
        version: 1,
    }
}

pub async fn add_suggestion(
    stores: &AiStores,
    fx: &TenantFixture,
    kind: SuggestionKind,
) -> Suggestion {
    let suggestion = new_suggestion(stores, fx, kind);
    stores
        .suggestions
        .insert(&fx.scope, &suggestion, created_event(fx, suggestion.id))
        .await
        .expect("insert a suggestion");
    suggestion
}

fn decided(stores: &AiStores, fx: &TenantFixture, s: &Suggestion) -> Suggestion {
    Suggestion {
        status: SuggestionStatus::Accepted,
        decided_by: Some(fx.owner.id),
        decided_at: Some(now(stores)),
        version: s.version + 1,
        ..s.clone()
    }
}

async fn list_all(
    stores: &AiStores,
    scope: &TenantScope,
    query: SuggestionQuery,
) -> Vec<Suggestion> {
    let mut all = Vec::new();
    let mut query = query;
    loop {
        let page = stores
            .suggestions
            .list(scope, &query)
            .await
            .expect("list suggestions");
        assert!(
            page.items.len() <= query.limit,
            "a page holds at most limit items"
        );
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(
                    Some(cursor),
                    all.last().map(|s| s.id),
                    "the cursor is the last id"
                );
                query.after = Some(cursor);
            }
            None => return all,
        }
    }
}

pub async fn insert_then_get_returns_the_suggestion(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    for kind in SuggestionKind::ALL {
        let before = audit_len(&stores.identity, &fx.scope).await;
        let suggestion = add_suggestion(&stores, &fx, *kind).await;
        let stored = stored(&stores, &fx.scope, suggestion.id).await;
        assert_eq!(stored, suggestion, "{kind}: reads back as written");
        let records = chain(&stores.identity, &fx.scope).await;
        assert_eq!(records.len(), before + 1, "{kind}: one event");
        let last = records.last().expect("event");
        assert_eq!(last.action.as_str(), "ai.suggestion.created");
        assert_eq!(last.entity_id, Some(suggestion.id.to_string()));
    }
}

/// Inserting `suggestion` in `fx`'s tenant is refused and leaves no event.
async fn assert_insert_refused(
    stores: &AiStores,
    fx: &TenantFixture,
    suggestion: &Suggestion,
    why: &str,
) {
    let before = audit_len(&stores.identity, &fx.scope).await;
    let event = created_event(fx, suggestion.id);
    let inserted = stores
        .suggestions
        .insert(&fx.scope, suggestion, event)
        .await;
    assert!(inserted.is_err(), "{why}");
    let after = audit_len(&stores.identity, &fx.scope).await;
    assert_eq!(after, before, "{why}: no event");
}

pub async fn insert_of_a_taken_id_is_refused(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let suggestion = add_suggestion(&stores, &fx, SuggestionKind::Answer).await;
    let again = Suggestion {
        content: content(SuggestionKind::Answer),
        ..suggestion.clone()
    };
    assert_insert_refused(&stores, &fx, &again, "a taken id is refused").await;
}

pub async fn insert_into_another_tenant_is_refused(stores: AiStores) {
    let a = register_tenant(&stores.identity).await;
    let b = register_tenant(&stores.identity).await;
    let foreign = new_suggestion(&stores, &b, SuggestionKind::Answer);
    let why = "a row claiming another tenant is refused";
    assert_insert_refused(&stores, &a, &foreign, why).await;
    let read = |scope: TenantScope| {
        let suggestions = stores.suggestions.clone();
        async move { suggestions.get(&scope, foreign.id).await }
    };
    assert_stored_nowhere([&a, &b], read, "the foreign suggestion").await;
}

pub async fn list_is_newest_first_and_pages(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let kind = SuggestionKind::ALL[i % 3];
        ids.push(add_suggestion(&stores, &fx, kind).await.id);
    }
    ids.reverse();
    for limit in [1, 2, 5, 10] {
        let listed = list_all(
            &stores,
            &fx.scope,
            SuggestionQuery {
                limit,
                ..SuggestionQuery::default()
            },
        )
        .await;
        let listed: Vec<Uuid> = listed.iter().map(|s| s.id).collect();
        assert_eq!(listed, ids, "limit {limit}: newest first, each once");
    }
}

pub async fn list_filters_by_status_and_kind(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let answer = add_suggestion(&stores, &fx, SuggestionKind::Answer).await;
    let draft = add_suggestion(&stores, &fx, SuggestionKind::PolicyDraft).await;
    let accepted = decided(&stores, &fx, &draft);
    decide(&stores, &fx, &accepted, draft.version)
        .await
        .expect("decide");
    // Each filter (status, kind) and the ids it lists.
    let cases = [
        (Some(SuggestionStatus::Pending), None, vec![answer.id]),
        (Some(SuggestionStatus::Accepted), None, vec![draft.id]),
        (None, Some(SuggestionKind::Answer), vec![answer.id]),
        (
            Some(SuggestionStatus::Accepted),
            Some(SuggestionKind::Answer),
            Vec::new(),
        ),
    ];
    for (status, kind, expected) in cases {
        let query = SuggestionQuery {
            status,
            kind,
            limit: 10,
            after: None,
        };
        let listed = list_all(&stores, &fx.scope, query).await;
        let ids: Vec<Uuid> = listed.into_iter().map(|s| s.id).collect();
        assert_eq!(ids, expected, "status {status:?}, kind {kind:?}");
    }
}

pub async fn decide_stores_the_decision_only(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let suggestion = add_suggestion(&stores, &fx, SuggestionKind::PolicyDraft).await;
    let before = audit_len(&stores.identity, &fx.scope).await;
    let mut after = decided(&stores, &fx, &suggestion);
    // Whatever else the caller changed, only the decision is stored.
    let expected = after.clone();
    after.content = content(SuggestionKind::Answer);
    after.citations.clear();
    after.provenance.model = "tampered".into();
    decide(&stores, &fx, &after, suggestion.version)
        .await
        .expect("decide");
    let stored = stored(&stores, &fx.scope, suggestion.id).await;
    assert_eq!(
        stored, expected,
        "status, decider, time and version changed; nothing else"
    );
    assert_eq!(
        audit_len(&stores.identity, &fx.scope).await,
        before + 1,
        "one event"
    );
}

pub async fn stale_decision_changes_nothing(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let suggestion = add_suggestion(&stores, &fx, SuggestionKind::Answer).await;
    let first = decided(&stores, &fx, &suggestion);
    decide(&stores, &fx, &first, 1)
        .await
        .expect("first decision");
    let before = audit_len(&stores.identity, &fx.scope).await;
    let late = Suggestion {
        status: SuggestionStatus::Rejected,
        ..first.clone()
    };
    assert_conflict(
        decide(&stores, &fx, &late, 1).await,
        Conflict::Version,
        "a decision at a stale version",
    );
    assert_eq!(stored(&stores, &fx.scope, suggestion.id).await, first);
    assert_eq!(
        audit_len(&stores.identity, &fx.scope).await,
        before,
        "no event"
    );
}

pub async fn concurrent_decisions_have_one_winner(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let suggestion = add_suggestion(&stores, &fx, SuggestionKind::ActivitySuggestion).await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let stores = stores.clone();
        let fx = fx.clone();
        let mut after = decided(&stores, &fx, &suggestion);
        if i % 2 == 1 {
            after.status = SuggestionStatus::Rejected;
        }
        tasks.push(tokio::spawn(async move {
            decide(&stores, &fx, &after, 1).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(()) => wins += 1,
            Err(StoreError::Conflict(Conflict::Version)) => {}
            Err(other) => panic!("a losing decision is Conflict(version), got {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one decision wins");
    let stored = stored(&stores, &fx.scope, suggestion.id).await;
    assert_eq!(stored.version, 2);
}

pub async fn other_tenants_suggestions_are_out_of_reach(stores: AiStores) {
    let a = register_tenant(&stores.identity).await;
    let b = register_tenant(&stores.identity).await;
    let theirs = add_suggestion(&stores, &b, SuggestionKind::Answer).await;
    let ours = add_suggestion(&stores, &a, SuggestionKind::Answer).await;
    let before = audit_len(&stores.identity, &a.scope).await;
    assert_not_found(stores.suggestions.get(&a.scope, theirs.id).await, "get");
    // The foreign row named as it is, and as if it were ours.
    let claimed = Suggestion {
        tenant_id: a.tenant.id,
        ..decided(&stores, &b, &theirs)
    };
    assert_not_found(decide(&stores, &a, &claimed, 1).await, "decide");
    assert!(
        decide(&stores, &a, &decided(&stores, &b, &theirs), 1)
            .await
            .is_err(),
        "decide of a row claiming the other tenant"
    );
    let listed = list_all(
        &stores,
        &a.scope,
        SuggestionQuery {
            limit: 100,
            ..SuggestionQuery::default()
        },
    )
    .await;
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![ours.id]
    );
    assert_eq!(
        stored(&stores, &b.scope, theirs.id).await,
        theirs,
        "the other tenant's row is unchanged"
    );
    assert_eq!(
        audit_len(&stores.identity, &a.scope).await,
        before,
        "no event"
    );
}

fn window(stores: &AiStores) -> OffsetDateTime {
    // A fixed point an hour back from the clock, whole seconds (what any store keeps).
    let at = now(stores) - Duration::HOUR;
    at.replace_nanosecond(0).unwrap_or(at)
}

/// One use asked for: in whose scope, in which window, under which limit, whether it
/// must be counted, and why.
type Use<'a> = (&'a TenantScope, OffsetDateTime, u32, bool, &'a str);

/// Limits with no user share below the tenant's.
fn tenant_only(limit: u32) -> UsageLimits {
    UsageLimits {
        tenant: limit,
        user: limit,
    }
}

/// Asks for each use in turn and checks that it is counted, or not, as it says.
async fn uses(stores: &AiStores, uses: &[Use<'_>]) {
    for (i, (scope, window, limit, counted, why)) in uses.iter().enumerate() {
        let got = stores
            .usage
            .try_acquire(scope, *window, tenant_only(*limit))
            .await
            .expect("acquire");
        assert_eq!(got, *counted, "use {i}: {why}");
    }
}

/// Uses count per tenant and clock-hour window, up to the limit the call names.
pub async fn usage_counts_per_tenant_and_window_up_to_the_limit(stores: AiStores) {
    let a = register_tenant(&stores.identity).await;
    let b = register_tenant(&stores.identity).await;
    let start = window(&stores);
    let next = start + Duration::HOUR;
    let (a, b) = (&a.scope, &b.scope);
    uses(
        &stores,
        &[
            (a, start, 3, true, "counted"),
            (a, start, 3, true, "counted"),
            (a, start, 3, true, "counted"),
            (a, start, 3, false, "beyond the limit"),
            (a, start, 3, false, "beyond the limit"),
            (a, start, 4, true, "a higher limit admits one more"),
            (a, start, 0, false, "a limit of zero admits nothing"),
            (b, start, 1, true, "another tenant's uses do not count"),
            (b, start, 1, false, "beyond the limit"),
            (b, next, 1, true, "the next window starts at zero"),
            (b, next, 1, false, "beyond the limit"),
        ],
    )
    .await;
}

pub async fn concurrent_usage_never_exceeds_the_limit(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let start = window(&stores);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let stores = stores.clone();
        let scope = fx.scope.clone();
        tasks.push(tokio::spawn(async move {
            stores
                .usage
                .try_acquire(&scope, start, tenant_only(5))
                .await
        }));
    }
    let mut counted = 0;
    for task in tasks {
        if task.await.expect("task").expect("acquire") {
            counted += 1;
        }
    }
    assert_eq!(counted, 5, "exactly the limit is counted");
}

/// A user may take only their share of the tenant's uses; the others keep theirs, the
/// tenant's limit still holds over all of them, and a use refused for either counts for
/// neither.
pub async fn usage_counts_each_users_share_and_the_tenant(stores: AiStores) {
    let fx = register_tenant(&stores.identity).await;
    let start = window(&stores);
    let owner = fx.scope_of(&fx.owner);
    let member = fx.scope_of(&add_user(&stores.identity, &fx, Role::Member).await);
    let third = fx.scope_of(&add_user(&stores.identity, &fx, Role::Member).await);
    let limits = UsageLimits { tenant: 4, user: 2 };
    let mut got = Vec::new();
    for scope in [
        &owner, &owner, &owner, &member, &member, &member, &third, &owner,
    ] {
        got.push(
            stores
                .usage
                .try_acquire(scope, start, limits)
                .await
                .expect("acquire"),
        );
    }
    assert_eq!(
        got,
        [true, true, false, true, true, false, false, false],
        "2 each, 4 in all: the third user finds the tenant's uses gone"
    );
    // The refused uses counted for nobody: with a higher tenant limit the third user
    // gets exactly their share.
    let more = UsageLimits { tenant: 6, user: 2 };
    for expected in [true, true, false] {
        let counted = stores.usage.try_acquire(&third, start, more).await;
        assert_eq!(counted.expect("acquire"), expected);
    }
}
