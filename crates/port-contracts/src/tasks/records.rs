//! Tasks as a kernel register: the shared record contracts (`registers::records`) run
//! for them through [`kernel_store`], the store the task use cases write through. What
//! is a task's own (reminders, completion, origins, due-date lists) is in
//! [`super::repository`].

use std::sync::Arc;

use aura_records::RecordStore;
use aura_shared_kernel::Clock;
use aura_tasks::{
    Category, Planner, Recurrence, TaskFields, TaskRecords, TaskStatus, Tasks,
    ports::TaskRepository,
};
use time::macros::date;

use crate::{
    RegisterStores,
    registers::{RegisterFixture, records::RecordFixture},
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
