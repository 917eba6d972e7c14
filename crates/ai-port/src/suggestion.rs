//! Stored suggestions: what the assistant produced, pending until a user decides.

use aura_dpias::{NecessityItem, Risk};
use aura_gdpr_registers::{ActivityFields, PolicyKind};
use aura_shared_kernel::{TenantId, UserId};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{Citation, Provenance};

aura_gdpr_registers::string_enum!(
    /// What the assistant was asked for.
    SuggestionKind {
        PolicyDraft => "policy_draft",
        ActivitySuggestion => "activity_suggestion",
        Answer => "answer",
        BreachMeasures => "breach_measures",
        DpiaDraft => "dpia_draft",
    }
);

aura_gdpr_registers::string_enum!(
    /// pending → accepted | rejected (drafts and activity suggestions);
    /// pending → acknowledged | rejected (answers, which change no record).
    SuggestionStatus {
        Pending => "pending",
        Accepted => "accepted",
        Rejected => "rejected",
        Acknowledged => "acknowledged",
    }
);

/// What was suggested. Serialized with its `type` beside the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SuggestionContent {
    /// A policy text. Accepting it adds a draft version to `policy_id`, or creates a
    /// policy (`title`, `policy_kind`) with the text as its first draft.
    PolicyDraft {
        policy_id: Option<Uuid>,
        title: String,
        policy_kind: PolicyKind,
        /// Markdown.
        text: String,
    },
    /// The fields of a processing activity. Accepting it creates the activity as a draft.
    ActivitySuggestion {
        description: String,
        fields: Box<ActivityFields>,
        rationale: String,
    },
    /// An answer. It can be acknowledged or dismissed, never applied.
    Answer { question: String, text: String },
    /// The likely consequences (Art. 33(3)(c)) and the measures (Art. 33(3)(d)) of the
    /// breach `breach_id` at `breach_version`. Accepting it writes both into the breach
    /// (an update through the breach's use cases), if the breach is still at that version.
    BreachMeasures {
        breach_id: Uuid,
        breach_version: i32,
        consequences: String,
        measures: String,
        rationale: String,
    },
    /// The Art. 35(7) content of the DPIA `dpia_id` at `dpia_version`, drafted from the
    /// register: (a) the systematic description, (b) an assessment per necessity topic
    /// and (c) candidate risks. Accepting it writes them into the DPIA (an update
    /// through the DPIA's use cases: the description replaced, each topic's assessment
    /// replaced, the risks added after the DPIA's own), if the DPIA is still at that
    /// version.
    DpiaDraft {
        dpia_id: Uuid,
        dpia_version: i32,
        description: String,
        necessity: Vec<NecessityItem>,
        risks: Vec<Risk>,
        rationale: String,
    },
}

impl SuggestionContent {
    pub fn kind(&self) -> SuggestionKind {
        match self {
            SuggestionContent::PolicyDraft { .. } => SuggestionKind::PolicyDraft,
            SuggestionContent::ActivitySuggestion { .. } => SuggestionKind::ActivitySuggestion,
            SuggestionContent::Answer { .. } => SuggestionKind::Answer,
            SuggestionContent::BreachMeasures { .. } => SuggestionKind::BreachMeasures,
            SuggestionContent::DpiaDraft { .. } => SuggestionKind::DpiaDraft,
        }
    }
}

/// One output of the assistant, stored with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: SuggestionKind,
    pub status: SuggestionStatus,
    pub content: SuggestionContent,
    /// The records the output relies on; always records of the tenant's context.
    pub citations: Vec<Citation>,
    pub provenance: Provenance,
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub decided_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// Optimistic concurrency: a decision names the version it read.
    pub version: i32,
}

/// What accepting a suggestion changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Applied {
    /// A draft version `number` of `policy_id` (a new policy when `policy_created`).
    PolicyVersion {
        policy_id: Uuid,
        number: i32,
        policy_created: bool,
    },
    /// A processing activity, created as a draft.
    ProcessingActivity { activity_id: Uuid },
    /// The breach's consequences and measures, written as its `version`.
    Breach { breach_id: Uuid, version: i32 },
    /// The DPIA's drafted Art. 35(7) content, written as its `version`.
    Dpia { dpia_id: Uuid, version: i32 },
}

/// An accepted (or acknowledged) suggestion and the change it made, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub suggestion: Suggestion,
    pub applied: Option<Applied>,
}
