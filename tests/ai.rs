//! The AI assistant end to end on the real binary and PostgreSQL: suggestions change
//! nothing until accepted, accepting and rejecting are audited (and the register's own
//! events name the suggestion), the tenant's switch and hourly limit hold, provider
//! failures are clear 502/504 problems, and context and citations never leave the
//! tenant — even when two tenants use the same record titles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

/// Sends with an optional If-Match; status, ETag and body.
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

async fn post(app: &TestApp, path: &str, who: &Account, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = send(app, Method::POST, path, who, None, Some(body)).await;
    (status, body)
}

async fn events(app: &TestApp, owner: &Account, action: &str) -> Vec<Value> {
    let (status, page) = app
        .get(
            &format!("/api/v1/audit-events?action={action}&limit=100"),
            &owner.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn activity(app: &TestApp, who: &Account, name: &str) -> String {
    let (status, body) = post(
        app,
        "/api/v1/processing-activities",
        who,
        json!({"name": name, "status": "active",
               "purposes": [{"description": "Paying salaries", "lawful_basis": "contract"}],
               "data_categories": [{"name": "Bank details"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_become_changes_only_when_accepted() {
    let app = TestApp::spawn().await;
    let owner = app.register("Suggest GmbH").await;
    let member = app.add_user(&owner, "member").await;
    send(
        &app,
        Method::PUT,
        "/api/v1/organisation",
        &owner,
        Some("\"0\""),
        Some(
            json!({"legal_name": "Suggest GmbH", "contact_email": "privacy@suggest.example",
                    "dpo_not_required_reason": "fewer than 20 people process personal data"}),
        ),
    )
    .await;
    let payroll = activity(&app, &owner, "Payroll").await;

    // A policy draft: stored, pending, nothing in the register yet.
    let (status, etag, draft) = send(
        &app,
        Method::POST,
        "/api/v1/ai/policy-drafts",
        &member,
        None,
        Some(json!({"kind": "privacy_policy"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(draft["status"], "pending");
    assert_eq!(draft["provenance"]["provider"], "offline");
    assert!(
        draft["provenance"]["record_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(payroll))
    );
    let text = draft["content"]["text"].as_str().unwrap().to_owned();
    assert!(
        text.contains("Suggest GmbH") && text.contains("Payroll"),
        "{text}"
    );
    let (_, policies) = app.get("/api/v1/policies", &member.access).await;
    assert!(
        policies["items"].as_array().unwrap().is_empty(),
        "nothing applied yet"
    );
    let (status, listed) = app
        .get("/api/v1/ai/suggestions?status=pending", &member.access)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // Accepting needs the ETag, once.
    let path = format!("/api/v1/ai/suggestions/{}/accept", id(&draft));
    let (status, _, _) = send(&app, Method::POST, &path, &member, None, None).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, etag, accepted) =
        send(&app, Method::POST, &path, &member, Some("\"1\""), None).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(accepted["suggestion"]["status"], "accepted");
    assert_eq!(accepted["applied"]["type"], "policy_version");
    assert_eq!(accepted["applied"]["policy_created"], true);
    let policy = accepted["applied"]["policy_id"].as_str().unwrap();
    let (status, version) = app
        .get(
            &format!("/api/v1/policies/{policy}/versions/1"),
            &member.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(version["status"], "draft");
    assert_eq!(version["content"], json!(text));
    let (status, _, again) = send(&app, Method::POST, &path, &member, Some("\"2\""), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["code"], "already_decided");

    // An activity suggestion becomes a draft activity.
    let (status, suggestion) = post(
        &app,
        "/api/v1/ai/activity-suggestions",
        &member,
        json!({"description": "We send a monthly newsletter to customers who subscribed"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{suggestion}");
    assert_eq!(suggestion["content"]["fields"]["name"], "Newsletter");
    let (status, _, accepted) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/accept", id(&suggestion)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let activity_id = accepted["applied"]["activity_id"].as_str().unwrap();
    let (_, created) = app
        .get(
            &format!("/api/v1/processing-activities/{activity_id}"),
            &member.access,
        )
        .await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["purposes"][0]["lawful_basis"], "consent");

    // Answers are acknowledged or rejected; neither changes a record.
    let (status, answer) = post(
        &app,
        "/api/v1/ai/ask",
        &member,
        json!({"question": "Which activities miss Art. 30 items?"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert!(
        answer["citations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == json!(payroll))
    );
    let (status, _, acknowledged) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/accept", id(&answer)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acknowledged["suggestion"]["status"], "acknowledged");
    assert_eq!(acknowledged["applied"], Value::Null);
    let (_, second) = post(
        &app,
        "/api/v1/ai/ask",
        &member,
        json!({"question": "Who is our DPO?"}),
    )
    .await;
    let (status, _, rejected) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/reject", id(&second)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decided_by"], json!(member.user_id));

    // The trail: every use, every decision, and the register's events naming the source.
    assert_eq!(events(&app, &owner, "ai.suggestion.created").await.len(), 4);
    assert_eq!(
        events(&app, &owner, "ai.suggestion.accepted").await.len(),
        2
    );
    assert_eq!(
        events(&app, &owner, "ai.suggestion.acknowledged")
            .await
            .len(),
        1
    );
    assert_eq!(
        events(&app, &owner, "ai.suggestion.rejected").await.len(),
        1
    );
    let version_events = events(&app, &owner, "policy_version.created").await;
    assert_eq!(
        version_events[0]["changes"]["source"]["id"],
        json!(id(&draft))
    );
    assert_eq!(
        version_events[0]["changes"]["source"]["kind"],
        "ai_suggestion"
    );
    let activity_events = events(&app, &owner, "processing_activity.created").await;
    assert!(
        activity_events
            .iter()
            .any(|e| e["changes"]["source"]["id"] == json!(id(&suggestion)))
    );
    // The assistant's own events carry no prompt or answer text (the accepted activity's
    // fields are audited by the register like any record's).
    let (_, all) = app
        .get("/api/v1/audit-events?limit=100", &owner.access)
        .await;
    for event in all["items"].as_array().unwrap() {
        if event["action"].as_str().unwrap().starts_with("ai.") {
            let text = event.to_string();
            assert!(
                !text.contains("monthly newsletter") && !text.contains("Who is our DPO"),
                "{text}"
            );
        }
    }
    let (_, chain) = app.get("/api/v1/audit-events/verify", &owner.access).await;
    assert_eq!(chain["valid"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_switch_and_the_hourly_limit_hold() {
    // The tenant's limit alone (a user's share of it: tests/hardening_edge.rs).
    let app = TestApp::spawn_with(&[
        ("AI_RATE_LIMIT_PER_HOUR", "3"),
        ("RATE_LIMIT_USER_SHARE_PERCENT", "100"),
    ])
    .await;
    let owner = app.register("Limited GmbH").await;
    let question = json!({"question": "Who is our DPO?"});

    let (status, _) = app
        .call(
            Method::PATCH,
            "/api/v1/tenants/me",
            Some(&owner.access),
            Some(json!({"settings": {"ai_enabled": false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = post(&app, "/api/v1/ai/ask", &owner, question.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(problem["code"], "ai_disabled");
    assert_eq!(problem["type"], "urn:aura:problem:ai_disabled");

    app.call(
        Method::PATCH,
        "/api/v1/tenants/me",
        Some(&owner.access),
        Some(json!({"settings": {"ai_enabled": true}})),
    )
    .await;
    for _ in 0..3 {
        let (status, body) = post(&app, "/api/v1/ai/ask", &owner, question.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let response = app
        .http
        .post(format!("{}/api/v1/ai/ask", app.base))
        .bearer_auth(&owner.access)
        .json(&question)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    // Another tenant has its own budget.
    let other = app.register("Unlimited AG").await;
    let (status, _) = post(&app, "/api/v1/ai/ask", &other, question).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_and_citations_never_cross_tenants_even_with_colliding_titles() {
    let app = TestApp::spawn().await;
    let alpha = app.register("Alpha Payroll GmbH").await;
    let beta = app.register("Beta Payroll AG").await;
    let alpha_payroll = activity(&app, &alpha, "Payroll").await;
    let beta_payroll = activity(&app, &beta, "Payroll").await;
    let beta_archive = activity(&app, &beta, "Payroll archive").await;
    let (_, beta_processor) = post(
        &app,
        "/api/v1/processors",
        &beta,
        json!({"name": "Payroll Services Ltd"}),
    )
    .await;
    let beta_ids = [
        beta_payroll,
        beta_archive,
        id(&beta_processor),
        beta.tenant_id.clone(),
    ];

    let mut made = Vec::new();
    for (path, body) in [
        (
            "/api/v1/ai/ask",
            json!({"question": "What is missing for payroll?"}),
        ),
        (
            "/api/v1/ai/ask",
            json!({"question": "Which processors handle payroll data?"}),
        ),
        (
            "/api/v1/ai/activity-suggestions",
            json!({"description": "Payroll for our staff"}),
        ),
        (
            "/api/v1/ai/policy-drafts",
            json!({"kind": "privacy_policy"}),
        ),
    ] {
        let (status, suggestion) = post(&app, path, &alpha, body).await;
        assert_eq!(status, StatusCode::CREATED, "{suggestion}");
        let used = suggestion["provenance"]["record_ids"].to_string();
        let cited = suggestion["citations"].to_string();
        assert!(
            used.contains(&alpha_payroll),
            "{path}: Alpha's own Payroll is used"
        );
        for foreign in &beta_ids {
            assert!(
                !used.contains(foreign.as_str()),
                "{path}: Beta's record in Alpha's context"
            );
            assert!(
                !cited.contains(foreign.as_str()),
                "{path}: Beta's record cited for Alpha"
            );
        }
        assert!(!suggestion.to_string().contains("Beta Payroll AG"));
        made.push(id(&suggestion));
    }
    // Beta sees none of them and can decide none.
    let (_, listed) = app
        .get("/api/v1/ai/suggestions?limit=100", &beta.access)
        .await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
    for suggestion in &made {
        for (method, path) in [
            (Method::GET, format!("/api/v1/ai/suggestions/{suggestion}")),
            (
                Method::POST,
                format!("/api/v1/ai/suggestions/{suggestion}/accept"),
            ),
            (
                Method::POST,
                format!("/api/v1/ai/suggestions/{suggestion}/reject"),
            ),
        ] {
            let (status, _, _) = send(&app, method, &path, &beta, Some("\"1\""), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
    }
    let (_, mine) = app
        .get("/api/v1/ai/suggestions?limit=100", &alpha.access)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), made.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_failures_are_clear_502_and_504_problems() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
    let failing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&failing)
        .await;
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&slow)
        .await;
    for (server, status, code) in [
        (&failing, StatusCode::BAD_GATEWAY, "ai_provider_failed"),
        (&slow, StatusCode::GATEWAY_TIMEOUT, "ai_provider_timeout"),
    ] {
        let base = format!("{}/v1", server.uri());
        let app = TestApp::spawn_with(&[
            ("AI_PROVIDER", "openai"),
            ("AI_BASE_URL", &base),
            ("AI_MODEL", "gpt-test"),
            ("AI_API_KEY", "sk-never-shown"),
            ("AI_TIMEOUT_SECONDS", "1"),
            ("AI_MAX_RETRIES", "1"),
        ])
        .await;
        let owner = app.register("Upstream GmbH").await;
        let (got, problem) = post(
            &app,
            "/api/v1/ai/ask",
            &owner,
            json!({"question": "Who is our DPO?"}),
        )
        .await;
        assert_eq!(got, status, "{problem}");
        assert_eq!(problem["code"], code);
        assert!(!problem.to_string().contains("sk-never-shown"));
        let (_, listed) = app.get("/api/v1/ai/suggestions", &owner.access).await;
        assert!(
            listed["items"].as_array().unwrap().is_empty(),
            "nothing stored"
        );
        let failed = events(&app, &owner, "ai.request_failed").await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["changes"]["provider"], "openai");
    }
}

/// The consequences and measures of a breach: suggested from the breach and the activity
/// it names (both cited), pending until a member accepts; then written into the breach by
/// an update whose audit event names the suggestion. A breach changed since refuses the
/// accept (409 `target_changed`) and keeps what the user wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breach_measures_are_written_only_when_accepted() {
    let app = TestApp::spawn().await;
    let owner = app.register("Breach Advice GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let payroll = activity(&app, &owner, "Payroll").await;
    let aware = time::OffsetDateTime::now_utc() - time::Duration::hours(3);
    let breach_body = json!({
        "title": "Payroll export mailed to the wrong address",
        "became_aware_at": aware.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "kinds": ["confidentiality"],
        "activity_ids": [payroll],
    });
    let breach = app
        .created("/api/v1/breaches", &member, breach_body.clone())
        .await;
    let breach_id = id(&breach);
    assert_eq!(
        breach["data_categories"],
        json!(["Bank details"]),
        "from the register"
    );

    let (status, suggestion) = post(
        &app,
        "/api/v1/ai/breach-measures",
        &member,
        json!({"breach_id": breach_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{suggestion}");
    assert_eq!(suggestion["kind"], "breach_measures");
    assert_eq!(suggestion["content"]["breach_version"], 1);
    let consequences = suggestion["content"]["consequences"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(consequences.contains("Financial loss"), "{consequences}");
    let cited: Vec<&str> = (suggestion["citations"].as_array().unwrap().iter())
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(cited, ["personal_data_breach", "processing_activity"]);
    let (_, unchanged) = app
        .get(&format!("/api/v1/breaches/{breach_id}"), &member.access)
        .await;
    assert_eq!(
        unchanged["consequences"],
        Value::Null,
        "nothing applied yet"
    );
    let (status, missing) = post(
        &app,
        "/api/v1/ai/breach-measures",
        &member,
        json!({"breach_id": uuid::Uuid::now_v7()}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

    let (status, _, accepted) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/accept", id(&suggestion)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(
        accepted["applied"],
        json!({"type": "breach", "breach_id": breach_id, "version": 2})
    );
    let (_, written) = app
        .get(&format!("/api/v1/breaches/{breach_id}"), &member.access)
        .await;
    assert_eq!(written["consequences"], json!(consequences));
    assert_eq!(written["measures"], suggestion["content"]["measures"]);
    let updated = events(&app, &owner, "personal_data_breach.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0]["changes"]["source"],
        json!({"kind": "ai_suggestion", "id": id(&suggestion)})
    );

    // Suggested again, then edited by hand: the accept is refused, the edit stays.
    let (_, again) = post(
        &app,
        "/api/v1/ai/breach-measures",
        &member,
        json!({"breach_id": breach_id}),
    )
    .await;
    let mut edit = breach_body;
    edit["measures"] = json!("Written by hand");
    let (status, _, edited) = send(
        &app,
        Method::PUT,
        &format!("/api/v1/breaches/{breach_id}"),
        &member,
        Some("\"2\""),
        Some(edit),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let (status, _, refused) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/accept", id(&again)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "target_changed");
    let (_, kept) = app
        .get(&format!("/api/v1/breaches/{breach_id}"), &member.access)
        .await;
    assert_eq!(kept["measures"], "Written by hand");
}

/// A DPIA's Art. 35(7) content drafted from the register: the description, the six
/// necessity topics and candidate risks from the covered activity and its processor (all
/// cited), pending until a member accepts; then written into the DPIA by an update whose
/// audit event names the suggestion (the DPIA's own risk kept first). Viewers may not
/// draft, another tenant finds nothing, a DPIA changed since refuses the accept (409
/// `target_changed`) and keeps what the user wrote, and a DPIA in review is not drafted
/// for (409 `dpia_in_review`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpia_drafts_are_written_only_when_accepted() {
    let app = TestApp::spawn().await;
    let owner = app.register("DPIA Drafts GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let other = app.register("Other Drafts GmbH").await;
    let processor = app
        .created(
            "/api/v1/processors",
            &owner,
            json!({"name": "CamCloud GmbH"}),
        )
        .await;
    let cctv = app
        .created(
            "/api/v1/processing-activities",
            &owner,
            json!({"name": "CCTV of the shop floor", "status": "active",
                "purposes": [{"description": "Theft prevention", "lawful_basis": "legitimate_interests",
                    "legitimate_interest": "Protecting the stock"}],
                "data_subject_categories": ["Customers", "Employees"],
                "data_categories": [{"name": "Video recordings", "retention": "72 hours"}],
                "processor_ids": [processor["id"]]}),
        )
        .await;
    let own_risk = json!({"source": "A shop assistant", "event": "illegitimate_access",
        "impact": "Recordings shown to colleagues", "likelihood": "limited",
        "severity": "limited", "residual_likelihood": "negligible", "residual_severity": "limited"});
    let dpia_body = json!({"title": "CCTV", "activity_ids": [cctv["id"]], "risks": [own_risk]});
    let dpia = app
        .created("/api/v1/dpias", &member, dpia_body.clone())
        .await;
    let dpia_id = id(&dpia);
    const DRAFTS: &str = "/api/v1/ai/dpia-drafts";

    let (status, refused) = post(&app, DRAFTS, &viewer, json!({"dpia_id": dpia_id})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    for (who, dpia) in [
        (&other, json!(dpia_id)),
        (&member, json!(uuid::Uuid::now_v7())),
    ] {
        let (status, missing) = post(&app, DRAFTS, who, json!({"dpia_id": dpia})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }

    let (status, suggestion) = post(&app, DRAFTS, &member, json!({"dpia_id": dpia_id})).await;
    assert_eq!(status, StatusCode::CREATED, "{suggestion}");
    assert_eq!(suggestion["kind"], "dpia_draft");
    let content = &suggestion["content"];
    assert_eq!(content["dpia_version"], 1);
    let description = content["description"].as_str().unwrap();
    for expected in ["CCTV of the shop floor", "72 hours", "CamCloud GmbH"] {
        assert!(description.contains(expected), "{expected}: {description}");
    }
    let topics: Vec<&str> = (content["necessity"].as_array().unwrap().iter())
        .map(|n| n["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        topics,
        [
            "lawful_basis",
            "minimisation",
            "retention",
            "information",
            "rights",
            "processors_and_transfers"
        ]
    );
    let risks = content["risks"].as_array().unwrap();
    assert_eq!(
        risks.len(),
        4,
        "three feared events and the processor: {risks:?}"
    );
    assert!(
        risks[3]["source"]
            .as_str()
            .unwrap()
            .contains("CamCloud GmbH")
    );
    let cited: Vec<&str> = (suggestion["citations"].as_array().unwrap().iter())
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(cited, ["dpia", "processing_activity", "processor"]);
    let dpia_path = format!("/api/v1/dpias/{dpia_id}");
    let (_, unchanged) = app.get(&dpia_path, &member.access).await;
    assert_eq!(unchanged["description"], Value::Null, "nothing applied yet");
    assert_eq!(unchanged["version"], 1);
    let (status, _) = app
        .get(
            &format!("/api/v1/ai/suggestions/{}", id(&suggestion)),
            &other.access,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _, accepted) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/accept", id(&suggestion)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(
        accepted["applied"],
        json!({"type": "dpia", "dpia_id": dpia_id, "version": 2})
    );
    let (_, written) = app.get(&dpia_path, &member.access).await;
    assert_eq!(written["description"], content["description"]);
    assert_eq!(written["necessity"], content["necessity"]);
    let written_risks = written["risks"].as_array().unwrap();
    assert_eq!(written_risks.len(), 5, "{written}");
    assert_eq!(written_risks[0], own_risk, "the DPIA's own risk first");
    assert_eq!(&written_risks[1..], risks.as_slice());
    assert_eq!(
        written["missing"],
        json!(["measures", "dpo_advice"]),
        "(a)–(c) drafted; (d) and the DPO's advice are the user's"
    );
    let updated = events(&app, &owner, "dpia.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0]["changes"]["source"],
        json!({"kind": "ai_suggestion", "id": id(&suggestion)})
    );

    // Drafted again, then edited by hand: the accept is refused, the edit stays.
    let (_, again) = post(&app, DRAFTS, &member, json!({"dpia_id": dpia_id})).await;
    let mut edit = dpia_body;
    edit["description"] = json!("Written by hand");
    let (status, _, edited) = send(
        &app,
        Method::PUT,
        &dpia_path,
        &member,
        Some("\"2\""),
        Some(edit),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let (status, _, refused) = send(
        &app,
        Method::POST,
        &format!("/api/v1/ai/suggestions/{}/accept", id(&again)),
        &member,
        Some("\"1\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "target_changed");
    let (_, kept) = app.get(&dpia_path, &member.access).await;
    assert_eq!(kept["description"], "Written by hand");
    assert_eq!(kept["version"], 3);

    // In review, a DPIA is approved or sent back as submitted: nothing is drafted for it.
    let (status, _, submitted) = send(
        &app,
        Method::POST,
        &format!("{dpia_path}/submit"),
        &member,
        Some("\"3\""),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let (status, frozen) = post(&app, DRAFTS, &member, json!({"dpia_id": dpia_id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{frozen}");
    assert_eq!(frozen["code"], "dpia_in_review");
}
