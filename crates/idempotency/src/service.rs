//! The replay rules: reserve the key, run the request once, keep its success.

use std::sync::Arc;

use aura_shared_kernel::{Clock, StoreError};
use time::Duration;
use uuid::Uuid;

use crate::{
    IdempotencyKey, KeyHash, KeySpace, RecordedResponse, RequestFacts,
    ports::{EntryState, IdempotencySealer, IdempotencyStore, Reservation, Reserved},
};

/// How long keys live and how long a running request holds its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// How long a completed response is replayed (`IDEMPOTENCY_TTL_HOURS`, 24 h).
    pub ttl: Duration,
    /// How long a request holds its key before a retry may run it again (the holder is
    /// presumed dead). Longer than the slowest request.
    pub lock_timeout: Duration,
    /// Larger responses are not kept (the key is released instead).
    pub max_stored_bytes: usize,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::hours(24),
            lock_timeout: Duration::seconds(60),
            max_stored_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored response could not be opened or read: altered storage, or a bug.
    #[error("a stored response cannot be read back")]
    Corrupt,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// The key is ours: run the request, then [`Idempotency::finish`] the ticket.
    Proceed(Ticket),
    /// The same request completed before: answer this, unchanged.
    Replay(RecordedResponse),
    /// The key was used for a different request (422).
    KeyReused,
    /// The same key is in use by a request still running (409 with `Retry-After`).
    InProgress { retry_after_secs: i64 },
}

/// Holds a reserved key until the request's outcome is known.
#[derive(Debug)]
pub struct Ticket {
    space: KeySpace,
    key: IdempotencyKey,
    key_hash: KeyHash,
    token: Uuid,
}

/// The idempotency use cases, shared by every route that takes a key.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    sealer: Arc<dyn IdempotencySealer>,
    clock: Arc<dyn Clock>,
    config: IdempotencyConfig,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Idempotency {
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        sealer: Arc<dyn IdempotencySealer>,
        clock: Arc<dyn Clock>,
        config: IdempotencyConfig,
    ) -> Self {
        Self {
            store,
            sealer,
            clock,
            config,
        }
    }

    pub fn config(&self) -> &IdempotencyConfig {
        &self.config
    }

    /// Reserves `key` for `request` in `space`, or tells why the request must not run.
    pub async fn begin(
        &self,
        space: KeySpace,
        key: IdempotencyKey,
        request: &RequestFacts<'_>,
    ) -> Result<Begin, IdempotencyError> {
        let now = self.clock.now();
        let key_hash = self.sealer.key_hash(&space, &key);
        let fingerprint = self.sealer.fingerprint(&space, &key, request);
        let reservation = Reservation {
            key_hash,
            fingerprint,
            token: Uuid::new_v4(),
            now,
            locked_until: now + self.config.lock_timeout,
            expires_at: now + self.config.ttl,
        };
        let existing = match self.store.reserve(&space, &reservation).await? {
            Reserved::New => {
                return Ok(Begin::Proceed(Ticket {
                    space,
                    key,
                    key_hash,
                    token: reservation.token,
                }));
            }
            Reserved::Existing(existing) => existing,
        };
        if existing.fingerprint != fingerprint {
            return Ok(Begin::KeyReused);
        }
        match existing.state {
            EntryState::InProgress { locked_until } => Ok(Begin::InProgress {
                retry_after_secs: (locked_until - now).whole_seconds().clamp(1, 3_600),
            }),
            EntryState::Completed { sealed } => {
                let plain = self
                    .sealer
                    .open(&space, &key, &sealed)
                    .map_err(|_| IdempotencyError::Corrupt)?;
                RecordedResponse::decode(&plain)
                    .map(Begin::Replay)
                    .map_err(|_| IdempotencyError::Corrupt)
            }
        }
    }

    /// Keeps a successful (2xx) response for replay; anything else changed nothing worth
    /// protecting (4xx) or may succeed when retried (5xx), so the key is released.
    pub async fn finish(
        &self,
        ticket: Ticket,
        response: &RecordedResponse,
    ) -> Result<(), IdempotencyError> {
        let encoded = response.encode();
        if !response.is_success() || encoded.len() > self.config.max_stored_bytes {
            if response.is_success() {
                tracing::warn!(
                    bytes = encoded.len(),
                    "response too large to keep for idempotent replay"
                );
            }
            return self.release(ticket).await;
        }
        let sealed = self
            .sealer
            .seal(&ticket.space, &ticket.key, &encoded)
            .map_err(|_| IdempotencyError::Corrupt)?;
        let stored = self
            .store
            .complete(&ticket.space, &ticket.key_hash, ticket.token, &sealed)
            .await?;
        if !stored {
            tracing::warn!("an idempotency key's lock passed before its request finished");
        }
        Ok(())
    }

    /// Gives the key back without a response (the request failed or was abandoned).
    pub async fn release(&self, ticket: Ticket) -> Result<(), IdempotencyError> {
        self.store
            .release(&ticket.space, &ticket.key_hash, ticket.token)
            .await?;
        Ok(())
    }
}
