//! Contracts of the GDPR registers' ports (`aura_gdpr_registers::ports`), one module per
//! port, and their building blocks: complete, realistic rows, events, audit checks and a
//! pager that walks a list through its cursors.
//!
//! What every register port owes, beyond its own rules:
//! - Isolation: another tenant's row is `NotFound` for every method (lists, `all` and
//!   `list_versions` simply never show it), a link or parent in another tenant is
//!   `NotFound`, and a row claiming another tenant is refused (any error), stored nowhere.
//! - Optimistic concurrency: an update or delete naming a stale `version` is
//!   `Conflict("version")` and changes nothing; of two concurrent updates at one version
//!   exactly one wins.
//! - Every successful write seals exactly one audit event in the tenant's chain, a
//!   refused one none, and the chain verifies.
//! - Lists order by the `Sort` key with ties broken by id in the same direction
//!   (`created_at`: id ascending; `-created_at`: id descending; `name`: (name, id)
//!   ascending; `-name`: (name, id) descending; `-updated_at`: (updated_at, id)
//!   descending), and resume strictly after the cursor. `next` is the cursor of the last
//!   item when more follow: key empty for the created sorts, the name (policy title) for
//!   the name sorts, `updated_at` in RFC 3339 for `-updated_at`.
//!
//! The names the contracts sort are single capitalised ASCII words or share a prefix, so
//! byte order and the usual database collations agree on them.

pub mod activities;
pub mod organisation;
pub mod policies;
pub mod processors;

use std::{fmt::Debug, future::Future, sync::Arc};

use aura_adapter_crypto::Sha256ChainHasher;
use aura_audit::{Actor, AuditAction, AuditRecord, AuditService, PendingEvent};
use aura_gdpr_registers::{
    ActivityFields, ActivityRole, ActivityStatus, Art9Condition, Art28Clauses, CountryCode,
    DataCategory, DpaStatus, DpiaRequirement, LawfulBasis, Policy, PolicyFields, PolicyKind,
    PolicyStatus, PolicyVersion, ProcessingActivity, Processor, ProcessorFields, Purpose, Transfer,
    TransferMechanism, VersionStatus,
    ports::{Cursor, ListPage, Sort},
};
use aura_tenancy::{Role, StoreError, TenantScope, UserId};
use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::date};
use uuid::Uuid;

use crate::{
    RegisterStores,
    fixtures::{TenantFixture, add_user, chain, event, register_tenant},
};

/// Every sort a list offers.
pub const SORTS: [Sort; 5] = [
    Sort::Created,
    Sort::CreatedDesc,
    Sort::Name,
    Sort::NameDesc,
    Sort::UpdatedDesc,
];

/// A fresh tenant (owner scope) and a member who owns records.
#[derive(Debug, Clone)]
pub struct RegisterFixture {
    pub fx: TenantFixture,
    pub member: UserId,
}

impl RegisterFixture {
    pub fn scope(&self) -> &TenantScope {
        &self.fx.scope
    }

    pub fn owner(&self) -> UserId {
        self.fx.owner.id
    }
}

/// Registers a fresh tenant with its owner and a member.
pub async fn register(stores: &RegisterStores) -> RegisterFixture {
    let fx = register_tenant(&stores.identity).await;
    let member = add_user(&stores.identity, &fx, Role::Member).await.id;
    RegisterFixture { fx, member }
}

pub fn now(stores: &RegisterStores) -> OffsetDateTime {
    stores.identity.clock.now()
}

/// An event of a register write, acted by the tenant's owner.
pub fn reg_event(
    rf: &RegisterFixture,
    action: &str,
    entity_type: &'static str,
    id: impl ToString,
) -> PendingEvent {
    event(
        Actor::User(rf.owner()),
        AuditAction::from_stored(action.to_owned()),
        entity_type,
        id,
    )
}

fn country(code: &str) -> CountryCode {
    CountryCode::parse("country", code).expect("valid country code")
}

/// A complete controller activity (payroll-like): two purposes, special-category data
/// with its Art. 9 condition, retention periods, a third-country transfer under SCCs,
/// security measures, an owner and the given processor links.
pub fn activity_fields(name: &str, owner: Option<UserId>, processors: &[Uuid]) -> ActivityFields {
    ActivityFields {
        name: name.to_owned(),
        description: Some(
            "Monthly salary payments and the tax and social-security reporting they need."
                .to_owned(),
        ),
        role: ActivityRole::Controller,
        controller_name: None,
        controller_contact: None,
        purposes: vec![
            Purpose {
                description: "Paying salaries under the employment contract".to_owned(),
                lawful_basis: LawfulBasis::Contract,
                legitimate_interest: None,
            },
            Purpose {
                description: "Reporting to tax and social-security authorities".to_owned(),
                lawful_basis: LawfulBasis::LegalObligation,
                legitimate_interest: None,
            },
        ],
        data_subject_categories: vec!["Employees".to_owned(), "Former employees".to_owned()],
        data_categories: vec![
            DataCategory {
                name: "Bank details".to_owned(),
                special_category: None,
                criminal_offence_data: false,
                retention: Some("10 years after the end of the financial year".to_owned()),
            },
            DataCategory {
                name: "Sick-leave certificates".to_owned(),
                special_category: Some(Art9Condition::EmploymentSocialSecurity),
                criminal_offence_data: false,
                retention: Some("3 years after the end of the leave".to_owned()),
            },
        ],
        recipient_categories: vec![
            "Tax office".to_owned(),
            "Social-security funds".to_owned(),
            "Payroll provider".to_owned(),
        ],
        transfers: vec![Transfer {
            country: country("US"),
            recipient: Some("Payroll Cloud Inc.".to_owned()),
            mechanism: TransferMechanism::StandardContractualClauses,
            safeguards: Some("SCC 2021/914 module 2 with a transfer impact assessment".to_owned()),
        }],
        security_measures: Some(
            "Role-based access, encryption at rest and in transit, quarterly access review"
                .to_owned(),
        ),
        data_source: Some("The employees themselves and the tax office".to_owned()),
        automated_decision_making: false,
        automated_decision_details: None,
        dpia_required: DpiaRequirement::No,
        dpia_reason: Some("No large-scale processing of special categories".to_owned()),
        owner_id: owner,
        department: Some("Human Resources".to_owned()),
        processor_ids: processors.to_vec(),
        status: ActivityStatus::Active,
        review_date: Some(date!(2027 - 01 - 31)),
    }
    .validated()
    .expect("a complete activity is valid")
}

/// A new activity (version 1, created by the owner now), not stored.
pub fn new_activity(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    processors: &[Uuid],
) -> ProcessingActivity {
    let now = now(stores);
    ProcessingActivity {
        id: Uuid::now_v7(),
        tenant_id: rf.fx.tenant.id,
        fields: activity_fields(name, Some(rf.member), processors),
        version: 1,
        created_by: Some(rf.owner()),
        created_at: now,
        updated_at: now,
    }
}

/// Stores `activity` with its creation event.
pub async fn insert_activity(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    activity: &ProcessingActivity,
) {
    stores
        .activities
        .insert(
            rf.scope(),
            activity,
            reg_event(rf, "activity.created", "activity", activity.id),
        )
        .await
        .expect("insert a fresh activity");
}

/// Stores a new complete activity and returns it.
pub async fn add_activity(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    processors: &[Uuid],
) -> ProcessingActivity {
    let activity = new_activity(stores, rf, name, processors);
    insert_activity(stores, rf, &activity).await;
    activity
}

/// The next version of `activity` as the domain builds it (version incremented, stamped
/// at the store's time).
pub fn edited_activity(
    stores: &RegisterStores,
    activity: &ProcessingActivity,
    edit: impl FnOnce(&mut ActivityFields),
) -> ProcessingActivity {
    let mut next = activity.clone();
    edit(&mut next.fields);
    next.fields = next.fields.validated().expect("edited activity is valid");
    next.version += 1;
    next.updated_at = now(stores);
    next
}

/// A processor with a signed Art. 28 agreement covering every clause, reviewed in 2027.
pub fn processor_fields(name: &str) -> ProcessorFields {
    ProcessorFields {
        name: name.to_owned(),
        contact_name: Some("Privacy Team".to_owned()),
        contact_email: Some("privacy@processor.example".to_owned()),
        country: Some(country("DE")),
        services: Some("Payroll processing and payslip delivery".to_owned()),
        data_categories: vec!["Bank details".to_owned(), "Salary".to_owned()],
        transfer_mechanism: None,
        dpa_status: DpaStatus::Signed,
        dpa_signed_on: Some(date!(2025 - 06 - 01)),
        dpa_review_on: Some(date!(2027 - 06 - 01)),
        clauses: Art28Clauses {
            documented_instructions: true,
            confidentiality: true,
            security: true,
            sub_processors: true,
            data_subject_rights: true,
            assistance: true,
            deletion_or_return: true,
            audits: true,
        },
        parent_id: None,
    }
    .validated()
    .expect("a complete processor is valid")
}

/// A new processor (version 1, created now), not stored.
pub fn new_processor(stores: &RegisterStores, rf: &RegisterFixture, name: &str) -> Processor {
    let now = now(stores);
    Processor {
        id: Uuid::now_v7(),
        tenant_id: rf.fx.tenant.id,
        fields: processor_fields(name),
        activity_ids: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub async fn insert_processor(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    processor: &Processor,
) {
    stores
        .processors
        .insert(
            rf.scope(),
            processor,
            reg_event(rf, "processor.created", "processor", processor.id),
        )
        .await
        .expect("insert a fresh processor");
}

/// Stores a new processor and returns it.
pub async fn add_processor(stores: &RegisterStores, rf: &RegisterFixture, name: &str) -> Processor {
    let processor = new_processor(stores, rf, name);
    insert_processor(stores, rf, &processor).await;
    processor
}

pub fn edited_processor(
    stores: &RegisterStores,
    processor: &Processor,
    edit: impl FnOnce(&mut ProcessorFields),
) -> Processor {
    let mut next = processor.clone();
    edit(&mut next.fields);
    next.version += 1;
    next.updated_at = now(stores);
    next
}

/// A new draft privacy policy (version 1, owned by the member), not stored.
pub fn new_policy(stores: &RegisterStores, rf: &RegisterFixture, title: &str) -> Policy {
    let now = now(stores);
    Policy {
        id: Uuid::now_v7(),
        tenant_id: rf.fx.tenant.id,
        fields: PolicyFields {
            title: title.to_owned(),
            kind: PolicyKind::PrivacyPolicy,
            owner_id: Some(rf.member),
            review_interval_months: Some(12),
            next_review_date: None,
            status: PolicyStatus::Draft,
        }
        .validated()
        .expect("a policy is valid"),
        current_version: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub async fn insert_policy(stores: &RegisterStores, rf: &RegisterFixture, policy: &Policy) {
    stores
        .policies
        .insert(
            rf.scope(),
            policy,
            reg_event(rf, "policy.created", "policy", policy.id),
        )
        .await
        .expect("insert a fresh policy");
}

pub async fn add_policy(stores: &RegisterStores, rf: &RegisterFixture, title: &str) -> Policy {
    let policy = new_policy(stores, rf, title);
    insert_policy(stores, rf, &policy).await;
    policy
}

/// A draft version `number` of `policy` with Markdown content, not stored.
pub fn new_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: &Policy,
    number: i32,
) -> PolicyVersion {
    PolicyVersion {
        id: Uuid::now_v7(),
        tenant_id: rf.fx.tenant.id,
        policy_id: policy.id,
        number,
        content: PolicyVersion::validate_content(&format!(
            "# {}\n\n## Who we are\n\nVersion {number}.\n\n## Your rights\n\n\
             You may ask for access, rectification and erasure (Art. 15–17 GDPR).\n",
            policy.fields.title
        ))
        .expect("valid content"),
        status: VersionStatus::Draft,
        change_note: Some(format!("Draft {number}")),
        created_by: Some(rf.owner()),
        created_at: now(stores),
        published_by: None,
        published_at: None,
        retired_at: None,
        version: 1,
    }
}

pub async fn insert_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    version: &PolicyVersion,
) {
    stores
        .policies
        .insert_version(
            rf.scope(),
            version,
            reg_event(rf, "policy.version_created", "policy_version", version.id),
        )
        .await
        .expect("insert the next version");
}

/// Stores the next version of `policy` (a draft) and returns it.
pub async fn add_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: &Policy,
    number: i32,
) -> PolicyVersion {
    let version = new_version(stores, rf, policy, number);
    insert_version(stores, rf, &version).await;
    version
}

/// The tenant's chain verifies and holds `expected` events; returns them.
pub async fn assert_chain(
    stores: &RegisterStores,
    scope: &TenantScope,
    expected: usize,
    what: &str,
) -> Vec<AuditRecord> {
    let records = chain(&stores.identity, scope).await;
    assert_eq!(records.len(), expected, "{what}: events in the chain");
    let verification = AuditService::new(stores.audit.clone(), Arc::new(Sha256ChainHasher))
        .verify(scope)
        .await
        .expect("verify the chain");
    assert!(
        verification.valid,
        "{what}: the chain verifies: {verification:?}"
    );
    assert_eq!(verification.events_checked, expected as u64, "{what}");
    records
}

/// How many events the tenant's chain holds now.
pub async fn events(stores: &RegisterStores, rf: &RegisterFixture) -> usize {
    chain(&stores.identity, rf.scope()).await.len()
}

/// The newest event is `action` about `entity_id`.
pub async fn assert_last_event(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    action: &str,
    entity_id: impl ToString,
) {
    let records = chain(&stores.identity, rf.scope()).await;
    let last = records.last().expect("an event");
    assert_eq!(last.action.as_str(), action, "the write's event");
    assert_eq!(last.entity_id, Some(entity_id.to_string()), "its entity");
}

#[track_caller]
pub fn assert_any_conflict<T: Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected a StoreError::Conflict, got {other:?}"),
    }
}

/// What the list contracts need of a row.
pub trait ListedRow: Clone + Debug + PartialEq {
    fn row_id(&self) -> Uuid;
    fn row_name(&self) -> &str;
    fn row_updated_at(&self) -> OffsetDateTime;
}

impl ListedRow for ProcessingActivity {
    fn row_id(&self) -> Uuid {
        self.id
    }
    fn row_name(&self) -> &str {
        &self.fields.name
    }
    fn row_updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

impl ListedRow for Processor {
    fn row_id(&self) -> Uuid {
        self.id
    }
    fn row_name(&self) -> &str {
        &self.fields.name
    }
    fn row_updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

impl ListedRow for Policy {
    fn row_id(&self) -> Uuid {
        self.id
    }
    fn row_name(&self) -> &str {
        &self.fields.title
    }
    fn row_updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

/// `rows` in the order `sort` promises.
pub fn sorted<T: ListedRow>(mut rows: Vec<T>, sort: Sort) -> Vec<T> {
    rows.sort_by(|a, b| match sort {
        Sort::Created => a.row_id().cmp(&b.row_id()),
        Sort::CreatedDesc => b.row_id().cmp(&a.row_id()),
        Sort::Name => (a.row_name(), a.row_id()).cmp(&(b.row_name(), b.row_id())),
        Sort::NameDesc => (b.row_name(), b.row_id()).cmp(&(a.row_name(), a.row_id())),
        Sort::UpdatedDesc => {
            (b.row_updated_at(), b.row_id()).cmp(&(a.row_updated_at(), a.row_id()))
        }
    });
    rows
}

/// The cursor's key names the row as `sort` promises.
#[track_caller]
pub fn assert_cursor_of<T: ListedRow>(cursor: &Cursor, row: &T, sort: Sort, what: &str) {
    assert_eq!(
        cursor.id,
        row.row_id(),
        "{what}: the cursor names the last item"
    );
    match sort {
        Sort::Created | Sort::CreatedDesc => {
            assert_eq!(
                cursor.key, "",
                "{what}: the created sorts have an empty key"
            );
        }
        Sort::Name | Sort::NameDesc => {
            assert_eq!(
                cursor.key,
                row.row_name(),
                "{what}: the name sorts key on the name"
            );
        }
        Sort::UpdatedDesc => {
            let at = OffsetDateTime::parse(&cursor.key, &Rfc3339)
                .unwrap_or_else(|e| panic!("{what}: key {:?} is not RFC 3339: {e}", cursor.key));
            assert_eq!(
                at,
                row.row_updated_at(),
                "{what}: -updated_at keys on updated_at"
            );
        }
    }
}

/// Walks a list page by page (`limit` each) from the start, checking each page's size
/// and cursor, and returns every item in the order served.
pub async fn page_through<T, F, Fut>(sort: Sort, limit: usize, mut fetch: F, what: &str) -> Vec<T>
where
    T: ListedRow,
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = ListPage<T>>,
{
    let mut all: Vec<T> = Vec::new();
    let mut after = None;
    for _ in 0..100 {
        let page = fetch(after.clone()).await;
        assert!(
            page.items.len() <= limit,
            "{what} ({sort:?}): a page holds at most `limit` items"
        );
        all.extend(page.items.iter().cloned());
        match page.next {
            Some(cursor) => {
                assert_eq!(
                    page.items.len(),
                    limit,
                    "{what} ({sort:?}): only the last page is short"
                );
                let last = page.items.last().expect("a page with a cursor has items");
                assert_cursor_of(&cursor, last, sort, what);
                after = Some(cursor);
            }
            None => return all,
        }
    }
    panic!("{what} ({sort:?}): the list never ended");
}

/// Every sort's full walk, in pages of `limit`, equals `rows` in that sort's order:
/// no duplicates, no gaps.
pub async fn assert_pages_in_every_sort<T, F, Fut>(rows: &[T], limit: usize, fetch: F, what: &str)
where
    T: ListedRow,
    F: Fn(Sort, Option<Cursor>) -> Fut,
    Fut: Future<Output = ListPage<T>>,
{
    for sort in SORTS {
        let served = page_through(sort, limit, |after| fetch(sort, after), what).await;
        let expected = sorted(rows.to_vec(), sort);
        let ids = |rows: &[T]| rows.iter().map(ListedRow::row_id).collect::<Vec<_>>();
        assert_eq!(
            ids(&served),
            ids(&expected),
            "{what} ({sort:?}): pages in order, without duplicates or gaps"
        );
        assert_eq!(
            served, expected,
            "{what} ({sort:?}): rows read back unchanged"
        );
    }
}

/// Names for list contracts: single capitalised words, some repeated (ties by id).
pub const LIST_NAMES: [&str; 9] = [
    "Payroll",
    "Recruiting",
    "Newsletter",
    "Payroll",
    "Accounting",
    "Visitors",
    "Newsletter",
    "Benefits",
    "Payroll",
];

/// An `updated_at` for the `i`-th list row: in the past, some rows sharing one instant.
pub fn list_updated_at(base: OffsetDateTime, i: usize) -> OffsetDateTime {
    let step = [3, 1, 4, 1, 5, 9, 2, 6, 5][i % 9];
    base - time::Duration::minutes(step)
}
