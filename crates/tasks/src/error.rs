/// What the task use cases fail with: the kernel's use-case errors (an unknown assignee
/// or link target is `UnknownReference`, naming the field).
pub type TasksError = aura_records::UseCaseError;
