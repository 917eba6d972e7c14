use aura_identity::{OpaqueToken, TokenHash, ports::Secrets};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Opaque tokens from a CSPRNG seeded by the operating system; stored as their SHA-256.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomSecrets;

impl Secrets for RandomSecrets {
    fn opaque_token(&self) -> OpaqueToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let plain = URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash_token(&plain);
        OpaqueToken { plain, hash }
    }

    fn hash_token(&self, plain: &str) -> TokenHash {
        TokenHash(Sha256::digest(plain.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_and_hash_stably() {
        let token = RandomSecrets.opaque_token();
        assert_eq!(token.plain.len(), 43);
        assert_eq!(RandomSecrets.hash_token(&token.plain), token.hash);
        assert_ne!(RandomSecrets.opaque_token().plain, token.plain);
    }
}
