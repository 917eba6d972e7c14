//! The GDPR registers' ports (`aura_gdpr_registers::ports`): the organisation profile,
//! processing activities, processors, policies and their versions.
//!
//! Like the identity tables, every row is keyed by tenant first, every write checks all
//! its rules before it changes anything and seals its audit event under the same lock,
//! and another tenant's row is `NotFound`. Updates and deletes name the `version` they
//! read: a stale one is `Conflict::Version` and changes nothing.
//!
//! Derived values are computed on read, as the PostgreSQL adapter derives them from its
//! tables: `Processor::activity_ids` from the activities' links, `Policy::current_version`
//! from the published version.

mod activities;
mod organisation;
mod policies;
mod processors;
pub(crate) mod records;
mod reviews;

use std::{
    cmp::Ordering,
    collections::{BTreeMap, HashMap},
};

use aura_dpia_screening::StoredAnswers;
use aura_gdpr_registers::{
    ActivityId, PolicyId, PolicyVersion, StoredOrganisation,
    ports::{Cursor, ListPage, Sort},
};
use aura_records::{Numbered, Record, RecordKind, assign_reference};
use aura_shared_kernel::{Conflict, StoreError, TenantId, ValidationErrors};
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

/// The registers' tables.
#[derive(Default)]
pub(crate) struct Tables {
    pub organisations: HashMap<TenantId, StoredOrganisation>,
    /// Activities, processors (stored with empty `activity_ids`: reads fill them in from
    /// the activities) and policies (stored with `current_version` as written: reads
    /// derive it from the versions).
    pub records: records::RecordTables,
    /// Keyed by (tenant, policy, number): a policy's versions are one ordered range.
    pub versions: BTreeMap<(TenantId, PolicyId, i32), PolicyVersion>,
    /// The DPIA screening's answers per activity (removed with the activity).
    pub dpia_screenings: HashMap<(TenantId, ActivityId), StoredAnswers>,
    /// The last reference number given per tenant, series and year (never reused).
    pub reference_numbers: HashMap<(TenantId, &'static str, i32), u32>,
}

impl Tables {
    /// Numbers a new record in its tenant's series for its year ([`Numbered`]).
    pub fn assign_reference<K: Numbered>(&mut self, record: &mut Record<K>) {
        let key = (record.tenant_id, K::SERIES, K::numbering_year(record));
        let last = self.reference_numbers.entry(key).or_insert(0);
        *last += 1;
        assign_reference(record, *last);
    }
}

/// The optimistic-concurrency check of an update or delete: `Conflict::Version` when
/// the row moved on from the version the caller read.
pub(crate) fn check_version(stored: i32, expected: i32) -> Result<(), StoreError> {
    if stored == expected {
        Ok(())
    } else {
        Err(StoreError::Conflict(Conflict::Version))
    }
}

/// The version a put of a row that may not exist yet writes: 1 for a first put
/// (`expected` 0 and no row), the next one when the row is at `expected`;
/// `Conflict::Version` when someone created the row since the caller read "none" or it
/// moved on, `NotFound` for a version of a row there is none of.
pub(crate) fn put_version(stored: Option<i32>, expected: i32) -> Result<i32, StoreError> {
    match (stored, expected) {
        (None, 0) => Ok(1),
        (Some(_), 0) => Err(StoreError::Conflict(Conflict::Version)),
        (None, _) => Err(StoreError::NotFound),
        (Some(stored), expected) => check_version(stored, expected).map(|()| expected + 1),
    }
}

/// Case-insensitive substring match of a list's `search` filter.
pub(crate) fn matches_search(haystack: &str, search: Option<&str>) -> bool {
    search.is_none_or(|needle| {
        haystack
            .to_lowercase()
            .contains(needle.to_lowercase().as_str())
    })
}

/// What the list order needs of a row.
pub(crate) trait Listed {
    fn id(&self) -> Uuid;
    /// The name (title for policies): the key of the name sorts.
    fn name(&self) -> &str;
    fn updated_at(&self) -> OffsetDateTime;
    /// The due date: the key of the due sorts (`None` sorts after every date).
    fn due_on(&self) -> Option<Date>;
    /// Whether these rows fall due: the due sorts are refused otherwise, as PostgreSQL
    /// refuses them for a table without a due column.
    const SORTS_BY_DUE: bool;
}

impl<K: RecordKind> Listed for Record<K> {
    const SORTS_BY_DUE: bool = K::SORTS_BY_DUE;
    fn id(&self) -> Uuid {
        self.id.as_uuid()
    }
    fn name(&self) -> &str {
        K::label(&self.fields)
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
    fn due_on(&self) -> Option<Date> {
        K::due_on(self)
    }
}

/// The due sorts' key: undated after every date, as PostgreSQL's `NULLS LAST` orders it.
fn due_key(due_on: Option<Date>) -> (bool, Option<Date>) {
    (due_on.is_none(), due_on)
}

/// The order of `sort` between two rows: the sort key, ties broken by id in the same
/// direction (so that (key, id) is a total order a keyset cursor can resume from).
fn compare<T: Listed>(sort: Sort, a: &T, b: &T) -> Ordering {
    match sort {
        Sort::Created => a.id().cmp(&b.id()),
        Sort::CreatedDesc => b.id().cmp(&a.id()),
        Sort::Name => (a.name(), a.id()).cmp(&(b.name(), b.id())),
        Sort::NameDesc => (b.name(), b.id()).cmp(&(a.name(), a.id())),
        Sort::UpdatedDesc => (b.updated_at(), b.id()).cmp(&(a.updated_at(), a.id())),
        Sort::Due => (due_key(a.due_on()), a.id()).cmp(&(due_key(b.due_on()), b.id())),
        Sort::DueDesc => (due_key(b.due_on()), b.id()).cmp(&(due_key(a.due_on()), a.id())),
    }
}

/// The cursor that resumes after `row`.
pub(crate) fn cursor_of<T: Listed>(sort: Sort, row: &T) -> Result<Cursor, StoreError> {
    let key = match sort {
        Sort::Created | Sort::CreatedDesc => String::new(),
        Sort::Name | Sort::NameDesc => row.name().to_owned(),
        Sort::UpdatedDesc => row
            .updated_at()
            .format(&Rfc3339)
            .map_err(|_| StoreError::unexpected("updated_at is not representable in RFC 3339"))?,
        Sort::Due | Sort::DueDesc => Sort::due_key(row.due_on()),
    };
    Ok(Cursor { key, id: row.id() })
}

/// Where a cursor points, decoded once for the comparisons.
enum After<'a> {
    Id(Uuid),
    Name(&'a str, Uuid),
    Updated(OffsetDateTime, Uuid),
    /// A due sort's cursor: the due date (`None`: undated) and the id.
    Due(Option<Date>, Uuid),
}

impl<'a> After<'a> {
    fn decode(sort: Sort, cursor: &'a Cursor) -> Result<Self, StoreError> {
        Ok(match sort {
            Sort::Created | Sort::CreatedDesc => After::Id(cursor.id),
            Sort::Name | Sort::NameDesc => After::Name(&cursor.key, cursor.id),
            Sort::UpdatedDesc => {
                let at = OffsetDateTime::parse(&cursor.key, &Rfc3339).map_err(|_| {
                    StoreError::unexpected("the cursor key of -updated_at is not RFC 3339")
                })?;
                After::Updated(at, cursor.id)
            }
            Sort::Due | Sort::DueDesc => {
                let due = Sort::parse_due_key(&cursor.key).map_err(|_| {
                    StoreError::unexpected("the cursor key of a due sort is not an ISO date")
                })?;
                After::Due(due, cursor.id)
            }
        })
    }

    /// Whether the cursor comes strictly before `row` in the order of `sort`.
    fn comes_before<T: Listed>(&self, sort: Sort, row: &T) -> bool {
        let order = match (self, sort) {
            (After::Id(id), Sort::Created) => row.id().cmp(id),
            (After::Id(id), _) => id.cmp(&row.id()),
            (After::Name(name, id), Sort::Name) => (row.name(), row.id()).cmp(&(*name, *id)),
            (After::Name(name, id), _) => (*name, *id).cmp(&(row.name(), row.id())),
            (After::Updated(at, id), _) => (*at, *id).cmp(&(row.updated_at(), row.id())),
            (After::Due(due, id), Sort::Due) => {
                (due_key(row.due_on()), row.id()).cmp(&(due_key(*due), *id))
            }
            (After::Due(due, id), _) => {
                (due_key(*due), *id).cmp(&(due_key(row.due_on()), row.id()))
            }
        };
        order == Ordering::Greater
    }
}

/// One page of `rows` (already filtered) in the order of `sort`, resuming after
/// `after`, at most `limit` items; `next` is the last item's cursor when more follow. A
/// due sort of rows that do not fall due is `StoreError::Invalid` naming `sort`.
pub(crate) fn page<T: Listed>(
    mut rows: Vec<T>,
    sort: Sort,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<ListPage<T>, StoreError> {
    if sort.is_due() && !T::SORTS_BY_DUE {
        return Err(StoreError::Invalid(ValidationErrors::single(
            "sort",
            "this list has no due dates",
        )));
    }
    if let Some(cursor) = after {
        let after = After::decode(sort, cursor)?;
        rows.retain(|row| after.comes_before(sort, row));
    }
    rows.sort_by(|a, b| compare(sort, a, b));
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some(last) if more => Some(cursor_of(sort, last)?),
        _ => None,
    };
    Ok(ListPage { items: rows, next })
}
