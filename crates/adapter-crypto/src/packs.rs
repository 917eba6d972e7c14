//! The accountability pack's crypto: SHA-256 of its files, the manifest signed with the
//! active Ed25519 access-token key (so the public key is already published at
//! `/.well-known/jwks.json`), and the check of such a signature against a JWKS.

use aura_packs::ports::{Digest, PublicKeys, SignError, Signature, SignatureCheck, Signer};
use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use sha2::Digest as _;

use crate::JwtAccessTokens;

/// SHA-256 as lowercase hex.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sha256Digest;

impl Digest for Sha256Digest {
    fn sha256_hex(&self, bytes: &[u8]) -> String {
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Signer for JwtAccessTokens {
    fn sign(&self, message: &[u8]) -> Result<Signature, SignError> {
        let set = self.key_set().ok_or_else(|| {
            SignError("no Ed25519 signing key (JWT_HS256_SECRET is set)".to_owned())
        })?;
        let key = set.active_key();
        let signature = jsonwebtoken::crypto::sign(message, &key.encoding, Algorithm::EdDSA)
            .map_err(|e| SignError(e.to_string()))?;
        Ok(Signature {
            alg: "EdDSA".to_owned(),
            kid: key.kid.clone(),
            signature,
        })
    }
}

/// The Ed25519 keys of a JWKS document (`{"keys":[{"kty":"OKP","crv":"Ed25519",…}]}`);
/// keys of other types are left out.
#[derive(Debug, Clone, Default)]
pub struct JwksKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl JwksKeys {
    /// Reads a JWKS document; `Err` names what does not read.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let keys = doc
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or("no `keys` array")?;
        let keys = keys
            .iter()
            .filter(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519")
            .filter_map(|k| {
                let kid = k["kid"].as_str()?.to_owned();
                let x = URL_SAFE_NO_PAD.decode(k["x"].as_str()?).ok()?;
                (x.len() == 32).then_some((kid, x))
            })
            .collect();
        Ok(Self { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl PublicKeys for JwksKeys {
    fn verify(&self, signature: &Signature, message: &[u8]) -> SignatureCheck {
        let Some((_, public)) = self.keys.iter().find(|(kid, _)| *kid == signature.kid) else {
            return SignatureCheck::UnknownKey;
        };
        if signature.alg != "EdDSA" {
            return SignatureCheck::Invalid;
        }
        let Ok(raw) = URL_SAFE_NO_PAD.decode(&signature.signature) else {
            return SignatureCheck::Invalid;
        };
        match UnparsedPublicKey::new(&ED25519, public).verify(message, &raw) {
            Ok(()) => SignatureCheck::Valid,
            Err(_) => SignatureCheck::Invalid,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{JwtKeySet, JwtMode};

    fn tokens() -> JwtAccessTokens {
        JwtAccessTokens::new(
            JwtMode::EdDsa(JwtKeySet::ephemeral().unwrap()),
            "iss",
            "aud",
            time::Duration::minutes(5),
        )
        .unwrap()
    }

    #[test]
    fn a_signature_verifies_against_the_published_jwks_and_nothing_else() {
        let server = tokens();
        let keys = JwksKeys::from_json(&server.jwks().to_string()).unwrap();
        let signature = server.sign(b"manifest").unwrap();
        assert_eq!(keys.verify(&signature, b"manifest"), SignatureCheck::Valid);
        assert_eq!(
            keys.verify(&signature, b"manifesT"),
            SignatureCheck::Invalid
        );
        let mut flipped = signature.clone();
        let mut raw = URL_SAFE_NO_PAD.decode(&flipped.signature).unwrap();
        raw[0] ^= 1;
        flipped.signature = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(keys.verify(&flipped, b"manifest"), SignatureCheck::Invalid);
        let other = JwksKeys::from_json(&tokens().jwks().to_string()).unwrap();
        assert_eq!(
            other.verify(&signature, b"manifest"),
            SignatureCheck::UnknownKey
        );
    }

    #[test]
    fn digests_are_lowercase_hex() {
        assert_eq!(
            Sha256Digest.sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
