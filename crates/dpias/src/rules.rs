//! The rules a DPIA's writes follow beyond its own fields: only a draft changes (an
//! approved version is immutable), a revision starts from an approved DPIA and keeps that
//! link, measures keep the task links their action made, and the derived values (the
//! Art. 35(7)(a) pre-fill from the covered activities, the residual level, the Art. 36(2)
//! answer date, what the record lacks) follow the fields on every write.

use std::sync::Arc;

use aura_gdpr_registers::{Activities, ProcessingActivity};
use aura_records::{Id, Record, RecordRules, RecordStore, UseCaseError};
use aura_shared_kernel::{StoreError, TenantScope, ValidationErrors};
use uuid::Uuid;

use crate::{
    clock::answer_due,
    dpia::{
        DataSummary, DpiaFields, DpiaState, DpiaStatus, Dpias, ProcessingSummary, PurposeSummary,
        TransferSummary, gaps,
    },
};

/// The DPIAs' [`RecordRules`]: the activities' store for the pre-fill, the DPIAs' own for
/// the revised version.
pub struct DpiaRules {
    pub activities: Arc<dyn RecordStore<Activities>>,
    pub dpias: Arc<dyn RecordStore<Dpias>>,
}

/// 409 `dpia_approved`: the rule an edit of an approved DPIA breaks.
pub const APPROVED_IS_IMMUTABLE: UseCaseError = UseCaseError::Conflict {
    code: "dpia_approved",
    message: "an approved DPIA does not change (Art. 35(11) GDPR: a review that finds a change starts a revision, a new draft from the approved version)",
};

/// 409 `dpia_in_review`: a DPIA under review is approved or sent back as it was submitted.
pub const IN_REVIEW_IS_FROZEN: UseCaseError = UseCaseError::Conflict {
    code: "dpia_in_review",
    message: "a DPIA in review does not change; send it back to draft first",
};

impl DpiaRules {
    /// `state` with the values derived from `fields` and the covered `activities`.
    pub fn derived(
        fields: &DpiaFields,
        activities: &[ProcessingActivity],
        mut state: DpiaState,
    ) -> DpiaState {
        state.processing = summary(activities);
        state.residual_level = fields.residual_level();
        state.missing = gaps(fields);
        if let Some(pc) = &mut state.prior_consultation {
            pc.answer_due = answer_due(pc.submitted_on, pc.extended);
        }
        state
    }
}

/// What the covered activities say (Art. 35(7)(a) pre-fill), in the activities' order.
pub fn summary(activities: &[ProcessingActivity]) -> ProcessingSummary {
    let mut s = ProcessingSummary::default();
    let push_new = |list: &mut Vec<String>, item: &str| {
        if !list.iter().any(|known| known == item) {
            list.push(item.to_owned());
        }
    };
    for activity in activities {
        let (id, f) = (activity.id, &activity.fields);
        s.purposes.extend(f.purposes.iter().map(|p| PurposeSummary {
            activity_id: id,
            description: p.description.clone(),
            lawful_basis: p.lawful_basis.as_str().to_owned(),
        }));
        s.data_categories
            .extend(f.data_categories.iter().map(|c| DataSummary {
                activity_id: id,
                name: c.name.clone(),
                special_category: c.special_category.is_some(),
                criminal_offence_data: c.criminal_offence_data,
                retention: c.retention.clone(),
            }));
        for subject in &f.data_subject_categories {
            push_new(&mut s.data_subject_categories, subject);
        }
        for recipient in &f.recipient_categories {
            push_new(&mut s.recipient_categories, recipient);
        }
        s.transfers
            .extend(f.transfers.iter().map(|t| TransferSummary {
                activity_id: id,
                country: t.country.as_str().to_owned(),
                mechanism: t.mechanism.as_str().to_owned(),
                recipient: t.recipient.clone(),
            }));
        for processor in &f.processor_ids {
            if !s.processor_ids.contains(&processor.as_uuid()) {
                s.processor_ids.push(processor.as_uuid());
            }
        }
    }
    s
}

fn field_error(field: &str, message: &str) -> UseCaseError {
    ValidationErrors::single(field, message).into()
}

#[async_trait::async_trait]
impl RecordRules<Dpias> for DpiaRules {
    async fn check(
        &self,
        scope: &TenantScope,
        _: Id<Dpias>,
        before: Option<&DpiaFields>,
        fields: &DpiaFields,
    ) -> Result<(), UseCaseError> {
        match before {
            Some(before) if before.revision_of != fields.revision_of => {
                return Err(field_error(
                    "revision_of",
                    "cannot change: it names the approved DPIA this draft revises",
                ));
            }
            Some(_) => {}
            None => {
                if let Some(source) = fields.revision_of {
                    let status = match self.dpias.get(scope, source).await {
                        Ok(dpia) => Some(dpia.derived.status),
                        // The write's reference check names the field (422, like any link).
                        Err(StoreError::NotFound) => None,
                        Err(other) => return Err(other.into()),
                    };
                    if status.is_some_and(|s| s != DpiaStatus::Approved) {
                        return Err(field_error(
                            "revision_of",
                            "a revision starts from an approved DPIA",
                        ));
                    }
                }
            }
        }
        // A task link comes only from the "measure → task" action: an edit may keep or
        // drop one, never name another task.
        let known: Vec<Uuid> = before.map(|b| b.task_ids().collect()).unwrap_or_default();
        for (i, measure) in fields.measures.iter().enumerate() {
            if measure.task_id.is_some_and(|task| !known.contains(&task)) {
                return Err(ValidationErrors::single(
                    format!("measures[{i}].task_id"),
                    "is set by the measure's task action; keep the link it made or leave it empty",
                )
                .into());
            }
        }
        Ok(())
    }

    async fn derive(
        &self,
        scope: &TenantScope,
        fields: &DpiaFields,
        before: Option<&Record<Dpias>>,
    ) -> Result<DpiaState, UseCaseError> {
        let state = match before {
            Some(record) => {
                if record.fields.content() != fields.content() {
                    match record.derived.status {
                        DpiaStatus::Approved => return Err(APPROVED_IS_IMMUTABLE),
                        DpiaStatus::InReview => return Err(IN_REVIEW_IS_FROZEN),
                        DpiaStatus::Draft => {}
                    }
                }
                record.derived.clone()
            }
            None => {
                let revision = match fields.revision_of {
                    Some(source) => match self.dpias.get(scope, source).await {
                        Ok(revised) => revised.derived.revision + 1,
                        // The write's reference check names the field.
                        Err(StoreError::NotFound) => 1,
                        Err(other) => return Err(other.into()),
                    },
                    None => 1,
                };
                DpiaState {
                    created_by: scope.user_id(),
                    revision,
                    ..DpiaState::default()
                }
            }
        };
        let mut activities = Vec::with_capacity(fields.activity_ids.len());
        for id in &fields.activity_ids {
            match self.activities.get(scope, *id).await {
                Ok(activity) => activities.push(activity),
                // The write's reference check names the field.
                Err(StoreError::NotFound) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(Self::derived(fields, &activities, state))
    }
}
