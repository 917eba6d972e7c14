//! The draft of the notification to the supervisory authority (Art. 33(3)), assembled
//! from the breach's record and the register: (a) the nature of the breach with the
//! categories and approximate numbers of data subjects and records, (b) the DPO or other
//! contact point (the record's, else the organisation profile's DPO or contact), (c) the likely
//! consequences, (d) the measures taken or proposed; with the controller (the
//! organisation profile), the processing activities and processors the breach
//! concerns, the timeline so far, and what the record still lacks or a phase marked "to
//! follow" (Art. 33(4)). A draft is read, never stored: it changes nothing.

use aura_audit::RequestContext;
use aura_gdpr_registers::{
    Contact, OrganisationProfile, ProcessingActivity, Processor, Registers, text::CountryCode,
};
use aura_records::{RecordUseCases, UseCaseError};
use aura_shared_kernel::TenantScope;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    breach::{
        Breach, BreachGap, BreachId, BreachKind, BreachState, BreachStatus, Breaches,
        NotificationPhase, RiskLevel, gaps,
    },
    clock::{DeadlineStanding, standing},
    defaults::{ContactInEffect, contact_in_effect, present},
    export::{AuthorityDecision, ExportRow, Timeliness},
};

/// The controller as the organisation profile names it (Art. 33(3) asks for the
/// controller's identity through the DPO or contact point; authorities' forms ask for
/// the controller too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Controller {
    pub legal_name: String,
    pub address: Option<String>,
    pub country: Option<CountryCode>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub eu_representative: Option<Contact>,
}

/// Art. 33(3)(a): the nature of the breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nature {
    pub description: Option<String>,
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

/// Art. 33(3)(b): the contact point the record names and the organisation's DPO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactPoint {
    /// The breach's own contact point.
    pub contact_point: Option<String>,
    /// The DPO of the organisation profile.
    pub dpo: Option<Contact>,
    /// The one the notification gives: the breach's own, else the profile's DPO or
    /// contact (its `source` says which).
    pub in_effect: Option<ContactInEffect>,
}

/// A processing activity the breach concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedActivity {
    pub id: aura_gdpr_registers::ActivityId,
    pub name: String,
    pub purposes: Vec<String>,
}

/// A processor the breach concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedProcessor {
    pub id: aura_gdpr_registers::ProcessorId,
    pub name: String,
    pub country: Option<CountryCode>,
}

/// The clock and the phases so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// Whole hours left to the deadline as of the draft (`None` once it has passed).
    pub hours_left: Option<i64>,
    /// Started hours past the deadline as of the draft (`None` before it).
    pub hours_late: Option<i64>,
    /// Whether a first notification sent now must carry the reasons for the delay
    /// (Art. 33(1)): no decision yet and past the deadline.
    pub delay_reasons_required: bool,
    /// The breach register's measure: once notified, against the first phase's
    /// `sent_at`, not the draft's time.
    pub timeliness: Timeliness,
    /// Started hours past the deadline: to the first phase when late, to the draft when
    /// overdue; `None` otherwise.
    pub timeliness_hours_late: Option<i64>,
    pub authority_decision: AuthorityDecision,
    /// Art. 33(5): the documented reasoning of a decision not to notify.
    pub not_notified_reasoning: Option<String>,
    pub phases: Vec<NotificationPhase>,
}

/// The Art. 33(3) content of a breach's notification, as far as the record holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationDraft {
    pub breach_id: BreachId,
    /// `BR-2027-0001`.
    pub reference: String,
    pub title: String,
    pub status: BreachStatus,
    pub drill: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// `None` while the organisation profile is not filled in.
    pub controller: Option<Controller>,
    pub nature: Nature,
    pub contact: ContactPoint,
    /// Art. 33(3)(c).
    pub consequences: Option<String>,
    /// Art. 33(3)(d).
    pub measures: Option<String>,
    pub risk: Option<RiskLevel>,
    pub risk_reasoning: Option<String>,
    pub processing_activities: Vec<AffectedActivity>,
    pub processors: Vec<AffectedProcessor>,
    pub timeline: Timeline,
    /// What the record still lacks (the breach's `missing`, with the contact point as the
    /// profile gives it now).
    pub missing: Vec<BreachGap>,
    /// The Art. 33(3) items the latest phase marked to follow (Art. 33(4)).
    pub to_follow: Vec<BreachGap>,
}

/// The draft of `breach` with the organisation's profile and the activities and
/// processors of the register (those the breach names are taken, in its order), on `now`.
pub fn build_draft(
    breach: &Breach,
    organisation: Option<&OrganisationProfile>,
    activities: &[ProcessingActivity],
    processors: &[Processor],
    now: OffsetDateTime,
) -> NotificationDraft {
    let (f, d) = (&breach.fields, &breach.derived);
    // One measure of timeliness for the register and the notification.
    let register = ExportRow::of(breach, now);
    let (hours_left, hours_late) = match standing(d.authority_deadline, now) {
        DeadlineStanding::HoursLeft(h) => (Some(h), None),
        DeadlineStanding::HoursLate(h) => (None, Some(h)),
    };
    // The profile as it is now: the contact in effect, and so what is missing, may have
    // changed since the breach's last write.
    let contact = contact_in_effect(f, organisation);
    let missing = gaps(
        f,
        &BreachState {
            contact_point_in_effect: contact.clone(),
            ..d.clone()
        },
    );
    let activity = |id| activities.iter().find(|a| a.id == id);
    let processor = |id| processors.iter().find(|p| p.id == id);
    NotificationDraft {
        breach_id: breach.id,
        reference: d.reference.clone(),
        title: f.title.clone(),
        status: d.status,
        drill: f.drill,
        generated_at: now,
        controller: organisation.map(|o| Controller {
            legal_name: o.legal_name.clone(),
            address: o.address.clone(),
            country: o.country,
            contact_email: o.contact_email.clone(),
            contact_phone: o.contact_phone.clone(),
            eu_representative: o.eu_representative.clone(),
        }),
        nature: Nature {
            description: f.description.clone(),
            kinds: f.kinds.clone(),
            discovery: f.discovery.clone(),
            occurred_from: f.occurred_from,
            occurred_to: f.occurred_to,
            data_subject_categories: f.data_subject_categories.clone(),
            approximate_subjects: f.approximate_subjects,
            data_categories: f.data_categories.clone(),
            approximate_records: f.approximate_records,
        },
        contact: ContactPoint {
            contact_point: f.contact_point.clone(),
            dpo: organisation.and_then(|o| o.dpo.clone()),
            in_effect: contact,
        },
        consequences: f.consequences.clone(),
        measures: f.measures.clone(),
        risk: d.risk_level(),
        risk_reasoning: d.risk.as_ref().map(|r| r.reasoning.clone()),
        processing_activities: (f.activity_ids.iter().copied())
            .filter_map(activity)
            .map(|a| AffectedActivity {
                id: a.id,
                name: a.fields.name.clone(),
                purposes: (a.fields.purposes.iter())
                    .map(|p| p.description.clone())
                    .collect(),
            })
            .collect(),
        processors: (f.processor_ids.iter().copied())
            .filter_map(processor)
            .map(|p| AffectedProcessor {
                id: p.id,
                name: p.fields.name.clone(),
                country: p.fields.country,
            })
            .collect(),
        timeline: Timeline {
            became_aware_at: f.became_aware_at,
            authority_deadline: d.authority_deadline,
            hours_left,
            hours_late,
            delay_reasons_required: register.timeliness == Timeliness::Overdue,
            timeliness: register.timeliness,
            timeliness_hours_late: register.hours_late,
            authority_decision: register.authority_decision,
            not_notified_reasoning: register.not_notified_reasoning,
            phases: d.notifications.clone(),
        },
        missing,
        to_follow: (d.notifications.last())
            .map(|p| p.to_follow.clone())
            .unwrap_or_default(),
    }
}

/// The draft of breach `id`: the caller reads the breach (viewers may), the organisation
/// profile and the activities and processors it names, all in the caller's tenant.
pub async fn notification_draft(
    breaches: &RecordUseCases<Breaches>,
    registers: &Registers,
    scope: &TenantScope,
    id: BreachId,
    now: OffsetDateTime,
    ctx: &RequestContext,
) -> Result<NotificationDraft, UseCaseError> {
    let breach = breaches.get(scope, id, ctx).await?;
    let organisation = registers.organisation(scope, ctx).await?.map(|o| o.profile);
    let (activities, processors) = affected(registers, scope, &breach).await?;
    Ok(build_draft(
        &breach,
        organisation.as_ref(),
        &activities,
        &processors,
        now,
    ))
}

/// The activities and processors `breach` names, read in the caller's tenant (one
/// removed since is left out).
pub async fn affected(
    registers: &Registers,
    scope: &TenantScope,
    breach: &Breach,
) -> Result<(Vec<ProcessingActivity>, Vec<Processor>), UseCaseError> {
    let f = &breach.fields;
    let activities = present(registers.activity_records().store(), scope, &f.activity_ids);
    let processors = present(
        registers.processor_records().store(),
        scope,
        &f.processor_ids,
    );
    Ok((activities.await?, processors.await?))
}

#[cfg(test)]
mod tests {
    use aura_records::Record;
    use time::macros::datetime;

    use super::*;
    use crate::testing::{assessed, breach, notified};

    fn record<K: aura_records::RecordKind>(fields: serde_json::Value) -> Record<K> {
        Record::of_json(fields, datetime!(2027-01-01 00:00 UTC)).expect("fields")
    }

    fn register() -> (OrganisationProfile, Vec<ProcessingActivity>, Vec<Processor>) {
        let organisation: OrganisationProfile = serde_json::from_value(serde_json::json!({
            "legal_name": "Acme GmbH", "address": "Hauptstr. 1, Berlin", "country": "DE",
            "contact_email": "privacy@acme.example", "contact_phone": null,
            "dpo": {"name": "Dana Schmidt", "email": "dpo@acme.example", "phone": null, "address": null},
            "dpo_not_required_reason": null, "eu_representative": null
        }))
        .expect("profile");
        let activity = |name: &str, purpose: &str| {
            record::<aura_gdpr_registers::Activities>(serde_json::json!({
                "name": name, "description": null, "controller_name": null,
                "controller_contact": null, "status": "active",
                "purposes": [{"description": purpose, "lawful_basis": "contract", "legitimate_interest": null}]
            }))
        };
        let processor = record::<aura_gdpr_registers::Processors>(serde_json::json!({
            "name": "Cloud Host", "contact_name": null, "contact_email": null, "country": "IE",
            "services": null, "transfer_mechanism": null, "dpa_status": "signed"
        }));
        (
            organisation,
            vec![
                activity("Customer accounts", "Running customer accounts"),
                activity("Newsletter", "Sending the newsletter"),
            ],
            vec![processor],
        )
    }

    #[test]
    fn the_draft_assembles_the_art_33_3_content_from_the_record_and_the_register() {
        let (organisation, activities, processors) = register();
        let mut b = breach("Laptop stolen", datetime!(2027-03-01 09:00 UTC));
        b.fields.activity_ids = vec![activities[1].id, activities[0].id];
        b.fields.processor_ids = vec![processors[0].id];
        b.fields.consequences = Some("phishing against customers".into());
        let b = notified(
            assessed(b, RiskLevel::Risk),
            datetime!(2027-03-03 09:00 UTC),
            None,
            vec![BreachGap::Measures],
        );
        let now = datetime!(2027-03-03 10:00 UTC);
        let draft = build_draft(&b, Some(&organisation), &activities, &processors, now);

        let controller = draft.controller.expect("controller");
        assert_eq!(controller.legal_name, "Acme GmbH");
        assert_eq!(
            draft.contact.dpo.map(|d| d.name).as_deref(),
            Some("Dana Schmidt")
        );
        assert_eq!(draft.nature.approximate_subjects, Some(1_200));
        assert_eq!(draft.nature.data_categories, ["contact data"]);
        assert_eq!(
            draft.consequences.as_deref(),
            Some("phishing against customers")
        );
        let names: Vec<&str> = (draft.processing_activities.iter())
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["Newsletter", "Customer accounts"],
            "the breach's order"
        );
        assert_eq!(
            draft.processing_activities[0].purposes,
            ["Sending the newsletter"]
        );
        assert_eq!(draft.processors[0].name, "Cloud Host");
        assert_eq!(draft.timeline.phases.len(), 1);
        assert_eq!(draft.timeline.hours_left, Some(23));
        assert!(!draft.timeline.delay_reasons_required);
        assert_eq!(draft.timeline.timeliness, Timeliness::OnTime);
        assert_eq!(draft.to_follow, [BreachGap::Measures]);
        assert_eq!(
            draft.contact.in_effect.map(|c| (c.source, c.contact)),
            Some((
                crate::ContactSource::OrganisationDpo,
                "Dana Schmidt (data protection officer), dpo@acme.example".to_owned()
            )),
            "the breach names no contact point: the profile's DPO"
        );
        assert_eq!(
            draft.missing,
            [BreachGap::Measures],
            "the contact point is the DPO's"
        );
    }

    #[test]
    fn an_unnotified_breach_past_its_deadline_needs_reasons_for_the_delay() {
        let b = breach("Late", datetime!(2027-03-01 09:00 UTC));
        let draft = build_draft(&b, None, &[], &[], datetime!(2027-03-04 10:30 UTC));
        assert!(draft.controller.is_none() && draft.contact.dpo.is_none());
        assert!(draft.contact.in_effect.is_none());
        assert!(draft.missing.contains(&BreachGap::ContactPoint));
        assert_eq!(
            (draft.timeline.hours_left, draft.timeline.hours_late),
            (None, Some(2))
        );
        assert!(draft.timeline.delay_reasons_required);
        assert_eq!(
            (
                draft.timeline.timeliness,
                draft.timeline.timeliness_hours_late
            ),
            (Timeliness::Overdue, Some(2))
        );
    }

    #[test]
    fn a_breach_notified_on_time_or_decided_not_to_notify_needs_no_reasons_for_a_delay() {
        let aware = datetime!(2027-03-01 09:00 UTC);
        let weeks_later = datetime!(2027-03-15 09:00 UTC);
        let on_time = notified(
            assessed(breach("On time", aware), RiskLevel::Risk),
            datetime!(2027-03-03 09:00 UTC),
            None,
            vec![],
        );
        let t = build_draft(&on_time, None, &[], &[], weeks_later).timeline;
        assert_eq!(
            (t.timeliness, t.timeliness_hours_late),
            (Timeliness::OnTime, None)
        );
        assert!(!t.delay_reasons_required);

        let mut declined = assessed(breach("Declined", aware), RiskLevel::NoRisk);
        declined.derived.status = BreachStatus::NotNotified;
        declined.derived.not_notified = Some(crate::breach::NotNotifiedDecision {
            reasoning: "encrypted device".into(),
            decided_by: None,
            decided_at: datetime!(2027-03-02 09:00 UTC),
        });
        let t = build_draft(&declined, None, &[], &[], weeks_later).timeline;
        assert_eq!(t.timeliness, Timeliness::NotRequired);
        assert_eq!(t.authority_decision, AuthorityDecision::NotNotified);
        assert_eq!(
            t.not_notified_reasoning.as_deref(),
            Some("encrypted device")
        );
        assert!(!t.delay_reasons_required, "no notification is owed");
    }
}
