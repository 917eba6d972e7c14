//! The intake's use cases: a public submission is stored pending and a confirmation link
//! mailed; following the link (and pressing the button) opens the request.
//!
//! No user acts here: the confirmation opens the request in a system scope
//! (`SystemScope::for_platform_operation("public intake")`) of the tenant whose public
//! page was used, found by its slug through the narrow lookup. The person proves only that
//! they read the mailbox they named; that is what the request records (channel web form,
//! received at the confirmation).

use std::sync::Arc;

use aura_audit::RequestContext;
use aura_identity::ports::{MailError, Mailer, Secrets};
use aura_records::{RecordUseCases, Source, UseCaseError};
use aura_shared_kernel::{StoreError, SystemScope, TenantId, TenantScope, TenantSlug};
use time::{Date, OffsetDateTime};

use crate::{
    intake::{
        form::IntakeSubmission,
        mail,
        pending::{IntakeId, IntakeStore, PendingIntake, PublicTenant},
        settings::IntakeLanguage,
    },
    request::{RequestFields, RequestId, Requests},
};

/// What the confirmation page shows of the request it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedRequest {
    pub id: RequestId,
    /// `DSR-2027-0001`.
    pub reference: String,
    pub due_on: Option<Date>,
}

/// Where a confirmed intake becomes a request: the requests' use cases.
#[async_trait::async_trait]
pub trait RequestIntakeSink: Send + Sync {
    async fn open_request(
        &self,
        scope: &TenantScope,
        fields: RequestFields,
        intake: IntakeId,
        ctx: &RequestContext,
    ) -> Result<OpenedRequest, UseCaseError>;
}

/// The register's one create path: permission, validation, the clock's dates, audit
/// event (naming the intake as the change's source, never the person).
#[async_trait::async_trait]
impl RequestIntakeSink for RecordUseCases<Requests> {
    async fn open_request(
        &self,
        scope: &TenantScope,
        fields: RequestFields,
        intake: IntakeId,
        ctx: &RequestContext,
    ) -> Result<OpenedRequest, UseCaseError> {
        let source = Source {
            kind: "request_intake",
            id: intake.as_uuid(),
        };
        let record = self.create(scope, fields, Some(&source), ctx).await?;
        Ok(OpenedRequest {
            id: record.id,
            reference: record.derived.reference,
            due_on: record.derived.due_on,
        })
    }
}

/// Why an intake step failed. None of these is the person's fault: the page answers 503.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("the request could not be opened: {0}")]
    Request(#[from] UseCaseError),
}

/// The confirmation tokens' shape (`Secrets::opaque_token`: 256 bits, URL-safe base64);
/// anything longer is not one of ours and is not even hashed.
const MAX_TOKEN_CHARS: usize = 128;

/// The public intake.
#[derive(Clone)]
pub struct IntakeService {
    store: Arc<dyn IntakeStore>,
    sink: Arc<dyn RequestIntakeSink>,
    mailer: Arc<dyn Mailer>,
    secrets: Arc<dyn Secrets>,
    /// Where the service is reached from outside (`https://aura.example`), for links.
    public_base: String,
}

impl IntakeService {
    pub fn new(
        store: Arc<dyn IntakeStore>,
        sink: Arc<dyn RequestIntakeSink>,
        mailer: Arc<dyn Mailer>,
        secrets: Arc<dyn Secrets>,
        public_base: impl Into<String>,
    ) -> Self {
        Self {
            store,
            sink,
            mailer,
            secrets,
            public_base: public_base.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The tenant behind a public page, if it exists, is active and has the page on.
    /// A slug that cannot be one is simply not found.
    pub async fn tenant(&self, slug: &str) -> Result<Option<PublicTenant>, IntakeError> {
        let Ok(slug) = TenantSlug::parse(slug) else {
            return Ok(None);
        };
        let tenant = self.store.find_public_tenant(&slug).await?;
        Ok(tenant.filter(|t| t.intake().enabled))
    }

    /// Stores the submission pending and mails the confirmation link to its address, in
    /// `language`. Expired intakes of the tenant are purged on the way (best effort).
    pub async fn submit(
        &self,
        tenant: &PublicTenant,
        submission: IntakeSubmission,
        language: IntakeLanguage,
        now: OffsetDateTime,
    ) -> Result<(), IntakeError> {
        let scope = public_scope(tenant.id);
        if let Err(error) = self.store.purge_expired(&scope, now).await {
            tracing::warn!(%error, "expired request intakes were not purged");
        }
        let token = self.secrets.opaque_token();
        let to = submission.email.clone();
        let intake = PendingIntake::new(token.hash, submission, now);
        self.store.insert_pending(&scope, &intake).await?;
        let link = format!(
            "{}/public/{}/requests/confirm/{}",
            self.public_base, tenant.slug, token.plain
        );
        let hours = PendingIntake::LIFETIME.whole_hours();
        let mail = mail::confirmation(language, to, &tenant.name, &link, hours);
        self.mailer.send(mail).await?;
        tracing::info!(intake = %intake.id, "request intake pending confirmation");
        Ok(())
    }

    /// Confirms the intake behind `token` at `now`: takes it (once) and opens its request,
    /// received now. `None` for an unknown, expired, used or another tenant's token. If
    /// the request cannot be opened the intake is put back, so the link works again.
    pub async fn confirm(
        &self,
        tenant: &PublicTenant,
        token: &str,
        now: OffsetDateTime,
        ctx: &RequestContext,
    ) -> Result<Option<OpenedRequest>, IntakeError> {
        if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            return Ok(None);
        }
        let scope = public_scope(tenant.id);
        let hash = self.secrets.hash_token(token);
        let Some(intake) = self.store.take_confirmed(&scope, &hash, now).await? else {
            return Ok(None);
        };
        let id = intake.id;
        let fields = intake.submission.into_request_fields(now);
        match self.sink.open_request(&scope, fields, id, ctx).await {
            Ok(opened) => {
                tracing::info!(intake = %id, request = %opened.id, "request intake confirmed");
                Ok(Some(opened))
            }
            Err(error) => {
                if let Err(release) = self.store.release(&scope, id).await {
                    tracing::error!(%release, intake = %id, "a confirmed intake was not put back");
                }
                Err(error.into())
            }
        }
    }
}

/// The scope a public intake acts in: the platform, inside the tenant whose page it is.
fn public_scope(tenant: TenantId) -> TenantScope {
    SystemScope::for_platform_operation("public intake").within(tenant)
}
