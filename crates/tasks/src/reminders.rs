//! When reminders go out: at configured offsets before the due date, at a fixed time of
//! day (UTC). Planning is pure; the task repository stores the plan with the task.

use time::{Date, Duration, OffsetDateTime, Time};

use aura_jobs::{NewJob, RetryPolicy};

use crate::{
    task::{Task, TaskId},
    task_jobs::TaskReminder,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPolicy {
    /// Days before the due date, e.g. `[7, 1, 0]` (0 = on the due date).
    pub offsets_days: Vec<u16>,
    /// Time of day (UTC) reminders and the overdue digest are sent.
    pub send_at: Time,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        Self {
            offsets_days: vec![7, 1, 0],
            send_at: Time::from_hms(8, 0, 0).unwrap_or(Time::MIDNIGHT),
        }
    }
}

impl ReminderPolicy {
    /// Parses `7,1,0`: distinct whole days between 0 and 365.
    pub fn parse_offsets(raw: &str) -> Result<Vec<u16>, String> {
        let mut offsets = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let days: u16 = part
                .parse()
                .ok()
                .filter(|d| *d <= 365)
                .ok_or_else(|| format!("`{part}` is not a number of days between 0 and 365"))?;
            if !offsets.contains(&days) {
                offsets.push(days);
            }
        }
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        Ok(offsets)
    }

    /// The moment the reminder `days_before` `due` is sent.
    pub fn moment(&self, due: Date, days_before: u16) -> OffsetDateTime {
        (due - Duration::days(i64::from(days_before)))
            .with_time(self.send_at)
            .assume_utc()
    }

    /// The moment the overdue digest of `date` is sent.
    pub fn digest_moment(&self, date: Date) -> OffsetDateTime {
        date.with_time(self.send_at).assume_utc()
    }

    /// The reminders `task` should have from `now` on: one per offset still ahead, for
    /// an active task with a due date and an assignee; none otherwise.
    pub fn plan(&self, task: &Task, now: OffsetDateTime, retry: &RetryPolicy) -> ReminderPlan {
        let mut jobs = Vec::new();
        if let (true, Some(due), Some(assignee)) = (
            task.fields.status.is_active(),
            task.fields.due_date,
            task.fields.assigned_to,
        ) {
            for &days_before in &self.offsets_days {
                let run_at = self.moment(due, days_before);
                if run_at >= now {
                    let reminder = TaskReminder {
                        task: task.id.as_uuid(),
                        due_date: due,
                        days_before,
                        assignee,
                    };
                    jobs.push(NewJob::of(
                        task.tenant_id,
                        &reminder,
                        run_at,
                        retry.max_attempts,
                    ));
                }
            }
        }
        ReminderPlan {
            task: task.id,
            jobs,
        }
    }
}

/// The reminders of one task from now on. Storing a plan replaces the task's queued
/// reminders, in the transaction that changes the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPlan {
    pub task: TaskId,
    pub jobs: Vec<NewJob>,
}

impl ReminderPlan {
    /// No reminders any more (completed, cancelled, deleted).
    pub fn none(task: TaskId) -> Self {
        Self {
            task,
            jobs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::{TenantId, UserId};
    use time::macros::{date, datetime};

    use super::*;
    use crate::task::{Category, Recurrence, TaskFields, TaskStatus, new_task};

    fn task(due: Option<Date>, assignee: Option<UserId>, status: TaskStatus) -> Task {
        let fields = TaskFields {
            title: "Review".into(),
            description: None,
            category: Category::PolicyReview,
            due_date: due,
            assigned_to: assignee,
            link: None,
            recurrence: Recurrence::None,
            status,
        };
        let mut task = new_task(
            TenantId::generate(),
            fields,
            Default::default(),
            datetime!(2026-11-01 10:00 UTC),
        );
        task.fields.status = status;
        task
    }

    #[test]
    fn offsets_parse_sorted_and_distinct() {
        assert_eq!(ReminderPolicy::parse_offsets("1, 7,0,7"), Ok(vec![7, 1, 0]));
        assert!(ReminderPolicy::parse_offsets("7,x").is_err());
        assert!(ReminderPolicy::parse_offsets("400").is_err());
        assert_eq!(ReminderPolicy::parse_offsets(""), Ok(vec![]));
    }

    #[test]
    fn reminders_are_planned_at_the_offsets_still_ahead() {
        let policy = ReminderPolicy::default();
        let assignee = UserId::generate();
        let t = task(
            Some(date!(2026 - 11 - 10)),
            Some(assignee),
            TaskStatus::Open,
        );
        // 7 days before (3 Nov 08:00) is past at 5 Nov; 1 day before and on the day remain.
        let plan = policy.plan(&t, datetime!(2026-11-05 09:00 UTC), &RetryPolicy::default());
        let moments: Vec<_> = plan.jobs.iter().map(|j| j.run_at).collect();
        assert_eq!(
            moments,
            vec![
                datetime!(2026-11-09 08:00 UTC),
                datetime!(2026-11-10 08:00 UTC)
            ]
        );
        assert!(plan.jobs.iter().all(|j| j.tenant_id == t.tenant_id));
        assert!(plan.jobs.iter().all(|j| matches!(
            j.decode::<TaskReminder>(),
            Ok(TaskReminder { assignee: a, .. }) if a == assignee
        )));
    }

    #[test]
    fn no_reminders_without_assignee_due_date_or_open_status() {
        let policy = ReminderPolicy::default();
        let now = datetime!(2026-11-01 09:00 UTC);
        let retry = RetryPolicy::default();
        let due = Some(date!(2026 - 11 - 20));
        let someone = Some(UserId::generate());
        for t in [
            task(due, None, TaskStatus::Open),
            task(None, someone, TaskStatus::Open),
            task(due, someone, TaskStatus::Done),
            task(due, someone, TaskStatus::Cancelled),
        ] {
            assert!(policy.plan(&t, now, &retry).jobs.is_empty(), "{t:?}");
        }
        let active = task(due, someone, TaskStatus::InProgress);
        assert_eq!(policy.plan(&active, now, &retry).jobs.len(), 3);
    }
}
