//! The task use cases (`aura_tasks::TaskService`, not the worker) on the memory store: create,
//! update, complete, reopen and delete; the role each needs; validation errors naming
//! their field; references checked inside the tenant; If-Match version conflicts; and the
//! audit event of every change (action and actor). No database: milliseconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aura_adapter_memory::MemoryStore;
use aura_audit::{
    Actor, AuditLog, AuditQuery, AuditRecord, Changes, MixHasher, PendingEvent, RequestContext,
};
use aura_gdpr_registers::{ProcessorFields, Processors};
use aura_identity::{Email, FullName, PasswordHash, User, ports::UserRepository};
use aura_jobs::RetryPolicy;
use aura_records::{Id, Record, RecordKind, RecordStore};
use aura_shared_kernel::{
    FixedClock, Permission, Role, Tenant, TenantName, TenantScope, TenantSlug, UserId,
};
use aura_tasks::{
    Category, LinkKind, RecordLink, Recurrence, ReminderPolicy, Task, TaskFields, TaskId,
    TaskPatch, TaskPorts, TaskService, TaskStatus, TasksError,
    ports::{TaskFilter, TaskQuery},
};
use serde_json::json;
use time::macros::{date, datetime};

// ------------------------------------------------------------------------------ world

struct World {
    store: MemoryStore,
    tasks: TaskService,
}

/// A tenant with one user per role; `scope(role)` acts as that user.
struct Org {
    tenant: Tenant,
    users: Vec<User>,
}

impl Org {
    fn user(&self, role: Role) -> &User {
        self.users.iter().find(|u| u.role == role).unwrap()
    }

    fn scope(&self, role: Role) -> TenantScope {
        TenantScope::for_tests(self.tenant.id, self.user(role).id, role)
    }
}

impl World {
    fn new() -> Self {
        let clock = Arc::new(FixedClock::at(datetime!(2026-12-01 09:00 UTC)));
        let store = MemoryStore::new(Arc::new(MixHasher), clock.clone());
        let tasks = TaskService::new(TaskPorts {
            tasks: Arc::new(store.clone()),
            audit: Arc::new(store.clone()),
            clock,
            reminders: ReminderPolicy::default(),
            retry: RetryPolicy::default(),
        });
        Self { store, tasks }
    }

    async fn org(&self, name: &str) -> Org {
        use aura_identity::ports::TenantRepository;
        let now = datetime!(2026-12-01 09:00 UTC);
        let slug = TenantSlug::derive_from(name);
        let tenant = Tenant::new(TenantName::parse(name).unwrap(), slug.clone(), now);
        let user = |role: Role| {
            User::new(
                tenant.id,
                Email::parse(&format!("{role}@{}.example", slug.as_str())).unwrap(),
                FullName::parse("Test User").unwrap(),
                role,
                PasswordHash::unset(),
                now,
            )
        };
        let owner = user(Role::Owner);
        let event = |id: UserId| {
            PendingEvent::new(
                Actor::User(owner.id),
                aura_identity::actions::USER_CREATED,
                "user",
                id,
                Changes::new(),
                &RequestContext::default(),
            )
        };
        let setup = TenantScope::for_credential_check(tenant.id, Some(owner.id));
        self.store
            .register(&setup, &tenant, &owner, vec![event(owner.id)])
            .await
            .unwrap();
        let owner_scope = TenantScope::for_tests(tenant.id, owner.id, Role::Owner);
        let mut users = vec![owner.clone()];
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let member = user(role);
            UserRepository::insert(&self.store, &owner_scope, &member, event(member.id))
                .await
                .unwrap();
            users.push(member);
        }
        Org { tenant, users }
    }

    /// A processor of `org`, stored in its register, that a task may link to.
    async fn record(&self, org: &Org) -> RecordLink {
        let fields: ProcessorFields = serde_json::from_value(json!({
            "name": "Mail Inc.",
            "country": "DE",
            "dpa_status": "signed",
            "dpa_signed_on": "2026-01-15",
        }))
        .unwrap();
        let owner = org.user(Role::Owner).id;
        let now = datetime!(2026-12-01 09:00 UTC);
        let processor = Record::<Processors>::first_version(
            Id::generate(),
            org.tenant.id,
            fields,
            Processors::derived_at_creation(Some(owner)),
            now,
        );
        let event = PendingEvent::new(
            Actor::User(owner),
            Processors::ACTIONS.created,
            Processors::ENTITY,
            processor.id,
            Changes::new(),
            &RequestContext::default(),
        );
        let scope = org.scope(Role::Owner);
        RecordStore::insert(&self.store, &scope, &processor, event)
            .await
            .unwrap();
        RecordLink {
            kind: LinkKind::Processor,
            id: processor.id.as_uuid(),
        }
    }

    async fn create(&self, org: &Org, fields: TaskFields) -> Task {
        self.tasks
            .records()
            .create(&org.scope(Role::Member), fields, None, &ctx())
            .await
            .expect("create a task")
    }

    async fn events(&self, org: &Org, action: &str) -> Vec<AuditRecord> {
        let query = AuditQuery {
            action: Some(action.to_owned()),
            limit: 500,
            ..AuditQuery::default()
        };
        AuditLog::list(&self.store, &org.scope(Role::Owner), &query)
            .await
            .unwrap()
            .items
    }

    /// The audit events of one task with this action.
    async fn events_of(&self, org: &Org, action: &str, task: TaskId) -> Vec<AuditRecord> {
        self.events(org, action)
            .await
            .into_iter()
            .filter(|e| e.entity_id == Some(task.to_string()))
            .collect()
    }
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

fn fields(title: &str) -> TaskFields {
    TaskFields {
        title: title.to_owned(),
        description: None,
        category: Category::DpaReview,
        due_date: Some(date!(2027 - 01 - 15)),
        assigned_to: None,
        link: None,
        recurrence: Recurrence::None,
        status: TaskStatus::Open,
    }
}

fn assert_invalid_field<T: std::fmt::Debug>(result: Result<T, TasksError>, field: &str) {
    match result {
        Err(TasksError::Validation(errors)) => {
            assert!(errors.names(field), "no error for `{field}` in {errors:?}")
        }
        other => panic!("expected a validation error on `{field}`, got {other:?}"),
    }
}

fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, TasksError>, permission: Permission) {
    match result {
        Err(TasksError::Forbidden(denied)) => assert_eq!(denied.0, permission),
        other => panic!("expected a refusal for {permission:?}, got {other:?}"),
    }
}

fn assert_stale<T: std::fmt::Debug>(result: Result<T, TasksError>) {
    assert!(
        matches!(result, Err(TasksError::StaleVersion)),
        "expected a version conflict, got {result:?}"
    );
}

// ------------------------------------------------------------------------------ create

#[tokio::test]
async fn a_member_creates_a_task_with_its_audit_event() {
    let world = World::new();
    let org = world.org("Acme").await;
    let mut input = fields("  Review the DPA with Beta  ");
    input.description = Some("   ".to_owned());
    input.assigned_to = Some(org.user(Role::Admin).id);
    input.link = Some(world.record(&org).await);
    let task = world.create(&org, input).await;

    assert_eq!(task.fields.title, "Review the DPA with Beta", "trimmed");
    assert_eq!(task.fields.description, None, "blank is absent");
    assert_eq!(task.fields.status, TaskStatus::Open);
    assert_eq!(task.version, 1);
    assert_eq!(task.derived.created_by, Some(org.user(Role::Member).id));
    assert_eq!(task.tenant_id, org.tenant.id);
    let stored = world
        .tasks
        .records()
        .get(&org.scope(Role::Viewer), task.id, &ctx())
        .await
        .unwrap();
    assert_eq!(stored, task);

    let created = world.events_of(&org, "task.created", task.id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].actor, Actor::User(org.user(Role::Member).id));
    assert_eq!(
        created[0].changes["title"]["after"],
        json!("Review the DPA with Beta")
    );
}

#[tokio::test]
async fn bad_fields_are_refused_naming_each_field_and_nothing_is_stored() {
    let world = World::new();
    let org = world.org("Acme").await;
    let member = org.scope(Role::Member);
    let tasks = &world.tasks;

    let result = tasks
        .records()
        .create(&member, fields("   "), None, &ctx())
        .await;
    assert_invalid_field(result, "title");
    let result = tasks
        .records()
        .create(
            &member,
            fields(&"x".repeat(TaskFields::MAX_TITLE + 1)),
            None,
            &ctx(),
        )
        .await;
    assert_invalid_field(result, "title");
    let mut recurring = fields("Quarterly drill");
    recurring.recurrence = Recurrence::Quarterly;
    recurring.due_date = None;
    let result = tasks
        .records()
        .create(&member, recurring, None, &ctx())
        .await;
    assert_invalid_field(result, "due_date");
    let mut far = fields("Far away");
    far.due_date = Some(date!(1999 - 12 - 31));
    let result = tasks.records().create(&member, far, None, &ctx()).await;
    assert_invalid_field(result, "due_date");
    // Several problems are reported together.
    let mut both = fields("");
    both.recurrence = Recurrence::Monthly;
    both.due_date = None;
    match tasks.records().create(&member, both, None, &ctx()).await {
        Err(TasksError::Validation(errors)) => {
            let named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(named, ["title", "due_date"]);
        }
        other => panic!("expected validation errors, got {other:?}"),
    }

    let listed = tasks
        .list(
            &member,
            &TaskQuery {
                limit: 50,
                ..TaskQuery::default()
            },
            &ctx(),
        )
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    assert!(world.events(&org, "task.created").await.is_empty());

    let result = tasks
        .list(
            &member,
            &TaskQuery {
                filter: TaskFilter {
                    due_after: Some(date!(2027 - 02 - 01)),
                    due_before: Some(date!(2027 - 01 - 01)),
                    ..TaskFilter::default()
                },
                limit: 50,
                ..TaskQuery::default()
            },
            &ctx(),
        )
        .await;
    assert_invalid_field(result, "due_after");
}

#[tokio::test]
async fn assignees_and_links_must_exist_in_the_callers_tenant() {
    let world = World::new();
    let acme = world.org("Acme").await;
    let beta = world.org("Beta").await;
    let member = acme.scope(Role::Member);

    let mut foreign_user = fields("Assigned abroad");
    foreign_user.assigned_to = Some(beta.user(Role::Member).id);
    match world
        .tasks
        .records()
        .create(&member, foreign_user, None, &ctx())
        .await
    {
        Err(TasksError::UnknownReference { field }) => assert_eq!(field, "assigned_to"),
        other => panic!("expected an unknown assignee, got {other:?}"),
    }
    let mut foreign_link = fields("Linked abroad");
    foreign_link.link = Some(world.record(&beta).await);
    match world
        .tasks
        .records()
        .create(&member, foreign_link, None, &ctx())
        .await
    {
        Err(TasksError::UnknownReference { field }) => assert_eq!(field, "link.id"),
        other => panic!("expected an unknown link, got {other:?}"),
    }

    // The same check on update.
    let task = world.create(&acme, fields("Local")).await;
    let patch = TaskPatch {
        assigned_to: Some(Some(beta.user(Role::Owner).id)),
        ..TaskPatch::default()
    };
    match world
        .tasks
        .update(&member, task.id, patch, task.version, &ctx())
        .await
    {
        Err(TasksError::UnknownReference { field }) => assert_eq!(field, "assigned_to"),
        other => panic!("expected an unknown assignee, got {other:?}"),
    }
    let patch = TaskPatch {
        link: Some(Some(world.record(&beta).await)),
        ..TaskPatch::default()
    };
    match world
        .tasks
        .update(&member, task.id, patch, task.version, &ctx())
        .await
    {
        Err(TasksError::UnknownReference { field }) => assert_eq!(field, "link.id"),
        other => panic!("expected an unknown link, got {other:?}"),
    }

    // A link left as it was may dangle: its record deleted, the task is still edited.
    let mut linked = fields("Linked here");
    let link = world.record(&acme).await;
    linked.link = Some(link);
    let linked = world.create(&acme, linked).await;
    let owner = acme.scope(Role::Owner);
    let event = PendingEvent::new(
        Actor::User(acme.user(Role::Owner).id),
        Processors::ACTIONS.deleted,
        Processors::ENTITY,
        link.id,
        Changes::new(),
        &RequestContext::default(),
    );
    RecordStore::<Processors>::delete(&world.store, &owner, Id::from_uuid(link.id), 1, event)
        .await
        .unwrap();
    let patch = TaskPatch {
        title: Some("Linked here, renamed".into()),
        ..TaskPatch::default()
    };
    let renamed = (world.tasks)
        .update(&member, linked.id, patch, linked.version, &ctx())
        .await
        .unwrap();
    assert_eq!(renamed.fields.link, Some(link));

    // Another tenant's task is not found, for reading and for writing.
    let beta_scope = beta.scope(Role::Owner);
    let result = world
        .tasks
        .records()
        .get(&beta_scope, task.id, &ctx())
        .await;
    assert!(matches!(result, Err(TasksError::NotFound)));
    let result = world
        .tasks
        .complete(&beta_scope, task.id, task.version, &ctx())
        .await;
    assert!(matches!(result, Err(TasksError::NotFound)));
    let result = world
        .tasks
        .records()
        .delete(&beta_scope, task.id, task.version, &ctx())
        .await;
    assert!(matches!(result, Err(TasksError::NotFound)));
}

// ------------------------------------------------------------------------------ roles

#[tokio::test]
async fn viewers_read_members_write_and_only_admins_delete() {
    let world = World::new();
    let org = world.org("Acme").await;
    let task = world.create(&org, fields("Shared work")).await;
    let tasks = &world.tasks;
    let viewer = org.scope(Role::Viewer);
    let member = org.scope(Role::Member);

    tasks.records().get(&viewer, task.id, &ctx()).await.unwrap();
    let result = tasks
        .records()
        .create(&viewer, fields("Nope"), None, &ctx())
        .await;
    assert_forbidden(result, Permission::WriteRecords);
    let patch = TaskPatch {
        title: Some("Nope".to_owned()),
        ..TaskPatch::default()
    };
    let result = tasks.update(&viewer, task.id, patch, 1, &ctx()).await;
    assert_forbidden(result, Permission::WriteRecords);
    let result = tasks.complete(&viewer, task.id, 1, &ctx()).await;
    assert_forbidden(result, Permission::WriteRecords);
    let result = tasks.records().delete(&member, task.id, 1, &ctx()).await;
    assert_forbidden(result, Permission::DeleteRecords);
    let result = tasks.records().delete(&viewer, task.id, 1, &ctx()).await;
    assert_forbidden(result, Permission::DeleteRecords);

    let denied = world.events(&org, "auth.permission_denied").await;
    assert_eq!(denied.len(), 5, "every refusal is audited");
    let unchanged = tasks.records().get(&member, task.id, &ctx()).await.unwrap();
    assert_eq!(unchanged, task);

    tasks
        .records()
        .delete(&org.scope(Role::Admin), task.id, 1, &ctx())
        .await
        .unwrap();
}

// ------------------------------------------------------------------------------ changes

#[tokio::test]
async fn an_update_needs_the_version_read_and_is_audited_with_its_changes() {
    let world = World::new();
    let org = world.org("Acme").await;
    let task = world.create(&org, fields("Review")).await;
    let member = org.scope(Role::Member);
    let patch = || TaskPatch {
        title: Some("Review the Beta DPA".to_owned()),
        status: Some(TaskStatus::InProgress),
        ..TaskPatch::default()
    };

    for stale in [0, 2, 7] {
        let result = world
            .tasks
            .update(&member, task.id, patch(), stale, &ctx())
            .await;
        assert_stale(result);
    }
    let updated = world
        .tasks
        .update(&member, task.id, patch(), 1, &ctx())
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.fields.status, TaskStatus::InProgress);
    assert_eq!(updated.fields.title, "Review the Beta DPA");
    // The version read before the update is stale now.
    let result = world
        .tasks
        .update(&member, task.id, patch(), 1, &ctx())
        .await;
    assert_stale(result);
    let stored = world
        .tasks
        .records()
        .get(&member, task.id, &ctx())
        .await
        .unwrap();
    assert_eq!(stored, updated);

    let events = world.events_of(&org, "task.updated", task.id).await;
    assert_eq!(events.len(), 1, "refused updates write no event");
    assert_eq!(events[0].actor, Actor::User(org.user(Role::Member).id));
    assert_eq!(events[0].changes["title"]["before"], json!("Review"));
    assert_eq!(
        events[0].changes["title"]["after"],
        json!("Review the Beta DPA")
    );
    assert_eq!(events[0].changes["status"]["after"], json!("in_progress"));

    // Bad patched fields are refused like bad new ones.
    let blank = TaskPatch {
        title: Some("  ".to_owned()),
        ..TaskPatch::default()
    };
    let result = world.tasks.update(&member, task.id, blank, 2, &ctx()).await;
    assert_invalid_field(result, "title");
}

#[tokio::test]
async fn status_moves_to_done_and_back_only_through_complete_and_reopen() {
    let world = World::new();
    let org = world.org("Acme").await;
    let task = world.create(&org, fields("One-off")).await;
    let member = org.scope(Role::Member);
    let to = |status| TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };

    let result = world
        .tasks
        .update(&member, task.id, to(TaskStatus::Done), 1, &ctx())
        .await;
    assert_invalid_field(result, "status");

    let result = world.tasks.complete(&member, task.id, 5, &ctx()).await;
    assert_stale(result);
    let (done, next) = world
        .tasks
        .complete(&member, task.id, 1, &ctx())
        .await
        .unwrap();
    assert!(next.is_none(), "a one-off task has no next occurrence");
    assert_eq!(done.fields.status, TaskStatus::Done);
    assert_eq!(done.version, 2);
    assert_eq!(done.derived.completed_by, Some(org.user(Role::Member).id));
    assert!(done.derived.completed_at.is_some());

    match world.tasks.complete(&member, task.id, 2, &ctx()).await {
        Err(TasksError::Conflict { code, .. }) => assert_eq!(code, "task_not_open"),
        other => panic!("expected task_not_open, got {other:?}"),
    }
    let result = world
        .tasks
        .update(&member, task.id, to(TaskStatus::Open), 2, &ctx())
        .await;
    assert_invalid_field(result, "status");

    let result = world.tasks.reopen(&member, task.id, 1, &ctx()).await;
    assert_stale(result);
    let reopened = world
        .tasks
        .reopen(&member, task.id, 2, &ctx())
        .await
        .unwrap();
    assert_eq!(reopened.fields.status, TaskStatus::Open);
    assert_eq!(reopened.version, 3);
    assert_eq!(
        (reopened.derived.completed_by, reopened.derived.completed_at),
        (None, None)
    );
    match world.tasks.reopen(&member, task.id, 3, &ctx()).await {
        Err(TasksError::Conflict { code, .. }) => assert_eq!(code, "task_open"),
        other => panic!("expected task_open, got {other:?}"),
    }

    // A cancelled task is reopened the same way.
    world
        .tasks
        .update(&member, task.id, to(TaskStatus::Cancelled), 3, &ctx())
        .await
        .unwrap();
    let again = world
        .tasks
        .reopen(&member, task.id, 4, &ctx())
        .await
        .unwrap();
    assert_eq!(again.fields.status, TaskStatus::Open);

    let actor = Actor::User(org.user(Role::Member).id);
    for (action, count) in [
        ("task.completed", 1),
        ("task.reopened", 2),
        ("task.updated", 1),
    ] {
        let events = world.events_of(&org, action, task.id).await;
        assert_eq!(events.len(), count, "{action}");
        assert!(events.iter().all(|e| e.actor == actor), "{action}");
    }
}

#[tokio::test]
async fn completing_a_recurring_task_creates_its_next_occurrence() {
    let world = World::new();
    let org = world.org("Acme").await;
    let mut input = fields("Monthly DPA check");
    input.recurrence = Recurrence::Monthly;
    input.due_date = Some(date!(2027 - 01 - 31));
    input.assigned_to = Some(org.user(Role::Admin).id);
    let task = world.create(&org, input).await;
    let member = org.scope(Role::Member);

    let (done, next) = world
        .tasks
        .complete(&member, task.id, 1, &ctx())
        .await
        .unwrap();
    let next = next.expect("the next occurrence");
    assert_eq!(done.fields.status, TaskStatus::Done);
    assert_eq!(next.fields.status, TaskStatus::Open);
    assert_eq!(next.derived.previous_id, Some(task.id));
    assert_eq!(next.version, 1);
    assert_eq!(next.fields.due_date, Some(date!(2027 - 02 - 28)));
    assert_eq!(next.fields.title, task.fields.title);
    assert_eq!(next.fields.assigned_to, task.fields.assigned_to);
    let stored = world
        .tasks
        .records()
        .get(&member, next.id, &ctx())
        .await
        .unwrap();
    assert_eq!(stored, next);

    let completed = world.events_of(&org, "task.completed", task.id).await;
    assert_eq!(completed.len(), 1);
    assert_eq!(
        completed[0].changes["next_task_id"],
        json!(next.id.to_string())
    );
    let created = world.events_of(&org, "task.created", next.id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].actor, Actor::User(org.user(Role::Member).id));
}

#[tokio::test]
async fn a_delete_needs_the_version_read_and_is_audited() {
    let world = World::new();
    let org = world.org("Acme").await;
    let task = world.create(&org, fields("Temporary")).await;
    let admin = org.scope(Role::Admin);

    let result = world
        .tasks
        .records()
        .delete(&admin, task.id, 2, &ctx())
        .await;
    assert_stale(result);
    world
        .tasks
        .records()
        .get(&admin, task.id, &ctx())
        .await
        .unwrap();

    world
        .tasks
        .records()
        .delete(&admin, task.id, 1, &ctx())
        .await
        .unwrap();
    let gone = world.tasks.records().get(&admin, task.id, &ctx()).await;
    assert!(matches!(gone, Err(TasksError::NotFound)));
    let again = world
        .tasks
        .records()
        .delete(&admin, task.id, 1, &ctx())
        .await;
    assert!(matches!(again, Err(TasksError::NotFound)));

    let deleted = world.events_of(&org, "task.deleted", task.id).await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].actor, Actor::User(org.user(Role::Admin).id));
    // The kernel names what was deleted by its label (a task's title) under `name`.
    assert_eq!(deleted[0].changes["name"], json!("Temporary"));
}

#[tokio::test]
async fn lists_filter_by_status_and_stay_in_the_tenant() {
    let world = World::new();
    let acme = world.org("Acme").await;
    let beta = world.org("Beta").await;
    let open = world.create(&acme, fields("Open one")).await;
    let closing = world.create(&acme, fields("Done one")).await;
    world.create(&beta, fields("Beta's")).await;
    let member = acme.scope(Role::Member);
    world
        .tasks
        .complete(&member, closing.id, 1, &ctx())
        .await
        .unwrap();

    let query = |status| TaskQuery {
        filter: TaskFilter {
            status,
            ..TaskFilter::default()
        },
        limit: 50,
        ..TaskQuery::default()
    };
    let all = world
        .tasks
        .list(&member, &query(None), &ctx())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2, "Beta's task is not listed");
    let active = world
        .tasks
        .list(&member, &query(Some(TaskStatus::Open)), &ctx())
        .await
        .unwrap();
    let ids: Vec<TaskId> = active.items.iter().map(|t| t.id).collect();
    assert_eq!(ids, [open.id]);
}
