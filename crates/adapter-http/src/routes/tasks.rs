//! Tasks over HTTP, a kernel register: create, get and delete are the kernel's
//! (`routes/records.rs`), with the registers' `ETag` / `If-Match` concurrency: every
//! task answers with `ETag: "<version>"`; `PATCH`, `DELETE`, `complete` and `reopen`
//! must send `If-Match` (428 without it, 409 when it is stale). The merge-patch edit,
//! the due-date list and the transitions are the tasks' own.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use aura_records::RecordUseCases;
use aura_shared_kernel::UserId;
use aura_tasks::{
    Category, Task, TaskService, TaskStatus, Tasks,
    ports::{TaskFilter, TaskQuery, TaskSort},
};
use serde::Deserialize;
use time::Date;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, parse_id, parse_query},
    routes::{
        params::{Versioned, checked_limit, decode_cursor, page_of, query_enum, with_etag},
        records::RecordRoutes,
    },
    schemas::tasks::{CompletedTask, TaskBody, TaskFieldsBody, TaskList, TaskPatchBody},
    state::ApiState,
};

impl RecordRoutes for Tasks {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.tasks.records()
    }
}

/// The tasks on behalf of the caller.
impl Caller {
    fn tasks(&self) -> &TaskService {
        &self.state.tasks
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskParams {
    /// Tasks assigned to this user id.
    pub assigned_to: Option<String>,
    /// `true`: tasks assigned to the caller (not together with `assigned_to`).
    pub mine: Option<bool>,
    /// open, in_progress, done or cancelled.
    pub status: Option<String>,
    /// dpia, policy_review, breach_drill, dpa_review, dsar, training or other.
    pub category: Option<String>,
    /// Due on or before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
    /// Due on or after this date (YYYY-MM-DD).
    pub due_after: Option<String>,
    /// `true`: open or in-progress tasks due before today.
    pub overdue: Option<bool>,
    /// due_date (default; undated last), -due_date, created_at, -created_at, -updated_at.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// A date filter: ISO 8601 in the kernel's plausible range, else 400 naming `field`.
pub(crate) fn query_date(raw: Option<&str>, field: &str) -> Result<Option<Date>, ApiError> {
    raw.map(|r| {
        aura_shared_kernel::date::parse_date(field, r).map_err(|errors| {
            let message = errors
                .0
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            ApiError::bad_request("invalid_query", Some(field), message)
        })
    })
    .transpose()
}

fn task_response(status: StatusCode, task: Task) -> HttpResponse {
    with_etag(status, task.version, &TaskBody::from(task))
}

/// Tasks of the caller's organisation, filtered and sorted, a page at a time.
#[utoipa::path(get, operation_id = "list_tasks", path = "/api/v1/tasks", tag = "tasks", security(("bearer" = [])), params(TaskParams),
    responses((status = 200, body = TaskList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(req: HttpRequest, caller: Caller) -> Result<web::Json<TaskList>, ApiError> {
    let p: TaskParams = parse_query(&req)?;
    let assigned_to = match (p.mine, p.assigned_to.as_deref()) {
        (Some(true), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                Some("mine"),
                "use either mine=true or assigned_to, not both",
            ));
        }
        (Some(true), None) => Some(
            caller
                .scope()
                .user_id()
                .ok_or_else(ApiError::unauthorized)?,
        ),
        (_, Some(raw)) => Some(UserId::from_uuid(parse_id(raw, "assigned_to")?)),
        _ => None,
    };
    let sort = p
        .sort
        .as_deref()
        .map(|s| {
            TaskSort::parse(s).map_err(|m| ApiError::bad_request("invalid_query", Some("sort"), m))
        })
        .transpose()?
        .unwrap_or_default();
    let filter = TaskFilter {
        assigned_to,
        status: query_enum::<TaskStatus>(p.status.as_deref(), "status")?,
        category: query_enum::<Category>(p.category.as_deref(), "category")?,
        due_before: query_date(p.due_before.as_deref(), "due_before")?,
        due_after: query_date(p.due_after.as_deref(), "due_after")?,
        overdue_on: (p.overdue == Some(true)).then(|| caller.tasks().today()),
    };
    let query = TaskQuery {
        filter,
        sort,
        after: decode_cursor(p.cursor.as_deref(), caller.cursors())?,
        limit: checked_limit(p.limit)?,
    };
    let page = caller
        .tasks()
        .list(caller.scope(), &query, caller.ctx())
        .await?;
    let (items, next_cursor) = page_of(page.items, page.next, caller.cursors());
    Ok(web::Json(TaskList { items, next_cursor }))
}

/// Creates a task (members and up). Reminders are planned for the assignee at the
/// configured offsets before the due date.
#[utoipa::path(post, operation_id = "create_task", path = "/api/v1/tasks", tag = "tasks", security(("bearer" = [])),
    request_body = TaskFieldsBody,
    responses((status = 201, body = TaskBody, description = "the task; ETag header"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "assigned_to or link names nothing in your organisation"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    caller: Caller,
    JsonBody(fields): JsonBody<TaskFieldsBody>,
) -> Result<HttpResponse, ApiError> {
    caller.create::<Tasks>(fields.into()).await
}

/// One task.
#[utoipa::path(get, operation_id = "get_task", path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
/// Documents the route; its handler is the kernel's `records::get::<Tasks>`.
pub fn get() {}

/// Changes some fields (JSON merge patch: absent fields stay, `null` clears). `status`
/// may be open, in_progress or cancelled; moving the due date or the assignee re-plans
/// the reminders, cancelling drops them.
#[utoipa::path(patch, operation_id = "update_task", path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "the ETag you read")),
    request_body = TaskPatchBody,
    responses((status = 200, body = TaskBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update(
    caller: Caller,
    JsonBody(patch): JsonBody<TaskPatchBody>,
    Versioned { id, expected }: Versioned<Tasks>,
) -> Result<HttpResponse, ApiError> {
    let task = caller
        .tasks()
        .update(caller.scope(), id, patch.into(), expected, caller.ctx())
        .await?;
    Ok(task_response(StatusCode::OK, task))
}

/// Marks the task done (its reminders are cancelled). A recurring task gets its next
/// occurrence, returned as `next_task`.
#[utoipa::path(post, operation_id = "complete_task", path = "/api/v1/tasks/{id}/complete", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = CompletedTask), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn complete(
    caller: Caller,
    Versioned { id, expected }: Versioned<Tasks>,
) -> Result<HttpResponse, ApiError> {
    let (task, next_task) = caller
        .tasks()
        .complete(caller.scope(), id, expected, caller.ctx())
        .await?;
    let version = task.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &CompletedTask {
            task: task.into(),
            next_task: next_task.map(Into::into),
        },
    ))
}

/// Reopens a done or cancelled task; reminders still ahead are planned again.
#[utoipa::path(post, operation_id = "reopen_task", path = "/api/v1/tasks/{id}/reopen", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = TaskBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reopen(
    caller: Caller,
    Versioned { id, expected }: Versioned<Tasks>,
) -> Result<HttpResponse, ApiError> {
    let task = caller
        .tasks()
        .reopen(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(task_response(StatusCode::OK, task))
}

/// Deletes a task (admins and owners) and its pending reminders.
#[utoipa::path(delete, operation_id = "delete_task", path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
/// Documents the route; its handler is the kernel's `records::delete::<Tasks>`.
pub fn delete() {}
