use std::fmt;

use std::collections::BTreeMap;

use aura_shared_kernel::TenantId;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{AuditRecord, ChainVersion};

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

    /// Reads 64 hex digits (either case); anything else is rejected.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
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

/// The keyed functions of the chain, as a port: the domain stays free of crypto crates,
/// and the key stays outside the database (configuration), so a database writer who
/// rewrites events cannot compute their links.
pub trait ChainHasher: Send + Sync {
    /// A link of version 2 from its canonical bytes (which include the previous hash):
    /// keyed per tenant.
    fn link(&self, tenant: TenantId, canonical: &[u8]) -> ChainHash;
    /// A link of version 1, sealed before the chain was keyed: plain SHA-256. Only
    /// verified, never sealed any more.
    fn unkeyed_link(&self, canonical: &[u8]) -> ChainHash;
    /// A commitment to an event's personal values: a fresh random salt and the salted
    /// digest of `personal`. The salt is shredded with the values, so the digest left in
    /// the chain cannot be tested against guessed values (an address, a name).
    fn commit(&self, personal: &[u8]) -> (Vec<u8>, ChainHash);
    /// The digest of `personal` under `salt` (what [`ChainHasher::commit`] gave).
    fn digest(&self, salt: &[u8], personal: &[u8]) -> ChainHash;
    /// The signature of a checkpoint's message, keyed per tenant (apart from the links).
    fn sign(&self, tenant: TenantId, message: &[u8]) -> ChainHash;
    /// Whether `signature` is this service's for `message` (compared in constant time).
    fn signed(&self, tenant: TenantId, message: &[u8], signature: &ChainHash) -> bool;
}

/// Where a chain stops verifying, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// The position the verifier expected at this point.
    pub seq: i64,
    pub event_id: Option<Uuid>,
    pub reason: &'static str,
}

/// A signed statement of a tenant's chain head: "link `seq` of this tenant's chain has
/// hash `hash`", published outside the database (the verify answer, the owners' mail).
/// A database writer can neither forge one (the key is not in the database) nor make
/// the chain match one after removing or rewriting the links it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub tenant_id: TenantId,
    pub seq: i64,
    pub hash: ChainHash,
    /// When the head link was sealed (whole seconds).
    pub sealed_at: OffsetDateTime,
    pub signature: ChainHash,
}

impl Checkpoint {
    fn message(tenant: TenantId, seq: i64, hash: &ChainHash, sealed_at: i64) -> Vec<u8> {
        format!(
            "aura-audit-checkpoint-v1\n{}\n{seq}\n{}\n{sealed_at}",
            tenant.as_uuid(),
            hash.to_hex()
        )
        .into_bytes()
    }

    /// The signed checkpoint of `record`, the head of its chain.
    pub fn of(record: &AuditRecord, hasher: &dyn ChainHasher) -> Self {
        let at = record.created_at.unix_timestamp();
        let message = Self::message(record.tenant_id, record.seq, &record.hash, at);
        Self {
            tenant_id: record.tenant_id,
            seq: record.seq,
            hash: record.hash,
            sealed_at: OffsetDateTime::from_unix_timestamp(at).unwrap_or(record.created_at),
            signature: hasher.sign(record.tenant_id, &message),
        }
    }

    /// Whether this service signed the checkpoint for `tenant`.
    pub fn is_genuine_for(&self, tenant: TenantId, hasher: &dyn ChainHasher) -> bool {
        let at = self.sealed_at.unix_timestamp();
        self.tenant_id == tenant
            && hasher.signed(
                tenant,
                &Self::message(tenant, self.seq, &self.hash, at),
                &self.signature,
            )
    }
}

/// The result of verifying a whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerification {
    pub events_checked: u64,
    pub valid: bool,
    /// The first of [`ChainVerification::broken_links`].
    pub first_broken_link: Option<BrokenLink>,
    /// Every broken link, in chain order (the first [`ChainVerifier::MAX_REPORTED`]).
    pub broken_links: Vec<BrokenLink>,
    /// How many links are broken in all.
    pub broken_count: u64,
    /// The hash of the last verified link (the chain head), when the chain is intact.
    pub head: Option<String>,
    /// Links sealed before the chain was keyed (version 1).
    pub unkeyed_links: u64,
    /// Events whose personal values were shredded (their digest still verifies).
    pub shredded: u64,
    /// How many of the given checkpoints were compared.
    pub checkpoints_checked: u64,
    /// A signed checkpoint of the head, when the chain is intact.
    pub checkpoint: Option<Checkpoint>,
}

/// Verifies a chain fed link by link in chain order and reports every broken link, not
/// only the first: after a broken link it goes on from the stored link, so a later
/// tampering is not hidden behind an earlier one.
pub struct ChainVerifier<'a> {
    hasher: &'a dyn ChainHasher,
    prev: ChainHash,
    expected_seq: i64,
    keyed_seen: bool,
    checked: u64,
    unkeyed: u64,
    shredded: u64,
    broken: Vec<BrokenLink>,
    broken_count: u64,
    last: Option<AuditRecord>,
    /// The checkpoints' links as found: seq → the stored hash.
    wanted: BTreeMap<i64, Option<ChainHash>>,
}

impl<'a> ChainVerifier<'a> {
    /// Broken links listed in a report; the rest are counted.
    pub const MAX_REPORTED: usize = 100;

    /// A verifier from the genesis; the links at the seqs of `checkpoints` are kept for
    /// [`ChainVerifier::finish`] to compare.
    pub fn new(hasher: &'a dyn ChainHasher, checkpoints: &[Checkpoint]) -> Self {
        Self {
            hasher,
            prev: ChainHash::GENESIS,
            expected_seq: 1,
            keyed_seen: false,
            checked: 0,
            unkeyed: 0,
            shredded: 0,
            broken: Vec::new(),
            broken_count: 0,
            last: None,
            wanted: checkpoints.iter().map(|c| (c.seq, None)).collect(),
        }
    }

    /// The seq after the last link fed.
    pub fn next_seq(&self) -> i64 {
        self.expected_seq
    }

    fn report(&mut self, seq: i64, event_id: Option<Uuid>, reason: &'static str) {
        self.broken_count += 1;
        if self.broken.len() < Self::MAX_REPORTED {
            self.broken.push(BrokenLink {
                seq,
                event_id,
                reason,
            });
        }
    }

    /// Checks the next link.
    pub fn feed(&mut self, record: &AuditRecord) {
        let id = Some(record.id);
        if record.seq != self.expected_seq {
            self.report(self.expected_seq, id, "a link is missing (sequence gap)");
        }
        if record.prev_hash != self.prev {
            self.report(record.seq, id, "prev_hash does not match the previous link");
        }
        let recomputed = match record.version {
            ChainVersion::Unkeyed => {
                self.unkeyed += 1;
                if self.keyed_seen {
                    self.report(record.seq, id, "an unkeyed link after keyed ones (forged)");
                }
                self.hasher.unkeyed_link(&record.canonical_bytes())
            }
            ChainVersion::Keyed => {
                self.keyed_seen = true;
                self.hasher
                    .link(record.tenant_id, &record.canonical_bytes())
            }
        };
        if recomputed != record.hash {
            self.report(record.seq, id, "content does not match its hash (altered)");
        }
        match (&record.personal, record.personal_digest) {
            (Some(part), Some(digest)) => {
                if self.hasher.digest(&part.salt, part.json.as_bytes()) != digest {
                    self.report(record.seq, id, "personal values do not match their digest");
                }
            }
            (Some(_), None) => {
                self.report(record.seq, id, "personal values without a digest (added)");
            }
            (None, Some(_)) => self.shredded += 1,
            (None, None) => {}
        }
        if let Some(found) = self.wanted.get_mut(&record.seq) {
            *found = Some(record.hash);
        }
        self.checked += 1;
        self.prev = record.hash;
        self.expected_seq = record.seq + 1;
        self.last = Some(record.clone());
    }

    /// The report: the links fed, then the head the store keeps apart from the events
    /// (`None` before the first), then each checkpoint.
    pub fn finish(
        mut self,
        stored_head: Option<(i64, ChainHash)>,
        checkpoints: &[Checkpoint],
        tenant: TenantId,
    ) -> ChainVerification {
        let last_seq = self.expected_seq - 1;
        // The events verify among themselves; the head kept apart from them must be
        // their last link, or events were removed from the end (or the head forged).
        let stored_head = stored_head
            .filter(|(seq, _)| *seq > 0)
            .unwrap_or((0, ChainHash::GENESIS));
        if stored_head != (last_seq, self.prev) {
            let reason = if stored_head.0 > last_seq {
                "the chain head is ahead of the stored events (newest events removed)"
            } else {
                "the chain head does not match the last stored event"
            };
            self.report(last_seq + 1, None, reason);
        }
        // Unkeyed links are only the history from before the key: the newest link is
        // keyed, or the chain was re-sealed without the key (downgraded).
        if let Some(last) = &self.last
            && last.version == ChainVersion::Unkeyed
        {
            let (seq, id) = (last.seq, Some(last.id));
            self.report(
                seq,
                id,
                "the newest link is unkeyed (sealed without the key)",
            );
        }
        // The checkpoints were published outside the database: a chain moved back
        // together with its head still falls short of them.
        for checkpoint in checkpoints {
            let reason = if !checkpoint.is_genuine_for(tenant, self.hasher) {
                Some("the checkpoint's signature does not verify (not issued for this chain)")
            } else {
                match self.wanted.get(&checkpoint.seq).copied().flatten() {
                    None => Some("the chain ends before a checkpoint (newest events removed)"),
                    Some(hash) if hash != checkpoint.hash => {
                        Some("the link differs from its checkpoint (rewritten)")
                    }
                    Some(_) => None,
                }
            };
            if let Some(reason) = reason {
                self.report(checkpoint.seq, None, reason);
            }
        }
        let valid = self.broken_count == 0;
        let checkpoint = self
            .last
            .as_ref()
            .filter(|_| valid)
            .map(|head| Checkpoint::of(head, self.hasher));
        ChainVerification {
            events_checked: self.checked,
            valid,
            first_broken_link: self.broken.first().cloned(),
            broken_links: self.broken,
            broken_count: self.broken_count,
            head: (valid && self.checked > 0).then(|| self.prev.to_hex()),
            unkeyed_links: self.unkeyed,
            shredded: self.shredded,
            checkpoints_checked: checkpoints.len() as u64,
            checkpoint,
        }
    }
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::{TenantId, UserId};
    use time::OffsetDateTime;

    use super::*;
    use crate::event::{Actor, AuditAction, Changes, PendingEvent, RequestContext, seal_event};

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
                    Changes::new()
                        .field("full_name", &"A", &"B")
                        .personal(&["full_name"]),
                    &RequestContext::new(Some("198.51.100.7".into()), None, None),
                );
                let record = seal_event(
                    event,
                    tenant,
                    seq,
                    OffsetDateTime::UNIX_EPOCH,
                    prev,
                    &MixHasher,
                );
                prev = record.hash;
                record
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], checkpoints: &[Checkpoint]) -> ChainVerification {
        let mut verifier = ChainVerifier::new(&MixHasher, checkpoints);
        records.iter().for_each(|r| verifier.feed(r));
        let head = records.last().map(|r| (r.seq, r.hash));
        verifier.finish(head, checkpoints, records[0].tenant_id)
    }

    fn broken_seqs(verification: &ChainVerification) -> Vec<(i64, &'static str)> {
        verification
            .broken_links
            .iter()
            .map(|b| (b.seq, b.reason))
            .collect()
    }

    #[test]
    fn hashes_read_back_from_hex_and_refuse_anything_else() {
        let hash = ChainHash([0xab; 32]);
        assert_eq!(ChainHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(
            ChainHash::from_hex(&hash.to_hex().to_uppercase()),
            Some(hash)
        );
        for bad in [
            "",
            "ab",
            &"g".repeat(64),
            &"a".repeat(63),
            &"é".repeat(32),
            "+1".repeat(32).as_str(),
        ] {
            assert_eq!(ChainHash::from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_intact_chain_verifies_and_signs_its_head() {
        let records = chain(5);
        let verified = verify(&records, &[]);
        assert!(verified.valid, "{verified:?}");
        assert_eq!(verified.head, Some(records[4].hash.to_hex()));
        let checkpoint = verified.checkpoint.expect("a checkpoint");
        assert_eq!((checkpoint.seq, checkpoint.hash), (5, records[4].hash));
        assert!(checkpoint.is_genuine_for(records[0].tenant_id, &MixHasher));
        assert!(!checkpoint.is_genuine_for(TenantId::generate(), &MixHasher));
    }

    #[test]
    fn every_altered_event_is_reported_not_only_the_first() {
        let mut records = chain(5);
        records[1].stored_changes = r#"{"full_name":{"after":"Mallory"}}"#.into();
        records[3].action = AuditAction::known("user.deleted");
        let verified = verify(&records, &[]);
        assert!(!verified.valid);
        assert_eq!(verified.broken_count, 2);
        let broken = broken_seqs(&verified);
        assert_eq!(broken[0].0, 2);
        assert_eq!(broken[1].0, 4);
        assert!(broken.iter().all(|(_, reason)| reason.contains("altered")));
        assert_eq!(verified.first_broken_link.unwrap().seq, 2);
        assert!(verified.checkpoint.is_none());
    }

    #[test]
    fn a_removed_event_is_found() {
        let mut records = chain(5);
        records.remove(1);
        let verified = verify(&records, &[]);
        assert_eq!(verified.first_broken_link.unwrap().seq, 2);
    }

    #[test]
    fn a_rehashed_forgery_breaks_the_next_link() {
        let mut records = chain(3);
        records[1].action = AuditAction::known("user.deleted");
        records[1].hash = MixHasher.link(records[1].tenant_id, &records[1].canonical_bytes());
        let verified = verify(&records[..], &[]);
        assert!(!verified.valid);
        assert!(
            broken_seqs(&verified).contains(&(3, "prev_hash does not match the previous link"))
        );
    }

    #[test]
    fn shredded_personal_values_still_verify_and_altered_ones_do_not() {
        let mut records = chain(3);
        assert!(records[0].personal.is_some());
        assert_eq!(records[0].changes["full_name"]["after"], "B");
        assert!(!records[0].stored_changes.contains('B'));
        assert!(records[0].shred());
        assert_eq!(
            records[0].changes["full_name"],
            serde_json::json!({"personal": true})
        );
        assert_eq!(records[0].ip, None);
        let verified = verify(&records, &[]);
        assert!(verified.valid, "{verified:?}");
        assert_eq!(verified.shredded, 1);

        if let Some(part) = records[1].personal.as_mut() {
            part.json = part.json.replace("198.51.100.7", "203.0.113.9");
        }
        let verified = verify(&records, &[]);
        assert_eq!(
            broken_seqs(&verified),
            vec![(2, "personal values do not match their digest")]
        );
    }

    #[test]
    fn a_chain_moved_back_with_its_head_falls_short_of_its_checkpoint() {
        let records = chain(5);
        let checkpoint = verify(&records, &[]).checkpoint.expect("checkpoint");
        // Without the checkpoint the shortened chain looks whole.
        assert!(verify(&records[..3], &[]).valid);
        let verified = verify(&records[..3], std::slice::from_ref(&checkpoint));
        assert_eq!(
            broken_seqs(&verified),
            vec![(
                5,
                "the chain ends before a checkpoint (newest events removed)"
            )]
        );
        // A forged checkpoint is refused, not trusted.
        let mut forged = checkpoint.clone();
        forged.seq = 3;
        forged.hash = records[2].hash;
        let verified = verify(&records, &[forged]);
        assert!(broken_seqs(&verified)[0].1.contains("signature"));
        assert!(verify(&records, &[checkpoint]).valid);
    }
}

/// A mixing hash (FNV-1a folded into 32 bytes) for tests that need a chain but not its
/// security, without a crypto crate (feature `test-support`). Keyed by the tenant id so
/// another tenant's links differ; the salt of a commitment is derived, not random.
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct MixHasher;

#[cfg(any(test, feature = "test-support"))]
impl MixHasher {
    fn mix(parts: &[&[u8]]) -> ChainHash {
        let mut out = [0u8; 32];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        for part in parts {
            for b in part.iter().chain(&[0xff]) {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
                out[i % 32] ^= h as u8;
                i += 1;
            }
        }
        ChainHash(out)
    }
}

#[cfg(any(test, feature = "test-support"))]
impl ChainHasher for MixHasher {
    fn link(&self, tenant: TenantId, canonical: &[u8]) -> ChainHash {
        Self::mix(&[b"link", tenant.as_uuid().as_bytes(), canonical])
    }

    fn unkeyed_link(&self, canonical: &[u8]) -> ChainHash {
        Self::mix(&[canonical])
    }

    fn commit(&self, personal: &[u8]) -> (Vec<u8>, ChainHash) {
        let salt = Self::mix(&[b"salt", personal]).0.to_vec();
        let digest = self.digest(&salt, personal);
        (salt, digest)
    }

    fn digest(&self, salt: &[u8], personal: &[u8]) -> ChainHash {
        Self::mix(&[b"digest", salt, personal])
    }

    fn sign(&self, tenant: TenantId, message: &[u8]) -> ChainHash {
        Self::mix(&[b"sign", tenant.as_uuid().as_bytes(), message])
    }

    fn signed(&self, tenant: TenantId, message: &[u8], signature: &ChainHash) -> bool {
        self.sign(tenant, message) == *signature
    }
}
