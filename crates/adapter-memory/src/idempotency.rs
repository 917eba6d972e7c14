//! [`IdempotencyStore`] in memory: entries keyed by (space, key hash) — the tenant's id
//! or the sign-up space — under the store's one lock, so a reservation is atomic.
//! Expired entries of the space are dropped on each reservation.

use std::collections::HashMap;

use aura_idempotency::{
    Fingerprint, IdempotencyStore, KeyHash, KeySpace,
    ports::{EntryState, Existing, Reservation, Reserved},
};
use aura_shared_kernel::{StoreError, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::MemoryStore;

/// `None` is the sign-up space.
type Slot = (Option<TenantId>, [u8; 32]);

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    fingerprint: Fingerprint,
    token: Uuid,
    response: Option<Vec<u8>>,
    locked_until: OffsetDateTime,
    expires_at: OffsetDateTime,
}

#[derive(Default)]
pub(crate) struct Entries(HashMap<Slot, Entry>);

fn space_of(space: &KeySpace) -> Option<TenantId> {
    match space {
        KeySpace::SignUp => None,
        KeySpace::Tenant(scope) => Some(scope.tenant_id()),
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for MemoryStore {
    async fn reserve(&self, space: &KeySpace, r: &Reservation) -> Result<Reserved, StoreError> {
        let mut state = self.lock()?;
        let owner = space_of(space);
        if let Some(tenant) = owner
            && !state.tenants.contains_key(&tenant)
        {
            return Err(StoreError::NotFound);
        }
        let entries = &mut state.idempotency.0;
        entries.retain(|(s, _), entry| *s != owner || entry.expires_at > r.now);
        let slot = (owner, r.key_hash.0);
        if let Some(entry) = entries.get(&slot) {
            let dead_holder = entry.response.is_none()
                && entry.locked_until <= r.now
                && entry.fingerprint == r.fingerprint;
            if !dead_holder {
                let state = match &entry.response {
                    Some(sealed) => EntryState::Completed {
                        sealed: sealed.clone(),
                    },
                    None => EntryState::InProgress {
                        locked_until: entry.locked_until,
                    },
                };
                return Ok(Reserved::Existing(Existing {
                    fingerprint: entry.fingerprint,
                    state,
                }));
            }
        }
        entries.insert(
            slot,
            Entry {
                fingerprint: r.fingerprint,
                token: r.token,
                response: None,
                locked_until: r.locked_until,
                expires_at: r.expires_at,
            },
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
        let mut state = self.lock()?;
        match state.idempotency.0.get_mut(&(space_of(space), key_hash.0)) {
            Some(entry) if entry.token == token && entry.response.is_none() => {
                entry.response = Some(sealed.to_vec());
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
        let mut state = self.lock()?;
        let slot = (space_of(space), key_hash.0);
        if state
            .idempotency
            .0
            .get(&slot)
            .is_some_and(|e| e.token == token && e.response.is_none())
        {
            state.idempotency.0.remove(&slot);
        }
        Ok(())
    }
}
