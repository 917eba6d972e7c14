//! Storage ports of the registers. Every method takes the tenant scope; every write takes
//! its audit event and commits with it. Updates name the `version` they read and fail with
//! `StoreError::Conflict::Version` when the row moved on (nothing is lost).

use aura_audit::PendingEvent;
use aura_shared_kernel::{StoreError, TenantScope};

use crate::{
    activity::ActivityFilter,
    organisation::{OrganisationProfile, StoredOrganisation},
    policy::{Policy, PolicyFilter, PolicyId, PolicyVersion},
    processor::ProcessorFilter,
};

pub use aura_records::{Cursor, ListPage, ListQuery, Sort};

/// The activities list: filters, order, cursor, limit.
pub type ActivityQuery = ListQuery<ActivityFilter>;
/// The processors list: filters, order, cursor, limit.
pub type ProcessorQuery = ListQuery<ProcessorFilter>;

/// The policies list: filters, order, cursor, limit.
pub type PolicyQuery = ListQuery<PolicyFilter>;

#[async_trait::async_trait]
pub trait OrganisationRepository: Send + Sync {
    /// The profile, or `None` before it was first saved.
    async fn get(&self, scope: &TenantScope) -> Result<Option<StoredOrganisation>, StoreError>;

    /// Creates (`expected_version` = 0) or replaces the profile; returns the new version.
    async fn put(
        &self,
        scope: &TenantScope,
        profile: &OrganisationProfile,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<i32, StoreError>;
}

/// The versions of policies (the policies themselves are `RecordStore<Policies>`).
#[async_trait::async_trait]
pub trait PolicyVersions: Send + Sync {
    /// Adds a version; its `number` must be the next free one (`Conflict::VersionNumberTaken`).
    async fn insert_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn get_version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        number: i32,
    ) -> Result<PolicyVersion, StoreError>;
    /// Newest first.
    async fn list_versions(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
    ) -> Result<Vec<PolicyVersion>, StoreError>;
    /// Stores a changed version (content or status) if the row is at `expected_version`.
    /// Publishing (status published) also retires the policy's previously published
    /// version and stores `policy` (status, next review date) at `policy.version - 1` in
    /// the same transaction. The policy's `current_version` follows the published version.
    async fn update_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        expected_version: i32,
        policy: Option<&Policy>,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}
