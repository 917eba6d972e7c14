//! The rate limiter's contracts (`rate_limit_contract_tests!`) on Redis: two limiters
//! with connections of their own, as two API processes would have.
//!
//! The server: `TEST_REDIS_URL` when set, else the local `redis://127.0.0.1:6379`. The
//! tests never skip: without a Redis they fail. Every test uses a key prefix of its own
//! (a random UUID), so parallel runs never collide, and keys expire by themselves.

use std::{sync::Arc, time::Duration};

use aura_adapter_crypto::{AesGcmPersonalDataSeal, Pepper};
use aura_adapter_redis::RedisRateLimiter;
use aura_port_contracts::LimitStores;
use time::OffsetDateTime;

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The keys of an installation whose pepper is `byte` repeated.
fn keys(byte: u8) -> Arc<AesGcmPersonalDataSeal> {
    let pepper = Pepper::from_bytes(vec![byte; 32]).expect("a pepper");
    Arc::new(AesGcmPersonalDataSeal::from_pepper(&pepper))
}

async fn limiter(prefix: &str) -> RedisRateLimiter {
    let limiter = RedisRateLimiter::connect(&redis_url(), prefix, Duration::from_secs(2), keys(1))
        .expect("a Redis URL");
    limiter
        .ping()
        .await
        .unwrap_or_else(|e| panic!("no Redis for tests at TEST_REDIS_URL or 127.0.0.1:6379: {e}"));
    limiter
}

async fn stores(base: OffsetDateTime) -> LimitStores {
    let prefix = format!("aura-test:{}:", uuid::Uuid::new_v4().simple());
    LimitStores {
        first: Arc::new(limiter(&prefix).await),
        second: Arc::new(limiter(&prefix).await),
        base,
    }
}

aura_port_contracts::rate_limit_contract_tests!(stores);

/// A Redis that does not answer fails fast with an error (the service then fails open).
#[tokio::test]
async fn an_unreachable_redis_fails_fast() {
    use aura_rate_limit::{Quota, RateLimitKey, RateLimiter};
    // A port nothing listens on (the discard port on loopback).
    let limiter = RedisRateLimiter::connect(
        "redis://127.0.0.1:9",
        "aura-test:",
        Duration::from_millis(300),
        keys(1),
    )
    .expect("a Redis URL");
    let key = RateLimitKey::Tenant(aura_shared_kernel::TenantId::generate());
    let check = limiter.check(
        &key,
        Quota::new(60, 1).expect("quota"),
        OffsetDateTime::now_utc(),
    );
    // A hang guard, not a speed measurement: the call must come back with an error.
    let result = tokio::time::timeout(Duration::from_secs(30), check)
        .await
        .expect("the check returns instead of hanging");
    let error = result.expect_err("no Redis there");
    assert!(
        error
            .to_string()
            .starts_with("rate-limit store unavailable: redis"),
        "{error}"
    );
}

/// What Redis holds for a client address is the pepper-keyed hash: hashing a guessed
/// address with SHA-256 (what the keys were before) finds nothing, and another pepper
/// gives another key.
#[tokio::test]
async fn stored_keys_are_keyed_hashes_not_plain_digests() {
    use aura_rate_limit::{Quota, RateLimitKey, RateLimiter};
    use sha2::{Digest, Sha256};
    let prefix = format!("aura-test:{}:", uuid::Uuid::new_v4().simple());
    let limiter = limiter(&prefix).await;
    let key = RateLimitKey::client_address("203.0.113.7".parse().expect("an address"));
    limiter
        .check(
            &key,
            Quota::new(60, 5).expect("quota"),
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("counted");
    let client = redis::Client::open(redis_url()).expect("a Redis URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let stored: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .expect("KEYS");
    assert_eq!(stored, [limiter.redis_key(&key)]);
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let guessed = format!(
        "{prefix}{}",
        hex(&Sha256::digest(key.storage_key().as_bytes()))
    );
    assert_ne!(
        stored[0], guessed,
        "a plain digest of the address finds the key"
    );
    assert!(!stored[0].contains("203.0.113.7"));
    let other = RedisRateLimiter::connect(&redis_url(), &prefix, Duration::from_secs(2), keys(2))
        .expect("a Redis URL");
    assert_ne!(
        other.redis_key(&key),
        stored[0],
        "another pepper, another key"
    );
}
