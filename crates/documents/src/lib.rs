//! Documents and evidence (Art. 5(2) GDPR: accountability is shown with documents — signed
//! DPAs and SCCs, DPIA reports, breach evidence, answers to data-subject requests).
//!
//! - `document.rs`: the register (a kernel `RecordKind`): title, kind, owner, retention
//!   date, legal hold and links to the records a document proves (each a reference the
//!   store checks in the write's transaction);
//! - `content.rs`: immutable versions, the media-type allow-list checked against a file's
//!   magic bytes, chunking and byte ranges;
//! - `ports.rs`: the content store, the blob store of sealed chunk bytes (an S3 bucket),
//!   the chunk cipher, the hasher and the upload source;
//! - `service.rs`: upload (streamed, capped, sealed per chunk, its SHA-256 in the audit
//!   event), read, verify, remove content (admins, not under legal hold);
//! - `staging.rs`: the daily sweep of uploads that were staged and never committed.
//!
//! Past their retention date, documents that keep content are reviews of the tasks'
//! `ReviewsDue` job (a task, never a deletion).
//!
//! Pure domain crate: no framework, driver or crypto crate.

pub mod content;
pub mod document;
pub mod ports;
pub mod service;
pub mod staging;

pub use content::{ByteRange, CHUNK_SIZE, MediaType, VersionId, VersionMeta, parse_range};
pub use document::{
    Document, DocumentFields, DocumentFilter, DocumentId, DocumentKind, DocumentState, Documents,
};
pub use service::{
    ContentPorts, ContentReader, DocumentError, DocumentLimits, DocumentService, STAGING_BOUND,
    Upload, Verification,
};
