//! The DPIA screening against the real binary on PostgreSQL: a small company's register
//! screened through the API matches the hand-made expectation; answers are versioned and
//! audited; the suggestion changes the activity only when accepted (and then the
//! activity misses its approved DPIA, Art. 35(1)); refusals name the field or rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, problem_fields as fields};

const ACTIVITIES: &str = "/api/v1/processing-activities";

fn screening_path(activity: &Value) -> String {
    format!(
        "{ACTIVITIES}/{}/dpia-screening",
        activity["id"].as_str().unwrap()
    )
}

/// An active activity with the given subjects and data categories (name, Art. 9
/// condition or null, Art. 10 flag).
fn activity(name: &str, subjects: &[&str], categories: Value, adm: bool) -> Value {
    json!({
        "name": name,
        "status": "active",
        "purposes": [{"description": name, "lawful_basis": "contract"}],
        "data_subject_categories": subjects,
        "data_categories": categories,
        "recipient_categories": ["none"],
        "security_measures": "access control",
        "automated_decision_making": adm,
    })
}

fn category(name: &str) -> Value {
    json!({"name": name, "retention": "1 year"})
}

/// Every question answered no, then `yes` set.
fn answers(yes: &[&str], people: Option<u64>) -> Value {
    let mut body = json!({
        "evaluation_or_scoring": false, "automated_decisions": false,
        "systematic_monitoring": false, "public_area_monitoring": false,
        "large_scale": false, "matching_datasets": false, "innovative_technology": false,
        "denial_of_service_or_right": false, "highly_personal_data": false,
        "vulnerable_data_subjects": false, "people_concerned": people,
    });
    for question in yes {
        body[*question] = json!(true);
    }
    body
}

async fn put_answers(app: &TestApp, who: &Account, activity: &Value, body: Value) -> Value {
    let (status, etag, screening) = app
        .send(
            Method::PUT,
            &screening_path(activity),
            who,
            Some(0),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screening}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    screening
}

fn met(screening: &Value) -> Vec<String> {
    (screening["criteria"].as_array().unwrap().iter())
        .filter(|c| c["met"] == true)
        .map(|c| c["criterion"].as_str().unwrap().to_owned())
        .collect()
}

fn cases(screening: &Value) -> Vec<String> {
    (screening["cases"].as_array().unwrap().iter())
        .map(|c| c["article"].as_str().unwrap().to_owned())
        .collect()
}

/// An activity, the answers' yes, about how many people, the outcome, the criteria met
/// and the Art. 35(3) cases.
type Row = (
    Value,
    Vec<&'static str>,
    Option<u64>,
    &'static str,
    Vec<&'static str>,
    Vec<&'static str>,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realistic_register_is_screened_as_expected() {
    let app = TestApp::spawn().await;
    let owner = app.register("Screened Retail GmbH").await;
    let health = json!({"name": "health data", "special_category": "explicit_consent",
        "retention": "1 year"});
    let table: Vec<Row> = vec![
        (
            activity(
                "CCTV of the shop floor",
                &["customers", "shop employees"],
                json!([category("video images")]),
                false,
            ),
            vec!["systematic_monitoring", "public_area_monitoring"],
            Some(3_000),
            "likely_required",
            vec!["systematic_monitoring", "vulnerable_data_subjects"],
            vec![],
        ),
        (
            activity(
                "HR appraisals",
                &["employees"],
                json!([category("performance ratings")]),
                false,
            ),
            vec!["evaluation_or_scoring"],
            None,
            "likely_required",
            vec!["evaluation_or_scoring", "vulnerable_data_subjects"],
            vec![],
        ),
        (
            activity(
                "Newsletter",
                &["subscribers"],
                json!([category("e-mail address")]),
                false,
            ),
            vec![],
            None,
            "not_likely",
            vec![],
            vec![],
        ),
        (
            activity(
                "Employee health app",
                &["employees"],
                json!([health, category("step counts")]),
                false,
            ),
            vec!["systematic_monitoring", "innovative_technology"],
            None,
            "likely_required",
            vec![
                "systematic_monitoring",
                "sensitive_or_highly_personal_data",
                "vulnerable_data_subjects",
                "innovative_technology",
            ],
            vec![],
        ),
        (
            activity(
                "Credit check",
                &["customers asking for instalments"],
                json!([category("creditworthiness score")]),
                true,
            ),
            vec![
                "evaluation_or_scoring",
                "automated_decisions",
                "matching_datasets",
                "denial_of_service_or_right",
            ],
            None,
            "likely_required",
            vec![
                "evaluation_or_scoring",
                "automated_decision_with_legal_effect",
                "sensitive_or_highly_personal_data",
                "matching_or_combining_datasets",
                "prevents_right_or_service",
            ],
            vec!["Art. 35(3)(a)"],
        ),
        (
            activity(
                "Payroll",
                &["employees"],
                json!([category("salary"), category("bank account")]),
                false,
            ),
            vec![],
            None,
            "to_assess",
            vec!["vulnerable_data_subjects"],
            vec![],
        ),
        (
            activity(
                "Loyalty card",
                &["customers"],
                json!([category("purchase history")]),
                false,
            ),
            vec!["evaluation_or_scoring", "matching_datasets", "large_scale"],
            Some(250_000),
            "likely_required",
            vec![
                "evaluation_or_scoring",
                "large_scale",
                "matching_or_combining_datasets",
            ],
            vec![],
        ),
        (
            activity(
                "Website analytics",
                &["website visitors"],
                json!([category("online identifiers")]),
                false,
            ),
            vec!["large_scale"],
            Some(1_000_000),
            "to_assess",
            vec!["large_scale"],
            vec![],
        ),
        (
            activity(
                "Patient records",
                &["patients"],
                json!([{"name": "medical records", "special_category": "health_or_social_care",
                        "retention": "10 years"}]),
                false,
            ),
            vec!["large_scale"],
            Some(40_000),
            "likely_required",
            vec![
                "sensitive_or_highly_personal_data",
                "large_scale",
                "vulnerable_data_subjects",
            ],
            vec!["Art. 35(3)(b)"],
        ),
    ];
    for (body, yes, people, outcome, criteria, art35) in table {
        let created = app.created(ACTIVITIES, &owner, body).await;
        let name = created["name"].as_str().unwrap().to_owned();
        let screening = put_answers(&app, &owner, &created, answers(&yes, people)).await;
        assert_eq!(screening["outcome"], outcome, "{name}: {screening}");
        assert_eq!(met(&screening), criteria, "{name}");
        assert_eq!(cases(&screening), art35, "{name}");
        assert_eq!(screening["criteria_met"], criteria.len(), "{name}");
        assert_eq!(screening["unanswered"], json!([]), "{name}");
        // The suggestion is not applied: the activity still says "to assess".
        assert_eq!(screening["dpia_required"], "to_assess", "{name}");
        let (_, read) = app.get(&screening_path(&created), &owner.access).await;
        assert_eq!(
            read, screening,
            "{name}: the read answers what the write did"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_versioned_and_the_suggestion_applies_only_when_accepted() {
    let app = TestApp::spawn().await;
    let owner = app.register("Screening Flow GmbH").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let created = app
        .created(
            ACTIVITIES,
            &owner,
            activity(
                "CCTV of the shop floor",
                &["customers", "shop employees"],
                json!([category("video images")]),
                false,
            ),
        )
        .await;
    let path = screening_path(&created);

    // Before any answer: the register alone (employees: one criterion), all open.
    let (status, etag, fresh) = app.send(Method::GET, &path, &viewer, None, None).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_eq!(etag.as_deref(), Some("\"0\""));
    assert_eq!(fresh["outcome"], "to_assess", "{fresh}");
    assert_eq!(fresh["answers_version"], 0);
    assert_eq!(fresh["unanswered"].as_array().unwrap().len(), 10);
    let reason = &fresh["criteria"][6]["reasons"][0];
    assert_eq!(reason["origin"], "register", "{fresh}");
    assert_eq!(reason["field"], "data_subject_categories[1]");

    // Refusals: no If-Match, a viewer, bad values (named), a contradiction.
    let monitored = json!({"systematic_monitoring": true, "public_area_monitoring": true});
    let (status, _, _) = app
        .send(Method::PUT, &path, &owner, None, Some(monitored.clone()))
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _, _) = app
        .send(
            Method::PUT,
            &path,
            &viewer,
            Some(0),
            Some(monitored.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, problem) = app
        .send(
            Method::PUT,
            &path,
            &owner,
            Some(0),
            Some(json!({"people_concerned": 20_000_000_000_u64,
                "public_area_monitoring": true, "systematic_monitoring": false})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        fields(&problem),
        ["people_concerned", "systematic_monitoring"]
    );
    let (status, _, problem) = app
        .send(
            Method::PUT,
            &path,
            &owner,
            Some(0),
            Some(json!({"large_scale": "yes"})),
        )
        .await;
    assert!(status.is_client_error(), "{status} {problem}");
    assert!(problem["type"].is_string(), "problem+json: {problem}");

    // Saved: version 1, two criteria now; a stale save changes nothing.
    let (status, etag, saved) = app
        .send(Method::PUT, &path, &owner, Some(0), Some(monitored.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(saved["outcome"], "likely_required");
    assert!(
        saved["rule"].as_str().unwrap().starts_with("WP248"),
        "{saved}"
    );
    let (status, _, _) = app
        .send(Method::PUT, &path, &owner, Some(0), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Nothing applied yet: the activity still says "to assess", no Art. 35(1) gap.
    let activity_path = format!("{ACTIVITIES}/{}", created["id"].as_str().unwrap());
    let (_, activity) = app.get(&activity_path, &owner.access).await;
    assert_eq!(activity["dpia_required"], "to_assess");
    assert_eq!(activity["version"], 1);
    let art35 = |a: &Value| {
        (a["missing"].as_array().unwrap().iter())
            .filter(|g| g["article"] == "35(1)")
            .count()
    };
    assert_eq!(art35(&activity), 0, "{activity}");

    // Accept: a stale outcome is refused, a viewer too; then the activity changes.
    let accept = format!("{path}/accept");
    let (status, _, problem) = app
        .send(
            Method::POST,
            &accept,
            &owner,
            Some(1),
            Some(json!({"outcome": "to_assess"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "screening_changed", "{problem}");
    let (status, _, _) = app
        .send(
            Method::POST,
            &accept,
            &viewer,
            Some(1),
            Some(json!({"outcome": "likely_required"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, etag, accepted) = app
        .send(
            Method::POST,
            &accept,
            &owner,
            Some(1),
            Some(json!({"outcome": "likely_required"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(accepted["dpia_required"], "yes");
    let reason = accepted["dpia_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("DPIA screening: likely required"),
        "{reason}"
    );
    assert!(reason.contains("systematic monitoring"), "{reason}");
    // Active, required, no approved DPIA: the Art. 35(1) entry.
    let gap = (accepted["missing"].as_array().unwrap().iter())
        .find(|g| g["article"] == "35(1)")
        .expect("the Art. 35(1) entry");
    assert_eq!(gap["message"], "DPIA required before the processing");
    assert_eq!(gap["field"], "dpia");

    // Both changes are in the trail, with what changed.
    for (action, entity) in [
        ("dpia_screening.answers_updated", "dpia_screening"),
        (
            "processing_activity.dpia_screening_accepted",
            "processing_activity",
        ),
    ] {
        let (_, events) = app
            .get(
                &format!("/api/v1/audit-events?action={action}"),
                &owner.access,
            )
            .await;
        let items = events["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{action}: {events}");
        assert_eq!(items[0]["entity_type"], entity, "{events}");
        assert_eq!(items[0]["entity_id"], created["id"], "{events}");
    }
    let (_, events) = app
        .get(
            "/api/v1/audit-events?action=processing_activity.dpia_screening_accepted",
            &owner.access,
        )
        .await;
    let changes = events["items"][0]["changes"].to_string();
    assert!(changes.contains("dpia_required"), "{changes}");

    // The answers go with the activity.
    let (status, _, _) = app
        .send(Method::DELETE, &activity_path, &owner, Some(2), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&path, &owner.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
