//! The audit trail: who did what, when, to which record, from where — append-only and
//! tamper-evident through a per-tenant hash chain.
//!
//! Write ports in every domain crate take a [`PendingEvent`] with the change they store,
//! and adapters seal it into the chain in the same transaction.

mod chain;
mod denials;
mod event;
mod service;

#[cfg(any(test, feature = "test-support"))]
pub use chain::MixHasher;
pub use chain::{BrokenLink, ChainHash, ChainHasher, ChainVerification, verify_segment};
pub use denials::BulkDenials;
pub use event::{
    Actor, AuditAction, AuditRecord, Changes, PendingEvent, RequestContext, seal_event,
};
pub use service::{AuditError, AuditLog, AuditPage, AuditQuery, AuditService, require_audited};
