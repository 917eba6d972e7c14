//! Crypto adapters for the identity and audit ports: password hashing (bcrypt over a
//! peppered HMAC), access tokens (EdDSA JWTs with a key set and JWKS), opaque tokens, and
//! the audit chain hash. Nothing here is reachable from the domain crates except through
//! their ports.

mod chain;
mod secrets;

pub use chain::Sha256ChainHasher;
pub use secrets::RandomSecrets;
