//! A submission waiting for its confirmation, and the port that keeps it.
//!
//! The link in the confirmation mail carries an opaque token; only its hash is stored.
//! Taking a pending intake for confirmation is single use: of two confirmations of one
//! token (a double click, a mail scanner racing the person) exactly one finds it.

use aura_identity::TokenHash;
use aura_records::Id;
use aura_shared_kernel::{StoreError, TenantId, TenantScope, TenantSettings, TenantSlug};
use time::{Duration, OffsetDateTime};

use crate::intake::{form::IntakeSubmission, settings::IntakeSettings};

/// Marker of the pending intakes' ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intakes {}

pub type IntakeId = Id<Intakes>;

/// A submission stored until it is confirmed or expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingIntake {
    pub id: IntakeId,
    pub token_hash: TokenHash,
    pub submission: IntakeSubmission,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl PendingIntake {
    /// How long a confirmation link works: a day, long enough to find the mail, short
    /// enough that unconfirmed personal data does not linger.
    pub const LIFETIME: Duration = Duration::hours(24);

    /// How long a confirmed intake stays before a purge removes it: long enough for a
    /// failed confirmation to put it back ([`IntakeStore::release`]).
    pub const CONFIRMED_KEPT: Duration = Duration::hours(1);

    pub fn new(token_hash: TokenHash, submission: IntakeSubmission, now: OffsetDateTime) -> Self {
        Self {
            id: IntakeId::generate(),
            token_hash,
            submission,
            created_at: now,
            expires_at: now + Self::LIFETIME,
        }
    }

    /// The associated data a store seals the submission under: it opens only for this
    /// intake (and, by the seal's key, only in its tenant).
    pub fn seal_context(id: IntakeId) -> Vec<u8> {
        format!("request_intake.submission:{id}").into_bytes()
    }
}

/// A tenant as its public page shows it, found by slug (active tenants only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicTenant {
    pub id: TenantId,
    pub name: String,
    pub slug: TenantSlug,
    pub settings: TenantSettings,
}

impl PublicTenant {
    pub fn intake(&self) -> IntakeSettings {
        IntakeSettings::of(&self.settings)
    }
}

/// Where pending intakes live. The PostgreSQL store keeps the submission sealed
/// (`PersonalDataSeal`, context [`PendingIntake::seal_context`]), never in clear.
#[async_trait::async_trait]
pub trait IntakeStore: Send + Sync {
    /// The active tenant with this slug (the narrow cross-tenant lookup of the public
    /// page); `None` for an unknown or suspended one.
    async fn find_public_tenant(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<PublicTenant>, StoreError>;

    async fn insert_pending(
        &self,
        scope: &TenantScope,
        intake: &PendingIntake,
    ) -> Result<(), StoreError>;

    /// Marks the scope's unconfirmed, unexpired intake with this token confirmed at
    /// `now` and answers it, atomically: a second call with the same token, an expired
    /// token or another tenant's token finds nothing.
    async fn take_confirmed(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingIntake>, StoreError>;

    /// Undoes [`IntakeStore::take_confirmed`] for an intake whose request could not be
    /// opened, so its link works again (until it expires).
    async fn release(&self, scope: &TenantScope, id: IntakeId) -> Result<(), StoreError>;

    /// Forgets the scope's intakes that expired by `now`, and those confirmed more than
    /// [`PendingIntake::CONFIRMED_KEPT`] before it (their data is in the request now);
    /// answers how many.
    async fn purge_expired(
        &self,
        scope: &TenantScope,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
