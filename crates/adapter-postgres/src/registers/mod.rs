//! The GDPR register ports (`aura_gdpr_registers::ports`) on PostgreSQL: the
//! organisation profile, processing activities, processors and policies.
//!
//! Same rules as the identity ports: every call is one `in_tenant` transaction, every
//! write seals its audit event in it, queries filter by `tenant_id` besides row-level
//! security. Updates are optimistic: `UPDATE … WHERE version = expected`; no row
//! updated is `NotFound` when the row is gone and `Conflict::Version` when it moved on.
//! Lists page with a keyset on (sort key, id), see [`Sort`] and [`Cursor`].

mod activities;
mod links;
mod organisation;
mod policies;
mod processors;
pub(crate) mod records;
mod reviews;

use std::{str::FromStr, sync::Arc};

use aura_gdpr_registers::{
    Activities, Policies, Processors,
    ports::{Cursor, ListPage, OrganisationRepository, PolicyVersions, Sort},
};
use aura_records::RecordStore;
use aura_shared_kernel::StoreError;
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{error::corrupt, stores::PgStores};

impl PgStores {
    pub fn organisation(&self) -> Arc<dyn OrganisationRepository> {
        Arc::new(self.clone())
    }

    pub fn activities(&self) -> Arc<dyn RecordStore<Activities>> {
        Arc::new(self.clone())
    }

    pub fn processors(&self) -> Arc<dyn RecordStore<Processors>> {
        Arc::new(self.clone())
    }

    pub fn policies(&self) -> Arc<dyn RecordStore<Policies>> {
        Arc::new(self.clone())
    }

    pub fn policy_versions(&self) -> Arc<dyn PolicyVersions> {
        Arc::new(self.clone())
    }
}

/// The storage shape of a jsonb column's rows written before the rows named theirs.
pub(crate) const fn first_shape() -> u16 {
    1
}

/// A stored enum name back into the domain enum (a broken one is a corrupt row).
pub(crate) fn stored_enum<T: FromStr>(raw: &str, what: &'static str) -> Result<T, StoreError> {
    raw.parse().map_err(|_| corrupt(what))
}

/// The stored names of the values of `E` that `keep` keeps, for an `IN` filter (the
/// statuses a workflow filter stands for).
pub(crate) fn names_where<E: aura_gdpr_registers::text::StringEnum>(
    keep: impl Fn(E) -> bool,
) -> Vec<&'static str> {
    (E::ALL.iter().copied())
        .filter(|&value| keep(value))
        .map(E::as_str)
        .collect()
}

/// `limit + 1`: the extra row only tells that another page follows.
pub(crate) fn fetch_limit(limit: usize) -> i64 {
    i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1)
}

/// An `ILIKE` pattern matching `search` anywhere, with the wildcards `%` and `_` (and
/// the escape character `\`) in it taken literally.
pub(crate) fn contains_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The `updated_at` of a `-updated_at` cursor.
pub(crate) fn cursor_time(cursor: &Cursor) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(&cursor.key, &Rfc3339)
        .map_err(|_| StoreError::unexpected("a -updated_at cursor whose key is not RFC 3339"))
}

/// The due date of a due sort's cursor (`None`: the cursor is at an undated row).
pub(crate) fn cursor_due(cursor: &Cursor) -> Result<Option<Date>, StoreError> {
    Sort::parse_due_key(&cursor.key)
        .map_err(|_| StoreError::unexpected("a due sort's cursor whose key is not an ISO date"))
}

/// What a row is listed by: the keys of every sort besides its id.
pub(crate) struct SortKeys<'a> {
    pub name: &'a str,
    pub updated_at: OffsetDateTime,
    pub due_on: Option<Date>,
}

/// The cursor that continues after `id` under `sort`: the name for name sorts, the
/// `updated_at` for `-updated_at`, the due date for the due sorts (empty when the row
/// has none), empty otherwise.
pub(crate) fn cursor_after(sort: Sort, id: Uuid, keys: SortKeys<'_>) -> Result<Cursor, StoreError> {
    let key = match sort {
        Sort::Name | Sort::NameDesc => keys.name.to_owned(),
        Sort::UpdatedDesc => keys
            .updated_at
            .format(&Rfc3339)
            .map_err(|_| corrupt("stored updated_at out of RFC 3339 range"))?,
        Sort::Due | Sort::DueDesc => Sort::due_key(keys.due_on),
        Sort::Created | Sort::CreatedDesc => String::new(),
    };
    Ok(Cursor { key, id })
}

/// A page from up to `limit + 1` items in list order; `next` continues after the last
/// item returned when more exist.
pub(crate) fn page_from_overfetch<T>(
    mut items: Vec<T>,
    limit: usize,
    cursor: impl Fn(&T) -> Result<Cursor, StoreError>,
) -> Result<ListPage<T>, StoreError> {
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor).transpose()?
    } else {
        None
    };
    Ok(ListPage { items, next })
}

/// Orders a boxed query of `$table` by `$sort` and starts it after `$after`: keyset on
/// (sort key, id). `$name_sql` is the qualified name (or title) column, compared and
/// ordered `COLLATE "C"` (code-point order, as the indexes are). A register whose records
/// fall due names its date column last (`due: table::due_on`): the due sorts order by it,
/// `(due ASC NULLS LAST, id ASC)` and the exact reverse; without one they are refused
/// (`StoreError::Invalid` naming `sort`). Evaluates to `Result<query, StoreError>` (a
/// cursor may not parse).
macro_rules! keyset {
    // A table without a due date.
    (@due $query:ident, $table:ident, $sort:ident, $after:ident, none) => {{
        let _ = (&$query, $after);
        Err(aura_shared_kernel::StoreError::Invalid(
            aura_shared_kernel::ValidationErrors::single("sort", "this list has no due dates"),
        ))
    }};
    // (due, id) ascending with undated rows last (an undated cursor continues among the
    // undated rows), and its exact reverse.
    (@due $query:ident, $table:ident, $sort:ident, $after:ident, ($due:expr)) => {{
        use diesel::expression_methods::PgSortExpressionMethods as _;
        let due = $due;
        let descending = $sort == aura_gdpr_registers::ports::Sort::DueDesc;
        match $after.map(|a| $crate::registers::cursor_due(a).map(|d| (d, a.id))).transpose() {
            Err(error) => Err(error),
            Ok(after) => {
                match (after, descending) {
                    (Some((Some(at), id)), false) => {
                        $query = $query.filter(
                            due.gt(at)
                                .or(due.eq(at).and($table::id.gt(id)))
                                .or(due.is_null()),
                        );
                    }
                    (Some((None, id)), false) => {
                        $query = $query.filter(due.is_null().and($table::id.gt(id)));
                    }
                    (Some((Some(at), id)), true) => {
                        $query = $query.filter(due.lt(at).or(due.eq(at).and($table::id.lt(id))));
                    }
                    (Some((None, id)), true) => {
                        $query = $query.filter(
                            due.is_not_null().or(due.is_null().and($table::id.lt(id))),
                        );
                    }
                    (None, _) => {}
                }
                Ok(if descending {
                    $query.order((due.desc().nulls_first(), $table::id.desc()))
                } else {
                    $query.order((due.asc().nulls_last(), $table::id.asc()))
                })
            }
        }
    }};
    (@sorts $query:expr, $table:ident, $name_sql:literal, $sort:expr, $after:expr, $due:tt) => {{
        use diesel::sql_types::Text;
        let name = || $crate::prepared::fixed::<Text>(concat!($name_sql, " COLLATE \"C\""));
        let mut query = $query;
        let after: Option<&aura_gdpr_registers::ports::Cursor> = $after;
        let sort: aura_gdpr_registers::ports::Sort = $sort;
        match sort {
            aura_gdpr_registers::ports::Sort::Created => {
                if let Some(after) = after {
                    query = query.filter($table::id.gt(after.id));
                }
                Ok(query.order($table::id.asc()))
            }
            aura_gdpr_registers::ports::Sort::CreatedDesc => {
                if let Some(after) = after {
                    query = query.filter($table::id.lt(after.id));
                }
                Ok(query.order($table::id.desc()))
            }
            aura_gdpr_registers::ports::Sort::Name => {
                if let Some(after) = after {
                    query = query.filter(
                        name()
                            .gt(after.key.clone())
                            .or(name().eq(after.key.clone()).and($table::id.gt(after.id))),
                    );
                }
                Ok(query.order((name().asc(), $table::id.asc())))
            }
            aura_gdpr_registers::ports::Sort::NameDesc => {
                if let Some(after) = after {
                    query = query.filter(
                        name()
                            .lt(after.key.clone())
                            .or(name().eq(after.key.clone()).and($table::id.lt(after.id))),
                    );
                }
                Ok(query.order((name().desc(), $table::id.desc())))
            }
            aura_gdpr_registers::ports::Sort::UpdatedDesc => {
                match after.map($crate::registers::cursor_time).transpose() {
                    Err(error) => Err(error),
                    Ok(after_time) => {
                        if let (Some(at), Some(after)) = (after_time, after) {
                            query = query.filter(
                                $table::updated_at
                                    .lt(at)
                                    .or($table::updated_at.eq(at).and($table::id.lt(after.id))),
                            );
                        }
                        Ok(query.order(($table::updated_at.desc(), $table::id.desc())))
                    }
                }
            }
            aura_gdpr_registers::ports::Sort::Due | aura_gdpr_registers::ports::Sort::DueDesc => {
                $crate::registers::keyset!(@due query, $table, sort, after, $due)
            }
        }
    }};
    ($query:expr, $table:ident, $name_sql:literal, $sort:expr, $after:expr) => {
        $crate::registers::keyset!(@sorts $query, $table, $name_sql, $sort, $after, none)
    };
    ($query:expr, $table:ident, $name_sql:literal, $sort:expr, $after:expr, due: $due:expr $(,)?) => {
        $crate::registers::keyset!(@sorts $query, $table, $name_sql, $sort, $after, ($due))
    };
}
pub(crate) use keyset;

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("abc"), "%abc%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn cursors_carry_the_sort_key() {
        let id = Uuid::nil();
        let at = datetime!(2026-11-24 10:00:00.123456 UTC);
        let keys = |due_on| SortKeys {
            name: "Payroll",
            updated_at: at,
            due_on,
        };
        let due = date!(2027 - 03 - 01);
        let name = cursor_after(Sort::Name, id, keys(None)).expect("cursor");
        assert_eq!(name.key, "Payroll");
        let updated = cursor_after(Sort::UpdatedDesc, id, keys(None)).expect("cursor");
        assert_eq!(cursor_time(&updated).expect("parse"), at);
        assert_eq!(
            cursor_after(Sort::Created, id, keys(Some(due)))
                .expect("cursor")
                .key,
            ""
        );
        for sort in [Sort::Due, Sort::DueDesc] {
            let dated = cursor_after(sort, id, keys(Some(due))).expect("cursor");
            assert_eq!(dated.key, "2027-03-01");
            assert_eq!(cursor_due(&dated).expect("parse"), Some(due));
            let undated = cursor_after(sort, id, keys(None)).expect("cursor");
            assert_eq!(undated.key, "");
            assert_eq!(cursor_due(&undated).expect("parse"), None);
        }
        assert!(cursor_due(&name).is_err(), "a name is no due date");
        assert!(
            cursor_time(&Cursor {
                key: "yesterday".into(),
                id
            })
            .is_err()
        );
    }

    #[test]
    fn a_page_names_its_successor_only_when_more_follow() {
        let cursor = |n: &i32| {
            Ok(Cursor {
                key: n.to_string(),
                id: Uuid::nil(),
            })
        };
        let page = page_from_overfetch(vec![1, 2, 3], 2, cursor).expect("page");
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next.map(|c| c.key), Some("2".to_owned()));
        let last = page_from_overfetch(vec![1, 2], 2, cursor).expect("page");
        assert_eq!(last.next, None);
    }
}
