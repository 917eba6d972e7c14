//! The actions of a data-subject request, each one [`RecordUseCases::act`] call: the
//! kernel checks the permission and the version, runs the action's rule on the stored
//! request, re-derives the dates ([`crate::rules::RequestRules`]) and writes the change
//! with the action's own audit event.

use std::sync::Arc;

use aura_audit::{AuditAction, RequestContext};
use aura_gdpr_registers::{Activities, Processors};
use aura_records::{RecordKind, RecordStore, RecordUseCases, UseCaseError, Workflow};
use aura_shared_kernel::{Clock, TenantScope, ValidationErrors};
use time::Date;

use crate::{
    checklist::{
        ActivityView, ChecklistError, ChecklistItemId, ItemChange, NewChecklistItem, ProcessorView,
        add_item, generate, update_item,
    },
    clock::{ExtensionMonths, may_extend},
    request::{
        DataSubjectRequest, Outcome, Refusal, RequestId, RequestStatus, Requests,
        VerificationMethod, answer,
    },
};

/// The audit actions of the requests' actions (their changes are `data_subject_request.*`
/// too: created, updated, deleted).
pub mod actions {
    use aura_audit::AuditAction;

    pub const IDENTITY_VERIFIED: AuditAction =
        AuditAction::known("data_subject_request.identity_verified");
    pub const IDENTITY_REJECTED: AuditAction =
        AuditAction::known("data_subject_request.identity_rejected");
    pub const INFORMATION_REQUESTED: AuditAction =
        AuditAction::known("data_subject_request.information_requested");
    pub const EXTENDED: AuditAction = AuditAction::known("data_subject_request.extended");
    pub const ANSWERED: AuditAction = AuditAction::known("data_subject_request.answered");
    pub const CLOSED: AuditAction = AuditAction::known("data_subject_request.closed");
    pub const WITHDRAWN: AuditAction = AuditAction::known("data_subject_request.withdrawn");
    pub const CHECKLIST_GENERATED: AuditAction =
        AuditAction::known("data_subject_request.checklist_generated");
    pub const CHECKLIST_ITEM_ADDED: AuditAction =
        AuditAction::known("data_subject_request.checklist_item_added");
    pub const CHECKLIST_ITEM_UPDATED: AuditAction =
        AuditAction::known("data_subject_request.checklist_item_updated");
}

/// The outcome of an identity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityResult {
    /// Confirmed by `method`: the case goes on (and where the tenant counts from the
    /// confirmation, the clock starts).
    Confirmed(VerificationMethod),
    /// The person could not be identified (Art. 12(2), 11(2)): the case ends.
    Failed,
}

/// What the controller asks the person for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InformationAsked {
    /// Proof of identity (Art. 12(6)): the case waits in `verifying_identity`.
    Identity,
    /// A clarification of what is asked: the case waits for the person.
    Clarification,
}

/// An extension as a user records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionNotice {
    pub months: u8,
    pub reasons: String,
    /// The day the person was told (default: today).
    pub told_on: Option<Date>,
}

/// An answer as a user records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerGiven {
    pub outcome: Outcome,
    /// Default: today.
    pub answered_on: Option<Date>,
    pub refusal: Option<Refusal>,
}

/// The requests' use cases: the kernel's (create, read, list, replace, delete) and the
/// actions.
#[derive(Clone)]
pub struct RequestCases {
    records: RecordUseCases<Requests>,
    activities: Arc<dyn RecordStore<Activities>>,
    processors: Arc<dyn RecordStore<Processors>>,
    clock: Arc<dyn Clock>,
}

fn field_error(field: &str, message: impl Into<String>) -> UseCaseError {
    ValidationErrors::single(field, message).into()
}

impl RequestCases {
    pub fn new(
        records: RecordUseCases<Requests>,
        activities: Arc<dyn RecordStore<Activities>>,
        processors: Arc<dyn RecordStore<Processors>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            records,
            activities,
            processors,
            clock,
        }
    }

    /// The kernel's use cases of the register.
    pub fn records(&self) -> &RecordUseCases<Requests> {
        &self.records
    }

    fn today(&self) -> Date {
        self.clock.now().date()
    }

    async fn act(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        action: &AuditAction,
        ctx: &RequestContext,
        apply: impl FnOnce(&mut DataSubjectRequest) -> Result<(), UseCaseError> + Send,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        (self.records)
            .act(scope, id, version, action, ctx, apply)
            .await
            .map_err(checklist_reference)
    }

    pub async fn verify_identity(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        result: IdentityResult,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let now = self.clock.now();
        let by = scope.user_id();
        let action = match result {
            IdentityResult::Confirmed(_) => &actions::IDENTITY_VERIFIED,
            IdentityResult::Failed => &actions::IDENTITY_REJECTED,
        };
        self.act(scope, id, version, action, ctx, move |request| {
            let state = &mut request.derived;
            if state.identity.verified_at.is_some() {
                return Err(UseCaseError::Conflict {
                    code: "identity_already_verified",
                    message: "the person's identity was already confirmed",
                });
            }
            match result {
                IdentityResult::Confirmed(method) => {
                    state.identity.method = Some(method);
                    state.identity.verified_by = by;
                    state.identity.verified_at = Some(now);
                    if state.status != RequestStatus::InProgress {
                        state.status.move_to(RequestStatus::InProgress)?;
                    }
                }
                IdentityResult::Failed => {
                    state.status.move_to(RequestStatus::RejectedUnverifiable)?;
                    state.closed_at = Some(now);
                }
            }
            Ok(())
        })
        .await
    }

    pub async fn request_information(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        asked: InformationAsked,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let next = match asked {
            InformationAsked::Identity => RequestStatus::VerifyingIdentity,
            InformationAsked::Clarification => RequestStatus::WaitingForSubject,
        };
        let action = &actions::INFORMATION_REQUESTED;
        self.act(scope, id, version, action, ctx, move |request| {
            let state = &mut request.derived;
            if asked == InformationAsked::Identity && state.identity.verified_at.is_some() {
                return Err(UseCaseError::Conflict {
                    code: "identity_already_verified",
                    message: "the person's identity was already confirmed",
                });
            }
            Ok(state.status.move_to(next)?)
        })
        .await
    }

    /// Art. 12(3): one extension of one or two months, with reasons, told to the person
    /// by the first due date and recorded by then.
    pub async fn extend(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        notice: ExtensionNotice,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let today = self.today();
        let months = ExtensionMonths::try_from(notice.months)
            .map_err(|refused| field_error(refused.field(), refused.to_string()))?;
        let told_on = notice.told_on.unwrap_or(today);
        if told_on > today {
            return Err(field_error("told_on", "cannot be in the future"));
        }
        self.act(scope, id, version, &actions::EXTENDED, ctx, move |request| {
            if told_on < request.fields.received_at.date() {
                return Err(field_error("told_on", "cannot be before the request was received"));
            }
            let state = &mut request.derived;
            if !state.status.is_open() {
                return Err(UseCaseError::Conflict {
                    code: "invalid_transition",
                    message: "only an open request can be extended",
                });
            }
            let Some(first_due) = state.first_due_on else {
                return Err(UseCaseError::Conflict {
                    code: "clock_not_started",
                    message: "the clock waits for the person's identity: there is nothing to extend yet",
                });
            };
            // Recorded by the first due date, and told by then (Art. 12(3)).
            for day in [today, told_on] {
                if let Err(refused) = may_extend(first_due, day, &notice.reasons) {
                    let field = match refused.field() {
                        "extended_on" => "told_on",
                        field => field,
                    };
                    return Err(field_error(field, refused.to_string()));
                }
            }
            let reasons = notice.reasons.trim().to_owned();
            state.extend(months, reasons, told_on)?;
            Ok(())
        })
        .await
    }

    pub async fn answer(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        given: AnswerGiven,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let today = self.today();
        let answered_on = given.answered_on.unwrap_or(today);
        if answered_on > today {
            return Err(field_error("answered_on", "cannot be in the future"));
        }
        let answer = answer(given.outcome, answered_on, given.refusal)?;
        self.act(
            scope,
            id,
            version,
            &actions::ANSWERED,
            ctx,
            move |request| {
                if answered_on < request.fields.received_at.date() {
                    return Err(field_error(
                        "answered_on",
                        "cannot be before the request was received",
                    ));
                }
                let state = &mut request.derived;
                state.status.move_to(RequestStatus::Answered)?;
                state.answer = Some(answer);
                Ok(())
            },
        )
        .await
    }

    pub async fn close(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        self.finish(
            scope,
            id,
            version,
            RequestStatus::Closed,
            &actions::CLOSED,
            ctx,
        )
        .await
    }

    pub async fn withdraw(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let action = &actions::WITHDRAWN;
        self.finish(scope, id, version, RequestStatus::Withdrawn, action, ctx)
            .await
    }

    async fn finish(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        status: RequestStatus,
        action: &AuditAction,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let now = self.clock.now();
        self.act(scope, id, version, action, ctx, move |request| {
            let state = &mut request.derived;
            state.status.move_to(status)?;
            state.closed_at = Some(now);
            Ok(())
        })
        .await
    }

    /// Adds the items the register calls for (see [`crate::checklist`]) that the
    /// checklist does not hold yet; items already there keep their progress.
    pub async fn generate_checklist(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        // Refused before the register is read for it.
        self.records.require(scope, Requests::WRITE, ctx).await?;
        let activities: Vec<ActivityView> = (self.activities.all(scope).await?.iter())
            .map(ActivityView::from)
            .collect();
        let processors: Vec<ProcessorView> = (self.processors.all(scope).await?.iter())
            .map(ProcessorView::from)
            .collect();
        let action = &actions::CHECKLIST_GENERATED;
        self.act(scope, id, version, action, ctx, move |request| {
            let fields = &request.fields;
            let generated = generate(
                fields.subject.category,
                &fields.rights,
                &activities,
                &processors,
            );
            let checklist = &mut request.derived.checklist;
            for item in generated {
                if !checklist.iter().any(|held| held.key() == item.key()) {
                    checklist.push(item);
                }
            }
            Ok(())
        })
        .await
    }

    pub async fn add_checklist_item(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        item: NewChecklistItem,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let item = item.validated()?;
        let action = &actions::CHECKLIST_ITEM_ADDED;
        self.act(scope, id, version, action, ctx, move |request| {
            add_item(&mut request.derived.checklist, item)
                .map(drop)
                .map_err(checklist_error)
        })
        .await
    }

    pub async fn update_checklist_item(
        &self,
        scope: &TenantScope,
        id: RequestId,
        version: i32,
        item: ChecklistItemId,
        change: ItemChange,
        ctx: &RequestContext,
    ) -> Result<DataSubjectRequest, UseCaseError> {
        let (now, by) = (self.clock.now(), scope.user_id());
        let action = &actions::CHECKLIST_ITEM_UPDATED;
        self.act(scope, id, version, action, ctx, move |request| {
            let Some(by) = by else {
                return Err(UseCaseError::Internal(
                    "a checklist item is changed by a user".into(),
                ));
            };
            let items = &mut request.derived.checklist;
            update_item(items, item, change, by, now).map_err(checklist_error)
        })
        .await
    }
}

fn checklist_error(error: ChecklistError) -> UseCaseError {
    match error {
        ChecklistError::UnknownItem(_) => UseCaseError::UnknownReference {
            field: ChecklistError::ITEM_FIELD,
        },
        ChecklistError::Invalid(errors) => errors.into(),
    }
}

/// A checklist item naming an activity, processor or user the tenant does not have is
/// answered like any unknown object (404), naming the item's field; the store reports it
/// under the item's place in the list (`checklist[3].activity_id`).
fn checklist_reference(error: UseCaseError) -> UseCaseError {
    let UseCaseError::Validation(errors) = &error else {
        return error;
    };
    let unknown = errors.0.iter().find_map(|e| {
        let rest = e.field.strip_prefix("checklist[")?;
        let (_, field) = rest.split_once("].")?;
        ["activity_id", "processor_id", "assignee_id"]
            .into_iter()
            .find(|known| *known == field)
    });
    match unknown {
        Some(field) => UseCaseError::UnknownReference { field },
        None => error,
    }
}
