//! The register use cases on the memory store: permissions (refusals audited), validation
//! naming the field, the cross-record rules, `If-Match` versions, audit events, isolation.
//! Fast: no database, no HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_audit::{AuditRecord, RequestContext};
use aura_gdpr_registers::{
    ActivityFields, ActivityId, Members, PolicyFields, PolicyId, PolicyStatus, PolicyVersion,
    ProcessingActivity, Processor, ProcessorFields, ProcessorId, Registers, RegistersError,
    VersionStatus, add_months,
    ports::{ActivityQuery, ListPage, ProcessorQuery, Sort},
};
use aura_identity::ports::UserRepository;
use aura_port_contracts::{
    RegisterStores, Stores,
    fixtures::{TenantFixture, add_user, register_tenant},
};
use aura_records::{Cursor, Id};
use aura_shared_kernel::{Clock, Role, StoreError, SystemClock, TenantScope, UserId};
use serde_json::json;

/// Identity's answer, as the API wires it.
struct TenantMembers(Arc<dyn UserRepository>);

#[async_trait::async_trait]
impl Members for TenantMembers {
    async fn is_member(&self, scope: &TenantScope, user: UserId) -> Result<bool, StoreError> {
        match self.0.get(scope, user).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

struct World {
    stores: Stores,
    registers: Registers,
}

/// A tenant with a user of each role below owner.
struct Team {
    fx: TenantFixture,
    admin: TenantScope,
    member: TenantScope,
    viewer: TenantScope,
}

impl World {
    fn new() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
        let stores = RegisterStores::from_single(store, clock);
        let members = TenantMembers(stores.identity.users.clone());
        Self {
            registers: Registers::new(stores.ports(Arc::new(members))),
            stores: stores.identity,
        }
    }

    async fn team(&self) -> Team {
        let fx = register_tenant(&self.stores).await;
        let mut scopes = Vec::new();
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let user = add_user(&self.stores, &fx, role).await;
            scopes.push(TenantScope::for_tests(fx.tenant.id, user.id, role));
        }
        let [admin, member, viewer] = scopes.try_into().expect("three scopes");
        Team {
            fx,
            admin,
            member,
            viewer,
        }
    }

    /// A world with one team, where most tests start.
    async fn with_team() -> (Self, Team) {
        let world = Self::new();
        let team = world.team().await;
        (world, team)
    }

    /// The team's audit events of `action`.
    async fn events(&self, team: &Team, action: &str) -> Vec<AuditRecord> {
        self.stores.events(&team.fx.scope, action).await
    }

    /// How many of the team's audit events are `action`.
    async fn count(&self, team: &Team, action: &str) -> usize {
        self.events(team, action).await.len()
    }

    /// The activities `scope` lists with `query`.
    async fn list_activities(
        &self,
        scope: &TenantScope,
        query: &ActivityQuery,
    ) -> Result<ListPage<ProcessingActivity>, RegistersError> {
        let records = self.registers.activity_records();
        records.list(scope, query, &ctx()).await
    }

    /// The team's one event of `action`, about `entity_id`.
    async fn the_event(&self, team: &Team, action: &str, entity_id: impl ToString) -> AuditRecord {
        self.stores
            .the_event(&team.fx.scope, action, entity_id)
            .await
    }

    /// Creates an activity named `name` (no owner, no processors).
    async fn activity(&self, scope: &TenantScope, name: &str) -> ProcessingActivity {
        self.registers
            .activity_records()
            .create(scope, activity_fields(name, None, &[]), None, &ctx())
            .await
            .unwrap()
    }

    /// Renames activity `id` at `version`, the name its only change.
    async fn rename_activity(
        &self,
        scope: &TenantScope,
        id: ActivityId,
        name: &str,
        version: i32,
    ) -> Result<ProcessingActivity, RegistersError> {
        let fields = activity_fields(name, None, &[]);
        self.registers
            .activity_records()
            .update(scope, id, fields, version, None, &ctx())
            .await
    }

    async fn processor(&self, scope: &TenantScope, name: &str) -> Processor {
        self.create_processor(scope, name, None).await.unwrap()
    }

    /// Creates a processor named `name` under `parent`.
    async fn create_processor(
        &self,
        scope: &TenantScope,
        name: &str,
        parent: Option<ProcessorId>,
    ) -> Result<Processor, RegistersError> {
        let fields = processor_fields(name, parent);
        self.registers
            .processor_records()
            .create(scope, fields, None, &ctx())
            .await
    }
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

fn activity_fields(
    name: &str,
    owner: Option<UserId>,
    processors: &[ProcessorId],
) -> ActivityFields {
    serde_json::from_value(json!({
        "name": name,
        "status": "active",
        "purposes": [{"description": "Pay salaries", "lawful_basis": "contract"}],
        "data_subject_categories": ["employees"],
        "data_categories": [{"name": "bank details", "retention": "10 years"}],
        "recipient_categories": ["tax office"],
        "security_measures": "TLS, MFA",
        "owner_id": owner,
        "processor_ids": processors,
    }))
    .expect("valid activity fields")
}

fn processor_fields(name: &str, parent: Option<ProcessorId>) -> ProcessorFields {
    serde_json::from_value(json!({
        "name": name,
        "country": "DE",
        "dpa_status": "signed",
        "dpa_signed_on": "2026-01-15",
        "parent_id": parent,
    }))
    .expect("valid processor fields")
}

/// The use case refused for want of a permission.
#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, RegistersError>) {
    match result {
        Err(RegistersError::Forbidden(_)) => {}
        other => panic!("expected a permission refusal, got {other:?}"),
    }
}

fn field_errors(error: RegistersError) -> Vec<String> {
    match error {
        RegistersError::Validation(errors) => errors.0.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_write_and_the_refusal_is_audited() {
    let (world, team) = World::with_team().await;
    let r = &world.registers;
    let existing = world.activity(&team.member, "Payroll").await;

    let fields = activity_fields("Sneaky", None, &[]);
    assert_forbidden(
        r.activity_records()
            .create(&team.viewer, fields, None, &ctx())
            .await,
    );
    assert_forbidden(
        world
            .rename_activity(&team.viewer, existing.id, "Renamed", 1)
            .await,
    );
    assert_eq!(
        world.count(&team, "auth.permission_denied").await,
        2,
        "each refusal is in the audit trail"
    );
    let query = ActivityQuery {
        limit: 10,
        ..ActivityQuery::default()
    };
    let page = world.list_activities(&team.viewer, &query).await.unwrap();
    assert_eq!(page.items.len(), 1, "the viewer reads; nothing was added");
    assert_eq!(page.items[0].fields.name, "Payroll");
}

#[tokio::test]
async fn only_admins_and_owners_delete() {
    let (world, team) = World::with_team().await;
    let r = &world.registers;
    let processor = world.processor(&team.member, "Hosting").await;
    assert_forbidden(
        r.processor_records()
            .delete(&team.member, processor.id, 1, &ctx())
            .await,
    );
    r.processor_records()
        .delete(&team.admin, processor.id, 1, &ctx())
        .await
        .expect("an admin deletes");
    let event = world
        .the_event(&team, "processor.deleted", processor.id)
        .await;
    assert_eq!(event.changes["name"], "Hosting", "the event says what went");
}

#[tokio::test]
async fn a_created_activity_is_version_one_by_its_author_with_its_gaps_and_its_event() {
    let (world, team) = World::with_team().await;
    let hosting = world.processor(&team.member, "Hosting").await;
    let mut fields = activity_fields("Payroll", None, &[hosting.id]);
    fields.security_measures = None;
    let checked = world
        .registers
        .activity_records()
        .create(&team.member, fields, None, &ctx())
        .await
        .unwrap();
    let activity = &checked;
    assert_eq!(activity.version, 1);
    assert_eq!(activity.derived.created_by, team.member.user_id());
    assert!(
        checked
            .derived
            .missing
            .iter()
            .any(|gap| serde_json::to_value(gap)
                .unwrap()
                .to_string()
                .contains("security")),
        "the missing security measures are named: {:?}",
        checked.derived.missing
    );
    let event = world
        .the_event(&team, "processing_activity.created", activity.id)
        .await;
    assert_eq!(event.actor.user_id(), team.member.user_id());
    let linked = world
        .registers
        .processor_records()
        .get(&team.member, hosting.id, &ctx())
        .await
        .unwrap();
    assert_eq!(linked.derived.activity_ids, vec![activity.id]);
}

#[tokio::test]
async fn invalid_input_names_every_field_and_stores_nothing() {
    let (world, team) = World::with_team().await;
    let other = world.team().await;
    let foreign = world.processor(&other.member, "Foreign").await;
    let stranger = other.fx.owner.id;

    let mut fields = activity_fields(" ", None, &[]);
    fields.data_subject_categories = vec!["x".repeat(10_000)];
    let fields_named = field_errors(
        world
            .registers
            .activity_records()
            .create(&team.member, fields, None, &ctx())
            .await
            .unwrap_err(),
    );
    assert!(
        fields_named.contains(&"name".to_owned()),
        "{fields_named:?}"
    );
    assert!(
        fields_named
            .iter()
            .any(|f| f.starts_with("data_subject_categories")),
        "{fields_named:?}"
    );

    let owner_named = field_errors(
        world
            .registers
            .activity_records()
            .create(
                &team.member,
                activity_fields("Payroll", Some(stranger), &[]),
                None,
                &ctx(),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        owner_named,
        ["owner_id"],
        "another tenant's user owns nothing here"
    );

    let unknown = Id::generate();
    let links_named = field_errors(
        world
            .registers
            .activity_records()
            .create(
                &team.member,
                activity_fields("Payroll", None, &[unknown, foreign.id]),
                None,
                &ctx(),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(links_named.len(), 2, "{links_named:?}");
    assert!(links_named.iter().all(|f| f.starts_with("processor_ids[")));

    assert_eq!(
        world.count(&team, "processing_activity.created").await,
        0,
        "nothing was created"
    );
}

#[tokio::test]
async fn updates_name_the_version_they_read_and_a_no_change_stores_nothing() {
    let (world, team) = World::with_team().await;
    let r = &world.registers;
    let activity = world.activity(&team.member, "Payroll").await;

    let same = r
        .activity_records()
        .update(
            &team.member,
            activity.id,
            activity.fields.clone(),
            1,
            None,
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(same.version, 1, "no change, no new version");
    assert_eq!(world.count(&team, "processing_activity.updated").await, 0);

    let renamed = world
        .rename_activity(&team.member, activity.id, "Payroll 2027", 1)
        .await
        .unwrap();
    assert_eq!(renamed.version, 2);
    let event = world
        .the_event(&team, "processing_activity.updated", activity.id)
        .await;
    assert_eq!(
        event.changes["name"]["after"], "Payroll 2027",
        "{:?}",
        event.changes
    );

    let stale = world
        .rename_activity(&team.member, activity.id, "Lost edit", 1)
        .await
        .unwrap_err();
    assert!(matches!(stale, RegistersError::StaleVersion), "{stale:?}");
    let stale = r
        .activity_records()
        .delete(&team.admin, activity.id, 1, &ctx())
        .await
        .unwrap_err();
    assert!(matches!(stale, RegistersError::StaleVersion), "{stale:?}");
    let kept = r
        .activity_records()
        .get(&team.member, activity.id, &ctx())
        .await
        .unwrap();
    assert_eq!(
        kept.fields.name, "Payroll 2027",
        "the stale edit lost nothing"
    );
    assert_eq!(
        world.count(&team, "processing_activity.updated").await,
        1,
        "no event for refused changes"
    );
}

#[tokio::test]
async fn a_sub_processor_chain_neither_loops_nor_leaves_the_tenant() {
    let (world, team) = World::with_team().await;
    let other = world.team().await;
    let r = &world.registers;
    let top = world.processor(&team.member, "Cloud").await;
    let sub = world
        .create_processor(&team.member, "Datacentre", Some(top.id))
        .await
        .unwrap();

    // The top one under its own sub-processor: a loop.
    let under_sub = processor_fields("Cloud", Some(sub.id));
    let looped = r
        .processor_records()
        .update(&team.member, top.id, under_sub, 1, None, &ctx())
        .await;
    assert_eq!(field_errors(looped.unwrap_err()), ["parent_id"]);

    let foreign = world.processor(&other.member, "Foreign").await;
    let outside = world
        .create_processor(&team.member, "Reseller", Some(foreign.id))
        .await;
    assert_eq!(field_errors(outside.unwrap_err()), ["parent_id"]);

    let in_use = r
        .processor_records()
        .delete(&team.admin, top.id, 1, &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(in_use, RegistersError::Conflict { code: "in_use", .. }),
        "{in_use:?}"
    );
}

#[tokio::test]
async fn another_tenants_records_are_not_found() {
    let world = World::new();
    let a = world.team().await;
    let b = world.team().await;
    let r = &world.registers;
    let activity = world.activity(&a.member, "Payroll").await;
    let processor = world.processor(&a.member, "Hosting").await;

    let not_found = |e: RegistersError| matches!(e, RegistersError::NotFound);
    assert!(not_found(
        r.activity_records()
            .get(&b.member, activity.id, &ctx())
            .await
            .unwrap_err()
    ));
    assert!(not_found(
        world
            .rename_activity(&b.member, activity.id, "Hijacked", 1)
            .await
            .unwrap_err()
    ));
    assert!(not_found(
        r.activity_records()
            .delete(&b.admin, activity.id, 1, &ctx())
            .await
            .unwrap_err()
    ));
    assert!(not_found(
        r.processor_records()
            .get(&b.member, processor.id, &ctx())
            .await
            .unwrap_err()
    ));
    let query = ProcessorQuery {
        limit: 100,
        ..ProcessorQuery::default()
    };
    let listed = r
        .processor_records()
        .list(&b.member, &query, &ctx())
        .await
        .unwrap();
    assert!(listed.items.is_empty(), "B lists none of A's processors");
    let still: ActivityId = r
        .activity_records()
        .get(&a.member, activity.id, &ctx())
        .await
        .unwrap()
        .id;
    assert_eq!(still, activity.id);
}

#[tokio::test]
async fn a_cursor_from_another_sort_is_refused() {
    let (world, team) = World::with_team().await;
    // A name sort's cursor (its key a name) on the created sort (whose keys are empty).
    let query = ActivityQuery {
        sort: Sort::Created,
        after: Some(Cursor {
            key: "Payroll".to_owned(),
            id: uuid::Uuid::now_v7(),
        }),
        limit: 10,
        ..ActivityQuery::default()
    };
    let refused = world.list_activities(&team.member, &query).await;
    assert_eq!(field_errors(refused.unwrap_err()), ["cursor"]);
}

#[tokio::test]
async fn a_register_without_due_dates_refuses_the_due_sorts() {
    let (world, team) = World::with_team().await;
    for sort in [Sort::Due, Sort::DueDesc] {
        let query = ActivityQuery {
            sort,
            limit: 10,
            ..ActivityQuery::default()
        };
        let refused = world.list_activities(&team.member, &query).await;
        assert_eq!(field_errors(refused.unwrap_err()), ["sort"], "{sort:?}");
    }
}

fn policy_fields(title: &str, owner: Option<UserId>) -> PolicyFields {
    serde_json::from_value(json!({
        "title": title,
        "kind": "privacy_policy",
        "owner_id": owner,
        "review_interval_months": 12,
    }))
    .expect("valid policy fields")
}

/// Moves version `number` of `policy` to `next`, at `version`.
async fn move_version(
    r: &Registers,
    scope: &TenantScope,
    policy: PolicyId,
    number: i32,
    next: VersionStatus,
    version: i32,
) -> Result<PolicyVersion, RegistersError> {
    r.transition_version(scope, policy, number, next, version, &ctx())
        .await
}

#[track_caller]
fn assert_conflict_code<T: std::fmt::Debug>(result: Result<T, RegistersError>, expected: &str) {
    match result {
        Err(RegistersError::Conflict { code, .. }) => assert_eq!(code, expected),
        other => panic!("expected the conflict {expected}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_policy_version_goes_through_review_and_only_admins_publish_or_retire() {
    let (world, team) = World::with_team().await;
    let r = &world.registers;
    let policy = r
        .policy_records()
        .create(&team.member, policy_fields("Privacy", None), None, &ctx())
        .await
        .unwrap();
    assert_eq!(policy.derived.current_version, None);
    let v1 = r
        .create_version(
            &team.member,
            policy.id,
            "# Privacy\n",
            Some("first"),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!((v1.number, v1.status), (1, VersionStatus::Draft));
    assert_conflict_code(
        move_version(r, &team.admin, policy.id, 1, VersionStatus::Published, 1).await,
        "invalid_transition",
    );
    let review = move_version(r, &team.member, policy.id, 1, VersionStatus::InReview, 1)
        .await
        .unwrap();
    // A member does not publish.
    assert_forbidden(
        move_version(r, &team.member, policy.id, 1, VersionStatus::Published, 2).await,
    );
    assert!(matches!(
        move_version(r, &team.admin, policy.id, 1, VersionStatus::Published, 1).await,
        Err(RegistersError::StaleVersion)
    ));
    let published = move_version(
        r,
        &team.admin,
        policy.id,
        1,
        VersionStatus::Published,
        review.version,
    )
    .await
    .unwrap();
    assert_eq!(published.published_by, team.admin.user_id());
    assert!(published.published_at.is_some());

    // Publishing makes the version current, the policy active and sets its next review.
    let stored = r
        .policy_records()
        .get(&team.viewer, policy.id, &ctx())
        .await
        .unwrap();
    assert_eq!(stored.derived.current_version, Some(1));
    assert_eq!(stored.fields.status, PolicyStatus::Active);
    let today = published.published_at.unwrap().date();
    assert_eq!(stored.fields.next_review_date, Some(add_months(today, 12)));
    assert_eq!(stored.version, 2);
    assert_eq!(
        r.current_version(&team.viewer, policy.id, &ctx())
            .await
            .unwrap(),
        published
    );
    assert_conflict_code(
        r.edit_version(
            &team.member,
            policy.id,
            1,
            "# Changed\n",
            published.version,
            &ctx(),
        )
        .await,
        "version_frozen",
    );

    // A second publication retires the first; retiring it leaves none current.
    r.create_version(&team.member, policy.id, "# Privacy 2\n", None, &ctx())
        .await
        .unwrap();
    move_version(r, &team.member, policy.id, 2, VersionStatus::InReview, 1)
        .await
        .unwrap();
    let second = move_version(r, &team.admin, policy.id, 2, VersionStatus::Published, 2)
        .await
        .unwrap();
    let versions = r.versions(&team.viewer, policy.id, &ctx()).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.number, v.status))
            .collect::<Vec<_>>(),
        [(2, VersionStatus::Published), (1, VersionStatus::Retired)]
    );
    move_version(
        r,
        &team.admin,
        policy.id,
        2,
        VersionStatus::Retired,
        second.version,
    )
    .await
    .unwrap();
    assert!(matches!(
        r.current_version(&team.viewer, policy.id, &ctx()).await,
        Err(RegistersError::NotFound)
    ));
    for action in [
        "policy_version.submitted",
        "policy_version.published",
        "policy_version.retired",
    ] {
        assert!(
            world.count(&team, action).await > 0,
            "{action} is in the audit trail"
        );
    }
}

#[tokio::test]
async fn a_policy_owner_is_a_member_and_a_deletion_names_the_title() {
    let (world, team) = World::with_team().await;
    let other = world.team().await;
    let r = &world.registers;
    let stranger = other.member.user_id();
    let refused = r
        .policy_records()
        .create(
            &team.member,
            policy_fields("Retention", stranger),
            None,
            &ctx(),
        )
        .await
        .unwrap_err();
    assert_eq!(field_errors(refused), ["owner_id"]);
    let policy = r
        .policy_records()
        .create(
            &team.member,
            policy_fields("Retention", team.member.user_id()),
            None,
            &ctx(),
        )
        .await
        .unwrap();
    r.create_version(&team.member, policy.id, "# Retention\n", None, &ctx())
        .await
        .unwrap();
    r.policy_records()
        .delete(&team.admin, policy.id, 1, &ctx())
        .await
        .unwrap();
    let event = world.the_event(&team, "policy.deleted", policy.id).await;
    assert_eq!(
        event.changes["title"], "Retention",
        "the event says what went"
    );
    assert!(matches!(
        r.versions(&team.admin, policy.id, &ctx()).await,
        Err(RegistersError::NotFound)
    ));
}

#[tokio::test]
async fn a_register_action_runs_the_kernel_path_with_its_own_audit_action() {
    let (world, team) = World::with_team().await;
    let activity = world.activity(&team.member, "Payroll").await;
    let reviewed = aura_audit::AuditAction::known("processing_activity.reviewed");
    let records = world.registers.activity_records();
    let act = |scope: TenantScope, version: i32, name: &'static str| {
        let reviewed = reviewed.clone();
        async move {
            records
                .act(&scope, activity.id, version, &reviewed, &ctx(), |record| {
                    record.fields.name = name.to_owned();
                    Ok(())
                })
                .await
        }
    };

    assert_forbidden(act(team.viewer.clone(), 1, "Viewed").await);
    let blank = act(team.member.clone(), 1, " ").await.unwrap_err();
    assert_eq!(
        field_errors(blank),
        ["name"],
        "the action's result is validated"
    );
    let done = act(team.member.clone(), 1, "Payroll 2027").await.unwrap();
    assert_eq!(
        (done.version, done.fields.name.as_str()),
        (2, "Payroll 2027")
    );
    // The store's derived values come back with the write (the gaps of the activity).
    assert_eq!(done.derived.missing, activity.derived.missing);
    let stale = act(team.member.clone(), 1, "Lost").await.unwrap_err();
    assert!(matches!(stale, RegistersError::StaleVersion), "{stale:?}");

    // One event, under the action's name.
    let event = world
        .the_event(&team, "processing_activity.reviewed", activity.id)
        .await;
    assert_eq!(event.changes["name"]["after"], "Payroll 2027");
    assert_eq!(world.count(&team, "processing_activity.updated").await, 0);
}
