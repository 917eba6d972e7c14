//! The actions of a DPIA, each one [`RecordUseCases::act`] call (the kernel checks the
//! permission and the version, runs the action's rule, re-derives through
//! [`crate::rules::DpiaRules`] and writes with the action's audit event), plus "start
//! revision" (a create of a new draft from an approved version) and "measure → task"
//! (a task through the tasks' use cases, then the measure's link).

use std::sync::Arc;

use aura_audit::{AuditAction, RequestContext};
use aura_records::{RecordUseCases, UseCaseError, Workflow};
use aura_shared_kernel::{Clock, TenantScope, ValidationErrors};
use aura_tasks::{Category, LinkKind, RecordLink, Recurrence, TaskFields, TaskStatus, Tasks};
use time::Date;

use crate::{
    clock::answer_due,
    dpia::{
        APPROVE, Dpia, DpiaId, DpiaStatus, Dpias, MeasureStatus, PriorConsultation, RiskLevel,
        actions, line, reasoning,
    },
};

/// The prior consultation (Art. 36) as a user records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationRecord {
    pub authority: String,
    pub submitted_on: Date,
    pub extended: bool,
    pub extension_reason: Option<String>,
    pub answered_on: Option<Date>,
    pub answer: Option<String>,
}

/// The DPIAs' use cases: the kernel's (create, read, list, replace) and the actions.
#[derive(Clone)]
pub struct DpiaCases {
    records: RecordUseCases<Dpias>,
    tasks: RecordUseCases<Tasks>,
    clock: Arc<dyn Clock>,
}

fn field_error(field: &str, message: impl Into<String>) -> UseCaseError {
    ValidationErrors::single(field, message).into()
}

/// 422 naming `prior_consultation`: Art. 36(1) before approving a residual high risk.
pub const ART_36_1: &str = "Art. 36(1) GDPR: the assessment shows a high risk the measures do not mitigate; record the prior consultation of the supervisory authority before approving";

impl DpiaCases {
    pub fn new(
        records: RecordUseCases<Dpias>,
        tasks: RecordUseCases<Tasks>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            records,
            tasks,
            clock,
        }
    }

    /// The kernel's use cases of the register.
    pub fn records(&self) -> &RecordUseCases<Dpias> {
        &self.records
    }

    async fn act(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        version: i32,
        action: &AuditAction,
        ctx: &RequestContext,
        apply: impl FnOnce(&mut Dpia) -> Result<(), UseCaseError> + Send,
    ) -> Result<Dpia, UseCaseError> {
        self.records
            .act(scope, id, version, action, ctx, apply)
            .await
    }

    /// Submits a draft for approval.
    pub async fn submit(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        version: i32,
        ctx: &RequestContext,
    ) -> Result<Dpia, UseCaseError> {
        let (now, by) = (self.clock.now(), scope.user_id());
        self.act(scope, id, version, &actions::SUBMITTED, ctx, move |dpia| {
            let state = &mut dpia.derived;
            state.status.move_to(DpiaStatus::InReview)?;
            state.submitted_at = Some(now);
            state.submitted_by = by;
            state.sent_back_reason = None;
            Ok(())
        })
        .await
    }

    /// Sends a DPIA in review back to draft, with the reason.
    pub async fn send_back(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        version: i32,
        why: &str,
        ctx: &RequestContext,
    ) -> Result<Dpia, UseCaseError> {
        let why = reasoning("reason", why)?;
        self.act(scope, id, version, &actions::SENT_BACK, ctx, move |dpia| {
            let state = &mut dpia.derived;
            state.status.move_to(DpiaStatus::Draft)?;
            state.sent_back_reason = Some(why);
            Ok(())
        })
        .await
    }

    /// Approves a DPIA in review (admins and owners): complete (the four Art. 35(7) parts
    /// and the DPO's advice), and with a residual high risk only once the prior
    /// consultation is recorded (Art. 36(1)).
    pub async fn approve(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        version: i32,
        ctx: &RequestContext,
    ) -> Result<Dpia, UseCaseError> {
        self.records.require(scope, APPROVE, ctx).await?;
        let (now, by) = (self.clock.now(), scope.user_id());
        self.act(scope, id, version, &actions::APPROVED, ctx, move |dpia| {
            let state = &mut dpia.derived;
            if state.status != DpiaStatus::InReview {
                return Err(aura_records::InvalidTransition {
                    from: state.status,
                    to: DpiaStatus::Approved,
                }
                .into());
            }
            if !state.missing.is_empty() {
                let names: Vec<&str> = state.missing.iter().map(|g| g.as_str()).collect();
                return Err(field_error(
                    "missing",
                    format!(
                        "Art. 35(7) GDPR: the assessment is incomplete ({}); send it back and complete it",
                        names.join(", ")
                    ),
                ));
            }
            if dpia.fields.residual_level() == Some(RiskLevel::High)
                && state.prior_consultation.is_none()
            {
                return Err(field_error("prior_consultation", ART_36_1));
            }
            state.status.move_to(DpiaStatus::Approved)?;
            state.approved_at = Some(now);
            state.approved_by = by;
            Ok(())
        })
        .await
    }

    /// Records (or updates) the prior consultation of the supervisory authority (Art. 36):
    /// its answer date follows from the submission and the extension (Art. 36(2)).
    pub async fn record_prior_consultation(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        version: i32,
        record: ConsultationRecord,
        ctx: &RequestContext,
    ) -> Result<Dpia, UseCaseError> {
        let (today, by) = (self.clock.now().date(), scope.user_id());
        let mut e = ValidationErrors::default();
        let authority = e.collect(line("authority", &record.authority));
        let optional = |field: &str, raw: Option<String>| match raw {
            Some(raw) => reasoning(field, &raw).map(Some),
            None => Ok(None),
        };
        let extension_reason = e.collect(optional("extension_reason", record.extension_reason));
        let answer = e.collect(optional("answer", record.answer));
        if record.submitted_on > today {
            e.push("submitted_on", "cannot be in the future");
        }
        if !(2018..=2200).contains(&record.submitted_on.year()) {
            e.push("submitted_on", "must be a year between 2018 and 2200");
        }
        if let Some(answered) = record.answered_on {
            if answered < record.submitted_on {
                e.push("answered_on", "cannot be before submitted_on");
            }
            if answered > today {
                e.push("answered_on", "cannot be in the future");
            }
        }
        if record.answered_on.is_some() != matches!(answer, Some(Some(_))) {
            e.push(
                "answer",
                "answered_on and answer are given together (the authority's written advice, Art. 36(2))",
            );
        }
        if !record.extended && matches!(extension_reason, Some(Some(_))) {
            e.push("extension_reason", "belongs to an extended period");
        }
        e.into_result()?;
        let consultation = PriorConsultation {
            authority: authority.unwrap_or_default(),
            submitted_on: record.submitted_on,
            extended: record.extended,
            extension_reason: extension_reason.flatten(),
            answer_due: answer_due(record.submitted_on, record.extended),
            answered_on: record.answered_on,
            answer: answer.flatten(),
            recorded_by: by,
        };
        let action = &actions::PRIOR_CONSULTATION;
        self.act(scope, id, version, action, ctx, move |dpia| {
            dpia.derived.prior_consultation = Some(consultation);
            Ok(())
        })
        .await
    }

    /// Starts a revision: a new draft with the approved version's content, linked to it
    /// (`revision_of`) and numbered one more. The approved version stays as it is.
    pub async fn start_revision(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        ctx: &RequestContext,
    ) -> Result<Dpia, UseCaseError> {
        let approved = self.records.get(scope, id, ctx).await?;
        if approved.derived.status != DpiaStatus::Approved {
            return Err(UseCaseError::Conflict {
                code: "dpia_not_approved",
                message: "a revision starts from an approved DPIA; edit the draft instead",
            });
        }
        let mut fields = approved.fields.content();
        fields.revision_of = Some(id);
        self.records.create(scope, fields, None, ctx).await
    }

    /// A DPIA and the versions it revises, newest first (the export): each read in the
    /// caller's tenant, so a chain never leaves it.
    pub async fn with_earlier_versions(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        ctx: &RequestContext,
    ) -> Result<(Dpia, Vec<Dpia>), UseCaseError> {
        let dpia = self.records.get(scope, id, ctx).await?;
        let mut earlier: Vec<Dpia> = Vec::new();
        let mut next = dpia.fields.revision_of;
        while let Some(source) = next {
            // The store refuses a link to a missing row, and a revision's source is older:
            // no loop; the bound only guards against a corrupt chain.
            if earlier.len() >= 1_000 || earlier.iter().any(|d| d.id == source) {
                break;
            }
            let version = self.records.store().get(scope, source).await?;
            next = version.fields.revision_of;
            earlier.push(version);
        }
        Ok((dpia, earlier))
    }

    /// Turns planned measure `index` into a task (category `dpia`, the measure's due date
    /// and owner, linked to the first covered activity), then records the link on the
    /// measure. If recording the link fails, the task is cancelled again.
    pub async fn measure_to_task(
        &self,
        scope: &TenantScope,
        id: DpiaId,
        version: i32,
        index: usize,
        ctx: &RequestContext,
    ) -> Result<Dpia, UseCaseError> {
        let dpia = self.records.get(scope, id, ctx).await?;
        aura_records::at_version(dpia.version, version)?;
        let field = format!("measures[{index}]");
        let Some(measure) = dpia.fields.measures.get(index) else {
            return Err(field_error(&field, "there is no measure at this position"));
        };
        if measure.status != MeasureStatus::Planned {
            return Err(field_error(&field, "only a planned measure becomes a task"));
        }
        if measure.task_id.is_some() {
            return Err(UseCaseError::Conflict {
                code: "already_recorded",
                message: "this measure already became a task",
            });
        }
        let title: String = format!("DPIA measure: {}", measure.title)
            .chars()
            .take(TaskFields::MAX_TITLE)
            .collect();
        let fields = TaskFields {
            title,
            description: Some(format!(
                "A measure of the DPIA \u{201c}{}\u{201d} (Art. 35(7)(d) GDPR).",
                dpia.fields.title
            )),
            category: Category::Dpia,
            due_date: measure.due_date,
            assigned_to: measure.owner_id.or(dpia.fields.owner_id),
            link: dpia.fields.activity_ids.first().map(|a| RecordLink {
                kind: LinkKind::ProcessingActivity,
                id: a.as_uuid(),
            }),
            recurrence: Recurrence::None,
            status: TaskStatus::Open,
        };
        let task = self.tasks.create(scope, fields, None, ctx).await?;
        let task_id = task.id.as_uuid();
        let linked = self
            .act(
                scope,
                id,
                version,
                &actions::MEASURE_TASK,
                ctx,
                move |dpia| match dpia.fields.measures.get_mut(index) {
                    Some(m) if m.task_id.is_none() => {
                        m.task_id = Some(task_id);
                        Ok(())
                    }
                    _ => Err(UseCaseError::StaleVersion),
                },
            )
            .await;
        if let Err(failed) = &linked {
            // The link failed (a concurrent change), so the task would be an orphan; it is
            // cancelled (an edit members may make), both steps audited. The caller gets
            // the link's error; a cancellation that fails too leaves an orphan task, which
            // is logged (ids and error codes only) for an operator to close.
            let cancelled = TaskFields {
                status: TaskStatus::Cancelled,
                ..task.fields.clone()
            };
            if let Err(undo) = (self.tasks)
                .update(scope, task.id, cancelled, task.version, None, ctx)
                .await
            {
                tracing::error!(
                    dpia = %id,
                    task = %task.id,
                    link_error = %failed,
                    cancel_error = %undo,
                    "a DPIA measure's task could not be cancelled after its link failed: the task is left open"
                );
            }
        }
        linked
    }
}
