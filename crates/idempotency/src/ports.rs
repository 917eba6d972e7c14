//! The ports: where entries are kept, and the keyed hashing and sealing (crypto lives in
//! an adapter).

use aura_shared_kernel::StoreError;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Fingerprint, IdempotencyKey, KeyHash, KeySpace, RequestFacts};

/// A request to hold a key: an entry in progress, owned by `token`, until the request
/// finishes or `locked_until` passes; the entry lives until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub key_hash: KeyHash,
    pub fingerprint: Fingerprint,
    /// Names this holder: only it may complete or release the entry.
    pub token: Uuid,
    pub now: OffsetDateTime,
    pub locked_until: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A live entry someone else holds or completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub fingerprint: Fingerprint,
    pub state: EntryState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryState {
    /// A request with this key is running (or died holding it until `locked_until`).
    InProgress { locked_until: OffsetDateTime },
    /// Finished: the sealed response to replay.
    Completed { sealed: Vec<u8> },
}

/// The outcome of [`IdempotencyStore::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// The caller holds the key now: run the request.
    New,
    /// A live entry exists and stays as it was.
    Existing(Existing),
}

/// Where idempotency entries live: per tenant (the tenant's scope), or in the sign-up
/// space. Entries are not tenant records: no audit event goes with them.
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically, for the key in `space`:
    /// - no entry, or one whose `expires_at` is at or before `now` → a new in-progress
    ///   entry held by `reservation.token`: [`Reserved::New`];
    /// - an in-progress entry whose lock passed (`locked_until <= now`) with the same
    ///   fingerprint → taken over the same way (its holder died): [`Reserved::New`];
    /// - anything else → [`Reserved::Existing`], unchanged.
    ///
    /// Of concurrent reservations of one key exactly one gets `New`. May purge expired
    /// entries of the space on the way.
    async fn reserve(
        &self,
        space: &KeySpace,
        reservation: &Reservation,
    ) -> Result<Reserved, StoreError>;

    /// Stores the sealed response if `token` still holds the in-progress entry.
    /// Returns whether it did (false: the lock was taken over, or the entry is gone).
    async fn complete(
        &self,
        space: &KeySpace,
        key_hash: &KeyHash,
        token: Uuid,
        sealed: &[u8],
    ) -> Result<bool, StoreError>;

    /// Removes the in-progress entry if `token` still holds it (so the key can be used
    /// again at once); a completed entry or another holder's stays.
    async fn release(
        &self,
        space: &KeySpace,
        key_hash: &KeyHash,
        token: Uuid,
    ) -> Result<(), StoreError>;
}

/// Sealing failed: the stored bytes were altered or belong to another key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sealed response cannot be opened")]
pub struct SealError;

/// Keyed hashing and authenticated encryption, all derived from a server secret and the
/// client's key, so that a reader of the store without the client's key can neither find
/// an entry by a guessed key, nor test a guessed body against a fingerprint, nor read a
/// stored response.
pub trait IdempotencySealer: Send + Sync {
    /// What the store looks the key up by.
    fn key_hash(&self, space: &KeySpace, key: &IdempotencyKey) -> KeyHash;

    /// A keyed hash over the request's method, target, principal and body.
    fn fingerprint(
        &self,
        space: &KeySpace,
        key: &IdempotencyKey,
        request: &RequestFacts<'_>,
    ) -> Fingerprint;

    fn seal(
        &self,
        space: &KeySpace,
        key: &IdempotencyKey,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError>;

    fn open(
        &self,
        space: &KeySpace,
        key: &IdempotencyKey,
        sealed: &[u8],
    ) -> Result<Vec<u8>, SealError>;
}
