//! DPIAs against the real binary on PostgreSQL: the pre-fill from the covered activities,
//! the workflow (submit, send back, submit, approve by an admin only), the refusals of the
//! acceptance (an approved version does not change: 409 naming the rule; approving a
//! residual high risk without the prior consultation: 422 naming `prior_consultation`),
//! the Art. 36(2) dates, a revision from an approved version, a planned measure that
//! becomes a task and keeps its link, the filters and the export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, assert_refused, problem_fields as fields};

const DPIAS: &str = "/api/v1/dpias";

async fn activity(app: &TestApp, who: &Account, name: &str) -> String {
    let body = json!({
        "name": name, "role": "controller", "status": "active",
        "purposes": [{"description": "Theft prevention", "lawful_basis": "legitimate_interests",
                      "legitimate_interest": "Protecting the stock"}],
        "data_subject_categories": ["Customers", "Employees"],
        "data_categories": [{"name": "Video recordings", "retention": "72 hours"}],
        "recipient_categories": ["Police on request"],
    });
    let created = app
        .created("/api/v1/processing-activities", who, body)
        .await;
    created["id"].as_str().unwrap().to_owned()
}

/// A complete DPIA of `activities` whose one risk stays at `residual` after the measures.
fn dpia(title: &str, activities: &[&String], owner: &Account, residual: &str) -> Value {
    let necessity: Vec<Value> = [
        "lawful_basis",
        "minimisation",
        "retention",
        "information",
        "rights",
        "processors_and_transfers",
    ]
    .iter()
    .map(|t| json!({"topic": t, "assessment": "Assessed and documented"}))
    .collect();
    json!({
        "title": title,
        "activity_ids": activities,
        "description": "Twelve cameras record the shop floor during opening hours.",
        "necessity": necessity,
        "risks": [{"source": "An external attacker", "event": "illegitimate_access",
                   "impact": "Recordings of customers published", "likelihood": "significant",
                   "severity": "maximum", "residual_likelihood": residual,
                   "residual_severity": residual}],
        "measures": [{"title": "Mask the tills", "kind": "technical", "status": "planned",
                      "owner_id": owner.user_id, "due_date": "2030-06-30", "risks": [0]}],
        "dpo_advice": {"advice": "Proceed with masking", "given_on": "2026-01-05", "followed": true},
        "subject_views_not_sought": "The works council was heard instead",
        "review_date": "2030-01-01",
    })
}

async fn done(
    app: &TestApp,
    who: &Account,
    record: &Value,
    action: &str,
    body: Option<Value>,
) -> Value {
    app.done(DPIAS, who, record, action, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflow_and_the_refusals_of_the_acceptance() {
    let app = TestApp::spawn().await;
    let owner = app.register("DPIA Workflow GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let cctv = activity(&app, &owner, "CCTV of the shop floor").await;

    // A member starts it; the pre-fill comes from the activity.
    let created = app
        .created(DPIAS, &member, dpia("CCTV", &[&cctv], &member, "limited"))
        .await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["revision"], 1);
    assert_eq!(created["missing"], json!([]), "{created}");
    assert_eq!(
        created["processing"]["data_subject_categories"],
        json!(["Customers", "Employees"])
    );
    assert_eq!(
        created["processing"]["purposes"][0]["lawful_basis"],
        "legitimate_interests"
    );
    assert_eq!(
        created["risk_levels"],
        json!([{"level": "high", "residual_level": "medium"}])
    );
    assert_eq!(created["residual_level"], "medium");

    // Viewers read but do not write; members submit, send back and resubmit.
    let (status, _) = app.act(DPIAS, &viewer, &created, "submit", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let submitted = done(&app, &member, &created, "submit", None).await;
    assert_eq!(submitted["status"], "in_review");
    let path = format!("{DPIAS}/{}", created["id"].as_str().unwrap());
    let (status, _, problem) = app
        .send(
            Method::PUT,
            &path,
            &member,
            Some(2),
            Some(dpia("Edited", &[&cctv], &member, "limited")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "dpia_in_review", "{problem}");
    let back = done(
        &app,
        &member,
        &submitted,
        "send-back",
        Some(json!({"reason": "Retention"})),
    )
    .await;
    assert_eq!(back["status"], "draft");
    assert_eq!(back["sent_back_reason"], "Retention");
    let again = done(&app, &member, &back, "submit", None).await;

    // Members do not approve; the owner does.
    let (status, _) = app.act(DPIAS, &member, &again, "approve", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let approved = done(&app, &owner, &again, "approve", None).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"], json!(owner.user_id));

    // An approved version does not change.
    let (status, _, problem) = app
        .send(
            Method::PUT,
            &path,
            &member,
            Some(approved["version"].as_i64().unwrap()),
            Some(dpia("Edited", &[&cctv], &member, "limited")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "dpia_approved", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Art. 35(11)"),
        "{problem}"
    );

    // A revision starts a new draft from it; the approved version stays.
    let (status, _, revision) = app
        .send(
            Method::POST,
            &format!("{path}/start-revision"),
            &member,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{revision}");
    assert_eq!(revision["status"], "draft");
    assert_eq!(revision["revision"], 2);
    assert_eq!(revision["revision_of"], created["id"]);
    assert_eq!(revision["measures"], approved["measures"]);
    let (_, still) = app.get(&path, &owner.access).await;
    assert_eq!(still["status"], "approved");

    // The approved DPIAs covering the activity, and the export with the earlier version.
    let (status, page) = app
        .get(
            &format!("{DPIAS}?activity={cctv}&status=approved"),
            &viewer.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, [&created["id"]]);
    let revision_path = format!("{DPIAS}/{}/export", revision["id"].as_str().unwrap());
    let (status, export) = app.get(&revision_path, &viewer.access).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["dpia"]["id"], revision["id"]);
    assert_eq!(export["earlier_versions"][0]["id"], created["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residual_high_risk_needs_the_prior_consultation() {
    let app = TestApp::spawn().await;
    let owner = app.register("DPIA Consultation GmbH").await;
    let scoring = activity(&app, &owner, "Credit scoring").await;
    let created = app
        .created(
            DPIAS,
            &owner,
            dpia("Scoring", &[&scoring], &owner, "significant"),
        )
        .await;
    assert_eq!(created["residual_level"], "high");
    let submitted = done(&app, &owner, &created, "submit", None).await;
    let (status, problem) = app.act(DPIAS, &owner, &submitted, "approve", None).await;
    assert_refused(status, &problem, "prior_consultation", "Art. 36(1)");

    // Received on Saturday 7 November 2026: the eighth Saturday is 2 January, so the answer
    // is due Monday 4 January 2027; extended by six weeks: Monday 15 February.
    let consulted = done(
        &app,
        &owner,
        &submitted,
        "prior-consultation",
        Some(json!({"authority": "LDI NRW", "submitted_on": "2026-11-07"})),
    )
    .await;
    assert_eq!(consulted["prior_consultation"]["answer_due"], "2027-01-04");
    assert_eq!(consulted["prior_consultation_pending"], true);
    let extended = done(
        &app,
        &owner,
        &consulted,
        "prior-consultation",
        Some(
            json!({"authority": "LDI NRW", "submitted_on": "2026-11-07", "extended": true,
                    "extension_reason": "Complex processing"}),
        ),
    )
    .await;
    assert_eq!(extended["prior_consultation"]["answer_due"], "2027-02-15");
    let (status, problem) = app.act(DPIAS, &owner, &extended, "prior-consultation",
        Some(json!({"authority": "LDI NRW", "submitted_on": "2026-11-07", "answered_on": "2026-11-20"}))).await;
    assert_refused(status, &problem, "answer", "together");

    let approved = done(&app, &owner, &extended, "approve", None).await;
    assert_eq!(approved["status"], "approved");

    // Approved, the authority's answer not in yet: the covered activity shows the pending
    // prior consultation (Art. 36(1), (2)) until the answer is recorded.
    let art36 = |activity: &Value| {
        (activity["missing"].as_array().unwrap().iter())
            .filter(|g| g["article"] == "36(1)")
            .count()
    };
    let activity_path = format!("/api/v1/processing-activities/{scoring}");
    let (_, pending) = app.get(&activity_path, &owner.access).await;
    assert_eq!(art36(&pending), 1, "{pending}");
    let answered = done(
        &app,
        &owner,
        &approved,
        "prior-consultation",
        Some(
            json!({"authority": "LDI NRW", "submitted_on": "2026-11-07", "extended": true,
            "extension_reason": "Complex processing", "answered_on": "2026-11-20",
            "answer": "No objection once the scores are reviewed by a person"}),
        ),
    )
    .await;
    assert_eq!(answered["status"], "approved");
    assert_eq!(answered["prior_consultation_pending"], false);
    let (_, cleared) = app.get(&activity_path, &owner.access).await;
    assert_eq!(art36(&cleared), 0, "{cleared}");
    let (status, page) = app
        .get(&format!("{DPIAS}?residual_risk=high"), &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, problem) = app
        .get(&format!("{DPIAS}?residual_risk=extreme"), &owner.access)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_measure_becomes_a_task_and_keeps_its_link() {
    let app = TestApp::spawn().await;
    let owner = app.register("DPIA Measures GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let cctv = activity(&app, &owner, "CCTV").await;
    let created = app
        .created(DPIAS, &member, dpia("CCTV", &[&cctv], &member, "limited"))
        .await;
    let with_task = done(&app, &member, &created, "measures/0/task", None).await;
    let task_id = with_task["measures"][0]["task_id"]
        .as_str()
        .expect("linked")
        .to_owned();
    let (status, task) = app
        .get(&format!("/api/v1/tasks/{task_id}"), &member.access)
        .await;
    assert_eq!(status, StatusCode::OK, "{task}");
    assert_eq!(task["category"], "dpia");
    assert_eq!(task["due_date"], "2030-06-30");
    assert_eq!(task["assigned_to"], json!(member.user_id));

    // Once: a second time is 409; a position without a measure is 422.
    let (status, _) = app
        .act(DPIAS, &member, &with_task, "measures/0/task", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, problem) = app
        .act(DPIAS, &member, &with_task, "measures/5/task", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["measures[5]"]);

    // An edit keeps the link; it cannot name another task.
    let path = format!("{DPIAS}/{}", created["id"].as_str().unwrap());
    let mut body = dpia("CCTV", &[&cctv], &member, "limited");
    body["measures"][0]["task_id"] = json!(uuid::Uuid::new_v4());
    let (status, _, problem) = app
        .send(Method::PUT, &path, &member, Some(2), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["measures[0].task_id"]);
    body["measures"][0]["task_id"] = json!(task_id);
    body["title"] = json!("CCTV, reworded");
    let (status, _, kept) = app
        .send(Method::PUT, &path, &member, Some(2), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["measures"][0]["task_id"], json!(task_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named() {
    let app = TestApp::spawn().await;
    let owner = app.register("DPIA Input GmbH").await;
    let other = app.register("DPIA Other GmbH").await;
    let theirs = activity(&app, &other, "Theirs").await;
    let (status, _, problem) = app
        .send(
            Method::POST,
            DPIAS,
            &owner,
            None,
            Some(json!({"title": "None", "activity_ids": []})),
        )
        .await;
    assert_refused(status, &problem, "activity_ids", "at least one");
    let (status, _, problem) = app
        .send(
            Method::POST,
            DPIAS,
            &owner,
            None,
            Some(dpia("Foreign", &[&theirs], &owner, "limited")),
        )
        .await;
    assert_refused(status, &problem, "activity_ids[0]", "is not a");
    let (status, _, problem) = app
        .send(
            Method::POST,
            DPIAS,
            &owner,
            None,
            Some(json!({"title": "x", "activity_ids": [theirs], "risks": [{"source": "x"}]})),
        )
        .await;
    assert!(status.is_client_error(), "{status} {problem}");
}
