//! [`LoginThrottle`] on PostgreSQL. Not tenant data: rows are keyed by the SHA-256 of
//! the throttle key, so no e-mail address or client address is stored in clear.

use aura_identity::{ThrottleKey, ThrottlePolicy, ThrottleState, ports::LoginThrottle};
use aura_tenancy::StoreError;
use diesel::{dsl::case_when, prelude::*, sql_types::Integer, upsert::excluded};
use diesel_async::RunQueryDsl;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{
    error::{corrupt, map_diesel},
    pool::acquire,
    schema::login_throttle as throttle,
    stores::PgStores,
};

fn key_hash(key: &ThrottleKey) -> Vec<u8> {
    Sha256::digest(key.key().as_bytes()).to_vec()
}

#[async_trait::async_trait]
impl LoginThrottle for PgStores {
    async fn load(&self, keys: &[ThrottleKey]) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<Vec<u8>> = keys.iter().map(key_hash).collect();
        let mut conn = acquire(&self.inner.pool).await?;
        let rows: Vec<(Vec<u8>, i32, OffsetDateTime)> = throttle::table
            .filter(throttle::key_hash.eq_any(&hashes))
            .select((
                throttle::key_hash,
                throttle::failures,
                throttle::last_failure_at,
            ))
            .load(&mut conn)
            .await
            .map_err(map_diesel)?;
        hashes
            .iter()
            .map(|hash| {
                rows.iter()
                    .find(|(stored, _, _)| stored == hash)
                    .map(|(_, failures, last_failure_at)| {
                        Ok(ThrottleState {
                            failures: u32::try_from(*failures)
                                .map_err(|_| corrupt("stored failure count"))?,
                            last_failure_at: *last_failure_at,
                        })
                    })
                    .transpose()
            })
            .collect()
    }

    async fn record_failure(
        &self,
        keys: &[ThrottleKey],
        policy: &ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        // A failure after a quiet `window` starts the count again (as
        // `ThrottlePolicy::after_failure` does); the count saturates.
        let window_start = now - policy.window;
        let mut conn = acquire(&self.inner.pool).await?;
        for key in keys {
            // One statement per key: atomic under concurrency, no lock held across keys.
            diesel::insert_into(throttle::table)
                .values((
                    throttle::key_hash.eq(key_hash(key)),
                    throttle::failures.eq(1),
                    throttle::last_failure_at.eq(now),
                ))
                .on_conflict(throttle::key_hash)
                .do_update()
                .set((
                    throttle::failures.eq(case_when::<_, _, Integer>(
                        throttle::last_failure_at.le(window_start),
                        1,
                    )
                    .when(throttle::failures.ge(i32::MAX), throttle::failures)
                    .otherwise(throttle::failures + 1)),
                    throttle::last_failure_at.eq(excluded(throttle::last_failure_at)),
                ))
                .execute(&mut conn)
                .await
                .map_err(map_diesel)?;
        }
        Ok(())
    }

    async fn clear(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let hashes: Vec<Vec<u8>> = keys.iter().map(key_hash).collect();
        let mut conn = acquire(&self.inner.pool).await?;
        diesel::delete(throttle::table.filter(throttle::key_hash.eq_any(&hashes)))
            .execute(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(())
    }
}
