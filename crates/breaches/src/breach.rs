//! The record of a personal-data breach (Art. 33, 34 GDPR): what a user edits, the
//! decisions its actions record, and what the record still lacks. The deadline comes from
//! [`crate::clock`].

use aura_audit::AuditAction;
use aura_gdpr_registers::{
    Activities, ActivityId, ProcessorId, Processors, string_enum,
    text::{TextRule, iso_date, optional_text, text, text_list},
};
use aura_records::{Id, Numbered, Record, RecordActions, RecordKind, Reference, Workflow};
use aura_shared_kernel::{LocalInstant, Permission, UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::defaults::{ContactInEffect, FromRegister};

string_enum!(
    /// What the breach did to the data (the three breach types of the EDPB guidelines
    /// 9/2022); several may apply.
    BreachKind {
        /// Unauthorised or accidental disclosure of, or access to, personal data.
        Confidentiality => "confidentiality",
        /// Unauthorised or accidental alteration of personal data.
        Integrity => "integrity",
        /// Accidental or unauthorised loss of access to, or destruction of, personal data.
        Availability => "availability",
    }
);

string_enum!(
    /// Where a breach stands. Every status but `open` is reached only through an action.
    BreachStatus {
        Open => "open",
        /// The risk is assessed; the authority decision is still open.
        Assessed => "assessed",
        /// The supervisory authority was notified (Art. 33(1)), in one or more phases.
        Notified => "notified",
        /// The recorded decision not to notify: the breach is unlikely to result in a risk.
        NotNotified => "not_notified",
        Closed => "closed",
    }
);

string_enum!(
    /// The risk to the rights and freedoms of natural persons (Art. 33(1), 34(1)).
    RiskLevel {
        /// Unlikely to result in a risk: no notification is required (Art. 33(1)).
        NoRisk => "no_risk",
        /// A risk: the authority is notified (Art. 33(1)).
        Risk => "risk",
        /// A high risk: the data subjects are told too (Art. 34(1)).
        HighRisk => "high_risk",
    }
);

string_enum!(
    /// Why the data subjects of a high-risk breach are not told (Art. 34(3)).
    NoCommunicationGround {
        /// Art. 34(3)(a): the data were unintelligible to anyone not authorised (encryption).
        DataUnintelligible => "data_unintelligible",
        /// Art. 34(3)(b): subsequent measures ensure the high risk is no longer likely.
        RiskNoLongerLikely => "risk_no_longer_likely",
        /// Art. 34(3)(c): it would involve disproportionate effort; a public
        /// communication informs the subjects instead.
        DisproportionateEffort => "disproportionate_effort",
    }
);

string_enum!(
    /// What a breach's record still lacks: the Art. 33(3) content of a notification, the
    /// risk decision, the Art. 34 decision of a high-risk breach.
    BreachGap {
        /// Art. 33(3)(a): the nature of the breach.
        Description => "description",
        /// Art. 33(3)(a): the categories of data subjects concerned.
        DataSubjectCategories => "data_subject_categories",
        /// Art. 33(3)(a): the approximate number of data subjects concerned.
        ApproximateSubjects => "approximate_subjects",
        /// Art. 33(3)(a): the categories of personal data records concerned.
        DataCategories => "data_categories",
        /// Art. 33(3)(a): the approximate number of personal data records concerned.
        ApproximateRecords => "approximate_records",
        /// Art. 33(3)(b): the DPO or other contact point.
        ContactPoint => "contact_point",
        /// Art. 33(3)(c): the likely consequences.
        Consequences => "consequences",
        /// Art. 33(3)(d): the measures taken or proposed.
        Measures => "measures",
        /// Art. 33(1): no risk assessment recorded yet.
        RiskAssessment => "risk_assessment",
        /// Art. 34: a high-risk breach without the communication to the subjects or the
        /// recorded ground not to.
        SubjectCommunication => "subject_communication",
    }
);

impl BreachGap {
    /// The Art. 33(3) items: what a notification carries, and may mark "to follow".
    pub const NOTIFICATION_ITEMS: [BreachGap; 8] = [
        BreachGap::Description,
        BreachGap::DataSubjectCategories,
        BreachGap::ApproximateSubjects,
        BreachGap::DataCategories,
        BreachGap::ApproximateRecords,
        BreachGap::ContactPoint,
        BreachGap::Consequences,
        BreachGap::Measures,
    ];

    pub fn is_notification_item(self) -> bool {
        Self::NOTIFICATION_ITEMS.contains(&self)
    }
}

/// The GDPR applies from 25 May 2018 (Art. 99(2)): no breach under it was known before.
pub use aura_gdpr_registers::GDPR_APPLIES_FROM;

/// Far enough from the calendar's end that the deadline stays representable.
pub const LAST_AWARENESS: OffsetDateTime = time::macros::datetime!(9000-01-01 00:00 UTC);

/// Everything a user edits about a breach (create, and update: send all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachFields {
    pub title: String,
    /// What happened (the nature of the breach, Art. 33(3)(a)).
    pub description: Option<String>,
    /// How the breach was discovered.
    pub discovery: Option<String>,
    /// When the organisation became aware (entered by the user): the 72-hour clock
    /// starts here, not at the row's creation.
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_from: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_to: Option<OffsetDateTime>,
    pub kinds: Vec<BreachKind>,
    pub data_subject_categories: Vec<String>,
    pub approximate_subjects: Option<i64>,
    pub data_categories: Vec<String>,
    pub approximate_records: Option<i64>,
    pub activity_ids: Vec<ActivityId>,
    pub processor_ids: Vec<ProcessorId>,
    /// Art. 33(3)(c).
    pub consequences: Option<String>,
    /// Art. 33(3)(d): taken or proposed, including mitigation.
    pub measures: Option<String>,
    /// Art. 33(3)(b): the DPO or other contact point.
    pub contact_point: Option<String>,
    /// An exercise: runs the whole workflow but never counts in the register's lists
    /// (only `drill=true` shows it) or its figures.
    pub drill: bool,
    pub owner_id: Option<UserId>,
    pub assignee_id: Option<UserId>,
}

const LONG: usize = 10_000;

impl BreachFields {
    /// Checks sizes, formats and rules that need no clock or other record; trims and
    /// de-duplicates. All problems at once.
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.collect(text("title", &self.title, TextRule::line(200)));
        let block = |field: &str, value: &Option<String>| {
            optional_text(field, value.as_deref(), TextRule::block(LONG))
        };
        let description = e.collect(block("description", &self.description));
        let discovery = e.collect(block("discovery", &self.discovery));
        let consequences = e.collect(block("consequences", &self.consequences));
        let measures = e.collect(block("measures", &self.measures));
        let contact_point = e.collect(optional_text(
            "contact_point",
            self.contact_point.as_deref(),
            TextRule::block(1_000),
        ));
        if self.became_aware_at < GDPR_APPLIES_FROM {
            e.push(
                "became_aware_at",
                "cannot be before 25 May 2018, when the GDPR began to apply (Art. 99(2))",
            );
        } else if self.became_aware_at >= LAST_AWARENESS {
            e.push("became_aware_at", "must be before the year 9000");
        }
        if let (Some(from), Some(to)) = (self.occurred_from, self.occurred_to)
            && to < from
        {
            e.push("occurred_to", "cannot be before occurred_from");
        }
        if self.kinds.is_empty() {
            e.push(
                "kinds",
                "must name at least one of confidentiality, integrity, availability",
            );
        }
        for (field, number) in [
            ("approximate_subjects", self.approximate_subjects),
            ("approximate_records", self.approximate_records),
        ] {
            if number.is_some_and(|n| n < 0) {
                e.push(field, "cannot be negative");
            }
        }
        let subjects = e.collect(text_list(
            "data_subject_categories",
            &self.data_subject_categories,
            100,
            200,
        ));
        let data = e.collect(text_list(
            "data_categories",
            &self.data_categories,
            100,
            200,
        ));
        e.into_result()?;
        let mut kinds = self.kinds;
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        let mut activity_ids = self.activity_ids;
        dedup_keep_order(&mut activity_ids);
        let mut processor_ids = self.processor_ids;
        dedup_keep_order(&mut processor_ids);
        Ok(Self {
            title: title.unwrap_or_default(),
            description: description.flatten(),
            discovery: discovery.flatten(),
            consequences: consequences.flatten(),
            measures: measures.flatten(),
            contact_point: contact_point.flatten(),
            kinds,
            data_subject_categories: subjects.unwrap_or_default(),
            data_categories: data.unwrap_or_default(),
            activity_ids,
            processor_ids,
            became_aware_at: utc(self.became_aware_at),
            occurred_from: self.occurred_from.map(utc),
            occurred_to: self.occurred_to.map(utc),
            ..self
        })
    }
}

/// The instant in UTC: the register keeps instants, the offset a client wrote them in is
/// not part of the record (the tenant's time zone says them again).
pub fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(time::UtcOffset::UTC)
}

fn dedup_keep_order<T: PartialEq + Copy>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    items.retain(|item| {
        let new = !seen.contains(item);
        if new {
            seen.push(*item);
        }
        new
    });
}

/// The register of personal-data breaches (Art. 33(5): the documentation the authority
/// may check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaches {}

pub type BreachId = Id<Breaches>;

/// A stored breach.
pub type Breach = Record<Breaches>;

/// The risk assessment: the level, why, by whom and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    pub level: RiskLevel,
    pub reasoning: String,
    pub assessed_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub assessed_at: OffsetDateTime,
}

/// One phase of the notification to the supervisory authority (Art. 33(4)): the first
/// is the notification, each further one adds what was to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPhase {
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// The reference the authority gave.
    pub authority_reference: Option<String>,
    /// What this phase told the authority (or added to the earlier phases).
    pub content: String,
    /// The Art. 33(3) items still to follow after this phase.
    pub to_follow: Vec<BreachGap>,
    /// Art. 33(1): why the notification came after the 72 hours (first phase only).
    pub delay_reasons: Option<String>,
    pub recorded_by: Option<UserId>,
}

/// The recorded decision not to notify the authority (Art. 33(1), 33(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotNotifiedDecision {
    pub reasoning: String,
    pub decided_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

/// The Art. 34 decision: the data subjects were told, or the ground not to tell them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum SubjectCommunication {
    Communicated {
        #[serde(with = "iso_date")]
        communicated_on: Date,
        /// How (e-mail, letter, public notice).
        channel: String,
        /// Where the text sent is kept (a document id, a file path).
        content_reference: String,
        recorded_by: Option<UserId>,
    },
    NotCommunicated {
        ground: NoCommunicationGround,
        reasoning: String,
        recorded_by: Option<UserId>,
        #[serde(with = "time::serde::rfc3339")]
        decided_at: OffsetDateTime,
    },
}

/// What a breach's record shows that no edit sets: where it stands, its deadline, the
/// decisions its actions recorded and what it still lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachState {
    /// Per tenant and year of awareness: `BR-2027-0001` (given by the store on insert,
    /// never reused, kept when the awareness time is corrected).
    pub reference: String,
    pub status: BreachStatus,
    /// `became_aware_at + 72 h` (Art. 33(1)), an instant.
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// The deadline in the organisation's time zone, as of the breach's last write.
    #[serde(default)]
    pub authority_deadline_local: Option<LocalInstant>,
    pub risk: Option<RiskAssessment>,
    pub notifications: Vec<NotificationPhase>,
    pub not_notified: Option<NotNotifiedDecision>,
    pub communication: Option<SubjectCommunication>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<UserId>,
    pub created_by: Option<UserId>,
    /// The Art. 33(3)(b) contact point a notification gives: the breach's own, else the
    /// organisation profile's DPO or contact, as of the breach's last write.
    pub contact_point_in_effect: Option<ContactInEffect>,
    /// What the processing activities the breach names say about its categories and
    /// processors, as of the breach's last write (a new breach's empty lists were filled
    /// from it).
    pub from_register: FromRegister,
    /// What the record still lacks (see [`gaps`]).
    pub missing: Vec<BreachGap>,
}

impl Default for BreachState {
    fn default() -> Self {
        Self {
            reference: String::new(),
            status: BreachStatus::Open,
            authority_deadline: OffsetDateTime::UNIX_EPOCH,
            authority_deadline_local: None,
            risk: None,
            notifications: Vec::new(),
            not_notified: None,
            communication: None,
            closed_at: None,
            closed_by: None,
            created_by: None,
            contact_point_in_effect: None,
            from_register: FromRegister::default(),
            missing: Vec::new(),
        }
    }
}

/// A new breach is open.
// string_enum! owns the enum's derive list, so this cannot be a derive.
#[allow(clippy::derivable_impls)]
impl Default for BreachStatus {
    fn default() -> Self {
        Self::Open
    }
}

impl BreachStatus {
    /// The authority decision is still open: the 72-hour clock runs.
    pub fn awaits_decision(self) -> bool {
        matches!(self, Self::Open | Self::Assessed)
    }
}

impl BreachState {
    /// The risk level assessed, if any.
    pub fn risk_level(&self) -> Option<RiskLevel> {
        self.risk.as_ref().map(|r| r.level)
    }

    /// When the authority was first notified.
    pub fn notified_at(&self) -> Option<OffsetDateTime> {
        self.notifications.first().map(|p| p.sent_at)
    }

    /// Notified by the deadline (`None` until notified).
    pub fn notified_in_time(&self) -> Option<bool> {
        self.notified_at().map(|at| at <= self.authority_deadline)
    }

    /// Still awaiting the authority decision after the deadline, as of `now`.
    pub fn overdue_at(&self, now: OffsetDateTime) -> bool {
        self.status.awaits_decision() && now > self.authority_deadline
    }
}

/// What the record of a breach still lacks: the Art. 33(3) items its fields do not hold
/// (the contact point may come from the organisation profile) or its latest notification
/// phase still marks to follow, the risk decision, and for a
/// high-risk breach the Art. 34 decision. In the order of [`BreachGap::ALL`].
pub fn gaps(fields: &BreachFields, state: &BreachState) -> Vec<BreachGap> {
    let to_follow = (state.notifications.last()).map_or(&[][..], |p| p.to_follow.as_slice());
    let absent = |gap: BreachGap| match gap {
        BreachGap::Description => fields.description.is_none(),
        BreachGap::DataSubjectCategories => fields.data_subject_categories.is_empty(),
        BreachGap::ApproximateSubjects => fields.approximate_subjects.is_none(),
        BreachGap::DataCategories => fields.data_categories.is_empty(),
        BreachGap::ApproximateRecords => fields.approximate_records.is_none(),
        BreachGap::ContactPoint => {
            fields.contact_point.is_none() && state.contact_point_in_effect.is_none()
        }
        BreachGap::Consequences => fields.consequences.is_none(),
        BreachGap::Measures => fields.measures.is_none(),
        BreachGap::RiskAssessment => state.risk.is_none(),
        BreachGap::SubjectCommunication => {
            state.risk_level() == Some(RiskLevel::HighRisk) && state.communication.is_none()
        }
    };
    BreachGap::ALL
        .iter()
        .copied()
        .filter(|gap| absent(*gap) || to_follow.contains(gap))
        .collect()
}

/// The breaches list's filters. Drills and real breaches are never listed together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreachFilter {
    pub status: Option<BreachStatus>,
    pub risk: Option<RiskLevel>,
    /// Whether the authority was notified (at least one phase).
    pub notified: Option<bool>,
    /// Only breaches still awaiting the authority decision after their deadline, as of
    /// this instant.
    pub overdue_at: Option<OffsetDateTime>,
    /// `true`: only drills; `false` (the default): only real breaches.
    pub drill: bool,
    /// Part of the title or the reference (`BR-2027-0001`), ignoring case.
    pub search: Option<String>,
}

impl BreachFilter {
    /// Whether `breach` passes the filter (the memory store's and the tests' reading).
    pub fn admits(&self, breach: &Breach) -> bool {
        let (f, d) = (&breach.fields, &breach.derived);
        f.drill == self.drill
            && self.status.is_none_or(|s| d.status == s)
            && self.risk.is_none_or(|r| d.risk_level() == Some(r))
            && (self.notified).is_none_or(|n| n == d.notified_at().is_some())
            && self.overdue_at.is_none_or(|now| d.overdue_at(now))
            && self.search.as_deref().is_none_or(|needle| {
                let needle = needle.to_lowercase();
                [f.title.as_str(), d.reference.as_str()]
                    .iter()
                    .any(|hay| hay.to_lowercase().contains(&needle))
            })
    }
}

pub mod actions {
    //! The audit actions of the breaches' actions (their changes are
    //! `personal_data_breach.*` too: created, updated, deleted).
    use aura_audit::AuditAction;

    pub const ASSESSED: AuditAction = AuditAction::known("personal_data_breach.assessed");
    pub const AUTHORITY_NOTIFIED: AuditAction =
        AuditAction::known("personal_data_breach.authority_notified");
    pub const NOT_NOTIFIED: AuditAction =
        AuditAction::known("personal_data_breach.decided_not_to_notify");
    pub const SUBJECTS_COMMUNICATED: AuditAction =
        AuditAction::known("personal_data_breach.subjects_communicated");
    pub const CLOSED: AuditAction = AuditAction::known("personal_data_breach.closed");
}

impl RecordKind for Breaches {
    const ENTITY: &'static str = "personal_data_breach";
    const ACTIONS: RecordActions = RecordActions {
        created: AuditAction::known("personal_data_breach.created"),
        updated: AuditAction::known("personal_data_breach.updated"),
        deleted: AuditAction::known("personal_data_breach.deleted"),
    };
    /// The people handling breaches read and handle them, and nothing more; closing
    /// one stays the record deleters' ([`RecordKind::DELETE`]).
    const READ: Permission = Permission::ReadBreaches;
    const WRITE: Permission = Permission::HandleBreaches;
    const LABEL_FIELD: &'static str = "title";
    /// The free texts: what happened, how it was found, its consequences and the measures
    /// often name the people concerned (audit rows are never erased).
    const PERSONAL_FIELDS: &'static [&'static str] =
        &["description", "discovery", "consequences", "measures"];
    type Fields = BreachFields;
    type Derived = BreachState;
    type Filter = BreachFilter;

    fn validated(fields: BreachFields) -> Result<BreachFields, ValidationErrors> {
        fields.validated()
    }

    fn label(fields: &BreachFields) -> &str {
        &fields.title
    }

    /// The owner and assignee must be users of the tenant, each affected activity and
    /// processor one of its records.
    fn references(fields: &BreachFields) -> Vec<Reference> {
        let users = [
            ("owner_id", fields.owner_id),
            ("assignee_id", fields.assignee_id),
        ]
        .into_iter()
        .filter_map(|(field, user)| Some(Reference::member(field, user?)));
        let activities = (fields.activity_ids.iter().enumerate())
            .map(|(i, id)| Reference::to::<Activities>(format!("activity_ids[{i}]"), *id));
        let processors = (fields.processor_ids.iter().enumerate())
            .map(|(i, id)| Reference::to::<Processors>(format!("processor_ids[{i}]"), *id));
        users.chain(activities).chain(processors).collect()
    }

    /// Lists sort by the authority deadline's day (`sort=due_on`), then by creation.
    const SORTS_BY_DUE: bool = true;

    fn due_on(breach: &Breach) -> Option<Date> {
        Some(due_on(&breach.derived))
    }

    fn derived_at_creation(actor: Option<UserId>) -> BreachState {
        BreachState {
            created_by: actor,
            ..BreachState::default()
        }
    }
}

/// Breaches are numbered per tenant and year of awareness (in UTC): the register is
/// kept and exported by when the organisation became aware, as the 72-hour clock runs
/// from then, so a breach found on 30 December and entered on 2 January is one of the
/// year it was found in. The reference is given once, on insert: correcting the
/// awareness time later keeps it (a reference already given out stays valid).
impl Numbered for Breaches {
    const SERIES: &'static str = "BR";

    fn numbering_year(breach: &Breach) -> i32 {
        utc(breach.fields.became_aware_at).year()
    }

    fn reference(breach: &Breach) -> &str {
        &breach.derived.reference
    }

    fn reference_mut(breach: &mut Breach) -> &mut String {
        &mut breach.derived.reference
    }
}

/// The key of the due sorts: the deadline's day in UTC.
pub fn due_on(state: &BreachState) -> Date {
    state
        .authority_deadline
        .to_offset(time::UtcOffset::UTC)
        .date()
}

/// A move the breach's status does not allow (409 `invalid_transition`).
pub type InvalidTransition = aura_records::InvalidTransition<BreachStatus>;

impl Workflow for BreachStatus {
    const NOUN: &'static str = "breach";
    const REFUSAL: &'static str = "the breach's status does not allow this action";

    /// The moves the breach's actions may make: open → assessed; open or assessed →
    /// notified or not notified; not notified → notified (a later notification);
    /// notified or not notified → closed. Assessing again keeps `assessed`.
    fn may_move_to(self, next: Self) -> bool {
        use BreachStatus::*;
        matches!(
            (self, next),
            (Open | Assessed, Assessed)
                | (Open | Assessed | NotNotified | Notified, Notified)
                | (Assessed, NotNotified)
                | (Notified | NotNotified, Closed)
        )
    }
}

/// The text of a reasoning or reason, as the actions take it.
pub fn reasoning(field: &str, raw: &str) -> Result<String, ValidationErrors> {
    text(field, raw, TextRule::block(LONG))
}

/// A short line (a reference, a channel).
pub fn line(field: &str, raw: &str) -> Result<String, ValidationErrors> {
    text(field, raw, TextRule::line(500))
}

/// An optional short line.
pub fn optional_line(field: &str, raw: Option<&str>) -> Result<Option<String>, ValidationErrors> {
    optional_text(field, raw, TextRule::line(500))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// The fixture's fields as a user might enter them: padded, repeated, with the
    /// occurrence period.
    fn fields() -> BreachFields {
        BreachFields {
            title: " Laptop stolen ".into(),
            occurred_from: Some(datetime!(2027-03-04 18:00 +01:00)),
            occurred_to: Some(datetime!(2027-03-05 07:00 +01:00)),
            kinds: vec![BreachKind::Confidentiality, BreachKind::Availability],
            data_subject_categories: vec!["customers".into(), "Customers".into()],
            ..crate::testing::fields(datetime!(2027-03-05 09:00 +01:00))
        }
    }

    #[test]
    fn fields_are_trimmed_and_deduplicated() {
        let valid = fields().validated().expect("valid");
        assert_eq!(valid.title, "Laptop stolen");
        assert_eq!(valid.data_subject_categories, vec!["customers"]);
        assert_eq!(
            valid.kinds,
            vec![BreachKind::Availability, BreachKind::Confidentiality]
        );
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut bad = fields();
        bad.title = " ".into();
        bad.kinds.clear();
        bad.occurred_to = Some(datetime!(2027-03-01 00:00 UTC));
        bad.approximate_records = Some(-1);
        let errors = bad.validated().expect_err("invalid");
        let named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            ["title", "occurred_to", "kinds", "approximate_records"]
        );
    }

    #[test]
    fn references_count_per_year_of_awareness_in_utc() {
        let aware = datetime!(2027-01-01 00:30 +01:00);
        let mut breach =
            crate::testing::record(fields().validated().expect("valid"), BreachState::default());
        breach.fields.became_aware_at = aware;
        aura_records::assign_reference(&mut breach, 3);
        assert_eq!(
            breach.derived.reference, "BR-2026-0003",
            "31 December in UTC"
        );
        let filter = |search: &str| BreachFilter {
            search: Some(search.into()),
            ..BreachFilter::default()
        };
        assert!(filter("br-2026-0003").admits(&breach));
        assert!(filter("laptop").admits(&breach));
        assert!(!filter("BR-2027").admits(&breach));
    }

    #[test]
    fn the_workflow_moves_only_forward() {
        use BreachStatus::*;
        assert!(Open.may_move_to(Assessed));
        assert!(Assessed.may_move_to(NotNotified));
        assert!(
            !Open.may_move_to(NotNotified),
            "a decision needs an assessment"
        );
        assert!(Notified.may_move_to(Notified), "a further phase");
        assert!(NotNotified.may_move_to(Notified));
        assert!(!Open.may_move_to(Closed) && !Assessed.may_move_to(Closed));
        for next in BreachStatus::ALL {
            assert!(!Closed.may_move_to(*next), "closed → {next}");
        }
    }

    #[test]
    fn gaps_name_the_missing_items_and_decisions() {
        let fields = fields().validated().expect("valid");
        let mut state = BreachState::default();
        assert_eq!(
            gaps(&fields, &state),
            [
                BreachGap::ContactPoint,
                BreachGap::Consequences,
                BreachGap::Measures,
                BreachGap::RiskAssessment
            ]
        );
        state.risk = Some(RiskAssessment {
            level: RiskLevel::HighRisk,
            reasoning: "unencrypted".into(),
            assessed_by: None,
            assessed_at: datetime!(2027-03-05 10:00 UTC),
        });
        state.notifications.push(NotificationPhase {
            sent_at: datetime!(2027-03-06 10:00 UTC),
            authority_reference: None,
            content: "initial".into(),
            to_follow: vec![BreachGap::ApproximateRecords],
            delay_reasons: None,
            recorded_by: None,
        });
        assert_eq!(
            gaps(&fields, &state),
            [
                BreachGap::ApproximateRecords,
                BreachGap::ContactPoint,
                BreachGap::Consequences,
                BreachGap::Measures,
                BreachGap::SubjectCommunication
            ]
        );
    }
}
