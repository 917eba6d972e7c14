//! The documents' content ciphers: [`AesGcmContentCipher`] (the `ContentCipher` port) and
//! [`Sha256ContentHasher`] (the `ContentHasher` port).
//!
//! Envelope encryption: each tenant has a random 256-bit data key, stored only wrapped
//! (AES-256-GCM) under a key-encryption key derived from the server's document key
//! (`DOCUMENT_KEY`; without it, from the password pepper under its own label). A wrapped
//! key is `'K' ‖ key id (8 bytes) ‖ sealed data key`, the tenant id as associated data,
//! so a wrapped key copied to another tenant does not open.
//!
//! Each content chunk is sealed with the tenant's data key as
//! `version ‖ nonce (96 bits, random) ‖ ciphertext ‖ tag` (the shared `sealing` format),
//! with tenant id, version id, chunk index and a last-chunk flag as associated data:
//! a chunk does not open in another tenant, version or position, and a file cut after
//! any chunk but its last does not open either. A tenant seals at most a few hundred
//! chunks per upload under its own key, far below the random-nonce bound.
//!
//! Rotation: set the new key as `DOCUMENT_KEY` and the old one as
//! `DOCUMENT_KEY_PREVIOUS`; data keys wrapped under either open (the key id says which),
//! `aura documents rewrap` wraps every tenant's data key under the new one (the content
//! is not re-encrypted), after which the previous key can go.

use aura_documents::ports::{
    ChunkAt, CipherFailed, ContentCipher, ContentHasher, RunningHash, WrappedKey,
};
use aura_shared_kernel::TenantId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{
    CryptoConfigError, Pepper,
    password::decode_secret,
    sealing::{ServerKey, open, seal},
};

/// The label of the key-encryption key; changing it loses every document.
const KEK_LABEL: &[u8] = b"aura-documents-kek-v1";
const WRAP_LABEL: &[u8] = b"wrap";
const ID_LABEL: &[u8] = b"key-id";
const WRAPPED_TAG: u8 = b'K';
const ID_LEN: usize = 8;

/// The server's document key (`DOCUMENT_KEY`): at least 32 bytes, never printed.
#[derive(Clone)]
pub struct DocumentKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for DocumentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocumentKey(<redacted>)")
    }
}

impl DocumentKey {
    pub const MIN_BYTES: usize = 32;

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, CryptoConfigError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < Self::MIN_BYTES {
            return Err(CryptoConfigError::Invalid(format!(
                "the document key must be at least {} bytes",
                Self::MIN_BYTES
            )));
        }
        Ok(Self(bytes))
    }

    /// Decodes configuration text (base64).
    pub fn from_base64(text: &str) -> Result<Self, CryptoConfigError> {
        Self::from_bytes(decode_secret(text, "the document key")?)
    }

    /// The key derived from the password pepper, when no `DOCUMENT_KEY` is set.
    pub fn from_pepper(pepper: &Pepper) -> Self {
        Self(Zeroizing::new(pepper.as_bytes().to_vec()))
    }
}

/// A key-encryption key and its public id.
#[derive(Clone, Debug)]
struct Kek {
    key: ServerKey,
    id: [u8; ID_LEN],
}

impl Kek {
    fn new(secret: &DocumentKey) -> Self {
        let key = ServerKey::from_secret(&secret.0, KEK_LABEL);
        let full = key.derive(&[ID_LABEL]);
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&full[..ID_LEN]);
        Self { key, id }
    }

    fn wrap(&self, tenant: TenantId, data_key: &[u8; 32]) -> Result<WrappedKey, CipherFailed> {
        let sealed = seal(
            &self.key.derive(&[WRAP_LABEL]),
            &tenant_aad(tenant),
            data_key,
        )
        .ok_or(CipherFailed)?;
        let mut wrapped = Vec::with_capacity(1 + ID_LEN + sealed.len());
        wrapped.push(WRAPPED_TAG);
        wrapped.extend_from_slice(&self.id);
        wrapped.extend_from_slice(&sealed);
        Ok(WrappedKey(wrapped))
    }

    fn unwrap(&self, tenant: TenantId, sealed: &[u8]) -> Result<Zeroizing<[u8; 32]>, CipherFailed> {
        let plain = Zeroizing::new(
            open(&self.key.derive(&[WRAP_LABEL]), &tenant_aad(tenant), sealed)
                .ok_or(CipherFailed)?,
        );
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| CipherFailed)?;
        Ok(Zeroizing::new(key))
    }
}

fn tenant_aad(tenant: TenantId) -> Vec<u8> {
    let mut aad = b"aura-document-data-key".to_vec();
    aad.extend_from_slice(tenant.as_uuid().as_bytes());
    aad
}

/// A chunk's associated data: fixed-width fields, so no two positions read alike.
fn chunk_aad(at: ChunkAt) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + 16 + 4 + 1);
    aad.extend_from_slice(at.tenant.as_uuid().as_bytes());
    aad.extend_from_slice(at.version.as_uuid().as_bytes());
    aad.extend_from_slice(&at.index.to_be_bytes());
    aad.push(u8::from(at.last));
    aad
}

/// AES-256-GCM chunks under per-tenant data keys wrapped by the document key. Cheap to
/// clone; never printed.
#[derive(Clone, Debug)]
pub struct AesGcmContentCipher {
    current: Kek,
    previous: Option<Kek>,
}

impl AesGcmContentCipher {
    /// Wraps new keys under `current`; opens keys wrapped under `current` or `previous`.
    pub fn new(current: &DocumentKey, previous: Option<&DocumentKey>) -> Self {
        Self {
            current: Kek::new(current),
            previous: previous.map(Kek::new),
        }
    }

    fn data_key(
        &self,
        tenant: TenantId,
        key: &WrappedKey,
    ) -> Result<(Zeroizing<[u8; 32]>, bool), CipherFailed> {
        let bytes = key.0.as_slice();
        let (&tag, rest) = bytes.split_first().ok_or(CipherFailed)?;
        if tag != WRAPPED_TAG || rest.len() < ID_LEN {
            return Err(CipherFailed);
        }
        let (id, sealed) = rest.split_at(ID_LEN);
        if id == self.current.id {
            return Ok((self.current.unwrap(tenant, sealed)?, true));
        }
        match &self.previous {
            Some(previous) if id == previous.id => Ok((previous.unwrap(tenant, sealed)?, false)),
            _ => Err(CipherFailed),
        }
    }
}

impl ContentCipher for AesGcmContentCipher {
    fn new_data_key(&self, tenant: TenantId) -> Result<WrappedKey, CipherFailed> {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut());
        self.current.wrap(tenant, &key)
    }

    fn rewrap(
        &self,
        tenant: TenantId,
        key: &WrappedKey,
    ) -> Result<Option<WrappedKey>, CipherFailed> {
        let (data_key, current) = self.data_key(tenant, key)?;
        if current {
            return Ok(None);
        }
        self.current.wrap(tenant, &data_key).map(Some)
    }

    fn seal(&self, key: &WrappedKey, at: ChunkAt, plain: &[u8]) -> Result<Vec<u8>, CipherFailed> {
        let (data_key, _) = self.data_key(at.tenant, key)?;
        seal(&data_key, &chunk_aad(at), plain).ok_or(CipherFailed)
    }

    fn open(&self, key: &WrappedKey, at: ChunkAt, sealed: &[u8]) -> Result<Vec<u8>, CipherFailed> {
        let (data_key, _) = self.data_key(at.tenant, key)?;
        open(&data_key, &chunk_aad(at), sealed).ok_or(CipherFailed)
    }
}

/// SHA-256 of a document's content, as lowercase hex.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sha256ContentHasher;

struct Running(Sha256);

impl RunningHash for Running {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(self: Box<Self>) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl ContentHasher for Sha256ContentHasher {
    fn start(&self) -> Box<dyn RunningHash> {
        Box::new(Running(Sha256::new()))
    }
}

#[cfg(test)]
mod tests {
    use aura_documents::VersionId;
    use uuid::Uuid;

    use super::*;

    fn key(byte: u8) -> DocumentKey {
        DocumentKey::from_bytes(vec![byte; 32]).expect("32 bytes")
    }

    fn at(tenant: TenantId, version: VersionId, index: u32, last: bool) -> ChunkAt {
        ChunkAt {
            tenant,
            version,
            index,
            last,
        }
    }

    #[test]
    fn a_chunk_opens_only_where_it_was_sealed() {
        let cipher = AesGcmContentCipher::new(&key(1), None);
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let other = TenantId::from_uuid(Uuid::now_v7());
        let dk = cipher.new_data_key(tenant).expect("key");
        let v = VersionId::generate();
        let sealed = cipher
            .seal(&dk, at(tenant, v, 0, false), b"secret DPA text")
            .expect("seal");
        assert!(
            !sealed.windows(6).any(|w| w == b"secret"),
            "no plaintext in the seal"
        );
        let plain = cipher
            .open(&dk, at(tenant, v, 0, false), &sealed)
            .expect("open");
        assert_eq!(plain, b"secret DPA text");
        // Another position, the last-chunk flag, another version or tenant: refused.
        assert!(cipher.open(&dk, at(tenant, v, 1, false), &sealed).is_err());
        assert!(cipher.open(&dk, at(tenant, v, 0, true), &sealed).is_err());
        assert!(
            cipher
                .open(&dk, at(tenant, VersionId::generate(), 0, false), &sealed)
                .is_err()
        );
        assert!(cipher.open(&dk, at(other, v, 0, false), &sealed).is_err());
        // The wrapped key of one tenant does not serve another.
        assert!(cipher.seal(&dk, at(other, v, 0, false), b"x").is_err());
    }

    #[test]
    fn rotation_keeps_old_data_keys_readable_and_rewraps_them() {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let v = VersionId::generate();
        let old = AesGcmContentCipher::new(&key(1), None);
        let dk = old.new_data_key(tenant).expect("key");
        let sealed = old
            .seal(&dk, at(tenant, v, 0, true), b"evidence")
            .expect("seal");

        // Without the previous key, the new key alone cannot read it.
        let new_only = AesGcmContentCipher::new(&key(2), None);
        assert!(new_only.open(&dk, at(tenant, v, 0, true), &sealed).is_err());

        let rotated = AesGcmContentCipher::new(&key(2), Some(&key(1)));
        assert_eq!(
            rotated
                .open(&dk, at(tenant, v, 0, true), &sealed)
                .expect("old wrap opens"),
            b"evidence"
        );
        let rewrapped = rotated
            .rewrap(tenant, &dk)
            .expect("rewrap")
            .expect("changed");
        assert_ne!(rewrapped, dk);
        assert_eq!(rotated.rewrap(tenant, &rewrapped).expect("rewrap"), None);
        // After the rewrap the previous key can go: the content was not re-encrypted.
        assert_eq!(
            new_only
                .open(&rewrapped, at(tenant, v, 0, true), &sealed)
                .expect("opens"),
            b"evidence"
        );
    }

    #[test]
    fn sha256_is_hex() {
        let mut h = Sha256ContentHasher.start();
        h.update(b"abc");
        assert_eq!(
            h.finish(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(DocumentKey::from_bytes(vec![0; 31]).is_err());
    }
}
