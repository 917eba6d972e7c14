//! The client's key, the space it lives in, and what the adapters derive from it.

use std::fmt;

use aura_shared_kernel::{TenantScope, UserId};

/// A client's `Idempotency-Key`: 1–255 visible ASCII characters (`!` to `~`). Kept only
/// in memory for the request: the stores see its keyed hash, and it keys the sealing
/// of the stored response. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a header value is not a usable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 255 visible ASCII characters (e.g. a UUID)")]
pub struct InvalidKey;

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    /// Checks the raw header bytes: no trimming, no other characters.
    pub fn parse(raw: &[u8]) -> Result<Self, InvalidKey> {
        let visible = raw.iter().all(|b| (0x21..=0x7e).contains(b));
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !visible {
            return Err(InvalidKey);
        }
        std::str::from_utf8(raw)
            .map(|s| Self(s.to_owned()))
            .map_err(|_| InvalidKey)
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(<redacted>)")
    }
}

/// Where a key lives. Keys of one tenant never meet another tenant's: the same key sent
/// by two tenants is two entries. Sign-up has no tenant yet and its own space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySpace {
    /// Self-service sign-up (no tenant exists before it).
    SignUp,
    /// A tenant's keys, reached through the verified principal's scope.
    Tenant(TenantScope),
}

impl KeySpace {
    /// Bytes naming the space, mixed into every derivation (so a key's hash, fingerprint
    /// and sealing key differ from one space to the next).
    pub fn label(&self) -> Vec<u8> {
        match self {
            KeySpace::SignUp => b"signup".to_vec(),
            KeySpace::Tenant(scope) => {
                let mut label = b"tenant:".to_vec();
                label.extend_from_slice(scope.tenant_id().as_uuid().as_bytes());
                label
            }
        }
    }
}

/// The keyed hash of a key within its space: what the stores look entries up by.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(..)")
    }
}

/// What identifies a request for replay: a keyed hash over its method, target, caller
/// and exact body bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprint(..)")
    }
}

/// The parts of a request that must match for a replay.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// `POST`.
    pub method: &'a str,
    /// The path and query as sent (`/api/v1/policies/…/versions`): the same key on
    /// another policy's versions is another request.
    pub target: &'a str,
    /// The signed-in user, if any: another user of the tenant sending the same key and
    /// body does not get the first user's answer.
    pub principal: Option<UserId>,
    pub body: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse(b"0193a0c4-5b6e-7c3d-9f00-3a1b2c3d4e5f").is_ok());
        assert!(IdempotencyKey::parse(b"!~").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        for bad in [
            &b""[..],
            &[b'k'; 256][..],
            b"with space",
            b"tab\there",
            b"nul\0",
            "grüße".as_bytes(),
            b"\x7f",
        ] {
            assert_eq!(IdempotencyKey::parse(bad), Err(InvalidKey), "{bad:?}");
        }
    }

    #[test]
    fn keys_do_not_print() {
        let key = IdempotencyKey::parse(b"secret-key").unwrap_or_else(|_| unreachable!());
        assert!(!format!("{key:?}").contains("secret"));
    }
}
