//! Lists: sort orders, keyset cursors and pages, shared by every register.

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
}

impl Sort {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "created_at" => Sort::Created,
            "-created_at" => Sort::CreatedDesc,
            "name" => Sort::Name,
            "-name" => Sort::NameDesc,
            "-updated_at" => Sort::UpdatedDesc,
            other => {
                return Err(format!(
                    "`{other}` is not one of: created_at, -created_at, name, -name, -updated_at"
                ));
            }
        })
    }
}

/// Where the next page starts: after the row with this sort key and id. The key is the
/// row's name for name sorts, its `updated_at` (RFC 3339) for `-updated_at`, empty otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

impl Cursor {
    /// Whether the key fits the sort: empty for created sorts, an RFC 3339 time for
    /// `-updated_at`, at most 300 characters for names. A cursor from another sort is
    /// refused rather than guessed at.
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
