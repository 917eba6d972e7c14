//! The DPIA screening's bodies: the answers a user gives (request and answer share the
//! body), the computed screening with its reasons, and the acceptance of its suggestion.

use aura_dpia_screening::{
    ActivityScreening, Art35Case, CaseFinding, Criterion, CriterionFinding, Origin, Outcome,
    Reason, ScreeningAnswers,
};
use aura_gdpr_registers::{ActivityStatus, DpiaRequirement};
use aura_shared_kernel::UserId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::schemas::one_of;

/// The screening's questions the register cannot answer. Each is `null` until answered;
/// send all (a missing one is unanswered).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"evaluation_or_scoring": true, "automated_decisions": false,
    "systematic_monitoring": false, "public_area_monitoring": false, "large_scale": true,
    "people_concerned": 250000, "matching_datasets": true, "innovative_technology": false,
    "denial_of_service_or_right": false, "highly_personal_data": null,
    "vulnerable_data_subjects": null, "notes": "Loyalty programme in all 40 shops"}))]
pub struct ScreeningAnswersBody {
    /// People are evaluated or scored (profiling, predictions).
    #[serde(default)]
    pub evaluation_or_scoring: Option<bool>,
    /// Automated decisions with legal or similarly significant effect.
    #[serde(default)]
    pub automated_decisions: Option<bool>,
    /// People are monitored systematically.
    #[serde(default)]
    pub systematic_monitoring: Option<bool>,
    /// The monitoring covers a publicly accessible area.
    #[serde(default)]
    pub public_area_monitoring: Option<bool>,
    /// The processing is large-scale.
    #[serde(default)]
    pub large_scale: Option<bool>,
    /// About how many people the processing concerns.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000_000_000_u64)]
    pub people_concerned: Option<u64>,
    /// Datasets are matched or combined beyond what people expect.
    #[serde(default)]
    pub matching_datasets: Option<bool>,
    /// New technology or a new use of it.
    #[serde(default)]
    pub innovative_technology: Option<bool>,
    /// The outcome can deny a right, a service or a contract.
    #[serde(default)]
    pub denial_of_service_or_right: Option<bool>,
    /// Highly personal data beyond the data categories.
    #[serde(default)]
    pub highly_personal_data: Option<bool>,
    /// Vulnerable people beyond the data subject categories.
    #[serde(default)]
    pub vulnerable_data_subjects: Option<bool>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl From<ScreeningAnswersBody> for ScreeningAnswers {
    fn from(b: ScreeningAnswersBody) -> Self {
        Self {
            evaluation_or_scoring: b.evaluation_or_scoring,
            automated_decisions: b.automated_decisions,
            systematic_monitoring: b.systematic_monitoring,
            public_area_monitoring: b.public_area_monitoring,
            large_scale: b.large_scale,
            people_concerned: b.people_concerned,
            matching_datasets: b.matching_datasets,
            innovative_technology: b.innovative_technology,
            denial_of_service_or_right: b.denial_of_service_or_right,
            highly_personal_data: b.highly_personal_data,
            vulnerable_data_subjects: b.vulnerable_data_subjects,
            notes: b.notes,
        }
    }
}

impl From<ScreeningAnswers> for ScreeningAnswersBody {
    fn from(a: ScreeningAnswers) -> Self {
        Self {
            evaluation_or_scoring: a.evaluation_or_scoring,
            automated_decisions: a.automated_decisions,
            systematic_monitoring: a.systematic_monitoring,
            public_area_monitoring: a.public_area_monitoring,
            large_scale: a.large_scale,
            people_concerned: a.people_concerned,
            matching_datasets: a.matching_datasets,
            innovative_technology: a.innovative_technology,
            denial_of_service_or_right: a.denial_of_service_or_right,
            highly_personal_data: a.highly_personal_data,
            vulnerable_data_subjects: a.vulnerable_data_subjects,
            notes: a.notes,
        }
    }
}

/// Why a criterion or case applies: an activity field or an answer, and what it says.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningReasonBody {
    /// `register` (a field of the activity) or `answer` (a screening answer).
    #[schema(schema_with = one_of::<Origin>)]
    pub origin: Origin,
    /// e.g. `data_categories[1].special_category` or `large_scale`.
    pub field: String,
    pub detail: String,
}

/// One of the nine WP248 criteria, met or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningCriterionBody {
    #[schema(schema_with = one_of::<Criterion>)]
    pub criterion: Criterion,
    /// Where the guidelines describe it.
    pub reference: String,
    pub met: bool,
    /// Empty when not met.
    pub reasons: Vec<ScreeningReasonBody>,
}

/// An Art. 35(3) case that applies.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningCaseBody {
    #[schema(schema_with = one_of::<Art35Case>)]
    pub case: Art35Case,
    #[schema(example = "Art. 35(3)(b)")]
    pub article: String,
    pub reasons: Vec<ScreeningReasonBody>,
}

/// The screening of an activity, its answers and the activity's current DPIA fields.
/// The `ETag` is the answers' version (`"0"` before the first save), which `PUT` sends
/// back; accepting the suggestion sends the activity's version (`activity_version`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DpiaScreeningBody {
    pub activity_id: Uuid,
    /// The activity's version: `If-Match` of the accept action.
    pub activity_version: i32,
    #[schema(schema_with = one_of::<ActivityStatus>)]
    pub activity_status: ActivityStatus,
    /// What the activity records now (a suggestion is never applied without accept).
    #[schema(schema_with = one_of::<DpiaRequirement>)]
    pub dpia_required: DpiaRequirement,
    pub dpia_reason: Option<String>,
    pub answers: ScreeningAnswersBody,
    /// The answers' version: 0 before the first save.
    pub answers_version: i32,
    #[schema(value_type = Option<Uuid>)]
    pub answers_updated_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answers_updated_at: Option<OffsetDateTime>,
    /// likely_required (a 35(3) case or two criteria), to_assess (one), not_likely (none).
    #[schema(schema_with = one_of::<Outcome>)]
    pub outcome: Outcome,
    /// The rule that gave the outcome.
    pub rule: String,
    /// What accepting sets as `dpia_required`.
    #[schema(schema_with = one_of::<DpiaRequirement>)]
    pub suggested_requirement: DpiaRequirement,
    /// The `dpia_reason` accepting writes.
    pub suggested_reason: String,
    /// The Art. 35(3) cases that apply.
    pub cases: Vec<ScreeningCaseBody>,
    /// The nine criteria in the guidelines' order.
    pub criteria: Vec<ScreeningCriterionBody>,
    pub criteria_met: usize,
    /// Questions still unanswered (their names in `answers`).
    pub unanswered: Vec<String>,
    pub notes: Vec<String>,
}

fn reasons(reasons: Vec<Reason>) -> Vec<ScreeningReasonBody> {
    (reasons.into_iter())
        .map(|r| ScreeningReasonBody {
            origin: r.origin,
            field: r.field,
            detail: r.detail,
        })
        .collect()
}

fn strings(items: Vec<&'static str>) -> Vec<String> {
    items.into_iter().map(str::to_owned).collect()
}

impl From<ActivityScreening> for DpiaScreeningBody {
    fn from(s: ActivityScreening) -> Self {
        let (activity, stored, screening) = (s.activity, s.answers, s.screening);
        let suggested_reason = screening.summary();
        Self {
            activity_id: activity.id.as_uuid(),
            activity_version: activity.version,
            activity_status: activity.fields.status,
            dpia_required: activity.fields.dpia_required,
            dpia_reason: activity.fields.dpia_reason,
            answers: stored.answers.into(),
            answers_version: stored.version,
            answers_updated_by: stored.updated_by,
            answers_updated_at: stored.updated_at,
            outcome: screening.outcome,
            rule: screening.rule.to_owned(),
            suggested_requirement: screening.suggested_requirement,
            suggested_reason,
            cases: (screening.cases.into_iter())
                .map(|c: CaseFinding| ScreeningCaseBody {
                    case: c.case,
                    article: c.article.to_owned(),
                    reasons: reasons(c.reasons),
                })
                .collect(),
            criteria: (screening.criteria.into_iter())
                .map(|c: CriterionFinding| ScreeningCriterionBody {
                    criterion: c.criterion,
                    reference: c.reference.to_owned(),
                    met: c.met,
                    reasons: reasons(c.reasons),
                })
                .collect(),
            criteria_met: screening.criteria_met,
            unanswered: strings(screening.unanswered),
            notes: strings(screening.notes),
        }
    }
}

/// Accepting the screening's suggestion: the outcome the user was shown. When the
/// screening now says otherwise, nothing changes (409 `screening_changed`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptScreeningBody {
    #[schema(schema_with = one_of::<Outcome>)]
    pub outcome: Outcome,
}
