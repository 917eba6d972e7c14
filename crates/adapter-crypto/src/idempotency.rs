//! [`IdempotencySealer`]: keyed hashes and AES-256-GCM for idempotency entries.
//!
//! One server secret (derived from the password pepper, so no new secret to manage)
//! and the client's key make every value stored for a key:
//! - the lookup hash: HMAC-SHA-256(server key, "lookup" ‖ space ‖ client key);
//! - the fingerprint: HMAC-SHA-256 under a per-key key over method, target, principal and
//!   body, each length-prefixed;
//! - the sealed response: AES-256-GCM under another per-key key, with a random 96-bit
//!   nonce and the space and lookup hash as associated data.
//!
//! Per-key keys are HMAC-SHA-256(server key, label ‖ space ‖ client key). A reader of
//! the database without the client's key cannot find an entry for a guessed key, test a
//! guessed body (a sign-up password, say) against a fingerprint, or read a response;
//! without the server key not even with the client's key.

use aura_idempotency::{
    Fingerprint, IdempotencyKey, IdempotencySealer, KeyHash, KeySpace, RequestFacts,
    ports::SealError,
};
use zeroize::Zeroizing;

use crate::{
    Pepper,
    sealing::{ServerKey, mac, open, seal},
};

/// The sealer, keyed once at start. Never printed.
#[derive(Clone, Debug)]
pub struct HmacAesIdempotencySealer(ServerKey);

impl HmacAesIdempotencySealer {
    /// Derives the server key from the password pepper.
    pub fn from_pepper(pepper: &Pepper) -> Self {
        Self(ServerKey::from_pepper(
            pepper,
            b"aura-idempotency-server-key-v1",
        ))
    }

    fn derived(&self, label: &[u8], space: &KeySpace, key: &IdempotencyKey) -> Zeroizing<[u8; 32]> {
        self.0.derive(&[label, &space.label(), key.as_bytes()])
    }

    fn aad(&self, space: &KeySpace, key: &IdempotencyKey) -> Vec<u8> {
        let mut aad = space.label();
        aad.extend_from_slice(&self.key_hash(space, key).0);
        aad
    }
}

impl IdempotencySealer for HmacAesIdempotencySealer {
    fn key_hash(&self, space: &KeySpace, key: &IdempotencyKey) -> KeyHash {
        KeyHash(*self.derived(b"lookup", space, key))
    }

    fn fingerprint(
        &self,
        space: &KeySpace,
        key: &IdempotencyKey,
        request: &RequestFacts<'_>,
    ) -> Fingerprint {
        let per_key = self.derived(b"fingerprint", space, key);
        let principal = request
            .principal
            .map(|u| u.as_uuid().as_bytes().to_vec())
            .unwrap_or_default();
        Fingerprint(mac(
            per_key.as_ref(),
            &[
                request.method.as_bytes(),
                request.target.as_bytes(),
                &principal,
                request.body,
            ],
        ))
    }

    fn seal(
        &self,
        space: &KeySpace,
        key: &IdempotencyKey,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let cipher_key = self.derived(b"seal", space, key);
        seal(&cipher_key, &self.aad(space, key), plaintext).ok_or(SealError)
    }

    fn open(
        &self,
        space: &KeySpace,
        key: &IdempotencyKey,
        sealed: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let cipher_key = self.derived(b"seal", space, key);
        open(&cipher_key, &self.aad(space, key), sealed).ok_or(SealError)
    }
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::{Role, TenantId, TenantScope, UserId};
    use uuid::Uuid;

    use super::*;

    fn sealer(byte: u8) -> HmacAesIdempotencySealer {
        HmacAesIdempotencySealer::from_pepper(&Pepper::from_bytes(vec![byte; 32]).unwrap())
    }

    fn tenant(n: u128) -> KeySpace {
        KeySpace::Tenant(TenantScope::for_tests(
            TenantId::from_uuid(Uuid::from_u128(n)),
            UserId::from_uuid(Uuid::from_u128(99)),
            Role::Member,
        ))
    }

    fn key(raw: &str) -> IdempotencyKey {
        IdempotencyKey::parse(raw.as_bytes()).unwrap()
    }

    fn facts(body: &[u8]) -> RequestFacts<'_> {
        RequestFacts {
            method: "POST",
            target: "/api/v1/tasks",
            principal: Some(UserId::from_uuid(Uuid::from_u128(7))),
            body,
        }
    }

    #[test]
    fn sealed_responses_open_only_with_the_same_key_and_space() {
        let s = sealer(1);
        let plain = b"{\"refresh_token\":\"abc\"}";
        let sealed = s.seal(&KeySpace::SignUp, &key("k1"), plain).unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"abc"), "not in clear");
        assert_eq!(
            s.open(&KeySpace::SignUp, &key("k1"), &sealed).unwrap(),
            plain
        );
        assert!(s.open(&KeySpace::SignUp, &key("k2"), &sealed).is_err());
        assert!(s.open(&tenant(1), &key("k1"), &sealed).is_err());
        assert!(
            sealer(2)
                .open(&KeySpace::SignUp, &key("k1"), &sealed)
                .is_err()
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(s.open(&KeySpace::SignUp, &key("k1"), &flipped).is_err());
        assert!(
            s.open(&KeySpace::SignUp, &key("k1"), &sealed[..10])
                .is_err()
        );
        // A fresh nonce every time.
        assert_ne!(
            sealed,
            s.seal(&KeySpace::SignUp, &key("k1"), plain).unwrap()
        );
    }

    #[test]
    fn hashes_separate_keys_spaces_and_server_secrets() {
        let s = sealer(1);
        let h =
            |s: &HmacAesIdempotencySealer, space: &KeySpace, k: &str| s.key_hash(space, &key(k));
        assert_eq!(h(&s, &tenant(1), "k"), h(&s, &tenant(1), "k"));
        assert_ne!(h(&s, &tenant(1), "k"), h(&s, &tenant(2), "k"));
        assert_ne!(h(&s, &tenant(1), "k"), h(&s, &KeySpace::SignUp, "k"));
        assert_ne!(h(&s, &tenant(1), "k"), h(&s, &tenant(1), "k2"));
        assert_ne!(h(&s, &tenant(1), "k"), h(&sealer(2), &tenant(1), "k"));
    }

    #[test]
    fn fingerprints_cover_every_part_of_the_request() {
        let s = sealer(1);
        let base = s.fingerprint(&tenant(1), &key("k"), &facts(b"{}"));
        assert_eq!(base, s.fingerprint(&tenant(1), &key("k"), &facts(b"{}")));
        let changed = [
            s.fingerprint(&tenant(1), &key("k"), &facts(b"{ }")),
            s.fingerprint(
                &tenant(1),
                &key("k"),
                &RequestFacts {
                    method: "PUT",
                    ..facts(b"{}")
                },
            ),
            s.fingerprint(
                &tenant(1),
                &key("k"),
                &RequestFacts {
                    target: "/api/v1/policies",
                    ..facts(b"{}")
                },
            ),
            s.fingerprint(
                &tenant(1),
                &key("k"),
                &RequestFacts {
                    principal: None,
                    ..facts(b"{}")
                },
            ),
            s.fingerprint(&tenant(1), &key("k2"), &facts(b"{}")),
            s.fingerprint(&tenant(2), &key("k"), &facts(b"{}")),
        ];
        for other in changed {
            assert_ne!(base, other);
        }
        // Length prefixes: moving bytes between parts changes the fingerprint.
        let a = RequestFacts {
            target: "/ab",
            body: b"c",
            ..facts(b"")
        };
        let b = RequestFacts {
            target: "/a",
            body: b"bc",
            ..facts(b"")
        };
        assert_ne!(
            s.fingerprint(&tenant(1), &key("k"), &a),
            s.fingerprint(&tenant(1), &key("k"), &b)
        );
    }

    #[test]
    fn the_sealer_does_not_print_its_key() {
        assert_eq!(
            format!("{:?}", sealer(1)),
            "HmacAesIdempotencySealer(<redacted>)"
        );
    }
}
