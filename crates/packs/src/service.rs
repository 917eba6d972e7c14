//! The use cases behind the routes: ask for a pack (queued, its build enqueued), read
//! where it stands, download it. Owners and admins only: a pack holds the audit chain's
//! verification, which is theirs to read.

use std::sync::Arc;

use aura_audit::{AuditLog, Changes, PendingEvent, RequestContext, require_audited};
use aura_jobs::{JobQueue, NewJob};
use aura_records::UseCaseError;
use aura_reports::Language;
use aura_shared_kernel::{Clock, Permission, TenantScope};
use uuid::Uuid;

use crate::{Pack, PackId, PackStatus, Period, actions, jobs::BuildPack, ports::PackStore};

/// How long packs are kept, and how often a build is tried.
#[derive(Debug, Clone, Copy)]
pub struct PackSettings {
    /// `PACK_RETENTION_HOURS`: from the request until the bytes are removed.
    pub retention: time::Duration,
    pub max_attempts: i32,
}

#[derive(Clone)]
pub struct Packs {
    store: Arc<dyn PackStore>,
    queue: Arc<dyn JobQueue>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    settings: PackSettings,
}

impl Packs {
    pub fn new(
        store: Arc<dyn PackStore>,
        queue: Arc<dyn JobQueue>,
        audit: Arc<dyn AuditLog>,
        clock: Arc<dyn Clock>,
        settings: PackSettings,
    ) -> Self {
        Self {
            store,
            queue,
            audit,
            clock,
            settings,
        }
    }

    /// A new queued pack of `period` in `language`, its build enqueued.
    pub async fn request(
        &self,
        scope: &TenantScope,
        period: Period,
        language: Language,
        ctx: &RequestContext,
    ) -> Result<Pack, UseCaseError> {
        require_audited(self.audit.as_ref(), scope, Permission::ReadAudit, ctx).await?;
        let now = self.clock.now();
        let pack = Pack {
            id: Uuid::now_v7(),
            tenant_id: scope.tenant_id(),
            status: PackStatus::Queued,
            period,
            language,
            requested_by: scope.user_id(),
            created_at: now,
            expires_at: now + self.settings.retention,
            built_at: None,
            size: None,
            sha256: None,
            failure: None,
        };
        let changes = Changes::new()
            .note("period_from", period.from.to_string())
            .note("period_to", period.to.to_string())
            .note("language", language.tag())
            .note(
                "expires_at",
                aura_gdpr_registers::csv::instant(pack.expires_at),
            );
        let event = PendingEvent::new(
            scope,
            actions::REQUESTED,
            actions::ENTITY,
            pack.id,
            changes,
            ctx,
        );
        self.store.insert(scope, &pack, event).await?;
        let job = NewJob::of(
            scope.tenant_id(),
            &BuildPack { pack_id: pack.id },
            now,
            self.settings.max_attempts,
        );
        // A pack whose build was never enqueued stays queued until it expires.
        self.queue.enqueue(scope, &[job]).await?;
        Ok(pack)
    }

    pub async fn get(
        &self,
        scope: &TenantScope,
        id: PackId,
        ctx: &RequestContext,
    ) -> Result<Pack, UseCaseError> {
        require_audited(self.audit.as_ref(), scope, Permission::ReadAudit, ctx).await?;
        let pack = self.store.get(scope, id).await?;
        Ok(self.as_of_now(pack))
    }

    /// The ready pack and its bytes; `NotFound` before it is built and after it expired.
    pub async fn content(
        &self,
        scope: &TenantScope,
        id: PackId,
        ctx: &RequestContext,
    ) -> Result<(Pack, Vec<u8>), UseCaseError> {
        let pack = self.get(scope, id, ctx).await?;
        if pack.status != PackStatus::Ready {
            return Err(UseCaseError::NotFound);
        }
        let bytes = self.store.content(scope, id).await?;
        Ok((pack, bytes))
    }

    /// A pack past its time reads as expired even before the purge removed its bytes.
    fn as_of_now(&self, mut pack: Pack) -> Pack {
        if pack.expires_at <= self.clock.now() && pack.status != PackStatus::Failed {
            pack.status = PackStatus::Expired;
        }
        pack
    }
}
