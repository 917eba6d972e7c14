//! The bodies of the breaches' register export and of the Art. 33(3) notification draft.

use aura_breaches::{
    BreachGap, BreachKind, BreachStatus, NoCommunicationGround, RiskLevel,
    draft::{AffectedActivity, AffectedProcessor, Controller, NotificationDraft, Timeline},
    export::{Art34Outcome, AuthorityDecision, BreachExport, ExportRow, Timeliness},
};
use aura_gdpr_registers::text::CountryCode;
use aura_shared_kernel::date::iso_date;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    breaches::{ContactInEffectBody, NotificationPhaseBody},
    list_of, one_of, one_of_or_null, optional_country_code,
    registers::ContactBody,
};

/// One breach of the register export.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreachExportRowBody {
    pub id: Uuid,
    /// `BR-2027-0001`: per organisation and year of awareness.
    pub reference: String,
    pub title: String,
    #[schema(schema_with = list_of::<BreachKind>)]
    pub kinds: Vec<BreachKind>,
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    /// `became_aware_at + 72 h` (Art. 33(1)).
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// When the first phase of the notification was sent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub notified_at: Option<OffsetDateTime>,
    /// on_time or late once notified; pending or overdue while the decision is open;
    /// not_required after the decision not to notify.
    #[schema(schema_with = one_of::<Timeliness>)]
    pub timeliness: Timeliness,
    /// Started hours past the deadline: of the notification when late, of the export
    /// when overdue.
    pub hours_late: Option<i64>,
    /// Why the notification came late (Art. 33(1)).
    pub delay_reasons: Option<String>,
    /// The phases of the notification (Art. 33(4)).
    pub notification_phases: usize,
    pub authority_references: Vec<String>,
    pub approximate_subjects: Option<i64>,
    pub approximate_records: Option<i64>,
    #[schema(schema_with = one_of_or_null::<RiskLevel>)]
    pub risk: Option<RiskLevel>,
    pub risk_reasoning: Option<String>,
    #[schema(schema_with = one_of::<AuthorityDecision>)]
    pub authority_decision: AuthorityDecision,
    pub not_notified_reasoning: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_notified_at: Option<OffsetDateTime>,
    /// The Art. 34 decision.
    #[schema(schema_with = one_of_or_null::<Art34Outcome>)]
    pub subjects: Option<Art34Outcome>,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub subjects_communicated_on: Option<Date>,
    #[schema(schema_with = one_of_or_null::<NoCommunicationGround>)]
    pub subjects_not_communicated_ground: Option<NoCommunicationGround>,
    pub subjects_not_communicated_reasoning: Option<String>,
    #[schema(schema_with = one_of::<BreachStatus>)]
    pub status: BreachStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub drill: bool,
}

impl From<ExportRow> for BreachExportRowBody {
    fn from(r: ExportRow) -> Self {
        Self {
            id: r.id.as_uuid(),
            reference: r.reference,
            title: r.title,
            kinds: r.kinds,
            became_aware_at: r.became_aware_at,
            authority_deadline: r.authority_deadline,
            notified_at: r.notified_at,
            timeliness: r.timeliness,
            hours_late: r.hours_late,
            delay_reasons: r.delay_reasons,
            notification_phases: r.notification_phases,
            authority_references: r.authority_references,
            approximate_subjects: r.approximate_subjects,
            approximate_records: r.approximate_records,
            risk: r.risk,
            risk_reasoning: r.risk_reasoning,
            authority_decision: r.authority_decision,
            not_notified_reasoning: r.not_notified_reasoning,
            not_notified_at: r.not_notified_at,
            subjects: r.subjects,
            subjects_communicated_on: r.subjects_communicated_on,
            subjects_not_communicated_ground: r.subjects_not_communicated_ground,
            subjects_not_communicated_reasoning: r.subjects_not_communicated_reasoning,
            status: r.status,
            closed_at: r.closed_at,
            drill: r.drill,
        }
    }
}

/// The register of breaches for a period (Art. 33(5)).
#[derive(Debug, Serialize, ToSchema)]
pub struct BreachExportBody {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    /// true: the export of the drills (exercises) instead of the register.
    pub drill: bool,
    /// Earliest awareness first.
    pub breaches: Vec<BreachExportRowBody>,
}

impl From<BreachExport> for BreachExportBody {
    fn from(e: BreachExport) -> Self {
        Self {
            generated_at: e.generated_at,
            from: e.from,
            to: e.to,
            drill: e.drill,
            breaches: e.breaches.into_iter().map(Into::into).collect(),
        }
    }
}

/// The controller as the organisation profile names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftControllerBody {
    pub legal_name: String,
    pub address: Option<String>,
    #[schema(schema_with = optional_country_code)]
    pub country: Option<CountryCode>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub eu_representative: Option<ContactBody>,
}

impl From<Controller> for DraftControllerBody {
    fn from(c: Controller) -> Self {
        Self {
            legal_name: c.legal_name,
            address: c.address,
            country: c.country,
            contact_email: c.contact_email,
            contact_phone: c.contact_phone,
            eu_representative: c.eu_representative.map(Into::into),
        }
    }
}

/// Art. 33(3)(a): the nature of the breach, the categories and approximate numbers of
/// data subjects and of personal data records concerned.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftNatureBody {
    pub description: Option<String>,
    #[schema(schema_with = list_of::<BreachKind>)]
    pub kinds: Vec<BreachKind>,
    pub discovery: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_from: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_to: Option<OffsetDateTime>,
    pub data_subject_categories: Vec<String>,
    pub approximate_subjects: Option<i64>,
    pub data_categories: Vec<String>,
    pub approximate_records: Option<i64>,
}

/// Art. 33(3)(b): the breach's contact point and the organisation's DPO.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftContactBody {
    pub contact_point: Option<String>,
    pub dpo: Option<ContactBody>,
    /// The one the notification gives: the breach's own, else the organisation
    /// profile's DPO or contact (`source` says which); `null` when none is known.
    pub in_effect: Option<ContactInEffectBody>,
}

/// A processing activity the breach concerns, from the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftActivityBody {
    pub id: Uuid,
    pub name: String,
    /// The descriptions of its purposes.
    pub purposes: Vec<String>,
}

impl From<AffectedActivity> for DraftActivityBody {
    fn from(a: AffectedActivity) -> Self {
        Self {
            id: a.id.as_uuid(),
            name: a.name,
            purposes: a.purposes,
        }
    }
}

/// A processor the breach concerns, from the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftProcessorBody {
    pub id: Uuid,
    pub name: String,
    #[schema(schema_with = optional_country_code)]
    pub country: Option<CountryCode>,
}

impl From<AffectedProcessor> for DraftProcessorBody {
    fn from(p: AffectedProcessor) -> Self {
        Self {
            id: p.id.as_uuid(),
            name: p.name,
            country: p.country,
        }
    }
}

/// The clock and the notification's phases so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftTimelineBody {
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// Whole hours left to the deadline; `null` once it has passed.
    pub hours_left: Option<i64>,
    /// Started hours past the deadline; `null` before it.
    pub hours_late: Option<i64>,
    /// A first notification sent now must give the reasons for the delay (Art. 33(1)):
    /// the decision is open and the deadline has passed.
    pub delay_reasons_required: bool,
    /// As in the register export: once notified, measured to the first phase.
    #[schema(schema_with = one_of::<Timeliness>)]
    pub timeliness: Timeliness,
    /// Started hours past the deadline: of the notification when late, of the draft
    /// when overdue.
    pub timeliness_hours_late: Option<i64>,
    #[schema(schema_with = one_of::<AuthorityDecision>)]
    pub authority_decision: AuthorityDecision,
    /// The documented reasoning of a decision not to notify (Art. 33(5)).
    pub not_notified_reasoning: Option<String>,
    pub phases: Vec<NotificationPhaseBody>,
}

impl From<Timeline> for DraftTimelineBody {
    fn from(t: Timeline) -> Self {
        Self {
            became_aware_at: t.became_aware_at,
            authority_deadline: t.authority_deadline,
            hours_left: t.hours_left,
            hours_late: t.hours_late,
            delay_reasons_required: t.delay_reasons_required,
            timeliness: t.timeliness,
            timeliness_hours_late: t.timeliness_hours_late,
            authority_decision: t.authority_decision,
            not_notified_reasoning: t.not_notified_reasoning,
            phases: t.phases.into_iter().map(Into::into).collect(),
        }
    }
}

/// The draft of the notification to the supervisory authority (Art. 33(3)), assembled
/// from the breach and the register. It is read, never stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDraftBody {
    pub breach_id: Uuid,
    /// `BR-2027-0001`.
    pub reference: String,
    pub title: String,
    #[schema(schema_with = one_of::<BreachStatus>)]
    pub status: BreachStatus,
    pub drill: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// `null` while the organisation profile is not filled in.
    pub controller: Option<DraftControllerBody>,
    pub nature: DraftNatureBody,
    pub contact: DraftContactBody,
    /// Art. 33(3)(c): the likely consequences.
    pub consequences: Option<String>,
    /// Art. 33(3)(d): the measures taken or proposed.
    pub measures: Option<String>,
    #[schema(schema_with = one_of_or_null::<RiskLevel>)]
    pub risk: Option<RiskLevel>,
    pub risk_reasoning: Option<String>,
    pub processing_activities: Vec<DraftActivityBody>,
    pub processors: Vec<DraftProcessorBody>,
    pub timeline: DraftTimelineBody,
    /// What the record still lacks (the breach's `missing`).
    #[schema(schema_with = list_of::<BreachGap>)]
    pub missing: Vec<BreachGap>,
    /// The items the latest phase marked to follow (Art. 33(4)).
    #[schema(schema_with = list_of::<BreachGap>)]
    pub to_follow: Vec<BreachGap>,
}

impl From<NotificationDraft> for NotificationDraftBody {
    fn from(d: NotificationDraft) -> Self {
        let n = d.nature;
        Self {
            breach_id: d.breach_id.as_uuid(),
            reference: d.reference,
            title: d.title,
            status: d.status,
            drill: d.drill,
            generated_at: d.generated_at,
            controller: d.controller.map(Into::into),
            nature: DraftNatureBody {
                description: n.description,
                kinds: n.kinds,
                discovery: n.discovery,
                occurred_from: n.occurred_from,
                occurred_to: n.occurred_to,
                data_subject_categories: n.data_subject_categories,
                approximate_subjects: n.approximate_subjects,
                data_categories: n.data_categories,
                approximate_records: n.approximate_records,
            },
            contact: DraftContactBody {
                contact_point: d.contact.contact_point,
                dpo: d.contact.dpo.map(Into::into),
                in_effect: d.contact.in_effect.map(Into::into),
            },
            consequences: d.consequences,
            measures: d.measures,
            risk: d.risk,
            risk_reasoning: d.risk_reasoning,
            processing_activities: d
                .processing_activities
                .into_iter()
                .map(Into::into)
                .collect(),
            processors: d.processors.into_iter().map(Into::into).collect(),
            timeline: d.timeline.into(),
            missing: d.missing,
            to_follow: d.to_follow,
        }
    }
}
