//! The documents' use cases beyond the kernel's metadata path: upload a version (streamed,
//! checked, sealed chunk by chunk, its SHA-256 in the audit event), read a version back
//! chunk by chunk, verify it, remove the content (admins, never under legal hold).

use std::sync::Arc;

use aura_audit::{Changes, PendingEvent, RequestContext};
use aura_records::{RecordKind, RecordUseCases, UseCaseError};
use aura_shared_kernel::{Clock, StoreError, TenantScope, ValidationErrors};
use time::Duration;

use crate::{
    content::{CHUNK_SIZE, MediaType, SNIFF_BYTES, VersionId, VersionMeta, chunk_count},
    document::{Document, DocumentFields, DocumentId, Documents, REMOVE, actions},
    ports::{
        ChunkAt, ChunkSource, ContentCipher, ContentError, ContentHasher, ContentRefusal,
        ContentStore, Staging, WrappedKey,
    },
};

/// How long an upload may stay staged: content staged longer and never committed (its
/// request died without discarding it) is swept, and no longer counts against the quota.
pub const STAGING_BOUND: Duration = Duration::hours(1);

/// The limits of uploads (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// `MAX_UPLOAD_BYTES`: the largest file (default 25 MiB).
    pub max_upload_bytes: u64,
    /// `DOCUMENT_QUOTA_BYTES`: what a tenant's kept content may add up to.
    pub quota_bytes: u64,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_upload_bytes: 25 * 1024 * 1024,
            quota_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// What a documents use case fails with beyond the kernel's core.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
    /// The declared length is over `MAX_UPLOAD_BYTES` (413, refused before reading).
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The tenant's stored content would pass its quota.
    #[error("the organisation's document storage quota of {quota} bytes would be exceeded")]
    QuotaExceeded { quota: u64 },
    /// The body ended before, or went past, its declared `Content-Length`.
    #[error("the upload did not deliver exactly Content-Length bytes; nothing was stored")]
    Incomplete,
    /// A removal under legal hold.
    #[error("the document is under legal hold; lift the hold before removing its content")]
    LegalHold,
    /// The version's content was removed.
    #[error("this version's content was removed")]
    ContentRemoved,
    /// The upload stayed staged past [`STAGING_BOUND`] and was swept.
    #[error("the upload took too long and was discarded; nothing was stored")]
    UploadExpired,
    /// Links name records that are not in the tenant (another tenant's included): each
    /// field named, answered like any unknown object (404).
    #[error("the document links to records that are not in this organisation")]
    UnknownLinks(ValidationErrors),
}

impl From<ContentError> for DocumentError {
    fn from(error: ContentError) -> Self {
        match error {
            ContentError::Store(error) => error.into(),
            ContentError::Refused(ContentRefusal::LegalHold) => Self::LegalHold,
            ContentError::Refused(ContentRefusal::NotStaged) => Self::UploadExpired,
            // Answered with the configured quota by the caller.
            ContentError::Refused(ContentRefusal::QuotaExceeded) => {
                Self::QuotaExceeded { quota: 0 }
            }
        }
    }
}

impl From<StoreError> for DocumentError {
    fn from(error: StoreError) -> Self {
        Self::UseCase(error.into())
    }
}

impl From<ValidationErrors> for DocumentError {
    fn from(error: ValidationErrors) -> Self {
        Self::UseCase(error.into())
    }
}

fn internal(message: &'static str) -> DocumentError {
    DocumentError::UseCase(UseCaseError::Internal(message.into()))
}

/// What the client declared about an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub media_type: MediaType,
    /// `Content-Length`.
    pub length: u64,
    /// A SHA-256 the client sent (lowercase hex), checked against the content.
    pub sha256: Option<String>,
}

/// The result of re-reading a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub version: VersionMeta,
    /// The SHA-256 of the content as read now.
    pub sha256: String,
    pub matches: bool,
}

/// The ports of the content.
#[derive(Clone)]
pub struct ContentPorts {
    pub store: Arc<dyn ContentStore>,
    pub cipher: Arc<dyn ContentCipher>,
    pub hasher: Arc<dyn ContentHasher>,
}

#[derive(Clone)]
pub struct DocumentService {
    records: RecordUseCases<Documents>,
    ports: ContentPorts,
    clock: Arc<dyn Clock>,
    limits: DocumentLimits,
}

/// A version's content, opened for reading chunk by chunk (owns what it needs, so a
/// response stream can hold it).
#[derive(Clone)]
pub struct ContentReader {
    scope: TenantScope,
    key: WrappedKey,
    ports: ContentPorts,
    pub meta: VersionMeta,
}

impl ContentReader {
    /// The plaintext of chunk `index` (of [`VersionMeta::chunks`]).
    pub async fn chunk(&self, index: u32) -> Result<Vec<u8>, DocumentError> {
        let sealed = self
            .ports
            .store
            .chunk(&self.scope, self.meta.id, index)
            .await?;
        let at = ChunkAt {
            tenant: self.scope.tenant_id(),
            version: self.meta.id,
            index,
            last: index + 1 == self.meta.chunks,
        };
        (self.ports.cipher)
            .open(&self.key, at, &sealed)
            .map_err(|_| internal("a stored document chunk does not open"))
    }
}

impl DocumentService {
    pub fn new(
        records: RecordUseCases<Documents>,
        ports: ContentPorts,
        clock: Arc<dyn Clock>,
        limits: DocumentLimits,
    ) -> Self {
        Self {
            records,
            ports,
            clock,
            limits,
        }
    }

    /// The metadata's use cases (the kernel's create, get, list, replace).
    pub fn records(&self) -> &RecordUseCases<Documents> {
        &self.records
    }

    pub fn limits(&self) -> DocumentLimits {
        self.limits
    }

    /// The tenant's data key, made on its first upload.
    async fn data_key(&self, scope: &TenantScope) -> Result<WrappedKey, DocumentError> {
        let store = &self.ports.store;
        if let Some(key) = store.data_key(scope).await? {
            return Ok(key);
        }
        let fresh = (self.ports.cipher)
            .new_data_key(scope.tenant_id())
            .map_err(|_| internal("no data key could be made"))?;
        Ok(store.keep_data_key(scope, fresh).await?)
    }

    /// Stores the body of `source` as the document's next version. The declared length
    /// is checked against the cap and the quota before a byte is read; the first bytes
    /// against the declared type; the whole against the declared length and digest.
    /// Nothing of an upload that fails is kept.
    pub async fn upload(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        upload: Upload,
        source: &mut dyn ChunkSource,
        ctx: &RequestContext,
    ) -> Result<VersionMeta, DocumentError> {
        self.records.require(scope, Documents::WRITE, ctx).await?;
        if upload.length > self.limits.max_upload_bytes {
            return Err(DocumentError::TooLarge {
                limit: self.limits.max_upload_bytes,
            });
        }
        self.records.store().get(scope, id).await?;
        let key = self.data_key(scope).await?;
        let version = VersionId::generate();
        let staging = Staging {
            version,
            document: id,
            size: upload.length,
            staged_at: self.clock.now(),
        };
        self.stage(scope, &staging).await?;
        let stored = self
            .store_chunks(scope, version, &key, &upload, source)
            .await;
        let sha256 = match stored {
            Ok(sha256) => sha256,
            Err(error) => {
                self.discard(scope, version).await;
                return Err(error);
            }
        };
        if upload
            .sha256
            .as_ref()
            .is_some_and(|expected| *expected != sha256)
        {
            self.discard(scope, version).await;
            return Err(ValidationErrors::single(
                "Repr-Digest",
                "the content's SHA-256 differs from the digest sent; nothing was stored",
            )
            .into());
        }
        let committed = self.commit(scope, id, version, upload, sha256, ctx).await;
        if committed.is_err() {
            self.discard(scope, version).await;
        }
        committed
    }

    fn quota_exceeded(&self) -> DocumentError {
        DocumentError::QuotaExceeded {
            quota: self.limits.quota_bytes,
        }
    }

    /// Reserves the upload against the quota. Over it, the tenant's expired staging is
    /// swept and the reservation tried once more: a dropped upload never holds the
    /// quota past [`STAGING_BOUND`].
    async fn stage(&self, scope: &TenantScope, staging: &Staging) -> Result<(), DocumentError> {
        let store = &self.ports.store;
        let quota = self.limits.quota_bytes;
        match store.stage(scope, staging, quota).await {
            Err(ContentError::Refused(ContentRefusal::QuotaExceeded)) => {
                if self.sweep_staged(scope).await? == 0 {
                    return Err(self.quota_exceeded());
                }
                match store.stage(scope, staging, quota).await {
                    Err(ContentError::Refused(ContentRefusal::QuotaExceeded)) => {
                        Err(self.quota_exceeded())
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    /// Removes the tenant's uploads staged longer than [`STAGING_BOUND`] that never
    /// committed (their request died before it could discard them): each removal with
    /// a `document.staging_swept` event naming the document, the version id and the
    /// size reserved (never a chunk each, never a file name). Answers how many it
    /// removed.
    pub async fn sweep_staged(&self, scope: &TenantScope) -> Result<u64, DocumentError> {
        let store = &self.ports.store;
        let before = self.clock.now() - STAGING_BOUND;
        let mut swept = 0;
        for staging in store.staged_before(scope, before).await? {
            let changes = Changes::new()
                .note("version_id", staging.version.as_uuid())
                .note("size", staging.size)
                .note("staged_at", staging.staged_at.unix_timestamp());
            let event = PendingEvent::new(
                scope,
                actions::STAGING_SWEPT,
                "document",
                staging.document,
                changes,
                &RequestContext::default(),
            );
            if store
                .sweep_staged(scope, staging.version, before, event)
                .await?
            {
                swept += 1;
            }
        }
        Ok(swept)
    }

    /// Creates a document's metadata (the kernel's create); a link to a record outside
    /// the tenant is [`DocumentError::UnknownLinks`].
    pub async fn create(
        &self,
        scope: &TenantScope,
        fields: DocumentFields,
        ctx: &RequestContext,
    ) -> Result<Document, DocumentError> {
        let links = reference_fields(&fields);
        (self.records.create(scope, fields, None, ctx).await).map_err(|e| unknown_links(e, &links))
    }

    /// Replaces a document's metadata at `expected` (the kernel's update); a link to a
    /// record outside the tenant is [`DocumentError::UnknownLinks`].
    pub async fn update(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        fields: DocumentFields,
        expected: i32,
        ctx: &RequestContext,
    ) -> Result<Document, DocumentError> {
        let links = reference_fields(&fields);
        (self
            .records
            .update(scope, id, fields, expected, None, ctx)
            .await)
            .map_err(|e| unknown_links(e, &links))
    }

    async fn commit(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        version: VersionId,
        upload: Upload,
        sha256: String,
        ctx: &RequestContext,
    ) -> Result<VersionMeta, DocumentError> {
        let number = self.ports.store.versions(scope, id).await?.len() as i32 + 1;
        let meta = VersionMeta {
            id: version,
            document_id: id,
            number,
            file_name: upload.file_name,
            media_type: upload.media_type,
            size: upload.length,
            sha256,
            chunks: chunk_count(upload.length),
            uploaded_by: scope.user_id(),
            uploaded_at: self.clock.now(),
            removed_at: None,
        };
        // The file name may name a person: the event keeps the facts that prove the file.
        let changes = Changes::new()
            .note("version_id", version.as_uuid())
            .note("version", number)
            .note("sha256", &meta.sha256)
            .note("size", meta.size)
            .note("media_type", meta.media_type.as_str());
        let event = PendingEvent::new(
            scope,
            actions::VERSION_UPLOADED,
            "document",
            id,
            changes,
            ctx,
        );
        match (self.ports.store)
            .commit(scope, &meta, self.limits.quota_bytes, event)
            .await
        {
            Err(ContentError::Refused(ContentRefusal::QuotaExceeded)) => Err(self.quota_exceeded()),
            other => {
                other?;
                Ok(meta)
            }
        }
    }

    async fn discard(&self, scope: &TenantScope, version: VersionId) {
        if let Err(error) = self.ports.store.discard(scope, version).await {
            // Only chunks no version names are left (never read).
            tracing::warn!(%error, "an upload's chunks could not be discarded");
        }
    }

    /// Reads, checks, hashes, seals and stores the body chunk by chunk; answers the hex
    /// SHA-256.
    async fn store_chunks(
        &self,
        scope: &TenantScope,
        version: VersionId,
        key: &WrappedKey,
        upload: &Upload,
        source: &mut dyn ChunkSource,
    ) -> Result<String, DocumentError> {
        let chunks = chunk_count(upload.length);
        let mut hash = self.ports.hasher.start();
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_SIZE.min(upload.length as usize));
        let mut received: u64 = 0;
        let mut index: u32 = 0;
        let mut flush = |buffer: &mut Vec<u8>, index: &mut u32| -> Result<Vec<u8>, DocumentError> {
            if *index == 0 {
                let head = &buffer[..buffer.len().min(SNIFF_BYTES)];
                if !upload.media_type.admits(head) {
                    return Err(upload.media_type.refusal().into());
                }
            }
            hash.update(buffer);
            let at = ChunkAt {
                tenant: scope.tenant_id(),
                version,
                index: *index,
                last: *index + 1 == chunks,
            };
            let sealed = (self.ports.cipher)
                .seal(key, at, buffer)
                .map_err(|_| internal("a document chunk could not be sealed"))?;
            buffer.clear();
            *index += 1;
            Ok(sealed)
        };
        while let Some(piece) = source.next().await {
            let piece = piece.map_err(|_| DocumentError::Incomplete)?;
            received += piece.len() as u64;
            if received > upload.length {
                return Err(DocumentError::Incomplete);
            }
            let mut rest = piece.as_slice();
            while !rest.is_empty() {
                let take = rest.len().min(CHUNK_SIZE - buffer.len());
                buffer.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if buffer.len() == CHUNK_SIZE {
                    let at = index;
                    let sealed = flush(&mut buffer, &mut index)?;
                    (self.ports.store)
                        .put_chunk(scope, version, at, sealed)
                        .await?;
                }
            }
        }
        if received != upload.length {
            return Err(DocumentError::Incomplete);
        }
        if !buffer.is_empty() || index == 0 {
            let at = index;
            let sealed = flush(&mut buffer, &mut index)?;
            (self.ports.store)
                .put_chunk(scope, version, at, sealed)
                .await?;
        }
        Ok(hash.finish())
    }

    /// The document's versions, oldest first.
    pub async fn versions(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        ctx: &RequestContext,
    ) -> Result<Vec<VersionMeta>, DocumentError> {
        self.records.get(scope, id, ctx).await?;
        Ok(self.ports.store.versions(scope, id).await?)
    }

    /// Opens version `number` of the document (the newest when `None`) for reading.
    pub async fn open(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        number: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<ContentReader, DocumentError> {
        let versions = self.versions(scope, id, ctx).await?;
        let meta = match number {
            Some(n) => versions.into_iter().find(|v| v.number == n),
            None => versions.into_iter().next_back(),
        }
        .ok_or(DocumentError::UseCase(UseCaseError::NotFound))?;
        if meta.removed_at.is_some() {
            return Err(DocumentError::ContentRemoved);
        }
        let key = (self.ports.store.data_key(scope).await?)
            .ok_or_else(|| internal("a stored version without its tenant's data key"))?;
        Ok(ContentReader {
            scope: scope.clone(),
            key,
            ports: self.ports.clone(),
            meta,
        })
    }

    /// Re-reads a version and compares its SHA-256 with the one stored at upload (and in
    /// the upload's audit event).
    pub async fn verify(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        number: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<Verification, DocumentError> {
        let reader = self.open(scope, id, number, ctx).await?;
        let mut hash = self.ports.hasher.start();
        for index in 0..reader.meta.chunks {
            hash.update(&reader.chunk(index).await?);
        }
        let sha256 = hash.finish();
        Ok(Verification {
            matches: sha256 == reader.meta.sha256,
            sha256,
            version: reader.meta,
        })
    }

    /// Removes the content of every version (admins and owners). The store refuses it
    /// under legal hold, as its transaction reads the document. The metadata and the
    /// audit events stay; the event names the document by id and each removed
    /// version by number and SHA-256 (the title may name a person).
    pub async fn remove_content(
        &self,
        scope: &TenantScope,
        id: DocumentId,
        ctx: &RequestContext,
    ) -> Result<Document, DocumentError> {
        self.records.require(scope, REMOVE, ctx).await?;
        let document = self.records.store().get(scope, id).await?;
        let kept: Vec<VersionMeta> = (self.ports.store.versions(scope, id).await?)
            .into_iter()
            .filter(|v| v.removed_at.is_none())
            .collect();
        let removed: Vec<serde_json::Value> = (kept.iter())
            .map(|v| serde_json::json!({"version": v.number, "sha256": v.sha256}))
            .collect();
        let changes = Changes::new()
            .note("document_id", id.as_uuid())
            .note("versions", removed);
        let event = PendingEvent::new(
            scope,
            actions::CONTENT_REMOVED,
            "document",
            id,
            changes,
            ctx,
        );
        let ids: Vec<VersionId> = kept.iter().map(|v| v.id).collect();
        let now = self.clock.now();
        (self.ports.store)
            .remove_content(scope, id, &ids, now, event)
            .await?;
        Ok(document)
    }

    /// Wraps the tenant's data key under the current server key if it is not yet
    /// (after a rotation); answers whether it changed.
    pub async fn rewrap_key(&self, scope: &TenantScope) -> Result<bool, DocumentError> {
        let Some(key) = self.ports.store.data_key(scope).await? else {
            return Ok(false);
        };
        let rewrapped = (self.ports.cipher)
            .rewrap(scope.tenant_id(), &key)
            .map_err(|_| internal("the tenant's data key does not open under any server key"))?;
        match rewrapped {
            Some(key) => {
                self.ports.store.replace_data_key(scope, key).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The fields the kernel's reference check names (`owner_id`, `processor_ids[0]`, …).
fn reference_fields(fields: &DocumentFields) -> Vec<String> {
    Documents::references(fields)
        .into_iter()
        .map(|r| r.field)
        .collect()
}

/// The store's refusal of unresolved references (a validation error naming only
/// reference fields: the fields' own rules never name an indexed link or `owner_id`) as
/// [`DocumentError::UnknownLinks`]; anything else unchanged.
fn unknown_links(error: UseCaseError, links: &[String]) -> DocumentError {
    match error {
        UseCaseError::Validation(errors)
            if !errors.0.is_empty() && errors.0.iter().all(|e| links.contains(&e.field)) =>
        {
            DocumentError::UnknownLinks(errors)
        }
        other => other.into(),
    }
}
