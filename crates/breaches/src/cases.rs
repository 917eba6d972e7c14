//! The actions of a breach, each one [`RecordUseCases::act`] call: the kernel checks the
//! permission and the version, runs the action's rule on the stored breach, re-derives
//! the deadline and the gaps ([`crate::rules::BreachRules`]) and writes the change with
//! the action's own audit event. Closing needs the delete permission (admins, owners).

use aura_audit::{AuditAction, RequestContext};
use aura_records::{RecordKind, RecordUseCases, UseCaseError, Workflow};
use aura_shared_kernel::{Clock, TenantScope, ValidationErrors};
use std::sync::Arc;
use time::{Date, OffsetDateTime};

use crate::breach::{
    Breach, BreachGap, BreachId, BreachStatus, Breaches, InvalidTransition, NoCommunicationGround,
    NotNotifiedDecision, NotificationPhase, RiskAssessment, RiskLevel, SubjectCommunication,
    actions, line, optional_line, reasoning,
};

/// A phase of the notification to the authority as a user records it (Art. 33(4)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseSent {
    /// Default: now.
    pub sent_at: Option<OffsetDateTime>,
    pub authority_reference: Option<String>,
    /// What the phase told the authority, or added.
    pub content: String,
    /// The Art. 33(3) items still to follow.
    pub to_follow: Vec<BreachGap>,
    /// Required when the first phase is sent after the deadline (Art. 33(1)).
    pub delay_reasons: Option<String>,
}

/// The Art. 34 decision as a user records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Art34Decision {
    Communicated {
        /// Default: today.
        communicated_on: Option<Date>,
        channel: String,
        content_reference: String,
    },
    NotCommunicated {
        ground: NoCommunicationGround,
        reasoning: String,
    },
}

/// The breaches' use cases: the kernel's (create, read, list, replace) and the actions.
#[derive(Clone)]
pub struct BreachCases {
    records: RecordUseCases<Breaches>,
    clock: Arc<dyn Clock>,
}

fn field_error(field: &str, message: impl Into<String>) -> UseCaseError {
    ValidationErrors::single(field, message).into()
}

impl BreachCases {
    pub fn new(records: RecordUseCases<Breaches>, clock: Arc<dyn Clock>) -> Self {
        Self { records, clock }
    }

    /// The kernel's use cases of the register.
    pub fn records(&self) -> &RecordUseCases<Breaches> {
        &self.records
    }

    async fn act(
        &self,
        scope: &TenantScope,
        id: BreachId,
        version: i32,
        action: &AuditAction,
        ctx: &RequestContext,
        apply: impl FnOnce(&mut Breach) -> Result<(), UseCaseError> + Send,
    ) -> Result<Breach, UseCaseError> {
        self.records
            .act(scope, id, version, action, ctx, apply)
            .await
    }

    /// Records the risk assessment (Art. 33(1), 34(1)); an open breach becomes assessed.
    /// It may be assessed again until it is closed.
    pub async fn assess(
        &self,
        scope: &TenantScope,
        id: BreachId,
        version: i32,
        level: RiskLevel,
        why: &str,
        ctx: &RequestContext,
    ) -> Result<Breach, UseCaseError> {
        let why = reasoning("reasoning", why)?;
        let (now, by) = (self.clock.now(), scope.user_id());
        self.act(scope, id, version, &actions::ASSESSED, ctx, move |breach| {
            let state = &mut breach.derived;
            if state.status == BreachStatus::Closed {
                return Err(InvalidTransition {
                    from: state.status,
                    to: BreachStatus::Assessed,
                }
                .into());
            }
            if state.not_notified.is_some() && level != RiskLevel::NoRisk {
                // The decision not to notify rests on "unlikely to result in a risk"; a
                // reassessment that finds a risk would leave the record contradicting it.
                return Err(field_error(
                    "risk",
                    "Art. 33(1) GDPR: the breach was decided not to be notified as unlikely to result in a risk; a risk is notified to the supervisory authority, not recorded beside that decision",
                ));
            }
            if state.status == BreachStatus::Open {
                state.status.move_to(BreachStatus::Assessed)?;
            }
            state.risk = Some(RiskAssessment {
                level,
                reasoning: why,
                assessed_by: by,
                assessed_at: now,
            });
            Ok(())
        })
        .await
    }

    /// Records one phase of the notification to the supervisory authority (Art. 33(4)).
    /// The first phase after the deadline carries the reasons for the delay (Art. 33(1)).
    pub async fn notify_authority(
        &self,
        scope: &TenantScope,
        id: BreachId,
        version: i32,
        phase: PhaseSent,
        ctx: &RequestContext,
    ) -> Result<Breach, UseCaseError> {
        let (now, by) = (self.clock.now(), scope.user_id());
        let phase = validated_phase(phase, now)?;
        let action = &actions::AUTHORITY_NOTIFIED;
        self.act(scope, id, version, action, ctx, move |breach| {
            let sent_at = &phase.sent_at;
            if *sent_at < breach.fields.became_aware_at {
                return Err(field_error(
                    "sent_at",
                    "cannot be before the organisation became aware of the breach",
                ));
            }
            let state = &mut breach.derived;
            match state.notifications.last() {
                Some(last) if *sent_at < last.sent_at => {
                    return Err(field_error(
                        "sent_at",
                        "cannot be before the previous phase of the notification",
                    ));
                }
                Some(_) => {}
                None if *sent_at > state.authority_deadline && phase.delay_reasons.is_none() => {
                    return Err(field_error(
                        "delay_reasons",
                        "Art. 33(1) GDPR: a notification made after 72 hours is accompanied by the reasons for the delay",
                    ));
                }
                None => {}
            }
            let first = state.notifications.is_empty();
            state.status.move_to(BreachStatus::Notified)?;
            state.notifications.push(NotificationPhase {
                sent_at: phase.sent_at,
                authority_reference: phase.authority_reference,
                content: phase.content,
                to_follow: phase.to_follow,
                delay_reasons: if first { phase.delay_reasons } else { None },
                recorded_by: by,
            });
            Ok(())
        })
        .await
    }

    /// Records the decision not to notify the authority: only for a breach assessed as
    /// unlikely to result in a risk (Art. 33(1)), with the reasoning (Art. 33(5)).
    pub async fn decide_not_to_notify(
        &self,
        scope: &TenantScope,
        id: BreachId,
        version: i32,
        why: &str,
        ctx: &RequestContext,
    ) -> Result<Breach, UseCaseError> {
        let why = reasoning("reasoning", why)?;
        let (now, by) = (self.clock.now(), scope.user_id());
        let action = &actions::NOT_NOTIFIED;
        self.act(scope, id, version, action, ctx, move |breach| {
            let state = &mut breach.derived;
            match state.risk_level() {
                None if state.status.awaits_decision() => {
                    return Err(field_error(
                        "risk",
                        "Art. 33(1) GDPR: assess the risk before deciding not to notify",
                    ));
                }
                Some(RiskLevel::Risk | RiskLevel::HighRisk) => {
                    return Err(field_error(
                        "risk",
                        "Art. 33(1) GDPR: a breach assessed as likely to result in a risk is notified to the supervisory authority",
                    ));
                }
                _ => {}
            }
            state.status.move_to(BreachStatus::NotNotified)?;
            state.not_notified = Some(NotNotifiedDecision {
                reasoning: why,
                decided_by: by,
                decided_at: now,
            });
            Ok(())
        })
        .await
    }

    /// Records the communication to the data subjects (Art. 34(1), (2)) or the ground
    /// not to communicate (Art. 34(3)), once.
    pub async fn communicate_to_subjects(
        &self,
        scope: &TenantScope,
        id: BreachId,
        version: i32,
        decision: Art34Decision,
        ctx: &RequestContext,
    ) -> Result<Breach, UseCaseError> {
        let (now, by) = (self.clock.now(), scope.user_id());
        let today = now.date();
        let decision = match decision {
            Art34Decision::Communicated {
                communicated_on,
                channel,
                content_reference,
            } => {
                let on = communicated_on.unwrap_or(today);
                let mut e = ValidationErrors::default();
                if on > today {
                    e.push("communicated_on", "cannot be in the future");
                }
                let channel = e.collect(line("channel", &channel));
                let content = e.collect(line("content_reference", &content_reference));
                e.into_result()?;
                SubjectCommunication::Communicated {
                    communicated_on: on,
                    channel: channel.unwrap_or_default(),
                    content_reference: content.unwrap_or_default(),
                    recorded_by: by,
                }
            }
            Art34Decision::NotCommunicated {
                ground,
                reasoning: why,
            } => SubjectCommunication::NotCommunicated {
                ground,
                reasoning: reasoning("reasoning", &why)?,
                recorded_by: by,
                decided_at: now,
            },
        };
        let action = &actions::SUBJECTS_COMMUNICATED;
        self.act(scope, id, version, action, ctx, move |breach| {
            if let SubjectCommunication::Communicated {
                communicated_on, ..
            } = &decision
                && *communicated_on < breach.fields.became_aware_at.date()
            {
                return Err(field_error(
                    "communicated_on",
                    "cannot be before the organisation became aware of the breach",
                ));
            }
            let state = &mut breach.derived;
            if state.status == BreachStatus::Closed {
                return Err(UseCaseError::Conflict {
                    code: "invalid_transition",
                    message: "the breach is closed",
                });
            }
            if state.communication.is_some() {
                return Err(UseCaseError::Conflict {
                    code: "already_recorded",
                    message: "the Art. 34 decision of this breach is already recorded",
                });
            }
            state.communication = Some(decision);
            Ok(())
        })
        .await
    }

    /// Closes a breach whose authority decision is made (admins and owners). A high-risk
    /// breach needs its Art. 34 decision first.
    pub async fn close(
        &self,
        scope: &TenantScope,
        id: BreachId,
        version: i32,
        ctx: &RequestContext,
    ) -> Result<Breach, UseCaseError> {
        self.records.require(scope, Breaches::DELETE, ctx).await?;
        let (now, by) = (self.clock.now(), scope.user_id());
        self.act(scope, id, version, &actions::CLOSED, ctx, move |breach| {
            let state = &mut breach.derived;
            if state.risk_level() == Some(RiskLevel::HighRisk) && state.communication.is_none() {
                return Err(field_error(
                    "communication",
                    "Art. 34 GDPR: a high-risk breach is closed only after the data subjects were told or the ground not to tell them (Art. 34(3)) was recorded",
                ));
            }
            state.status.move_to(BreachStatus::Closed)?;
            state.closed_at = Some(now);
            state.closed_by = by;
            Ok(())
        })
        .await
    }
}

/// A phase with its texts checked.
struct PhaseChecked {
    sent_at: OffsetDateTime,
    authority_reference: Option<String>,
    content: String,
    to_follow: Vec<BreachGap>,
    delay_reasons: Option<String>,
}

fn validated_phase(phase: PhaseSent, now: OffsetDateTime) -> Result<PhaseChecked, UseCaseError> {
    let mut e = ValidationErrors::default();
    let sent_at = crate::breach::utc(phase.sent_at.unwrap_or(now));
    if sent_at > now {
        e.push("sent_at", "cannot be in the future");
    }
    let reference = e.collect(optional_line(
        "authority_reference",
        phase.authority_reference.as_deref(),
    ));
    let content = e.collect(reasoning("content", &phase.content));
    let delay = match phase.delay_reasons.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(raw) => e.collect(reasoning("delay_reasons", raw)).map(Some),
    };
    let mut to_follow = Vec::new();
    for (i, item) in phase.to_follow.into_iter().enumerate() {
        if !item.is_notification_item() {
            e.push(
                format!("to_follow[{i}]"),
                "Art. 33(4) GDPR: only the Art. 33(3) items of a notification may follow",
            );
        } else if !to_follow.contains(&item) {
            to_follow.push(item);
        }
    }
    e.into_result()?;
    Ok(PhaseChecked {
        sent_at,
        authority_reference: reference.flatten(),
        content: content.unwrap_or_default(),
        to_follow,
        delay_reasons: delay.flatten(),
    })
}
