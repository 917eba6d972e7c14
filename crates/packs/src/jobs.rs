//! The pack's jobs: the build (one per pack) and the daily purge of expired packs.

use std::sync::Arc;

use aura_audit::{Changes, PendingEvent, RequestContext};
use aura_jobs::{
    ClaimedJob, DailyJob, DuplicateKind, EncodedJob, Job, JobFailure, JobHandler, JobOutcome,
    JobRegistry,
};
use aura_records::UseCaseError;
use aura_shared_kernel::{Clock, StoreError, TenantScope};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, macros::time};
use uuid::Uuid;

use crate::{
    BuiltPack, PackStatus, actions,
    contents::{ContentError, PackSources},
    manifest::{self, Manifest},
    ports::{Archive, Digest, PackStore, Signer},
};

/// Builds pack `pack_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPack {
    pub pack_id: Uuid,
}

impl Job for BuildPack {
    const KIND: &'static str = "accountability_pack_build";
    fn dedupe_key(&self) -> String {
        format!("accountability_pack.build:{}", self.pack_id)
    }
    fn subject(&self) -> Option<Uuid> {
        Some(self.pack_id)
    }
}

/// Removes the bytes of the tenant's expired packs (daily).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgePacks {
    #[serde(with = "aura_shared_kernel::date::iso_date")]
    pub date: Date,
}

impl Job for PurgePacks {
    const KIND: &'static str = "accountability_pack_purge";
    fn dedupe_key(&self) -> String {
        format!("accountability_pack.purge:{}", self.date)
    }
}

/// What the jobs need.
#[derive(Clone)]
pub struct PackJobs {
    pub store: Arc<dyn PackStore>,
    pub sources: PackSources,
    pub archive: Arc<dyn Archive>,
    pub digest: Arc<dyn Digest>,
    pub signer: Arc<dyn Signer>,
    pub clock: Arc<dyn Clock>,
}

pub fn register(registry: &mut JobRegistry, jobs: PackJobs) -> Result<(), DuplicateKind> {
    let jobs = Arc::new(jobs);
    registry
        .register(Builds(jobs.clone()))?
        .register(Purges(jobs))?
        .daily(DailyPurge);
    Ok(())
}

/// At 02:30 UTC.
struct DailyPurge;

impl DailyJob for DailyPurge {
    fn due_at(&self, date: Date) -> OffsetDateTime {
        date.with_time(time!(02:30)).assume_utc()
    }
    fn job(&self, date: Date) -> EncodedJob {
        EncodedJob::of(&PurgePacks { date })
    }
}

struct Builds(Arc<PackJobs>);
struct Purges(Arc<PackJobs>);

fn event(
    scope: &TenantScope,
    action: aura_audit::AuditAction,
    id: Uuid,
    changes: Changes,
) -> PendingEvent {
    PendingEvent::new(
        scope,
        action,
        actions::ENTITY,
        id,
        changes,
        &RequestContext::default(),
    )
}

/// A store that does not answer is worth another try; anything else is not.
fn transient(error: &ContentError) -> bool {
    matches!(
        error,
        ContentError::Read(UseCaseError::Unavailable(_))
            | ContentError::Audit(aura_audit::AuditError::Store(StoreError::Unavailable(_)))
    )
}

#[async_trait::async_trait]
impl JobHandler for Builds {
    type Job = BuildPack;
    async fn run(
        &self,
        scope: &TenantScope,
        job: &ClaimedJob,
        payload: BuildPack,
    ) -> Result<JobOutcome, JobFailure> {
        let ports = &self.0;
        let id = payload.pack_id;
        let pack = match ports.store.get(scope, id).await {
            Ok(pack) => pack,
            Err(StoreError::NotFound) => return Ok(JobOutcome::Skipped("pack gone")),
            Err(other) => return Err(other.into()),
        };
        if pack.status != PackStatus::Queued {
            return Ok(JobOutcome::Skipped("pack no longer queued"));
        }
        let now = ports.clock.now();
        let built = match ports.sources.files(scope, &pack, now).await {
            Ok(made) => seal(ports, made, &pack, now),
            Err(error) if transient(&error) && job.attempts < job.max_attempts => {
                return Err(JobFailure::Retry(error.to_string()));
            }
            Err(error) => Err(error.to_string()),
        };
        match built {
            Ok((built, files)) => {
                let changes = Changes::new()
                    .note("size", built.bytes.len())
                    .note("sha256", &built.sha256)
                    .note("files", files);
                ports
                    .store
                    .store_built(scope, id, &built, event(scope, actions::BUILT, id, changes))
                    .await?;
                Ok(JobOutcome::Done(format!("built a pack of {files} files")))
            }
            Err(reason) => {
                tracing::warn!(pack = %id, %reason, "accountability pack failed");
                let changes = Changes::new().note("reason", &reason);
                ports
                    .store
                    .store_failed(
                        scope,
                        id,
                        &reason,
                        event(scope, actions::FAILED, id, changes),
                    )
                    .await?;
                Ok(JobOutcome::Done("pack failed".to_owned()))
            }
        }
    }
}

/// The manifest and its signature added to `files`, all in one archive.
fn seal(
    ports: &PackJobs,
    (files, head): (Vec<crate::ports::PackFile>, Option<String>),
    pack: &crate::Pack,
    now: OffsetDateTime,
) -> Result<(BuiltPack, usize), String> {
    let header = Manifest {
        format: manifest::FORMAT.to_owned(),
        pack_id: pack.id,
        tenant_id: pack.tenant_id.as_uuid(),
        built_at: now,
        period: pack.period,
        audit_chain_head: head,
        files: Vec::new(),
    };
    let sealed = manifest::seal(files, header, ports.digest.as_ref(), ports.signer.as_ref())
        .map_err(|e| e.to_string())?;
    let bytes = ports.archive.pack(&sealed).map_err(|e| e.to_string())?;
    let sha256 = ports.digest.sha256_hex(&bytes);
    Ok((
        BuiltPack {
            bytes,
            sha256,
            built_at: now,
        },
        sealed.len(),
    ))
}

#[async_trait::async_trait]
impl JobHandler for Purges {
    type Job = PurgePacks;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        _payload: PurgePacks,
    ) -> Result<JobOutcome, JobFailure> {
        let ports = &self.0;
        let expired = ports.store.expired(scope, ports.clock.now()).await?;
        for id in &expired {
            let changes = Changes::new().note("content", "removed");
            ports
                .store
                .expire(scope, *id, event(scope, actions::EXPIRED, *id, changes))
                .await?;
        }
        Ok(JobOutcome::Done(format!("{} packs expired", expired.len())))
    }
}
