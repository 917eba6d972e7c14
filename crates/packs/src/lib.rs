//! The accountability pack (Art. 5(2), 24 GDPR): one request builds, in the background
//! through the job queue, a ZIP of what an authority or auditor asks for about a period —
//! the record of processing (PDF and CSV), the processors with their DPA status, the
//! current policy versions, the DPIAs, the breach register, the request register with
//! its on-time rate, task completion and the audit chain's verification — with a
//! manifest of every file's size and SHA-256 and the tenant's chain head, signed with
//! the server's signing key (`manifest.sig`), so a recipient can check with the public
//! key alone that nothing changed after export ([`manifest::check`], `aura
//! verify-pack`). The pack is kept for a set time, then its bytes are removed.
//!
//! Pure: the archive format, the digests and the signature are ports ([`ports`]).

pub mod actions;
mod contents;
pub mod jobs;
pub mod manifest;
pub mod ports;
mod service;

use aura_reports::Language;
use aura_shared_kernel::{TenantId, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub use contents::PackSources;
pub use jobs::{BuildPack, PackJobs, PurgePacks, register};
pub use service::{PackSettings, Packs};

/// A pack's id.
pub type PackId = Uuid;

/// Where a pack stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackStatus {
    /// Asked for; the job has not built it yet.
    Queued,
    /// Built; its bytes can be downloaded until it expires.
    Ready,
    /// The build failed (the reason is kept, without personal data).
    Failed,
    /// Its time is up and its bytes are removed.
    Expired,
}

impl PackStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Queued, Self::Ready, Self::Failed, Self::Expired]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// The period a pack covers, both days included (UTC dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    #[serde(with = "aura_shared_kernel::date::iso_date")]
    pub from: Date,
    #[serde(with = "aura_shared_kernel::date::iso_date")]
    pub to: Date,
}

impl Period {
    /// `from` to `to`; `to` before `from` is refused naming `period_to`.
    pub fn new(from: Date, to: Date) -> Result<Self, ValidationErrors> {
        if to < from {
            return Err(ValidationErrors::single(
                "period_to",
                "must not be before period_from",
            ));
        }
        Ok(Self { from, to })
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

/// A pack as stored: what was asked, and what the build made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub id: PackId,
    pub tenant_id: TenantId,
    pub status: PackStatus,
    pub period: Period,
    pub language: Language,
    pub requested_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    /// When the bytes are removed (counted from the request).
    pub expires_at: OffsetDateTime,
    pub built_at: Option<OffsetDateTime>,
    /// The ZIP's size and SHA-256 (hex), once built.
    pub size: Option<u64>,
    pub sha256: Option<String>,
    /// Why the build failed (no personal data).
    pub failure: Option<String>,
}

/// What a finished build stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPack {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub built_at: OffsetDateTime,
}
