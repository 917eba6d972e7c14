//! The bodies of DPIAs: the record as a user edits it (the Art. 35(7) content, the DPO's
//! advice, the people's views, the review date), what its actions recorded and derived
//! (status, approval, prior consultation, the description's pre-fill, risk levels, what
//! it lacks), the actions' bodies and the export.

use aura_dpias::{
    DpiaFields, DpiaGap, DpiaState, DpiaStatus, Dpias, DpoAdvice, Measure, MeasureStatus,
    MeasureType, NecessityItem, NecessityTopic, PriorConsultation, ProcessingSummary, Risk,
    RiskEvent, RiskLevel, Scale,
};
use aura_records::Id;
use aura_shared_kernel::UserId;
use aura_shared_kernel::date::iso_date;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    list_of, one_of, one_of_or_null,
    record::{RecordBodies, RecordBody, RecordList},
};

/// One Art. 35(7)(b) assessment of necessity and proportionality.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NecessityItemBody {
    #[schema(schema_with = one_of::<NecessityTopic>)]
    pub topic: NecessityTopic,
    pub assessment: String,
}

/// One Art. 35(7)(c) risk to the rights and freedoms of the people, on 4-point scales
/// before and after the measures.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    /// Who or what causes it.
    pub source: String,
    /// What could happen to the data.
    #[schema(schema_with = one_of::<RiskEvent>)]
    pub event: RiskEvent,
    /// The impact on the people.
    pub impact: String,
    #[schema(schema_with = one_of::<Scale>)]
    pub likelihood: Scale,
    #[schema(schema_with = one_of::<Scale>)]
    pub severity: Scale,
    /// After the measures.
    #[schema(schema_with = one_of::<Scale>)]
    pub residual_likelihood: Scale,
    #[schema(schema_with = one_of::<Scale>)]
    pub residual_severity: Scale,
}

/// One Art. 35(7)(d) measure.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureBody {
    pub title: String,
    #[schema(schema_with = one_of::<MeasureType>)]
    pub kind: MeasureType,
    #[schema(schema_with = one_of::<MeasureStatus>)]
    pub status: MeasureStatus,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    /// The risks it addresses: their positions in `risks`, from 0.
    #[serde(default)]
    pub risks: Vec<usize>,
    /// The task the measure became (set by `POST .../measures/{index}/task`; send it back
    /// as read, or `null` to drop the link).
    #[serde(default)]
    pub task_id: Option<Uuid>,
}

/// The advice of the data protection officer (Art. 35(2)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DpoAdviceBody {
    pub advice: String,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub given_on: Date,
    /// Whether the assessment follows the advice.
    pub followed: bool,
}

/// Everything a user edits about a DPIA (create, and update: send all). Only a draft
/// changes; an approved DPIA is revised through `start-revision`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "CCTV on the shop floor",
    "activity_ids": ["0190f8a4-0000-7000-8000-000000000001"],
    "description": "Twelve cameras record the shop floor during opening hours.",
    "review_date": "2028-03-01"}))]
pub struct DpiaFieldsBody {
    pub title: String,
    /// The processing activities covered (at least one).
    #[schema(min_items = 1)]
    pub activity_ids: Vec<Uuid>,
    /// Art. 35(7)(a): the systematic description (see the pre-fill `processing`).
    #[serde(default)]
    pub description: Option<String>,
    /// Art. 35(7)(b).
    #[serde(default)]
    pub necessity: Vec<NecessityItemBody>,
    /// Art. 35(7)(c).
    #[serde(default)]
    pub risks: Vec<RiskBody>,
    /// Art. 35(7)(d).
    #[serde(default)]
    pub measures: Vec<MeasureBody>,
    /// Art. 35(2).
    #[serde(default)]
    pub dpo_advice: Option<DpoAdviceBody>,
    /// Art. 35(9): the views of the people concerned or their representatives…
    #[serde(default)]
    pub subject_views: Option<String>,
    /// …or why they were not sought (not both).
    #[serde(default)]
    pub subject_views_not_sought: Option<String>,
    /// Art. 35(11): when the assessment is reviewed; a review task is made that day.
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub review_date: Option<Date>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// The approved DPIA this draft revises (set by `start-revision`; never changes).
    #[serde(default)]
    pub revision_of: Option<Uuid>,
}

/// One `From` pair per item: bodies ↔ domain values, nothing else converts them.
macro_rules! both_ways {
    ($body:ident <-> $domain:ident { $($field:ident),* $(,)? } $(, $id:ident: $from:expr, $into:expr)*) => {
        impl From<$body> for $domain {
            fn from(b: $body) -> Self {
                Self { $($field: b.$field,)* $($id: b.$id.map($from),)* }
            }
        }
        impl From<$domain> for $body {
            fn from(d: $domain) -> Self {
                Self { $($field: d.$field,)* $($id: d.$id.map($into),)* }
            }
        }
    };
}

both_ways!(NecessityItemBody <-> NecessityItem { topic, assessment });
both_ways!(RiskBody <-> Risk {
    source, event, impact, likelihood, severity, residual_likelihood, residual_severity,
});
both_ways!(MeasureBody <-> Measure { title, kind, status, due_date, risks, task_id },
    owner_id: UserId::from_uuid, |u: UserId| u.as_uuid());
both_ways!(DpoAdviceBody <-> DpoAdvice { advice, given_on, followed });

/// Each item converted by its `From` pair.
fn each<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

impl From<DpiaFieldsBody> for DpiaFields {
    fn from(b: DpiaFieldsBody) -> Self {
        Self {
            title: b.title,
            activity_ids: b.activity_ids.into_iter().map(Id::from_uuid).collect(),
            description: b.description,
            necessity: each(b.necessity),
            risks: each(b.risks),
            measures: each(b.measures),
            dpo_advice: b.dpo_advice.map(Into::into),
            subject_views: b.subject_views,
            subject_views_not_sought: b.subject_views_not_sought,
            review_date: b.review_date,
            owner_id: b.owner_id.map(UserId::from_uuid),
            revision_of: b.revision_of.map(Id::from_uuid),
        }
    }
}

impl From<DpiaFields> for DpiaFieldsBody {
    fn from(f: DpiaFields) -> Self {
        Self {
            title: f.title,
            activity_ids: f.activity_ids.iter().map(|a| a.as_uuid()).collect(),
            description: f.description,
            necessity: each(f.necessity),
            risks: each(f.risks),
            measures: each(f.measures),
            dpo_advice: f.dpo_advice.map(Into::into),
            subject_views: f.subject_views,
            subject_views_not_sought: f.subject_views_not_sought,
            review_date: f.review_date,
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            revision_of: f.revision_of.map(|r| r.as_uuid()),
        }
    }
}

/// A risk's levels (likelihood × severity), before and after the measures.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskLevelsBody {
    #[schema(schema_with = one_of::<RiskLevel>)]
    pub level: RiskLevel,
    #[schema(schema_with = one_of::<RiskLevel>)]
    pub residual_level: RiskLevel,
}

/// A purpose of a covered activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeSummaryBody {
    pub activity_id: Uuid,
    pub description: String,
    pub lawful_basis: String,
}

/// A data category of a covered activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataSummaryBody {
    pub activity_id: Uuid,
    pub name: String,
    pub special_category: bool,
    pub criminal_offence_data: bool,
    pub retention: Option<String>,
}

/// A transfer of a covered activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferSummaryBody {
    pub activity_id: Uuid,
    pub country: String,
    pub mechanism: String,
    pub recipient: Option<String>,
}

/// The Art. 35(7)(a) pre-fill from the covered activities, as of the DPIA's last write.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessingSummaryBody {
    pub purposes: Vec<PurposeSummaryBody>,
    pub data_categories: Vec<DataSummaryBody>,
    pub data_subject_categories: Vec<String>,
    pub recipient_categories: Vec<String>,
    pub transfers: Vec<TransferSummaryBody>,
    pub processor_ids: Vec<Uuid>,
}

impl From<ProcessingSummary> for ProcessingSummaryBody {
    fn from(s: ProcessingSummary) -> Self {
        Self {
            purposes: (s.purposes.into_iter())
                .map(|p| PurposeSummaryBody {
                    activity_id: p.activity_id.as_uuid(),
                    description: p.description,
                    lawful_basis: p.lawful_basis,
                })
                .collect(),
            data_categories: (s.data_categories.into_iter())
                .map(|c| DataSummaryBody {
                    activity_id: c.activity_id.as_uuid(),
                    name: c.name,
                    special_category: c.special_category,
                    criminal_offence_data: c.criminal_offence_data,
                    retention: c.retention,
                })
                .collect(),
            data_subject_categories: s.data_subject_categories,
            recipient_categories: s.recipient_categories,
            transfers: (s.transfers.into_iter())
                .map(|t| TransferSummaryBody {
                    activity_id: t.activity_id.as_uuid(),
                    country: t.country,
                    mechanism: t.mechanism,
                    recipient: t.recipient,
                })
                .collect(),
            processor_ids: s.processor_ids,
        }
    }
}

/// The prior consultation of the supervisory authority (Art. 36) as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorConsultationStateBody {
    pub authority: String,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub submitted_on: Date,
    pub extended: bool,
    pub extension_reason: Option<String>,
    /// Eight weeks from `submitted_on`, six more when extended (Art. 36(2)); a Saturday or
    /// Sunday moves to the Monday (Reg. 1182/71 Art. 3(4)).
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub answer_due: Date,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub answered_on: Option<Date>,
    pub answer: Option<String>,
    pub recorded_by: Option<Uuid>,
}

impl From<PriorConsultation> for PriorConsultationStateBody {
    fn from(p: PriorConsultation) -> Self {
        Self {
            authority: p.authority,
            submitted_on: p.submitted_on,
            extended: p.extended,
            extension_reason: p.extension_reason,
            answer_due: p.answer_due,
            answered_on: p.answered_on,
            answer: p.answer,
            recorded_by: p.recorded_by.map(|u| u.as_uuid()),
        }
    }
}

/// Where the DPIA stands and what its actions recorded (read-only).
#[derive(Debug, Serialize, ToSchema)]
pub struct DpiaStateBody {
    #[schema(schema_with = one_of::<DpiaStatus>)]
    pub status: DpiaStatus,
    /// 1 for a first assessment, one more for each revision.
    pub revision: i32,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    pub submitted_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub approved_at: Option<OffsetDateTime>,
    pub approved_by: Option<Uuid>,
    /// Why the last review sent it back to draft.
    pub sent_back_reason: Option<String>,
    pub prior_consultation: Option<PriorConsultationStateBody>,
    /// A prior consultation is recorded and not answered yet.
    pub prior_consultation_pending: bool,
    /// The Art. 35(7)(a) pre-fill from the covered activities.
    pub processing: ProcessingSummaryBody,
    /// The levels of each risk, in the order of `risks`.
    pub risk_levels: Vec<RiskLevelsBody>,
    /// The highest level after the measures (`null` without risks).
    #[schema(schema_with = one_of_or_null::<RiskLevel>)]
    pub residual_level: Option<RiskLevel>,
    /// What the record still lacks: the Art. 35(7) parts and the DPO's advice.
    #[schema(schema_with = list_of::<DpiaGap>)]
    pub missing: Vec<DpiaGap>,
}

impl RecordBodies for Dpias {
    const BODY_NAME: &'static str = "DpiaBody";
    const BODY_DESCRIPTION: &'static str = "A data protection impact assessment (Art. 35): what a user edits, where it stands and what its actions recorded (read-only), the description's pre-fill from the covered activities and what the record still lacks.";
    const LIST_NAME: &'static str = "DpiaList";
    const LIST_DESCRIPTION: &'static str = "A page of DPIAs.";
    type FieldsBody = DpiaFieldsBody;
    type DerivedBody = DpiaStateBody;

    fn bodies(fields: DpiaFields, s: DpiaState) -> (DpiaFieldsBody, DpiaStateBody) {
        let risk_levels = (fields.risks.iter())
            .map(|r| RiskLevelsBody {
                level: r.level(),
                residual_level: r.residual_level(),
            })
            .collect();
        let state = DpiaStateBody {
            status: s.status,
            revision: s.revision,
            created_by: s.created_by.map(|u| u.as_uuid()),
            submitted_at: s.submitted_at,
            submitted_by: s.submitted_by.map(|u| u.as_uuid()),
            approved_at: s.approved_at,
            approved_by: s.approved_by.map(|u| u.as_uuid()),
            sent_back_reason: s.sent_back_reason,
            prior_consultation_pending: s.prior_consultation.as_ref().is_some_and(|p| p.pending()),
            prior_consultation: s.prior_consultation.map(Into::into),
            processing: s.processing.into(),
            risk_levels,
            residual_level: s.residual_level,
            missing: s.missing,
        };
        (fields.into(), state)
    }
}

/// A stored DPIA.
pub type DpiaBody = RecordBody<Dpias>;

/// A page of DPIAs.
pub type DpiaList = RecordList<Dpias>;

// ------------------------------------------------------------------ actions

/// `POST .../send-back`: why the review sends the DPIA back to draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The retention of the recordings is not assessed"}))]
pub struct SendBackBody {
    pub reason: String,
}

/// `POST .../prior-consultation`: the prior consultation of the supervisory authority
/// (Art. 36), recorded or updated (its extension, its answer).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"authority": "Landesbeauftragte für Datenschutz", "submitted_on": "2027-03-01"}))]
pub struct PriorConsultationBody {
    pub authority: String,
    /// When the authority received the request. Not in the future.
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub submitted_on: Date,
    /// The authority extended its period by six weeks (Art. 36(2)).
    #[serde(default)]
    pub extended: bool,
    /// The authority's reasons for the extension.
    #[serde(default)]
    pub extension_reason: Option<String>,
    /// When the written advice came (with `answer`).
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub answered_on: Option<Date>,
    /// The authority's written advice (with `answered_on`).
    #[serde(default)]
    pub answer: Option<String>,
}

/// `GET .../export`: one DPIA with the versions it revises, for the authority (Art. 35,
/// 36(3)(e)) or the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct DpiaExportBody {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    pub dpia: DpiaBody,
    /// The approved versions this one revises, newest first.
    pub earlier_versions: Vec<DpiaBody>,
}
