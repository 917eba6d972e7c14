//! The port that keeps a tenant's third-party personal data (a data subject's name and
//! contact) unreadable at rest: the stores seal it before it reaches a table and open it
//! when they read it. Keys are per tenant; the adapter holds them, the domain never does.

use crate::ids::TenantId;

/// Sealing failed: a broken or foreign ciphertext, or a key that cannot be used. Carries
/// nothing of the data or the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("personal data could not be sealed or opened")]
pub struct SealFailed;

/// Authenticated encryption under a per-tenant key, and a keyed hash for exact lookups.
///
/// `context` names what is sealed and where (e.g. `data_subject_request.subject` and the
/// record id): a ciphertext opens only with the tenant and context it was sealed for, so
/// one row's sealed value copied into another row, or another tenant, does not open.
///
/// A seal is also a [`KeyedHash`] under the installation's key, for values that belong to
/// no tenant (the stores' counter keys).
pub trait PersonalDataSeal: KeyedHash {
    fn seal(
        &self,
        tenant: TenantId,
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealFailed>;

    fn open(&self, tenant: TenantId, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealFailed>;

    /// A keyed hash of `value` under the tenant's lookup key: equal values give equal
    /// hashes within a tenant, and nothing without the key (no dictionary attack on
    /// e-mail addresses from a database dump). The caller normalises `value` first.
    fn lookup_hash(&self, tenant: TenantId, purpose: &[u8], value: &[u8]) -> [u8; 32];
}

/// A keyed hash under the installation's key (derived from a secret kept outside the
/// stores), for values that belong to no tenant: the keys of the rate-limit and sign-in
/// throttle counters. A reader of the database or of Redis cannot test guessed client
/// addresses or e-mail addresses against them, as one could against a plain SHA-256.
pub trait KeyedHash: Send + Sync {
    /// The hash of `value` for `purpose` (each purpose its own key space).
    fn keyed_hash(&self, purpose: &[u8], value: &[u8]) -> [u8; 32];
}
