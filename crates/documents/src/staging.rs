//! The sweep of dropped uploads: an upload whose request died without discarding it (a
//! crash, a cancelled request) leaves staged chunks that no version names. Once a day
//! per tenant the `document_staging_sweep` job removes those staged longer than
//! [`STAGING_BOUND`](crate::service::STAGING_BOUND), each removal audited; an upload over
//! the quota sweeps its own tenant's at once.

use aura_jobs::{
    ClaimedJob, DailyJob, DuplicateKind, EncodedJob, Job, JobFailure, JobHandler, JobOutcome,
    JobRegistry,
};
use aura_shared_kernel::TenantScope;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, macros::time};

use crate::service::{DocumentError, DocumentService};

/// The tenant's sweep of `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepStaged {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
}

impl Job for SweepStaged {
    const KIND: &'static str = "document_staging_sweep";
    fn dedupe_key(&self) -> String {
        format!("document-staging:{}", self.date)
    }
}

/// Adds the sweep's kind and its daily job to `registry`.
pub fn register(
    registry: &mut JobRegistry,
    documents: DocumentService,
) -> Result<(), DuplicateKind> {
    registry.register(Sweeps(documents))?.daily(DailySweep);
    Ok(())
}

/// At 02:30 UTC, outside office hours.
struct DailySweep;

impl DailyJob for DailySweep {
    fn due_at(&self, date: Date) -> OffsetDateTime {
        date.with_time(time!(02:30)).assume_utc()
    }
    fn job(&self, date: Date) -> EncodedJob {
        EncodedJob::of(&SweepStaged { date })
    }
}

struct Sweeps(DocumentService);

#[async_trait::async_trait]
impl JobHandler for Sweeps {
    type Job = SweepStaged;
    async fn run(
        &self,
        scope: &TenantScope,
        _job: &ClaimedJob,
        _sweep: SweepStaged,
    ) -> Result<JobOutcome, JobFailure> {
        // A suspended tenant's dropped uploads go too: they are no one's content.
        // Store failures carry no personal data; they are retried.
        let swept = (self.0.sweep_staged(scope).await)
            .map_err(|error: DocumentError| JobFailure::Retry(format!("sweep: {error}")))?;
        Ok(JobOutcome::Done(format!("swept {swept} dropped uploads")))
    }
}
