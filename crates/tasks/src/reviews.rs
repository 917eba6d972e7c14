//! Review dates fire: a daily job per tenant turns the registers' due review dates (a
//! processor's DPA review, a policy's next review, an activity's review date) into
//! tasks, once per record and review date, linked to the record, assigned to its owner
//! or else to an owner or admin of the tenant, with the usual reminders.
//!
//! "Once" is the store's: each task is written with its origin
//! (`review:<kind>:<id>:<date>`) through `TaskRepository::insert_once`, so re-runs,
//! late runs and two workers at once make one task, and a task deleted by hand is not
//! made again for the same date. Moving the review date gives a new origin.

use std::sync::Arc;

use aura_audit::{Actor, Changes, RequestContext};
use aura_gdpr_registers::reviews::{DueReview, ReviewDates, ReviewKind};
use aura_identity::{
    User,
    ports::{TenantRepository, UserRepository},
};
use aura_jobs::{
    ClaimedJob, DailyJob, DuplicateKind, EncodedJob, Job, JobFailure, JobHandler, JobOutcome,
    JobRegistry, RetryPolicy,
};
use aura_shared_kernel::{Clock, Role, StoreError, TenantScope, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{
    ports::TaskRepository,
    reminders::ReminderPolicy,
    service::task_event,
    task::{
        Category, LinkKind, RecordLink, Recurrence, TaskFields, TaskState, TaskStatus, new_task,
    },
    task_jobs::{active_tenant, administrators},
};

/// Make the tasks for the reviews of the tenant due on or before `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewsDue {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
}

impl Job for ReviewsDue {
    const KIND: &'static str = "reviews_due";
    fn dedupe_key(&self) -> String {
        format!("reviews:{}", self.date)
    }
}

#[derive(Clone)]
pub struct ReviewJobPorts {
    pub reviews: Arc<dyn ReviewDates>,
    pub tasks: Arc<dyn TaskRepository>,
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub clock: Arc<dyn Clock>,
}

/// Registers the review job and its daily schedule (at the reminders' time of day).
pub fn register_reviews(
    registry: &mut JobRegistry,
    ports: ReviewJobPorts,
    reminders: ReminderPolicy,
    retry: RetryPolicy,
) -> Result<(), DuplicateKind> {
    registry
        .register(ReviewTasks {
            ports,
            reminders: reminders.clone(),
            retry,
        })?
        .daily(DailyReviews(reminders));
    Ok(())
}

struct DailyReviews(ReminderPolicy);

impl DailyJob for DailyReviews {
    fn due_at(&self, date: Date) -> OffsetDateTime {
        self.0.digest_moment(date)
    }
    fn job(&self, date: Date) -> EncodedJob {
        EncodedJob::of(&ReviewsDue { date })
    }
}

/// Makes the review tasks of one tenant; see the module documentation.
pub struct ReviewTasks {
    pub ports: ReviewJobPorts,
    pub reminders: ReminderPolicy,
    pub retry: RetryPolicy,
}

/// Due reviews read per page.
const PAGE: usize = 200;

/// The origin of the task for `review`: one task per record and review date.
pub fn review_origin(review: &DueReview) -> String {
    format!(
        "review:{}:{}:{}",
        review.kind.as_str(),
        review.id,
        review.review_on
    )
}

#[async_trait::async_trait]
impl JobHandler for ReviewTasks {
    type Job = ReviewsDue;

    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        due: ReviewsDue,
    ) -> Result<JobOutcome, JobFailure> {
        if let Err(skipped) = active_tenant(self.ports.tenants.as_ref(), scope).await? {
            return Ok(skipped);
        }
        let (created, found) = self.fire(scope, due.date).await?;
        Ok(JobOutcome::Done(format!(
            "created {created} review tasks ({found} reviews due)"
        )))
    }
}

impl ReviewTasks {
    /// Makes the missing tasks for the reviews due on or before `date`. Returns how many
    /// tasks were made and how many reviews were due.
    pub async fn fire(&self, scope: &TenantScope, date: Date) -> Result<(u64, u64), StoreError> {
        let mut fallback: Option<Option<UserId>> = None;
        let (mut created, mut found) = (0, 0);
        let mut after = None;
        loop {
            let page = self
                .ports
                .reviews
                .due_reviews(scope, date, after, PAGE)
                .await?;
            for review in &page {
                found += 1;
                let assignee = match self.active_owner(scope, review.owner).await? {
                    Some(owner) => Some(owner),
                    None => match fallback {
                        Some(chosen) => chosen,
                        None => {
                            let chosen = self.administrator(scope).await?;
                            fallback = Some(chosen);
                            chosen
                        }
                    },
                };
                if self.make_task(scope, review, assignee).await? {
                    created += 1;
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.cursor()),
                _ => return Ok((created, found)),
            }
        }
    }

    /// The record's owner, if still an active user of the tenant.
    async fn active_owner(
        &self,
        scope: &TenantScope,
        owner: Option<UserId>,
    ) -> Result<Option<UserId>, StoreError> {
        let Some(owner) = owner else {
            return Ok(None);
        };
        match self.ports.users.get(scope, owner).await {
            Ok(user) if user.is_active => Ok(Some(owner)),
            Ok(_) | Err(StoreError::NotFound) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Who takes a review without an owner: the first active owner of the tenant, else
    /// its first active admin (the digest's recipients), else nobody.
    async fn administrator(&self, scope: &TenantScope) -> Result<Option<UserId>, StoreError> {
        let admins: Vec<User> = administrators(self.ports.users.as_ref(), scope).await?;
        Ok(admins
            .iter()
            .find(|u| u.role == Role::Owner)
            .or_else(|| admins.first())
            .map(|u| u.id))
    }

    async fn make_task(
        &self,
        scope: &TenantScope,
        review: &DueReview,
        assignee: Option<UserId>,
    ) -> Result<bool, StoreError> {
        let now = self.ports.clock.now();
        // A DPIA's review task names the DPIA in its title; tasks link only to the Art. 30
        // registers' records.
        let (what, category, link) = match review.kind {
            ReviewKind::Processor => (
                "Review the data processing agreement with",
                Category::DpaReview,
                Some(LinkKind::Processor),
            ),
            ReviewKind::Policy => (
                "Review the policy",
                Category::PolicyReview,
                Some(LinkKind::Policy),
            ),
            ReviewKind::Activity => (
                "Review the processing activity",
                Category::Other,
                Some(LinkKind::ProcessingActivity),
            ),
            ReviewKind::Dpia => ("Review the DPIA (Art. 35(11))", Category::Dpia, None),
            ReviewKind::Document => (
                "Past its retention date: keep or remove the document",
                Category::Other,
                None,
            ),
        };
        let title: String = format!("{what} \u{201c}{}\u{201d}", review.name)
            .chars()
            .take(TaskFields::MAX_TITLE)
            .collect();
        let fields = TaskFields {
            title,
            description: Some(format!("The review date is {}.", review.review_on)),
            category,
            due_date: Some(review.review_on),
            assigned_to: assignee,
            link: link.map(|kind| RecordLink {
                kind,
                id: review.id,
            }),
            recurrence: Recurrence::None,
            status: TaskStatus::Open,
        };
        let task = new_task(scope.tenant_id(), fields, TaskState::default(), now);
        let origin = review_origin(review);
        let event = task_event(
            Actor::System,
            crate::actions::TASK_CREATED,
            task.id,
            Changes::of_new(&task.fields).note("origin", &origin),
            &RequestContext::default(),
        );
        let plan = self.reminders.plan(&task, now, &self.retry);
        self.ports
            .tasks
            .insert_once(scope, &origin, &task, &plan, event)
            .await
    }
}
