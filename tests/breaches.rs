//! Personal-data breaches against the real binary on PostgreSQL: the three refusals of the
//! acceptance (awareness in the future, a late notification without reasons, a high-risk
//! breach closed without its Art. 34 decision), the workflows (notified in phases; decided
//! not to notify; high risk told to the subjects), a late notification with reasons, the
//! filters and the deadline sort, drills apart, and no delete (Art. 33(5)).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, assert_refused, problem_fields as fields};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

const BREACHES: &str = "/api/v1/breaches";

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

/// A breach the organisation became aware of `hours_ago` hours ago.
fn breach(title: &str, hours_ago: i64) -> Value {
    let aware = OffsetDateTime::now_utc() - Duration::hours(hours_ago);
    json!({
        "title": title,
        "description": "An unencrypted laptop with the customer list was stolen.",
        "became_aware_at": rfc3339(aware),
        "kinds": ["confidentiality", "availability"],
        "data_subject_categories": ["Customers"],
        "approximate_subjects": 1200,
        "data_categories": ["Contact data"],
        "approximate_records": 1200,
        "consequences": "Phishing against the customers",
        "measures": "Device wiped remotely",
        "contact_point": "dpo@example.org",
    })
}

async fn create(app: &TestApp, who: &Account, body: Value) -> Value {
    app.created(BREACHES, who, body).await
}

/// Runs an action on `breach` at its version; returns status and body.
async fn act(
    app: &TestApp,
    who: &Account,
    breach: &Value,
    action: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.act(BREACHES, who, breach, action, body).await
}

/// Runs an action that must succeed; the breach after it.
async fn done(app: &TestApp, who: &Account, breach: &Value, action: &str, body: Value) -> Value {
    app.done(BREACHES, who, breach, action, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_refusals_of_the_acceptance() {
    let app = TestApp::spawn().await;
    let owner = app.register("Breach Refusals GmbH").await;

    // Awareness in the future; an end before the start.
    let (status, _, problem) = app
        .send(
            Method::POST,
            BREACHES,
            &owner,
            None,
            Some(breach("Future", -2)),
        )
        .await;
    assert_refused(status, &problem, "became_aware_at", "Art. 33(1)");
    let mut backwards = breach("Backwards", 10);
    backwards["occurred_from"] = json!(rfc3339(OffsetDateTime::now_utc() - Duration::hours(12)));
    backwards["occurred_to"] = json!(rfc3339(OffsetDateTime::now_utc() - Duration::hours(20)));
    let (status, _, problem) = app
        .send(Method::POST, BREACHES, &owner, None, Some(backwards))
        .await;
    assert_refused(status, &problem, "occurred_to", "occurred_from");

    // A notification after the 72 hours without the reasons for the delay.
    let late = create(&app, &owner, breach("Late", 80)).await;
    assert_eq!(late["overdue"], true, "{late}");
    assert_eq!(late["hours_late"], 9, "8 hours and some seconds: {late}");
    assert_eq!(late["hours_left"], Value::Null);
    let (status, problem) = act(
        &app,
        &owner,
        &late,
        "notify-authority",
        Some(json!({"content": "Initial notification"})),
    )
    .await;
    assert_refused(status, &problem, "delay_reasons", "Art. 33(1)");

    // A high-risk breach closed without its Art. 34 decision.
    let high = create(&app, &owner, breach("High", 5)).await;
    let high = done(
        &app,
        &owner,
        &high,
        "assess",
        json!({"risk": "high_risk", "reasoning": "Unencrypted"}),
    )
    .await;
    let high = done(
        &app,
        &owner,
        &high,
        "notify-authority",
        json!({"content": "Initial notification"}),
    )
    .await;
    assert_eq!(high["missing"], json!(["subject_communication"]), "{high}");
    let (status, problem) = act(&app, &owner, &high, "close", None).await;
    assert_refused(status, &problem, "communication", "Art. 34");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflows_through_the_api() {
    let app = TestApp::spawn().await;
    let owner = app.register("Breach Workflow GmbH").await;
    let member = app.add_user(&owner, "member").await;

    // Notified in two phases, then closed.
    let mut phased = breach("Phased", 10);
    phased["approximate_records"] = Value::Null;
    let created = create(&app, &member, phased).await;
    assert_eq!(created["status"], "open");
    assert_eq!(
        created["hours_left"], 61,
        "62 hours less some seconds: {created}"
    );
    assert_eq!(
        created["missing"],
        json!(["approximate_records", "risk_assessment"])
    );
    let aware =
        OffsetDateTime::parse(created["became_aware_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let deadline =
        OffsetDateTime::parse(created["authority_deadline"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(deadline - aware, Duration::hours(72));
    let assessed = done(
        &app,
        &member,
        &created,
        "assess",
        json!({"risk": "risk", "reasoning": "Contact data only"}),
    )
    .await;
    assert_eq!(assessed["status"], "assessed");
    let first = done(
        &app,
        &member,
        &assessed,
        "notify-authority",
        json!({"content": "Initial notification", "authority_reference": "LDI-1",
            "to_follow": ["approximate_records"]}),
    )
    .await;
    assert_eq!(first["status"], "notified");
    assert_eq!(first["notified_in_time"], true);
    assert_eq!(first["missing"], json!(["approximate_records"]));
    // A phase may only promise Art. 33(3) items.
    let (status, problem) = act(
        &app,
        &member,
        &first,
        "notify-authority",
        Some(json!({"content": "More", "to_follow": ["risk_assessment"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["to_follow[0]"]);
    let mut edit = first.clone();
    let path = format!("{BREACHES}/{}", first["id"].as_str().unwrap());
    let mut fields_body = breach("Phased", 10);
    fields_body["became_aware_at"] = edit["became_aware_at"].take();
    fields_body["approximate_records"] = json!(4800);
    let (status, _, edited) = app
        .send(
            Method::PUT,
            &path,
            &member,
            first["version"].as_i64(),
            Some(fields_body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let second = done(
        &app,
        &member,
        &edited,
        "notify-authority",
        json!({"content": "The number of records: 4,800"}),
    )
    .await;
    assert_eq!(second["notifications"].as_array().unwrap().len(), 2);
    assert_eq!(second["missing"], json!([]));
    // Members do not close; admins and owners do.
    let (status, _) = act(&app, &member, &second, "close", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let closed = done(&app, &owner, &second, "close", json!(null)).await;
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());

    // Decided not to notify: only after a no-risk assessment.
    let harmless = create(&app, &member, breach("Encrypted stick", 3)).await;
    let (status, problem) = act(
        &app,
        &member,
        &harmless,
        "decide-not-to-notify",
        Some(json!({"reasoning": "Encrypted"})),
    )
    .await;
    assert_refused(status, &problem, "risk", "assess the risk");
    let assessed = done(
        &app,
        &member,
        &harmless,
        "assess",
        json!({"risk": "no_risk", "reasoning": "AES-256, key safe"}),
    )
    .await;
    let decided = done(
        &app,
        &member,
        &assessed,
        "decide-not-to-notify",
        json!({"reasoning": "The data were encrypted with a key that stayed safe"}),
    )
    .await;
    assert_eq!(decided["status"], "not_notified");
    assert_eq!(
        decided["not_notified"]["decided_by"],
        member.user_id.as_str()
    );
    assert_eq!(decided["overdue"], false);
    assert_eq!(decided["hours_left"], Value::Null);
    // A reassessment cannot contradict the decision it rests on.
    let (status, problem) = act(
        &app,
        &member,
        &decided,
        "assess",
        Some(json!({"risk": "high_risk", "reasoning": "The key was on the stick"})),
    )
    .await;
    assert_refused(status, &problem, "risk", "decided not to be notified");
    let closed = done(&app, &owner, &decided, "close", json!(null)).await;
    assert_eq!(closed["status"], "closed");

    // A risk assessed as such is notified, not decided away.
    let risky = create(&app, &member, breach("Risky", 3)).await;
    let risky = done(
        &app,
        &member,
        &risky,
        "assess",
        json!({"risk": "risk", "reasoning": "Contact data"}),
    )
    .await;
    let (status, problem) = act(
        &app,
        &member,
        &risky,
        "decide-not-to-notify",
        Some(json!({"reasoning": "We would rather not"})),
    )
    .await;
    assert_refused(status, &problem, "risk", "Art. 33(1)");

    // High risk: told to the subjects (Art. 34), or a ground recorded instead.
    for (title, decision) in [
        (
            "Told",
            json!({"decision": "communicated", "channel": "E-mail to each customer",
                "content_reference": "DMS 2027/118"}),
        ),
        (
            "Not told",
            json!({"decision": "not_communicated", "ground": "disproportionate_effort",
                "reasoning": "A public notice on the web site instead"}),
        ),
    ] {
        let high = create(&app, &member, breach(title, 20)).await;
        let high = done(
            &app,
            &member,
            &high,
            "assess",
            json!({"risk": "high_risk", "reasoning": "Bank data"}),
        )
        .await;
        let high = done(
            &app,
            &member,
            &high,
            "notify-authority",
            json!({"content": "Initial"}),
        )
        .await;
        let told = done(&app, &member, &high, "communicate-to-subjects", decision).await;
        assert_eq!(told["missing"], json!([]), "{told}");
        let (status, again) = act(
            &app,
            &member,
            &told,
            "communicate-to-subjects",
            Some(
                json!({"decision": "communicated", "channel": "Letter", "content_reference": "x"}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "recorded once: {again}");
        let closed = done(&app, &owner, &told, "close", json!(null)).await;
        assert_eq!(closed["status"], "closed");
    }
    // A decision's fields belong to it.
    let other = create(&app, &member, breach("Mixed", 2)).await;
    let (status, problem) = act(
        &app,
        &member,
        &other,
        "communicate-to-subjects",
        Some(json!({"decision": "not_communicated", "channel": "E-mail"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["channel", "ground", "reasoning"]);

    // Every breach stays in the register (Art. 33(5)): there is no delete.
    let path = format!("{BREACHES}/{}", other["id"].as_str().unwrap());
    let (status, _, _) = app
        .send(
            Method::DELETE,
            &path,
            &owner,
            other["version"].as_i64(),
            None,
        )
        .await;
    assert!(
        status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    let (status, _, _) = app.send(Method::GET, &path, &owner, None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_notification_with_reasons_is_recorded_as_late() {
    let app = TestApp::spawn().await;
    let owner = app.register("Breach Late GmbH").await;
    let late = create(&app, &owner, breach("Late", 100)).await;
    let notified = done(
        &app,
        &owner,
        &late,
        "notify-authority",
        json!({"content": "Initial notification",
            "delay_reasons": "The processor told us only after 90 hours"}),
    )
    .await;
    assert_eq!(notified["status"], "notified");
    assert_eq!(notified["notified_in_time"], false);
    assert_eq!(notified["overdue"], false, "decided, so no longer overdue");
    assert_eq!(
        notified["hours_late"], 29,
        "28 hours and some seconds: {notified}"
    );
    assert_eq!(
        notified["notifications"][0]["delay_reasons"],
        "The processor told us only after 90 hours"
    );
    // The audit trail holds the notification.
    let (status, events) = app
        .get("/api/v1/audit-events?limit=100", &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        events
            .to_string()
            .contains("personal_data_breach.authority_notified"),
        "{events}"
    );
    // The free texts may name people: their audit events say they changed, not what
    // they say (audit rows are never erased).
    assert!(
        !events.to_string().contains("unencrypted laptop"),
        "the description is in the audit trail: {events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_sort_and_drills() {
    let app = TestApp::spawn().await;
    let owner = app.register("Breach Lists GmbH").await;
    let overdue = create(&app, &owner, breach("Overdue", 75)).await;
    let soon = create(&app, &owner, breach("Soon", 50)).await;
    let fresh = create(&app, &owner, breach("Fresh", 1)).await;
    let fresh = done(
        &app,
        &owner,
        &fresh,
        "assess",
        json!({"risk": "high_risk", "reasoning": "Bank data"}),
    )
    .await;
    done(
        &app,
        &owner,
        &fresh,
        "notify-authority",
        json!({"content": "Initial"}),
    )
    .await;
    let mut drill = breach("Drill", 80);
    drill["drill"] = json!(true);
    create(&app, &owner, drill).await;
    let _ = (overdue, soon);

    let titles = |query: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            let (status, page) = app.get(&format!("{BREACHES}{query}"), &owner.access).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            (page["items"].as_array().unwrap().iter())
                .map(|b| b["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(titles("?sort=due_on").await, ["Overdue", "Soon", "Fresh"]);
    assert_eq!(titles("?sort=-due_on").await, ["Fresh", "Soon", "Overdue"]);
    assert_eq!(titles("?drill=true").await, ["Drill"]);
    assert_eq!(titles("?overdue=true").await, ["Overdue"]);
    assert_eq!(titles("?overdue=true&drill=true").await, ["Drill"]);
    assert_eq!(titles("?notified=true").await, ["Fresh"]);
    assert_eq!(
        titles("?notified=false&sort=name").await,
        ["Overdue", "Soon"]
    );
    assert_eq!(titles("?risk=high_risk").await, ["Fresh"]);
    assert_eq!(titles("?status=open&sort=name").await, ["Overdue", "Soon"]);
    let (status, problem) = app
        .get(&format!("{BREACHES}?risk=huge"), &owner.access)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
}

/// The deadline is an instant, said in UTC and in the organisation's time zone: a Berlin
/// organisation aware at 01:30 on the Friday before the spring change (CET, +01:00) must
/// notify by 02:30 CEST on the Monday — 72 real hours, 73 on the wall clock. A UTC
/// organisation sees the same instant in UTC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_is_said_in_utc_and_in_the_organisations_zone() {
    let app = TestApp::spawn().await;
    let owner = app.register("Zeitzone GmbH").await;
    let mut body = breach("Lost backup tape", 0);
    body["became_aware_at"] = json!("2026-03-27T01:30:00+01:00");

    // No profile yet: UTC.
    let utc = create(&app, &owner, body.clone()).await;
    assert_eq!(utc["authority_deadline"], "2026-03-30T00:30:00Z", "{utc}");
    assert_eq!(
        utc["authority_deadline_local"],
        json!({"utc": "2026-03-30T00:30:00Z", "local": "2026-03-30T00:30:00Z", "zone": "UTC"})
    );

    let (status, _, saved) = app
        .send(
            Method::PUT,
            "/api/v1/organisation",
            &owner,
            Some(0),
            Some(json!({"legal_name": "Zeitzone GmbH", "country": "DE", "time_zone": "Europe/Berlin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let berlin = create(&app, &owner, body).await;
    assert_eq!(
        berlin["authority_deadline"], "2026-03-30T00:30:00Z",
        "{berlin}"
    );
    assert_eq!(
        berlin["authority_deadline_local"],
        json!({"utc": "2026-03-30T00:30:00Z", "local": "2026-03-30T02:30:00+02:00", "zone": "Europe/Berlin"})
    );
    // Read back, the same.
    let id = berlin["id"].as_str().unwrap();
    let (status, _, read) = app
        .send(Method::GET, &format!("{BREACHES}/{id}"), &owner, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        read["authority_deadline_local"],
        berlin["authority_deadline_local"]
    );
}

/// Once the authority was notified, a corrected awareness time cannot make the record lie:
/// not after the notification, and not so early that an on-time notification turns late
/// without reasons for the delay. A correction that keeps it on time is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awareness_corrected_after_notification_keeps_article_33_1() {
    let app = TestApp::spawn().await;
    let owner = app.register("Breach Correction GmbH").await;
    let created = create(&app, &owner, breach("Corrected", 10)).await;
    let notified_at = OffsetDateTime::now_utc() - Duration::hours(2);
    let notified = done(
        &app,
        &owner,
        &created,
        "notify-authority",
        json!({"content": "Initial notification", "sent_at": rfc3339(notified_at)}),
    )
    .await;
    assert_eq!(notified["notified_in_time"], true, "{notified}");
    let id = notified["id"].as_str().unwrap();
    let version = notified["version"].as_i64().unwrap();
    let put = |aware: OffsetDateTime| {
        let mut body = breach("Corrected", 0);
        body["became_aware_at"] = json!(rfc3339(aware));
        body
    };
    for (aware, rule) in [
        (notified_at + Duration::hours(1), "first notified"),
        (notified_at - Duration::hours(80), "reasons for the delay"),
    ] {
        let (status, _, problem) = app
            .send(
                Method::PUT,
                &format!("{BREACHES}/{id}"),
                &owner,
                Some(version),
                Some(put(aware)),
            )
            .await;
        assert_refused(status, &problem, "became_aware_at", rule);
    }
    let (status, _, moved) = app
        .send(
            Method::PUT,
            &format!("{BREACHES}/{id}"),
            &owner,
            Some(version),
            Some(put(notified_at - Duration::hours(20))),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["notified_in_time"], true, "{moved}");
}

/// A breach's reference (`BR-<year of awareness>-0001`, per organisation, kept when the
/// awareness moves), found by `q`; its contact point from the organisation profile when
/// it names none (and its own when it does); its empty categories and processors filled
/// from the activities it names, what the user entered kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_contact_point_and_what_the_register_fills_in() {
    let app = TestApp::spawn().await;
    let owner = app.register("Register Defaults GmbH").await;
    let other = app.register("Other Register GmbH").await;
    let processor = app
        .created("/api/v1/processors", &owner, json!({"name": "Mail Cloud"}))
        .await;
    let activity = app
        .created(
            "/api/v1/processing-activities",
            &owner,
            json!({"name": "Customer accounts",
                "data_subject_categories": ["Customers", "Prospects"],
                "data_categories": [{"name": "Contact data"}, {"name": "Bank details"}],
                "processor_ids": [processor["id"]]}),
        )
        .await;

    // Numbered per organisation and year of awareness.
    let mut first = breach("Laptop stolen", 2);
    first["became_aware_at"] = json!("2026-01-02T09:00:00Z");
    first["data_categories"] = json!([]);
    first["contact_point"] = Value::Null;
    first["activity_ids"] = json!([activity["id"]]);
    let first = create(&app, &owner, first).await;
    assert_eq!(first["reference"], "BR-2026-0001", "{first}");
    let second = create(&app, &owner, breach("USB stick lost", 2)).await;
    let year = OffsetDateTime::now_utc().year();
    let expected = if year == 2026 {
        "BR-2026-0002".to_owned()
    } else {
        format!("BR-{year}-0001")
    };
    assert_eq!(second["reference"], expected.as_str());
    let theirs = create(&app, &other, breach("Elsewhere", 2)).await;
    assert_eq!(
        theirs["reference"],
        format!("BR-{year}-0001"),
        "per organisation"
    );

    // The register filled what was left empty; what the user entered stays.
    assert_eq!(
        first["data_categories"],
        json!(["Contact data", "Bank details"])
    );
    assert_eq!(
        first["data_subject_categories"],
        json!(["Customers"]),
        "entered"
    );
    assert_eq!(first["processor_ids"], json!([processor["id"]]));
    assert_eq!(
        first["from_register"],
        json!({"data_subject_categories": ["Customers", "Prospects"],
            "data_categories": ["Contact data", "Bank details"],
            "processor_ids": [processor["id"]]})
    );
    // No contact point and no profile: missing.
    assert_eq!(first["contact_point_in_effect"], Value::Null);
    assert!(
        first["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("contact_point"))
    );

    // With the profile's DPO, the next write shows it, and the draft gives it.
    let (status, _, saved) = app
        .send(
            Method::PUT,
            "/api/v1/organisation",
            &owner,
            Some(0),
            Some(json!({"legal_name": "Register Defaults GmbH",
                "dpo": {"name": "Dana Schmidt", "email": "dpo@defaults.example"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let id = first["id"].as_str().unwrap();
    let (status, _, draft) = app
        .send(
            Method::GET,
            &format!("{BREACHES}/{id}/notification-draft"),
            &owner,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(
        draft["contact"]["in_effect"],
        json!({"source": "organisation_dpo",
            "contact": "Dana Schmidt (data protection officer), dpo@defaults.example"})
    );
    assert!(
        !draft["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("contact_point"))
    );
    // An edit moving the awareness to another year keeps the reference; the emptied
    // categories stay empty (an edit is stored as sent).
    let mut edit = breach("Laptop stolen", 2);
    edit["became_aware_at"] = json!("2025-12-30T09:00:00Z");
    edit["data_categories"] = json!([]);
    edit["contact_point"] = Value::Null;
    edit["activity_ids"] = json!([activity["id"]]);
    let (status, _, edited) = app
        .send(
            Method::PUT,
            &format!("{BREACHES}/{id}"),
            &owner,
            Some(1),
            Some(edit),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["reference"], "BR-2026-0001");
    assert_eq!(edited["data_categories"], json!([]));
    assert_eq!(edited["processor_ids"], json!([]));
    assert_eq!(
        edited["contact_point_in_effect"]["source"], "organisation_dpo",
        "{edited}"
    );
    assert!(
        !edited["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("contact_point"))
    );
    // The breach's own contact point wins.
    assert_eq!(
        second["contact_point_in_effect"],
        json!({"source": "breach", "contact": "dpo@example.org"})
    );

    // Found by part of its reference or title, ignoring case; never another's.
    for (q, titles) in [
        ("br-2026-0001", vec!["Laptop stolen"]),
        ("usb", vec!["USB stick lost"]),
        ("Elsewhere", vec![]),
    ] {
        let (status, page) = app.get(&format!("{BREACHES}?q={q}"), &owner.access).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let found: Vec<&str> = (page["items"].as_array().unwrap().iter())
            .map(|b| b["title"].as_str().unwrap())
            .collect();
        assert_eq!(found, titles, "q={q}");
    }
}
