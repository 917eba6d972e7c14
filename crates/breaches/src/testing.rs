//! A breach as the export's and the draft's tests build it (unit tests only).

use aura_records::Id;
use aura_shared_kernel::TenantId;
use time::{OffsetDateTime, macros::datetime};

use crate::{
    breach::{
        Breach, BreachFields, BreachKind, BreachState, NotificationPhase, RiskAssessment, RiskLevel,
    },
    rules::BreachRules,
};

/// The fields of a breach the organisation became aware of at `aware`, as a user enters
/// them (not yet validated).
pub fn fields(aware: OffsetDateTime) -> BreachFields {
    BreachFields {
        title: "Laptop stolen".into(),
        description: Some("An unencrypted laptop was stolen from a car.".into()),
        discovery: None,
        became_aware_at: aware,
        occurred_from: None,
        occurred_to: None,
        kinds: vec![BreachKind::Confidentiality],
        data_subject_categories: vec!["customers".into()],
        approximate_subjects: Some(1_200),
        data_categories: vec!["contact data".into()],
        approximate_records: Some(1_500),
        activity_ids: vec![],
        processor_ids: vec![],
        consequences: None,
        measures: None,
        contact_point: None,
        drill: false,
        owner_id: None,
        assignee_id: None,
    }
}

/// A breach record of `fields` in `state`, stored at the awareness instant.
pub fn record(fields: BreachFields, state: BreachState) -> Breach {
    let at = fields.became_aware_at;
    Breach::first_version(Id::generate(), TenantId::generate(), fields, state, at)
}

/// A validated breach the organisation became aware of at `aware`, with its derived
/// deadline and gaps.
pub fn breach(title: &str, aware: OffsetDateTime) -> Breach {
    let fields = BreachFields {
        title: title.into(),
        ..fields(aware)
    }
    .validated()
    .expect("valid");
    let state = BreachRules::derived(&fields, BreachState::default());
    record(fields, state)
}

/// `breach` assessed at `level` and its state re-derived.
pub fn assessed(mut breach: Breach, level: RiskLevel) -> Breach {
    breach.derived.status = crate::BreachStatus::Assessed;
    breach.derived.risk = Some(RiskAssessment {
        level,
        reasoning: "unencrypted customer data".into(),
        assessed_by: None,
        assessed_at: datetime!(2027-03-05 10:00 UTC),
    });
    rederive(breach)
}

/// `breach` with a notification phase sent at `sent_at`.
pub fn notified(
    mut breach: Breach,
    sent_at: OffsetDateTime,
    delay_reasons: Option<&str>,
    to_follow: Vec<crate::BreachGap>,
) -> Breach {
    breach.derived.status = crate::BreachStatus::Notified;
    breach.derived.notifications.push(NotificationPhase {
        sent_at,
        authority_reference: Some(format!("SA-{}", breach.derived.notifications.len() + 1)),
        content: "initial notification".into(),
        to_follow,
        delay_reasons: delay_reasons.map(Into::into),
        recorded_by: None,
    });
    rederive(breach)
}

pub fn rederive(mut breach: Breach) -> Breach {
    breach.derived = BreachRules::derived(&breach.fields, breach.derived);
    breach
}
