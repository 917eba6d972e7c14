//! Request rate limits, shared by every instance of the service.
//!
//! - [`RateLimitKey`]: what is counted — a client address on the public auth routes, the
//!   verified tenant on the API.
//! - [`Quota`]: a rate per minute and a burst, enforced with GCRA (the generic cell rate
//!   algorithm): one stored value per key, the *theoretical arrival time* (TAT), moved
//!   forward by one emission interval per allowed request. A request at `now` is allowed
//!   when `max(tat, now) + interval - now <= burst × interval`; a refused request changes
//!   nothing, and the exact `Retry-After` follows from the stored TAT.
//! - [`RateLimiter`]: the port — one atomic "count this request" per call, in PostgreSQL,
//!   Redis or memory.
//! - [`RateLimits`]: what the HTTP layer calls. It keeps a per-instance "blocked until"
//!   cache, so a flooding key's refused requests never reach the store, and fails open
//!   (allows, logs, counts) when the store cannot answer.

mod key;
mod quota;
mod service;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use key::{KeyKind, RateLimitKey};
pub use quota::{InvalidQuota, Quota, RateLimitDecision, micros};
pub use service::{RateLimitPolicy, RateLimitStats, RateLimits};

/// The store could not answer (unreachable, timed out, corrupt value).
#[derive(Debug, thiserror::Error)]
#[error("rate-limit store unavailable: {0}")]
pub struct RateLimitError(pub String);

/// Counts requests per key, atomically across every instance that shares the store.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request under `key` at `now` if `quota` allows it and says so. A refused
    /// request is not counted. Concurrent calls on one key never allow more than the
    /// quota does.
    async fn check(
        &self,
        key: &RateLimitKey,
        quota: Quota,
        now: OffsetDateTime,
    ) -> Result<RateLimitDecision, RateLimitError>;
}
