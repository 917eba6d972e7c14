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

/// Where the sealed bytes of a stored chunk sit when they are kept outside the database
/// ([`ChunkBlobs`]): one object per chunk, named by its tenant, version and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobKey {
    pub tenant: TenantId,
    pub version: VersionId,
    pub index: u32,
}

impl BlobKey {
    /// The object's name: `documents/{tenant}/{version}/{index}`.
    pub fn path(&self) -> String {
        format!(
            "{}{}",
            version_prefix(self.tenant, self.version),
            self.index
        )
    }
}

/// The common prefix of every chunk object of a version (ends with `/`).
pub fn version_prefix(tenant: TenantId, version: VersionId) -> String {
    format!("documents/{}/{}/", tenant.as_uuid(), version.as_uuid())
}

/// A blob store for sealed chunk bytes only (an S3-compatible bucket): the content store
/// keeps metadata, staging, quota and audit in its own transactions and hands this the
/// chunks it has already sealed, so the blob store never sees plaintext.
#[async_trait::async_trait]
pub trait ChunkBlobs: Send + Sync {
    async fn put(&self, key: BlobKey, sealed: Vec<u8>) -> Result<(), StoreError>;
    /// The chunk's bytes; `NotFound` when there is no such object.
    async fn get(&self, key: BlobKey) -> Result<Vec<u8>, StoreError>;
    /// Deletes every chunk object of the version (none is fine).
    async fn delete_version(&self, tenant: TenantId, version: VersionId) -> Result<(), StoreError>;
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

/// What a content store refused inside a write's transaction (the write changed
/// nothing). Typed, so the use case answers each with its own conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContentRefusal {
    /// The tenant's committed and staged bytes would pass its quota.
    #[error("the tenant's document storage quota would be exceeded")]
    QuotaExceeded,
    /// The document is under legal hold: its content stays.
    #[error("the document is under legal hold")]
    LegalHold,
    /// The upload is not (or no longer) staged: discarded, swept as expired, or its
    /// chunks incomplete.
    #[error("the upload is not staged")]
    NotStaged,
}

impl ContentRefusal {
    /// The refusal as the store error that rolls back the transaction deciding it;
    /// [`ContentError::from`] turns it back into the refusal.
    pub fn abort(self) -> StoreError {
        StoreError::Unexpected(Box::new(self))
    }
}

/// What a content store's guarded writes fail with.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Refused(ContentRefusal),
}

impl From<StoreError> for ContentError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unexpected(source) => match source.downcast::<ContentRefusal>() {
                Ok(refusal) => Self::Refused(*refusal),
                Err(source) => Self::Store(StoreError::Unexpected(source)),
            },
            other => Self::Store(other),
        }
    }
}

/// An upload in progress: its bytes count against the quota from the moment it is
/// staged, and content staged before a bound that never committed is swept
/// ([`ContentStore::sweep_staged`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    pub version: VersionId,
    pub document: DocumentId,
    /// The declared length (what the quota reserves).
    pub size: u64,
    pub staged_at: time::OffsetDateTime,
}

/// The sealed content and the versions' metadata of a tenant's documents. An upload is
/// [`ContentStore::stage`]d first (its declared size reserved against the quota), its
/// chunks are written to the staging, and [`ContentStore::commit`] turns it into a
/// version with the version's audit event; an upload that stops is
/// [`ContentStore::discard`]ed, and one dropped without either (a crash, a cancelled
/// request) is swept once older than a bound. Chunks no version names are never read.
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

    /// Reserves an upload: refused with `QuotaExceeded` when the tenant's committed and
    /// staged bytes plus `staging.size` would pass `quota` (decided with the tenant's
    /// uploads serialised, so two cannot both take the last bytes). The document must
    /// exist in the tenant (`NotFound`).
    async fn stage(
        &self,
        scope: &TenantScope,
        staging: &Staging,
        quota: u64,
    ) -> Result<(), ContentError>;

    /// Writes a chunk of a staged upload (`NotStaged` once it is gone).
    async fn put_chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
        sealed: Vec<u8>,
    ) -> Result<(), ContentError>;

    /// Removes an upload that did not complete: its staging and chunks (a committed
    /// version is left alone).
    async fn discard(&self, scope: &TenantScope, version: VersionId) -> Result<(), StoreError>;

    /// Turns the staged upload into the version `meta` with its audit event, in one
    /// transaction: the upload must still be staged with all `meta.chunks` chunks
    /// (`NotStaged`), the quota is checked again under the same serialisation as
    /// [`ContentStore::stage`] (`QuotaExceeded`), the document must exist in the tenant
    /// (`NotFound`); a number taken by a concurrent upload is
    /// `Conflict::VersionNumberTaken`.
    async fn commit(
        &self,
        scope: &TenantScope,
        meta: &VersionMeta,
        quota: u64,
        event: PendingEvent,
    ) -> Result<(), ContentError>;

    /// The tenant's uploads staged before `before` and never committed, oldest first.
    async fn staged_before(
        &self,
        scope: &TenantScope,
        before: time::OffsetDateTime,
    ) -> Result<Vec<Staging>, StoreError>;

    /// Removes the upload's staging and chunks if it is still staged from before
    /// `before` (never a committed version's chunks), with the audit event, in one
    /// transaction; answers whether it did (else nothing, no event, is written).
    async fn sweep_staged(
        &self,
        scope: &TenantScope,
        version: VersionId,
        before: time::OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

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

    /// The bytes the tenant's quota counts: the versions whose content is kept and the
    /// uploads staged.
    async fn usage(&self, scope: &TenantScope) -> Result<u64, StoreError>;

    /// Deletes the chunks of the document's `versions` and marks them removed, with the
    /// audit event, in one transaction with the document locked: refused with
    /// `LegalHold` when the document is under legal hold as the transaction reads it,
    /// `NotFound` when it is not in the tenant.
    async fn remove_content(
        &self,
        scope: &TenantScope,
        document: DocumentId,
        versions: &[VersionId],
        removed_at: time::OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), ContentError>;
}
