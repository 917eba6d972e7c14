//! Contracts of the GDPR registers' ports, and their building blocks: complete,
//! realistic rows, events, audit checks and a pager that walks a list through its cursors.
//!
//! Registers on the record kernel (`RecordStore<K>`: activities, processors, policies)
//! share one set of contracts, [`records`], written once and generic over a
//! [`RecordFixture`]; each register's module implements the fixture and adds only the
//! contracts that are its own (links, derived values, filters, policy versions). The
//! organisation profile, one per tenant, has its own module.
//!
//! What every register port owes, beyond its own rules:
//! - Isolation: another tenant's row is `NotFound` for every method (lists, `all` and
//!   `list_versions` simply never show it), a link or parent in another tenant is
//!   `NotFound`, and a row claiming another tenant is refused (any error), stored nowhere.
//! - Optimistic concurrency: an update or delete naming a stale `version` is
//!   `Conflict::Version` and changes nothing; of two concurrent updates at one version
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
pub mod records;

use std::{fmt::Debug, future::Future, sync::Arc};

use aura_adapter_crypto::Sha256ChainHasher;
use aura_audit::{Actor, AuditAction, AuditRecord, AuditService, PendingEvent};
use aura_gdpr_registers::{
    CountryCode,
    ports::{Cursor, ListPage, Sort},
};
use aura_records::{Record, RecordKind};
use aura_shared_kernel::{Role, StoreError, TenantScope, UserId};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    RegisterStores,
    fixtures::{TenantFixture, add_user, chain, event, register_tenant},
};

pub use activities::{activity_fields, add_activity, new_activity};
pub use aura_gdpr_registers::{Activities, Policies, Processors};
pub use policies::{add_policy, add_version, insert_policy, new_policy, new_version};
pub use processors::{add_processor, new_processor, processor_fields};
pub use records::RecordFixture;

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

/// A country code the fixtures use (`US`, `DE`).
pub fn country(code: &str) -> CountryCode {
    CountryCode::parse("country", code).expect("valid country code")
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

/// Every kernel record lists by its id, its label (the name the name sorts key on) and
/// its `updated_at`.
impl<K: RecordKind> ListedRow for Record<K> {
    fn row_id(&self) -> Uuid {
        self.id.as_uuid()
    }
    fn row_name(&self) -> &str {
        K::label(&self.fields)
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
