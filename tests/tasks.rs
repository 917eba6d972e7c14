//! Tasks over HTTP against the real binary on PostgreSQL: the life of a task (create,
//! read, patch, complete with recurrence, reopen, delete) with ETag / If-Match, filters,
//! sorting and pagination, and bad input answered 4xx naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &Account,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    app.send_tagged(method, path, who, if_match, body).await
}

fn fields_named(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_lives_through_its_whole_cycle() {
    let app = TestApp::spawn().await;
    let owner = app.register("Task Life GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let (_, _, processor) = send(
        &app,
        Method::POST,
        "/api/v1/processors",
        &owner,
        None,
        Some(json!({"name": "Mail Inc."})),
    )
    .await;

    // A member creates a recurring task for themselves, linked to the processor.
    let (status, etag, task) = send(
        &app,
        Method::POST,
        "/api/v1/tasks",
        &member,
        None,
        Some(json!({
            "title": "  Review the DPA with Mail Inc.  ",
            "category": "dpa_review",
            "due_date": "2027-01-31",
            "assigned_to": member.user_id,
            "link": {"kind": "processor", "id": processor["id"]},
            "recurrence": "monthly",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(task["title"], "Review the DPA with Mail Inc.");
    assert_eq!(task["status"], "open");
    assert_eq!(task["created_by"], member.user_id.as_str());
    let id = task["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tasks/{id}");

    // Everyone in the tenant reads it; a viewer cannot change it.
    let (status, _, read) = send(&app, Method::GET, &path, &viewer, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, task);
    let (status, _, _) = send(
        &app,
        Method::PATCH,
        &path,
        &viewer,
        Some("\"1\""),
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Changes need If-Match: 428 without, 409 when stale.
    let patch = json!({"status": "in_progress", "due_date": "2027-02-15", "description": "Check Art. 28(3)"});
    let (status, _, problem) = send(
        &app,
        Method::PATCH,
        &path,
        &member,
        None,
        Some(patch.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{problem}");
    let (status, _, problem) = send(
        &app,
        Method::PATCH,
        &path,
        &member,
        Some("\"7\""),
        Some(patch.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, etag, patched) = send(
        &app,
        Method::PATCH,
        &path,
        &member,
        Some("\"1\""),
        Some(patch),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(patched["status"], "in_progress");
    assert_eq!(patched["due_date"], "2027-02-15");
    assert_eq!(patched["description"], "Check Art. 28(3)");
    assert_eq!(patched["link"]["kind"], "processor");

    // null clears an optional field; absent fields stay.
    let (status, _, cleared) = send(
        &app,
        Method::PATCH,
        &path,
        &member,
        Some("\"2\""),
        Some(json!({"description": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["due_date"], "2027-02-15");

    // Completing is its own step; a recurring task gets its next occurrence.
    let (status, _, problem) = send(
        &app,
        Method::PATCH,
        &path,
        &member,
        Some("\"3\""),
        Some(json!({"status": "done"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields_named(&problem), vec!["status"]);
    let (status, etag, done) = send(
        &app,
        Method::POST,
        &format!("{path}/complete"),
        &member,
        Some("\"3\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(etag.as_deref(), Some("\"4\""));
    assert_eq!(done["status"], "done");
    assert_eq!(done["completed_by"], member.user_id.as_str());
    assert!(done["completed_at"].is_string());
    let next = &done["next_task"];
    assert_eq!(next["status"], "open");
    assert_eq!(next["due_date"], "2027-03-15");
    assert_eq!(next["previous_id"], id.as_str());
    assert_eq!(next["title"], done["title"]);
    assert_eq!(next["assigned_to"], member.user_id.as_str());
    let (status, _, _) = send(
        &app,
        Method::POST,
        &format!("{path}/complete"),
        &member,
        Some("\"4\""),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a done task cannot be completed again"
    );

    // Reopen, then delete: members may not delete, owners may.
    let (status, _, reopened) = send(
        &app,
        Method::POST,
        &format!("{path}/reopen"),
        &member,
        Some("\"4\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "open");
    assert_eq!(reopened["completed_at"], Value::Null);
    let (status, _, _) = send(&app, Method::DELETE, &path, &member, Some("\"5\""), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(&app, Method::DELETE, &path, &owner, Some("\"5\""), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(&app, Method::GET, &path, &owner, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The next occurrence outlives its predecessor.
    let next_path = format!("/api/v1/tasks/{}", next["id"].as_str().unwrap());
    let (status, _, next) = send(&app, Method::GET, &next_path, &owner, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(next["previous_id"], Value::Null);

    // Every change is in the audit trail.
    let (_, events) = app
        .get("/api/v1/audit-events?limit=100", &owner.access)
        .await;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity_type"] == "task")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "task.created",
        "task.updated",
        "task.completed",
        "task.reopened",
        "task.deleted",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert_eq!(
        actions.iter().filter(|a| **a == "task.created").count(),
        2,
        "the task and its next occurrence"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_task_input_is_answered_4xx_naming_the_field() {
    let app = TestApp::spawn().await;
    let owner = app.register("Bad Tasks GmbH").await;
    let valid = json!({"title": "Train staff", "category": "training", "due_date": "2027-05-01"});
    let (status, _, task) = send(
        &app,
        Method::POST,
        "/api/v1/tasks",
        &owner,
        None,
        Some(valid.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());

    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (with("title", json!("   ")), "title"),
        (with("title", json!("x".repeat(201))), "title"),
        (with("title", json!("bell\u{7}")), "title"),
        (with("category", json!("gardening")), "category"),
        (with("due_date", json!("01.05.2027")), "due_date"),
        (with("due_date", json!("1850-01-01")), "due_date"),
        (with("recurrence", json!("weekly")), "recurrence"),
        (with("assigned_to", json!("not-a-uuid")), "assigned_to"),
        (
            with("link", json!({"kind": "dpia", "id": uuid::Uuid::new_v4()})),
            "link",
        ),
        (
            with("description", json!("y".repeat(10_001))),
            "description",
        ),
        (with("colour", json!("red")), "colour"),
        (
            json!({"title": "Monthly check", "category": "other", "recurrence": "monthly"}),
            "due_date",
        ),
    ];
    let mut checked = 0;
    for (body, field) in cases {
        let (status, _, problem) = send(
            &app,
            Method::POST,
            "/api/v1/tasks",
            &owner,
            None,
            Some(body.clone()),
        )
        .await;
        checked += 1;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{body} → {status} {problem}"
        );
        assert!(
            problem.to_string().contains(field),
            "{body} → {problem} does not name {field}"
        );
    }

    // Unknown ids inside the body are 404s naming the field.
    for (body, field) in [
        (
            with("assigned_to", json!(uuid::Uuid::new_v4())),
            "assigned_to",
        ),
        (
            with(
                "link",
                json!({"kind": "policy", "id": uuid::Uuid::new_v4()}),
            ),
            "link.id",
        ),
    ] {
        let (status, _, problem) = send(
            &app,
            Method::POST,
            "/api/v1/tasks",
            &owner,
            None,
            Some(body),
        )
        .await;
        checked += 1;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
        assert_eq!(fields_named(&problem), vec![field]);
    }

    // Bad queries, ids and patches.
    for path in [
        "/api/v1/tasks?status=finished",
        "/api/v1/tasks?category=x",
        "/api/v1/tasks?due_before=tomorrow",
        "/api/v1/tasks?sort=title",
        "/api/v1/tasks?limit=0",
        "/api/v1/tasks?cursor=garbage",
        "/api/v1/tasks?assigned_to=1",
        "/api/v1/tasks?mine=maybe",
        "/api/v1/tasks?colour=red",
        "/api/v1/tasks/not-a-uuid",
    ] {
        let (status, _, problem) = send(&app, Method::GET, path, &owner, None, None).await;
        checked += 1;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} → {problem}");
    }
    let (status, _, problem) = send(
        &app,
        Method::GET,
        &format!("/api/v1/tasks?mine=true&assigned_to={}", owner.user_id),
        &owner,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (status, _, problem) = send(
        &app,
        Method::GET,
        "/api/v1/tasks?due_after=2027-02-01&due_before=2027-01-01",
        &owner,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    for patch in [
        json!({"status": "done"}),
        json!({"title": ""}),
        json!({"due_date": null, "recurrence": "yearly"}),
        json!({"owner": "x"}),
    ] {
        let (status, _, problem) = send(
            &app,
            Method::PATCH,
            &task_path,
            &owner,
            Some("\"1\""),
            Some(patch.clone()),
        )
        .await;
        checked += 1;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{patch} → {status} {problem}"
        );
    }
    // Nothing above changed the task.
    let (_, etag, unchanged) = send(&app, Method::GET, &task_path, &owner, None, None).await;
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(unchanged["title"], "Train staff");
    println!("{checked} bad task inputs answered 4xx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_lists_filter_sort_and_page() {
    let app = TestApp::spawn().await;
    let owner = app.register("Task Lists GmbH").await;
    let member = app.add_user(&owner, "member").await;
    // 15 tasks: due dates spread over two months (and three without a date), two
    // categories, alternating assignees.
    let mut ids = Vec::new();
    for i in 0..15 {
        let mut body = json!({
            "title": format!("Task {i:02}"),
            "category": if i % 3 == 0 { "dpia" } else { "training" },
            "assigned_to": if i % 2 == 0 { &member.user_id } else { &owner.user_id },
        });
        if i < 12 {
            body["due_date"] = json!(format!("2020-{:02}-{:02}", 1 + i / 6, 1 + 2 * (i % 6)));
        }
        let (status, _, task) = send(
            &app,
            Method::POST,
            "/api/v1/tasks",
            &owner,
            None,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    // Task 00 done, task 01 cancelled: neither is overdue.
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tasks/{}/complete", ids[0]),
        &owner,
        Some("\"1\""),
        None,
    )
    .await;
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tasks/{}", ids[1]),
        &owner,
        Some("\"1\""),
        Some(json!({"status": "cancelled"})),
    )
    .await;

    let titles = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |query: &'static str| {
        let app = &app;
        let member = &member;
        async move {
            let (status, _, body) = send(
                app,
                Method::GET,
                &format!("/api/v1/tasks?limit=100&{query}"),
                member,
                None,
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body
        }
    };

    let mine = titles(&list("mine=true").await);
    assert_eq!(mine.len(), 8);
    assert_eq!(
        titles(&list("status=done").await),
        vec!["Task 00".to_owned()]
    );
    assert_eq!(titles(&list("category=dpia").await).len(), 5);
    // Due in January 2020: tasks 0–5.
    assert_eq!(
        titles(&list("due_after=2020-01-01&due_before=2020-01-31").await),
        (0..6).map(|i| format!("Task {i:02}")).collect::<Vec<_>>()
    );
    // Overdue: the 12 dated tasks (all in the past) minus done and cancelled.
    let overdue = titles(&list("overdue=true").await);
    assert_eq!(overdue.len(), 10, "{overdue:?}");
    assert!(!overdue.contains(&"Task 00".to_owned()) && !overdue.contains(&"Task 01".to_owned()));
    // Default sort: soonest due first, undated last.
    let all = titles(&list("").await);
    assert_eq!(all.first().map(String::as_str), Some("Task 00"));
    assert_eq!(&all[12..], ["Task 12", "Task 13", "Task 14"]);
    let desc = titles(&list("sort=-due_date").await);
    assert_eq!(desc[3], "Task 11", "{desc:?}");

    // Paging in every sort visits each task exactly once.
    for sort in [
        "due_date",
        "-due_date",
        "created_at",
        "-created_at",
        "-updated_at",
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let mut path = format!("/api/v1/tasks?limit=4&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, _, page) = send(&app, Method::GET, &path, &owner, None, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.extend(titles(&page));
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        let distinct: HashSet<&String> = seen.iter().collect();
        assert_eq!(seen.len(), 15, "{sort}: {seen:?}");
        assert_eq!(distinct.len(), 15, "{sort}: duplicates in {seen:?}");
    }
    // A cursor of one sort does not continue another.
    let (_, _, page) = send(
        &app,
        Method::GET,
        "/api/v1/tasks?limit=2&sort=due_date",
        &owner,
        None,
        None,
    )
    .await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, _, problem) = send(
        &app,
        Method::GET,
        &format!("/api/v1/tasks?limit=2&sort=created_at&cursor={cursor}"),
        &owner,
        None,
        None,
    )
    .await;
    assert!(status.is_client_error(), "{status} {problem}");
}
