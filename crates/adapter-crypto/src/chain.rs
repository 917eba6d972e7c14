//! [`ChainHasher`]: the audit chain keyed with a secret from configuration
//! (`AUDIT_CHAIN_KEY`), which the database never holds.
//!
//! From the chain key, under its own label, a server key; from it two keys per tenant:
//! - the link key: HMAC-SHA-256(server key, "link" ‖ tenant id), which seals the links
//!   (HMAC-SHA-256 over a link's canonical bytes);
//! - the checkpoint key: HMAC-SHA-256(server key, "checkpoint" ‖ tenant id), which signs
//!   the published checkpoints of the chain's head.
//!
//! A personal-values digest is HMAC-SHA-256(salt, label ‖ values) under a fresh random
//! 32-byte salt per event: the salt is shredded with the values, so the digest left in
//! the chain cannot be tested against guesses, not even by someone holding the key.
//! Links sealed before the key (version 1) were plain SHA-256 and are verified as such.

use aura_audit::{ChainHash, ChainHasher};
use aura_shared_kernel::TenantId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{
    CryptoConfigError,
    password::decode_secret,
    sealing::{ServerKey, mac},
};

/// The label that derives the server key from the chain key; changing it breaks every
/// keyed link.
const SERVER_KEY_LABEL: &[u8] = b"aura-audit-chain-v2";
const LINK_LABEL: &[u8] = b"link";
const CHECKPOINT_LABEL: &[u8] = b"checkpoint";
const PERSONAL_LABEL: &[u8] = b"aura-audit-personal-v1";

/// The chain's secret (`AUDIT_CHAIN_KEY`): at least 32 bytes, never printed.
#[derive(Clone)]
pub struct ChainKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

impl ChainKey {
    pub const MIN_BYTES: usize = 32;

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, CryptoConfigError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < Self::MIN_BYTES {
            return Err(CryptoConfigError::Invalid(format!(
                "the audit chain key must be at least {} bytes",
                Self::MIN_BYTES
            )));
        }
        Ok(Self(bytes))
    }

    /// Decodes configuration text (base64, as [`crate::Pepper::from_base64`]).
    pub fn from_base64(text: &str) -> Result<Self, CryptoConfigError> {
        Self::from_bytes(decode_secret(text, "the audit chain key")?)
    }
}

/// HMAC-SHA-256 links, checkpoint signatures and salted personal digests under the
/// chain key. Cheap to clone; never printed.
#[derive(Clone, Debug)]
pub struct HmacChainHasher(ServerKey);

impl HmacChainHasher {
    pub fn new(key: &ChainKey) -> Self {
        Self(ServerKey::from_secret(&key.0, SERVER_KEY_LABEL))
    }

    /// A hasher under a fixed, public key: for tests and demo data only, never a
    /// deployment (the wiring reads `AUDIT_CHAIN_KEY`).
    #[doc(hidden)]
    pub fn with_test_key() -> Self {
        Self(ServerKey::from_secret(&[7; 32], SERVER_KEY_LABEL))
    }

    fn tenant_key(&self, label: &[u8], tenant: TenantId) -> Zeroizing<[u8; 32]> {
        self.0.derive(&[label, tenant.as_uuid().as_bytes()])
    }
}

impl ChainHasher for HmacChainHasher {
    fn link(&self, tenant: TenantId, canonical: &[u8]) -> ChainHash {
        ChainHash(mac(
            self.tenant_key(LINK_LABEL, tenant).as_ref(),
            &[canonical],
        ))
    }

    fn unkeyed_link(&self, canonical: &[u8]) -> ChainHash {
        ChainHash(Sha256::digest(canonical).into())
    }

    fn commit(&self, personal: &[u8]) -> (Vec<u8>, ChainHash) {
        let mut salt = vec![0u8; 32];
        rand::rng().fill_bytes(&mut salt);
        let digest = self.digest(&salt, personal);
        (salt, digest)
    }

    fn digest(&self, salt: &[u8], personal: &[u8]) -> ChainHash {
        ChainHash(mac(salt, &[PERSONAL_LABEL, personal]))
    }

    fn sign(&self, tenant: TenantId, message: &[u8]) -> ChainHash {
        ChainHash(mac(
            self.tenant_key(CHECKPOINT_LABEL, tenant).as_ref(),
            &[message],
        ))
    }

    fn signed(&self, tenant: TenantId, message: &[u8], signature: &ChainHash) -> bool {
        let expected = self.sign(tenant, message);
        aws_lc_rs::constant_time::verify_slices_are_equal(&expected.0, &signature.0).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn hasher(byte: u8) -> HmacChainHasher {
        HmacChainHasher::new(&ChainKey::from_bytes(vec![byte; 32]).unwrap())
    }

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn links_depend_on_key_and_tenant_and_are_not_a_plain_digest() {
        let link = hasher(1).link(tenant(1), b"canonical");
        assert_eq!(link, hasher(1).link(tenant(1), b"canonical"));
        assert_ne!(link, hasher(2).link(tenant(1), b"canonical"));
        assert_ne!(link, hasher(1).link(tenant(2), b"canonical"));
        assert_ne!(link, hasher(1).unkeyed_link(b"canonical"));
        assert_ne!(link, hasher(1).sign(tenant(1), b"canonical"));
    }

    #[test]
    fn unkeyed_links_are_the_old_sha256() {
        let expected: [u8; 32] = Sha256::digest(b"v1").into();
        assert_eq!(hasher(1).unkeyed_link(b"v1").0, expected);
    }

    #[test]
    fn commitments_are_salted_afresh_and_check_with_their_salt() {
        let h = hasher(1);
        let (salt, digest) = h.commit(b"198.51.100.7");
        let (other_salt, other) = h.commit(b"198.51.100.7");
        assert_eq!(salt.len(), 32);
        assert_ne!(salt, other_salt);
        assert_ne!(digest, other, "the same value gives unrelated digests");
        assert_eq!(h.digest(&salt, b"198.51.100.7"), digest);
        assert_ne!(h.digest(&salt, b"198.51.100.8"), digest);
        // Without the salt, the key does not help: the digest is the salt's alone.
        assert_eq!(hasher(2).digest(&salt, b"198.51.100.7"), digest);
    }

    #[test]
    fn signatures_verify_only_for_their_tenant_message_and_key() {
        let h = hasher(1);
        let signature = h.sign(tenant(1), b"checkpoint");
        assert!(h.signed(tenant(1), b"checkpoint", &signature));
        assert!(!h.signed(tenant(2), b"checkpoint", &signature));
        assert!(!h.signed(tenant(1), b"checkpoinT", &signature));
        assert!(!hasher(2).signed(tenant(1), b"checkpoint", &signature));
    }

    #[test]
    fn short_or_bad_keys_are_refused_and_keys_do_not_print() {
        assert!(ChainKey::from_bytes(vec![1; 31]).is_err());
        assert!(ChainKey::from_base64("not base64!").is_err());
        let key = ChainKey::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap();
        assert_eq!(format!("{key:?}"), "ChainKey(<redacted>)");
        assert!(!format!("{:?}", HmacChainHasher::new(&key)).contains("1, 1"));
    }

    /// Pins the derivation: stored links must keep verifying after a refactoring. The
    /// vector was computed with Python's `hmac` following the module doc.
    #[test]
    fn stored_links_stay_verifiable() {
        let link = hasher(7).link(tenant(1), b"canonical");
        assert_eq!(link.to_hex(), LINK_VECTOR);
    }

    const LINK_VECTOR: &str = "5c7f87fb726851c8fbcf259cbcefb8d3ed1ba7796ca17a5cf6fa2c92e5a4717d";
}
