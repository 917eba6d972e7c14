//! [`PersonalDataSeal`]: AES-256-GCM and keyed hashes for a tenant's third-party personal
//! data (a data subject's name and contact).
//!
//! One server key, derived from the password pepper under its own label (so no new secret
//! to deploy), and from it two keys per tenant:
//! - the seal key: HMAC-SHA-256(server key, "seal" ‖ tenant id);
//! - the lookup key: HMAC-SHA-256(server key, "lookup" ‖ tenant id).
//!
//! A sealed value is `version ‖ nonce (96 bits, random) ‖ ciphertext ‖ tag`, with the
//! tenant id and the caller's context as associated data, so it opens only for the tenant
//! and the context (table, field, record) it was sealed for. A lookup hash is
//! HMAC-SHA-256(lookup key, purpose ‖ value): a database dump without the server key gives
//! no way to test a guessed e-mail address, and one tenant's hash says nothing about the
//! same address at another tenant. Every HMAC input is length-prefixed part by part.
//!
//! Changing the pepper makes every sealed value unreadable and every lookup hash
//! unfindable, as it already invalidates every password: the pepper is a key to keep, not
//! to rotate casually.
//!
//! Random nonces under one key stay safely below the collision bound (about 2^32 seals)
//! because every tenant has its own key and a tenant seals a handful of fields per request.

use aura_shared_kernel::{KeyedHash, PersonalDataSeal, SealFailed, TenantId};
use zeroize::Zeroizing;

use crate::{
    Pepper,
    sealing::{ServerKey, mac, open, seal},
};

/// The label that derives the server key from the pepper; changing it loses all data.
const SERVER_KEY_LABEL: &[u8] = b"aura-personal-data-v1";
const SEAL_LABEL: &[u8] = b"seal";
const LOOKUP_LABEL: &[u8] = b"lookup";
/// The label of the installation-wide key of [`KeyedHash`] (no tenant in it).
const KEYED_HASH_LABEL: &[u8] = b"keyed-hash";

/// The seal, keyed once at start. Cheap to clone; never printed.
#[derive(Clone, Debug)]
pub struct AesGcmPersonalDataSeal(ServerKey);

impl AesGcmPersonalDataSeal {
    /// Derives the server key from the password pepper.
    pub fn from_pepper(pepper: &Pepper) -> Self {
        Self(ServerKey::from_pepper(pepper, SERVER_KEY_LABEL))
    }

    fn tenant_key(&self, label: &[u8], tenant: TenantId) -> Zeroizing<[u8; 32]> {
        self.0.derive(&[label, tenant.as_uuid().as_bytes()])
    }
}

/// The associated data: tenant id and context, each length-prefixed (as in [`mac`]), so
/// no choice of context can make one pair read as another.
fn aad(tenant: TenantId, context: &[u8]) -> Vec<u8> {
    let tenant = tenant.as_uuid();
    let parts: [&[u8]; 2] = [tenant.as_bytes(), context];
    let mut aad = Vec::with_capacity(16 + context.len() + 2 * 8);
    for part in parts {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

/// HMAC-SHA-256(HMAC-SHA-256(server key, "keyed-hash"), purpose ‖ value): the keys of
/// counters kept outside any tenant (rate limits, sign-in throttles).
impl KeyedHash for AesGcmPersonalDataSeal {
    fn keyed_hash(&self, purpose: &[u8], value: &[u8]) -> [u8; 32] {
        let key = self.0.derive(&[KEYED_HASH_LABEL]);
        mac(key.as_ref(), &[purpose, value])
    }
}

impl PersonalDataSeal for AesGcmPersonalDataSeal {
    fn seal(
        &self,
        tenant: TenantId,
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealFailed> {
        let key = self.tenant_key(SEAL_LABEL, tenant);
        seal(&key, &aad(tenant, context), plaintext).ok_or(SealFailed)
    }

    fn open(&self, tenant: TenantId, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealFailed> {
        let key = self.tenant_key(SEAL_LABEL, tenant);
        open(&key, &aad(tenant, context), sealed).ok_or(SealFailed)
    }

    fn lookup_hash(&self, tenant: TenantId, purpose: &[u8], value: &[u8]) -> [u8; 32] {
        let key = self.tenant_key(LOOKUP_LABEL, tenant);
        mac(key.as_ref(), &[purpose, value])
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::aead::NONCE_LEN;
    use sha2::{Digest, Sha256};
    use uuid::Uuid;

    use super::*;
    use crate::sealing::{TAG_LEN, VERSION};

    const CONTEXT: &[u8] = b"data_subject_request.subject:0190";
    const PLAIN: &[u8] = b"{\"name\":\"Erika Mustermann\",\"email\":\"erika@example.org\"}";

    fn seal_with(byte: u8) -> AesGcmPersonalDataSeal {
        AesGcmPersonalDataSeal::from_pepper(&Pepper::from_bytes(vec![byte; 32]).unwrap())
    }

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn a_sealed_value_round_trips_and_is_not_in_clear() {
        let s = seal_with(1);
        let sealed = s.seal(tenant(1), CONTEXT, PLAIN).unwrap();
        assert_eq!(sealed.len(), 1 + NONCE_LEN + PLAIN.len() + TAG_LEN);
        assert_eq!(sealed[0], VERSION);
        assert!(!sealed.windows(5).any(|w| w == b"Erika"), "not in clear");
        assert_eq!(s.open(tenant(1), CONTEXT, &sealed).unwrap(), PLAIN);
        // A fresh seal of the same pepper opens it too (nothing per instance).
        assert_eq!(
            seal_with(1).open(tenant(1), CONTEXT, &sealed).unwrap(),
            PLAIN
        );
    }

    #[test]
    fn empty_plaintext_and_context_round_trip() {
        let s = seal_with(1);
        let sealed = s.seal(tenant(1), b"", b"").unwrap();
        assert_eq!(s.open(tenant(1), b"", &sealed).unwrap(), b"");
        assert_eq!(s.open(tenant(1), b"x", &sealed), Err(SealFailed));
    }

    #[test]
    fn another_tenant_context_or_pepper_does_not_open() {
        let s = seal_with(1);
        let sealed = s.seal(tenant(1), CONTEXT, PLAIN).unwrap();
        assert_eq!(s.open(tenant(2), CONTEXT, &sealed), Err(SealFailed));
        assert_eq!(
            s.open(tenant(1), b"data_subject_request.subject:0191", &sealed),
            Err(SealFailed)
        );
        assert_eq!(s.open(tenant(1), b"", &sealed), Err(SealFailed));
        assert_eq!(
            seal_with(2).open(tenant(1), CONTEXT, &sealed),
            Err(SealFailed)
        );
    }

    #[test]
    fn a_flipped_bit_anywhere_fails() {
        let s = seal_with(1);
        let sealed = s.seal(tenant(1), CONTEXT, PLAIN).unwrap();
        let nonce = 1;
        let ciphertext = 1 + NONCE_LEN;
        let tag = sealed.len() - TAG_LEN;
        for (part, index) in [
            ("version", 0),
            ("nonce start", nonce),
            ("nonce end", ciphertext - 1),
            ("ciphertext start", ciphertext),
            ("ciphertext end", tag - 1),
            ("tag start", tag),
            ("tag end", sealed.len() - 1),
        ] {
            for bit in 0..8 {
                let mut flipped = sealed.clone();
                flipped[index] ^= 1 << bit;
                assert_eq!(
                    s.open(tenant(1), CONTEXT, &flipped),
                    Err(SealFailed),
                    "{part}, bit {bit}"
                );
            }
        }
    }

    #[test]
    fn truncated_extended_empty_or_unknown_version_input_fails() {
        let s = seal_with(1);
        let sealed = s.seal(tenant(1), CONTEXT, PLAIN).unwrap();
        for len in 0..sealed.len() {
            assert_eq!(
                s.open(tenant(1), CONTEXT, &sealed[..len]),
                Err(SealFailed),
                "{len} bytes"
            );
        }
        let mut extended = sealed.clone();
        extended.push(0);
        assert_eq!(s.open(tenant(1), CONTEXT, &extended), Err(SealFailed));
        for version in [0, 2, 0xff] {
            let mut other = sealed.clone();
            other[0] = version;
            assert_eq!(s.open(tenant(1), CONTEXT, &other), Err(SealFailed));
        }
        // A value shorter than a tag but with a valid header: rejected, no panic.
        let mut short = vec![VERSION];
        short.extend_from_slice(&[0; NONCE_LEN + TAG_LEN - 1]);
        assert_eq!(s.open(tenant(1), CONTEXT, &short), Err(SealFailed));
    }

    #[test]
    fn two_seals_of_the_same_plaintext_differ() {
        let s = seal_with(1);
        let a = s.seal(tenant(1), CONTEXT, PLAIN).unwrap();
        let b = s.seal(tenant(1), CONTEXT, PLAIN).unwrap();
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN], "fresh nonce");
        assert_ne!(a, b);
        assert_eq!(s.open(tenant(1), CONTEXT, &b).unwrap(), PLAIN);
    }

    #[test]
    fn the_context_is_length_prefixed_in_the_associated_data() {
        // A tenant id and context that concatenate to the same bytes still differ.
        assert_ne!(aad(tenant(1), b"ab"), aad(tenant(1), b"a"));
        assert_ne!(aad(tenant(1), b""), aad(tenant(0), b""));
        let sealed = seal_with(1).seal(tenant(1), b"ab", PLAIN).unwrap();
        assert_eq!(seal_with(1).open(tenant(1), b"a", &sealed), Err(SealFailed));
    }

    #[test]
    fn lookup_hashes_are_equal_only_within_a_tenant_and_purpose() {
        let s = seal_with(1);
        let email = b"erika@example.org";
        let h = s.lookup_hash(tenant(1), b"email", email);
        assert_eq!(h, s.lookup_hash(tenant(1), b"email", email));
        assert_eq!(h, seal_with(1).lookup_hash(tenant(1), b"email", email));
        assert_ne!(h, s.lookup_hash(tenant(2), b"email", email));
        assert_ne!(h, s.lookup_hash(tenant(1), b"phone", email));
        assert_ne!(h, s.lookup_hash(tenant(1), b"email", b"erika@example.com"));
        assert_ne!(h, seal_with(2).lookup_hash(tenant(1), b"email", email));
        // Parts are length-prefixed: moving a byte from purpose to value changes the hash.
        assert_ne!(s.lookup_hash(tenant(1), b"emaile", b"rika@example.org"), h);
    }

    #[test]
    fn a_lookup_hash_is_keyed_not_a_plain_digest() {
        let s = seal_with(1);
        let email = b"erika@example.org";
        let h = s.lookup_hash(tenant(1), b"email", email);
        let plain: [u8; 32] = Sha256::digest(email).into();
        assert_ne!(h, plain);
        let mut with_purpose = Sha256::new();
        with_purpose.update(b"email");
        with_purpose.update(email);
        assert_ne!(h, <[u8; 32]>::from(with_purpose.finalize()));
    }

    /// The counters' keys: keyed by the pepper (a guessed address hashed with SHA-256
    /// does not find its row), per purpose, and apart from every tenant's lookup hash.
    #[test]
    fn keyed_hashes_depend_on_the_pepper_and_the_purpose_only() {
        let s = seal_with(1);
        let key = b"address:203.0.113.7";
        let h = s.keyed_hash(b"rate-limit", key);
        assert_eq!(h, seal_with(1).keyed_hash(b"rate-limit", key));
        assert_ne!(h, seal_with(2).keyed_hash(b"rate-limit", key));
        assert_ne!(h, s.keyed_hash(b"throttle", key));
        assert_ne!(h, <[u8; 32]>::from(Sha256::digest(key)));
        assert_ne!(h, s.lookup_hash(tenant(0), b"rate-limit", key));
    }

    #[test]
    fn lookup_and_seal_keys_are_separate_and_not_the_idempotency_key() {
        let s = seal_with(1);
        assert_ne!(
            *s.tenant_key(SEAL_LABEL, tenant(1)),
            *s.tenant_key(LOOKUP_LABEL, tenant(1))
        );
        let pepper = Pepper::from_bytes(vec![1; 32]).unwrap();
        assert_ne!(
            s.0.expose(),
            mac(pepper.as_bytes(), &[b"aura-idempotency-server-key-v1"])
        );
    }

    /// Pins the derivation and the format: stored values must stay readable and findable
    /// after a refactoring; a change that breaks this test breaks every database holding
    /// sealed data. The vectors were computed independently of this code (Python's `hmac`
    /// and `cryptography`'s AESGCM, following the module doc; nonce a0..ab), so they also
    /// check that the code does what the doc says.
    #[test]
    fn stored_values_stay_readable() {
        let s = seal_with(7);
        let tenant = tenant(0x0190_0000_0000_7000_8000_0000_0000_0001);
        assert_eq!(
            hex(&s.lookup_hash(tenant, b"email", b"erika@example.org")),
            LOOKUP_VECTOR
        );
        let sealed = unhex(SEALED_VECTOR);
        assert_eq!(s.open(tenant, b"ctx", &sealed).unwrap(), b"Erika");
    }

    const LOOKUP_VECTOR: &str = "73ea32838e8f79f5dc6d05e8889ba9076280a3e30c0da6c5bc41526c81438e80";
    const SEALED_VECTOR: &str =
        "01a0a1a2a3a4a5a6a7a8a9aaabf9158e73d433fe26ddef34e03ca1473fc96525538d";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_seal_does_not_print_its_keys() {
        let s = seal_with(1);
        let printed = format!("{s:?}");
        assert_eq!(printed, "AesGcmPersonalDataSeal(<redacted>)");
        let keys = [
            s.0.expose(),
            *s.tenant_key(SEAL_LABEL, tenant(1)),
            *s.tenant_key(LOOKUP_LABEL, tenant(1)),
        ];
        for key in keys {
            assert!(!printed.contains(&hex(&key)));
            assert!(!printed.contains(&format!("{key:?}")));
        }
        assert!(!printed.contains(&format!("{:?}", [1u8; 32])));
    }
}

#[cfg(test)]
mod properties {
    use aws_lc_rs::aead::NONCE_LEN;
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::sealing::TAG_LEN;

    fn seal() -> AesGcmPersonalDataSeal {
        AesGcmPersonalDataSeal::from_pepper(&Pepper::from_bytes(vec![3; 32]).unwrap())
    }

    proptest! {
        #[test]
        fn any_plaintext_and_context_round_trip(
            tenant in any::<u128>(),
            context in proptest::collection::vec(any::<u8>(), 0..64),
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let tenant = TenantId::from_uuid(Uuid::from_u128(tenant));
            let s = seal();
            let sealed = s.seal(tenant, &context, &plaintext).unwrap();
            prop_assert_eq!(sealed.len(), 1 + NONCE_LEN + plaintext.len() + TAG_LEN);
            prop_assert_eq!(s.open(tenant, &context, &sealed).unwrap(), plaintext);
        }

        #[test]
        fn any_single_byte_change_fails_to_open(
            context in proptest::collection::vec(any::<u8>(), 0..64),
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
            position in any::<proptest::sample::Index>(),
            delta in 1u8..=255,
        ) {
            let tenant = TenantId::from_uuid(Uuid::from_u128(1));
            let s = seal();
            let mut sealed = s.seal(tenant, &context, &plaintext).unwrap();
            let index = position.index(sealed.len());
            sealed[index] ^= delta;
            prop_assert_eq!(s.open(tenant, &context, &sealed), Err(SealFailed));
        }
    }
}
