//! The record kernel. Most of what a register does is the same for every record: a
//! tenant-owned row with a version, created, listed, read, replaced with `If-Match` and
//! deleted, each change audited in its transaction. This crate writes that once:
//!
//! - [`Id`]: typed ids (an activity id is not a processor id);
//! - [`RecordKind`]: what a register declares (fields, derived values, filter, rules,
//!   audit actions); [`Record`]: the versioned envelope every record shares;
//! - [`Reference`]: the rows a record names, checked by the store in the write's
//!   transaction;
//! - [`RecordStore`]: the storage port, implemented generically by each store;
//! - [`RecordUseCases`]: the one create / get / list / update / delete path;
//! - [`UseCaseError`]: the shared use-case error core;
//! - [`Numbered`]: a register whose records the store numbers per tenant and year;
//! - [`Workflow`]: the moves of a register whose records have a status, and the
//!   [`InvalidTransition`] conflict.
//!
//! Pure domain crate: no framework, driver or crypto crate.

mod error;
mod id;
mod list;
mod numbering;
mod record;
mod reference;
mod service;
mod store;
mod workflow;

pub use error::UseCaseError;
pub use id::Id;
pub use list::{Cursor, ListPage, ListQuery, Sort};
pub use numbering::{Numbered, assign_reference, keep_reference, numbered_reference};
pub use record::{Record, RecordActions, RecordKind};
pub use reference::{MEMBER, Reference};
pub use service::{
    NoRules, RecordRules, RecordUseCases, Source, at_version, check_cursor, check_sort,
    sort_refusal,
};
pub use store::RecordStore;
pub use workflow::{InvalidTransition, Workflow};
