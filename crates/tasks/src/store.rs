//! The kernel's store of tasks: the task repository, each insert and update carrying
//! the reminders the task has after it. The plan is the domain's (policy, clock); the
//! repository stores it in the write's transaction.

use std::sync::Arc;

use aura_audit::PendingEvent;
use aura_jobs::RetryPolicy;
use aura_records::{ListPage, ListQuery, RecordStore};
use aura_shared_kernel::{Clock, StoreError, TenantScope};

use crate::{
    ports::{TaskFilter, TaskQuery, TaskRepository, TaskSort},
    reminders::{ReminderPlan, ReminderPolicy},
    task::{Task, TaskId, Tasks},
};

/// Plans a task's reminders from now on.
#[derive(Clone)]
pub struct Planner {
    pub reminders: ReminderPolicy,
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
}

impl Planner {
    pub fn plan(&self, task: &Task) -> ReminderPlan {
        self.reminders.plan(task, self.clock.now(), &self.retry)
    }
}

/// [`RecordStore`] of tasks over a [`TaskRepository`], planning reminders on every write.
pub struct TaskRecords {
    pub tasks: Arc<dyn TaskRepository>,
    pub planner: Planner,
}

#[async_trait::async_trait]
impl RecordStore<Tasks> for TaskRecords {
    async fn insert(
        &self,
        scope: &TenantScope,
        task: &Task,
        event: PendingEvent,
    ) -> Result<Task, StoreError> {
        let plan = self.planner.plan(task);
        self.tasks.insert(scope, task, &plan, event).await?;
        // A task's derived values are the domain's own (who completed it, when): the
        // row as written is the row as read.
        Ok(task.clone())
    }

    async fn get(&self, scope: &TenantScope, id: TaskId) -> Result<Task, StoreError> {
        self.tasks.get(scope, id).await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<TaskFilter>,
    ) -> Result<ListPage<Task>, StoreError> {
        let query = TaskQuery {
            filter: query.filter.clone(),
            sort: TaskSort::Record(query.sort),
            after: query.after.clone(),
            limit: query.limit,
        };
        self.tasks.list(scope, &query).await
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Task>, StoreError> {
        let query = ListQuery {
            limit: usize::MAX - 1,
            ..ListQuery::default()
        };
        Ok(self.list(scope, &query).await?.items)
    }

    async fn update(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<Task, StoreError> {
        let plan = self.planner.plan(task);
        self.tasks
            .update(scope, task, expected_version, &plan, event)
            .await?;
        Ok(task.clone())
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: TaskId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.tasks.delete(scope, id, expected_version, event).await
    }
}
