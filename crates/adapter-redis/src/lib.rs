//! Redis adapter: [`RedisRateLimiter`], the rate limiter's port as one Lua script per
//! check (the GCRA step, atomic on the server), shared by every instance on the same
//! Redis.
//!
//! Keys are `<prefix><pepper-keyed HMAC of the rate-limit key>` (no client address in
//! clear, and none found by hashing candidates: [`KeyedHash`]) and expire when their TAT
//! passes, so Redis holds only keys counted in the last window.
//! Every call is bounded by a timeout: a dead or slow Redis answers with an error
//! quickly, and `aura_rate_limit::RateLimits` then fails open.

use std::{fmt::Write as _, sync::Arc, time::Duration};

use aura_rate_limit::{
    Quota, RateLimitDecision, RateLimitError, RateLimitKey, RateLimiter, micros,
};
use aura_shared_kernel::KeyedHash;
use redis::{
    Client, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use time::OffsetDateTime;

/// The GCRA step (see `aura_rate_limit::Quota::step`), atomic because Redis runs a
/// script alone. Times are integer µs kept as strings (`%.0f`: exact for integers below
/// 2^53, where Lua's default formatting would round). A refusal changes nothing.
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local next_tat = tat + interval
if next_tat - now <= tolerance then
  local ttl_ms = math.ceil((next_tat - now) / 1000)
  redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', string.format('%.0f', ttl_ms))
  return {1, string.format('%.0f', next_tat)}
end
return {0, stored}
";

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "aura:rl:";

/// Why a Redis URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("not a usable redis:// or rediss:// URL: {0}")]
pub struct InvalidRedisUrl(String);

/// The rate limiter on Redis. Cheap to clone (one multiplexed, reconnecting connection).
#[derive(Clone)]
pub struct RedisRateLimiter {
    connection: ConnectionManager,
    script: Arc<Script>,
    prefix: Arc<str>,
    timeout: Duration,
    keys: Arc<dyn KeyedHash>,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// A limiter for `url` (`redis://` or `rediss://`). Connects lazily: this succeeds
    /// while Redis is down; [`RedisRateLimiter::ping`] tells whether it answers. Every
    /// command (and every connection attempt) gives up after `timeout`. Keys are hashed
    /// with `keys`.
    pub fn connect(
        url: &str,
        prefix: &str,
        timeout: Duration,
        keys: Arc<dyn KeyedHash>,
    ) -> Result<Self, InvalidRedisUrl> {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(InvalidRedisUrl("the scheme must be redis or rediss".into()));
        }
        // The error text could quote the URL (and its password): never pass it on.
        let client =
            Client::open(url).map_err(|_| InvalidRedisUrl("the URL does not parse".into()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| InvalidRedisUrl(format!("{:?}", e.kind())))?;
        Ok(Self {
            connection,
            script: Arc::new(Script::new(GCRA)),
            prefix: Arc::from(prefix),
            timeout,
            keys,
        })
    }

    /// Whether Redis answers (within the timeout).
    pub async fn ping(&self) -> Result<(), RateLimitError> {
        let mut connection = self.connection.clone();
        let answer: String = self
            .bounded(redis::cmd("PING").query_async(&mut connection))
            .await?;
        if answer == "PONG" {
            Ok(())
        } else {
            Err(RateLimitError(format!("unexpected PING answer {answer:?}")))
        }
    }

    /// `<prefix><hex of the keyed hash>`; the purpose is the PostgreSQL limiter's, so a
    /// key has one hash wherever it is counted.
    pub fn redis_key(&self, key: &RateLimitKey) -> String {
        let digest = self
            .keys
            .keyed_hash(b"rate-limit", key.storage_key().as_bytes());
        let mut name = String::with_capacity(self.prefix.len() + 64);
        name.push_str(&self.prefix);
        for byte in digest {
            let _ = write!(name, "{byte:02x}");
        }
        name
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, RateLimitError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            // Kinds and categories only: a server message could echo a key or argument.
            Ok(Err(error)) => Err(RateLimitError(format!("redis: {:?}", error.kind()))),
            Err(_) => Err(RateLimitError(format!(
                "redis: no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(
        &self,
        key: &RateLimitKey,
        quota: Quota,
        now: OffsetDateTime,
    ) -> Result<RateLimitDecision, RateLimitError> {
        let now_us = micros(now);
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(self.redis_key(key));
        invocation
            .arg(now_us)
            .arg(quota.interval_us())
            .arg(quota.tolerance_us());
        let (allowed, tat): (i64, String) = self
            .bounded(invocation.invoke_async(&mut connection))
            .await?;
        let tat_us = tat
            .parse::<i64>()
            .map_err(|_| RateLimitError("redis: the stored TAT is not an integer".into()))?;
        Ok(quota.decision(allowed == 1, tat_us, now_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Keys;

    impl KeyedHash for Keys {
        fn keyed_hash(&self, _: &[u8], _: &[u8]) -> [u8; 32] {
            [7; 32]
        }
    }

    #[test]
    fn urls_are_checked_without_echoing_them() {
        let error = RedisRateLimiter::connect(
            "http://user:hunter2@localhost",
            DEFAULT_PREFIX,
            Duration::from_millis(100),
            Arc::new(Keys),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("scheme"), "{error}");
        assert!(!error.contains("hunter2"));
    }
}
