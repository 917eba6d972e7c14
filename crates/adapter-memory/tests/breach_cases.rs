//! The breaches' use cases on the memory store with a clock that stands still: the
//! Art. 33(1) deadline derived on every write, the refusals naming rule and field, the
//! workflow and its audit actions, and who may close. Fast: no database, no HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_audit::{AuditQuery, RequestContext};
use aura_breaches::{
    Art34Decision, Breach, BreachCases, BreachFields, BreachGap, BreachStatus,
    NoCommunicationGround, PhaseSent, RiskLevel,
};
use aura_port_contracts::fixtures::{add_user, register_tenant};
use aura_port_contracts::registers::breaches::breach_fields;
use aura_port_contracts::{RegisterStores, Stores};
use aura_records::UseCaseError;
use aura_shared_kernel::{FixedClock, Role, TenantScope};
use time::{Duration, OffsetDateTime, macros::datetime};

const NOW: OffsetDateTime = datetime!(2027-03-08 12:00 UTC);

struct World {
    clock: Arc<FixedClock>,
    stores: Stores,
    cases: BreachCases,
    admin: TenantScope,
    member: TenantScope,
    viewer: TenantScope,
}

impl World {
    async fn new() -> Self {
        let clock = Arc::new(FixedClock::at(NOW));
        let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
        let stores = RegisterStores::from_single(store.clone(), clock.clone());
        let records = stores.breach_use_cases(clock.clone());
        let identity = stores.identity;
        let fx = register_tenant(&identity).await;
        let mut scopes = Vec::new();
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let user = add_user(&identity, &fx, role).await;
            scopes.push(TenantScope::for_tests(fx.tenant.id, user.id, role));
        }
        let [admin, member, viewer] = scopes.try_into().expect("three scopes");
        Self {
            cases: BreachCases::new(records, clock.clone()),
            clock,
            stores: identity,
            admin,
            member,
            viewer,
        }
    }

    async fn create(&self, aware: OffsetDateTime) -> Result<Breach, UseCaseError> {
        (self.cases.records())
            .create(&self.member, fields(aware), None, ctx())
            .await
    }

    async fn actions(&self) -> Vec<String> {
        let query = AuditQuery {
            entity_type: Some("personal_data_breach".into()),
            limit: 100,
            ..AuditQuery::default()
        };
        let page = self.stores.audit.list(&self.admin, &query).await.unwrap();
        let mut actions: Vec<String> = (page.items.iter())
            .map(|r| r.action.as_str().to_owned())
            .collect();
        actions.reverse();
        actions
    }
}

fn ctx() -> &'static RequestContext {
    static CTX: std::sync::LazyLock<RequestContext> =
        std::sync::LazyLock::new(RequestContext::default);
    &CTX
}

/// The contract tests' complete breach, without an owner or affected records.
fn fields(aware: OffsetDateTime) -> BreachFields {
    breach_fields("Laptop stolen", aware, None, &(vec![], vec![]))
}

fn phase(content: &str, delay_reasons: Option<&str>) -> PhaseSent {
    PhaseSent {
        sent_at: None,
        authority_reference: None,
        content: content.into(),
        to_follow: vec![],
        delay_reasons: delay_reasons.map(Into::into),
    }
}

#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, UseCaseError>, field: &str, rule: &str) {
    match result {
        Err(UseCaseError::Validation(errors)) => {
            assert_eq!(errors.0.len(), 1, "{errors:?}");
            assert_eq!(errors.0[0].field, field);
            assert!(
                errors.0[0].message.contains(rule),
                "{}",
                errors.0[0].message
            );
        }
        other => panic!("expected 422 naming {field}, got {other:?}"),
    }
}

#[tokio::test]
async fn the_deadline_follows_the_awareness_time_on_every_write() {
    let w = World::new().await;
    let aware = NOW - Duration::hours(10);
    let breach = w.create(aware).await.unwrap();
    assert_eq!(
        breach.derived.authority_deadline,
        aware + Duration::hours(72)
    );
    assert_eq!(breach.derived.status, BreachStatus::Open);
    assert_eq!(breach.derived.missing, [BreachGap::RiskAssessment]);
    // A corrected awareness time moves the deadline.
    let mut corrected = breach.fields.clone();
    corrected.became_aware_at = aware - Duration::hours(5);
    let records = w.cases.records();
    let updated = records
        .update(&w.member, breach.id, corrected, 1, None, ctx())
        .await
        .unwrap();
    assert_eq!(
        updated.derived.authority_deadline,
        aware + Duration::hours(67)
    );
    // In the future (by one second) it is refused.
    refused(
        w.create(NOW + Duration::seconds(1)).await,
        "became_aware_at",
        "Art. 33(1)",
    );
    assert!(w.create(NOW).await.is_ok(), "now is not the future");
}

#[tokio::test]
async fn a_late_notification_needs_its_reasons() {
    let w = World::new().await;
    let breach = w.create(NOW - Duration::hours(72)).await.unwrap();
    let notify = |version, reasons| {
        w.cases.notify_authority(
            &w.member,
            breach.id,
            version,
            phase("Initial", reasons),
            ctx(),
        )
    };
    // At the deadline itself: in time.
    let on_time = notify(1, None).await.unwrap();
    assert_eq!(on_time.derived.notified_in_time(), Some(true));

    let late = w.create(NOW - Duration::hours(72)).await.unwrap();
    w.clock.advance(Duration::seconds(1));
    let notify = |reasons| {
        w.cases
            .notify_authority(&w.member, late.id, 1, phase("Initial", reasons), ctx())
    };
    refused(notify(None).await, "delay_reasons", "Art. 33(1)");
    refused(notify(Some("  ")).await, "delay_reasons", "Art. 33(1)");
    let notified = notify(Some("The processor told us late")).await.unwrap();
    assert_eq!(notified.derived.notified_in_time(), Some(false));
    assert_eq!(notified.derived.status, BreachStatus::Notified);
    // A further phase needs no reasons again.
    let second = w
        .cases
        .notify_authority(&w.member, late.id, 2, phase("More", None), ctx())
        .await
        .unwrap();
    assert_eq!(second.derived.notifications.len(), 2);
}

#[tokio::test]
async fn the_workflow_records_each_decision_with_its_audit_action() {
    let w = World::new().await;
    let breach = w.create(NOW - Duration::hours(2)).await.unwrap();
    let c = &w.cases;
    // A decision not to notify needs a no-risk assessment first.
    refused(
        c.decide_not_to_notify(&w.member, breach.id, 1, "why", ctx())
            .await,
        "risk",
        "assess the risk",
    );
    let assessed = c
        .assess(
            &w.member,
            breach.id,
            1,
            RiskLevel::HighRisk,
            "Bank data",
            ctx(),
        )
        .await
        .unwrap();
    assert_eq!(assessed.derived.missing, [BreachGap::SubjectCommunication]);
    refused(
        c.decide_not_to_notify(&w.member, breach.id, 2, "why", ctx())
            .await,
        "risk",
        "Art. 33(1)",
    );
    let notified = c
        .notify_authority(&w.member, breach.id, 2, phase("Initial", None), ctx())
        .await
        .unwrap();
    assert_eq!(notified.version, 3);
    // Closing: admins only, and a high risk needs its Art. 34 decision.
    assert!(matches!(
        c.close(&w.member, breach.id, 3, ctx()).await,
        Err(UseCaseError::Forbidden(_))
    ));
    refused(
        c.close(&w.admin, breach.id, 3, ctx()).await,
        "communication",
        "Art. 34",
    );
    let decision = Art34Decision::NotCommunicated {
        ground: NoCommunicationGround::DataUnintelligible,
        reasoning: "Encrypted at rest".into(),
    };
    let told = c
        .communicate_to_subjects(&w.member, breach.id, 3, decision, ctx())
        .await
        .unwrap();
    assert!(told.derived.missing.is_empty());
    let closed = c.close(&w.admin, breach.id, 4, ctx()).await.unwrap();
    assert_eq!(closed.derived.status, BreachStatus::Closed);
    assert_eq!(closed.derived.closed_at, Some(NOW));
    // Nothing moves a closed breach.
    assert!(matches!(
        c.assess(&w.member, breach.id, 5, RiskLevel::Risk, "again", ctx())
            .await,
        Err(UseCaseError::Conflict {
            code: "invalid_transition",
            ..
        })
    ));
    assert_eq!(
        w.actions().await,
        [
            "personal_data_breach.created",
            "personal_data_breach.assessed",
            "personal_data_breach.authority_notified",
            "personal_data_breach.subjects_communicated",
            "personal_data_breach.closed",
        ]
    );
}

#[tokio::test]
async fn viewers_read_but_do_not_handle_breaches() {
    let w = World::new().await;
    let breach = w.create(NOW - Duration::hours(2)).await.unwrap();
    let records = w.cases.records();
    assert!(records.get(&w.viewer, breach.id, ctx()).await.is_ok());
    assert!(matches!(
        records.create(&w.viewer, fields(NOW), None, ctx()).await,
        Err(UseCaseError::Forbidden(_))
    ));
    assert!(matches!(
        w.cases
            .assess(&w.viewer, breach.id, 1, RiskLevel::NoRisk, "x", ctx())
            .await,
        Err(UseCaseError::Forbidden(_))
    ));
}
