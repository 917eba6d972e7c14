//! The record of a data protection impact assessment (Art. 35 GDPR): what a user edits
//! (the Art. 35(7) content, the DPO's advice, the people's views, the review date), what
//! its actions record (status, approval, prior consultation) and what it still lacks.

use aura_audit::AuditAction;
use aura_gdpr_registers::{
    Activities, ActivityId, string_enum,
    text::{TextRule, iso_date, optional_text, text},
};
use aura_records::{Id, Record, RecordActions, RecordKind, Reference, Workflow};
use aura_shared_kernel::{Permission, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

string_enum!(
    /// Where a DPIA stands. Only a draft is edited; an approved version never changes
    /// (a revision starts a new draft from it).
    DpiaStatus {
        Draft => "draft",
        /// Submitted for approval: neither edited nor approved by its author alone.
        InReview => "in_review",
        /// Approved (approver and time recorded): immutable.
        Approved => "approved",
    }
);

string_enum!(
    /// The Art. 35(7)(b) topics of necessity and proportionality.
    NecessityTopic {
        /// The lawful basis of each purpose (Art. 6).
        LawfulBasis => "lawful_basis",
        /// Data minimisation (Art. 5(1)(c)).
        Minimisation => "minimisation",
        /// Storage limitation (Art. 5(1)(e)).
        Retention => "retention",
        /// Information to the people (Art. 12–14).
        Information => "information",
        /// How the people's rights are handled (Art. 15–22).
        Rights => "rights",
        /// Processor (Art. 28) and transfer (Chapter V) safeguards.
        ProcessorsAndTransfers => "processors_and_transfers",
    }
);

string_enum!(
    /// What could happen to the data (the three feared events of a risk).
    RiskEvent {
        IllegitimateAccess => "illegitimate_access",
        UnwantedChange => "unwanted_change",
        Disappearance => "disappearance",
    }
);

string_enum!(
    /// The 4-point scale of a risk's likelihood and severity.
    Scale {
        Negligible => "negligible",
        Limited => "limited",
        Significant => "significant",
        Maximum => "maximum",
    }
);

string_enum!(
    /// A risk's level from its likelihood and severity ([`risk_level`]).
    RiskLevel {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

string_enum!(
    /// What kind of measure addresses a risk (Art. 35(7)(d)).
    MeasureType {
        Technical => "technical",
        Organisational => "organisational",
        Legal => "legal",
    }
);

string_enum!(
    /// Where a measure stands. A planned measure can become a task.
    MeasureStatus {
        Planned => "planned",
        InProgress => "in_progress",
        Implemented => "implemented",
    }
);

string_enum!(
    /// What a DPIA's record still lacks: the four parts of Art. 35(7) and the DPO's advice.
    DpiaGap {
        /// Art. 35(7)(a): the systematic description of the processing and its purposes.
        Description => "description",
        /// Art. 35(7)(b): a topic of necessity and proportionality is not assessed.
        Necessity => "necessity",
        /// Art. 35(7)(c): no risk to the rights and freedoms of the people is assessed.
        Risks => "risks",
        /// Art. 35(7)(d): no measure, or a high risk before measures that no measure addresses.
        Measures => "measures",
        /// Art. 35(2): the advice of the data protection officer.
        DpoAdvice => "dpo_advice",
    }
);

impl Scale {
    /// 1 (negligible) to 4 (maximum).
    pub const fn rank(self) -> u8 {
        match self {
            Scale::Negligible => 1,
            Scale::Limited => 2,
            Scale::Significant => 3,
            Scale::Maximum => 4,
        }
    }
}

/// A risk's level: likelihood × severity on the 4-point scales — 9 and more (both at least
/// significant, or one maximum with the other significant) is high, 4 to 8 medium, below
/// low. So a maximum severity with a negligible likelihood is medium, never low.
pub fn risk_level(likelihood: Scale, severity: Scale) -> RiskLevel {
    match likelihood.rank() * severity.rank() {
        9.. => RiskLevel::High,
        4..=8 => RiskLevel::Medium,
        _ => RiskLevel::Low,
    }
}

/// One Art. 35(7)(b) assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NecessityItem {
    pub topic: NecessityTopic,
    pub assessment: String,
}

/// One Art. 35(7)(c) risk, before and after the measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// Who or what causes it (an attacker, an employee's error, a processor).
    pub source: String,
    pub event: RiskEvent,
    /// The impact on the people.
    pub impact: String,
    pub likelihood: Scale,
    pub severity: Scale,
    /// After the measures.
    pub residual_likelihood: Scale,
    pub residual_severity: Scale,
}

impl Risk {
    pub fn level(&self) -> RiskLevel {
        risk_level(self.likelihood, self.severity)
    }

    pub fn residual_level(&self) -> RiskLevel {
        risk_level(self.residual_likelihood, self.residual_severity)
    }
}

/// One Art. 35(7)(d) measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub title: String,
    pub kind: MeasureType,
    pub status: MeasureStatus,
    pub owner_id: Option<UserId>,
    #[serde(with = "iso_date::option")]
    pub due_date: Option<Date>,
    /// The risks (their positions in `risks`) it addresses.
    pub risks: Vec<usize>,
    /// The task this measure became (set by the "measure → task" action, kept by edits).
    pub task_id: Option<Uuid>,
}

/// The DPO's advice (Art. 35(2)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpoAdvice {
    pub advice: String,
    #[serde(with = "iso_date")]
    pub given_on: Date,
    /// Whether the DPIA follows the advice (why not goes in the advice's notes).
    pub followed: bool,
}

/// Everything a user edits about a DPIA (create, and update: send all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpiaFields {
    pub title: String,
    /// The processing activities the assessment covers (at least one; Art. 35(1): one
    /// assessment may address a set of similar processing operations).
    pub activity_ids: Vec<ActivityId>,
    /// Art. 35(7)(a): the systematic description, written from the pre-fill the store
    /// derives from the activities (`processing`).
    pub description: Option<String>,
    /// Art. 35(7)(b).
    pub necessity: Vec<NecessityItem>,
    /// Art. 35(7)(c).
    pub risks: Vec<Risk>,
    /// Art. 35(7)(d).
    pub measures: Vec<Measure>,
    /// Art. 35(2).
    pub dpo_advice: Option<DpoAdvice>,
    /// Art. 35(9): the views of the people concerned or their representatives…
    pub subject_views: Option<String>,
    /// …or why they were not sought.
    pub subject_views_not_sought: Option<String>,
    /// Art. 35(11): when the assessment is reviewed.
    #[serde(with = "iso_date::option")]
    pub review_date: Option<Date>,
    pub owner_id: Option<UserId>,
    /// The approved DPIA this draft revises (set by "start revision", never changed).
    pub revision_of: Option<DpiaId>,
}

const LONG: usize = 10_000;
const MAX_ITEMS: usize = 100;

impl DpiaFields {
    /// Checks sizes, formats and rules that need no clock or other record; trims and
    /// de-duplicates. All problems at once.
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let line = |field: &str, raw: &str| text(field, raw, TextRule::line(500));
        let block = |field: &str, raw: &str| text(field, raw, TextRule::block(LONG));
        let optional = |field: &str, raw: &Option<String>| {
            optional_text(field, raw.as_deref(), TextRule::block(LONG))
        };
        let title = e.collect(text("title", &self.title, TextRule::line(200)));
        let description = e.collect(optional("description", &self.description));
        let views = e.collect(optional("subject_views", &self.subject_views));
        let not_sought = e.collect(optional(
            "subject_views_not_sought",
            &self.subject_views_not_sought,
        ));
        if let (Some(Some(_)), Some(Some(_))) = (&views, &not_sought) {
            e.push(
                "subject_views_not_sought",
                "Art. 35(9) GDPR: give the people's views or why they were not sought, not both",
            );
        }
        // Each activity once, in the user's order.
        let mut activity_ids: Vec<ActivityId> = Vec::with_capacity(self.activity_ids.len());
        for id in self.activity_ids {
            if !activity_ids.contains(&id) {
                activity_ids.push(id);
            }
        }
        if activity_ids.is_empty() {
            e.push(
                "activity_ids",
                "must name at least one processing activity the assessment covers",
            );
        }
        for (field, len) in [
            ("activity_ids", activity_ids.len()),
            ("necessity", self.necessity.len()),
            ("risks", self.risks.len()),
            ("measures", self.measures.len()),
        ] {
            if len > MAX_ITEMS {
                e.push(field, format!("at most {MAX_ITEMS} entries"));
            }
        }
        let mut necessity = Vec::with_capacity(self.necessity.len());
        for (i, item) in self.necessity.into_iter().enumerate() {
            let field = format!("necessity[{i}].assessment");
            if let Some(assessment) = e.collect(block(&field, &item.assessment)) {
                necessity.push(NecessityItem { assessment, ..item });
            }
        }
        let mut risks = Vec::with_capacity(self.risks.len());
        for (i, risk) in self.risks.into_iter().enumerate() {
            let source = e.collect(line(&format!("risks[{i}].source"), &risk.source));
            let impact = e.collect(block(&format!("risks[{i}].impact"), &risk.impact));
            if let (Some(source), Some(impact)) = (source, impact) {
                risks.push(Risk {
                    source,
                    impact,
                    ..risk
                });
            }
        }
        let risk_count = risks.len();
        let mut measures = Vec::with_capacity(self.measures.len());
        for (i, measure) in self.measures.into_iter().enumerate() {
            let title = e.collect(line(&format!("measures[{i}].title"), &measure.title));
            let mut addressed = measure.risks;
            addressed.sort_unstable();
            addressed.dedup();
            if addressed.iter().any(|r| *r >= risk_count) {
                e.push(
                    format!("measures[{i}].risks"),
                    format!("names a risk that is not in `risks` ({risk_count} listed)"),
                );
            }
            if let Some(due) = measure.due_date
                && !(2000..=2200).contains(&due.year())
            {
                e.push(
                    format!("measures[{i}].due_date"),
                    "must be a year between 2000 and 2200",
                );
            }
            if let Some(title) = title {
                measures.push(Measure {
                    title,
                    risks: addressed,
                    ..measure
                });
            }
        }
        let dpo_advice = match self.dpo_advice {
            Some(advice) => e
                .collect(block("dpo_advice.advice", &advice.advice))
                .map(|text| DpoAdvice {
                    advice: text,
                    ..advice
                }),
            None => None,
        };
        if let Some(review) = self.review_date
            && !(2000..=2200).contains(&review.year())
        {
            e.push("review_date", "must be a year between 2000 and 2200");
        }
        e.into_result()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            activity_ids,
            description: description.flatten(),
            necessity,
            risks,
            measures,
            dpo_advice,
            subject_views: views.flatten(),
            subject_views_not_sought: not_sought.flatten(),
            ..self
        })
    }

    /// The highest level of the risks after the measures (`None` without risks).
    pub fn residual_level(&self) -> Option<RiskLevel> {
        self.risks
            .iter()
            .map(Risk::residual_level)
            .max_by_key(|l| l.rank())
    }

    /// The fields with the measures' task links left out: what an approved version may
    /// not change (a planned measure still becomes a task after the approval).
    pub fn content(&self) -> Self {
        let mut content = self.clone();
        for measure in &mut content.measures {
            measure.task_id = None;
        }
        content
    }

    /// The task links the measures hold.
    pub fn task_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.measures.iter().filter_map(|m| m.task_id)
    }
}

impl RiskLevel {
    pub const fn rank(self) -> u8 {
        match self {
            RiskLevel::Low => 1,
            RiskLevel::Medium => 2,
            RiskLevel::High => 3,
        }
    }
}

/// The register of data protection impact assessments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dpias {}

pub type DpiaId = Id<Dpias>;

/// A stored DPIA.
pub type Dpia = Record<Dpias>;

/// One purpose of a covered activity, with its lawful basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeSummary {
    pub activity_id: ActivityId,
    pub description: String,
    pub lawful_basis: String,
}

/// A data category of a covered activity, its retention and whether it is special.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSummary {
    pub activity_id: ActivityId,
    pub name: String,
    pub special_category: bool,
    pub criminal_offence_data: bool,
    pub retention: Option<String>,
}

/// A transfer of a covered activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferSummary {
    pub activity_id: ActivityId,
    pub country: String,
    pub mechanism: String,
    pub recipient: Option<String>,
}

/// The Art. 35(7)(a) pre-fill: what the register says of the covered activities, as of
/// the DPIA's last write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingSummary {
    pub purposes: Vec<PurposeSummary>,
    pub data_categories: Vec<DataSummary>,
    pub data_subject_categories: Vec<String>,
    pub recipient_categories: Vec<String>,
    pub transfers: Vec<TransferSummary>,
    pub processor_ids: Vec<Uuid>,
}

/// The prior consultation of the supervisory authority (Art. 36).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorConsultation {
    pub authority: String,
    /// When the authority received the request (the Art. 36(2) period runs from it).
    #[serde(with = "iso_date")]
    pub submitted_on: Date,
    /// The authority extended the period by six weeks (Art. 36(2)), with its reasons.
    pub extended: bool,
    pub extension_reason: Option<String>,
    /// Derived: eight weeks from `submitted_on`, fourteen when extended ([`crate::clock`]).
    #[serde(with = "iso_date")]
    pub answer_due: Date,
    #[serde(with = "iso_date::option")]
    pub answered_on: Option<Date>,
    pub answer: Option<String>,
    pub recorded_by: Option<UserId>,
}

impl PriorConsultation {
    /// Asked and not yet answered.
    pub fn pending(&self) -> bool {
        self.answered_on.is_none()
    }
}

/// Whether `dpia` holds back the processing it covers until the supervisory authority
/// answers (Art. 36(1), (2)): approved with a high risk after the measures, its prior
/// consultation recorded and not answered. The stores read it to derive the covered
/// activities' `missing` (the PostgreSQL store in SQL, the same reading).
pub fn consultation_pending(dpia: &Dpia) -> bool {
    let d = &dpia.derived;
    d.status == DpiaStatus::Approved
        && d.residual_level == Some(RiskLevel::High)
        && d.prior_consultation
            .as_ref()
            .is_some_and(PriorConsultation::pending)
}

/// What a DPIA's record shows that no edit sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpiaState {
    pub status: DpiaStatus,
    /// 1 for a first assessment, one more for each revision.
    pub revision: i32,
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    pub submitted_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub approved_at: Option<OffsetDateTime>,
    pub approved_by: Option<UserId>,
    /// Why the last review sent it back to draft.
    pub sent_back_reason: Option<String>,
    pub prior_consultation: Option<PriorConsultation>,
    /// The Art. 35(7)(a) pre-fill from the covered activities.
    pub processing: ProcessingSummary,
    /// The highest level after the measures.
    pub residual_level: Option<RiskLevel>,
    /// What the record still lacks (see [`gaps`]).
    pub missing: Vec<DpiaGap>,
}

impl Default for DpiaState {
    fn default() -> Self {
        Self {
            status: DpiaStatus::Draft,
            revision: 1,
            created_by: None,
            submitted_at: None,
            submitted_by: None,
            approved_at: None,
            approved_by: None,
            sent_back_reason: None,
            prior_consultation: None,
            processing: ProcessingSummary::default(),
            residual_level: None,
            missing: Vec::new(),
        }
    }
}

/// A new DPIA is a draft.
// string_enum! owns the enum's derive list, so this cannot be a derive.
#[allow(clippy::derivable_impls)]
impl Default for DpiaStatus {
    fn default() -> Self {
        Self::Draft
    }
}

/// What the record still lacks: the Art. 35(7) parts (a)–(d) and the DPO's advice, in the
/// order of [`DpiaGap::ALL`].
pub fn gaps(fields: &DpiaFields) -> Vec<DpiaGap> {
    let absent = |gap: DpiaGap| match gap {
        DpiaGap::Description => fields.description.is_none(),
        DpiaGap::Necessity => NecessityTopic::ALL
            .iter()
            .any(|topic| !fields.necessity.iter().any(|n| n.topic == *topic)),
        DpiaGap::Risks => fields.risks.is_empty(),
        DpiaGap::Measures => {
            fields.measures.is_empty()
                || fields.risks.iter().enumerate().any(|(i, risk)| {
                    risk.level() == RiskLevel::High
                        && !fields.measures.iter().any(|m| m.risks.contains(&i))
                })
        }
        DpiaGap::DpoAdvice => fields.dpo_advice.is_none(),
    };
    DpiaGap::ALL
        .iter()
        .copied()
        .filter(|g| absent(*g))
        .collect()
}

/// The DPIA list's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DpiaFilter {
    pub status: Option<DpiaStatus>,
    /// Only DPIAs covering this activity.
    pub activity: Option<ActivityId>,
    /// Only DPIAs whose review date is on or before this day.
    pub review_due_on: Option<Date>,
    /// Only DPIAs whose highest residual level is this one.
    pub residual: Option<RiskLevel>,
}

impl DpiaFilter {
    /// Whether `dpia` passes the filter (the memory store's and the tests' reading).
    pub fn admits(&self, dpia: &Dpia) -> bool {
        let (f, d) = (&dpia.fields, &dpia.derived);
        self.status.is_none_or(|s| d.status == s)
            && self.activity.is_none_or(|a| f.activity_ids.contains(&a))
            && (self.review_due_on).is_none_or(|day| f.review_date.is_some_and(|r| r <= day))
            && self.residual.is_none_or(|r| d.residual_level == Some(r))
    }
}

pub mod actions {
    //! The audit actions of a DPIA's actions (its changes are `dpia.*` too: created,
    //! updated, deleted).
    use aura_audit::AuditAction;

    pub const SUBMITTED: AuditAction = AuditAction::known("dpia.submitted");
    pub const APPROVED: AuditAction = AuditAction::known("dpia.approved");
    pub const SENT_BACK: AuditAction = AuditAction::known("dpia.sent_back");
    pub const PRIOR_CONSULTATION: AuditAction =
        AuditAction::known("dpia.prior_consultation_recorded");
    pub const MEASURE_TASK: AuditAction = AuditAction::known("dpia.measure_task_created");
}

impl RecordKind for Dpias {
    const ENTITY: &'static str = "dpia";
    const ACTIONS: RecordActions = RecordActions {
        created: AuditAction::known("dpia.created"),
        updated: AuditAction::known("dpia.updated"),
        deleted: AuditAction::known("dpia.deleted"),
    };
    /// Approvers read the DPIAs they approve; writing one is the records writers'.
    const READ: Permission = Permission::ReadDpias;
    const LABEL_FIELD: &'static str = "title";
    /// The people's views may quote them.
    const PERSONAL_FIELDS: &'static [&'static str] = &["subject_views"];
    type Fields = DpiaFields;
    type Derived = DpiaState;
    type Filter = DpiaFilter;

    fn validated(fields: DpiaFields) -> Result<DpiaFields, ValidationErrors> {
        fields.validated()
    }

    fn label(fields: &DpiaFields) -> &str {
        &fields.title
    }

    /// The covered activities, the revised DPIA, and the owners (of the DPIA and of each
    /// measure) must be the tenant's.
    fn references(fields: &DpiaFields) -> Vec<Reference> {
        let activities = (fields.activity_ids.iter().enumerate())
            .map(|(i, id)| Reference::to::<Activities>(format!("activity_ids[{i}]"), *id));
        let owner = (fields.owner_id).map(|u| Reference::member("owner_id", u));
        let owners = (fields.measures.iter().enumerate()).filter_map(|(i, m)| {
            Some(Reference::member(
                format!("measures[{i}].owner_id"),
                m.owner_id?,
            ))
        });
        let revised = (fields.revision_of).map(|id| Reference::to::<Dpias>("revision_of", id));
        activities
            .chain(owner)
            .chain(owners)
            .chain(revised)
            .collect()
    }

    /// Lists sort by the review date (`sort=due_on`), undated last.
    const SORTS_BY_DUE: bool = true;

    fn due_on(dpia: &Dpia) -> Option<Date> {
        dpia.fields.review_date
    }

    fn derived_at_creation(actor: Option<UserId>) -> DpiaState {
        DpiaState {
            created_by: actor,
            ..DpiaState::default()
        }
    }
}

/// Who approves: admins, owners and custom roles granted it.
pub const APPROVE: Permission = Permission::ApproveDpias;

/// A move the DPIA's status does not allow (409 `invalid_transition`).
pub type InvalidTransition = aura_records::InvalidTransition<DpiaStatus>;

impl Workflow for DpiaStatus {
    const NOUN: &'static str = "DPIA";
    const REFUSAL: &'static str = "the DPIA's status does not allow this action";

    /// draft → in review → approved, or back to draft.
    fn may_move_to(self, next: Self) -> bool {
        use DpiaStatus::*;
        matches!(
            (self, next),
            (Draft, InReview) | (InReview, Approved) | (InReview, Draft)
        )
    }
}

/// A reason or answer as the actions take it.
pub fn reasoning(field: &str, raw: &str) -> Result<String, ValidationErrors> {
    text(field, raw, TextRule::block(LONG))
}

/// A short line (an authority's name).
pub fn line(field: &str, raw: &str) -> Result<String, ValidationErrors> {
    text(field, raw, TextRule::line(500))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn risk(likelihood: Scale, severity: Scale, residual: Scale) -> Risk {
        Risk {
            source: " an attacker ".into(),
            event: RiskEvent::IllegitimateAccess,
            impact: "identity theft".into(),
            likelihood,
            severity,
            residual_likelihood: residual,
            residual_severity: residual,
        }
    }

    fn fields() -> DpiaFields {
        DpiaFields {
            title: " CCTV ".into(),
            activity_ids: vec![Id::generate()],
            description: None,
            necessity: vec![],
            risks: vec![risk(Scale::Maximum, Scale::Significant, Scale::Limited)],
            measures: vec![],
            dpo_advice: None,
            subject_views: None,
            subject_views_not_sought: None,
            review_date: Some(date!(2028 - 01 - 01)),
            owner_id: None,
            revision_of: None,
        }
    }

    #[test]
    fn levels_follow_the_product_of_the_scales() {
        use Scale::*;
        assert_eq!(risk_level(Significant, Significant), RiskLevel::High);
        assert_eq!(risk_level(Maximum, Limited), RiskLevel::Medium);
        assert_eq!(risk_level(Negligible, Maximum), RiskLevel::Medium);
        assert_eq!(risk_level(Limited, Negligible), RiskLevel::Low);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut bad = fields();
        bad.activity_ids.clear();
        bad.subject_views = Some("asked the works council".into());
        bad.subject_views_not_sought = Some("not asked".into());
        bad.measures.push(Measure {
            title: "encrypt".into(),
            kind: MeasureType::Technical,
            status: MeasureStatus::Planned,
            owner_id: None,
            due_date: None,
            risks: vec![3],
            task_id: None,
        });
        let errors = bad.validated().expect_err("invalid");
        let named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            [
                "subject_views_not_sought",
                "activity_ids",
                "measures[0].risks"
            ]
        );
    }

    #[test]
    fn gaps_name_the_four_parts_and_the_dpo_advice() {
        let f = fields().validated().expect("valid");
        assert_eq!(f.title, "CCTV");
        assert_eq!(f.risks[0].source, "an attacker");
        assert_eq!(
            gaps(&f),
            [
                DpiaGap::Description,
                DpiaGap::Necessity,
                DpiaGap::Measures,
                DpiaGap::DpoAdvice
            ]
        );
        let mut f = f;
        f.description = Some("cameras".into());
        f.necessity = NecessityTopic::ALL
            .iter()
            .map(|t| NecessityItem {
                topic: *t,
                assessment: "ok".into(),
            })
            .collect();
        f.measures.push(Measure {
            title: "masking".into(),
            kind: MeasureType::Technical,
            status: MeasureStatus::Planned,
            owner_id: None,
            due_date: None,
            risks: vec![0],
            task_id: None,
        });
        f.dpo_advice = Some(DpoAdvice {
            advice: "proceed".into(),
            given_on: date!(2027 - 01 - 01),
            followed: true,
        });
        assert!(gaps(&f).is_empty());
        assert_eq!(f.residual_level(), Some(RiskLevel::Medium));
    }

    #[test]
    fn the_workflow_goes_through_review() {
        use DpiaStatus::*;
        assert!(Draft.may_move_to(InReview));
        assert!(InReview.may_move_to(Approved) && InReview.may_move_to(Draft));
        assert!(!Draft.may_move_to(Approved), "approval needs a review");
        for next in DpiaStatus::ALL {
            assert!(!Approved.may_move_to(*next), "approved → {next}");
        }
    }
}
