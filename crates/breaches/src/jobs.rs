//! The breaches' job kinds and their handlers on the open queue, registered with
//! [`register`]: a step of the escalation ([`BreachAlert`], planned on every write, see
//! [`crate::escalation`]) fans out to one [`BreachAlertMail`] per recipient — the
//! breach's owner and assignee and the tenant's owners and admins, each once — so a
//! failed delivery retries one mail, never the others.
//!
//! Every job re-reads the breach before it acts: one whose authority decision is made,
//! or whose awareness time was corrected since the job was planned, is skipped. The
//! shared pieces (the tenant check, the administrators, the recipient check, the mail
//! rendering and sending) are the tasks' own.

use std::sync::Arc;

use aura_identity::ports::{Mailer, TenantRepository, UserRepository};
use aura_jobs::{
    ClaimedJob, DuplicateKind, JobFailure, JobHandler, JobOutcome, JobQueue, JobRegistry,
    RetryPolicy,
};
use aura_records::{Id, RecordStore};
use aura_shared_kernel::{Clock, StoreError, Tenant, TenantScope, UserId};
use aura_tasks::{
    administrators, mails_to, messages::Addressee, recipient, send_mail, with_active_tenant,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    breach::{Breach, Breaches},
    clock::standing,
    escalation::{BreachAlert, BreachAlertMail, same_awareness},
    messages::{self, Alert},
};

/// What the breaches' jobs use.
#[derive(Clone)]
pub struct BreachJobPorts {
    pub queue: Arc<dyn JobQueue>,
    /// The register's store (reads).
    pub breaches: Arc<dyn RecordStore<Breaches>>,
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone)]
pub struct BreachJobSettings {
    /// Link to a breach in mails; `{id}` is replaced by the breach id.
    pub breach_link: String,
    pub retry: RetryPolicy,
}

/// Registers the escalation's handlers.
pub fn register(
    registry: &mut JobRegistry,
    ports: BreachJobPorts,
    settings: BreachJobSettings,
) -> Result<(), DuplicateKind> {
    let jobs = Arc::new(Escalation { ports, settings });
    registry
        .register(Steps(jobs.clone()))?
        .register(Mails(jobs))?;
    Ok(())
}

struct Escalation {
    ports: BreachJobPorts,
    settings: BreachJobSettings,
}

struct Steps(Arc<Escalation>);
struct Mails(Arc<Escalation>);

#[async_trait::async_trait]
impl JobHandler for Steps {
    type Job = BreachAlert;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        step: BreachAlert,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |_| {
            self.0.fan_out(scope, step)
        })
        .await
    }
}

#[async_trait::async_trait]
impl JobHandler for Mails {
    type Job = BreachAlertMail;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        mail: BreachAlertMail,
    ) -> Result<JobOutcome, JobFailure> {
        with_active_tenant(self.0.ports.tenants.as_ref(), scope, |tenant| async move {
            self.0.send(scope, &tenant, mail).await
        })
        .await
    }
}

impl Escalation {
    /// The breach if its alerts planned from `became_aware_at` are still due: the
    /// authority decision open and the awareness time the same; else why not.
    async fn awaiting(
        &self,
        scope: &TenantScope,
        id: Uuid,
        became_aware_at: OffsetDateTime,
    ) -> Result<Result<Breach, JobOutcome>, JobFailure> {
        let skip = |why| Ok(Err(JobOutcome::Skipped(why)));
        match self.ports.breaches.get(scope, Id::from_uuid(id)).await {
            Ok(b) if !b.derived.status.awaits_decision() => skip("authority decision made"),
            Ok(b) if !same_awareness(became_aware_at, b.fields.became_aware_at) => {
                skip("awareness corrected")
            }
            Ok(breach) => Ok(Ok(breach)),
            Err(StoreError::NotFound) => skip("breach deleted"),
            Err(other) => Err(other.into()),
        }
    }

    async fn fan_out(
        &self,
        scope: &TenantScope,
        step: BreachAlert,
    ) -> Result<JobOutcome, JobFailure> {
        let breach = match self
            .awaiting(scope, step.breach, step.became_aware_at)
            .await?
        {
            Ok(breach) => breach,
            Err(skipped) => return Ok(skipped),
        };
        let admins = administrators(self.ports.users.as_ref(), scope).await?;
        let mut recipients: Vec<UserId> = Vec::new();
        let named = [breach.fields.owner_id, breach.fields.assignee_id];
        for user in named
            .into_iter()
            .flatten()
            .chain(admins.iter().map(|u| u.id))
        {
            if !recipients.contains(&user) {
                recipients.push(user);
            }
        }
        let run_at = self.ports.clock.now();
        let mails = mails_to(
            scope,
            recipients,
            run_at,
            &self.settings.retry,
            |recipient| BreachAlertMail {
                breach: step.breach,
                became_aware_at: step.became_aware_at,
                step_hours: step.step_hours,
                recipient,
            },
        );
        let added = self.ports.queue.enqueue(scope, &mails).await?;
        Ok(JobOutcome::Done(format!("enqueued {added} breach alerts")))
    }

    async fn send(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        mail: BreachAlertMail,
    ) -> Result<JobOutcome, JobFailure> {
        let breach = match self
            .awaiting(scope, mail.breach, mail.became_aware_at)
            .await?
        {
            Ok(breach) => breach,
            Err(skipped) => return Ok(skipped),
        };
        let users = self.ports.users.as_ref();
        let Some(user) = recipient(users, scope, mail.recipient).await? else {
            return Ok(JobOutcome::Skipped("recipient inactive or removed"));
        };
        let f = &breach.fields;
        let named = f.owner_id == Some(user.id) || f.assignee_id == Some(user.id);
        if !named && !user.role.is_privileged() {
            return Ok(JobOutcome::Skipped("recipient no longer concerned"));
        }
        let deadline = breach.derived.authority_deadline;
        let link = (self.settings.breach_link).replace("{id}", &breach.id.to_string());
        let text = messages::alert(
            Addressee::of(&user, tenant),
            &Alert {
                title: &f.title,
                deadline,
                standing: standing(deadline, self.ports.clock.now()),
                drill: f.drill,
                link: &link,
            },
        );
        send_mail(self.ports.mailer.as_ref(), text).await
    }
}
