//! The escalation of a breach while the authority decision is open: alerts to the
//! breach's owner, its assignee and the tenant's owners and admins at awareness and 24,
//! 48, 60 and 70 hours after it ([`STEPS_HOURS`]), in absolute time like the deadline
//! itself. Planned on every write of the breach ([`EscalationPlanner`], stored by the
//! store in the write's transaction through the queue's [`PlannedRecords`]):
//!
//! - nothing once the decision is made (notified, decided not to notify, closed): the
//!   write that records it replaces the queued alerts with an empty plan;
//! - the steps still ahead at their instants, and of the steps already past only the
//!   latest, at once: a breach recorded two days after awareness alerts once now (the
//!   48-hour step), not five times;
//! - each step once: its dedupe key holds the breach, the awareness instant and the
//!   step, so a re-plan by a later write leaves a sent step out, and a corrected
//!   awareness time plans the steps of the new instant (the old ones are cancelled, and
//!   a job of the old instant still running skips: the handler re-reads the breach).
//!
//! Drills escalate too: the exercise runs the whole workflow, and its mails say so in
//! the subject. Payloads carry ids and instants only, never what happened or to whom.
//!
//! [`PlannedRecords`]: aura_jobs::PlannedRecords

use std::sync::Arc;

use aura_jobs::{Job, JobPlan, JobPlanner, NewJob, RetryPolicy};
use aura_records::Record;
use aura_shared_kernel::{Clock, UserId};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::breach::{Breach, Breaches};

/// Hours after awareness at which the alerts go out (the deadline is at 72).
pub const STEPS_HOURS: [u16; 5] = [0, 24, 48, 60, 70];

/// One step of a breach's escalation; fans out to one [`BreachAlertMail`] per recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachAlert {
    pub breach: Uuid,
    /// The awareness instant the step was planned from.
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    /// Hours after awareness: one of [`STEPS_HOURS`].
    pub step_hours: u16,
}

impl Job for BreachAlert {
    const KIND: &'static str = "breach_alert";
    fn dedupe_key(&self) -> String {
        let aware = self.became_aware_at.unix_timestamp();
        format!("breach_alert:{}:{aware}:{}", self.breach, self.step_hours)
    }
    fn subject(&self) -> Option<Uuid> {
        Some(self.breach)
    }
}

/// One step's alert to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachAlertMail {
    pub breach: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    pub step_hours: u16,
    pub recipient: UserId,
}

impl Job for BreachAlertMail {
    const KIND: &'static str = "breach_alert_mail";
    fn dedupe_key(&self) -> String {
        let aware = self.became_aware_at.unix_timestamp();
        let Self {
            breach,
            step_hours,
            recipient,
            ..
        } = self;
        format!("breach_alert_mail:{breach}:{aware}:{step_hours}:{recipient}")
    }
}

/// The kinds a breach's write replaces: its queued steps. The per-recipient mails are
/// not planned (a step's handler adds them) and skip by themselves once moved on.
pub const PLANNED_KINDS: &[&str] = &[BreachAlert::KIND];

/// Whether two awareness instants are the same for the escalation: to the second. A
/// client may send nanoseconds, the store keeps microseconds, and the plan is made from
/// the instant as written, before the store rounds it.
pub fn same_awareness(planned: OffsetDateTime, stored: OffsetDateTime) -> bool {
    planned.unix_timestamp() == stored.unix_timestamp()
}

/// The instant of a step of a breach aware at `became_aware_at`.
pub fn step_at(became_aware_at: OffsetDateTime, step_hours: u16) -> OffsetDateTime {
    became_aware_at + Duration::hours(i64::from(step_hours))
}

/// The steps of `breach` from `now` on, as (step, when): none once the authority
/// decision is made; the latest step already past (at `now`), then those ahead at
/// their instants.
pub fn steps(breach: &Breach, now: OffsetDateTime) -> Vec<(u16, OffsetDateTime)> {
    if !breach.derived.status.awaits_decision() {
        return Vec::new();
    }
    let aware = breach.fields.became_aware_at;
    let past = STEPS_HOURS
        .iter()
        .rev()
        .find(|&&h| step_at(aware, h) <= now)
        .map(|&h| (h, now));
    let ahead = STEPS_HOURS
        .iter()
        .map(|&h| (h, step_at(aware, h)))
        .filter(|(_, at)| *at > now);
    past.into_iter().chain(ahead).collect()
}

/// The plan of `breach` from `now` on: one [`BreachAlert`] per step of [`steps`].
pub fn plan(breach: &Breach, now: OffsetDateTime, retry: &RetryPolicy) -> JobPlan {
    let jobs = steps(breach, now)
        .into_iter()
        .map(|(step_hours, run_at)| {
            let alert = BreachAlert {
                breach: breach.id.as_uuid(),
                became_aware_at: breach.fields.became_aware_at,
                step_hours,
            };
            NewJob::of(breach.tenant_id, &alert, run_at, retry.max_attempts)
        })
        .collect();
    JobPlan {
        subject: breach.id.as_uuid(),
        kinds: PLANNED_KINDS,
        jobs,
    }
}

/// Plans a breach's escalation on every write, on the service's clock.
pub struct EscalationPlanner {
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
}

impl JobPlanner<Breaches> for EscalationPlanner {
    fn plan(&self, breach: &Record<Breaches>) -> JobPlan {
        plan(breach, self.clock.now(), &self.retry)
    }
    fn kinds(&self) -> &'static [&'static str] {
        PLANNED_KINDS
    }
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::TenantId;
    use time::macros::datetime;

    use super::*;
    use crate::breach::{BreachFields, BreachKind, BreachState, BreachStatus};

    const AWARE: OffsetDateTime = datetime!(2027-03-05 09:00 UTC);

    fn breach(status: BreachStatus) -> Breach {
        Record {
            id: aura_records::Id::generate(),
            tenant_id: TenantId::generate(),
            fields: BreachFields {
                title: "Laptop stolen".into(),
                description: Some("Erika Mustermann's laptop".into()),
                discovery: None,
                became_aware_at: AWARE,
                occurred_from: None,
                occurred_to: None,
                kinds: vec![BreachKind::Confidentiality],
                data_subject_categories: vec!["customers".into()],
                approximate_subjects: Some(10),
                data_categories: vec![],
                approximate_records: None,
                activity_ids: vec![],
                processor_ids: vec![],
                consequences: None,
                measures: None,
                contact_point: None,
                drill: false,
                owner_id: Some(UserId::generate()),
                assignee_id: None,
            },
            derived: BreachState {
                status,
                ..BreachState::default()
            },
            version: 1,
            created_at: AWARE,
            updated_at: AWARE,
        }
    }

    fn planned(breach: &Breach, now: OffsetDateTime) -> Vec<(u16, OffsetDateTime)> {
        let plan = plan(breach, now, &RetryPolicy::default());
        assert_eq!(plan.subject, breach.id.as_uuid());
        plan.check(breach.id.as_uuid())
            .expect("the breach's own plan");
        (plan.jobs.iter())
            .map(|job| {
                let alert: BreachAlert = job.decode().expect("an alert");
                assert_eq!(alert.became_aware_at, breach.fields.became_aware_at);
                (alert.step_hours, job.run_at)
            })
            .collect()
    }

    #[test]
    fn a_breach_recorded_at_awareness_alerts_now_and_at_24_48_60_and_70_hours() {
        let b = breach(BreachStatus::Open);
        assert_eq!(
            planned(&b, AWARE),
            [
                (0, AWARE),
                (24, datetime!(2027-03-06 09:00 UTC)),
                (48, datetime!(2027-03-07 09:00 UTC)),
                (60, datetime!(2027-03-07 21:00 UTC)),
                (70, datetime!(2027-03-08 07:00 UTC)),
            ]
        );
    }

    #[test]
    fn steps_are_absolute_hours_across_a_daylight_saving_change() {
        // Berlin leaves winter time on 28 March 2027, 02:00 → 03:00 local: 24 hours
        // after Saturday 09:00 +01:00 is Sunday 10:00 +02:00, the same instant + 24 h.
        let mut b = breach(BreachStatus::Open);
        b.fields.became_aware_at = datetime!(2027-03-27 09:00 +01:00);
        let now = b.fields.became_aware_at;
        let steps = planned(&b, now);
        assert_eq!(steps[1], (24, datetime!(2027-03-28 10:00 +02:00)));
        assert_eq!(steps[1].1 - now, Duration::hours(24));
    }

    #[test]
    fn of_the_steps_already_past_only_the_latest_goes_out_at_once() {
        let b = breach(BreachStatus::Assessed);
        // Recorded 50 hours after awareness: the 48-hour step now, then 60 and 70.
        let now = AWARE + Duration::hours(50);
        assert_eq!(
            planned(&b, now),
            [
                (48, now),
                (60, datetime!(2027-03-07 21:00 UTC)),
                (70, datetime!(2027-03-08 07:00 UTC)),
            ]
        );
        // A week late: the 70-hour step now, nothing after it.
        let late = AWARE + Duration::days(7);
        assert_eq!(planned(&b, late), [(70, late)]);
        // Exactly at a step's instant, that step is the one due now.
        let at_24 = AWARE + Duration::hours(24);
        assert_eq!(planned(&b, at_24)[0], (24, at_24));
        assert_eq!(planned(&b, at_24).len(), 4);
    }

    #[test]
    fn nothing_once_the_authority_decision_is_made() {
        let now = AWARE + Duration::hours(1);
        for status in [
            BreachStatus::Notified,
            BreachStatus::NotNotified,
            BreachStatus::Closed,
        ] {
            let b = breach(status);
            let plan = plan(&b, now, &RetryPolicy::default());
            assert!(plan.jobs.is_empty(), "{status}: {plan:?}");
            assert_eq!(plan.kinds, PLANNED_KINDS, "the queued alerts are replaced");
        }
        assert_eq!(planned(&breach(BreachStatus::Open), now).len(), 5);
    }

    #[test]
    fn a_corrected_awareness_time_plans_new_keys_and_the_same_time_the_same_keys() {
        let b = breach(BreachStatus::Open);
        let now = AWARE + Duration::hours(30);
        let keys = |b: &Breach| -> Vec<String> {
            let plan = plan(b, now, &RetryPolicy::default());
            plan.jobs.iter().map(|j| j.job.dedupe_key.clone()).collect()
        };
        // A later write at the same awareness plans the same keys: a sent step is held.
        assert_eq!(keys(&b), keys(&b.clone()));
        let mut corrected = b.clone();
        corrected.fields.became_aware_at = AWARE - Duration::hours(20);
        // 50 hours after the corrected instant: the 48-hour step now, under new keys.
        assert_eq!(planned(&corrected, now)[0], (48, now));
        assert!(keys(&corrected).iter().all(|k| !keys(&b).contains(k)));
    }

    #[test]
    fn the_awareness_instant_counts_to_the_second_as_the_keys_do() {
        let written = datetime!(2027-03-05 09:00:00.123456789 UTC);
        let stored = datetime!(2027-03-05 09:00:00.123457 UTC);
        assert!(same_awareness(written, stored), "rounded by the store");
        assert!(!same_awareness(written, written + Duration::seconds(1)));
        let mut b = breach(BreachStatus::Open);
        b.fields.became_aware_at = written;
        let key = |b: &Breach| {
            plan(b, written, &RetryPolicy::default()).jobs[0]
                .job
                .dedupe_key
                .clone()
        };
        let first = key(&b);
        b.fields.became_aware_at = stored;
        assert_eq!(first, key(&b));
    }

    #[test]
    fn payloads_and_keys_carry_ids_and_instants_only() {
        let b = breach(BreachStatus::Open);
        for job in plan(&b, AWARE, &RetryPolicy::default()).jobs {
            let text = job.job.payload.to_string() + &job.job.dedupe_key;
            assert!(
                !text.contains("Erika") && !text.contains("Laptop"),
                "{text}"
            );
            assert_eq!(job.job.subject, Some(b.id.as_uuid()));
            assert_eq!(job.job.kind, BreachAlert::KIND);
        }
        let mail = BreachAlertMail {
            breach: b.id.as_uuid(),
            became_aware_at: AWARE,
            step_hours: 24,
            recipient: UserId::generate(),
        };
        let other = BreachAlertMail {
            recipient: UserId::generate(),
            ..mail.clone()
        };
        assert_ne!(mail.dedupe_key(), other.dedupe_key());
        assert_eq!(mail.subject(), None, "a mail is not replaced by a write");
    }
}
