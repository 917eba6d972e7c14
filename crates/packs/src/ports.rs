//! What the pack needs from outside: its store, the archive format, the digest and the
//! signature (the adapters: PostgreSQL or memory, `aura-adapter-reports`' ZIP,
//! `aura-adapter-crypto`'s SHA-256 and Ed25519).

use aura_audit::PendingEvent;
use aura_shared_kernel::{StoreError, TenantScope};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{BuiltPack, Pack, PackId};

/// The tenant's packs: the row and, once built, the bytes. Every write is stored with
/// its audit event in one transaction.
#[async_trait::async_trait]
pub trait PackStore: Send + Sync {
    /// Stores a new, queued pack.
    async fn insert(
        &self,
        scope: &TenantScope,
        pack: &Pack,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// The queued pack `id` becomes ready with `built`'s bytes (`NotFound` when it is not
    /// queued: built before, or unknown).
    async fn store_built(
        &self,
        scope: &TenantScope,
        id: PackId,
        built: &BuiltPack,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// The queued pack `id` failed for `reason`.
    async fn store_failed(
        &self,
        scope: &TenantScope,
        id: PackId,
        reason: &str,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    async fn get(&self, scope: &TenantScope, id: PackId) -> Result<Pack, StoreError>;

    /// The bytes of the ready pack `id` (`NotFound` when there are none).
    async fn content(&self, scope: &TenantScope, id: PackId) -> Result<Vec<u8>, StoreError>;

    /// The packs whose time is up at `now` and that still hold bytes or wait for a build.
    async fn expired(
        &self,
        scope: &TenantScope,
        now: OffsetDateTime,
    ) -> Result<Vec<PackId>, StoreError>;

    /// Removes the bytes of pack `id` (status expired).
    async fn expire(
        &self,
        scope: &TenantScope,
        id: PackId,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// One file of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl PackFile {
    pub fn new(name: &str, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.to_owned(),
            bytes: bytes.into(),
        }
    }
}

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("archive: {0}")]
pub struct ArchiveError(pub String);

/// The archive format (ZIP).
pub trait Archive: Send + Sync {
    fn pack(&self, files: &[PackFile]) -> Result<Vec<u8>, ArchiveError>;
    /// Every file of `bytes`, in archive order; at most `max_bytes` unpacked in all.
    fn unpack(&self, bytes: &[u8], max_bytes: u64) -> Result<Vec<PackFile>, ArchiveError>;
}

/// SHA-256 as lowercase hex.
pub trait Digest: Send + Sync {
    fn sha256_hex(&self, bytes: &[u8]) -> String;
}

/// A detached signature as `manifest.sig` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Always `EdDSA` (Ed25519).
    pub alg: String,
    /// The key in the server's JWKS (`/.well-known/jwks.json`).
    pub kid: String,
    /// The signature of the exact bytes of `manifest.json`, base64url without padding.
    pub signature: String,
}

/// Why a signature could not be made.
#[derive(Debug, thiserror::Error)]
#[error("signing: {0}")]
pub struct SignError(pub String);

/// Signs with the server's current signing key.
pub trait Signer: Send + Sync {
    fn sign(&self, message: &[u8]) -> Result<Signature, SignError>;
}

/// What a key set says about a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Valid,
    Invalid,
    /// No key with that kid (or not an Ed25519 key).
    UnknownKey,
}

/// Public keys a recipient trusts (the server's JWKS).
pub trait PublicKeys {
    fn verify(&self, signature: &Signature, message: &[u8]) -> SignatureCheck;
}
