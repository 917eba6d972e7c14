//! [`TaskRepository`] on PostgreSQL, table `tasks`, with each task's reminders in `jobs`.
//!
//! Every write goes through `PgStores::write_audited`: one `in_tenant` transaction
//! holding the task row, its audit event and its reminders, so a reminder exists exactly
//! when the change that made it due does. Updates are optimistic (`UPDATE … WHERE
//! version = expected`) and replace the task's queued reminders: the queued ones are
//! cancelled, then the plan is inserted `ON CONFLICT DO NOTHING` (a reminder that was
//! already sent keeps its key and is not sent again). An assignee outside the tenant
//! fails the composite foreign key and a link to no record of the tenant fails the check
//! before the write; both are `Conflict::UnknownReference` naming the field.

use std::sync::Arc;

use aura_audit::PendingEvent;
use aura_jobs::JobQueue;
use aura_records::Id;
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, UserId};
use aura_tasks::{
    Category, LINK_FIELD, LinkKind, RecordLink, Recurrence, ReminderPlan, Task, TaskFields, TaskId,
    TaskState, TaskStatus,
    ports::{ListPage, TaskQuery, TaskRepository, TaskSort, parse_date_key},
};
use diesel::{prelude::*, sql_types::Date as SqlDate};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    audit::append_event,
    error::{DbError, corrupt},
    jobs::{cancel_reminders, insert_jobs},
    pool::{in_tenant, read_in_tenant},
    prepared::{Fixed, Prepared, fixed},
    registers::{fetch_limit, keyset, page_from_overfetch, records::present_ids, stored_enum},
    rows::{at_version, delete_at_version, expect_changed, in_scope},
    schema::tasks,
    stores::PgStores,
};

/// The tasks' table, as a delete and the check of an optimistic write name it.
const TABLE: &str = "tasks";

impl PgStores {
    pub fn tasks(&self) -> Arc<dyn TaskRepository> {
        Arc::new(self.clone())
    }

    pub fn jobs(&self) -> Arc<dyn JobQueue> {
        Arc::new(self.clone())
    }
}

/// A task's row: the keys and what creation fixed for good, and what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg))]
struct TaskRow {
    tenant_id: Uuid,
    id: Uuid,
    created_by: Option<Uuid>,
    previous_id: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: TaskChanges,
}

/// What an update replaces: everything but the keys and what creation fixed for good
/// (`created_by`, `created_at`, `previous_id`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct TaskChanges {
    title: String,
    description: Option<String>,
    category: String,
    due_date: Option<Date>,
    status: String,
    assigned_to: Option<Uuid>,
    link_kind: Option<String>,
    link_id: Option<Uuid>,
    recurrence: String,
    completed_by: Option<Uuid>,
    completed_at: Option<OffsetDateTime>,
    version: i32,
    updated_at: OffsetDateTime,
}

impl From<&Task> for TaskRow {
    fn from(task: &Task) -> Self {
        let (f, d) = (&task.fields, &task.derived);
        Self {
            tenant_id: task.tenant_id.as_uuid(),
            id: task.id.as_uuid(),
            created_by: d.created_by.map(|u| u.as_uuid()),
            previous_id: d.previous_id.map(|p| p.as_uuid()),
            created_at: task.created_at,
            changes: TaskChanges {
                title: f.title.clone(),
                description: f.description.clone(),
                category: f.category.as_str().to_owned(),
                due_date: f.due_date,
                status: f.status.as_str().to_owned(),
                assigned_to: f.assigned_to.map(|u| u.as_uuid()),
                link_kind: f.link.map(|l| l.kind.as_str().to_owned()),
                link_id: f.link.map(|l| l.id),
                recurrence: f.recurrence.as_str().to_owned(),
                completed_by: d.completed_by.map(|u| u.as_uuid()),
                completed_at: d.completed_at,
                version: task.version,
                updated_at: task.updated_at,
            },
        }
    }
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;
    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        let c = row.changes;
        let link = match (c.link_kind, c.link_id) {
            (None, None) => None,
            (Some(kind), Some(id)) => Some(RecordLink {
                kind: stored_enum::<LinkKind>(&kind, "stored task link kind")?,
                id,
            }),
            _ => return Err(corrupt("stored task link")),
        };
        Ok(Task {
            id: Id::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            fields: TaskFields {
                title: c.title,
                description: c.description,
                category: stored_enum::<Category>(&c.category, "stored task category")?,
                due_date: c.due_date,
                assigned_to: c.assigned_to.map(UserId::from_uuid),
                link,
                recurrence: stored_enum::<Recurrence>(&c.recurrence, "stored recurrence")?,
                status: stored_enum::<TaskStatus>(&c.status, "stored task status")?,
            },
            derived: TaskState {
                created_by: row.created_by.map(UserId::from_uuid),
                completed_by: c.completed_by.map(UserId::from_uuid),
                completed_at: c.completed_at,
                previous_id: row.previous_id.map(Id::from_uuid),
            },
            version: c.version,
            created_at: row.created_at,
            updated_at: c.updated_at,
        })
    }
}

/// Stores a new task and its reminders (in the caller's transaction).
async fn insert_task(
    conn: &mut AsyncPgConnection,
    task: &Task,
    plan: &ReminderPlan,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    Prepared(diesel::insert_into(tasks::table).values(TaskRow::from(task)))
        .execute(conn)
        .await?;
    insert_jobs(conn, task.tenant_id, &plan.jobs, now).await?;
    Ok(())
}

/// A link the user sets or changes must name a record of the tenant (`stored`: the link
/// the row has now). Checked here, inside the write's transaction, so the use case reads
/// nothing before the write; a link left as it was may dangle (its record deleted), and
/// a recurring task's next occurrence keeps it.
async fn check_link(
    conn: &mut AsyncPgConnection,
    task: &Task,
    stored: Option<RecordLink>,
) -> Result<(), DbError> {
    let Some(link) = task.fields.link.filter(|link| Some(*link) != stored) else {
        return Ok(());
    };
    let tenant = task.tenant_id.as_uuid();
    if present_ids(conn, tenant, link.kind.entity(), vec![link.id])
        .await?
        .is_empty()
    {
        return Err(StoreError::Conflict(Conflict::UnknownReference(LINK_FIELD)).into());
    }
    Ok(())
}

/// Replaces the row of `task` if it is at `expected_version`, then its queued reminders
/// with `plan` (in the caller's transaction).
async fn update_task(
    conn: &mut AsyncPgConnection,
    task: &Task,
    expected_version: i32,
    plan: &ReminderPlan,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    let key = (task.tenant_id.as_uuid(), task.id.as_uuid());
    let target = at_version(tasks::table, tasks::version, key, expected_version);
    let changes = TaskRow::from(task).changes;
    let updated = Prepared(diesel::update(target).set(changes))
        .execute(conn)
        .await?;
    expect_changed(conn, updated, TABLE, key).await?;
    let (tenant, id) = key;
    cancel_reminders(conn, tenant, id, now).await?;
    insert_jobs(conn, task.tenant_id, &plan.jobs, now).await?;
    Ok(())
}

/// The due-date sort key: undated tasks as 9999-12-31 (`TaskSort::UNDATED`), so they
/// sort last ascending and the cursors' keys compare.
fn due_key() -> Fixed<SqlDate> {
    fixed::<SqlDate>("COALESCE(tasks.due_date, DATE '9999-12-31')")
}

fn cursor_date(key: &str) -> Result<Date, StoreError> {
    parse_date_key(key).ok_or_else(|| StoreError::unexpected("a due-date cursor that is no date"))
}

#[async_trait::async_trait]
impl TaskRepository for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        task: &Task,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        in_scope(scope, task.tenant_id)?;
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            check_link(conn, task, None).await?;
            insert_task(conn, task, reminders, now).await
        })
        .await
    }

    async fn insert_once(
        &self,
        scope: &TenantScope,
        origin: &str,
        task: &Task,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        in_scope(scope, task.tenant_id)?;
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // The origin's row decides: a concurrent transaction taking the same origin
            // waits on the primary key and then finds it taken.
            let taken = diesel::sql_query(
                "INSERT INTO task_origins (tenant_id, origin, task_id, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, origin) DO NOTHING",
            )
            .bind::<diesel::sql_types::Uuid, _>(task.tenant_id.as_uuid())
            .bind::<diesel::sql_types::Text, _>(origin)
            .bind::<diesel::sql_types::Uuid, _>(task.id.as_uuid())
            .bind::<diesel::sql_types::Timestamptz, _>(now)
            .execute(conn)
            .await?;
            if taken == 0 {
                return Ok(false);
            }
            insert_task(conn, task, reminders, now).await?;
            append_event(conn, hasher, task.tenant_id, event, now).await?;
            Ok(true)
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, id: TaskId) -> Result<Task, StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        let query = tasks::table.find(key).select(TaskRow::as_select());
        self.read_one::<TaskRow, _, _>(scope, query).await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &TaskQuery,
    ) -> Result<ListPage<Task>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<TaskRow> = read_in_tenant(&self.inner.pool, scope, async move |conn| {
            let filter = &query.filter;
            let mut q = tasks::table
                .filter(tasks::tenant_id.eq(tenant))
                .select(TaskRow::as_select())
                .into_boxed();
            if let Some(user) = filter.assigned_to {
                q = q.filter(tasks::assigned_to.eq(user.as_uuid()));
            }
            if let Some(status) = filter.status {
                q = q.filter(tasks::status.eq(status.as_str()));
            }
            if let Some(category) = filter.category {
                q = q.filter(tasks::category.eq(category.as_str()));
            }
            if let Some(before) = filter.due_before {
                q = q.filter(tasks::due_date.le(before));
            }
            if let Some(after) = filter.due_after {
                q = q.filter(tasks::due_date.ge(after));
            }
            if let Some(date) = filter.overdue_on {
                let active = [TaskStatus::Open.as_str(), TaskStatus::InProgress.as_str()];
                q = q
                    .filter(tasks::status.eq_any(active))
                    .filter(tasks::due_date.lt(date));
            }
            let after = query.after.as_ref();
            let q = match query.sort {
                TaskSort::DueDate => {
                    if let Some(after) = after {
                        let key = cursor_date(&after.key)?;
                        q = q.filter(
                            due_key()
                                .gt(key)
                                .or(due_key().eq(key).and(tasks::id.gt(after.id))),
                        );
                    }
                    q.order((due_key().asc(), tasks::id.asc()))
                }
                TaskSort::DueDateDesc => {
                    if let Some(after) = after {
                        let key = cursor_date(&after.key)?;
                        q = q.filter(
                            due_key()
                                .lt(key)
                                .or(due_key().eq(key).and(tasks::id.lt(after.id))),
                        );
                    }
                    q.order((due_key().desc(), tasks::id.desc()))
                }
                TaskSort::Record(sort) => keyset!(q, tasks, "tasks.title", sort, after)?,
            };
            Ok(q.limit(fetch_limit(query.limit)).load(conn).await?)
        })
        .await?;
        let items = rows
            .into_iter()
            .map(Task::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let sort = query.sort;
        page_from_overfetch(items, query.limit, |task| Ok(sort.cursor(task)))
    }

    async fn update(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        reminders: &ReminderPlan,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        in_scope(scope, task.tenant_id)?;
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            let key = (task.tenant_id.as_uuid(), task.id.as_uuid());
            let stored: Option<TaskRow> = (tasks::table.find(key))
                .select(TaskRow::as_select())
                .get_result(conn)
                .await
                .optional()?;
            let stored = stored.map(Task::try_from).transpose()?;
            check_link(conn, task, stored.and_then(|s| s.fields.link)).await?;
            update_task(conn, task, expected_version, reminders, now).await
        })
        .await
    }

    async fn complete(
        &self,
        scope: &TenantScope,
        task: &Task,
        expected_version: i32,
        event: PendingEvent,
        next: Option<(&Task, &ReminderPlan, PendingEvent)>,
    ) -> Result<(), StoreError> {
        in_scope(scope, task.tenant_id)?;
        if let Some((next, _, _)) = &next {
            in_scope(scope, next.tenant_id)?;
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let none = ReminderPlan::none(task.id);
        // Two events, the completion's first: sealed here rather than by `write_audited`,
        // both after the rows, so the chain head is locked only for the transaction's end.
        in_tenant(&self.inner.pool, scope, async move |conn| {
            update_task(conn, task, expected_version, &none, now).await?;
            let next_event = match next {
                Some((next, plan, next_event)) => {
                    insert_task(conn, next, plan, now).await?;
                    Some((next.tenant_id, next_event))
                }
                None => None,
            };
            append_event(conn, hasher, task.tenant_id, event, now).await?;
            if let Some((tenant, next_event)) = next_event {
                append_event(conn, hasher, tenant, next_event, now).await?;
            }
            Ok(())
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: TaskId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        self.write_audited(scope, event, async move |conn| {
            let deleted = delete_at_version(conn, TABLE, key, expected_version).await?;
            expect_changed(conn, deleted, TABLE, key).await?;
            let (tenant, id) = key;
            cancel_reminders(conn, tenant, id, now).await?;
            Ok(())
        })
        .await
    }
}
