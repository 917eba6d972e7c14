//! Jobs a kernel register plans on every write (a breach's escalation alerts): the
//! register's [`JobPlanner`] says which jobs a record should have from now on, and the
//! store writes them in the transaction that writes the record, so a planned job exists
//! exactly when the change that made it due does. [`PlannedRecords`] is the kernel's
//! [`RecordStore`] over such a store: reads pass through, every write carries the plan
//! of the record as written, and the register's use cases stay the kernel's.
//!
//! Storing a plan first cancels the record's queued jobs of the plan's kinds, then adds
//! the plan's jobs, each left out when its dedupe key is held (a job already sent keeps
//! its key and is not sent again).

use std::sync::Arc;

use aura_audit::PendingEvent;
use aura_records::{Id, ListPage, ListQuery, Record, RecordKind, RecordStore};
use aura_shared_kernel::{StoreError, TenantScope};
use uuid::Uuid;

use crate::NewJob;

/// The jobs of one record from now on: those of `kinds` it has queued are replaced by
/// `jobs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPlan {
    /// The record (the jobs' `subject`).
    pub subject: Uuid,
    /// The kinds the plan replaces.
    pub kinds: &'static [&'static str],
    pub jobs: Vec<NewJob>,
}

impl JobPlan {
    /// The plan must be the written record's own, and its jobs of its kinds and subject.
    pub fn check(&self, record: Uuid) -> Result<(), StoreError> {
        let own = |job: &NewJob| {
            job.job.subject == Some(self.subject) && self.kinds.contains(&job.job.kind.as_str())
        };
        if self.subject == record && self.jobs.iter().all(own) {
            Ok(())
        } else {
            Err(StoreError::unexpected("a job plan of another record"))
        }
    }
}

/// What a register whose writes plan jobs asks of its store: the kernel's writes, each
/// with the record's plan (or, for a delete, the kinds to cancel) in its transaction.
#[async_trait::async_trait]
pub trait PlannedWrites<K: RecordKind>: Send + Sync {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        plan: &JobPlan,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError>;

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        plan: &JobPlan,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError>;

    /// Deletes the record and cancels its queued jobs of `kinds`.
    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        kinds: &'static [&'static str],
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// A register's plan for a record as written (its clock says what "from now on" is).
pub trait JobPlanner<K: RecordKind>: Send + Sync {
    fn plan(&self, record: &Record<K>) -> JobPlan;
    /// The kinds the register plans (cancelled when a record is deleted).
    fn kinds(&self) -> &'static [&'static str];
}

/// The kernel's [`RecordStore`] of a register that plans jobs: reads from `records`,
/// writes through `writes` with `planner`'s plan of the record as written.
pub struct PlannedRecords<K: RecordKind> {
    pub records: Arc<dyn RecordStore<K>>,
    pub writes: Arc<dyn PlannedWrites<K>>,
    pub planner: Arc<dyn JobPlanner<K>>,
}

#[async_trait::async_trait]
impl<K: RecordKind> RecordStore<K> for PlannedRecords<K> {
    async fn insert(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        let plan = self.planner.plan(record);
        self.writes.insert(scope, record, &plan, event).await
    }

    async fn get(&self, scope: &TenantScope, id: Id<K>) -> Result<Record<K>, StoreError> {
        self.records.get(scope, id).await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<K::Filter>,
    ) -> Result<ListPage<Record<K>>, StoreError> {
        self.records.list(scope, query).await
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Record<K>>, StoreError> {
        self.records.all(scope).await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        record: &Record<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<Record<K>, StoreError> {
        let plan = self.planner.plan(record);
        (self.writes)
            .update(scope, record, expected_version, &plan, event)
            .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let kinds = self.planner.kinds();
        (self.writes)
            .delete(scope, id, expected_version, kinds, event)
            .await
    }
}
