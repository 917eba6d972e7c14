//! The audit trail's upkeep, once a day per tenant: the personal values of events past
//! the retention period are shredded, and every few days each owner is mailed the chain's
//! signed checkpoint with the result of verifying it: a copy of the head outside the
//! database, which `POST /api/v1/audit-events/verify` compares the chain with later. The
//! mail job verifies and signs when it sends, so nothing a database writer could change
//! in the queue ends up in the mail.

use std::sync::Arc;

use aura_audit::{AuditService, ChainVerification};
use aura_identity::ports::{Mailer, TenantRepository, UserRepository};
use aura_jobs::{
    ClaimedJob, DailyJob, DuplicateKind, EncodedJob, Job, JobFailure, JobHandler, JobOutcome,
    JobQueue, JobRegistry, RetryPolicy,
};
use aura_shared_kernel::{Clock, Role, TenantScope, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, macros::time};

use crate::{
    messages::{self, Addressee},
    task_jobs::{active_tenant, administrators, mails_to, recipient, send},
};

/// The tenant's audit upkeep of `date`: retention, then the checkpoint mails on their day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditUpkeep {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
}

impl Job for AuditUpkeep {
    const KIND: &'static str = "audit_upkeep";
    fn dedupe_key(&self) -> String {
        format!("audit:{}", self.date)
    }
}

/// Mail `recipient` the chain's signed checkpoint, verified when sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMail {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
    pub recipient: UserId,
}

impl Job for CheckpointMail {
    const KIND: &'static str = "audit_checkpoint_mail";
    fn dedupe_key(&self) -> String {
        format!("audit:{}:{}", self.date, self.recipient)
    }
}

/// What the audit upkeep uses.
#[derive(Clone)]
pub struct AuditJobPorts {
    pub audit: AuditService,
    pub queue: Arc<dyn JobQueue>,
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

/// The upkeep's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditJobSettings {
    /// Personal values older than this are shredded; `None` keeps them.
    pub personal_retention: Option<Duration>,
    /// The checkpoint mail goes out on days whose number since 1970 this divides; 0:
    /// never.
    pub checkpoint_every_days: u32,
    pub retry: RetryPolicy,
}

impl AuditJobSettings {
    fn mails_on(&self, date: Date) -> bool {
        let day = (date - Date::from_julian_day(2_440_588).unwrap_or(date)).whole_days();
        self.checkpoint_every_days > 0 && day.rem_euclid(i64::from(self.checkpoint_every_days)) == 0
    }
}

/// Adds the upkeep's kinds and its daily job to `registry`.
pub fn register_audit_upkeep(
    registry: &mut JobRegistry,
    ports: AuditJobPorts,
    settings: AuditJobSettings,
) -> Result<(), DuplicateKind> {
    let upkeep = Arc::new(Upkeep { ports, settings });
    registry
        .register(Upkeeps(upkeep.clone()))?
        .register(CheckpointMails(upkeep))?
        .daily(DailyUpkeep);
    Ok(())
}

/// At 03:00 UTC, before the day's reminders.
struct DailyUpkeep;

impl DailyJob for DailyUpkeep {
    fn due_at(&self, date: Date) -> OffsetDateTime {
        date.with_time(time!(03:00)).assume_utc()
    }
    fn job(&self, date: Date) -> EncodedJob {
        EncodedJob::of(&AuditUpkeep { date })
    }
}

struct Upkeep {
    ports: AuditJobPorts,
    settings: AuditJobSettings,
}

struct Upkeeps(Arc<Upkeep>);
struct CheckpointMails(Arc<Upkeep>);

#[async_trait::async_trait]
impl JobHandler for Upkeeps {
    type Job = AuditUpkeep;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        upkeep: AuditUpkeep,
    ) -> Result<JobOutcome, JobFailure> {
        let ports = &self.0.ports;
        let settings = &self.0.settings;
        // Retention holds for a suspended organisation too: its trail keeps no values
        // longer than anyone else's.
        let shredded = match settings.personal_retention {
            Some(retention) => {
                let before = ports.clock.now() - retention;
                ports
                    .audit
                    .shred_before(scope, before)
                    .await
                    .map_err(retry)?
            }
            None => 0,
        };
        // A chain last written before the key gets a keyed link, so its mail verifies.
        ports.audit.key_chain(scope).await.map_err(retry)?;
        let mut done = format!("shredded the personal values of {shredded} events");
        if settings.mails_on(upkeep.date)
            && active_tenant(ports.tenants.as_ref(), scope).await?.is_ok()
        {
            let owners = administrators(ports.users.as_ref(), scope)
                .await?
                .into_iter()
                .filter(|user| user.role == Role::Owner)
                .map(|user| user.id);
            let date = upkeep.date;
            let mails = mails_to(
                scope,
                owners,
                ports.clock.now(),
                &settings.retry,
                |recipient| CheckpointMail { date, recipient },
            );
            let added = ports.queue.enqueue(scope, &mails).await?;
            done.push_str(&format!("; enqueued {added} checkpoint mails"));
        }
        Ok(JobOutcome::Done(done))
    }
}

#[async_trait::async_trait]
impl JobHandler for CheckpointMails {
    type Job = CheckpointMail;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        mail: CheckpointMail,
    ) -> Result<JobOutcome, JobFailure> {
        let ports = &self.0.ports;
        let tenant = match active_tenant(ports.tenants.as_ref(), scope).await? {
            Ok(tenant) => tenant,
            Err(skipped) => return Ok(skipped),
        };
        let Some(user) = recipient(ports.users.as_ref(), scope, mail.recipient).await? else {
            return Ok(JobOutcome::Skipped("recipient inactive or removed"));
        };
        if user.role != Role::Owner {
            return Ok(JobOutcome::Skipped("recipient no longer an owner"));
        }
        let report = ports.audit.verify(scope).await.map_err(retry)?;
        let mail = checkpoint_mail(Addressee::of(&user, &tenant), &report);
        send(ports.mailer.as_ref(), mail).await
    }
}

fn retry(error: aura_audit::AuditError) -> JobFailure {
    JobFailure::Retry(error.to_string())
}

/// The mail: the checkpoint as the JSON body `POST /api/v1/audit-events/verify` takes,
/// or, when the chain does not verify, that it does not and how many links are broken.
fn checkpoint_mail(
    to: Addressee<'_>,
    report: &ChainVerification,
) -> aura_identity::mail::OutgoingMail {
    let organisation = to.organisation;
    match &report.checkpoint {
        Some(checkpoint) => {
            let json = serde_json::json!({"checkpoints": [{
                "tenant_id": checkpoint.tenant_id.as_uuid(),
                "seq": checkpoint.seq,
                "hash": checkpoint.hash.to_hex(),
                "sealed_at": checkpoint.sealed_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "signature": checkpoint.signature.to_hex(),
            }]});
            let (events, json) = (report.events_checked.to_string(), json.to_string());
            messages::mail(
                to.email,
                format!("Audit trail checkpoint of {organisation}"),
                CHECKPOINT_BODY,
                &[
                    ("name", to.name),
                    ("organisation", organisation),
                    ("events", events.as_str()),
                    ("checkpoint", json.as_str()),
                ],
            )
        }
        None => {
            let broken = report.broken_count.to_string();
            messages::mail(
                to.email,
                format!("The audit trail of {organisation} does not verify"),
                BROKEN_BODY,
                &[
                    ("name", to.name),
                    ("organisation", organisation),
                    ("broken", broken.as_str()),
                ],
            )
        }
    }
}

const CHECKPOINT_BODY: &str = "Hello {name},\n\nthe audit trail of {organisation} verifies: {events} events, each linked to the one before under a key kept outside the database.\n\nKeep this checkpoint of its newest event outside the service (this mail will do):\n\n{checkpoint}\n\nTo show later that no event up to it was changed or removed, send it as the body of POST /api/v1/audit-events/verify: the answer is valid only if the trail still reaches it unchanged.\n\nYou receive this mail as an owner of the organisation.";

const BROKEN_BODY: &str = "Hello {name},\n\nthe audit trail of {organisation} does NOT verify: {broken} broken links. Events were changed or removed outside the service. GET /api/v1/audit-events/verify lists them; compare the trail with the checkpoints of earlier mails through POST /api/v1/audit-events/verify.\n\nYou receive this mail as an owner of the organisation.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_mails_go_out_every_n_days() {
        let settings = |days| AuditJobSettings {
            personal_retention: None,
            checkpoint_every_days: days,
            retry: RetryPolicy::default(),
        };
        let day = |n: i64| Date::from_julian_day(2_440_588 + n as i32).unwrap();
        assert!(settings(7).mails_on(day(0)));
        assert!(!settings(7).mails_on(day(1)));
        assert!(settings(7).mails_on(day(14)));
        assert_eq!((0..28).filter(|n| settings(7).mails_on(day(*n))).count(), 4);
        assert!((0..28).all(|n| settings(1).mails_on(day(n))));
        assert!((0..28).all(|n| !settings(0).mails_on(day(n))));
    }
}
