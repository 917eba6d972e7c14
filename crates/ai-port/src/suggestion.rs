//! Stored suggestions: what the assistant produced, pending until a user decides.

use aura_gdpr_registers::{ActivityFields, PolicyKind};
use aura_tenancy::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{Citation, Provenance};

aura_gdpr_registers::string_enum!(
    /// What the assistant was asked for.
    SuggestionKind {
        PolicyDraft => "policy_draft",
        ActivitySuggestion => "activity_suggestion",
        Answer => "answer",
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
}

// Read by hand: serde's internally tagged enums buffer their input, and the buffer loses
// what `time`'s optional dates need (a `null` review date would not read back).
impl<'de> Deserialize<'de> for SuggestionContent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Draft {
            policy_id: Option<Uuid>,
            title: String,
            policy_kind: PolicyKind,
            text: String,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Activity {
            description: String,
            fields: Box<ActivityFields>,
            rationale: String,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Reply {
            question: String,
            text: String,
        }

        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let kind = match map.remove("type") {
            Some(serde_json::Value::String(kind)) => kind,
            _ => return Err(D::Error::missing_field("type")),
        };
        let rest = serde_json::Value::Object(map);
        let content = match kind.as_str() {
            "policy_draft" => {
                serde_json::from_value(rest).map(|d: Draft| SuggestionContent::PolicyDraft {
                    policy_id: d.policy_id,
                    title: d.title,
                    policy_kind: d.policy_kind,
                    text: d.text,
                })
            }
            "activity_suggestion" => serde_json::from_value(rest).map(|a: Activity| {
                SuggestionContent::ActivitySuggestion {
                    description: a.description,
                    fields: a.fields,
                    rationale: a.rationale,
                }
            }),
            "answer" => serde_json::from_value(rest).map(|r: Reply| SuggestionContent::Answer {
                question: r.question,
                text: r.text,
            }),
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &["policy_draft", "activity_suggestion", "answer"],
                ));
            }
        };
        content.map_err(D::Error::custom)
    }
}

impl SuggestionContent {
    pub fn kind(&self) -> SuggestionKind {
        match self {
            SuggestionContent::PolicyDraft { .. } => SuggestionKind::PolicyDraft,
            SuggestionContent::ActivitySuggestion { .. } => SuggestionKind::ActivitySuggestion,
            SuggestionContent::Answer { .. } => SuggestionKind::Answer,
        }
    }
}

/// One output of the assistant, stored with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// An accepted (or acknowledged) suggestion and the change it made, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub suggestion: Suggestion,
    pub applied: Option<Applied>,
}

#[cfg(test)]
mod tests {
    use aura_gdpr_registers::{
        ActivityRole, ActivityStatus, DataCategory, DpiaRequirement, LawfulBasis, Purpose,
    };

    use super::*;

    #[test]
    fn content_round_trips_through_json() {
        let fields = ActivityFields {
            name: "Newsletter".into(),
            description: Some("monthly".into()),
            role: ActivityRole::Controller,
            controller_name: None,
            controller_contact: None,
            purposes: vec![Purpose {
                description: "News".into(),
                lawful_basis: LawfulBasis::Consent,
                legitimate_interest: None,
            }],
            data_subject_categories: vec!["Subscribers".into()],
            data_categories: vec![DataCategory {
                name: "E-mail".into(),
                special_category: None,
                criminal_offence_data: false,
                retention: Some("until withdrawn".into()),
            }],
            recipient_categories: Vec::new(),
            transfers: Vec::new(),
            security_measures: None,
            data_source: None,
            automated_decision_making: false,
            automated_decision_details: None,
            dpia_required: DpiaRequirement::No,
            dpia_reason: None,
            owner_id: None,
            department: None,
            processor_ids: Vec::new(),
            status: ActivityStatus::Draft,
            review_date: None,
        };
        let content = SuggestionContent::ActivitySuggestion {
            description: "monthly newsletter".into(),
            fields: Box::new(fields),
            rationale: "consent".into(),
        };
        let value = serde_json::to_value(&content).expect("serialize");
        let back: Result<SuggestionContent, _> = serde_json::from_value(value.clone());
        match back {
            Ok(back) => assert_eq!(back, content),
            Err(e) => panic!("{value} {e}"),
        }
    }
}
