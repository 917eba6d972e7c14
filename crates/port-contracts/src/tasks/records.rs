//! Tasks as a kernel register: the shared record contracts (`registers::records`) run
//! for them through [`kernel_store`], the store the task use cases write through. What
//! is a task's own (reminders, completion, origins, due-date lists) is in
//! [`super::repository`].

use std::sync::Arc;

use aura_records::RecordStore;
use aura_shared_kernel::{Clock, Conflict};
use aura_tasks::{
    Category, LinkKind, Planner, RecordLink, Recurrence, TaskFields, TaskRecords, TaskStatus,
    Tasks, ports::TaskRepository,
};
use time::macros::date;
use uuid::Uuid;

use crate::{
    RegisterStores,
    fixtures::assert_conflict,
    registers::{
        Processors, RegisterFixture, add_processor, assert_chain, events,
        records::{RecordFixture, delete, edited, get, insert, new_named, try_insert, update},
        register,
    },
    tasks::{reminder_policy, retry_policy},
};

/// The kernel's store of tasks over `tasks`, planning the default reminders.
pub fn kernel_store(
    tasks: Arc<dyn TaskRepository>,
    clock: Arc<dyn Clock>,
) -> Arc<dyn RecordStore<Tasks>> {
    let planner = Planner {
        reminders: reminder_policy(),
        retry: retry_policy(),
        clock,
    };
    Arc::new(TaskRecords { tasks, planner })
}

impl RecordFixture for Tasks {
    type Links = ();

    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self> {
        stores.tasks.as_ref()
    }

    async fn links(_: &RegisterStores, _: &RegisterFixture) {}

    /// A yearly DPA review assigned to the owner (so it has reminders).
    fn fields(rf: &RegisterFixture, name: &str, _: &()) -> TaskFields {
        TaskFields {
            title: name.to_owned(),
            description: Some(format!("{name}: check the agreement and its annexes.")),
            category: Category::DpaReview,
            due_date: Some(date!(2027 - 03 - 01)),
            assigned_to: Some(rf.owner()),
            link: None,
            recurrence: Recurrence::Yearly,
            status: TaskStatus::Open,
        }
    }

    /// A one-off training in progress, undated, unassigned, without a description.
    fn vary(f: &mut TaskFields) {
        f.category = Category::Training;
        f.description = None;
        f.due_date = None;
        f.assigned_to = None;
        f.recurrence = Recurrence::None;
        f.status = TaskStatus::InProgress;
    }

    fn edit(f: &mut TaskFields) {
        f.due_date = Some(date!(2028 - 06 - 01));
        f.description = Some("Moved after the supplier's audit.".to_owned());
        f.category = Category::PolicyReview;
        f.status = TaskStatus::InProgress;
    }

    fn rename(f: &mut TaskFields, name: &str) {
        f.title = name.to_owned();
    }
}

/// A link the user sets or changes must name a record of the task's tenant, checked in
/// the write (`Conflict::UnknownReference("link.id")`, nothing written); a link left as
/// it was may dangle once its record is deleted.
pub async fn a_link_names_a_record_of_the_tenant(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let own = add_processor(&stores, &a, "Mail Inc.").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let link_to = |id: Uuid| RecordLink {
        kind: LinkKind::Processor,
        id,
    };
    let base = events(&stores, &a).await;

    for (id, what) in [
        (foreign.id.as_uuid(), "another tenant's processor"),
        (Uuid::now_v7(), "an unknown record"),
    ] {
        let mut task = new_named::<Tasks>(&stores, &a, "Linked", &());
        task.fields.link = Some(link_to(id));
        assert_conflict(
            try_insert(&stores, &a, &task).await,
            Conflict::UnknownReference("link.id"),
            &format!("a task linked to {what}"),
        );
    }
    assert_chain(&stores, a.scope(), base, "no event for refused inserts").await;

    let mut task = new_named::<Tasks>(&stores, &a, "Linked", &());
    task.fields.link = Some(link_to(own.id.as_uuid()));
    let task = insert(&stores, &a, &task).await;
    let moved = edited(&stores, &task, |f| {
        f.link = Some(link_to(foreign.id.as_uuid()));
    });
    assert_conflict(
        update(&stores, &a, &moved, task.version).await,
        Conflict::UnknownReference("link.id"),
        "relinking to another tenant's processor",
    );
    assert_eq!(get(&stores, &a, task.id).await, task, "nothing changed");

    delete::<Processors>(&stores, &a, own.id, own.version)
        .await
        .expect("an unlinked-by-schema processor is deleted");
    let renamed = edited(&stores, &task, |f| f.title = "Linked, renamed".to_owned());
    let stored = update(&stores, &a, &renamed, task.version)
        .await
        .expect("a dangling link left as it was does not block an edit");
    assert_eq!(stored.fields.link, Some(link_to(own.id.as_uuid())));
}
