//! Function-level access: each of the four roles against every authenticated route and
//! method must match the role → permission matrix in `aura-shared-kernel` (2xx where the role
//! holds the permission, 403 where it does not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use aura_shared_kernel::{Permission, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

/// Method, path, If-Match version, body, and the permission the route needs.
type Case = (Method, String, Option<i64>, Option<Value>, Permission);

/// What a route needs; `None`: any signed-in user.
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    needs: Option<Permission>,
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &Account,
    if_match: Option<i64>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, body) = app.send(method, path, who, if_match, body).await;
    (status, body)
}

fn route(method: Method, path: &str, body: Option<Value>, needs: Option<Permission>) -> Route {
    Route {
        method,
        path: path.to_owned(),
        body,
        needs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_matrix_grants() {
    // Every added member counts against the day's cap; the matrix adds more than 20.
    let app = TestApp::spawn_with(&[("INVITATIONS_PER_DAY", "1000")]).await;
    let owner = app.register("Matrix GmbH").await;
    let mut callers: Vec<(Role, Account)> = vec![(Role::Owner, owner.clone())];
    for role in [Role::Admin, Role::Member, Role::Viewer] {
        callers.push((role, app.add_user(&owner, role.as_str()).await));
    }

    // An accountability pack the owner asked for (its status is read below).
    let period = json!({"period_from": "2026-01-01", "period_to": "2026-12-31"});
    let (status, _, pack) = app
        .send(
            Method::POST,
            "/api/v1/reports/packs",
            &owner,
            None,
            Some(period.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pack}");
    let pack_path = format!("/api/v1/reports/packs/{}", pack["id"].as_str().unwrap());

    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (role, caller) in &callers {
        // Fresh targets for each caller, so writes by one do not change the next check.
        let member_target = app.add_user(&owner, "member").await;
        let member_victim = app.add_user(&owner, "viewer").await;
        let admin_target = app.add_user(&owner, "admin").await;
        let admin_victim = app.add_user(&owner, "admin").await;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let routes = [
            route(Method::GET, "/api/v1/users/me", None, None),
            route(
                Method::PATCH,
                "/api/v1/users/me",
                Some(json!({ "full_name": "Renamed" })),
                None,
            ),
            route(
                Method::GET,
                "/api/v1/tenants/me",
                None,
                Some(Permission::ReadTenant),
            ),
            route(
                Method::PATCH,
                "/api/v1/tenants/me",
                Some(json!({ "name": "Matrix AG" })),
                Some(Permission::ManageTenant),
            ),
            route(
                Method::GET,
                "/api/v1/tenants/me/users",
                None,
                Some(Permission::ReadUsers),
            ),
            route(
                Method::POST,
                "/api/v1/tenants/me/users",
                Some(
                    json!({ "email": format!("m-{unique}@example.test"), "full_name": "New Member", "role": "member" }),
                ),
                Some(Permission::ManageMembers),
            ),
            route(
                Method::POST,
                "/api/v1/tenants/me/users",
                Some(
                    json!({ "email": format!("a-{unique}@example.test"), "full_name": "New Admin", "role": "admin" }),
                ),
                Some(Permission::ManagePrivilegedUsers),
            ),
            route(
                Method::GET,
                &format!("/api/v1/tenants/me/users/{}", member_target.user_id),
                None,
                Some(Permission::ReadUsers),
            ),
            route(
                Method::PATCH,
                &format!("/api/v1/tenants/me/users/{}", member_target.user_id),
                Some(json!({ "full_name": "Changed By Someone" })),
                Some(Permission::ManageMembers),
            ),
            route(
                Method::PATCH,
                &format!("/api/v1/tenants/me/users/{}", admin_target.user_id),
                Some(json!({ "full_name": "Changed By Someone" })),
                Some(Permission::ManagePrivilegedUsers),
            ),
            route(
                Method::DELETE,
                &format!("/api/v1/tenants/me/users/{}", member_victim.user_id),
                None,
                Some(Permission::ManageMembers),
            ),
            route(
                Method::DELETE,
                &format!("/api/v1/tenants/me/users/{}", admin_victim.user_id),
                None,
                Some(Permission::ManagePrivilegedUsers),
            ),
            route(
                Method::GET,
                "/api/v1/audit-events",
                None,
                Some(Permission::ReadAudit),
            ),
            route(
                Method::GET,
                "/api/v1/audit-events/verify",
                None,
                Some(Permission::ReadAudit),
            ),
            // The accountability pack holds the chain's verification: the audit readers'.
            route(
                Method::POST,
                "/api/v1/reports/packs",
                Some(period.clone()),
                Some(Permission::ReadAudit),
            ),
            route(Method::GET, &pack_path, None, Some(Permission::ReadAudit)),
        ];
        for r in routes {
            let allowed = r.needs.is_none_or(|p| role.allows(p));
            let (status, body) = app
                .call(r.method.clone(), &r.path, Some(&caller.access), r.body)
                .await;
            checked += 1;
            let ok = if allowed {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                mismatches.push(format!(
                    "{role} {} {} → {status} (allowed: {allowed}) {body}",
                    r.method, r.path
                ));
            }
        }
    }
    // The registers: reads for all, writes for members up, deletes and publishing for
    // admins and owners. Each caller gets fresh records at version 1.
    let etag_of = |body: &Value| body["version"].as_i64().unwrap();
    let (status, _) = send(
        &app,
        Method::PUT,
        "/api/v1/organisation",
        &owner,
        Some(0),
        Some(json!({"legal_name": "Matrix GmbH"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (role, caller) in &callers {
        let post = |path: &'static str, body: Value| {
            let app = &app;
            let owner = &owner;
            async move {
                send(app, Method::POST, path, owner, None, Some(body))
                    .await
                    .1
            }
        };
        let activity = post(
            "/api/v1/processing-activities",
            json!({"name": "Matrix activity"}),
        )
        .await;
        let doomed_activity = post(
            "/api/v1/processing-activities",
            json!({"name": "Doomed activity"}),
        )
        .await;
        let processor = post("/api/v1/processors", json!({"name": "Matrix processor"})).await;
        let doomed_processor =
            post("/api/v1/processors", json!({"name": "Doomed processor"})).await;
        let policy = post(
            "/api/v1/policies",
            json!({"title": "Matrix policy", "kind": "other"}),
        )
        .await;
        let pid = policy["id"].as_str().unwrap().to_owned();
        for _ in 0..4 {
            send(
                &app,
                Method::POST,
                &format!("/api/v1/policies/{pid}/versions"),
                &owner,
                None,
                Some(json!({"content": "text"})),
            )
            .await;
        }
        // Version 1 a draft to edit, 2 in review (to publish), 3 published (to retire),
        // 4 a draft to submit.
        send(
            &app,
            Method::POST,
            &format!("/api/v1/policies/{pid}/versions/2/submit"),
            &owner,
            Some(1),
            None,
        )
        .await;
        send(
            &app,
            Method::POST,
            &format!("/api/v1/policies/{pid}/versions/3/submit"),
            &owner,
            Some(1),
            None,
        )
        .await;
        let (status, _) = send(
            &app,
            Method::POST,
            &format!("/api/v1/policies/{pid}/versions/3/publish"),
            &owner,
            Some(2),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (_, org) = send(
            &app,
            Method::GET,
            "/api/v1/organisation",
            &owner,
            None,
            None,
        )
        .await;
        let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
        let task_body =
            json!({"title": "Matrix task", "category": "training", "due_date": "2030-01-15"});
        let task = post("/api/v1/tasks", task_body.clone()).await;
        let task_to_complete = post("/api/v1/tasks", task_body.clone()).await;
        let task_to_delete = post("/api/v1/tasks", task_body.clone()).await;
        let task_done = post("/api/v1/tasks", task_body.clone()).await;
        let (status, _) = send(
            &app,
            Method::POST,
            &format!("/api/v1/tasks/{}/complete", id(&task_done)),
            &owner,
            Some(1),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let cases: Vec<Case> = vec![
            (
                Method::GET,
                "/api/v1/organisation".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::PUT,
                "/api/v1/organisation".into(),
                Some(etag_of(&org)),
                Some(json!({"legal_name": "Matrix GmbH"})),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                "/api/v1/processing-activities".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::POST,
                "/api/v1/processing-activities".into(),
                None,
                Some(json!({"name": "New"})),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                "/api/v1/processing-activities/completeness".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::GET,
                format!("/api/v1/processing-activities/{}", id(&activity)),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::PUT,
                format!("/api/v1/processing-activities/{}", id(&activity)),
                Some(1),
                Some(json!({"name": "Edited"})),
                Permission::WriteRecords,
            ),
            (
                Method::DELETE,
                format!("/api/v1/processing-activities/{}", id(&doomed_activity)),
                Some(1),
                None,
                Permission::DeleteRecords,
            ),
            (
                Method::GET,
                "/api/v1/processors".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::POST,
                "/api/v1/processors".into(),
                None,
                Some(json!({"name": "New"})),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                format!("/api/v1/processors/{}", id(&processor)),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::PUT,
                format!("/api/v1/processors/{}", id(&processor)),
                Some(1),
                Some(json!({"name": "Edited"})),
                Permission::WriteRecords,
            ),
            (
                Method::DELETE,
                format!("/api/v1/processors/{}", id(&doomed_processor)),
                Some(1),
                None,
                Permission::DeleteRecords,
            ),
            (
                Method::GET,
                "/api/v1/policies".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::POST,
                "/api/v1/policies".into(),
                None,
                Some(json!({"title": "New", "kind": "other"})),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{pid}"),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::PUT,
                format!("/api/v1/policies/{pid}"),
                Some(etag_of(
                    &send(
                        &app,
                        Method::GET,
                        &format!("/api/v1/policies/{pid}"),
                        &owner,
                        None,
                        None,
                    )
                    .await
                    .1,
                )),
                Some(json!({"title": "Edited", "kind": "other"})),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{pid}/versions"),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::POST,
                format!("/api/v1/policies/{pid}/versions"),
                None,
                Some(json!({"content": "more"})),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{pid}/versions/current"),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::PUT,
                format!("/api/v1/policies/{pid}/versions/1"),
                Some(1),
                Some(json!({"content": "edited"})),
                Permission::WriteRecords,
            ),
            (
                Method::POST,
                format!("/api/v1/policies/{pid}/versions/4/submit"),
                Some(1),
                None,
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                "/api/v1/registers/export?format=csv".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::GET,
                "/api/v1/tasks?overdue=true".into(),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::POST,
                "/api/v1/tasks".into(),
                None,
                Some(task_body.clone()),
                Permission::WriteRecords,
            ),
            (
                Method::GET,
                format!("/api/v1/tasks/{}", id(&task)),
                None,
                None,
                Permission::ReadRecords,
            ),
            (
                Method::PATCH,
                format!("/api/v1/tasks/{}", id(&task)),
                Some(1),
                Some(json!({"status": "in_progress"})),
                Permission::WriteRecords,
            ),
            (
                Method::POST,
                format!("/api/v1/tasks/{}/complete", id(&task_to_complete)),
                Some(1),
                None,
                Permission::WriteRecords,
            ),
            (
                Method::POST,
                format!("/api/v1/tasks/{}/reopen", id(&task_done)),
                Some(2),
                None,
                Permission::WriteRecords,
            ),
            (
                Method::DELETE,
                format!("/api/v1/tasks/{}", id(&task_to_delete)),
                Some(1),
                None,
                Permission::DeleteRecords,
            ),
        ];
        for (method, path, tag, body, needs) in cases {
            let allowed = role.allows(needs);
            let (status, response) = send(&app, method.clone(), &path, caller, tag, body).await;
            checked += 1;
            let ok = if allowed {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                mismatches.push(format!(
                    "{role} {method} {path} → {status} (allowed: {allowed}) {response}"
                ));
            }
        }
        // Publishing and retiring: admins and owners only (fresh policy per caller above).
        for (action, number, tag) in [("retire", 3, 3), ("publish", 2, 2)] {
            let allowed = role.allows(Permission::DeleteRecords);
            let path = format!("/api/v1/policies/{pid}/versions/{number}/{action}");
            let (status, response) = send(&app, Method::POST, &path, caller, Some(tag), None).await;
            checked += 1;
            let ok = if allowed {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                mismatches.push(format!(
                    "{role} POST {path} → {status} (allowed: {allowed}) {response}"
                ));
            }
        }
    }

    // The AI assistant: everyone reads suggestions; members and up generate and decide.
    for (role, caller) in &callers {
        checked += ai_cells(&app, &owner, *role, caller, &mut mismatches).await;
        checked += request_cells(&app, &owner, *role, caller, &mut mismatches).await;
        checked += breach_cells(&app, &owner, *role, caller, &mut mismatches).await;
        checked += screening_cells(&app, &owner, *role, caller, &mut mismatches).await;
        checked += dpia_cells(&app, &owner, *role, caller, &mut mismatches).await;
        checked += document_cells(&app, &owner, *role, caller, &mut mismatches).await;
    }

    // Every denial above is in the trail.
    let (_, denials) = app
        .get(
            "/api/v1/audit-events?action=auth.permission_denied&limit=100",
            &owner.access,
        )
        .await;
    let denied = denials["items"].as_array().unwrap().len();
    println!(
        "{checked} role-matrix cells checked, {} mismatched, {denied} denials audited",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(denied > 0);
}

/// The AI routes for one caller, on fresh suggestions made by the owner. Returns the
/// number of cells checked.
async fn ai_cells(
    app: &TestApp,
    owner: &Account,
    role: Role,
    caller: &Account,
    mismatches: &mut Vec<String>,
) -> usize {
    let question = json!({"question": "Who is our DPO?"});
    let mut fresh = Vec::new();
    for _ in 0..2 {
        let (status, body) = send(
            app,
            Method::POST,
            "/api/v1/ai/ask",
            owner,
            None,
            Some(question.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        fresh.push(body["id"].as_str().unwrap().to_owned());
    }
    let (to_accept, to_reject) = (&fresh[0], &fresh[1]);
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/api/v1/ai/ask".into(),
            None,
            Some(question),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            "/api/v1/ai/policy-drafts".into(),
            None,
            Some(json!({"kind": "other"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            "/api/v1/ai/activity-suggestions".into(),
            None,
            Some(json!({"description": "Payroll for our staff"})),
            Permission::WriteRecords,
        ),
        (
            Method::GET,
            "/api/v1/ai/suggestions".into(),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::GET,
            format!("/api/v1/ai/suggestions/{to_accept}"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::POST,
            format!("/api/v1/ai/suggestions/{to_accept}/accept"),
            Some(1),
            None,
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            format!("/api/v1/ai/suggestions/{to_reject}/reject"),
            Some(1),
            None,
            Permission::WriteRecords,
        ),
    ];
    check_cases(app, role, caller, cases, mismatches).await
}

/// The ids of `count` records the owner creates at `path` with `body`.
async fn created_ids(
    app: &TestApp,
    owner: &Account,
    path: &str,
    body: &Value,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        ids.push(
            app.created(path, owner, body.clone()).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

/// Sends each case as `caller`: 2xx where `role` holds the permission, 403 where it does
/// not; a mismatch is noted. Returns the number of cells checked.
async fn check_cases(
    app: &TestApp,
    role: Role,
    caller: &Account,
    cases: Vec<Case>,
    mismatches: &mut Vec<String>,
) -> usize {
    let count = cases.len();
    for (method, path, tag, body, needs) in cases {
        let allowed = role.allows(needs);
        let (status, response) = send(app, method.clone(), &path, caller, tag, body).await;
        let expected = if allowed {
            status.is_success()
        } else {
            status == StatusCode::FORBIDDEN
        };
        if !expected {
            mismatches.push(format!(
                "{role} {method} {path} → {status} (allowed: {allowed}) {response}"
            ));
        }
    }
    count
}

/// The data-subject request routes for one caller, on fresh requests made by the owner:
/// everyone reads, members and up handle them, admins and owners delete. Returns the
/// number of cells checked.
async fn request_cells(
    app: &TestApp,
    owner: &Account,
    role: Role,
    caller: &Account,
    mismatches: &mut Vec<String>,
) -> usize {
    const REQUESTS: &str = "/api/v1/data-subject-requests";
    let body = json!({"channel": "email", "rights": ["access"],
        "subject": {"name": "Matrix Person", "email": "matrix@example.org", "category": "customer"}});
    let fresh = created_ids(app, owner, REQUESTS, &body, 11).await;
    let path = |i: usize, action: &str| format!("{REQUESTS}/{}{action}", fresh[i]);
    // Request 9 answered (to close), request 10 with a checklist item (to update).
    let (status, _) = send(
        app,
        Method::POST,
        &path(9, "/answer"),
        owner,
        Some(1),
        Some(json!({"outcome": "fulfilled"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let item = json!({"kind": "search", "title": "Search the archive"});
    let (status, with_item) = send(
        app,
        Method::POST,
        &path(10, "/checklist/items"),
        owner,
        Some(1),
        Some(item.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{with_item}");
    let item_id = with_item["checklist"][0]["id"].as_str().unwrap().to_owned();
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            format!("{REQUESTS}?overdue=true"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::POST,
            REQUESTS.into(),
            None,
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::GET,
            path(0, ""),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::PUT,
            path(0, ""),
            Some(1),
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::DELETE,
            path(1, ""),
            Some(1),
            None,
            Permission::DeleteRecords,
        ),
        (
            Method::POST,
            path(2, "/verify-identity"),
            Some(1),
            Some(json!({"result": "confirmed", "method": "known_account"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(3, "/request-information"),
            Some(1),
            Some(json!({"asked": "clarification"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(4, "/extend"),
            Some(1),
            Some(json!({"months": 1, "reasons": "Many archives"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(5, "/answer"),
            Some(1),
            Some(json!({"outcome": "no_data_held"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(6, "/withdraw"),
            Some(1),
            None,
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(7, "/checklist"),
            Some(1),
            None,
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(8, "/checklist/items"),
            Some(1),
            Some(item),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(9, "/close"),
            Some(2),
            None,
            Permission::WriteRecords,
        ),
        (
            Method::PATCH,
            path(10, &format!("/checklist/items/{item_id}")),
            Some(2),
            Some(json!({"status": "done"})),
            Permission::WriteRecords,
        ),
    ];
    check_cases(app, role, caller, cases, mismatches).await
}

/// The breach routes for one caller, on fresh breaches made by the owner: everyone
/// reads, members and up handle them, admins and owners close them (there is no delete).
/// Returns the number of cells checked.
async fn breach_cells(
    app: &TestApp,
    owner: &Account,
    role: Role,
    caller: &Account,
    mismatches: &mut Vec<String>,
) -> usize {
    const BREACHES: &str = "/api/v1/breaches";
    let aware = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let aware = aware
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"title": "Matrix breach", "became_aware_at": aware,
        "kinds": ["confidentiality"]});
    let fresh = created_ids(app, owner, BREACHES, &body, 6).await;
    let path = |i: usize, action: &str| format!("{BREACHES}/{}{action}", fresh[i]);
    // Breach 3 assessed without risk (to decide), breach 4 notified (to close).
    let assess = |risk: &str| json!({"risk": risk, "reasoning": "Matrix"});
    for (i, action, body) in [
        (3, "/assess", assess("no_risk")),
        (4, "/notify-authority", json!({"content": "Initial"})),
    ] {
        let (status, answer) = send(
            app,
            Method::POST,
            &path(i, action),
            owner,
            Some(1),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            format!("{BREACHES}?overdue=true&drill=true"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::POST,
            BREACHES.into(),
            None,
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::GET,
            path(0, ""),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::GET,
            path(0, "/notification-draft"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::GET,
            format!("{BREACHES}/export?format=csv"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::GET,
            format!("{BREACHES}/export?drill=true&from=2026-01-01"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::PUT,
            path(0, ""),
            Some(1),
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(1, "/assess"),
            Some(1),
            Some(assess("risk")),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(2, "/notify-authority"),
            Some(1),
            Some(json!({"content": "Initial"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(3, "/decide-not-to-notify"),
            Some(2),
            Some(json!({"reasoning": "Encrypted"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(5, "/communicate-to-subjects"),
            Some(1),
            Some(
                json!({"decision": "communicated", "channel": "E-mail", "content_reference": "DMS 1"}),
            ),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(4, "/close"),
            Some(2),
            None,
            Permission::DeleteRecords,
        ),
        // The assistant's suggestion of the breach's consequences and measures.
        (
            Method::POST,
            "/api/v1/ai/breach-measures".into(),
            None,
            Some(json!({"breach_id": fresh[0]})),
            Permission::WriteRecords,
        ),
    ];
    check_cases(app, role, caller, cases, mismatches).await
}

/// The DPIA screening routes for one caller, on fresh activities made by the owner:
/// everyone reads the screening, members and up answer it and accept its suggestion.
/// Returns the number of cells checked.
async fn screening_cells(
    app: &TestApp,
    owner: &Account,
    role: Role,
    caller: &Account,
    mismatches: &mut Vec<String>,
) -> usize {
    const ACTIVITIES: &str = "/api/v1/processing-activities";
    let body = json!({"name": "Matrix screening", "data_subject_categories": ["employees"]});
    let fresh = created_ids(app, owner, ACTIVITIES, &body, 2).await;
    let path = |i: usize, action: &str| format!("{ACTIVITIES}/{}/dpia-screening{action}", fresh[i]);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            path(0, ""),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::PUT,
            path(0, ""),
            Some(0),
            Some(json!({"large_scale": false})),
            Permission::WriteRecords,
        ),
        // Employees alone: one criterion, "to assess".
        (
            Method::POST,
            path(1, "/accept"),
            Some(1),
            Some(json!({"outcome": "to_assess"})),
            Permission::WriteRecords,
        ),
    ];
    check_cases(app, role, caller, cases, mismatches).await
}

/// The DPIA routes for one caller, on fresh DPIAs made by the owner: everyone reads,
/// members and up write and move them through review, admins and owners approve.
/// Returns the number of cells checked.
async fn dpia_cells(
    app: &TestApp,
    owner: &Account,
    role: Role,
    caller: &Account,
    mismatches: &mut Vec<String>,
) -> usize {
    const DPIAS: &str = "/api/v1/dpias";
    let activity = app
        .created(
            "/api/v1/processing-activities",
            owner,
            json!({"name": "Matrix CCTV"}),
        )
        .await["id"]
        .clone();
    let necessity: Vec<Value> = [
        "lawful_basis",
        "minimisation",
        "retention",
        "information",
        "rights",
        "processors_and_transfers",
    ]
    .iter()
    .map(|t| json!({"topic": t, "assessment": "Matrix"}))
    .collect();
    let body = json!({"title": "Matrix DPIA", "activity_ids": [activity],
        "description": "Cameras", "necessity": necessity,
        "risks": [{"source": "Attacker", "event": "disappearance", "impact": "Loss",
            "likelihood": "limited", "severity": "limited",
            "residual_likelihood": "negligible", "residual_severity": "negligible"}],
        "measures": [{"title": "Backups", "kind": "technical", "status": "planned", "risks": [0]}],
        "dpo_advice": {"advice": "Fine", "given_on": "2026-01-05", "followed": true}});
    let fresh = created_ids(app, owner, DPIAS, &body, 7).await;
    let path = |i: usize, action: &str| format!("{DPIAS}/{}{action}", fresh[i]);
    // DPIAs 2 and 3 in review; 6 approved.
    for (i, action, version) in [
        (2, "/submit", 1),
        (3, "/submit", 1),
        (6, "/submit", 1),
        (6, "/approve", 2),
    ] {
        let (status, answer) = send(
            app,
            Method::POST,
            &path(i, action),
            owner,
            Some(version),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            format!("{DPIAS}?status=approved&residual_risk=low"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::POST,
            DPIAS.into(),
            None,
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::GET,
            path(0, ""),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::GET,
            path(6, "/export"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::PUT,
            path(0, ""),
            Some(1),
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(1, "/submit"),
            Some(1),
            None,
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(2, "/send-back"),
            Some(2),
            Some(json!({"reason": "Matrix"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(3, "/approve"),
            Some(2),
            None,
            Permission::DeleteRecords,
        ),
        (
            Method::POST,
            path(4, "/prior-consultation"),
            Some(1),
            Some(json!({"authority": "Matrix DPA", "submitted_on": "2026-01-05"})),
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(5, "/measures/0/task"),
            Some(1),
            None,
            Permission::WriteRecords,
        ),
        (
            Method::POST,
            path(6, "/start-revision"),
            None,
            None,
            Permission::WriteRecords,
        ),
        // The assistant's draft of a DPIA's Art. 35(7) content (a draft DPIA).
        (
            Method::POST,
            "/api/v1/ai/dpia-drafts".into(),
            None,
            Some(json!({"dpia_id": fresh[0]})),
            Permission::WriteRecords,
        ),
    ];
    check_cases(app, role, caller, cases, mismatches).await
}

/// The document routes for one caller, on fresh documents with one version each made by
/// the owner: everyone reads and verifies, members and up write and upload, admins and
/// owners remove content. Returns the number of cells checked.
async fn document_cells(
    app: &TestApp,
    owner: &Account,
    role: Role,
    caller: &Account,
    mismatches: &mut Vec<String>,
) -> usize {
    const DOCUMENTS: &str = "/api/v1/documents";
    let body = json!({"title": "Matrix DPA", "kind": "dpa"});
    let fresh = created_ids(app, owner, DOCUMENTS, &body, 3).await;
    let upload = |who: &Account, id: &str| {
        app.http
            .post(format!("{}{DOCUMENTS}/{id}/versions", app.base))
            .bearer_auth(&who.access)
            .header("Content-Type", "application/pdf")
            .header("X-File-Name", "matrix.pdf")
            .body(b"%PDF-1.7\nmatrix\n".to_vec())
            .send()
    };
    for id in &fresh {
        let response = upload(owner, id).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let path = |i: usize, rest: &str| format!("{DOCUMENTS}/{}{rest}", fresh[i]);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            format!("{DOCUMENTS}?kind=dpa"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::POST,
            DOCUMENTS.into(),
            None,
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::GET,
            path(0, ""),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::PUT,
            path(0, ""),
            Some(1),
            Some(body.clone()),
            Permission::WriteRecords,
        ),
        (
            Method::GET,
            path(0, "/versions"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::GET,
            path(0, "/versions/1/content"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::POST,
            path(0, "/versions/1/verify"),
            None,
            None,
            Permission::ReadRecords,
        ),
        (
            Method::DELETE,
            path(1, "/content"),
            None,
            None,
            Permission::DeleteRecords,
        ),
    ];
    let mut count = check_cases(app, role, caller, cases, mismatches).await;
    // The upload is a raw body.
    let status = upload(caller, &fresh[2]).await.unwrap().status();
    let allowed = role.allows(Permission::WriteRecords);
    if (allowed && status != StatusCode::CREATED) || (!allowed && status != StatusCode::FORBIDDEN) {
        mismatches.push(format!("{role} upload → {status} (allowed: {allowed})"));
    }
    count += 1;
    count
}

// Custom roles: permission sets a tenant defines; the same matrix decides.

const ROLES: &str = "/api/v1/tenants/me/roles";

/// A custom role of `owner`'s tenant with `permissions` (201 expected).
async fn custom_role(app: &TestApp, owner: &Account, name: &str, permissions: &[&str]) -> Value {
    app.created(
        ROLES,
        owner,
        json!({"name": name, "permissions": permissions}),
    )
    .await
}

/// Gives `user` the custom role `role` as `by` (200 expected); the user's answer.
async fn give_role(app: &TestApp, by: &Account, user: &Account, role: &Value) -> Value {
    let path = format!("/api/v1/tenants/me/users/{}", user.user_id);
    let (status, answer) = app
        .call(
            Method::PATCH,
            &path,
            Some(&by.access),
            Some(json!({"custom_role_id": role["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["role"], "custom");
    assert_eq!(answer["custom_role_id"], role["id"]);
    answer
}

/// A new user of `owner`'s tenant holding a new custom role with `permissions`, signed in
/// after the role was given (a role change ends the sessions before it); and the role.
async fn custom_holder(
    app: &TestApp,
    owner: &Account,
    name: &str,
    permissions: &[&str],
) -> (Account, Value) {
    let role = custom_role(app, owner, name, permissions).await;
    let user = app.add_user(owner, "viewer").await;
    give_role(app, owner, &user, &role).await;
    (app.login(&user.email, support::PASSWORD).await, role)
}

/// A generated route's path with its placeholders filled: fresh ids (the permission is
/// checked before anything is looked up).
fn probe_path(template: &str) -> String {
    let fresh = uuid::Uuid::new_v4().to_string();
    let path = template
        .replace("{id}", &fresh)
        .replace("{item_id}", &fresh)
        .replace("{partner_id}", &fresh)
        .replace("{number}", "1")
        .replace("{index}", "0")
        .replace("{action}", "submit");
    assert!(
        !path.contains('{'),
        "a path parameter the probe does not fill: {template}"
    );
    path
}

/// What a well-formed request to a generated route sends: the example its OpenAPI
/// schema documents, else a sample of the schema's required fields; any date in it
/// moved to the past (a documented example may lie in the future by now); a file (a
/// PDF) where the body is not JSON.
enum ProbeBody {
    None,
    Json(Value),
    File,
}

fn probe_body(doc: &Value, method: &Method, path: &str) -> ProbeBody {
    let body = &doc["paths"][path][method.as_str().to_lowercase()]["requestBody"];
    if body.is_null() {
        return ProbeBody::None;
    }
    match body["content"]["application/json"]["schema"].as_object() {
        Some(_) => ProbeBody::Json(in_the_past(sample(
            doc,
            &body["content"]["application/json"]["schema"],
        ))),
        None => ProbeBody::File,
    }
}

/// A value of `schema`: its example, or its first value, or one built from its type.
fn sample(doc: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return sample(doc, &doc["components"]["schemas"][name]);
    }
    if !schema["example"].is_null() {
        return schema["example"].clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    for combined in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema[combined].as_array().and_then(|s| s.first()) {
            return sample(doc, first);
        }
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned(),
        other => Some(other.clone()),
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("object") => {
            let mut object = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                object.insert(name.to_owned(), sample(doc, &schema["properties"][name]));
            }
            Value::Object(object)
        }
        Some("array") => json!([]),
        Some("integer" | "number") => json!(1),
        Some("boolean") => json!(false),
        Some("string") => match schema["format"].as_str() {
            Some("uuid") => json!(uuid::Uuid::new_v4()),
            Some("date") => json!("2026-01-02"),
            Some("date-time") => json!("2026-01-02T10:00:00Z"),
            Some("email") => json!("probe@example.org"),
            _ => json!("probe"),
        },
        _ => json!({}),
    }
}

/// `value` with every date and instant in it moved to 2026-01-02 (in the past).
fn in_the_past(value: Value) -> Value {
    match value {
        Value::String(text) => {
            let date = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
            let instant =
                text.len() >= 20 && text.as_bytes()[10] == b'T' && text[..4].parse::<u16>().is_ok();
            Value::String(if date {
                "2026-01-02".to_owned()
            } else if instant {
                "2026-01-02T10:00:00Z".to_owned()
            } else {
                text
            })
        }
        Value::Array(items) => Value::Array(items.into_iter().map(in_the_past).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, in_the_past(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Sends the probe of a generated route as `who` (with `If-Match: "1"`); the status and
/// the answer's text.
async fn probe(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &Account,
    body: ProbeBody,
) -> (StatusCode, String) {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&who.access)
        .header("If-Match", "\"1\"");
    request = match body {
        ProbeBody::None => request,
        ProbeBody::Json(body) => request.json(&body),
        ProbeBody::File => request
            .header("Content-Type", "application/pdf")
            .header("X-File-Name", "probe.pdf")
            .body(b"%PDF-1.7\nprobe\n".to_vec()),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_handler_is_refused_every_other_write_route() {
    let app = TestApp::spawn().await;
    let owner = app.register("Request Desk GmbH").await;
    let (handler, _) = custom_holder(&app, &owner, "Request desk", &["handle_requests"]).await;

    // The request routes succeed: the case from receipt to its close.
    const REQUESTS: &str = "/api/v1/data-subject-requests";
    let body = json!({"channel": "email", "rights": ["access"],
        "subject": {"name": "Desk Person", "email": "desk@example.org", "category": "customer"}});
    let request = app.created(REQUESTS, &handler, body.clone()).await;
    let id = request["id"].as_str().unwrap().to_owned();
    let (status, _) = app.get(REQUESTS, &handler.access).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, request) = app
        .send(
            Method::PUT,
            &format!("{REQUESTS}/{id}"),
            &handler,
            Some(1),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{request}");
    let request = app
        .done(
            REQUESTS,
            &handler,
            &request,
            "verify-identity",
            Some(json!({"result": "confirmed", "method": "known_account"})),
        )
        .await;
    let request = app
        .done(REQUESTS, &handler, &request, "checklist", None)
        .await;
    let request = app
        .done(
            REQUESTS,
            &handler,
            &request,
            "checklist/items",
            Some(json!({"kind": "search", "title": "Search the archive"})),
        )
        .await;
    let request = app
        .done(
            REQUESTS,
            &handler,
            &request,
            "answer",
            Some(json!({"outcome": "fulfilled"})),
        )
        .await;
    app.done(REQUESTS, &handler, &request, "close", None).await;
    let other = app.created(REQUESTS, &handler, body).await;
    app.done(REQUESTS, &handler, &other, "withdraw", None).await;

    // Every other write route of the table answers 403: generated, not listed. The
    // routes of the signed-in user's own account (tags `auth`, `users`) need no
    // permission; a request's deletion stays the record deleters'.
    let (_, doc) = app.call(Method::GET, "/openapi.json", None, None).await;
    let mut refused = 0;
    let mut mismatches = Vec::new();
    for route in aura_adapter_http::routes::table() {
        // The table speaks actix's `http`; the client, reqwest's.
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let operation = route.operation();
        let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        let own_account = (operation.tags.iter().flatten()).any(|t| t == "auth" || t == "users");
        let handled = route.path.starts_with(REQUESTS) && method != Method::DELETE;
        if method == Method::GET || !secured || own_account || handled {
            continue;
        }
        let path = probe_path(&route.path);
        let body = probe_body(&doc, &method, &route.path);
        let (status, answer) = probe(&app, method.clone(), &path, &handler, body).await;
        if status == StatusCode::FORBIDDEN {
            refused += 1;
        } else {
            mismatches.push(format!(
                "{} {} → {status} {answer}",
                route.method, route.path
            ));
        }
    }
    println!("{refused} write routes refused to the request handler");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(refused > 50, "only {refused} routes generated");

    // Reading is scoped the same way: requests, and nothing else.
    for path in [
        "/api/v1/processing-activities",
        "/api/v1/breaches",
        "/api/v1/documents",
        "/api/v1/dpias",
        "/api/v1/tasks",
        "/api/v1/tenants/me/users",
        "/api/v1/audit-events",
    ] {
        let (status, _) = app.get(path, &handler.access).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _) = app.get(&format!("{REQUESTS}/{id}"), &handler.access).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_reader_reads_and_never_writes() {
    let app = TestApp::spawn().await;
    let owner = app.register("Reader GmbH").await;
    let (reader, _) = custom_holder(&app, &owner, "Auditor", &["read_records"]).await;
    for path in [
        "/api/v1/processing-activities",
        "/api/v1/data-subject-requests",
        "/api/v1/breaches",
        "/api/v1/documents",
        "/api/v1/dpias",
        "/api/v1/tasks",
    ] {
        let (status, body) = app.get(path, &reader.access).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    for path in [
        "/api/v1/tenants/me/users",
        "/api/v1/audit-events",
        "/api/v1/tenants/me",
    ] {
        let (status, _) = app.get(path, &reader.access).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let writes = [
        ("/api/v1/processing-activities", json!({"name": "Payroll"})),
        ("/api/v1/processors", json!({"name": "Mail Inc."})),
        (
            "/api/v1/data-subject-requests",
            json!({"channel": "email", "rights": ["access"],
            "subject": {"name": "P", "email": "p@example.org", "category": "customer"}}),
        ),
        ("/api/v1/documents", json!({"title": "DPA", "kind": "dpa"})),
        (
            "/api/v1/tasks",
            json!({"title": "T", "category": "training", "due_date": "2030-01-15"}),
        ),
    ];
    for (path, body) in writes {
        let (status, _) = app
            .call(Method::POST, path, Some(&reader.access), Some(body))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_custom_role_escalates() {
    let app = TestApp::spawn_with(&[("INVITATIONS_PER_DAY", "1000")]).await;
    let owner = app.register("Escalation GmbH").await;

    // A custom role never holds the owners' permission; unknown names are refused too.
    let (status, problem) = app
        .call(
            Method::POST,
            ROLES,
            Some(&owner.access),
            Some(
                json!({"name": "Root", "permissions": ["read_records", "manage_privileged_users"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(support::problem_fields(&problem), ["permissions[1]"]);
    let (status, problem) = app
        .call(
            Method::POST,
            ROLES,
            Some(&owner.access),
            Some(json!({"name": "Odd", "permissions": ["sudo"]})),
        )
        .await;
    assert_eq!(
        support::problem_fields(&problem),
        ["permissions[0]"],
        "{status}"
    );

    // Only owners define roles.
    let admin = app.add_user(&owner, "admin").await;
    let member = app.add_user(&owner, "member").await;
    for who in [&admin, &member] {
        let (status, _) = app
            .call(
                Method::POST,
                ROLES,
                Some(&who.access),
                Some(json!({"name": "Mine", "permissions": ["read_records"]})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // Whoever gives a role holds all it gives: a people desk that manages members
    // but writes nothing gives neither the member role nor a wider custom role, to
    // others or to itself; it gives what it holds.
    let (desk, desk_role) = custom_holder(
        &app,
        &owner,
        "People desk",
        &["read_users", "manage_members", "read_records"],
    )
    .await;
    let wider = custom_role(&app, &owner, "Writers", &["read_records", "write_records"]).await;
    let narrower = custom_role(&app, &owner, "Readers", &["read_records"]).await;
    let viewer = app.add_user(&owner, "viewer").await;
    let patch = |user: &Account, body: Value| {
        let path = format!("/api/v1/tenants/me/users/{}", user.user_id);
        let token = desk.access.clone();
        let app = &app;
        async move {
            app.call(Method::PATCH, &path, Some(&token), Some(body))
                .await
                .0
        }
    };
    assert_eq!(
        patch(&viewer, json!({"role": "member"})).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        patch(&viewer, json!({"custom_role_id": wider["id"]})).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        patch(&desk, json!({"custom_role_id": wider["id"]})).await,
        StatusCode::FORBIDDEN
    );
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/tenants/me/users",
            Some(&desk.access),
            Some(json!({"email": "new-member@example.test", "full_name": "New", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        patch(&viewer, json!({"custom_role_id": narrower["id"]})).await,
        StatusCode::OK
    );
    // A custom role with a built-in role named beside it, or `custom` without one, is
    // refused naming the field.
    let path = format!("/api/v1/tenants/me/users/{}", viewer.user_id);
    for body in [
        json!({"role": "viewer", "custom_role_id": desk_role["id"]}),
        json!({"role": "custom"}),
    ] {
        let (status, problem) = app
            .call(Method::PATCH, &path, Some(&owner.access), Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(support::problem_fields(&problem), ["custom_role_id"]);
    }
    // Admins give custom roles: they hold every permission one may have.
    give_role(&app, &admin, &viewer, &wider).await;

    // Another tenant's role is no role here.
    let stranger = app.register("Stranger GmbH").await;
    let theirs = custom_role(&app, &stranger, "Theirs", &["read_records"]).await;
    let (status, problem) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.access),
            Some(json!({"custom_role_id": theirs["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(support::problem_fields(&problem), ["custom_role_id"]);
    let (status, _) = app
        .get(
            &format!("{ROLES}/{}", theirs["id"].as_str().unwrap()),
            &owner.access,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_role_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.register("Changing GmbH").await;
    let (holder, role) = custom_holder(&app, &owner, "Desk", &["handle_requests"]).await;
    let role_path = format!("{ROLES}/{}", role["id"].as_str().unwrap());
    let (status, _) = app.get("/api/v1/breaches", &holder.access).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let with_breaches =
        json!({"name": "Desk", "permissions": ["handle_requests", "handle_breaches"]});
    let (status, _, changed) = app
        .send(
            Method::PUT,
            &role_path,
            &owner,
            Some(1),
            Some(with_breaches.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["version"], 2);
    // The same token, the new permissions.
    let (status, _) = app.get("/api/v1/breaches", &holder.access).await;
    assert_eq!(status, StatusCode::OK);

    // A stale version changes nothing; taking the permission away takes effect too.
    let (status, _, _) = app
        .send(
            Method::PUT,
            &role_path,
            &owner,
            Some(1),
            Some(json!({"name": "Desk", "permissions": []})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, _) = app
        .send(
            Method::PUT,
            &role_path,
            &owner,
            Some(2),
            Some(json!({"name": "Desk", "permissions": ["handle_requests"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get("/api/v1/breaches", &holder.access).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Every change is in the trail.
    let (_, events) = app
        .get(
            "/api/v1/audit-events?entity_type=tenant_role&limit=20",
            &owner.access,
        )
        .await;
    let actions: Vec<&str> = (events["items"].as_array().unwrap().iter())
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["tenant_role.created", "tenant_role.updated"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_in_use_is_not_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.register("In Use GmbH").await;
    let (holder, role) = custom_holder(&app, &owner, "Desk", &["handle_breaches"]).await;
    let role_path = format!("{ROLES}/{}", role["id"].as_str().unwrap());
    let (status, _, listed) = app.send(Method::GET, ROLES, &owner, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed["items"][0]["permissions"],
        json!(["handle_breaches"])
    );

    let (status, _, problem) = app
        .send(Method::DELETE, &role_path, &owner, Some(1), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "role_in_use");

    let path = format!("/api/v1/tenants/me/users/{}", holder.user_id);
    let (status, answer) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.access),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["custom_role_id"], Value::Null);
    let (status, _, _) = app
        .send(Method::DELETE, &role_path, &owner, Some(1), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&role_path, &owner.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
