use aura_audit::{ChainHash, ChainHasher};
use sha2::{Digest, Sha256};

/// SHA-256 over the canonical bytes of a link (which include the previous hash).
#[derive(Debug, Default, Clone, Copy)]
pub struct Sha256ChainHasher;

impl ChainHasher for Sha256ChainHasher {
    fn link(&self, canonical: &[u8]) -> ChainHash {
        ChainHash(Sha256::digest(canonical).into())
    }
}
