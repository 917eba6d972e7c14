//! What a provider is asked and what it answers, with the provenance every answer carries.

use aura_gdpr_registers::{ActivityFields, OrganisationProfile, PolicyKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

aura_gdpr_registers::string_enum!(
    /// The kind of a register record given to a provider as context.
    ContextKind {
        Organisation => "organisation",
        ProcessingActivity => "processing_activity",
        Processor => "processor",
        Policy => "policy",
        Breach => "personal_data_breach",
        Dpia => "dpia",
    }
);

impl ContextKind {
    /// How a person calls it.
    pub const fn label(self) -> &'static str {
        match self {
            ContextKind::Organisation => "organisation profile",
            ContextKind::ProcessingActivity => "processing activity",
            ContextKind::Processor => "processor",
            ContextKind::Policy => "policy",
            ContextKind::Breach => "personal-data breach",
            ContextKind::Dpia => "data protection impact assessment",
        }
    }
}

/// One record of the tenant's register, already read with the caller's scope, as a
/// provider sees it: a title and a plain-text excerpt of `Key: value` lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextRecord {
    pub kind: ContextKind,
    pub id: Uuid,
    pub title: String,
    pub excerpt: String,
}

impl ContextRecord {
    /// The value of the excerpt line `Key: value`, if there is one.
    pub fn line(&self, key: &str) -> Option<&str> {
        self.excerpt.lines().find_map(|line| {
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    }
}

/// A record an answer relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub kind: ContextKind,
    pub id: Uuid,
    pub title: String,
}

impl From<&ContextRecord> for Citation {
    fn from(record: &ContextRecord) -> Self {
        Self {
            kind: record.kind,
            id: record.id,
            title: record.title.clone(),
        }
    }
}

/// Where an answer came from: who generated it with which prompt template, from which
/// records of the tenant, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// `offline`, `openai`, …
    pub provider: String,
    pub model: String,
    /// The prompt template and its version, e.g. `policy_draft@1`.
    pub template_version: String,
    /// Every record given to the provider as context.
    pub record_ids: Vec<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
}

/// Draft a policy of `kind` for the organisation, from its profile and register.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDraftRequest {
    pub kind: PolicyKind,
    pub title: String,
    /// The tenant's language setting (`en`, `de`, …).
    pub language: String,
    pub organisation: Option<OrganisationProfile>,
    pub context: Vec<ContextRecord>,
}

/// Suggest the fields of a processing activity from a plain-language description.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivitySuggestionRequest {
    pub description: String,
    pub language: String,
    pub organisation: Option<OrganisationProfile>,
    /// Similar activities and processors of the register.
    pub context: Vec<ContextRecord>,
}

/// Answer a question about the organisation's own compliance state.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRequest {
    pub question: String,
    pub language: String,
    pub organisation: Option<OrganisationProfile>,
    pub context: Vec<ContextRecord>,
}

/// A policy text (Markdown) and the records it draws on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDraft {
    pub title: String,
    pub content: String,
    pub citations: Vec<Uuid>,
}

/// Proposed fields of a processing activity, why, and the records they draw on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityDraft {
    pub fields: ActivityFields,
    pub rationale: String,
    pub citations: Vec<Uuid>,
}

/// An answer in plain language and the records it cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub citations: Vec<Uuid>,
}

/// A provider's output with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated<T> {
    pub output: T,
    pub provenance: Provenance,
}
