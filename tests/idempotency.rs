//! `Idempotency-Key` against the real binary on PostgreSQL: replays of sign-up and of
//! create routes, one row and one audit event per key, another body refused, double
//! submits, tenant isolation of keys, malformed keys on every route that takes one, and
//! nothing readable in the stored entries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use support::{Account, PASSWORD, TestApp};

/// A response as the client sees it.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    fn replayed(&self) -> bool {
        self.headers
            .get("idempotency-replayed")
            .is_some_and(|v| v == "true")
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

async fn post(
    app: &TestApp,
    path: &str,
    who: Option<&Account>,
    key: Option<&str>,
    body: &Value,
) -> Answer {
    let mut request = app
        .http
        .request(Method::POST, format!("{}{path}", app.base))
        .json(body);
    if let Some(who) = who {
        request = request.bearer_auth(&who.access);
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn sign_up_body(email: &str) -> Value {
    json!({
        "organisation_name": "Replay Sign-up GmbH",
        "email": email,
        "full_name": "Rhea Replay",
        "password": PASSWORD,
    })
}

fn activity(name: &str) -> Value {
    json!({
        "name": name,
        "status": "draft",
        "purposes": [{"description": "Pay salaries", "lawful_basis": "contract"}],
        "data_subject_categories": ["employees"],
    })
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.superuser_texts(sql).await[0].parse().unwrap()
}

/// Everything stored in an idempotency table, bytea as hex, for searching.
async fn stored(app: &TestApp, table: &str) -> String {
    app.db
        .superuser_texts(&format!(
            "SELECT row_to_json(k)::text AS text FROM {table} k"
        ))
        .await
        .join("\n")
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Neither `secret` nor its bytes (as PostgreSQL prints bytea) are in `dump`.
fn assert_absent(dump: &str, secret: &str) {
    assert!(!dump.contains(secret), "`{secret}` stored in clear");
    assert!(!dump.contains(&hex(secret)), "`{secret}` stored as bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_is_replayed_and_creates_one_tenant() {
    let app = TestApp::spawn().await;
    let email = format!("replay-{}@example.test", uuid::Uuid::new_v4().simple());
    let key = new_key();
    let path = "/api/v1/auth/register";

    let first = post(&app, path, None, Some(&key), &sign_up_body(&email)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json());
    assert!(!first.replayed());
    let again = post(&app, path, None, Some(&key), &sign_up_body(&email)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json());
    assert!(again.replayed(), "a replay says so");
    assert_eq!(again.bytes, first.bytes, "the same body, byte for byte");
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_ne!(
        again.header("x-request-id"),
        first.header("x-request-id"),
        "the replay is still its own request"
    );

    let users = format!(
        "SELECT count(*)::text AS text FROM users u JOIN accounts a ON a.id = u.account_id
          WHERE a.email = '{email}'"
    );
    assert_eq!(count(&app, &users).await, 1, "one owner");
    let tenants = "SELECT count(*)::text AS text FROM tenants WHERE name = 'Replay Sign-up GmbH'";
    assert_eq!(count(&app, tenants).await, 1, "one tenant");

    // The same key with another body is refused, naming the header.
    let other = post(
        &app,
        path,
        None,
        Some(&key),
        &sign_up_body("x@example.test"),
    )
    .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        other.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(other.json()["code"], "idempotency_key_reused");
    assert_eq!(other.json()["errors"][0]["field"], "Idempotency-Key");

    // Without a key, sign-up behaves as before: the e-mail is taken now.
    let plain = post(&app, path, None, None, &sign_up_body(&email)).await;
    assert_eq!(plain.status, StatusCode::CONFLICT, "{}", plain.json());

    // What the database holds reveals neither the answer nor the key.
    let dump = stored(&app, "idempotency_signup_keys").await;
    assert!(!dump.is_empty(), "the entry is stored");
    let slug = first.json()["tenant"]["slug"].as_str().unwrap().to_owned();
    let user_id = first.json()["user"]["id"].as_str().unwrap().to_owned();
    for secret in [
        email.as_str(),
        "Rhea Replay",
        "Replay Sign-up",
        &slug,
        &user_id,
        &key,
    ] {
        assert_absent(&dump, secret);
    }
    // The user signs in normally afterwards, and a login's tokens are never stored.
    let account = app.login(&email, PASSWORD).await;
    for table in ["idempotency_signup_keys", "idempotency_keys"] {
        let dump = stored(&app, table).await;
        assert_absent(&dump, &account.refresh);
        assert_absent(&dump, &account.access);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_is_replayed_with_one_row_and_one_audit_event() {
    let app = TestApp::spawn().await;
    let owner = app.register("Replay Creates GmbH").await;
    let key = new_key();
    let path = "/api/v1/processing-activities";
    let body = activity("Payroll of Ms Confidential");

    let first = post(&app, path, Some(&owner), Some(&key), &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json());
    let again = post(&app, path, Some(&owner), Some(&key), &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed());
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(again.header("etag"), first.header("etag"));
    let id = first.json()["id"].as_str().unwrap().to_owned();

    let (_, list) = app.get(path, &owner.access).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one row");
    let (_, events) = app
        .get(
            &format!("/api/v1/audit-events?action=processing_activity.created&entity_id={id}"),
            &owner.access,
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    let (_, all_created) = app
        .get(
            "/api/v1/audit-events?action=processing_activity.created",
            &owner.access,
        )
        .await;
    assert_eq!(
        all_created["items"].as_array().unwrap().len(),
        1,
        "one event"
    );

    // Another body with the key: 422, nothing created.
    let other = post(&app, path, Some(&owner), Some(&key), &activity("Other")).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json()["code"], "idempotency_key_reused");
    // No key: every request creates.
    for _ in 0..2 {
        let plain = post(&app, path, Some(&owner), None, &body).await;
        assert_eq!(plain.status, StatusCode::CREATED);
        assert!(!plain.replayed());
    }
    let (_, list) = app.get(path, &owner.access).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);

    // A request that fails is not kept: the key is free for the corrected body.
    let key = new_key();
    let invalid = post(&app, path, Some(&owner), Some(&key), &json!({"name": ""})).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.json()["code"], "validation_failed");
    let fixed = post(&app, path, Some(&owner), Some(&key), &activity("Fixed")).await;
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.json());
    assert!(!fixed.replayed());

    // An AI generate route: the same question once, one suggestion.
    let key = new_key();
    let question = json!({"question": "Which activities still miss Art. 30 items?"});
    let asked = post(&app, "/api/v1/ai/ask", Some(&owner), Some(&key), &question).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.json());
    let again = post(&app, "/api/v1/ai/ask", Some(&owner), Some(&key), &question).await;
    assert!(again.replayed());
    assert_eq!(again.bytes, asked.bytes);
    let (_, suggestions) = app.get("/api/v1/ai/suggestions", &owner.access).await;
    assert_eq!(suggestions["items"].as_array().unwrap().len(), 1);

    // Stored sealed: no record name, no id in the table.
    let dump = stored(&app, "idempotency_keys").await;
    assert!(!dump.is_empty());
    for secret in ["Payroll of Ms Confidential", &id, "Art. 30", &owner.email] {
        assert_absent(&dump, secret);
    }
}

/// Sends `body` eight times at once with one key; checks that one request ran, the
/// others got its answer or were told to wait, and returns the created id.
async fn double_submit(app: &TestApp, path: &str, who: Option<&Account>, body: &Value) -> Value {
    let key = new_key();
    let sends = (0..8).map(|_| post(app, path, who, Some(&key), body));
    let answers = futures_util::future::join_all(sends).await;
    let mut ran = Vec::new();
    let (mut replayed, mut waiting) = (Vec::new(), 0);
    for answer in &answers {
        match answer.status {
            StatusCode::CREATED if answer.replayed() => replayed.push(answer.bytes.clone()),
            StatusCode::CREATED => ran.push(answer.bytes.clone()),
            StatusCode::CONFLICT => {
                assert_eq!(answer.json()["code"], "idempotency_key_in_progress");
                let retry: u64 = answer.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=60).contains(&retry), "{retry}");
                waiting += 1;
            }
            other => panic!("unexpected {other}: {}", answer.json()),
        }
    }
    assert_eq!(ran.len(), 1, "exactly one request ran");
    assert!(
        replayed.iter().all(|r| *r == ran[0]),
        "replays are the answer"
    );
    println!(
        "double submit to {path}: 8 sent, 1 ran, {} replayed, {waiting} told to wait",
        replayed.len()
    );
    serde_json::from_slice(&ran[0]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_submit_creates_once() {
    let app = TestApp::spawn().await;
    // Sign-up (slow: it hashes the password) and a task (fast).
    let email = format!("double-{}@example.test", uuid::Uuid::new_v4().simple());
    double_submit(&app, "/api/v1/auth/register", None, &sign_up_body(&email)).await;
    let users = format!(
        "SELECT count(*)::text AS text FROM users u JOIN accounts a ON a.id = u.account_id
          WHERE a.email = '{email}'"
    );
    assert_eq!(count(&app, &users).await, 1, "one owner");

    let owner = app.login(&email, PASSWORD).await;
    let body = json!({"title": "Review the DPA", "category": "dpa_review"});
    let task = double_submit(&app, "/api/v1/tasks", Some(&owner), &body).await;
    let (_, tasks) = app.get("/api/v1/tasks", &owner.access).await;
    let items = tasks["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one task");
    assert_eq!(items[0]["id"], task["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_their_tenant_and_user() {
    let app = TestApp::spawn().await;
    let a = app.register("Tenant A GmbH").await;
    let b = app.register("Tenant B GmbH").await;
    let key = new_key();
    let body = json!({"title": "Privacy notice", "kind": "privacy_policy"});
    let path = "/api/v1/policies";

    let from_a = post(&app, path, Some(&a), Some(&key), &body).await;
    assert_eq!(from_a.status, StatusCode::CREATED);
    // Tenant B with A's key and body: its own fresh result, nothing of A's.
    let from_b = post(&app, path, Some(&b), Some(&key), &body).await;
    assert_eq!(from_b.status, StatusCode::CREATED, "{}", from_b.json());
    assert!(!from_b.replayed(), "B never gets A's answer");
    assert_ne!(from_b.json()["id"], from_a.json()["id"]);
    assert_eq!(from_b.json()["tenant_id"], b.tenant_id.as_str());
    // And B's retry replays B's answer.
    let b_again = post(&app, path, Some(&b), Some(&key), &body).await;
    assert!(b_again.replayed());
    assert_eq!(b_again.bytes, from_b.bytes);
    for who in [&a, &b] {
        let (_, list) = app.get(path, &who.access).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
    }
    // Another user of tenant A with the same key and body: refused, not replayed.
    let member = app.add_user(&a, "member").await;
    let colleague = post(&app, path, Some(&member), Some(&key), &body).await;
    assert_eq!(colleague.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A viewer cannot create, key or not: the key is checked after the token, the role
    // by the handler, and the refusal is not kept.
    let viewer = app.add_user(&a, "viewer").await;
    let key = new_key();
    for _ in 0..2 {
        let denied = post(&app, path, Some(&viewer), Some(&key), &body).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert!(!denied.replayed());
    }
    // No token: 401 before anything is reserved.
    let anonymous = post(&app, path, None, Some(&new_key()), &body).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_keys_are_refused_on_every_route_that_takes_one() {
    let app = TestApp::spawn().await;
    let owner = app.register("Malformed Keys GmbH").await;
    let (_, policy) = app
        .call(
            Method::POST,
            "/api/v1/policies",
            Some(&owner.access),
            Some(json!({"title": "P", "kind": "privacy_policy"})),
        )
        .await;
    let policy_id = policy["id"].as_str().unwrap();

    // The routes that take a key, as the OpenAPI document lists them.
    let (_, doc) = app.call(Method::GET, "/openapi.json", None, None).await;
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let takes_key = item["post"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        if takes_key {
            let responses = &item["post"]["responses"];
            assert!(
                responses["409"].is_object() && responses["422"].is_object(),
                "{path}"
            );
            routes.push(path.replace("{id}", policy_id));
        }
    }
    assert_eq!(routes.len(), 17, "{routes:?}");

    let long = "k".repeat(256);
    let mut probes = 0;
    for path in &routes {
        for bad in ["with space", long.as_str(), "tab\tkey", "ümlaut"] {
            let mut request = app
                .http
                .post(format!("{}{path}", app.base))
                .bearer_auth(&owner.access)
                .json(&json!({}));
            request = match reqwest::header::HeaderValue::from_bytes(bad.as_bytes()) {
                Ok(value) => request.header("Idempotency-Key", value),
                Err(_) => continue,
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} {bad:?}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], "invalid_idempotency_key", "{path}");
            assert_eq!(problem["errors"][0]["field"], "Idempotency-Key", "{path}");
            probes += 1;
        }
    }
    // Two keys in one request are refused as well.
    let response = app
        .http
        .post(format!("{}/api/v1/tasks", app.base))
        .bearer_auth(&owner.access)
        .header("Idempotency-Key", "one")
        .header("Idempotency-Key", "two")
        .json(&json!({"title": "T"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A route without keys ignores the header.
    let login = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("Idempotency-Key", "with space")
        .json(&json!({"email": owner.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    println!(
        "{} routes take Idempotency-Key; {probes} malformed keys refused with 400",
        routes.len()
    );
}
