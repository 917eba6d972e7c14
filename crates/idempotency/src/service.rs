//! The replay rules: reserve the key, run the request once, keep its success.

use std::sync::Arc;

use aura_tenancy::{Clock, StoreError};
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

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Mutex};

    use aura_tenancy::{FixedClock, Role, TenantId, TenantScope, UserId};
    use time::macros::datetime;

    use super::*;
    use crate::{
        Fingerprint,
        ports::{Existing, SealError},
    };

    /// Entries by (space label, hash): enough to check the service's decisions.
    type Slot = (Vec<u8>, [u8; 32]);

    #[derive(Default)]
    struct FakeStore(Mutex<HashMap<Slot, (Fingerprint, Uuid, EntryState)>>);

    #[async_trait::async_trait]
    impl IdempotencyStore for FakeStore {
        async fn reserve(&self, space: &KeySpace, r: &Reservation) -> Result<Reserved, StoreError> {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (space.label(), r.key_hash.0);
            if let Some((fingerprint, _, state)) = map.get(&slot) {
                let expired = matches!(state, EntryState::InProgress { locked_until } if *locked_until <= r.now);
                if !(expired && *fingerprint == r.fingerprint) {
                    return Ok(Reserved::Existing(Existing {
                        fingerprint: *fingerprint,
                        state: state.clone(),
                    }));
                }
            }
            map.insert(
                slot,
                (
                    r.fingerprint,
                    r.token,
                    EntryState::InProgress {
                        locked_until: r.locked_until,
                    },
                ),
            );
            Ok(Reserved::New)
        }

        async fn complete(
            &self,
            space: &KeySpace,
            key_hash: &KeyHash,
            token: Uuid,
            sealed: &[u8],
        ) -> Result<bool, StoreError> {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match map.get_mut(&(space.label(), key_hash.0)) {
                Some((_, holder, state)) if *holder == token => {
                    *state = EntryState::Completed {
                        sealed: sealed.to_vec(),
                    };
                    Ok(true)
                }
                _ => Ok(false),
            }
        }

        async fn release(
            &self,
            space: &KeySpace,
            key_hash: &KeyHash,
            token: Uuid,
        ) -> Result<(), StoreError> {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (space.label(), key_hash.0);
            if matches!(map.get(&slot), Some((_, holder, EntryState::InProgress { .. })) if *holder == token)
            {
                map.remove(&slot);
            }
            Ok(())
        }
    }

    /// Not crypto: a readable stand-in that still separates keys and spaces.
    struct FakeSealer;

    fn mix(parts: &[&[u8]]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in parts
            .iter()
            .flat_map(|p| p.iter().chain([&0xffu8]))
            .enumerate()
        {
            out[i % 32] = out[i % 32].wrapping_mul(31).wrapping_add(*byte);
        }
        out
    }

    impl IdempotencySealer for FakeSealer {
        fn key_hash(&self, space: &KeySpace, key: &IdempotencyKey) -> KeyHash {
            KeyHash(mix(&[&space.label(), key.as_bytes()]))
        }
        fn fingerprint(
            &self,
            space: &KeySpace,
            key: &IdempotencyKey,
            r: &RequestFacts<'_>,
        ) -> Fingerprint {
            let user = r
                .principal
                .map(|u| *u.as_uuid().as_bytes())
                .unwrap_or_default();
            Fingerprint(mix(&[
                &space.label(),
                key.as_bytes(),
                r.method.as_bytes(),
                r.target.as_bytes(),
                &user,
                r.body,
            ]))
        }
        fn seal(
            &self,
            _: &KeySpace,
            _: &IdempotencyKey,
            plain: &[u8],
        ) -> Result<Vec<u8>, SealError> {
            Ok([b"sealed:", plain].concat())
        }
        fn open(
            &self,
            _: &KeySpace,
            _: &IdempotencyKey,
            sealed: &[u8],
        ) -> Result<Vec<u8>, SealError> {
            sealed
                .strip_prefix(b"sealed:")
                .map(<[u8]>::to_vec)
                .ok_or(SealError)
        }
    }

    fn service() -> (Idempotency, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::at(datetime!(2026-11-25 10:00 UTC)));
        let service = Idempotency::new(
            Arc::new(FakeStore::default()),
            Arc::new(FakeSealer),
            clock.clone(),
            IdempotencyConfig::default(),
        );
        (service, clock)
    }

    fn key(raw: &str) -> IdempotencyKey {
        IdempotencyKey::parse(raw.as_bytes()).unwrap_or_else(|_| unreachable!())
    }

    fn space() -> KeySpace {
        KeySpace::Tenant(TenantScope::for_tests(
            TenantId::from_uuid(Uuid::from_u128(1)),
            UserId::from_uuid(Uuid::from_u128(2)),
            Role::Member,
        ))
    }

    fn facts(body: &[u8]) -> RequestFacts<'_> {
        RequestFacts {
            method: "POST",
            target: "/api/v1/tasks",
            principal: Some(UserId::from_uuid(Uuid::from_u128(2))),
            body,
        }
    }

    fn response(status: u16) -> RecordedResponse {
        RecordedResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!("{{\"status\":{status}}}").into_bytes(),
        }
    }

    async fn proceed(service: &Idempotency, body: &[u8]) -> Ticket {
        match service.begin(space(), key("k-1"), &facts(body)).await {
            Ok(Begin::Proceed(ticket)) => ticket,
            other => panic!("expected to proceed, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_success_is_replayed_and_another_body_is_refused() {
        let (service, _) = service();
        let ticket = proceed(&service, b"{}").await;
        service
            .finish(ticket, &response(201))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        match service.begin(space(), key("k-1"), &facts(b"{}")).await {
            Ok(Begin::Replay(replayed)) => assert_eq!(replayed, response(201)),
            other => panic!("expected a replay, got {other:?}"),
        }
        assert!(matches!(
            service.begin(space(), key("k-1"), &facts(b"{ }")).await,
            Ok(Begin::KeyReused)
        ));
    }

    #[tokio::test]
    async fn failures_release_the_key() {
        let (service, _) = service();
        for status in [400, 403, 409, 422, 429, 500, 502, 503] {
            let ticket = proceed(&service, b"{}").await;
            service
                .finish(ticket, &response(status))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        // And a later body may use the key: nothing was kept.
        let ticket = proceed(&service, b"{\"fixed\":true}").await;
        service
            .release(ticket)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[tokio::test]
    async fn a_running_request_holds_its_key_until_its_lock_passes() {
        let (service, clock) = service();
        let _held = proceed(&service, b"{}").await;
        clock.advance(Duration::seconds(15));
        match service.begin(space(), key("k-1"), &facts(b"{}")).await {
            Ok(Begin::InProgress { retry_after_secs }) => assert_eq!(retry_after_secs, 45),
            other => panic!("expected in progress, got {other:?}"),
        }
        clock.advance(Duration::seconds(45));
        let _taken_over = proceed(&service, b"{}").await;
    }

    #[tokio::test]
    async fn oversized_responses_are_not_kept() {
        let (service, _) = service();
        let ticket = proceed(&service, b"{}").await;
        let big = RecordedResponse {
            body: vec![b'x'; 2 * 1024 * 1024],
            ..response(201)
        };
        service
            .finish(ticket, &big)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let _again = proceed(&service, b"{}").await;
    }
}
