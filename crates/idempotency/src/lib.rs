//! Idempotency keys for retry-prone POSTs: the same key and the same request get the
//! first answer again; the same key with another request is refused; a key in use by a
//! running request makes a retry wait.
//!
//! Pure domain crate: the store ([`IdempotencyStore`]) and the keyed hashing and sealing
//! ([`IdempotencySealer`]) are ports; [`Idempotency`] holds the rules. Keys live per
//! tenant ([`KeySpace::Tenant`], through the verified principal's scope) or, for
//! sign-up, in a space of their own.

mod key;
pub mod ports;
mod response;
mod service;

pub use key::{Fingerprint, IdempotencyKey, InvalidKey, KeyHash, KeySpace, RequestFacts};
pub use ports::{IdempotencySealer, IdempotencyStore};
pub use response::{MalformedResponse, RecordedResponse};
pub use service::{Begin, Idempotency, IdempotencyConfig, IdempotencyError, Ticket};
