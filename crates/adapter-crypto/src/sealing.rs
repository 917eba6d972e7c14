//! What the idempotency sealer and the personal-data seal share: a server key derived
//! from the password pepper under its own label (so no new secret to deploy), keys
//! derived from it, HMAC-SHA-256 over length-prefixed parts, and AES-256-GCM sealing as
//! `version ‖ nonce (96 bits, random) ‖ ciphertext ‖ tag`.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Pepper;

type HmacSha256 = Hmac<Sha256>;

/// The first byte of every sealed value: the format and key derivation above.
pub(crate) const VERSION: u8 = 1;
/// The AES-GCM tag appended to the ciphertext.
pub(crate) const TAG_LEN: usize = 16;

/// HMAC-SHA-256 over length-prefixed parts (no two part lists give the same input).
pub(crate) fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A server key, keyed once at start. Cheap to clone; never printed.
#[derive(Clone)]
pub(crate) struct ServerKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl ServerKey {
    /// HMAC-SHA-256(pepper, `label`): a separate label per use, so the key reveals
    /// nothing about the pepper or the pepper's other uses, and they nothing about it.
    pub(crate) fn from_pepper(pepper: &Pepper, label: &[u8]) -> Self {
        Self::from_secret(pepper.as_bytes(), label)
    }

    /// HMAC-SHA-256(secret, `label`): the same derivation from another secret.
    pub(crate) fn from_secret(secret: &[u8], label: &[u8]) -> Self {
        Self(Zeroizing::new(mac(secret, &[label])))
    }

    /// A key derived from this one: HMAC-SHA-256(server key, parts).
    pub(crate) fn derive(&self, parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(mac(self.0.as_ref(), parts))
    }

    /// The key itself, for tests that check it is not printed or reused.
    #[cfg(test)]
    pub(crate) fn expose(&self) -> [u8; 32] {
        *self.0
    }
}

fn cipher(key: &[u8; 32]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .ok()
        .map(LessSafeKey::new)
}

/// Seals `plaintext` under `key` with `aad` as associated data and a fresh random nonce.
pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let cipher = cipher(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut in_out = plaintext.to_vec();
    cipher
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .ok()?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
    sealed.push(VERSION);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&in_out);
    Some(sealed)
}

/// Opens what [`seal`] sealed under the same key and associated data; `None` for any
/// other key, associated data, version or a changed byte.
pub(crate) fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let (&version, rest) = sealed.split_first()?;
    if version != VERSION || rest.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    // The plaintext may be personal data or tokens: wipe the working buffer once it is
    // copied out.
    let mut in_out = Zeroizing::new(ciphertext.to_vec());
    let plain = cipher(key)?
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .ok()?;
    Some(plain.to_vec())
}
