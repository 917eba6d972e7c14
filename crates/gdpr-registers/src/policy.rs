//! Policies and their versions: a published version never changes. A policy is a
//! record of the kernel ([`Policies`]); its versions and their workflow are its own.

use aura_audit::AuditAction;
use aura_records::{Id, Record, RecordActions, RecordKind, Reference};
use aura_shared_kernel::{TenantId, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::text::{TextRule, string_enum, text};

string_enum!(PolicyKind {
    PrivacyPolicy => "privacy_policy",
    DataProtectionPolicy => "data_protection_policy",
    RetentionPolicy => "retention_policy",
    BreachResponsePlan => "breach_response_plan",
    Other => "other",
});

string_enum!(PolicyStatus { Draft => "draft", Active => "active", Retired => "retired" });

string_enum!(
    /// draft → in_review → published → retired; in_review may go back to draft.
    VersionStatus {
        Draft => "draft",
        InReview => "in_review",
        Published => "published",
        Retired => "retired",
    }
);

/// Everything a user edits about a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFields {
    pub title: String,
    pub kind: PolicyKind,
    pub owner_id: Option<UserId>,
    /// Months between reviews (1–60); the next review date follows publication.
    pub review_interval_months: Option<u8>,
    #[serde(default, with = "crate::text::iso_date::option")]
    pub next_review_date: Option<Date>,
    #[serde(default = "default_policy_status")]
    pub status: PolicyStatus,
}

fn default_policy_status() -> PolicyStatus {
    PolicyStatus::Draft
}

impl PolicyFields {
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.collect(text("title", &self.title, TextRule::line(300)));
        if self
            .review_interval_months
            .is_some_and(|m| !(1..=60).contains(&m))
        {
            e.push("review_interval_months", "must be between 1 and 60");
        }
        e.into_result()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            ..self
        })
    }
}

/// The register of policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policies {}

pub type PolicyId = Id<Policies>;

/// A stored policy.
pub type Policy = Record<Policies>;

/// What a policy shows that follows its versions, not its own edits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PolicyState {
    /// The number of the published version, if any.
    pub current_version: Option<i32>,
}

/// The policies list's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyFilter {
    pub kind: Option<PolicyKind>,
    pub status: Option<PolicyStatus>,
    pub owner: Option<UserId>,
    /// Case-insensitive substring of the title.
    pub search: Option<String>,
}

impl RecordKind for Policies {
    const ENTITY: &'static str = "policy";
    const ACTIONS: RecordActions = RecordActions {
        created: AuditAction::known("policy.created"),
        updated: AuditAction::known("policy.updated"),
        deleted: AuditAction::known("policy.deleted"),
    };
    const LABEL_FIELD: &'static str = "title";
    type Fields = PolicyFields;
    type Derived = PolicyState;
    type Filter = PolicyFilter;

    fn validated(fields: PolicyFields) -> Result<PolicyFields, ValidationErrors> {
        fields.validated()
    }

    fn label(fields: &PolicyFields) -> &str {
        &fields.title
    }

    /// The owner must be a user of the tenant.
    fn references(fields: &PolicyFields) -> Vec<Reference> {
        fields
            .owner_id
            .map(|owner| Reference::member("owner_id", owner))
            .into_iter()
            .collect()
    }
}

pub type PolicyVersionId = Id<PolicyVersion>;

/// One version of a policy's text (Markdown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub id: PolicyVersionId,
    pub tenant_id: TenantId,
    pub policy_id: PolicyId,
    /// 1, 2, 3… per policy.
    pub number: i32,
    pub content: String,
    pub status: VersionStatus,
    /// A note on what changed.
    pub change_note: Option<String>,
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who approved publication, and when.
    pub published_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    /// Concurrency version of this row.
    pub version: i32,
}

impl PolicyVersion {
    pub const MAX_CONTENT_CHARS: usize = 200_000;

    /// Checks Markdown content: non-empty, bounded, no control characters but line breaks
    /// and tabs.
    pub fn validate_content(raw: &str) -> Result<String, ValidationErrors> {
        text("content", raw, TextRule::block(Self::MAX_CONTENT_CHARS))
    }

    /// Whether the text may still change (published and retired versions are frozen).
    pub fn is_editable(&self) -> bool {
        matches!(self.status, VersionStatus::Draft | VersionStatus::InReview)
    }

    /// The transitions a user may ask for; publishing retires the previous published one.
    pub fn can_move_to(&self, next: VersionStatus) -> bool {
        use VersionStatus as S;
        matches!(
            (self.status, next),
            (S::Draft, S::InReview)
                | (S::InReview, S::Draft)
                | (S::InReview, S::Published)
                | (S::Published, S::Retired)
        )
    }
}
