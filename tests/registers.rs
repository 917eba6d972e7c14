//! The GDPR registers against the real binary on PostgreSQL: optimistic concurrency,
//! validation, links, the policy workflow, roles, exports and their audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

/// Sends a request with optional If-Match; returns status, ETag and JSON body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &Account,
    if_match: Option<i64>,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    app.send(method, path, who, if_match, body).await
}

fn activity(name: &str, processors: &[&str]) -> Value {
    json!({
        "name": name,
        "role": "controller",
        "status": "active",
        "purposes": [{"description": format!("{name} for customers"), "lawful_basis": "consent"}],
        "data_subject_categories": ["customers"],
        "data_categories": [
            {"name": "contact data", "retention": "2 years after last order"},
            {"name": "health data", "special_category": "explicit_consent"}
        ],
        "recipient_categories": ["mailing service"],
        "transfers": [{"country": "US", "mechanism": "standard_contractual_clauses", "recipient": "Mail Inc."}],
        "processor_ids": processors,
        "dpia_required": "to_assess",
    })
}

/// The organisation's IANA time zone: UTC until set, checked against the compiled-in
/// database (422 naming `time_zone`), kept in the database's spelling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisation_time_zone_is_checked_and_round_trips() {
    let app = TestApp::spawn().await;
    let owner = app.register("Zoned GmbH").await;
    let put = |version: i64, body: Value| {
        let (app, owner) = (&app, &owner);
        async move {
            send(
                app,
                Method::PUT,
                "/api/v1/organisation",
                owner,
                Some(version),
                Some(body),
            )
            .await
        }
    };

    let (status, _, saved) = put(0, json!({"legal_name": "Zoned GmbH"})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["profile"]["time_zone"], "UTC");

    for zone in [
        json!("Mars/Olympus_Mons"),
        json!("CEST"),
        json!("+02:00"),
        json!(""),
    ] {
        let (status, _, problem) =
            put(1, json!({"legal_name": "Zoned GmbH", "time_zone": zone})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{zone}: {problem}"
        );
        assert_eq!(
            problem["errors"][0]["field"], "time_zone",
            "{zone}: {problem}"
        );
    }
    let (status, _, problem) = put(1, json!({"legal_name": "Zoned GmbH", "time_zone": 2})).await;
    assert!(status.is_client_error(), "{status}: {problem}");
    assert!(problem.to_string().contains("time_zone"), "{problem}");

    let (status, etag, saved) = put(
        1,
        json!({"legal_name": "Zoned GmbH", "country": "DE", "time_zone": "europe/berlin"}),
    )
    .await;
    assert_eq!(
        (status, etag.as_deref()),
        (StatusCode::OK, Some("\"2\"")),
        "{saved}"
    );
    assert_eq!(saved["profile"]["time_zone"], "Europe/Berlin");
    let (status, _, read) = send(
        &app,
        Method::GET,
        "/api/v1/organisation",
        &owner,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["profile"]["time_zone"], "Europe/Berlin");
    assert_eq!(read["profile"]["country"], "DE");

    // Sent back as read, it saves unchanged.
    let (status, _, again) = put(2, read["profile"].clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["profile"], read["profile"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_work_end_to_end() {
    let app = TestApp::spawn().await;
    let owner = app.register("Register Works GmbH").await;
    let admin = app.add_user(&owner, "admin").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;

    // Organisation profile: first save at "0", then optimistic concurrency.
    let profile = json!({"legal_name": "Register Works GmbH", "contact_email": "privacy@rw.example",
        "dpo": {"name": "Dana Pro", "email": "dpo@rw.example"}});
    assert_eq!(
        send(
            &app,
            Method::PUT,
            "/api/v1/organisation",
            &member,
            None,
            Some(profile.clone())
        )
        .await
        .0,
        StatusCode::PRECONDITION_REQUIRED
    );
    let (status, etag, _) = send(
        &app,
        Method::PUT,
        "/api/v1/organisation",
        &member,
        Some(0),
        Some(profile.clone()),
    )
    .await;
    assert_eq!((status, etag.as_deref()), (StatusCode::OK, Some("\"1\"")));
    let (status, _, problem) = send(
        &app,
        Method::PUT,
        "/api/v1/organisation",
        &member,
        Some(0),
        Some(profile),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "stale_version");

    // Processors with a sub-processor; dates in the wrong order are refused.
    let (status, _, cloud) = send(
        &app,
        Method::POST,
        "/api/v1/processors",
        &member,
        None,
        Some(json!({
        "name": "Cloud Inc.", "country": "US", "transfer_mechanism": "standard_contractual_clauses",
        "dpa_status": "signed", "dpa_signed_on": "2026-01-10", "dpa_review_on": "2026-12-01"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{cloud}");
    let cloud_id = cloud["id"].as_str().unwrap().to_owned();
    let (status, _, cdn) = send(
        &app,
        Method::POST,
        "/api/v1/processors",
        &member,
        None,
        Some(json!({
        "name": "Edge CDN", "country": "IE", "parent_id": cloud_id, "dpa_status": "draft"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{cdn}");
    let cdn_id = cdn["id"].as_str().unwrap().to_owned();
    let (status, _, problem) = send(&app, Method::POST, "/api/v1/processors", &member, None, Some(json!({
        "name": "Backwards", "dpa_status": "signed", "dpa_signed_on": "2026-05-01", "dpa_review_on": "2026-01-01"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "dpa_review_on");

    // Activities: created with links, complete except security measures.
    let (status, etag, created) = send(
        &app,
        Method::POST,
        "/api/v1/processing-activities",
        &member,
        None,
        Some(activity("Newsletter", &[&cdn_id])),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    let id = created["id"].as_str().unwrap().to_owned();
    let missing: Vec<&str> = created["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["field"].as_str().unwrap())
        .collect();
    assert!(
        missing.contains(&"security_measures") && missing.contains(&"data_categories[1].retention"),
        "{missing:?}"
    );
    send(
        &app,
        Method::POST,
        "/api/v1/processing-activities",
        &member,
        None,
        Some(activity("Accounting", &[])),
    )
    .await;

    // Bad input names the field.
    for (body, field) in [
        (json!({"name": "X", "role": "boss"}), "role"),
        (
            json!({"name": "X", "transfers": [{"country": "XX", "mechanism": "adequacy_decision"}]}),
            "transfers[0].country",
        ),
        (
            json!({"name": "X", "transfers": [{"country": "FR", "mechanism": "adequacy_decision"}]}),
            "transfers[0].country",
        ),
        (
            json!({"name": "X", "tenant_id": owner.tenant_id}),
            "tenant_id",
        ),
        (json!({"name": "y".repeat(201)}), "name"),
        (
            json!({"name": "X", "processor_ids": [uuid::Uuid::now_v7()]}),
            "processor_ids[0]",
        ),
        (
            json!({"name": "X", "purposes": [{"description": "d", "lawful_basis": "because"}]}),
            "purposes[0].lawful_basis",
        ),
    ] {
        let (status, _, problem) = send(
            &app,
            Method::POST,
            "/api/v1/processing-activities",
            &member,
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {problem}"
        );
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&field),
            "{body}: expected {field}, got {fields:?}"
        );
    }

    // Two edits from the same version: one wins, the other gets 409 and loses nothing.
    let path = format!("/api/v1/processing-activities/{id}");
    let mut first = activity("Newsletter", &[&cdn_id]);
    first["security_measures"] = json!("TLS and MFA");
    let (status, etag, _) = send(&app, Method::PUT, &path, &member, Some(1), Some(first)).await;
    assert_eq!((status, etag.as_deref()), (StatusCode::OK, Some("\"2\"")));
    let mut second = activity("Newsletter (renamed)", &[]);
    second["security_measures"] = json!("nothing");
    let (status, _, problem) = send(&app, Method::PUT, &path, &admin, Some(1), Some(second)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("stale_version"))
    );
    let (_, _, current) = send(&app, Method::GET, &path, &viewer, None, None).await;
    assert_eq!(current["name"], "Newsletter");
    assert_eq!(current["security_measures"], "TLS and MFA");
    assert_eq!(current["version"], 2);

    // Lists: filters, search, sorting, pagination.
    let (_, _, page) = send(
        &app,
        Method::GET,
        "/api/v1/processing-activities?sort=name&limit=1",
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(page["items"][0]["name"], "Accounting");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, _, next) = send(
        &app,
        Method::GET,
        &format!("/api/v1/processing-activities?sort=name&limit=1&cursor={cursor}"),
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(next["items"][0]["name"], "Newsletter");
    assert!(next["next_cursor"].is_null());
    let (_, _, found) = send(
        &app,
        Method::GET,
        &format!("/api/v1/processing-activities?q=news&processor={cdn_id}"),
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/api/v1/processing-activities?lawful_basis=whim",
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Processors do not fall due: the due sorts are refused, not served in some order.
    for sort in ["due_on", "-due_on"] {
        let (status, _, problem) = send(
            &app,
            Method::GET,
            &format!("/api/v1/processors?sort={sort}"),
            &viewer,
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sort}: {problem}");
        assert_eq!(problem["code"], "invalid_query", "{sort}");
        assert_eq!(problem["errors"][0]["field"], "sort", "{sort}");
    }
    let (_, _, due) = send(
        &app,
        Method::GET,
        "/api/v1/processors?dpa_due_within_days=400",
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(due["items"].as_array().unwrap().len(), 2, "{due}");
    let (_, _, summary) = send(
        &app,
        Method::GET,
        "/api/v1/processing-activities/completeness",
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(summary["activities"], 2);

    // Roles: viewers read only; members do not delete; linked processors stay.
    let (status, _, _) = send(
        &app,
        Method::POST,
        "/api/v1/processors",
        &viewer,
        None,
        Some(json!({"name": "Nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&app, Method::DELETE, &path, &member, Some(2), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, _, problem) = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/processors/{cloud_id}"),
        &admin,
        Some(1),
        None,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("in_use"))
    );

    // Exports: JSON with links and profile; CSV one row per activity.
    let response = app
        .http
        .get(format!(
            "{}/api/v1/registers/export?format=csv&record=controller",
            app.base
        ))
        .bearer_auth(&viewer.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    assert_eq!(csv.trim_end().split("\r\n").count(), 3, "{csv}");
    let (_, _, export) = send(
        &app,
        Method::GET,
        "/api/v1/registers/export?format=json",
        &viewer,
        None,
        None,
    )
    .await;
    assert_eq!(export["organisation"]["legal_name"], "Register Works GmbH");
    let processor_names: Vec<&str> = export["processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        processor_names.contains(&"Edge CDN") && processor_names.contains(&"Cloud Inc."),
        "{processor_names:?}"
    );

    // Deleting the activity frees the processor.
    assert_eq!(
        send(&app, Method::DELETE, &path, &admin, Some(2), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/processors/{cdn_id}"),
            &admin,
            Some(1),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    // Every change is in the audit trail, and the chain holds.
    let (_, _, events) = send(
        &app,
        Method::GET,
        "/api/v1/audit-events?entity_type=processing_activity&limit=100",
        &owner,
        None,
        None,
    )
    .await;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let count = |action: &str| actions.iter().filter(|a| **a == action).count();
    assert_eq!(
        (
            count("processing_activity.created"),
            count("processing_activity.updated"),
            count("processing_activity.deleted")
        ),
        (2, 1, 1),
        "{actions:?}"
    );
    assert_eq!(actions[0], "processing_activity.deleted", "newest first");
    let (_, _, chain) = send(
        &app,
        Method::GET,
        "/api/v1/audit-events/verify",
        &owner,
        None,
        None,
    )
    .await;
    assert_eq!(chain["valid"], true, "{chain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_publish_immutable_versions() {
    let app = TestApp::spawn().await;
    let owner = app.register("Policy Works GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let (status, _, policy) = send(&app, Method::POST, "/api/v1/policies", &member, None, Some(json!({
        "title": "Website privacy policy", "kind": "privacy_policy", "review_interval_months": 12}))).await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    let base = format!("/api/v1/policies/{}", policy["id"].as_str().unwrap());

    let (status, _, v1) = send(
        &app,
        Method::POST,
        &format!("{base}/versions"),
        &member,
        None,
        Some(json!({"content": "# Privacy\n\nVersion one."})),
    )
    .await;
    assert_eq!(
        (status, v1["number"].as_i64(), v1["status"].as_str()),
        (StatusCode::CREATED, Some(1), Some("draft"))
    );
    let (status, _, _) = send(
        &app,
        Method::POST,
        &format!("{base}/versions/1/publish"),
        &owner,
        Some(1),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a draft is reviewed before it is published"
    );
    let (status, _, _) = send(
        &app,
        Method::POST,
        &format!("{base}/versions/1/submit"),
        &member,
        Some(1),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        send(
            &app,
            Method::POST,
            &format!("{base}/versions/1/publish"),
            &member,
            Some(2),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, _, published) = send(
        &app,
        Method::POST,
        &format!("{base}/versions/1/publish"),
        &owner,
        Some(2),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(
        published["published_by"].as_str(),
        Some(owner.user_id.as_str())
    );
    let (status, _, problem) = send(
        &app,
        Method::PUT,
        &format!("{base}/versions/1"),
        &member,
        Some(3),
        Some(json!({"content": "sneaky edit"})),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_frozen"))
    );

    send(
        &app,
        Method::POST,
        &format!("{base}/versions"),
        &member,
        None,
        Some(json!({"content": "# Privacy\n\nVersion two.", "change_note": "new processor"})),
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!("{base}/versions/2/submit"),
        &member,
        Some(1),
        None,
    )
    .await;
    let (status, _, _) = send(
        &app,
        Method::POST,
        &format!("{base}/versions/2/publish"),
        &owner,
        Some(2),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, current) = send(
        &app,
        Method::GET,
        &format!("{base}/versions/current"),
        &member,
        None,
        None,
    )
    .await;
    assert_eq!(current["number"], 2);
    let (_, _, history) = send(
        &app,
        Method::GET,
        &format!("{base}/versions"),
        &member,
        None,
        None,
    )
    .await;
    let states: Vec<(i64, &str)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["number"].as_i64().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![(2, "published"), (1, "retired")]);
    let (_, _, policy) = send(&app, Method::GET, &base, &member, None, None).await;
    assert_eq!(
        (
            policy["current_version"].as_i64(),
            policy["status"].as_str()
        ),
        (Some(2), Some("active"))
    );
    assert!(policy["next_review_date"].is_string(), "{policy}");
}
