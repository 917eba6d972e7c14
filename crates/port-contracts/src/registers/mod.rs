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
//! - A register whose records fall due (`RecordKind::SORTS_BY_DUE`: data-subject
//!   requests) also orders by `due_on`: (due date, id) ascending with undated records
//!   last, and `-due_on` its exact reverse; the key is the ISO date, empty for an undated
//!   record. Every other register's store refuses the due sorts (`StoreError::Invalid`
//!   naming `sort`) rather than order by nothing.
//!
//! The names the contracts sort are single capitalised ASCII words or share a prefix, so
//! byte order and the usual database collations agree on them.

pub mod activities;
pub mod breaches;
pub mod dpia_screenings;
pub mod dpias;
pub mod due_sorts;
pub mod organisation;
pub mod policies;
pub mod processors;
pub mod records;

use std::{
    cmp::Reverse,
    fmt::{Debug, Display},
    future::Future,
};

use aura_audit::{Actor, AuditAction, PendingEvent};
use aura_gdpr_registers::{
    CountryCode,
    ports::{Cursor, ListPage, Sort},
};
use aura_records::{Record, RecordKind};
use aura_shared_kernel::{Role, StoreError, TenantScope, UserId};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    RegisterStores,
    fixtures::{TenantFixture, add_user, chain, event, register_tenant},
};

/// Tasks as a kernel register: their own record contracts.
pub use crate::tasks::records as tasks;
pub use activities::{activity_fields, add_activity, new_activity};
pub use aura_breaches::Breaches;
pub use aura_dpias::Dpias;
pub use aura_gdpr_registers::{Activities, Policies, Processors};
pub use policies::{add_policy, add_version, insert_policy, new_policy, new_version};
pub use processors::{add_processor, new_processor, processor_fields};
pub use records::RecordFixture;

/// The due-date sorts, offered by the registers whose records fall due.
pub const DUE_SORTS: [Sort; 2] = [Sort::Due, Sort::DueDesc];

/// Every sort every register's list offers.
pub const SORTS: [Sort; 5] = [
    Sort::Created,
    Sort::CreatedDesc,
    Sort::Name,
    Sort::NameDesc,
    Sort::UpdatedDesc,
];

pub use crate::fixtures::{assert_chain, events};

/// A fresh tenant (owner scope) and a member who owns records.
#[derive(Debug, Clone)]
pub struct RegisterFixture {
    pub fx: TenantFixture,
    pub member: UserId,
}

impl AsRef<TenantScope> for RegisterFixture {
    fn as_ref(&self) -> &TenantScope {
        &self.fx.scope
    }
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

/// Refused writes left no event: each fixture's chain still holds the number of events
/// given with it, and verifies.
pub async fn assert_untouched(stores: &RegisterStores, chains: &[(&RegisterFixture, usize)]) {
    for (rf, expected) in chains {
        let what = format!(
            "no event for the refused writes in {}",
            rf.fx.tenant.slug.as_str()
        );
        assert_chain(stores, rf.scope(), *expected, &what).await;
    }
}

/// The newest event is `action` (an `AuditAction` or its name) about `entity_id`.
pub async fn assert_last_event(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    action: impl Display,
    entity_id: impl ToString,
) {
    let records = chain(&stores.identity, rf.scope()).await;
    let last = records.last().expect("an event");
    assert_eq!(
        last.action.as_str(),
        action.to_string(),
        "the write's event"
    );
    assert_eq!(last.entity_id, Some(entity_id.to_string()), "its entity");
}

#[track_caller]
pub fn assert_any_conflict<T: Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected a StoreError::Conflict, got {other:?}"),
    }
}

/// `rows` in the order `sort` promises: ties broken by id, the name sorts keyed on each
/// record's label (its name, a policy's title), the due sorts on its due date with
/// undated records after every date.
pub fn sorted<K: RecordKind>(mut rows: Vec<Record<K>>, sort: Sort) -> Vec<Record<K>> {
    let name = |r: &Record<K>| (K::label(&r.fields).to_owned(), r.id.as_uuid());
    let updated = |r: &Record<K>| (r.updated_at, r.id.as_uuid());
    let due = |r: &Record<K>| {
        let on = K::due_on(r);
        (on.is_none(), on, r.id.as_uuid())
    };
    match sort {
        Sort::Created => rows.sort_by_key(|r| r.id.as_uuid()),
        Sort::CreatedDesc => rows.sort_by_key(|r| Reverse(r.id.as_uuid())),
        Sort::Name => rows.sort_by_key(name),
        Sort::NameDesc => rows.sort_by_key(|r| Reverse(name(r))),
        Sort::UpdatedDesc => rows.sort_by_key(|r| Reverse(updated(r))),
        Sort::Due => rows.sort_by_key(due),
        Sort::DueDesc => rows.sort_by_key(|r| Reverse(due(r))),
    }
    rows
}

/// The cursor's key names the row as `sort` promises.
#[track_caller]
pub fn assert_cursor_of<K: RecordKind>(cursor: &Cursor, row: &Record<K>, sort: Sort, what: &str) {
    assert_eq!(
        cursor.id,
        row.id.as_uuid(),
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
                K::label(&row.fields),
                "{what}: the name sorts key on the name"
            );
        }
        Sort::UpdatedDesc => {
            let at = OffsetDateTime::parse(&cursor.key, &Rfc3339)
                .unwrap_or_else(|e| panic!("{what}: key {:?} is not RFC 3339: {e}", cursor.key));
            assert_eq!(at, row.updated_at, "{what}: -updated_at keys on updated_at");
        }
        Sort::Due | Sort::DueDesc => {
            assert_eq!(
                cursor.key,
                Sort::due_key(K::due_on(row)),
                "{what}: the due sorts key on the ISO due date, empty when undated"
            );
        }
    }
}

/// An order a list is walked in: how it orders rows, and what its cursor after the last
/// row of a page must say.
pub trait ListOrder<T>: Copy + Debug {
    /// `rows` in this order.
    fn order(self, rows: Vec<T>) -> Vec<T>;

    /// `cursor`, the cursor after `last`, is this order's cursor of it.
    fn assert_cursor(self, cursor: &Cursor, last: &T, what: &str);
}

/// The kernel's sorts, over the records of any register.
impl<K: RecordKind> ListOrder<Record<K>> for Sort {
    fn order(self, rows: Vec<Record<K>>) -> Vec<Record<K>> {
        sorted(rows, self)
    }

    fn assert_cursor(self, cursor: &Cursor, last: &Record<K>, what: &str) {
        assert_cursor_of(cursor, last, self, what);
    }
}

/// Walks a list page by page (`limit` each) from the start, checking each page's size
/// and cursor, and returns every item in the order served.
pub async fn page_through<K, S, F, Fut>(
    sort: S,
    limit: usize,
    mut fetch: F,
    what: &str,
) -> Vec<Record<K>>
where
    K: RecordKind,
    S: ListOrder<Record<K>>,
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = ListPage<Record<K>>>,
{
    let mut all: Vec<Record<K>> = Vec::new();
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
                sort.assert_cursor(&cursor, last, what);
                after = Some(cursor);
            }
            None => return all,
        }
    }
    panic!("{what} ({sort:?}): the list never ended");
}

/// Every order's full walk, in pages of `limit`, equals `rows` in that order: no
/// duplicates, no gaps.
pub async fn assert_pages_in_every_order<K, S, F, Fut>(
    orders: &[S],
    rows: &[Record<K>],
    limit: usize,
    fetch: F,
    what: &str,
) where
    K: RecordKind,
    S: ListOrder<Record<K>>,
    F: Fn(S, Option<Cursor>) -> Fut,
    Fut: Future<Output = ListPage<Record<K>>>,
{
    for &sort in orders {
        let served = page_through(sort, limit, |after| fetch(sort, after), what).await;
        let expected = sort.order(rows.to_vec());
        let ids = |rows: &[Record<K>]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
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
