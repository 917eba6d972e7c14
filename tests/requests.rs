//! Data-subject requests against the real binary on PostgreSQL: the legal clock's figures
//! through the API (the acceptance table of `aura-adapter-holidays`), the extension and
//! answer rules, the checklist, the tenant's clock setting, isolation between tenants,
//! and the person never stored, logged or audited in clear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use aura_adapter_holidays::{EuPublicHolidays, acceptance};
use aura_requests::{ExtensionMonths, HolidayCalendar, due_date, extended_due_date};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, problem_fields as fields};
use time::{Date, OffsetDateTime, macros::format_description};

const REQUESTS: &str = "/api/v1/data-subject-requests";

fn iso(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap()
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// A request received on `day` (10:00 UTC) from `email`.
fn request(day: Date, email: &str) -> Value {
    json!({
        "received_at": format!("{}T10:00:00Z", iso(day)),
        "channel": "email",
        "subject": {"name": "Erika Mustermann", "email": email, "category": "customer"},
        "rights": ["access"],
    })
}

async fn create(app: &TestApp, who: &Account, body: Value) -> Value {
    app.created(REQUESTS, who, body).await
}

/// Runs an action on `request` at its version; returns status and body.
async fn act(
    app: &TestApp,
    who: &Account,
    request: &Value,
    action: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.act(REQUESTS, who, request, action, body).await
}

async fn set_country(app: &TestApp, who: &Account, country: &str) {
    let (status, _, body) = app
        .send(
            Method::PUT,
            "/api/v1/organisation",
            who,
            Some(0),
            Some(json!({"legal_name": format!("{country} Test GmbH"), "country": country})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acceptance_table_through_the_api() {
    let app = TestApp::spawn().await;
    // Rows before the GDPR applied (the 2010 Cypriot Easter) test the calendar only: the
    // API refuses a receipt before 25 May 2018.
    let gdpr = time::macros::date!(2018 - 05 - 25);
    let rows: Vec<_> = (acceptance::rows().into_iter())
        .filter(|(received, ..)| *received >= gdpr)
        .collect();
    assert!(rows.len() >= 40, "{} rows", rows.len());
    // One organisation per country, established there.
    let mut tenants: BTreeMap<&str, Account> = BTreeMap::new();
    for (_, country, _, _) in &rows {
        if !tenants.contains_key(country) {
            let owner = app.register(&format!("Clock {country}")).await;
            set_country(&app, &owner, country).await;
            tenants.insert(country, owner);
        }
    }
    let mut wrong = Vec::new();
    for (received, country, expected, why) in &rows {
        let created = create(&app, &tenants[country], request(*received, "a@example.org")).await;
        let due = created["due_on"].as_str().unwrap_or("none").to_owned();
        let first = created["first_due_on"]
            .as_str()
            .unwrap_or("none")
            .to_owned();
        let start = created["clock_starts_on"]
            .as_str()
            .unwrap_or("none")
            .to_owned();
        if due != iso(*expected) || first != due || start != iso(*received) {
            wrong.push(format!(
                "{received} {country}: due {due}, first {first}, start {start}; expected {expected} ({why})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // References run per organisation and year of receipt.
    let (_, listed) = app
        .get(&format!("{REQUESTS}?limit=100"), &tenants["DE"].access)
        .await;
    let mut references: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .filter(|r| r.starts_with("DSR-2026-"))
        .collect();
    references.sort();
    let german_2026 = rows
        .iter()
        .filter(|(received, country, ..)| *country == "DE" && received.year() == 2026)
        .count();
    let expected: Vec<String> = (1..=german_2026)
        .map(|n| format!("DSR-2026-{n:04}"))
        .collect();
    assert_eq!(references, expected);
    // Sorted by due date, soonest first, in pages that continue by cursor.
    let mut dues = Vec::new();
    let mut next = format!("{REQUESTS}?sort=due_on&limit=7");
    loop {
        let (status, page) = app.get(&next, &tenants["DE"].access).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().unwrap() {
            dues.push(item["due_on"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{REQUESTS}?sort=due_on&limit=7&cursor={cursor}"),
            None => break,
        }
    }
    let german = rows
        .iter()
        .filter(|(_, country, ..)| *country == "DE")
        .count();
    assert_eq!(dues.len(), german);
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_follow_article_12_3() {
    let app = TestApp::spawn().await;
    let owner = app.register("Extension GmbH").await;
    set_country(&app, &owner, "DE").await;
    let calendar = HolidayCalendar::new(&EuPublicHolidays, "DE".parse().ok());

    // Received today: the first month runs, so it may be extended, with reasons.
    let open = create(&app, &owner, request(today(), "x@example.org")).await;
    let (status, problem) = act(
        &app,
        &owner,
        &open,
        "extend",
        Some(json!({"months": 2, "reasons": "  "})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["reasons"]);
    assert!(problem.to_string().contains("Art. 12(3)"), "{problem}");
    let (status, problem) = act(
        &app,
        &owner,
        &open,
        "extend",
        Some(json!({"months": 3, "reasons": "many systems"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["months"]);
    let (status, extended) = act(
        &app,
        &owner,
        &open,
        "extend",
        Some(json!({"months": 2, "reasons": "Records in six systems must be searched"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{extended}");
    let first_due = due_date(today(), &calendar);
    let months = ExtensionMonths::try_from(2).unwrap();
    assert_eq!(extended["first_due_on"], iso(first_due));
    assert_eq!(
        extended["due_on"],
        iso(extended_due_date(first_due, months, &calendar))
    );
    assert_eq!(extended["extension"]["told_on"], iso(today()));
    // Once only.
    let (status, problem) = act(
        &app,
        &owner,
        &extended,
        "extend",
        Some(json!({"months": 1, "reasons": "again"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["months"]);

    // Received three months ago: the first deadline has passed, too late to extend.
    let late_day = today() - time::Duration::days(92);
    let late = create(&app, &owner, request(late_day, "y@example.org")).await;
    let (status, problem) = act(
        &app,
        &owner,
        &late,
        "extend",
        Some(json!({"months": 1, "reasons": "complex"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["told_on"]);
    assert!(problem.to_string().contains("Art. 12(3)"), "{problem}");
    // Told before the deadline but recorded after it: still refused.
    let told = iso(late_day + time::Duration::days(10));
    let (status, problem) = act(
        &app,
        &owner,
        &late,
        "extend",
        Some(json!({"months": 1, "reasons": "complex", "told_on": told})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, _, unchanged) = app
        .send(
            Method::GET,
            &format!("{REQUESTS}/{}", late["id"].as_str().unwrap()),
            &owner,
            None,
            None,
        )
        .await;
    assert_eq!(unchanged["version"], 1);
    assert_eq!(unchanged["extension"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let owner = app.register("Validation GmbH").await;
    let mut unknown_right = request(today(), "x@example.org");
    unknown_right["rights"] = json!(["access", "teleportation"]);
    let mut no_rights = request(today(), "x@example.org");
    no_rights["rights"] = json!([]);
    let mut bad_email = request(today(), "not an address");
    bad_email["subject"]["name"] = json!("");
    let mut foreign_assignee = request(today(), "x@example.org");
    foreign_assignee["assignee_id"] = json!(uuid::Uuid::new_v4());
    let mut before_the_gdpr = request(today(), "x@example.org");
    before_the_gdpr["received_at"] = json!("2018-05-24T09:00:00Z");
    let cases = [
        (before_the_gdpr, "received_at"),
        (unknown_right, "rights"),
        (no_rights, "rights"),
        (bad_email, "subject.name"),
        (foreign_assignee, "assignee_id"),
    ];
    for (body, field) in cases {
        let (status, _, problem) = app
            .send(Method::POST, REQUESTS, &owner, None, Some(body))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {problem}"
        );
        assert!(
            fields(&problem).iter().any(|f| f.starts_with(field)),
            "{field}: {problem}"
        );
    }
    let (_, listed) = app.get(REQUESTS, &owner.access).await;
    assert_eq!(listed["items"], json!([]), "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_runs_its_course_with_its_checklist() {
    let app = TestApp::spawn().await;
    let owner = app.register("Case GmbH").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let other = app.register("Other GmbH").await;
    let (_, _, processor) = app
        .send(
            Method::POST,
            "/api/v1/processors",
            &owner,
            None,
            Some(json!({"name": "Mail Inc."})),
        )
        .await;
    let (status, _, activity) = app
        .send(
            Method::POST,
            "/api/v1/processing-activities",
            &owner,
            None,
            Some(
                json!({"name": "Webshop", "data_subject_categories": ["Kunden"],
                "recipient_categories": ["Parcel services"], "processor_ids": [processor["id"]]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{activity}");
    let (_, _, foreign) = app
        .send(
            Method::POST,
            "/api/v1/processing-activities",
            &other,
            None,
            Some(json!({"name": "Theirs"})),
        )
        .await;

    let mut body = request(today(), "erika@example.org");
    body["rights"] = json!(["access", "erasure"]);
    let created = create(&app, &owner, body).await;
    assert_eq!(created["status"], "received");
    // Viewers read, do not act.
    let (status, _) = act(&app, &viewer, &created, "checklist", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, listed) = act(&app, &owner, &created, "checklist", None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let kinds: Vec<&str> = listed["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "search",
        "export",
        "erase",
        "notify_recipient",
        "instruct_processor",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let item = listed["checklist"][0]["id"].as_str().unwrap().to_owned();
    let item_path = format!(
        "{REQUESTS}/{}/checklist/items/{item}",
        created["id"].as_str().unwrap()
    );
    let version = listed["version"].as_i64();
    let (status, _, problem) = app
        .send(
            Method::PATCH,
            &item_path,
            &owner,
            version,
            Some(json!({"status": "not_applicable"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["note"]);
    let (status, _, checked) = app
        .send(
            Method::PATCH,
            &item_path,
            &owner,
            version,
            Some(json!({"status": "not_applicable", "note": "No shop account for this address"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["checklist"][0]["status"], "not_applicable");
    assert_eq!(checked["checklist"][0]["done_by"], owner.user_id.as_str());
    // A foreign activity in a checklist item is unknown here: 404 naming the field.
    let (status, problem) = act(
        &app,
        &owner,
        &checked,
        "checklist/items",
        Some(json!({"kind": "search", "title": "Search theirs", "activity_id": foreign["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(fields(&problem), ["activity_id"]);
    let missing_item = format!(
        "{REQUESTS}/{}/checklist/items/{}",
        created["id"].as_str().unwrap(),
        uuid::Uuid::now_v7()
    );
    let (status, _, problem) = app
        .send(
            Method::PATCH,
            &missing_item,
            &owner,
            checked["version"].as_i64(),
            Some(json!({"status": "done"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");

    // The workflow: identity confirmed → answered (a refusal needs its reasons) → closed.
    let (status, problem) = act(
        &app,
        &owner,
        &checked,
        "verify-identity",
        Some(json!({"result": "confirmed"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["method"]);
    let (status, verified) = act(
        &app,
        &owner,
        &checked,
        "verify-identity",
        Some(json!({"result": "confirmed", "method": "known_account"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["status"], "in_progress");
    assert_eq!(verified["identity"]["verified_by"], owner.user_id.as_str());
    let (status, problem) = act(
        &app,
        &owner,
        &verified,
        "answer",
        Some(json!({"outcome": "refused"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["refusal"]);
    let (status, problem) = act(&app, &owner, &verified, "answer", Some(json!({"outcome": "refused",
        "refusal": {"ground": "excessive", "reasons": "Fifth identical request this month", "complaint_right_told": false}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["refusal.complaint_right_told"]);
    let (status, problem) = act(&app, &owner, &verified, "close", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "invalid_transition");
    let (status, answered) = act(
        &app,
        &owner,
        &verified,
        "answer",
        Some(json!({"outcome": "fulfilled"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["answered_in_time"], true);
    let (status, stale) = act(&app, &owner, &verified, "close", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "stale version: {stale}");
    let (status, closed) = act(&app, &owner, &answered, "close", None).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    let (status, _) = act(&app, &owner, &closed, "withdraw", None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Every change is in the trail under the request's own actions.
    let (_, trail) = app
        .get(
            &format!(
                "/api/v1/audit-events?entity_id={}&limit=100",
                created["id"].as_str().unwrap()
            ),
            &owner.access,
        )
        .await;
    let mut actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "data_subject_request.answered",
            "data_subject_request.checklist_generated",
            "data_subject_request.checklist_item_updated",
            "data_subject_request.closed",
            "data_subject_request.created",
            "data_subject_request.identity_verified",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_can_wait_for_the_identity_where_the_tenant_says_so() {
    let app = TestApp::spawn().await;
    let owner = app.register("Waiting GmbH").await;
    let wrong = json!({"settings": {"requests_clock_start": "whenever", "requests_closing_days": ["2027-02-30"]}});
    let (status, _, problem) = app
        .send(
            Method::PATCH,
            "/api/v1/tenants/me",
            &owner,
            None,
            Some(wrong),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        fields(&problem),
        ["requests_clock_start", "requests_closing_days[0]"]
    );
    let (status, _, body) = app
        .send(
            Method::PATCH,
            "/api/v1/tenants/me",
            &owner,
            None,
            Some(json!({"settings": {"requests_clock_start": "identity_confirmed"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let received = today() - time::Duration::days(5);
    let created = create(&app, &owner, request(received, "x@example.org")).await;
    // No proof asked for: the clock runs from receipt.
    assert_eq!(created["clock_starts_on"], iso(received));
    let (status, waiting) = act(
        &app,
        &owner,
        &created,
        "request-information",
        Some(json!({"asked": "identity"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(waiting["status"], "verifying_identity");
    assert_eq!(
        (&waiting["clock_starts_on"], &waiting["due_on"]),
        (&Value::Null, &Value::Null)
    );
    let (status, verified) = act(
        &app,
        &owner,
        &waiting,
        "verify-identity",
        Some(json!({"result": "confirmed", "method": "id_document_seen"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["clock_starts_on"], iso(today()));
    let calendar = HolidayCalendar::new(&EuPublicHolidays, None);
    let natural = due_date(today(), &calendar);
    assert_eq!(verified["due_on"], iso(natural));

    // The organisation's own closing days count like public holidays.
    let closed = json!({"settings": {"requests_closing_days": [iso(natural)]}});
    let (status, _, body) = app
        .send(
            Method::PATCH,
            "/api/v1/tenants/me",
            &owner,
            None,
            Some(closed),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let later = create(&app, &owner, request(today(), "y@example.org")).await;
    let with_closing = calendar.with_closing_days([natural]);
    assert_eq!(later["due_on"], iso(due_date(today(), &with_closing)));
    assert_ne!(later["due_on"], iso(natural));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_requests_are_not_found() {
    let app = TestApp::spawn().await;
    let a = app.register("Tenant A").await;
    let b = app.register("Tenant B").await;
    let theirs = create(&app, &a, request(today(), "shared@example.org")).await;
    let id = theirs["id"].as_str().unwrap();
    let item = uuid::Uuid::now_v7();
    let attempts = [
        (Method::GET, format!("{REQUESTS}/{id}"), None),
        (
            Method::PUT,
            format!("{REQUESTS}/{id}"),
            Some(request(today(), "b@example.org")),
        ),
        (Method::DELETE, format!("{REQUESTS}/{id}"), None),
        (
            Method::POST,
            format!("{REQUESTS}/{id}/verify-identity"),
            Some(json!({"result": "failed"})),
        ),
        (
            Method::POST,
            format!("{REQUESTS}/{id}/request-information"),
            Some(json!({"asked": "clarification"})),
        ),
        (
            Method::POST,
            format!("{REQUESTS}/{id}/extend"),
            Some(json!({"months": 1, "reasons": "x"})),
        ),
        (
            Method::POST,
            format!("{REQUESTS}/{id}/answer"),
            Some(json!({"outcome": "no_data_held"})),
        ),
        (Method::POST, format!("{REQUESTS}/{id}/close"), None),
        (Method::POST, format!("{REQUESTS}/{id}/withdraw"), None),
        (Method::POST, format!("{REQUESTS}/{id}/checklist"), None),
        (
            Method::POST,
            format!("{REQUESTS}/{id}/checklist/items"),
            Some(json!({"kind": "search", "title": "x"})),
        ),
        (
            Method::PATCH,
            format!("{REQUESTS}/{id}/checklist/items/{item}"),
            Some(json!({"status": "done"})),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, _, problem) = app.send(method.clone(), &path, &b, Some(1), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
    }
    let (_, listed) = app
        .get(&format!("{REQUESTS}?email=shared@example.org"), &b.access)
        .await;
    assert_eq!(listed["items"], json!([]));
    let (_, _, still) = app
        .send(Method::GET, &format!("{REQUESTS}/{id}"), &a, None, None)
        .await;
    assert_eq!(still["version"], 1, "A's request untouched");
    let (_, found) = app
        .get(&format!("{REQUESTS}?email=SHARED@example.org"), &a.access)
        .await;
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "found by e-mail, any case"
    );
}

/// The person's name, e-mail, contact, agent and scope are nowhere in clear: not in any
/// table (read as superuser, bypassing row-level security), not in the audit trail, not
/// in the server's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_is_never_in_clear() {
    let app = TestApp::spawn().await;
    let owner = app.register("Secrets GmbH").await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("Zebulon Quaxley {}", &marker[..8]);
    let email = format!("zq.{}@example.org", &marker[..8]);
    let contact = format!("Quaxleyweg {}", &marker[8..16]);
    let agent = format!("Advocate {}", &marker[16..24]);
    let scope = format!("My loyalty card {}", &marker[24..]);
    let body = json!({
        "received_at": format!("{}T10:00:00Z", iso(today())),
        "channel": "letter",
        "subject": {"name": name, "email": email, "contact": contact, "category": "customer"},
        "agent": {"name": agent, "authority": "power of attorney"},
        "rights": ["access"],
        "scope": scope,
    });
    let created = create(&app, &owner, body.clone()).await;
    assert_eq!(
        created["subject"]["name"],
        name.as_str(),
        "the API reads it back"
    );
    // An edit of the person, and a lookup by e-mail.
    let mut edited = body;
    edited["subject"]["contact"] = json!(format!("{contact} (new)"));
    let path = format!("{REQUESTS}/{}", created["id"].as_str().unwrap());
    let (status, _, _) = app
        .send(Method::PUT, &path, &owner, Some(1), Some(edited))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, found) = app
        .get(&format!("{REQUESTS}?email={email}"), &owner.access)
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);

    let secrets = [&name, &email, &contact, &agent, &scope];
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let tables = app
        .db
        .superuser_texts(
            "SELECT table_name::text AS text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
        .await;
    assert!(
        tables.contains(&"data_subject_requests".to_owned()),
        "{tables:?}"
    );
    for table in tables {
        let rows = app
            .db
            .superuser_texts(&format!("SELECT t::text AS text FROM \"{table}\" t"))
            .await
            .join("\n");
        for secret in secrets {
            assert!(
                !rows.contains(secret.as_str()),
                "{secret} in clear in {table}"
            );
            assert!(!rows.contains(&hex(secret)), "{secret} as bytes in {table}");
        }
    }
    let (_, trail) = app
        .get("/api/v1/audit-events?limit=100", &owner.access)
        .await;
    let trail = trail.to_string();
    assert!(trail.contains("data_subject_request.updated"));
    let log = app.logged().join("\n");
    assert!(
        log.contains("data-subject-requests"),
        "the requests were logged"
    );
    for secret in secrets {
        assert!(
            !trail.contains(secret.as_str()),
            "{secret} in the audit trail"
        );
        assert!(!log.contains(secret.as_str()), "{secret} in the log");
    }
}
