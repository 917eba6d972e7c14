//! The GDPR register ports on PostgreSQL, as the app role: optimistic versions, links,
//! publication, keyset pages, filters, row-level security and composite foreign keys,
//! and an audit event for every write.

mod common;

use std::{future::Future, sync::Arc};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_postgres::PgStores;
use aura_audit::{AuditAction, AuditService, PendingEvent};
use aura_gdpr_registers::{
    ActivityFields, ActivityFilter, Contact, JointController, OrganisationProfile, Policy,
    PolicyFields, PolicyKind, PolicyStatus, PolicyVersion, ProcessingActivity, Processor,
    VersionStatus,
    ports::{ActivityQuery, Cursor, ListPage, Sort},
};
use aura_port_contracts::registers::processor_fields;
use aura_records::{Id, ListQuery, Record, RecordKind, RecordStore};
use aura_shared_kernel::{StoreError, Tenant, TenantScope, UserId};
use common::{
    Env, T0, assert_changes_none, assert_only_own_rows, assert_refused_by_rls, connect, env,
    registered, registered_with_member,
};
use diesel_async::SimpleAsyncConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const REGISTER_TABLES: [&str; 6] = [
    "organisation_profiles",
    "processors",
    "processing_activities",
    "activity_processors",
    "policies",
    "policy_versions",
];

fn event(action: &'static str, entity: impl ToString) -> PendingEvent {
    common::event(AuditAction::known(action), entity)
}

async fn events(stores: &PgStores, scope: &TenantScope) -> u64 {
    let verified = AuditService::new(stores.audit(), Arc::new(HmacChainHasher::with_test_key()))
        .verify(scope)
        .await
        .expect("verify");
    assert!(verified.valid, "the audit chain must verify");
    verified.events_checked
}

// ------------------------------------------------------------------ fixtures

/// A complete activity named `name` (the contract suite's), without owner or processors.
fn activity_fields(name: &str) -> ActivityFields {
    aura_port_contracts::registers::activity_fields(name, None, &[])
}

fn policy_fields(title: &str) -> PolicyFields {
    PolicyFields {
        title: title.to_owned(),
        kind: PolicyKind::PrivacyPolicy,
        owner_id: None,
        review_interval_months: Some(12),
        next_review_date: None,
        status: PolicyStatus::Draft,
    }
}

/// A new record of `tenant` with `fields`, stamped `at`.
fn record<K: RecordKind>(tenant: &Tenant, fields: K::Fields, at: OffsetDateTime) -> Record<K> {
    Record {
        id: Id::generate(),
        tenant_id: tenant.id,
        fields,
        derived: K::Derived::default(),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

/// Stores `record` with its creation event: the store's answer.
async fn try_add<K: RecordKind>(
    store: Arc<dyn RecordStore<K>>,
    scope: &TenantScope,
    record: &Record<K>,
) -> Result<Record<K>, StoreError> {
    let event = common::event(K::ACTIONS.created.clone(), record.id);
    store.insert(scope, record, event).await
}

/// Stores `record` with its creation event and returns it.
async fn add<K: RecordKind>(
    store: Arc<dyn RecordStore<K>>,
    scope: &TenantScope,
    record: Record<K>,
) -> Record<K> {
    if let Err(error) = try_add(store, scope, &record).await {
        panic!("insert a {}: {error:?}", K::ENTITY);
    }
    record
}

/// A new record of `tenant` with `fields`, stamped [`T0`], stored with its creation event.
async fn add_new<K: RecordKind>(
    store: Arc<dyn RecordStore<K>>,
    scope: &TenantScope,
    tenant: &Tenant,
    fields: K::Fields,
) -> Record<K> {
    add(store, scope, record(tenant, fields, T0)).await
}

/// Another tenant's record: not found.
#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

/// A refusal of invalid input naming `field` first.
#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>, field: &str) {
    assert!(
        matches!(&result, Err(StoreError::Invalid(e)) if e.0[0].field == field),
        "{result:?}"
    );
}

fn policy_version(policy: &Policy, number: i32, author: UserId) -> PolicyVersion {
    PolicyVersion {
        id: Id::generate(),
        tenant_id: policy.tenant_id,
        policy_id: policy.id,
        number,
        content: format!("# Privacy policy\n\nVersion {number}."),
        status: VersionStatus::Draft,
        change_note: Some(format!("draft {number}")),
        created_by: Some(author),
        created_at: T0,
        published_by: None,
        published_at: None,
        retired_at: None,
        version: 1,
    }
}

async fn add_version(
    stores: &PgStores,
    scope: &TenantScope,
    policy: &Policy,
    number: i32,
    author: UserId,
) -> PolicyVersion {
    let v = policy_version(policy, number, author);
    stores
        .policy_versions()
        .insert_version(scope, &v, event("policy_version.created", v.id))
        .await
        .expect("insert version");
    v
}

/// Every item of a list, page by page (`limit` per page), following `next`.
async fn all_pages<T, F, Fut>(mut fetch: F) -> (Vec<T>, usize)
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<ListPage<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = fetch(after).await.expect("page");
        pages += 1;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return (items, pages),
        }
        assert!(pages < 100, "pagination does not end");
    }
}

/// The order a sort promises, for (id, name, updated_at) triples.
fn expected_order(mut rows: Vec<(Uuid, String, OffsetDateTime)>, sort: Sort) -> Vec<Uuid> {
    match sort {
        Sort::Created => rows.sort_by_key(|r| r.0),
        Sort::CreatedDesc => rows.sort_by_key(|r| std::cmp::Reverse(r.0)),
        Sort::Name => rows.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0))),
        Sort::NameDesc => rows.sort_by(|a, b| (&b.1, b.0).cmp(&(&a.1, a.0))),
        Sort::UpdatedDesc => rows.sort_by_key(|r| std::cmp::Reverse((r.2, r.0))),
        // The registers walked here have no due dates (the contracts walk the due sorts).
        Sort::Due | Sort::DueDesc => panic!("{sort:?} is not a sort of these registers"),
    }
    rows.into_iter().map(|r| r.0).collect()
}

const SORTS: [Sort; 5] = [
    Sort::Created,
    Sort::CreatedDesc,
    Sort::Name,
    Sort::NameDesc,
    Sort::UpdatedDesc,
];

/// Names with a duplicate (ties break on id), mixed case (code-point order) and a
/// non-ASCII letter; updated_at values with a tie as well.
const NAMES: [&str; 7] = [
    "payroll", "Payroll", "CRM", "backups", "Ärzte", "payroll", "crm",
];

fn updated_at(i: usize) -> OffsetDateTime {
    T0 + Duration::minutes([5, 3, 3, 9, 1, 7, 2][i]) + Duration::microseconds(7)
}

/// With records named [`NAMES`] stored in tenant `a` (and one in `b`), every walk through
/// `store`'s list in `a`, in every sort and page size, serves them in the order the sort
/// promises, in as many pages as it takes; `all` is oldest first.
async fn assert_lists<K: RecordKind>(
    store: Arc<dyn RecordStore<K>>,
    (tenant, scope): (&Tenant, &TenantScope),
    (tenant_b, scope_b): (&Tenant, &TenantScope),
    fields: impl Fn(&str) -> K::Fields,
    what: &str,
) {
    add_new(store.clone(), scope_b, tenant_b, fields("payroll")).await;
    let mut rows = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let at = updated_at(i);
        let stored = add(store.clone(), scope, record(tenant, fields(name), at)).await;
        rows.push((stored.id.as_uuid(), name.to_string(), at));
    }
    let rows = &rows[..];
    for sort in SORTS {
        for limit in [1, 3, 7, 50] {
            let (items, pages) = all_pages(|after| {
                let store = store.clone();
                let scope = scope.clone();
                async move {
                    let query = ListQuery {
                        sort,
                        after,
                        limit,
                        ..ListQuery::default()
                    };
                    store.list(&scope, &query).await
                }
            })
            .await;
            let got: Vec<Uuid> = items.iter().map(|r| r.id.as_uuid()).collect();
            assert_eq!(
                got,
                expected_order(rows.to_vec(), sort),
                "{what} {sort:?} {limit}"
            );
            assert_eq!(
                pages,
                rows.len().div_ceil(limit).max(1),
                "{what} {sort:?} {limit}"
            );
        }
    }
    let all: Vec<Uuid> = store
        .all(scope)
        .await
        .expect("all")
        .iter()
        .map(|r| r.id.as_uuid())
        .collect();
    assert_eq!(
        all,
        expected_order(rows.to_vec(), Sort::Created),
        "{what}: all is oldest first"
    );
}

// ------------------------------------------------------------------ organisation

/// Creating, replacing and versioning the profile are port contracts (`port-contracts`,
/// `organisation`). What only the database holds is the stored form: a profile written
/// before that form carried `v` (as the domain type serialised then) still reads.
#[tokio::test]
async fn a_profile_stored_before_its_form_was_versioned_still_reads() {
    let env = env().await;
    let (tenant, _, scope) = registered(&env.stores, "acme").await;
    let mut admin = connect(env.db.superuser_url()).await;
    admin
        .batch_execute(&format!(
            r#"INSERT INTO organisation_profiles (tenant_id, profile, version, updated_at)
               VALUES ('{}', '{{"legal_name": "Acme GmbH", "address": "Main St 1",
                   "contact_email": "privacy@acme.example", "contact_phone": null,
                   "dpo": {{"name": "Dana", "email": "dpo@acme.example", "phone": null,
                       "address": null}},
                   "dpo_not_required_reason": null, "eu_representative": null,
                   "joint_controllers": [{{"contact": {{"name": "Partner AG", "email": null,
                       "phone": null, "address": null}}, "responsibilities": "Marketing"}}]}}',
                   3, '2026-11-23T10:00:00Z')"#,
            tenant.id
        ))
        .await
        .expect("a row as the first release wrote it");
    let stored = env
        .stores
        .organisation()
        .get(&scope)
        .await
        .expect("get")
        .expect("the profile");
    let expected = OrganisationProfile {
        legal_name: "Acme GmbH".to_owned(),
        address: Some("Main St 1".to_owned()),
        contact_email: Some("privacy@acme.example".to_owned()),
        dpo: Some(Contact {
            name: "Dana".to_owned(),
            email: Some("dpo@acme.example".to_owned()),
            ..Contact::default()
        }),
        joint_controllers: vec![JointController {
            contact: Contact {
                name: "Partner AG".to_owned(),
                ..Contact::default()
            },
            responsibilities: Some("Marketing".to_owned()),
        }],
        ..OrganisationProfile::default()
    };
    assert_eq!(stored.profile, expected);
    assert_eq!((stored.version, stored.updated_at), (3, Some(T0)));
}

// ------------------------------------------------------------------ activities

#[tokio::test]
async fn owners_must_be_users_of_the_tenant_and_are_cleared_when_the_user_goes() {
    let env = env().await;
    let (tenant, _, scope, member) = registered_with_member(&env.stores, "acme").await;
    let (_, owner_b, _) = registered(&env.stores, "beta").await;

    let mut fields = activity_fields("Payroll");
    fields.owner_id = Some(owner_b.id);
    let a = record(&tenant, fields, T0);
    assert_invalid(
        try_add(env.stores.activities(), &scope, &a).await,
        "owner_id",
    );
    let mut p: Policy = record(&tenant, policy_fields("Privacy"), T0);
    p.fields.owner_id = Some(owner_b.id);
    assert_invalid(try_add(env.stores.policies(), &scope, &p).await, "owner_id");

    let mut fields = activity_fields("Payroll");
    fields.owner_id = Some(member.id);
    let a = add_new(env.stores.activities(), &scope, &tenant, fields).await;
    p.fields.owner_id = Some(member.id);
    let p = add(env.stores.policies(), &scope, p).await;
    env.stores
        .users()
        .delete(
            &scope,
            member.id,
            common::event(aura_identity::actions::USER_DELETED, member.id),
        )
        .await
        .expect("delete member");
    let a_now = env.stores.activities().get(&scope, a.id).await.expect("a");
    assert_eq!(a_now.fields.owner_id, None);
    assert_eq!(a_now.fields.name, a.fields.name);
    let p_now = env.stores.policies().get(&scope, p.id).await.expect("p");
    assert_eq!(p_now.fields.owner_id, None);
}

// ------------------------------------------------------------------ processors

// ------------------------------------------------------------------ policies

/// Publication, numbering, `current_version` and the versions going with their policy
/// are port contracts (`port-contracts`, `policies`); what only the database shows is
/// that it holds one published version per policy itself.
#[tokio::test]
async fn the_database_holds_one_published_version_per_policy() {
    let env = env().await;
    let Filled {
        owner,
        scope,
        policy: p,
        version: v1,
        ..
    } = filled_tenant(&env.stores, "acme").await;
    let versions = env.stores.policy_versions();
    let v1_pub = PolicyVersion {
        status: VersionStatus::Published,
        published_by: Some(owner.id),
        published_at: Some(T0 + Duration::days(1)),
        version: 2,
        ..v1
    };
    versions
        .update_version(
            &scope,
            &v1_pub,
            1,
            None,
            event("policy_version.published", p.id),
        )
        .await
        .expect("publish v1");
    add_version(&env.stores, &scope, &p, 2, owner.id).await;

    let mut admin = connect(env.db.superuser_url()).await;
    let error = admin
        .batch_execute(&format!(
            "UPDATE policy_versions SET status = 'published' WHERE policy_id = '{}' AND number = 2",
            p.id
        ))
        .await
        .expect_err("a second published version");
    assert!(
        error
            .to_string()
            .contains("policy_versions_one_published_idx"),
        "{error}"
    );
}

// ------------------------------------------------------------------ lists

#[tokio::test]
async fn every_list_pages_through_every_sort() {
    let env = env().await;
    let (tenant, _, scope) = registered(&env.stores, "acme").await;
    // Noise in another tenant, which no page may show.
    let (tenant_b, _, scope_b) = registered(&env.stores, "beta").await;
    let (a, b) = ((&tenant, &scope), (&tenant_b, &scope_b));
    assert_lists(env.stores.activities(), a, b, activity_fields, "activities").await;
    assert_lists(
        env.stores.processors(),
        a,
        b,
        processor_fields,
        "processors",
    )
    .await;
    assert_lists(env.stores.policies(), a, b, policy_fields, "policies").await;

    // A -updated_at cursor whose key is no time is refused, not misread.
    let query = ActivityQuery {
        sort: Sort::UpdatedDesc,
        after: Some(Cursor {
            key: "not a time".to_owned(),
            id: Uuid::nil(),
        }),
        limit: 5,
        ..ActivityQuery::default()
    };
    assert!(env.stores.activities().list(&scope, &query).await.is_err());
}

/// Stores the tenant's first organisation profile.
async fn put_profile(stores: &PgStores, scope: &TenantScope) {
    let profile = OrganisationProfile {
        legal_name: "Org".to_owned(),
        ..Default::default()
    };
    stores
        .organisation()
        .put(scope, &profile, 0, event("organisation.updated", "org"))
        .await
        .expect("profile");
}

/// A registered tenant with a row in every register table: the profile, a processor,
/// an activity linking it, a policy and its first version (a draft by the owner).
struct Filled {
    tenant: Tenant,
    owner: aura_identity::User,
    scope: TenantScope,
    processor: Processor,
    activity: ProcessingActivity,
    policy: Policy,
    version: PolicyVersion,
}

async fn filled_tenant(stores: &PgStores, prefix: &str) -> Filled {
    let (tenant, owner, scope) = registered(stores, prefix).await;
    put_profile(stores, &scope).await;
    let processor = add_new(
        stores.processors(),
        &scope,
        &tenant,
        processor_fields("Cloud"),
    )
    .await;
    let mut fields = activity_fields("Payroll");
    fields.processor_ids = vec![processor.id];
    let activity = add_new(stores.activities(), &scope, &tenant, fields).await;
    let policy = add_new(stores.policies(), &scope, &tenant, policy_fields("Privacy")).await;
    let version = add_version(stores, &scope, &policy, 1, owner.id).await;
    Filled {
        tenant,
        owner,
        scope,
        processor,
        activity,
        policy,
        version,
    }
}

/// A fresh database with two filled tenants, alpha and beta.
async fn two_filled_tenants() -> (Env, Filled, Filled) {
    let env = env().await;
    let a = filled_tenant(&env.stores, "alpha").await;
    let b = filled_tenant(&env.stores, "beta").await;
    (env, a, b)
}

#[tokio::test]
async fn row_level_security_confines_every_register_table() {
    let (env, a, b) = two_filled_tenants().await;

    let mut conn = connect(env.db.app_url()).await;
    // Without a tenant: nothing; in A's context: A's rows only.
    assert_only_own_rows(
        &mut conn,
        a.tenant.id,
        &REGISTER_TABLES.map(|table| (table, 1)),
    )
    .await;
    // Nothing can be written into B.
    let intruder = format!(
        "INSERT INTO processors (tenant_id, id, name, dpa_status, details, version,
                                 created_at, updated_at)
         VALUES ('{}', '{}', 'Intruder', 'none', '{{}}', 1, now(), now())",
        b.tenant.id,
        Uuid::now_v7()
    );
    assert_refused_by_rls(&mut conn, &intruder).await;
    for table in REGISTER_TABLES {
        // The app may not update links (they are replaced), so those get a DELETE.
        let statement = if table == "activity_processors" {
            format!("DELETE FROM {table} WHERE tenant_id = $1::uuid")
        } else {
            format!("UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1::uuid")
        };
        assert_changes_none(&mut conn, table, statement, b.tenant.id).await;
    }
    conn.batch_execute("ROLLBACK").await.expect("rollback");

    // Through the ports: B's records are not found from A.
    let activities = env.stores.activities();
    assert_not_found(activities.get(&a.scope, b.activity.id).await);
    let deleted = event("activity.deleted", 1);
    assert_not_found(activities.delete(&a.scope, b.activity.id, 1, deleted).await);
    assert_not_found(env.stores.processors().get(&a.scope, b.processor.id).await);
    let a_list = env
        .stores
        .activities()
        .list(
            &a.scope,
            &ActivityQuery {
                filter: ActivityFilter {
                    processor: Some(b.processor.id),
                    ..ActivityFilter::default()
                },
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(a_list.items.is_empty());
    // The store's own refusals of another tenant's policies and versions are port
    // contracts (`other_tenants_records_are_out_of_reach`,
    // `versions_of_a_missing_or_foreign_policy_are_not_found`).

    // Each chain verifies on its own.
    assert!(events(&env.stores, &a.scope).await > 0);
    assert!(events(&env.stores, &b.scope).await > 0);
}

#[tokio::test]
async fn composite_foreign_keys_stop_register_links_into_another_tenant_even_for_the_superuser() {
    let (env, a, b) = two_filled_tenants().await;

    let mut admin = connect(env.db.superuser_url()).await;
    let attempts = [
        (
            "activity_processors_processor_fkey",
            format!(
                "INSERT INTO activity_processors (tenant_id, activity_id, processor_id)
                 VALUES ('{}', '{}', '{}')",
                a.tenant.id, a.activity.id, b.processor.id
            ),
        ),
        (
            "processors_parent_fkey",
            format!(
                "UPDATE processors SET parent_id = '{}' WHERE id = '{}'",
                b.processor.id, a.processor.id
            ),
        ),
        (
            "processing_activities_owner_fkey",
            format!(
                "UPDATE processing_activities SET owner_id = '{}' WHERE id = '{}'",
                b.owner.id, a.activity.id
            ),
        ),
        (
            "policies_owner_fkey",
            format!(
                "UPDATE policies SET owner_id = '{}' WHERE tenant_id = '{}'",
                b.owner.id, a.tenant.id
            ),
        ),
        (
            "policy_versions_policy_fkey",
            format!(
                "INSERT INTO policy_versions (tenant_id, id, policy_id, number, content, status,
                                              created_at, version)
                 VALUES ('{}', '{}', '{}', 9, 'x', 'draft', now(), 1)",
                a.tenant.id,
                Uuid::now_v7(),
                b.policy.id
            ),
        ),
        (
            "activity_processors_activity_fkey",
            format!(
                "INSERT INTO activity_processors (tenant_id, activity_id, processor_id)
                 VALUES ('{}', '{}', '{}')",
                b.tenant.id, a.activity.id, b.processor.id
            ),
        ),
    ];
    for (constraint, sql) in attempts {
        let error = admin.batch_execute(&sql).await.expect_err(constraint);
        let text = error.to_string();
        assert!(
            text.contains("foreign key") && text.contains(constraint),
            "{constraint}: {text}"
        );
    }
}

#[tokio::test]
async fn a_corrupt_row_is_an_unexpected_error_not_a_panic() {
    let env = env().await;
    let Filled {
        scope,
        activity: a,
        processor: p,
        ..
    } = filled_tenant(&env.stores, "acme").await;
    let mut admin = connect(env.db.superuser_url()).await;
    admin
        .batch_execute(
            "UPDATE processing_activities SET details = '{\"purposes\": 7}';
             UPDATE processors SET details = '{\"clauses\": \"all\"}';
             UPDATE organisation_profiles SET profile = '{\"legal_name\": 1}';",
        )
        .await
        .expect("corrupt");
    let activity = env.stores.activities().get(&scope, a.id).await;
    assert!(
        matches!(activity, Err(StoreError::Unexpected(_))),
        "{activity:?}"
    );
    let all = env.stores.activities().all(&scope).await;
    assert!(matches!(all, Err(StoreError::Unexpected(_))), "{all:?}");
    let processor = env.stores.processors().get(&scope, p.id).await;
    assert!(
        matches!(processor, Err(StoreError::Unexpected(_))),
        "{processor:?}"
    );
    let profile = env.stores.organisation().get(&scope).await;
    assert!(
        matches!(profile, Err(StoreError::Unexpected(_))),
        "{profile:?}"
    );
}
