//! Lists: sort orders, keyset cursors and pages, shared by every register.

use time::Date;
use uuid::Uuid;

/// How a list is ordered. Lists page with a keyset cursor on (sort key, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Oldest first (by id, which is time-ordered).
    #[default]
    Created,
    CreatedDesc,
    Name,
    NameDesc,
    UpdatedDesc,
    /// Soonest due first, records without a due date last (`due_on`): the order of a
    /// register whose records fall due ([`crate::RecordKind::SORTS_BY_DUE`]).
    Due,
    /// The exact reverse of [`Sort::Due`]: records without a due date first, then the
    /// latest due (`-due_on`).
    DueDesc,
}

impl Sort {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "created_at" => Sort::Created,
            "-created_at" => Sort::CreatedDesc,
            "name" => Sort::Name,
            "-name" => Sort::NameDesc,
            "-updated_at" => Sort::UpdatedDesc,
            "due_on" => Sort::Due,
            "-due_on" => Sort::DueDesc,
            other => {
                return Err(format!(
                    "`{other}` is not one of: created_at, -created_at, name, -name, -updated_at, due_on, -due_on"
                ));
            }
        })
    }

    /// Whether this is a due-date order, which only registers with due dates offer.
    pub fn is_due(self) -> bool {
        matches!(self, Sort::Due | Sort::DueDesc)
    }

    /// The key of a due sort's cursor: the ISO date, empty for a record without one.
    pub fn due_key(due_on: Option<Date>) -> String {
        due_on.map(|d| d.to_string()).unwrap_or_default()
    }

    /// A due sort's cursor key back into the due date: `Ok(None)` for the empty key of an
    /// undated record, `Err` for a key that is no ISO date.
    pub fn parse_due_key(key: &str) -> Result<Option<Date>, time::error::Parse> {
        if key.is_empty() {
            return Ok(None);
        }
        Date::parse(key, ISO_DATE).map(Some)
    }
}

/// `2027-03-01`: the form of a due sort's cursor key (what `Date`'s `Display` writes).
const ISO_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Where the next page starts: after the row with this sort key and id. The key is the
/// row's name for name sorts, its `updated_at` (RFC 3339) for `-updated_at`, its due date
/// (ISO, empty when it has none) for the due sorts, empty otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

impl Cursor {
    /// Whether the key fits the sort: empty for created sorts, an RFC 3339 time for
    /// `-updated_at`, at most 300 characters for names, an ISO date or empty for the due
    /// sorts. A cursor from another sort is refused rather than guessed at.
    pub fn fits(&self, sort: Sort) -> bool {
        match sort {
            Sort::Created | Sort::CreatedDesc => self.key.is_empty(),
            Sort::UpdatedDesc => time::OffsetDateTime::parse(
                &self.key,
                &time::format_description::well_known::Rfc3339,
            )
            .is_ok(),
            Sort::Name | Sort::NameDesc => {
                self.key.chars().count() <= 300 && !self.key.contains('\0')
            }
            Sort::Due | Sort::DueDesc => Sort::parse_due_key(&self.key).is_ok(),
        }
    }
}

/// One page and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// What a list asks for: the register's own filter, the order, where to start, how many.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery<F> {
    pub filter: F,
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn due_sorts_parse_and_key_on_the_iso_date() {
        assert_eq!(Sort::parse("due_on"), Ok(Sort::Due));
        assert_eq!(Sort::parse("-due_on"), Ok(Sort::DueDesc));
        assert!(Sort::parse("due_date").is_err());
        assert!(Sort::Due.is_due() && Sort::DueDesc.is_due() && !Sort::Name.is_due());

        let due = date!(2027 - 03 - 01);
        assert_eq!(Sort::due_key(Some(due)), "2027-03-01");
        assert_eq!(Sort::due_key(None), "");
        assert_eq!(Sort::parse_due_key("2027-03-01").ok(), Some(Some(due)));
        assert_eq!(Sort::parse_due_key("").ok(), Some(None));
        assert!(Sort::parse_due_key("2027-02-30").is_err());
        assert!(Sort::parse_due_key("Payroll").is_err());
    }

    #[test]
    fn a_due_cursor_holds_a_date_or_nothing() {
        let cursor = |key: &str| Cursor {
            key: key.to_owned(),
            id: Uuid::nil(),
        };
        for sort in [Sort::Due, Sort::DueDesc] {
            assert!(cursor("2027-03-01").fits(sort));
            assert!(cursor("").fits(sort), "an undated record's cursor");
            assert!(!cursor("Payroll").fits(sort), "a name sort's cursor");
            assert!(
                !cursor("2026-11-24T10:00:00Z").fits(sort),
                "an -updated_at cursor"
            );
        }
        assert!(!cursor("2027-03-01").fits(Sort::Created));
    }
}
