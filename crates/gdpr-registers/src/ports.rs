//! Storage ports of the registers. Every method takes the tenant scope; every write takes
//! its audit event and commits with it. Updates name the `version` they read and fail with
//! `StoreError::Conflict("version")` when the row moved on (nothing is lost).

use aura_audit::PendingEvent;
use aura_tenancy::{StoreError, TenantScope, UserId};
use time::Date;
use uuid::Uuid;

use crate::{
    activity::{ActivityRole, ActivityStatus, LawfulBasis, ProcessingActivity},
    organisation::{OrganisationProfile, StoredOrganisation},
    policy::{Policy, PolicyKind, PolicyStatus, PolicyVersion},
    processor::{DpaStatus, Processor},
};

/// How a list is ordered. Lists page with a keyset cursor on (sort key, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Oldest first (by id, which is time-ordered).
    #[default]
    Created,
    CreatedDesc,
    Name,
    NameDesc,
    UpdatedDesc,
}

impl Sort {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "created_at" => Sort::Created,
            "-created_at" => Sort::CreatedDesc,
            "name" => Sort::Name,
            "-name" => Sort::NameDesc,
            "-updated_at" => Sort::UpdatedDesc,
            other => {
                return Err(format!(
                    "`{other}` is not one of: created_at, -created_at, name, -name, -updated_at"
                ));
            }
        })
    }
}

/// Where the next page starts: after the row with this sort key and id. The key is the
/// row's name for name sorts, its `updated_at` (RFC 3339) for `-updated_at`, empty otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

impl Cursor {
    /// Whether the key fits the sort: empty for created sorts, an RFC 3339 time for
    /// `-updated_at`, at most 300 characters for names. A cursor from another sort is
    /// refused rather than guessed at.
    pub fn fits(&self, sort: Sort) -> bool {
        match sort {
            Sort::Created | Sort::CreatedDesc => self.key.is_empty(),
            Sort::UpdatedDesc => time::OffsetDateTime::parse(
                &self.key,
                &time::format_description::well_known::Rfc3339,
            )
            .is_ok(),
            Sort::Name | Sort::NameDesc => {
                self.key.chars().count() <= 300 && !self.key.contains('\0')
            }
        }
    }
}

/// One page and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityQuery {
    pub status: Option<ActivityStatus>,
    pub role: Option<ActivityRole>,
    pub owner: Option<UserId>,
    pub lawful_basis: Option<LawfulBasis>,
    pub processor: Option<Uuid>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessorQuery {
    pub dpa_status: Option<DpaStatus>,
    /// Only processors whose DPA is missing, unsigned, or due for review on or before this date.
    pub dpa_attention_by: Option<Date>,
    pub parent: Option<Uuid>,
    pub search: Option<String>,
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyQuery {
    pub kind: Option<PolicyKind>,
    pub status: Option<PolicyStatus>,
    pub owner: Option<UserId>,
    pub search: Option<String>,
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

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

/// Activities. Links to processors are part of the activity (`fields.processor_ids`) and
/// must name processors of the same tenant (`NotFound` otherwise).
#[async_trait::async_trait]
pub trait ActivityRepository: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        activity: &ProcessingActivity,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<ProcessingActivity, StoreError>;
    async fn list(
        &self,
        scope: &TenantScope,
        query: &ActivityQuery,
    ) -> Result<ListPage<ProcessingActivity>, StoreError>;
    /// Every activity, oldest first (exports, completeness summary).
    async fn all(&self, scope: &TenantScope) -> Result<Vec<ProcessingActivity>, StoreError>;
    /// Stores `activity` (its `version` already incremented) if the row is at `expected_version`.
    async fn update(
        &self,
        scope: &TenantScope,
        activity: &ProcessingActivity,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// Processors. Deleting one that activities link to or that has sub-processors fails
/// with `Conflict("in_use")`.
#[async_trait::async_trait]
pub trait ProcessorRepository: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        processor: &Processor,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Processor, StoreError>;
    async fn list(
        &self,
        scope: &TenantScope,
        query: &ProcessorQuery,
    ) -> Result<ListPage<Processor>, StoreError>;
    async fn all(&self, scope: &TenantScope) -> Result<Vec<Processor>, StoreError>;
    async fn update(
        &self,
        scope: &TenantScope,
        processor: &Processor,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// Policies and their versions.
#[async_trait::async_trait]
pub trait PolicyRepository: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        policy: &Policy,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Policy, StoreError>;
    async fn list(
        &self,
        scope: &TenantScope,
        query: &PolicyQuery,
    ) -> Result<ListPage<Policy>, StoreError>;
    async fn update(
        &self,
        scope: &TenantScope,
        policy: &Policy,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    /// Deletes the policy and its versions.
    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Adds a version; its `number` must be the next free one (`Conflict("version_number")`).
    async fn insert_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
    async fn get_version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
        number: i32,
    ) -> Result<PolicyVersion, StoreError>;
    /// Newest first.
    async fn list_versions(
        &self,
        scope: &TenantScope,
        policy: Uuid,
    ) -> Result<Vec<PolicyVersion>, StoreError>;
    /// Stores a changed version (content or status) if the row is at `expected_version`.
    /// Publishing (status published) also retires the policy's previously published
    /// version and stores `policy` (current version, next review date) in the same
    /// transaction.
    async fn update_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        expected_version: i32,
        policy: Option<&Policy>,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}
