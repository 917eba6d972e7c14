//! Tasks and the job queue on PostgreSQL beyond the shared contracts: row-level security
//! on `tasks` and `jobs`, composite foreign keys and check constraints that hold even for
//! the superuser, the queue's SECURITY DEFINER functions as the only way across tenants,
//! and a stored payload the domain cannot read reported, never a panic.

mod common;

use aura_audit::{AuditAction, PendingEvent};
use aura_jobs::{JobFilter, JobStatus, RetryPolicy};
use aura_shared_kernel::{Conflict, StoreError, SystemScope, Tenant, TenantScope, UserId};
use aura_tasks::{Category, Recurrence, ReminderPolicy, Task, TaskFields, TaskState, TaskStatus};
use common::{
    T0, alpha_and_beta, assert_changes_none, assert_only_own_rows, assert_refused_by_rls, connect,
    count, env, registered, registered_with_member,
};
use diesel_async::SimpleAsyncConnection;
use time::Duration;
use uuid::Uuid;

const TABLES: [&str; 2] = ["tasks", "jobs"];

fn event(action: &'static str, entity: impl ToString) -> PendingEvent {
    common::event(AuditAction::known(action), entity)
}

fn system() -> SystemScope {
    SystemScope::for_platform_operation("adapter-tests")
}

/// An open task of `tenant` due ten days after T0, assigned to `assignee`.
fn task(tenant: &Tenant, assignee: Option<UserId>, created_by: UserId) -> Task {
    let fields = TaskFields {
        title: "Review the DPA".to_owned(),
        description: None,
        category: Category::DpaReview,
        due_date: Some(T0.date() + Duration::days(10)),
        assigned_to: assignee,
        link: None,
        recurrence: Recurrence::Yearly,
        status: TaskStatus::Open,
    };
    let state = TaskState {
        created_by: Some(created_by),
        ..TaskState::default()
    };
    aura_tasks::new_task(tenant.id, fields, state, T0)
}

/// A stored task with its three reminders.
async fn add_task(stores: &aura_adapter_postgres::PgStores, scope: &TenantScope, task: &Task) {
    let plan = ReminderPolicy::default().plan(task, T0, &RetryPolicy::default());
    assert_eq!(plan.jobs.len(), 3);
    stores
        .tasks()
        .insert(scope, task, &plan, event("task.created", task.id))
        .await
        .expect("insert task");
}

/// Writes `task` without reminders, as the system would.
async fn insert_unplanned(
    stores: &aura_adapter_postgres::PgStores,
    scope: &TenantScope,
    task: &Task,
) -> Result<(), StoreError> {
    let plan = aura_tasks::ReminderPlan::none(task.id);
    let event = event("task.created", task.id);
    stores.tasks().insert(scope, task, &plan, event).await
}

/// Two tenants, alpha and beta, each with one task assigned to its owner (with its three
/// reminders).
struct TwoTenants {
    a: Tenant,
    scope_a: TenantScope,
    a_task: Task,
    b: Tenant,
    b_owner: aura_identity::User,
    b_task: Task,
}

async fn two_tenants_with_tasks(stores: &aura_adapter_postgres::PgStores) -> TwoTenants {
    let [(a, a_owner, scope_a), (b, b_owner, scope_b)] = alpha_and_beta(stores).await;
    let a_task = task(&a, Some(a_owner.id), a_owner.id);
    add_task(stores, &scope_a, &a_task).await;
    let b_task = task(&b, Some(b_owner.id), b_owner.id);
    add_task(stores, &scope_b, &b_task).await;
    TwoTenants {
        a,
        scope_a,
        a_task,
        b,
        b_owner,
        b_task,
    }
}

#[tokio::test]
async fn row_level_security_confines_tasks_and_jobs() {
    let env = env().await;
    let two = two_tenants_with_tasks(&env.stores).await;

    let mut conn = connect(env.db.app_url()).await;
    assert_only_own_rows(&mut conn, two.a.id, &[("tasks", 1), ("jobs", 3)]).await;
    for table in TABLES {
        let statement = format!("UPDATE {table} SET updated_at = now() WHERE tenant_id = $1::uuid");
        assert_changes_none(&mut conn, table, statement, two.b.id).await;
    }
    let intruder = format!(
        "INSERT INTO jobs (tenant_id, id, kind, payload, dedupe_key, status, run_at,
                           max_attempts, created_at, updated_at)
         VALUES ('{}', '{}', 'digest_mail', '{{}}', 'intruder', 'queued', now(), 1,
                 now(), now())",
        two.b.id,
        Uuid::now_v7()
    );
    assert_refused_by_rls(&mut conn, &intruder).await;
    // Jobs are history: the app cannot delete them, not even its own.
    let error = conn
        .batch_execute("DELETE FROM jobs")
        .await
        .expect_err("delete jobs");
    assert!(error.to_string().contains("permission denied"), "{error}");
    conn.batch_execute("ROLLBACK").await.expect("rollback");

    // Across tenants only through the functions: the system scope sees both tenants.
    let listed = env
        .stores
        .jobs()
        .list(
            &system(),
            &JobFilter {
                status: Some(JobStatus::Queued),
                tenant: None,
                limit: 100,
            },
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 6);
    assert!(matches!(
        env.stores.tasks().get(&two.scope_a, two.b_task.id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn composite_foreign_keys_stop_task_links_into_another_tenant_even_for_the_superuser() {
    let env = env().await;
    let two = two_tenants_with_tasks(&env.stores).await;

    let mut admin = connect(env.db.superuser_url()).await;
    let (b_owner, b_task) = (two.b_owner.id.to_string(), two.b_task.id.to_string());
    for (constraint, column, value) in [
        ("tasks_assigned_to_fkey", "assigned_to", &b_owner),
        ("tasks_created_by_fkey", "created_by", &b_owner),
        ("tasks_completed_by_fkey", "completed_by", &b_owner),
        ("tasks_previous_fkey", "previous_id", &b_task),
    ] {
        let error = admin
            .batch_execute(&format!(
                "UPDATE tasks SET {column} = '{value}' WHERE id = '{}'",
                two.a_task.id
            ))
            .await
            .expect_err(constraint);
        let text = error.to_string();
        assert!(
            text.contains("foreign key") && text.contains(constraint),
            "{constraint}: {text}"
        );
    }
    for (rule, sql) in [
        ("status", "UPDATE tasks SET status = 'finished'"),
        ("category", "UPDATE tasks SET category = 'misc'"),
        ("recurrence", "UPDATE tasks SET recurrence = 'weekly'"),
        ("link", "UPDATE tasks SET link_kind = 'policy'"),
        (
            "link kind",
            "UPDATE tasks SET link_kind = 'user', link_id = id",
        ),
        ("job status", "UPDATE jobs SET status = 'paused'"),
        // Kinds are open (registered by the domains), but a kind is a stable name.
        ("job kind", "UPDATE jobs SET kind = 'Launch rockets!'"),
        ("lease", "UPDATE jobs SET status = 'running'"),
    ] {
        let error = admin.batch_execute(sql).await.expect_err(rule);
        assert!(
            error.to_string().contains("check constraint"),
            "{rule}: {error}"
        );
    }
    // Only one live job per key, even written around the adapter.
    let error = admin
        .batch_execute(
            "INSERT INTO jobs (tenant_id, id, kind, payload, dedupe_key, status, run_at,
                               max_attempts, created_at, updated_at)
             SELECT tenant_id, gen_random_uuid(), kind, payload, dedupe_key, 'queued', run_at,
                    max_attempts, created_at, updated_at
               FROM jobs LIMIT 1",
        )
        .await
        .expect_err("a second live job with one key");
    assert!(error.to_string().contains("jobs_dedupe_idx"), "{error}");
}

#[tokio::test]
async fn an_assignee_of_another_tenant_is_a_conflict_on_assigned_to() {
    let env = env().await;
    let (a, a_owner, scope_a) = registered(&env.stores, "alpha").await;
    let (_, _, _, b_member) = registered_with_member(&env.stores, "beta").await;
    let foreign = task(&a, Some(b_member.id), a_owner.id);
    let result = insert_unplanned(&env.stores, &scope_a, &foreign).await;
    assert!(
        matches!(
            &result,
            Err(StoreError::Conflict(Conflict::UnknownReference(
                "assigned_to"
            )))
        ),
        "{result:?}"
    );
    // Another reference outside the tenant is simply not found.
    let mut stranger = task(&a, None, a_owner.id);
    stranger.derived.created_by = Some(b_member.id);
    let result = insert_unplanned(&env.stores, &scope_a, &stranger).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

#[tokio::test]
async fn an_unreadable_payload_is_reported_not_a_panic() {
    let env = env().await;
    let (a, a_owner, scope_a) = registered(&env.stores, "alpha").await;
    let a_task = task(&a, Some(a_owner.id), a_owner.id);
    add_task(&env.stores, &scope_a, &a_task).await;
    let mut admin = connect(env.db.superuser_url()).await;
    admin
        .batch_execute("UPDATE jobs SET payload = '{\"kind\": \"launch_rockets\"}'")
        .await
        .expect("rewrite");
    let claimed = env
        .stores
        .jobs()
        .claim(
            &system(),
            "adapter-test",
            T0 + Duration::days(30),
            Duration::minutes(1),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    for job in &claimed {
        let problem = job
            .decode::<aura_tasks::TaskReminder>()
            .expect_err("unreadable payload");
        assert!(problem.contains("not a job payload"), "{problem}");
    }
    // A worker can still bury them with the reason.
    for job in &claimed {
        assert!(
            env.stores
                .jobs()
                .fail(
                    &system().within(job.tenant_id),
                    job,
                    "unreadable payload",
                    None,
                    T0
                )
                .await
                .expect("fail")
        );
    }
    let stats = env
        .stores
        .jobs()
        .stats(&system(), T0 + Duration::days(30))
        .await
        .expect("stats");
    assert_eq!(stats.dead, 3);
}

#[tokio::test]
async fn the_queue_functions_need_no_tenant_and_see_every_tenant() {
    let env = env().await;
    two_tenants_with_tasks(&env.stores).await;
    let mut conn = connect(env.db.app_url()).await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM jobs").await,
        0,
        "the table is closed without a tenant"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT scheduled AS n FROM aura_job_stats('2026-11-23T10:00:00Z')"
        )
        .await,
        6,
        "the statistics function counts every tenant's jobs"
    );
    // A role that is neither the app nor the owner may not run them.
    let mut admin = connect(env.db.superuser_url()).await;
    let stranger = count(
        &mut admin,
        "SELECT count(*) AS n FROM pg_proc
          WHERE proname IN ('aura_claim_jobs', 'aura_schedule_for_active_tenants', 'aura_list_jobs',
                            'aura_retry_job', 'aura_job_stats')
            AND has_function_privilege('pg_monitor', oid, 'EXECUTE')",
    )
    .await;
    assert_eq!(stranger, 0, "only aura_app may call the queue functions");
}
