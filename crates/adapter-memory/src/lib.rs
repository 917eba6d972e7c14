//! Every storage port in memory, for unit tests and the API's explicit demo mode.
//!
//! One [`MemoryStore`] implements identity's `TenantRepository`, `UserRepository`,
//! `SessionStore`, `PasswordResetStore` and `LoginThrottle`, audit's `AuditLog`, the
//! GDPR registers' `OrganisationRepository`, the kernel's `RecordStore` of activities,
//! processors and policies, and `PolicyVersions`, tasks' `TaskRepository` and `JobQueue`, and the AI assistant's
//! `SuggestionRepository` and `AiUsage`, and the idempotency keys' `IdempotencyStore`. All tables sit
//! behind one lock, so a change and its audit event (and a task's reminders) commit
//! together: every method checks all its rules before it changes anything, and the
//! lock is never held across an `.await`. It follows the rules the PostgreSQL adapter
//! enforces (tenant isolation, unique e-mail and slug, the last-owner rule, single-use
//! tokens, optimistic versions of the registers and tasks, the job queue's dedupe keys
//! and leases); the port contract suite (`aura-port-contracts`) holds both adapters to
//! them.
//!
//! [`MemoryRateLimiter`] implements the rate limiter's port under a lock of its own.
//!
//! Nothing is persisted: a restart forgets everything.

mod ai;
mod audit;
mod breaches;
mod documents;
mod dpia_screenings;
mod dpias;
mod idempotency;
mod identity;
mod intakes;
mod jobs;
mod limits;
mod packs;
mod partners;
mod planned;
mod registers;
mod requests;
mod roles;
mod second_factors;
mod state;
mod tasks;

use std::sync::{Arc, Mutex, MutexGuard};

use aura_audit::ChainHasher;
use aura_shared_kernel::{Clock, StoreError};

pub use crate::limits::MemoryRateLimiter;
use crate::state::State;

/// All tables in memory behind one lock. Cloning is cheap and shares the tables.
#[derive(Clone)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// The public intake's pending submissions (`intakes.rs`), apart from `state`: they
    /// are written with no other table.
    intakes: Mutex<intakes::IntakeTable>,
    hasher: Arc<dyn ChainHasher>,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// An empty store. `hasher` seals the audit chains; `clock` stamps audit events and
    /// decides whether a session has passed its absolute expiry.
    pub fn new(hasher: Arc<dyn ChainHasher>, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                intakes: Mutex::default(),
                hasher,
                clock,
            }),
        }
    }

    /// The clock the store uses.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.shared.clock)
    }

    /// The one lock over every table. A poisoned lock means a panic inside a critical
    /// section: refuse to go on rather than serve possibly half-changed tables.
    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.shared
            .state
            .lock()
            .map_err(|_| StoreError::unexpected("memory store lock poisoned"))
    }

    /// Runs `change` on the tables under the lock. `Tx` seals audit events with the
    /// store's hasher and clock.
    fn write<T>(
        &self,
        change: impl FnOnce(&mut state::Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.lock()?;
        let mut tx = state::Tx {
            state: &mut guard,
            hasher: self.shared.hasher.as_ref(),
            clock: self.shared.clock.as_ref(),
        };
        change(&mut tx)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}
