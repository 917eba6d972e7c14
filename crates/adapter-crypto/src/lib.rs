//! Crypto adapters for the identity and audit ports: password hashing (bcrypt over a
//! peppered HMAC), access tokens (EdDSA JWTs with a key set and JWKS), opaque tokens,
//! the audit chain's keyed links and checkpoint signatures, the keyed hashing and sealing of idempotency entries, the
//! sealing of a tenant's third-party personal data, and TOTP second factors (sealed
//! secrets, hashed recovery codes). Nothing here is reachable from the
//! domain crates except through their ports.

mod chain;
mod documents;
mod error;
mod idempotency;
mod jwt;
mod keys;
mod packs;
mod password;
mod personal;
mod sealing;
mod secrets;
mod totp;

pub use chain::{ChainKey, HmacChainHasher};
pub use documents::{AesGcmContentCipher, DocumentKey, Sha256ContentHasher};
pub use error::CryptoConfigError;
pub use idempotency::HmacAesIdempotencySealer;
pub use jwt::{
    ACCESS_TOKEN_HEADER_TYP, ACCESS_TOKEN_TYP, Hs256Secret, JwtAccessTokens, JwtMode,
    LEEWAY_SECONDS, MAX_LIFETIME, MAX_TOKEN_BYTES, VERIFIED_TOKENS_KEPT,
};
pub use keys::JwtKeySet;
pub use packs::{JwksKeys, Sha256Digest};
pub use password::{BcryptPasswordHasher, Pepper, decode_secret};
pub use personal::AesGcmPersonalDataSeal;
pub use secrets::RandomSecrets;
pub use totp::TotpSecondFactor;
