//! The AI assistant's bodies: stored suggestions and what accepting one changed.

use aura_ai_port::{
    Accepted, Applied, Citation, ContextKind, Provenance, Suggestion, SuggestionContent,
    SuggestionKind, SuggestionStatus,
};
use aura_gdpr_registers::PolicyKind;
use aura_shared_kernel::UserId;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::{ToSchema, openapi::schema::Object};
use uuid::Uuid;

use super::{
    dpias::{NecessityItemBody, RiskBody},
    enum_of, one_of,
    page::{Listed, Page},
    registers::ActivityFieldsBody,
};

fn context_kind() -> Object {
    enum_of(
        [
            ContextKind::Organisation,
            ContextKind::ProcessingActivity,
            ContextKind::Processor,
            ContextKind::Policy,
            ContextKind::Breach,
            ContextKind::Dpia,
        ]
        .iter()
        .map(|v| v.as_str()),
        false,
    )
}

/// What was suggested, with its `type` beside the fields.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SuggestionContentBody {
    /// A policy text. Accepting it adds a draft version to `policy_id`, or creates a
    /// policy (`title`, `policy_kind`) with the text as its first draft.
    PolicyDraft {
        policy_id: Option<Uuid>,
        title: String,
        #[schema(schema_with = one_of::<PolicyKind>)]
        policy_kind: PolicyKind,
        /// Markdown.
        text: String,
    },
    /// The fields of a processing activity. Accepting it creates the activity as a draft.
    ActivitySuggestion {
        description: String,
        fields: Box<ActivityFieldsBody>,
        rationale: String,
    },
    /// An answer. It can be acknowledged or dismissed, never applied.
    Answer { question: String, text: String },
    /// The likely consequences (Art. 33(3)(c)) and the measures (Art. 33(3)(d)) of the
    /// breach `breach_id`, made from its version `breach_version`. Accepting it writes
    /// both into the breach, if it is still at that version.
    BreachMeasures {
        breach_id: Uuid,
        breach_version: i32,
        consequences: String,
        measures: String,
        rationale: String,
    },
    /// The Art. 35(7) content of the DPIA `dpia_id`, drafted from its version
    /// `dpia_version`: (a) `description`, (b) an assessment per `necessity` topic, (c)
    /// candidate `risks`. Accepting it writes them into the DPIA (the description and
    /// those topics replaced, the risks added after its own), if it is still at that
    /// version.
    DpiaDraft {
        dpia_id: Uuid,
        dpia_version: i32,
        description: String,
        necessity: Vec<NecessityItemBody>,
        risks: Vec<RiskBody>,
        rationale: String,
    },
}

impl From<SuggestionContent> for SuggestionContentBody {
    fn from(c: SuggestionContent) -> Self {
        match c {
            SuggestionContent::PolicyDraft {
                policy_id,
                title,
                policy_kind,
                text,
            } => Self::PolicyDraft {
                policy_id,
                title,
                policy_kind,
                text,
            },
            SuggestionContent::ActivitySuggestion {
                description,
                fields,
                rationale,
            } => Self::ActivitySuggestion {
                description,
                fields: Box::new((*fields).into()),
                rationale,
            },
            SuggestionContent::Answer { question, text } => Self::Answer { question, text },
            SuggestionContent::BreachMeasures {
                breach_id,
                breach_version,
                consequences,
                measures,
                rationale,
            } => Self::BreachMeasures {
                breach_id,
                breach_version,
                consequences,
                measures,
                rationale,
            },
            SuggestionContent::DpiaDraft {
                dpia_id,
                dpia_version,
                description,
                necessity,
                risks,
                rationale,
            } => Self::DpiaDraft {
                dpia_id,
                dpia_version,
                description,
                necessity: necessity.into_iter().map(Into::into).collect(),
                risks: risks.into_iter().map(Into::into).collect(),
                rationale,
            },
        }
    }
}

/// A record the output relies on.
#[derive(Debug, Serialize, ToSchema)]
pub struct CitationBody {
    #[schema(schema_with = context_kind)]
    pub kind: ContextKind,
    pub id: Uuid,
    pub title: String,
}

impl From<Citation> for CitationBody {
    fn from(c: Citation) -> Self {
        Self {
            kind: c.kind,
            id: c.id,
            title: c.title,
        }
    }
}

/// Who produced the output, with which prompt template, from which records.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvenanceBody {
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

impl From<Provenance> for ProvenanceBody {
    fn from(p: Provenance) -> Self {
        Self {
            provider: p.provider,
            model: p.model,
            template_version: p.template_version,
            record_ids: p.record_ids,
            generated_at: p.generated_at,
        }
    }
}

/// A stored suggestion; its `version` is the `ETag`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionBody {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[schema(schema_with = one_of::<SuggestionKind>)]
    pub kind: SuggestionKind,
    #[schema(schema_with = one_of::<SuggestionStatus>)]
    pub status: SuggestionStatus,
    pub content: SuggestionContentBody,
    /// The records the output relies on; always records of the tenant's context.
    pub citations: Vec<CitationBody>,
    pub provenance: ProvenanceBody,
    #[schema(value_type = Option<Uuid>)]
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[schema(value_type = Option<Uuid>)]
    pub decided_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// Optimistic concurrency: a decision names the version it read.
    pub version: i32,
}

impl From<Suggestion> for SuggestionBody {
    fn from(s: Suggestion) -> Self {
        Self {
            id: s.id,
            tenant_id: s.tenant_id.as_uuid(),
            kind: s.kind,
            status: s.status,
            content: s.content.into(),
            citations: s.citations.into_iter().map(Into::into).collect(),
            provenance: s.provenance.into(),
            created_by: s.created_by,
            created_at: s.created_at,
            decided_by: s.decided_by,
            decided_at: s.decided_at,
            version: s.version,
        }
    }
}

impl Listed for SuggestionBody {
    const LIST_NAME: &'static str = "SuggestionList";
    const LIST_DESCRIPTION: &'static str = "A page of suggestions, newest first.";
}

/// A page of suggestions, newest first.
pub type SuggestionList = Page<SuggestionBody>;

/// What accepting a suggestion changed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppliedBody {
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

impl From<Applied> for AppliedBody {
    fn from(a: Applied) -> Self {
        match a {
            Applied::PolicyVersion {
                policy_id,
                number,
                policy_created,
            } => Self::PolicyVersion {
                policy_id,
                number,
                policy_created,
            },
            Applied::ProcessingActivity { activity_id } => Self::ProcessingActivity { activity_id },
            Applied::Breach { breach_id, version } => Self::Breach { breach_id, version },
            Applied::Dpia { dpia_id, version } => Self::Dpia { dpia_id, version },
        }
    }
}

/// An accepted (or acknowledged) suggestion and the change it made (null for answers).
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedBody {
    pub suggestion: SuggestionBody,
    pub applied: Option<AppliedBody>,
}

impl From<Accepted> for AcceptedBody {
    fn from(a: Accepted) -> Self {
        Self {
            suggestion: a.suggestion.into(),
            applied: a.applied.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The suggestion bodies write exactly what the ai-port types serialized to.

    use aura_shared_kernel::TenantId;
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn suggestion(content: SuggestionContent, kind: SuggestionKind) -> Suggestion {
        Suggestion {
            id: Uuid::from_u128(1),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
            kind,
            status: SuggestionStatus::Accepted,
            content,
            citations: vec![Citation {
                kind: ContextKind::ProcessingActivity,
                id: Uuid::from_u128(3),
                title: "Payroll".into(),
            }],
            provenance: Provenance {
                provider: "offline".into(),
                model: "rules-1".into(),
                template_version: "policy_draft@1".into(),
                record_ids: vec![Uuid::from_u128(3)],
                generated_at: datetime!(2026-11-24 10:00:00 UTC),
            },
            created_by: Some(UserId::from_uuid(Uuid::from_u128(4))),
            created_at: datetime!(2026-11-24 10:00:00 UTC),
            decided_by: Some(UserId::from_uuid(Uuid::from_u128(5))),
            decided_at: Some(datetime!(2026-11-24 11:00:00 UTC)),
            version: 2,
        }
    }

    #[test]
    fn suggestion_bodies_match_the_domain() {
        let fields = serde_json::from_value(json!({"name": "Newsletter", "review_date": null,
            "purposes": [{"description": "news", "lawful_basis": "consent"}]}))
        .expect("fields");
        let cases = [
            (
                suggestion(
                    SuggestionContent::PolicyDraft {
                        policy_id: None,
                        title: "Privacy notice".into(),
                        policy_kind: PolicyKind::PrivacyPolicy,
                        text: "# Text".into(),
                    },
                    SuggestionKind::PolicyDraft,
                ),
                Some(Applied::PolicyVersion {
                    policy_id: Uuid::from_u128(6),
                    number: 1,
                    policy_created: true,
                }),
            ),
            (
                suggestion(
                    SuggestionContent::ActivitySuggestion {
                        description: "We send news".into(),
                        fields: Box::new(fields),
                        rationale: "consent".into(),
                    },
                    SuggestionKind::ActivitySuggestion,
                ),
                Some(Applied::ProcessingActivity {
                    activity_id: Uuid::from_u128(7),
                }),
            ),
            (
                suggestion(
                    SuggestionContent::BreachMeasures {
                        breach_id: Uuid::from_u128(8),
                        breach_version: 3,
                        consequences: "Phishing".into(),
                        measures: "Passwords reset".into(),
                        rationale: "confidentiality".into(),
                    },
                    SuggestionKind::BreachMeasures,
                ),
                Some(Applied::Breach {
                    breach_id: Uuid::from_u128(8),
                    version: 4,
                }),
            ),
            (
                suggestion(
                    SuggestionContent::DpiaDraft {
                        dpia_id: Uuid::from_u128(9),
                        dpia_version: 2,
                        description: "Cameras record the shop floor".into(),
                        necessity: vec![aura_dpias::NecessityItem {
                            topic: aura_dpias::NecessityTopic::Retention,
                            assessment: "72 hours".into(),
                        }],
                        risks: vec![aura_dpias::Risk {
                            source: "An attacker".into(),
                            event: aura_dpias::RiskEvent::IllegitimateAccess,
                            impact: "Recordings disclosed".into(),
                            likelihood: aura_dpias::Scale::Limited,
                            severity: aura_dpias::Scale::Significant,
                            residual_likelihood: aura_dpias::Scale::Limited,
                            residual_severity: aura_dpias::Scale::Significant,
                        }],
                        rationale: "From the CCTV activity".into(),
                    },
                    SuggestionKind::DpiaDraft,
                ),
                Some(Applied::Dpia {
                    dpia_id: Uuid::from_u128(9),
                    version: 3,
                }),
            ),
            (
                suggestion(
                    SuggestionContent::Answer {
                        question: "Which?".into(),
                        text: "These.".into(),
                    },
                    SuggestionKind::Answer,
                ),
                None,
            ),
        ];
        for (suggestion, applied) in cases {
            let accepted = Accepted {
                suggestion,
                applied,
            };
            assert_eq!(
                serde_json::to_value(&accepted).expect("domain"),
                serde_json::to_value(AcceptedBody::from(accepted.clone())).expect("body")
            );
        }
    }
}
