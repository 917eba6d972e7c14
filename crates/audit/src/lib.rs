//! The audit trail: who did what, when, to which record, from where — append-only and
//! tamper-evident through a per-tenant keyed hash chain, with signed checkpoints of its
//! head published outside the database, and personal values kept beside the chain so
//! they can be shredded without breaking it.
//!
//! Write ports in every domain crate take a [`PendingEvent`] with the change they store,
//! and adapters seal it into the chain in the same transaction.

mod chain;
mod denials;
mod event;
mod service;

#[cfg(any(test, feature = "test-support"))]
pub use chain::MixHasher;
pub use chain::{BrokenLink, ChainHash, ChainHasher, ChainVerification, ChainVerifier, Checkpoint};
pub use denials::BulkDenials;
pub use event::{
    Actor, AuditAction, AuditRecord, ChainVersion, Changes, PendingEvent, PersonalPart,
    RequestContext, seal_event,
};
pub use service::{
    AUDIT_CHAIN_KEYED, AUDIT_PERSONAL_SHREDDED, AuditError, AuditLog, AuditPage, AuditQuery,
    AuditService, Shredding, ShreddingEvent, require_audited,
};
