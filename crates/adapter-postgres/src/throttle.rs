//! [`LoginThrottle`] on PostgreSQL. Not tenant data: rows are keyed by a pepper-keyed
//! HMAC of the throttle key, so no e-mail address or client address is stored in clear
//! or can be found by hashing candidates.

use aura_identity::{
    CountedFailure, ThrottleKey, ThrottlePolicy, ThrottleState, ports::LoginThrottle,
};
use aura_shared_kernel::StoreError;
use diesel::{dsl::case_when, prelude::*, sql_types::Integer, upsert::excluded};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::{
    error::{DbError, corrupt},
    pool::{acquire, unscoped},
    schema::login_throttle as throttle,
    stores::PgStores,
};

impl PgStores {
    /// The row key: the pepper-keyed hash of the throttle key.
    fn throttle_hash(&self, key: &ThrottleKey) -> Vec<u8> {
        self.inner
            .seal
            .keyed_hash(b"throttle", key.key().as_bytes())
            .to_vec()
    }
}

fn failures_from(stored: i32) -> Result<u32, StoreError> {
    u32::try_from(stored).map_err(|_| corrupt("stored failure count"))
}

/// Counts one failure against one key in its own short transaction: the row (if any) is
/// locked and read, then upserted, and the new count returned with the previous time.
/// No lock is held across keys.
async fn count_one(
    conn: &mut AsyncPgConnection,
    hash: Vec<u8>,
    window_start: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<CountedFailure, StoreError> {
    let (failures, last_failure_at, previous): (i32, OffsetDateTime, Option<OffsetDateTime>) = conn
        .transaction::<_, DbError, _>(async move |conn| {
            let previous: Option<OffsetDateTime> = throttle::table
                .filter(throttle::key_hash.eq(&hash))
                .select(throttle::last_failure_at)
                .for_update()
                .first(conn)
                .await
                .optional()?;
            // A failure after a quiet `window` starts the count again (as
            // `ThrottlePolicy::after_failure` does); the count saturates.
            let (failures, last_failure_at): (i32, OffsetDateTime) =
                diesel::insert_into(throttle::table)
                    .values((
                        throttle::key_hash.eq(&hash),
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
                    .returning((throttle::failures, throttle::last_failure_at))
                    .get_result(conn)
                    .await?;
            Ok((failures, last_failure_at, previous))
        })
        .await
        .map_err(StoreError::from)?;
    let failures = failures_from(failures)?;
    Ok(CountedFailure {
        state: ThrottleState {
            failures,
            last_failure_at,
        },
        // A count of one started afresh. Above one without a row read first (another
        // request inserted it meanwhile) the previous time is unknown: `before()` then
        // takes this failure's time, the cautious choice.
        previous_failure_at: previous.filter(|_| failures > 1),
    })
}

#[async_trait::async_trait]
impl LoginThrottle for PgStores {
    async fn load(&self, keys: &[ThrottleKey]) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<Vec<u8>> = keys.iter().map(|key| self.throttle_hash(key)).collect();
        let rows: Vec<(Vec<u8>, i32, OffsetDateTime)> = unscoped(&self.inner.pool, async |conn| {
            Ok(throttle::table
                .filter(throttle::key_hash.eq_any(&hashes))
                .select((
                    throttle::key_hash,
                    throttle::failures,
                    throttle::last_failure_at,
                ))
                .load(conn)
                .await?)
        })
        .await?;
        hashes
            .iter()
            .map(|hash| {
                rows.iter()
                    .find(|(stored, _, _)| stored == hash)
                    .map(|(_, failures, last_failure_at)| {
                        Ok(ThrottleState {
                            failures: failures_from(*failures)?,
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
    ) -> Result<Vec<CountedFailure>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let window_start = now - policy.window;
        // Not `unscoped`: every key is counted in a transaction of its own (`count_one`),
        // so no lock is held across keys.
        let mut conn = acquire(&self.inner.pool).await?;
        let mut counted = Vec::with_capacity(keys.len());
        for key in keys {
            counted.push(count_one(&mut conn, self.throttle_hash(key), window_start, now).await?);
        }
        Ok(counted)
    }

    async fn release(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let hashes: Vec<Vec<u8>> = keys.iter().map(|key| self.throttle_hash(key)).collect();
        // A count of one goes to zero, which the table does not hold (`failures > 0`):
        // the row is forgotten, as zero failures mean. Deleting first and decrementing
        // in a second statement (a fresh snapshot under READ COMMITTED) means a failure
        // counted in between is never lost; each statement is atomic per row and the
        // time is kept.
        unscoped(&self.inner.pool, async |conn| {
            diesel::delete(
                throttle::table
                    .filter(throttle::key_hash.eq_any(&hashes))
                    .filter(throttle::failures.le(1)),
            )
            .execute(conn)
            .await?;
            diesel::update(
                throttle::table
                    .filter(throttle::key_hash.eq_any(&hashes))
                    .filter(throttle::failures.gt(1)),
            )
            .set(throttle::failures.eq(throttle::failures - 1))
            .execute(conn)
            .await?;
            Ok(())
        })
        .await
    }

    async fn clear(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let hashes: Vec<Vec<u8>> = keys.iter().map(|key| self.throttle_hash(key)).collect();
        unscoped(&self.inner.pool, async |conn| {
            diesel::delete(throttle::table.filter(throttle::key_hash.eq_any(&hashes)))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }
}
