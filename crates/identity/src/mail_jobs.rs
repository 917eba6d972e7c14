//! Identity's mail, sent from the job queue: a request that mails (a password reset, an
//! invitation, an unlock link) only enqueues an [`AccountMail`] in the user's tenant, so
//! its answer neither waits on nor is timed by issuing the token, rendering or the mail
//! server, and a mail that cannot go out is retried by the worker instead of failing
//! the request. The job issues the link when it runs, after re-reading user and tenant.
//! The helpers every domain's mail jobs share ([`active_tenant`], [`recipient`]) live
//! here, beside identity's ports they read.

use std::sync::Arc;

use aura_audit::RequestContext;
use aura_jobs::{ClaimedJob, Job, JobFailure, JobHandler, JobOutcome, NewJob, RetryPolicy};
use aura_shared_kernel::{StoreError, Tenant, TenantScope, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::IdentityError,
    mail::MailKind,
    ports::{TenantRepository, UserRepository},
    shared::Core,
    user::User,
};

/// Mail `kind` with a fresh link to `user`. One job per request (`request` keys it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMail {
    pub user: UserId,
    pub kind: MailKind,
    pub request: Uuid,
}

impl Job for AccountMail {
    const KIND: &'static str = "account_mail";
    fn dedupe_key(&self) -> String {
        format!("account-mail:{}", self.request)
    }
    fn subject(&self) -> Option<Uuid> {
        Some(self.user.as_uuid())
    }
}

impl Core {
    /// Enqueues an [`AccountMail`] of `kind` to `user` in the scope's tenant.
    pub(crate) async fn queue_mail(
        &self,
        scope: &TenantScope,
        user: UserId,
        kind: MailKind,
    ) -> Result<(), IdentityError> {
        let job = AccountMail {
            user,
            kind,
            request: Uuid::now_v7(),
        };
        let now = self.ports.clock.now();
        let max_attempts = RetryPolicy::default().max_attempts;
        let job = NewJob::of(scope.tenant_id(), &job, now, max_attempts);
        self.ports.jobs.enqueue(scope, &[job]).await?;
        Ok(())
    }
}

/// Runs [`AccountMail`] jobs: issues the link (audited) and mails it, if user and
/// tenant are still active; an invitation only while no password is set or the
/// membership is still pending.
#[derive(Clone)]
pub struct AccountMails(pub(crate) Arc<Core>);

#[async_trait::async_trait]
impl JobHandler for AccountMails {
    type Job = AccountMail;

    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        mail: AccountMail,
    ) -> Result<JobOutcome, JobFailure> {
        let ports = &self.0.ports;
        let tenant = match active_tenant(ports.tenants.as_ref(), scope).await? {
            Ok(tenant) => tenant,
            Err(skipped) => return Ok(skipped),
        };
        let Some(user) = recipient(ports.users.as_ref(), scope, mail.user).await? else {
            return Ok(JobOutcome::Skipped("user inactive or gone"));
        };
        // An invitation into a pending membership goes out even though the account
        // has a password (an existing account invited into another tenant).
        if mail.kind == MailKind::Invitation
            && !user.password_hash.is_unset()
            && user.accepted_at.is_some()
        {
            return Ok(JobOutcome::Skipped("password already set"));
        }
        match self
            .0
            .send_password_link(scope, &user, &tenant, mail.kind, &RequestContext::default())
            .await
        {
            Ok(()) => Ok(JobOutcome::Sent),
            Err(IdentityError::NotFound) => Ok(JobOutcome::Skipped("user gone")),
            // No personal data in the reason: the error's text names no address.
            Err(error) => Err(JobFailure::Retry(error.to_string())),
        }
    }
}

/// The job's tenant if it is active; otherwise the outcome that skips the job. Shared by
/// every domain's mail jobs.
pub async fn active_tenant(
    tenants: &dyn TenantRepository,
    scope: &TenantScope,
) -> Result<Result<Tenant, JobOutcome>, JobFailure> {
    match tenants.get(scope).await {
        Ok(tenant) if tenant.is_active => Ok(Ok(tenant)),
        Ok(_) => Ok(Err(JobOutcome::Skipped("organisation suspended"))),
        Err(StoreError::NotFound) => Ok(Err(JobOutcome::Skipped("organisation gone"))),
        Err(other) => Err(other.into()),
    }
}

/// The user `id` if active (a mail goes to them), `None` if deactivated or gone. Shared
/// by every domain's mail jobs.
pub async fn recipient(
    users: &dyn UserRepository,
    scope: &TenantScope,
    id: UserId,
) -> Result<Option<User>, JobFailure> {
    match users.get(scope, id).await {
        Ok(user) if user.is_active => Ok(Some(user)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
