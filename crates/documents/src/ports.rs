//! The ports of the documents' content: where sealed chunks and version metadata are
//! stored ([`ContentStore`]: PostgreSQL by default, in memory for demo mode and tests),
//! how chunks are sealed ([`ContentCipher`]: AES-256-GCM under a per-tenant data key
//! wrapped by a server key, in adapter-crypto), how content is hashed
//! ([`ContentHasher`]), and where an upload's bytes come from ([`ChunkSource`]).

use aura_audit::PendingEvent;
use aura_shared_kernel::{StoreError, TenantId, TenantScope};

use crate::{
    content::{VersionId, VersionMeta},
    document::DocumentId,
};

/// A tenant's data key as stored: sealed by the server key (never the key itself).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(pub Vec<u8>);

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrappedKey(<sealed>)")
    }
}

/// Where a chunk sits: what its seal is bound to, so a chunk opens only in its tenant,
/// version and position, and the last chunk only as the last (no reordering, swapping
/// or truncation goes unnoticed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkAt {
    pub tenant: TenantId,
    pub version: VersionId,
    pub index: u32,
    pub last: bool,
}

/// A chunk could not be sealed or opened (a wrong key, a changed or moved chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a document chunk could not be sealed or opened")]
pub struct CipherFailed;

/// Sealing of content chunks. Implementations keep the server key; the store only ever
/// sees [`WrappedKey`]s and sealed chunks.
pub trait ContentCipher: Send + Sync {
    /// A fresh random data key for a tenant, wrapped under the current server key.
    fn new_data_key(&self, tenant: TenantId) -> Result<WrappedKey, CipherFailed>;
    /// The same data key wrapped under the current server key (rotation), `None` when it
    /// already is.
    fn rewrap(
        &self,
        tenant: TenantId,
        key: &WrappedKey,
    ) -> Result<Option<WrappedKey>, CipherFailed>;
    fn seal(&self, key: &WrappedKey, at: ChunkAt, plain: &[u8]) -> Result<Vec<u8>, CipherFailed>;
    fn open(&self, key: &WrappedKey, at: ChunkAt, sealed: &[u8]) -> Result<Vec<u8>, CipherFailed>;
}

/// A running SHA-256.
pub trait RunningHash: Send {
    fn update(&mut self, bytes: &[u8]);
    /// Lowercase hex.
    fn finish(self: Box<Self>) -> String;
}

pub trait ContentHasher: Send + Sync {
    fn start(&self) -> Box<dyn RunningHash>;
}

/// Why an upload's body stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The client went away or the body could not be read.
    Interrupted,
}

/// The bytes of an upload, as they arrive (the HTTP body, a file). Not `Send`: an HTTP
/// body lives on its worker's thread.
#[async_trait::async_trait(?Send)]
pub trait ChunkSource {
    /// The next piece, `None` at the end.
    async fn next(&mut self) -> Option<Result<Vec<u8>, SourceError>>;
}

/// The sealed content and the versions' metadata of a tenant's documents. Chunks of an
/// upload are written before its version exists and belong to no version until
/// [`ContentStore::commit`]; an upload that stops is [`ContentStore::discard`]ed, and
/// chunks no version names are never read.
#[async_trait::async_trait]
pub trait ContentStore: Send + Sync {
    /// The tenant's wrapped data key, if it has one yet.
    async fn data_key(&self, scope: &TenantScope) -> Result<Option<WrappedKey>, StoreError>;

    /// Stores `key` as the tenant's data key unless it has one; answers the one kept.
    async fn keep_data_key(
        &self,
        scope: &TenantScope,
        key: WrappedKey,
    ) -> Result<WrappedKey, StoreError>;

    /// Replaces the tenant's wrapped data key (rotation of the server key).
    async fn replace_data_key(
        &self,
        scope: &TenantScope,
        key: WrappedKey,
    ) -> Result<(), StoreError>;

    async fn put_chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError>;

    /// Removes the chunks of an upload that did not complete.
    async fn discard(&self, scope: &TenantScope, version: VersionId) -> Result<(), StoreError>;

    /// Stores the version's metadata with its audit event in one transaction. The
    /// document must exist in the tenant (`NotFound`); a number taken by a concurrent
    /// upload is `Conflict::VersionNumberTaken`.
    async fn commit(
        &self,
        scope: &TenantScope,
        meta: &VersionMeta,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// The document's versions, oldest first.
    async fn versions(
        &self,
        scope: &TenantScope,
        document: DocumentId,
    ) -> Result<Vec<VersionMeta>, StoreError>;

    /// One sealed chunk of a committed version.
    async fn chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
    ) -> Result<Vec<u8>, StoreError>;

    /// The plaintext bytes of the tenant's versions whose content is kept.
    async fn usage(&self, scope: &TenantScope) -> Result<u64, StoreError>;

    /// Deletes every chunk of the document's versions and marks them removed, with the
    /// audit event, in one transaction.
    async fn remove_content(
        &self,
        scope: &TenantScope,
        document: DocumentId,
        removed_at: time::OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}
