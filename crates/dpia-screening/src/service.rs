//! The screening's use cases: read the screening of an activity, save its answers, and
//! accept its suggestion into the activity (never done without the user asking).

use std::sync::Arc;

use aura_audit::{Changes, PendingEvent, RequestContext};
use aura_gdpr_registers::{Activities, ActivityId, ProcessingActivity};
use aura_records::{RecordUseCases, UseCaseError, at_version};
use aura_shared_kernel::{Permission, TenantScope};

use crate::{
    actions,
    answers::{ScreeningAnswers, StoredAnswers},
    ports::ScreeningAnswersStore,
    screening::{Outcome, Screening, screen},
};

/// An activity, its answers and the screening computed from both.
#[derive(Debug, Clone)]
pub struct ActivityScreening {
    pub activity: ProcessingActivity,
    pub answers: StoredAnswers,
    pub screening: Screening,
}

impl ActivityScreening {
    fn of(activity: ProcessingActivity, answers: StoredAnswers) -> Self {
        let screening = screen(&activity.fields, &answers.answers);
        Self {
            activity,
            answers,
            screening,
        }
    }
}

#[derive(Clone)]
pub struct DpiaScreenings {
    /// The activities' use cases: reads with their permission, and the accepted
    /// suggestion as one of the activity's actions.
    activities: RecordUseCases<Activities>,
    answers: Arc<dyn ScreeningAnswersStore>,
}

impl DpiaScreenings {
    pub fn new(
        activities: RecordUseCases<Activities>,
        answers: Arc<dyn ScreeningAnswersStore>,
    ) -> Self {
        Self {
            activities,
            answers,
        }
    }

    async fn answers_of(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
    ) -> Result<StoredAnswers, UseCaseError> {
        Ok(self
            .answers
            .get(scope, activity)
            .await?
            .unwrap_or_else(StoredAnswers::none))
    }

    /// The screening of an activity of the tenant (another tenant's is `NotFound`).
    pub async fn screening(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
        ctx: &RequestContext,
    ) -> Result<ActivityScreening, UseCaseError> {
        let record = self.activities.get(scope, activity, ctx).await?;
        let answers = self.answers_of(scope, activity).await?;
        Ok(ActivityScreening::of(record, answers))
    }

    /// Saves the answers at `expected_version` (0 for the first save) and answers the new
    /// screening. Answers that change nothing store nothing.
    pub async fn put_answers(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
        answers: ScreeningAnswers,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<ActivityScreening, UseCaseError> {
        self.activities
            .require(scope, Permission::WriteRecords, ctx)
            .await?;
        let answers = answers.validated()?;
        let record = self.activities.store().get(scope, activity).await?;
        let before = self.answers_of(scope, activity).await?;
        at_version(before.version, expected_version)?;
        let changes = if before.version == 0 {
            Changes::of_new(&answers).note("first_save", true)
        } else {
            Changes::between(&before.answers, &answers)
        };
        if before.version > 0 && changes.is_empty() {
            return Ok(ActivityScreening::of(record, before));
        }
        let event = PendingEvent::new(
            scope,
            actions::ANSWERS_UPDATED,
            actions::ENTITY,
            activity,
            changes,
            ctx,
        );
        let stored = (self.answers)
            .put(
                scope,
                activity,
                &answers,
                scope.user_id(),
                expected_version,
                event,
            )
            .await?;
        Ok(ActivityScreening::of(record, stored))
    }

    /// Sets the activity's `dpia_required` and `dpia_reason` from its screening, at the
    /// activity's `expected_version`. `seen` is the outcome the user was shown: when the
    /// screening now says otherwise (answers or fields changed since), nothing changes
    /// and the answer is 409 `screening_changed`.
    pub async fn accept(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
        expected_version: i32,
        seen: Outcome,
        ctx: &RequestContext,
    ) -> Result<ProcessingActivity, UseCaseError> {
        self.activities
            .require(scope, Permission::WriteRecords, ctx)
            .await?;
        let answers = self.answers_of(scope, activity).await?.answers;
        (self.activities)
            .act(
                scope,
                activity,
                expected_version,
                &actions::SUGGESTION_ACCEPTED,
                ctx,
                |record| {
                    let screening = screen(&record.fields, &answers);
                    if screening.outcome != seen {
                        return Err(UseCaseError::Conflict {
                            code: "screening_changed",
                            message: "the screening's outcome changed since it was read; read it again",
                        });
                    }
                    record.fields.dpia_required = screening.suggested_requirement;
                    record.fields.dpia_reason = Some(screening.summary());
                    Ok(())
                },
            )
            .await
    }
}
