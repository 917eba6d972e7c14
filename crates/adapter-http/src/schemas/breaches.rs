//! The bodies of personal-data breaches: the record as a user edits it, what its actions
//! recorded with the Art. 33(1) deadline and where it stands, and the actions' bodies.

use aura_breaches::{
    BreachFields, BreachGap, BreachKind, BreachState, BreachStatus, Breaches, ContactInEffect,
    ContactSource, DeadlineStanding, FromRegister, NoCommunicationGround, NotificationPhase,
    RiskLevel, SubjectCommunication, standing,
};
use aura_records::Id;
use aura_shared_kernel::date::iso_date;
use aura_shared_kernel::{LocalInstant, TimeZoneName, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    LocalInstantBody, one_of, one_of_or_null,
    record::{RecordBodies, RecordBody, RecordList},
};

fn kinds_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of::<BreachKind>())
        .min_items(Some(1))
        .build()
}

fn gaps_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of::<BreachGap>())
        .build()
}

/// Everything a user edits about a breach (create, and update: send all). The deadline
/// follows from `became_aware_at`; the decisions are recorded by the actions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Laptop with customer list stolen",
    "description": "An unencrypted laptop was stolen from an employee's car.",
    "became_aware_at": "2027-03-05T09:00:00+01:00", "kinds": ["confidentiality", "availability"],
    "data_subject_categories": ["Customers"], "approximate_subjects": 1200}))]
pub struct BreachFieldsBody {
    pub title: String,
    /// What happened: the nature of the breach (Art. 33(3)(a)).
    #[serde(default)]
    pub description: Option<String>,
    /// How the breach was discovered.
    #[serde(default)]
    pub discovery: Option<String>,
    /// When the organisation became aware of the breach: the 72-hour clock of Art. 33(1)
    /// starts here. Not in the future. Answered in UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    /// When the breach began, if known.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub occurred_from: Option<OffsetDateTime>,
    /// When it ended, if known (not before `occurred_from`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub occurred_to: Option<OffsetDateTime>,
    /// At least one of confidentiality, integrity, availability.
    #[schema(schema_with = kinds_schema)]
    pub kinds: Vec<BreachKind>,
    /// Art. 33(3)(a).
    #[serde(default)]
    pub data_subject_categories: Vec<String>,
    /// Art. 33(3)(a): approximate.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub approximate_subjects: Option<i64>,
    /// Art. 33(3)(a).
    #[serde(default)]
    pub data_categories: Vec<String>,
    /// Art. 33(3)(a): approximate.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub approximate_records: Option<i64>,
    /// The processing activities of the register the breach affects.
    #[serde(default)]
    pub activity_ids: Vec<Uuid>,
    /// The processors involved.
    #[serde(default)]
    pub processor_ids: Vec<Uuid>,
    /// Art. 33(3)(c): the likely consequences.
    #[serde(default)]
    pub consequences: Option<String>,
    /// Art. 33(3)(d): the measures taken or proposed.
    #[serde(default)]
    pub measures: Option<String>,
    /// Art. 33(3)(b): the DPO or other contact point.
    #[serde(default)]
    pub contact_point: Option<String>,
    /// An exercise: the whole workflow, listed only with `drill=true`, never in figures.
    #[serde(default)]
    pub drill: bool,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
}

impl From<BreachFieldsBody> for BreachFields {
    fn from(b: BreachFieldsBody) -> Self {
        Self {
            title: b.title,
            description: b.description,
            discovery: b.discovery,
            became_aware_at: b.became_aware_at,
            occurred_from: b.occurred_from,
            occurred_to: b.occurred_to,
            kinds: b.kinds,
            data_subject_categories: b.data_subject_categories,
            approximate_subjects: b.approximate_subjects,
            data_categories: b.data_categories,
            approximate_records: b.approximate_records,
            activity_ids: b.activity_ids.into_iter().map(Id::from_uuid).collect(),
            processor_ids: b.processor_ids.into_iter().map(Id::from_uuid).collect(),
            consequences: b.consequences,
            measures: b.measures,
            contact_point: b.contact_point,
            drill: b.drill,
            owner_id: b.owner_id.map(UserId::from_uuid),
            assignee_id: b.assignee_id.map(UserId::from_uuid),
        }
    }
}

impl From<BreachFields> for BreachFieldsBody {
    fn from(f: BreachFields) -> Self {
        Self {
            title: f.title,
            description: f.description,
            discovery: f.discovery,
            became_aware_at: f.became_aware_at,
            occurred_from: f.occurred_from,
            occurred_to: f.occurred_to,
            kinds: f.kinds,
            data_subject_categories: f.data_subject_categories,
            approximate_subjects: f.approximate_subjects,
            data_categories: f.data_categories,
            approximate_records: f.approximate_records,
            activity_ids: f.activity_ids.iter().map(|a| a.as_uuid()).collect(),
            processor_ids: f.processor_ids.iter().map(|p| p.as_uuid()).collect(),
            consequences: f.consequences,
            measures: f.measures,
            contact_point: f.contact_point,
            drill: f.drill,
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            assignee_id: f.assignee_id.map(|u| u.as_uuid()),
        }
    }
}

/// The risk assessment recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskAssessmentBody {
    #[schema(schema_with = one_of::<RiskLevel>)]
    pub level: RiskLevel,
    pub reasoning: String,
    pub assessed_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub assessed_at: OffsetDateTime,
}

/// One phase of the notification to the supervisory authority (Art. 33(4)).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPhaseBody {
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    pub authority_reference: Option<String>,
    pub content: String,
    #[schema(schema_with = gaps_schema)]
    pub to_follow: Vec<BreachGap>,
    pub delay_reasons: Option<String>,
    pub recorded_by: Option<Uuid>,
}

impl From<NotificationPhase> for NotificationPhaseBody {
    fn from(p: NotificationPhase) -> Self {
        Self {
            sent_at: p.sent_at,
            authority_reference: p.authority_reference,
            content: p.content,
            to_follow: p.to_follow,
            delay_reasons: p.delay_reasons,
            recorded_by: p.recorded_by.map(|u| u.as_uuid()),
        }
    }
}

/// The recorded decision not to notify the authority.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotNotifiedBody {
    pub reasoning: String,
    pub decided_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

/// Whether the data subjects are told (Art. 34).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Art34Choice {
    /// They were told (Art. 34(1), (2)).
    Communicated,
    /// A ground of Art. 34(3) applies.
    NotCommunicated,
}

/// The Art. 34 decision recorded: the communication (date, channel, content reference)
/// or the ground not to communicate with its reasoning.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectCommunicationBody {
    pub decision: Art34Choice,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub communicated_on: Option<Date>,
    pub channel: Option<String>,
    pub content_reference: Option<String>,
    #[schema(schema_with = one_of_or_null::<NoCommunicationGround>)]
    pub ground: Option<NoCommunicationGround>,
    pub reasoning: Option<String>,
    pub recorded_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
}

impl From<SubjectCommunication> for SubjectCommunicationBody {
    fn from(c: SubjectCommunication) -> Self {
        match c {
            SubjectCommunication::Communicated {
                communicated_on,
                channel,
                content_reference,
                recorded_by,
            } => Self {
                decision: Art34Choice::Communicated,
                communicated_on: Some(communicated_on),
                channel: Some(channel),
                content_reference: Some(content_reference),
                ground: None,
                reasoning: None,
                recorded_by: recorded_by.map(|u| u.as_uuid()),
                decided_at: None,
            },
            SubjectCommunication::NotCommunicated {
                ground,
                reasoning,
                recorded_by,
                decided_at,
            } => Self {
                decision: Art34Choice::NotCommunicated,
                communicated_on: None,
                channel: None,
                content_reference: None,
                ground: Some(ground),
                reasoning: Some(reasoning),
                recorded_by: recorded_by.map(|u| u.as_uuid()),
                decided_at: Some(decided_at),
            },
        }
    }
}

/// The Art. 33(3)(b) contact point a notification of the breach gives, and where it
/// comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactInEffectBody {
    /// `breach`: its own `contact_point`; `organisation_dpo` or `organisation_contact`:
    /// the organisation profile's DPO, or its contact e-mail and phone, because the
    /// breach names no contact point.
    #[schema(schema_with = one_of::<ContactSource>)]
    pub source: ContactSource,
    /// The name and contact details.
    pub contact: String,
}

impl From<ContactInEffect> for ContactInEffectBody {
    fn from(c: ContactInEffect) -> Self {
        Self {
            source: c.source,
            contact: c.contact,
        }
    }
}

/// What the register of processing activities says of the activities the breach names:
/// their categories of data subjects and of personal data and their processors. A new
/// breach's empty lists were filled from it; an edit is stored as sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct FromRegisterBody {
    pub data_subject_categories: Vec<String>,
    pub data_categories: Vec<String>,
    pub processor_ids: Vec<Uuid>,
}

impl From<FromRegister> for FromRegisterBody {
    fn from(r: FromRegister) -> Self {
        Self {
            data_subject_categories: r.data_subject_categories,
            data_categories: r.data_categories,
            processor_ids: r.processor_ids.iter().map(|p| p.as_uuid()).collect(),
        }
    }
}

/// Where the breach stands, its deadline and the decisions recorded (read-only; moved
/// by the breach's actions).
#[derive(Debug, Serialize, ToSchema)]
pub struct BreachStateBody {
    /// Per organisation and year of awareness (UTC): `BR-2027-0001`; given when the
    /// breach is recorded, never reused, kept when the awareness time is corrected.
    pub reference: String,
    #[schema(schema_with = one_of::<BreachStatus>)]
    pub status: BreachStatus,
    /// `became_aware_at` + 72 hours of absolute time (Art. 33(1)), in UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// The same deadline in UTC and in the organisation profile's `time_zone` (as of the
    /// breach's last write).
    pub authority_deadline_local: LocalInstantBody,
    /// Whole hours left before the deadline: now while the authority decision is open,
    /// at the first notification once notified; `null` when late or decided not to notify.
    pub hours_left: Option<i64>,
    /// Whole hours after the deadline (rounded up), counted the same way.
    pub hours_late: Option<i64>,
    /// The authority decision is still open and the deadline has passed.
    pub overdue: bool,
    /// Notified by the deadline (`null` until notified).
    pub notified_in_time: Option<bool>,
    pub risk: Option<RiskAssessmentBody>,
    pub notifications: Vec<NotificationPhaseBody>,
    pub not_notified: Option<NotNotifiedBody>,
    pub communication: Option<SubjectCommunicationBody>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<Uuid>,
    pub created_by: Option<Uuid>,
    /// The contact point a notification gives: the breach's own, else the organisation
    /// profile's (as of the breach's last write); `null` when neither names one.
    pub contact_point_in_effect: Option<ContactInEffectBody>,
    /// What the processing activities the breach names say of it (as of its last write).
    pub from_register: FromRegisterBody,
    /// What the record still lacks: Art. 33(3) items (absent, or still to follow after
    /// the latest phase; the contact point may be the profile's), `risk_assessment`, and
    /// `subject_communication` for a high risk.
    #[schema(schema_with = gaps_schema)]
    pub missing: Vec<BreachGap>,
}

impl BreachStateBody {
    /// The body of `s` as of `now` (the hours and `overdue` are counted at read time).
    pub fn at(s: BreachState, now: OffsetDateTime) -> Self {
        let counted_at = match (s.status.awaits_decision(), s.notified_at()) {
            (true, _) => Some(now),
            (false, Some(at)) => Some(at),
            (false, None) => None,
        };
        let standing = counted_at.map(|at| standing(s.authority_deadline, at));
        let (hours_left, hours_late) = match standing {
            Some(DeadlineStanding::HoursLeft(h)) => (Some(h), None),
            Some(DeadlineStanding::HoursLate(h)) => (None, Some(h)),
            None => (None, None),
        };
        Self {
            overdue: s.overdue_at(now),
            notified_in_time: s.notified_in_time(),
            reference: s.reference,
            status: s.status,
            authority_deadline_local: s
                .authority_deadline_local
                .unwrap_or_else(|| {
                    let utc = s.authority_deadline.to_offset(time::UtcOffset::UTC);
                    LocalInstant {
                        utc,
                        local: utc,
                        zone: TimeZoneName::utc(),
                    }
                })
                .into(),
            authority_deadline: s.authority_deadline,
            hours_left,
            hours_late,
            risk: s.risk.map(|r| RiskAssessmentBody {
                level: r.level,
                reasoning: r.reasoning,
                assessed_by: r.assessed_by.map(|u| u.as_uuid()),
                assessed_at: r.assessed_at,
            }),
            notifications: s.notifications.into_iter().map(Into::into).collect(),
            not_notified: s.not_notified.map(|d| NotNotifiedBody {
                reasoning: d.reasoning,
                decided_by: d.decided_by.map(|u| u.as_uuid()),
                decided_at: d.decided_at,
            }),
            communication: s.communication.map(Into::into),
            closed_at: s.closed_at,
            closed_by: s.closed_by.map(|u| u.as_uuid()),
            created_by: s.created_by.map(|u| u.as_uuid()),
            contact_point_in_effect: s.contact_point_in_effect.map(Into::into),
            from_register: s.from_register.into(),
            missing: s.missing,
        }
    }
}

impl RecordBodies for Breaches {
    const BODY_NAME: &'static str = "BreachBody";
    const BODY_DESCRIPTION: &'static str = "A personal-data breach: what a user edits, the Art. 33(1) deadline and where it stands, the decisions recorded (read-only) and what the record still lacks.";
    const LIST_NAME: &'static str = "BreachList";
    const LIST_DESCRIPTION: &'static str = "A page of personal-data breaches.";
    type FieldsBody = BreachFieldsBody;
    type DerivedBody = BreachStateBody;

    fn bodies(fields: BreachFields, state: BreachState) -> (BreachFieldsBody, BreachStateBody) {
        (
            fields.into(),
            BreachStateBody::at(state, OffsetDateTime::now_utc()),
        )
    }
}

/// A stored breach.
pub type BreachBody = RecordBody<Breaches>;

/// A page of breaches.
pub type BreachList = RecordList<Breaches>;

// ------------------------------------------------------------------ actions

/// `POST .../assess`: the risk to the rights and freedoms of natural persons.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"risk": "high_risk", "reasoning": "Unencrypted contact and bank data of 1,200 customers"}))]
pub struct AssessBody {
    #[schema(schema_with = one_of::<RiskLevel>)]
    pub risk: RiskLevel,
    pub reasoning: String,
}

/// `POST .../notify-authority`: one phase of the notification (Art. 33(4)). The first
/// phase after the deadline needs `delay_reasons` (Art. 33(1)).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sent_at": "2027-03-07T15:00:00Z", "authority_reference": "LDI-2027-113",
    "content": "Initial notification via the authority's online form", "to_follow": ["approximate_records"]}))]
pub struct NotifyAuthorityBody {
    /// When the phase was sent. Default: now. Not in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// The reference the authority gave.
    #[serde(default)]
    pub authority_reference: Option<String>,
    /// What this phase told the authority, or added.
    pub content: String,
    /// The Art. 33(3) items still to follow.
    #[serde(default)]
    #[schema(schema_with = gaps_schema)]
    pub to_follow: Vec<BreachGap>,
    /// Why the notification comes after the 72 hours (required then, Art. 33(1)).
    #[serde(default)]
    pub delay_reasons: Option<String>,
}

/// `POST .../decide-not-to-notify`: only for a breach assessed `no_risk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reasoning": "The lost file was encrypted with a key that was not compromised"}))]
pub struct DecideNotToNotifyBody {
    pub reasoning: String,
}

/// `POST .../communicate-to-subjects`: the communication to the data subjects (date,
/// channel, content reference), or the ground of Art. 34(3) not to communicate with the
/// reasoning.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "communicated", "communicated_on": "2027-03-08",
    "channel": "E-mail to each customer", "content_reference": "DMS 2027/118"}))]
pub struct CommunicateToSubjectsBody {
    pub decision: Art34Choice,
    /// For `communicated`. Default: today.
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub communicated_on: Option<Date>,
    /// For `communicated`: how (e-mail, letter, public notice).
    #[serde(default)]
    pub channel: Option<String>,
    /// For `communicated`: where the text sent is kept.
    #[serde(default)]
    pub content_reference: Option<String>,
    /// For `not_communicated`: the Art. 34(3) ground.
    #[serde(default)]
    #[schema(schema_with = one_of_or_null::<NoCommunicationGround>)]
    pub ground: Option<NoCommunicationGround>,
    /// For `not_communicated`: why the ground applies.
    #[serde(default)]
    pub reasoning: Option<String>,
}
