use uuid::Uuid;

/// Keyset pagination over time-ordered (v7) ids: stable under inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Continue after this id (the previous page's `next_cursor`).
    pub after: Option<Uuid>,
    pub limit: usize,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: usize = 25;
    pub const MAX_LIMIT: usize = 100;

    pub fn first(limit: usize) -> Self {
        Self { after: None, limit }
    }
}

/// One page of a list; `next_cursor` is set when more items follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items (the extra one only says
    /// that more follow), using `id` for the cursor.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, id: impl Fn(&T) -> Uuid) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(id)
        } else {
            None
        };
        Self { items, next_cursor }
    }
}
