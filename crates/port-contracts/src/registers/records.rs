//! The contracts every register on the record kernel owes ([`RecordStore`]), each written
//! once and generic over a [`RecordFixture`]: what a register's contract module says about
//! its records (its store, complete realistic fields, what they link to, an edit).
//! `register_contract_tests!` runs every case here for every kernel register, on every
//! adapter; a register's own module adds only what is its own (links, derived values,
//! filters).
//!
//! The helpers (`add`, `update`, `delete`, `get`, `ids`, …) are for those modules too:
//! each write carries the register's own audit event (`K::ACTIONS`, `K::ENTITY`), acted
//! by the tenant's owner.

use std::future::Future;

use aura_audit::{Actor, AuditAction, PendingEvent};
use aura_records::{Id, ListPage, ListQuery, Record, RecordKind, RecordStore};
use aura_shared_kernel::{Conflict, StoreError};

use crate::{
    RegisterStores,
    fixtures::{assert_conflict, assert_not_found, event, one_winner},
    registers::{
        DUE_SORTS, LIST_NAMES, RegisterFixture, SORTS, assert_any_conflict, assert_chain,
        assert_last_event, assert_pages_in_every_order, assert_untouched, events, list_updated_at,
        now, register,
    },
};

/// What the shared contracts need to know of a register on the kernel.
pub trait RecordFixture: RecordKind {
    /// What a complete record links to, stored before it (the processors an activity
    /// names); `()` for a register whose records need nothing else.
    type Links: Clone;

    /// The register's store among the ports under test.
    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self>;

    /// Stores, in the fixture's tenant, what its complete records link to. Never records
    /// of this register: `all` holds only what a contract adds itself.
    fn links(stores: &RegisterStores, rf: &RegisterFixture) -> impl Future<Output = Self::Links>;

    /// Complete, realistic, valid fields named `name`, linking to `links`.
    fn fields(rf: &RegisterFixture, name: &str, links: &Self::Links) -> Self::Fields;

    /// Turns complete fields into another complete record: the other choices of its
    /// enums, optional fields left empty, no links.
    fn vary(fields: &mut Self::Fields);

    /// A substantial edit of several fields (a date, a nested list, a status) that keeps
    /// the fields valid and leaves the name alone.
    fn edit(fields: &mut Self::Fields);

    /// Sets the name (the label the name sorts key on).
    fn rename(fields: &mut Self::Fields, name: &str);
}

/// A write refused for references that name nothing in the tenant: `StoreError::Invalid`
/// naming exactly `fields`.
#[track_caller]
pub fn assert_unresolved<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    fields: &[&str],
    what: &str,
) {
    match result {
        Err(StoreError::Invalid(errors)) => {
            let named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(named, fields, "{what}: the fields named");
        }
        other => panic!("{what}: expected StoreError::Invalid naming {fields:?}, got {other:?}"),
    }
}

/// An event of a write to a `K` record, acted by the tenant's owner.
pub fn record_event<K: RecordKind>(
    rf: &RegisterFixture,
    action: &AuditAction,
    id: Id<K>,
) -> PendingEvent {
    event(Actor::User(rf.owner()), action.clone(), K::ENTITY, id)
}

/// A new record with `fields` (version 1, created by the owner now), not stored.
pub fn new_record<K: RecordKind>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    fields: K::Fields,
) -> Record<K> {
    let derived = K::derived_at_creation(Some(rf.owner()));
    Record::first_version(
        Id::generate(),
        rf.fx.tenant.id,
        fields,
        derived,
        now(stores),
    )
}

/// A new complete record named `name`, not stored.
pub fn new_named<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    links: &K::Links,
) -> Record<K> {
    new_record(stores, rf, K::fields(rf, name, links))
}

/// Inserts `record` into `store` with its creation event; the record as stored (derived
/// values the store computes filled in).
pub async fn try_insert_into<K: RecordKind>(
    store: &dyn RecordStore<K>,
    rf: &RegisterFixture,
    record: &Record<K>,
) -> Result<Record<K>, StoreError> {
    let event = record_event(rf, &K::ACTIONS.created, record.id);
    store.insert(rf.scope(), record, event).await
}

/// [`try_insert_into`] the register's store.
pub async fn try_insert<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    record: &Record<K>,
) -> Result<Record<K>, StoreError> {
    try_insert_into(K::store(stores), rf, record).await
}

/// Stores a fresh `record` with its creation event; the record as stored.
pub async fn insert<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    record: &Record<K>,
) -> Record<K> {
    match try_insert(stores, rf, record).await {
        Ok(stored) => stored,
        Err(error) => panic!("insert a fresh {}: {error:?}", K::ENTITY),
    }
}

/// Stores a new complete record named `name` and returns it as stored.
pub async fn add<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    links: &K::Links,
) -> Record<K> {
    let record = new_named(stores, rf, name, links);
    insert(stores, rf, &record).await
}

/// The next version of `record` as the domain builds it: `edit`ed, validated, version
/// incremented, stamped at the store's time.
pub fn edited<K: RecordKind>(
    stores: &RegisterStores,
    record: &Record<K>,
    edit: impl FnOnce(&mut K::Fields),
) -> Record<K> {
    let mut next = record.clone();
    edit(&mut next.fields);
    next.fields = K::validated(next.fields).expect("the edited record is valid");
    next.version += 1;
    next.updated_at = now(stores);
    next
}

/// Stores `record` in `store` at `expected` with its update event; the record as stored.
pub async fn update_in<K: RecordKind>(
    store: &dyn RecordStore<K>,
    rf: &RegisterFixture,
    record: &Record<K>,
    expected: i32,
) -> Result<Record<K>, StoreError> {
    let event = record_event(rf, &K::ACTIONS.updated, record.id);
    store.update(rf.scope(), record, expected, event).await
}

/// Stores `record` at `expected`; the record as stored.
pub async fn update<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    record: &Record<K>,
    expected: i32,
) -> Result<Record<K>, StoreError> {
    update_in(K::store(stores), rf, record, expected).await
}

pub async fn delete<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    id: Id<K>,
    expected: i32,
) -> Result<(), StoreError> {
    K::store(stores)
        .delete(
            rf.scope(),
            id,
            expected,
            record_event(rf, &K::ACTIONS.deleted, id),
        )
        .await
}

/// The stored record (it must be there).
pub async fn get<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    id: Id<K>,
) -> Record<K> {
    match K::store(stores).get(rf.scope(), id).await {
        Ok(record) => record,
        Err(error) => panic!("the {} {id} is stored: {error:?}", K::ENTITY),
    }
}

pub async fn all<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
) -> Vec<Record<K>> {
    K::store(stores)
        .all(rf.scope())
        .await
        .expect("all of the tenant's records")
}

pub async fn list<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    query: ListQuery<K::Filter>,
) -> ListPage<Record<K>> {
    K::store(stores)
        .list(rf.scope(), &query)
        .await
        .expect("list the records")
}

/// The first page of up to 100, unfiltered, oldest first.
pub fn query<K: RecordKind>() -> ListQuery<K::Filter> {
    ListQuery {
        limit: 100,
        ..ListQuery::default()
    }
}

/// The ids of the list under `filter` (one page of up to 100), sorted.
pub async fn ids<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    filter: K::Filter,
) -> Vec<Id<K>> {
    let page = list(
        stores,
        rf,
        ListQuery {
            filter,
            ..query::<K>()
        },
    )
    .await;
    assert_eq!(page.next, None, "the filtered list fits one page");
    let mut ids: Vec<Id<K>> = page.items.iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// The ids of `records`, sorted.
pub fn sorted_ids<K: RecordKind>(records: &[&Record<K>]) -> Vec<Id<K>> {
    let mut ids: Vec<Id<K>> = records.iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// Every sort's full walk of the list under `filter`, in pages of `limit`, equals `rows`
/// in that sort's order: no duplicates, no gaps.
pub async fn assert_pages<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    filter: K::Filter,
    rows: &[Record<K>],
    limit: usize,
    what: &str,
) {
    let fetch = |sort, after| {
        let query = ListQuery {
            filter: filter.clone(),
            sort,
            after,
            limit,
        };
        async move { list::<K>(stores, rf, query).await }
    };
    assert_pages_in_every_order(&SORTS, rows, limit, fetch, what).await;
}

/// One case of a list filter contract: what it sets on the default filter, the records
/// the list then holds, and its name.
pub type FilterCase<'a, K> = (
    &'a dyn Fn(&mut <K as RecordKind>::Filter),
    &'a [&'a Record<K>],
    &'a str,
);

/// Each case's filter lists exactly its records (one page, in id order); a failure names
/// the case.
pub async fn assert_filters<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    cases: &[FilterCase<'_, K>],
) {
    for (set, expected, what) in cases {
        let mut filter = K::Filter::default();
        set(&mut filter);
        assert_eq!(
            ids::<K>(stores, rf, filter).await,
            sorted_ids(expected),
            "{what}"
        );
    }
}

/// Stores the list rows: names from [`LIST_NAMES`], `updated_at` with ties.
pub async fn list_rows<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    links: &K::Links,
) -> Vec<Record<K>> {
    let base = now(stores);
    let mut rows = Vec::new();
    for (i, name) in LIST_NAMES.iter().enumerate() {
        let mut record = new_named(stores, rf, name, links);
        record.updated_at = list_updated_at(base, i);
        rows.push(insert(stores, rf, &record).await);
    }
    rows
}

/// Refused writes (`what`) left the record reading as `kept`, and no event: the chain
/// still holds `base` events.
pub async fn assert_unchanged<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    kept: &Record<K>,
    base: usize,
    what: &str,
) {
    assert_eq!(
        get(stores, rf, kept.id).await,
        *kept,
        "{what}: the record stays as it was"
    );
    assert_chain(stores, rf.scope(), base, &format!("no event for {what}")).await;
}

/// A fresh tenant with what its records link to.
async fn register_with_links<K: RecordFixture>(
    stores: &RegisterStores,
) -> (RegisterFixture, K::Links) {
    let rf = register(stores).await;
    let links = K::links(stores, &rf).await;
    (rf, links)
}

/// A fresh tenant with what its records link to, and its record named `name`, stored.
async fn with_record<K: RecordFixture>(
    stores: &RegisterStores,
    name: &str,
) -> (RegisterFixture, K::Links, Record<K>) {
    let (rf, links) = register_with_links::<K>(stores).await;
    let record = add::<K>(stores, &rf, name, &links).await;
    (rf, links, record)
}

/// `record` renamed to `name` and stored at its version; as stored.
async fn renamed<K: RecordFixture>(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    record: &Record<K>,
    name: &str,
) -> Record<K> {
    let next = edited(stores, record, |f| K::rename(f, name));
    let expected = record.version;
    update(stores, rf, &next, expected).await.expect("rename")
}

pub async fn insert_then_get<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links) = register_with_links::<K>(&stores).await;
    let base = events(&stores, &rf).await;

    let record = new_named::<K>(&stores, &rf, "Payroll", &links);
    let stored = insert(&stores, &rf, &record).await;
    assert_eq!(
        Record {
            derived: record.derived.clone(),
            ..stored.clone()
        },
        record,
        "the insert answers the record, with only derived values added"
    );
    assert_eq!(
        get(&stores, &rf, record.id).await,
        stored,
        "every field reads back unchanged, as the insert answered it"
    );
    assert_last_event(&stores, &rf, &K::ACTIONS.created, record.id).await;

    let mut other = new_named::<K>(&stores, &rf, "Order processing for clients", &links);
    K::vary(&mut other.fields);
    assert_ne!(other.fields, record.fields, "the variant differs");
    let stored = insert(&stores, &rf, &other).await;
    assert_eq!(stored.fields, other.fields);
    assert_eq!(
        get(&stores, &rf, other.id).await,
        stored,
        "the other choices and empty optional fields read back unchanged"
    );
    assert_chain(&stores, rf.scope(), base + 2, "one event per insert").await;
}

pub async fn insert_of_a_taken_id_is_a_conflict<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links, record) = with_record::<K>(&stores, "Payroll").await;
    let base = events(&stores, &rf).await;

    let mut twin = new_named::<K>(&stores, &rf, "Recruiting", &links);
    twin.id = record.id;
    assert_any_conflict(
        try_insert(&stores, &rf, &twin).await,
        "inserting an id that is taken",
    );
    assert_unchanged(&stores, &rf, &record, base, "a refused insert").await;
}

pub async fn update_replaces_the_row_at_the_expected_version<K: RecordFixture>(
    stores: RegisterStores,
) {
    let (rf, _, record) = with_record::<K>(&stores, "Newsletter").await;
    let base = events(&stores, &rf).await;

    let next = edited(&stores, &record, |f| {
        K::edit(f);
        K::rename(f, "Customer newsletter");
    });
    assert_ne!(next.fields, record.fields, "the edit changes the fields");
    let answered = update(&stores, &rf, &next, 1)
        .await
        .expect("update at the version read");
    let stored = get(&stores, &rf, record.id).await;
    assert_eq!(
        stored, answered,
        "the update answers the row as a read does"
    );
    assert_eq!(
        Record {
            derived: next.derived.clone(),
            ..stored.clone()
        },
        next,
        "the row is replaced, its version incremented"
    );
    assert_eq!(stored.version, 2);
    assert_last_event(&stores, &rf, &K::ACTIONS.updated, record.id).await;

    let again = edited(&stores, &stored, |f| K::rename(f, "Newsletter 2027"));
    let answered = update(&stores, &rf, &again, 2).await.expect("update at 2");
    assert_eq!(get(&stores, &rf, record.id).await, answered);
    assert_eq!(answered.fields, again.fields);
    assert_chain(&stores, rf.scope(), base + 2, "one event per update").await;
}

pub async fn stale_update_loses_nothing<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links, record) = with_record::<K>(&stores, "Payroll").await;
    let winner = renamed(&stores, &rf, &record, "Payroll (winner)").await;
    let base = events(&stores, &rf).await;

    let loser = edited(&stores, &record, |f| K::rename(f, "Payroll (loser)"));
    assert_conflict(
        update(&stores, &rf, &loser, 1).await,
        Conflict::Version,
        "an update at a stale version",
    );
    assert_conflict(
        update(&stores, &rf, &loser, 7).await,
        Conflict::Version,
        "an update at a version that never was",
    );
    assert_conflict(
        delete(&stores, &rf, record.id, 1).await,
        Conflict::Version,
        "a delete at a stale version",
    );
    assert_unchanged(&stores, &rf, &winner, base, "stale writes").await;

    let ghost = new_named::<K>(&stores, &rf, "Ghost", &links);
    assert_not_found(
        update(&stores, &rf, &ghost, 1).await,
        "updating a record that does not exist",
    );
    assert_not_found(
        delete::<K>(&stores, &rf, Id::generate(), 1).await,
        "deleting a record that does not exist",
    );
    assert_chain(&stores, rf.scope(), base, "no event for missing records").await;
    delete(&stores, &rf, record.id, 2)
        .await
        .expect("delete at 2");
}

pub async fn concurrent_updates_have_one_winner<K: RecordFixture>(stores: RegisterStores) {
    let (rf, _, record) = with_record::<K>(&stores, "Payroll").await;
    let base = events(&stores, &rf).await;
    let a = edited(&stores, &record, |f| K::rename(f, "Payroll Alpha"));
    let b = edited(&stores, &record, K::edit);

    let (ra, rb) = tokio::join!(update(&stores, &rf, &a, 1), update(&stores, &rf, &b, 1));
    let ((), winner) = one_winner(
        ((), ra),
        ((), rb),
        Conflict::Version,
        "the concurrent update that lost",
    );
    assert!(winner.fields == a.fields || winner.fields == b.fields);
    assert_eq!(get(&stores, &rf, record.id).await, winner);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn delete_checks_the_version<K: RecordFixture>(stores: RegisterStores) {
    let (rf, _, record) = with_record::<K>(&stores, "Payroll").await;
    let edited_once = renamed(&stores, &rf, &record, "Payroll 2026").await;
    let base = events(&stores, &rf).await;

    assert_conflict(
        delete(&stores, &rf, record.id, 1).await,
        Conflict::Version,
        "a delete at a stale version",
    );
    assert_unchanged(&stores, &rf, &edited_once, base, "a stale delete").await;

    delete(&stores, &rf, record.id, 2)
        .await
        .expect("delete at the current version");
    assert_last_event(&stores, &rf, &K::ACTIONS.deleted, record.id).await;
    assert_not_found(
        K::store(&stores).get(rf.scope(), record.id).await,
        "a deleted record",
    );
    assert!(
        all::<K>(&stores, &rf).await.is_empty(),
        "all() no longer holds it"
    );
    assert_not_found(
        delete(&stores, &rf, record.id, 2).await,
        "deleting it again",
    );
    assert_not_found(
        update(&stores, &rf, &edited(&stores, &edited_once, |_| {}), 2).await,
        "updating a deleted record",
    );
    assert_chain(&stores, rf.scope(), base + 1, "one event for the delete").await;
}

pub async fn other_tenants_records_are_out_of_reach<K: RecordFixture>(stores: RegisterStores) {
    let (a, a_links) = register_with_links::<K>(&stores).await;
    let (b, b_links) = register_with_links::<K>(&stores).await;
    let record = add::<K>(&stores, &a, "Payroll", &a_links).await;
    let b_own = add::<K>(&stores, &b, "Payroll", &b_links).await;
    let a_events = events(&stores, &a).await;
    let b_events = events(&stores, &b).await;

    assert_not_found(
        K::store(&stores).get(b.scope(), record.id).await,
        "B reading A's record",
    );
    let listed = list::<K>(&stores, &b, query::<K>()).await;
    assert!(
        listed.items.iter().all(|x| x.tenant_id == b.fx.tenant.id),
        "B's list holds only B's records"
    );
    assert_eq!(
        listed.items.iter().map(|x| x.id).collect::<Vec<_>>(),
        [b_own.id],
        "B's list holds B's record"
    );
    assert_eq!(
        all::<K>(&stores, &b)
            .await
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        [b_own.id],
        "B's all()"
    );

    let hijack = edited(&stores, &record, |f| K::rename(f, "Hijacked"));
    assert_not_found(
        update(&stores, &b, &hijack, 1).await,
        "B updating A's record",
    );
    let mut moved = hijack.clone();
    moved.tenant_id = b.fx.tenant.id;
    assert_not_found(
        update(&stores, &b, &moved, 1).await,
        "B updating A's record under its own tenant id",
    );
    assert_not_found(
        delete(&stores, &b, record.id, 1).await,
        "B deleting A's record",
    );
    let mut claimed = new_named::<K>(&stores, &b, "Claimed", &b_links);
    claimed.tenant_id = a.fx.tenant.id;
    let result = try_insert(&stores, &b, &claimed).await;
    assert!(
        result.is_err(),
        "B inserting a record of A must be refused: {result:?}"
    );
    for scope in [a.scope(), b.scope()] {
        assert_not_found(
            K::store(&stores).get(scope, claimed.id).await,
            "the refused insert is nowhere",
        );
    }

    assert_eq!(
        get(&stores, &a, record.id).await,
        record,
        "A's row unchanged"
    );
    assert_untouched(&stores, &[(&a, a_events), (&b, b_events)]).await;
}

pub async fn all_is_oldest_first<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links) = register_with_links::<K>(&stores).await;
    let mut expected = Vec::new();
    for name in ["Recruiting", "Accounting", "Payroll", "Benefits"] {
        expected.push(add::<K>(&stores, &rf, name, &links).await);
    }
    expected.sort_by_key(|r| r.id);
    assert_eq!(all::<K>(&stores, &rf).await, expected, "oldest first");
}

pub async fn list_pages_through_every_sort<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links) = register_with_links::<K>(&stores).await;
    let (other, other_links) = register_with_links::<K>(&stores).await;
    add::<K>(&stores, &other, "Payroll", &other_links).await;
    let rows = list_rows::<K>(&stores, &rf, &links).await;

    for limit in [1, 2, 4, 100] {
        assert_pages(&stores, &rf, K::Filter::default(), &rows, limit, K::ENTITY).await;
    }
}

/// The due sorts are offered only by a register whose records fall due: any other
/// register's store refuses them (`StoreError::Invalid` naming `sort`) rather than order
/// by nothing; one whose records fall due lists them all.
pub async fn due_sorts_only_where_records_fall_due<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links) = register_with_links::<K>(&stores).await;
    let rows = list_rows::<K>(&stores, &rf, &links).await;
    for sort in DUE_SORTS {
        let what = format!("{} listed by {sort:?}", K::ENTITY);
        let result = K::store(&stores)
            .list(
                rf.scope(),
                &ListQuery {
                    sort,
                    ..query::<K>()
                },
            )
            .await;
        match result {
            Ok(page) if K::SORTS_BY_DUE => {
                assert_eq!(page.items.len(), rows.len(), "{what}: every record");
            }
            Err(StoreError::Invalid(errors)) if !K::SORTS_BY_DUE => {
                let named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(named, ["sort"], "{what}: the refusal names the sort");
            }
            other => panic!(
                "{what}: expected {}, got {other:?}",
                if K::SORTS_BY_DUE {
                    "a page"
                } else {
                    "StoreError::Invalid naming `sort`"
                }
            ),
        }
    }
}

pub async fn writes_keep_a_valid_chain<K: RecordFixture>(stores: RegisterStores) {
    let (rf, links) = register_with_links::<K>(&stores).await;
    let mut expected = events(&stores, &rf).await;
    let record = add::<K>(&stores, &rf, "Payroll", &links).await;
    expected += 1;
    let next = edited(&stores, &record, K::edit);
    update(&stores, &rf, &next, 1).await.expect("update");
    expected += 1;
    // Refused writes add nothing.
    assert!(
        update(&stores, &rf, &next, 1).await.is_err(),
        "stale update"
    );
    assert!(
        delete(&stores, &rf, record.id, 1).await.is_err(),
        "stale delete"
    );
    assert!(
        delete::<K>(&stores, &rf, Id::generate(), 1).await.is_err(),
        "missing record"
    );
    delete(&stores, &rf, record.id, 2).await.expect("delete");
    expected += 1;

    let records = assert_chain(&stores, rf.scope(), expected, K::ENTITY).await;
    let own = &records[records.len() - 3..];
    assert_eq!(
        own.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        [
            K::ACTIONS.created.as_str(),
            K::ACTIONS.updated.as_str(),
            K::ACTIONS.deleted.as_str()
        ],
        "each write sealed its own event, in order"
    );
    assert!(
        own.iter()
            .all(|r| r.entity_id == Some(record.id.to_string()) && r.entity_type == K::ENTITY),
        "each event names the record"
    );
}
