//! The breaches' register export and notification draft against the real binary on
//! PostgreSQL: the export of a period in JSON and CSV with the dates, the lateness of a
//! late notification and its reasons, the decisions; drills only when asked for; the
//! Art. 33(3) draft assembled from the breach, the organisation profile and the
//! register; bad parameters named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

const BREACHES: &str = "/api/v1/breaches";

async fn create(app: &TestApp, member: &Account, body: Value) -> String {
    let (status, _, created) = app
        .send(Method::POST, BREACHES, member, None, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// A breach of `title` the organisation became aware of at `aware` (RFC 3339).
fn breach(title: &str, aware: &str) -> Value {
    json!({
        "title": title,
        "description": "A laptop with the customer list was stolen.",
        "became_aware_at": aware,
        "kinds": ["confidentiality"],
        "data_subject_categories": ["customers"],
        "approximate_subjects": 1200,
        "data_categories": ["contact data"],
        "approximate_records": 1500,
    })
}

/// Runs `action` on breach `id` at `version` as `who`; returns the breach.
async fn act(
    app: &TestApp,
    who: &Account,
    id: &str,
    action: &str,
    version: i64,
    body: Value,
) -> Value {
    let path = format!("{BREACHES}/{id}/{action}");
    let (status, _, answer) = app
        .send(Method::POST, &path, who, Some(version), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    answer
}

async fn export(app: &TestApp, who: &Account, query: &str) -> (StatusCode, String, Value) {
    let response = app
        .http
        .get(format!("{}{BREACHES}/export{query}", app.base))
        .bearer_auth(&who.access)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let disposition = (response.headers().get("content-disposition"))
        .map(|d| d.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, disposition, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_shows_a_periods_breaches_their_lateness_and_decisions() {
    let app = TestApp::spawn_with(&[("WORKER_ENABLED", "false")]).await;
    let owner = app.register("Breach Export GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;

    // Late: aware 5 Jan 09:00, notified 8 Jan 12:30 — 3 h 30 min after the deadline.
    let late = create(&app, &member, breach("Late laptop", "2026-01-05T09:00:00Z")).await;
    act(
        &app,
        &member,
        &late,
        "assess",
        1,
        json!({"risk": "risk", "reasoning": "contact data"}),
    )
    .await;
    act(&app, &member, &late, "notify-authority", 2, json!({
        "sent_at": "2026-01-08T12:30:00Z", "authority_reference": "SA-2026-7",
        "content": "Initial notification", "delay_reasons": "The forensic report came on day four",
    }))
    .await;
    // On time, with a second phase.
    let on_time = create(
        &app,
        &member,
        breach("Mail to wrong list", "2026-02-02T08:00:00+01:00"),
    )
    .await;
    act(&app, &member, &on_time, "notify-authority", 1, json!({
        "sent_at": "2026-02-03T10:00:00Z", "content": "Initial", "to_follow": ["approximate_records"],
    }))
    .await;
    act(
        &app,
        &member,
        &on_time,
        "notify-authority",
        2,
        json!({
            "sent_at": "2026-02-10T10:00:00Z", "content": "The number of records",
        }),
    )
    .await;
    // Decided not to notify.
    let declined = create(
        &app,
        &member,
        breach("Encrypted USB stick", "2026-02-20T10:00:00Z"),
    )
    .await;
    act(
        &app,
        &member,
        &declined,
        "assess",
        1,
        json!({"risk": "no_risk", "reasoning": "encrypted"}),
    )
    .await;
    act(
        &app,
        &member,
        &declined,
        "decide-not-to-notify",
        2,
        json!({"reasoning": "The stick was encrypted with a key that was not lost"}),
    )
    .await;
    // Outside the period, and a drill inside it.
    create(&app, &member, breach("Last year", "2025-12-31T23:00:00Z")).await;
    let mut drill = breach("Breach exercise", "2026-01-20T09:00:00Z");
    drill["drill"] = json!(true);
    create(&app, &member, drill).await;

    // JSON, as a viewer: January and February, no drill.
    let (status, disposition, body) = export(&app, &viewer, "?from=2026-01-01&to=2026-02-28").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        disposition.starts_with("attachment; filename=\"breach-register-")
            && disposition.ends_with(".json\""),
        "{disposition}"
    );
    let rows = body["breaches"].as_array().unwrap();
    let titles: Vec<&str> = rows.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        ["Late laptop", "Mail to wrong list", "Encrypted USB stick"]
    );
    assert_eq!(body["drill"], json!(false));
    let row = &rows[0];
    assert_eq!(row["id"], json!(late));
    assert_eq!(row["became_aware_at"], "2026-01-05T09:00:00Z");
    assert_eq!(row["authority_deadline"], "2026-01-08T09:00:00Z");
    assert_eq!(row["notified_at"], "2026-01-08T12:30:00Z");
    assert_eq!(row["timeliness"], "late");
    assert_eq!(row["hours_late"], 4, "started hours past the deadline");
    assert_eq!(row["delay_reasons"], "The forensic report came on day four");
    assert_eq!(row["authority_references"], json!(["SA-2026-7"]));
    assert_eq!(row["risk"], "risk");
    assert_eq!(row["authority_decision"], "notified");
    assert_eq!(row["status"], "notified");
    let row = &rows[1];
    assert_eq!(row["became_aware_at"], "2026-02-02T07:00:00Z", "in UTC");
    assert_eq!(row["timeliness"], "on_time");
    assert_eq!(row["hours_late"], Value::Null);
    assert_eq!(row["notification_phases"], 2);
    assert_eq!(row["risk"], Value::Null);
    let row = &rows[2];
    assert_eq!(row["timeliness"], "not_required");
    assert_eq!(row["authority_decision"], "not_notified");
    assert_eq!(
        row["not_notified_reasoning"],
        "The stick was encrypted with a key that was not lost"
    );
    assert_eq!(row["risk"], "no_risk");
    assert_eq!(row["status"], "not_notified");

    // Drills only when asked for, and then alone.
    let (status, disposition, body) = export(&app, &viewer, "?drill=true").await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.contains("breach-drills-"), "{disposition}");
    let titles: Vec<&str> = (body["breaches"].as_array().unwrap().iter())
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Breach exercise"]);

    // CSV of the whole register: a header and one row per breach, no drill.
    let (status, disposition, csv) = export(&app, &member, "?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    let csv = csv.as_str().unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(
        lines[0].trim_start_matches('\u{feff}').starts_with(
            "id,reference,title,kinds,became_aware_at,authority_deadline,notified_at,timeliness,hours_late,delay_reasons"
        ),
        "{}",
        lines[0]
    );
    assert!(!csv.contains("Breach exercise"), "{csv}");
    let late_line = lines.iter().find(|l| l.starts_with(&late)).unwrap();
    assert!(
        late_line.contains(
            "2026-01-05T09:00:00Z,2026-01-08T09:00:00Z,2026-01-08T12:30:00Z,late,4,The forensic report came on day four,1,SA-2026-7"
        ),
        "{late_line}"
    );

    // Bad parameters are named.
    for (query, field) in [
        ("?format=xml", "format"),
        ("?from=2026-03-01&to=2026-02-01", "to"),
        ("?from=someday", "from"),
        ("?drill=maybe", "drill"),
    ] {
        let (status, _, problem) = export(&app, &viewer, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_draft_assembles_the_notification_from_the_breach_and_the_register() {
    let app = TestApp::spawn_with(&[("WORKER_ENABLED", "false")]).await;
    let owner = app.register("Draft GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let (status, _, profile) = app
        .send(
            Method::PUT,
            "/api/v1/organisation",
            &owner,
            Some(0),
            Some(json!({
                "legal_name": "Draft GmbH", "address": "Hauptstr. 1, 10115 Berlin", "country": "DE",
                "contact_email": "privacy@draft.example",
                "dpo": {"name": "Dana Schmidt", "email": "dpo@draft.example"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let (status, _, processor) = app
        .send(
            Method::POST,
            "/api/v1/processors",
            &member,
            None,
            Some(json!({"name": "Cloud Host Ltd", "country": "IE"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{processor}");
    let (status, _, activity) = app
        .send(Method::POST, "/api/v1/processing-activities", &member, None, Some(json!({
            "name": "Customer accounts",
            "purposes": [{"description": "Running customer accounts", "lawful_basis": "contract"}],
        })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{activity}");

    let mut body = breach("Laptop stolen", "2026-03-01T09:00:00Z");
    body["activity_ids"] = json!([activity["id"]]);
    body["processor_ids"] = json!([processor["id"]]);
    body["consequences"] = json!("Phishing against the customers");
    let id = create(&app, &member, body).await;
    act(
        &app,
        &member,
        &id,
        "assess",
        1,
        json!({"risk": "high_risk", "reasoning": "bank data"}),
    )
    .await;

    // Not yet notified and long past the deadline: a notification now needs reasons.
    let path = format!("{BREACHES}/{id}/notification-draft");
    let (status, draft) = app.get(&path, &viewer.access).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["breach_id"], json!(id));
    assert_eq!(draft["controller"]["legal_name"], "Draft GmbH");
    assert_eq!(draft["controller"]["country"], "DE");
    assert_eq!(draft["contact"]["dpo"]["name"], "Dana Schmidt");
    assert_eq!(draft["contact"]["contact_point"], Value::Null);
    // The breach names no contact point: the notification gives the profile's DPO.
    assert_eq!(
        draft["contact"]["in_effect"]["source"], "organisation_dpo",
        "{draft}"
    );
    assert_eq!(
        draft["nature"]["description"],
        "A laptop with the customer list was stolen."
    );
    assert_eq!(
        draft["nature"]["data_subject_categories"],
        json!(["customers"])
    );
    assert_eq!(draft["nature"]["approximate_subjects"], 1200);
    assert_eq!(draft["nature"]["approximate_records"], 1500);
    assert_eq!(draft["consequences"], "Phishing against the customers");
    assert_eq!(draft["measures"], Value::Null);
    assert_eq!(draft["risk"], "high_risk");
    assert_eq!(
        draft["processing_activities"][0]["name"],
        "Customer accounts"
    );
    assert_eq!(
        draft["processing_activities"][0]["purposes"],
        json!(["Running customer accounts"])
    );
    assert_eq!(draft["processors"][0]["name"], "Cloud Host Ltd");
    assert_eq!(
        draft["timeline"]["authority_deadline"],
        "2026-03-04T09:00:00Z"
    );
    assert_eq!(draft["timeline"]["delay_reasons_required"], true);
    assert_eq!(draft["timeline"]["hours_left"], Value::Null);
    assert!(draft["timeline"]["hours_late"].as_i64().unwrap() > 72);
    assert_eq!(
        draft["missing"],
        json!(["measures", "subject_communication"]),
        "the contact point is the profile's DPO"
    );

    // After a first phase with an item to follow, the draft shows it.
    act(
        &app,
        &member,
        &id,
        "notify-authority",
        2,
        json!({
            "sent_at": "2026-03-05T09:00:00Z", "content": "Initial", "to_follow": ["measures"],
            "delay_reasons": "The laptop's contents were unknown until day four",
        }),
    )
    .await;
    let (status, draft) = app.get(&path, &viewer.access).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["to_follow"], json!(["measures"]));
    assert_eq!(draft["timeline"]["delay_reasons_required"], false);
    let phases = draft["timeline"]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 1);
    assert_eq!(
        phases[0]["delay_reasons"],
        "The laptop's contents were unknown until day four"
    );

    // A draft changes nothing.
    let (_, breach) = app.get(&format!("{BREACHES}/{id}"), &viewer.access).await;
    assert_eq!(breach["version"], 3, "{breach}");

    // Unknown and malformed ids.
    let (status, _) = app
        .get(
            &format!("{BREACHES}/{}/notification-draft", uuid_zero()),
            &viewer.access,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = app
        .get(
            &format!("{BREACHES}/nope/notification-draft"),
            &viewer.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
}

fn uuid_zero() -> &'static str {
    "00000000-0000-7000-8000-000000000000"
}
