use std::fmt;

use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::event::AuditRecord;

/// A 32-byte link hash. The first link of a tenant's chain follows [`ChainHash::GENESIS`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    pub const GENESIS: Self = Self([0; 32]);

    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
        out
    }

    /// Reads a stored hash; anything but exactly 32 bytes is rejected.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl Serialize for ChainHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

/// The hash function of the chain, as a port: the domain stays free of crypto crates.
pub trait ChainHasher: Send + Sync {
    /// The hash of a link from its canonical bytes (which include the previous hash).
    fn link(&self, canonical: &[u8]) -> ChainHash;
}

/// Where a chain stops verifying, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// The position the verifier expected at this point.
    pub seq: i64,
    pub event_id: Option<Uuid>,
    pub reason: &'static str,
}

/// The result of verifying a whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainVerification {
    pub events_checked: u64,
    pub valid: bool,
    pub first_broken_link: Option<BrokenLink>,
    /// The hash of the last verified link (the chain head).
    pub head: Option<String>,
}

/// Verifies consecutive records, continuing from the link before them (`prev`, whose
/// position is `records[0].seq - 1`). Returns the new head or the first broken link.
pub fn verify_segment(
    records: &[AuditRecord],
    mut prev: ChainHash,
    mut expected_seq: i64,
    hasher: &dyn ChainHasher,
) -> Result<ChainHash, BrokenLink> {
    for record in records {
        let broken = |reason| BrokenLink {
            seq: expected_seq,
            event_id: Some(record.id),
            reason,
        };
        if record.seq != expected_seq {
            return Err(broken("a link is missing (sequence gap)"));
        }
        if record.prev_hash != prev {
            return Err(broken("prev_hash does not match the previous link"));
        }
        if hasher.link(&record.canonical_bytes()) != record.hash {
            return Err(broken("content does not match its hash (altered)"));
        }
        prev = record.hash;
        expected_seq += 1;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::{TenantId, UserId};
    use time::OffsetDateTime;

    use super::*;
    use crate::event::{Actor, AuditAction, Changes, PendingEvent, RequestContext, seal_event};

    /// Not a cryptographic hash: enough to test the chain logic without a crypto crate.
    struct ToyHasher;
    impl ChainHasher for ToyHasher {
        fn link(&self, canonical: &[u8]) -> ChainHash {
            let mut out = [0u8; 32];
            for (i, b) in canonical.iter().enumerate() {
                out[i % 32] = out[i % 32].wrapping_mul(31).wrapping_add(*b);
            }
            ChainHash(out)
        }
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let tenant = TenantId::generate();
        let mut prev = ChainHash::GENESIS;
        (1..=n)
            .map(|seq| {
                let event = PendingEvent::new(
                    Actor::User(UserId::generate()),
                    AuditAction::known("user.updated"),
                    "user",
                    seq,
                    Changes::new().field("full_name", &"A", &"B"),
                    &RequestContext::default(),
                );
                let record = seal_event(
                    event,
                    tenant,
                    seq,
                    OffsetDateTime::UNIX_EPOCH,
                    prev,
                    &ToyHasher,
                );
                prev = record.hash;
                record
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        let head = verify_segment(&records, ChainHash::GENESIS, 1, &ToyHasher);
        assert_eq!(head, Ok(records[4].hash));
    }

    #[test]
    fn an_altered_event_is_found() {
        let mut records = chain(5);
        records[2].changes = serde_json::json!({"full_name": {"after": "Mallory"}});
        let broken = verify_segment(&records, ChainHash::GENESIS, 1, &ToyHasher).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("altered"));
    }

    #[test]
    fn a_removed_event_is_found() {
        let mut records = chain(5);
        records.remove(1);
        let broken = verify_segment(&records, ChainHash::GENESIS, 1, &ToyHasher).unwrap_err();
        assert_eq!(broken.seq, 2);
    }

    #[test]
    fn a_rehashed_forgery_breaks_the_next_link() {
        let mut records = chain(3);
        records[1].action = AuditAction::known("user.deleted");
        records[1].hash = ToyHasher.link(&records[1].canonical_bytes());
        let broken = verify_segment(&records, ChainHash::GENESIS, 1, &ToyHasher).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("prev_hash"));
    }
}

/// A mixing hash (FNV-1a folded into 32 bytes) for tests outside this crate that need a
/// chain but not its security, without a crypto crate (feature `test-support`).
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct MixHasher;

#[cfg(any(test, feature = "test-support"))]
impl ChainHasher for MixHasher {
    fn link(&self, canonical: &[u8]) -> ChainHash {
        let mut out = [0u8; 32];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, b) in canonical.iter().enumerate() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            out[i % 32] ^= h as u8;
        }
        ChainHash(out)
    }
}
