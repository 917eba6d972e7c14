//! The edge of the service: request deadlines, body caps per route, HSTS behind a TLS
//! proxy, unknown methods, and a graceful stop on SIGTERM with a request in flight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use diesel::{QueryableByName, sql_types::BigInt};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::TestApp;

/// Holds `LOCK TABLE … ACCESS EXCLUSIVE` in an open transaction as the owner, so any
/// request touching the table waits on the database until [`TableLock::release`].
struct TableLock(AsyncPgConnection);

impl TableLock {
    async fn take(app: &TestApp, table: &str) -> Self {
        let mut conn = AsyncPgConnection::establish(app.db.owner_url())
            .await
            .expect("owner connects");
        conn.batch_execute(&format!(
            "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
        ))
        .await
        .expect("lock taken");
        Self(conn)
    }

    async fn release(mut self) {
        self.0.batch_execute("COMMIT").await.expect("lock released");
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Waits until the request's own statement on `table` waits for the lock: the request is in
/// flight inside the server. Only a diesel-built statement counts (it names the table quoted,
/// `FROM "table"`): the job worker's review sweep reads the same table in plain SQL and may wait
/// on the lock first, and counting it would send the signal before the request even connected.
async fn wait_until_blocked(app: &TestApp, table: &str) {
    // Other roles' wait events and statements are visible to superusers only.
    let mut conn = AsyncPgConnection::establish(app.db.superuser_url())
        .await
        .expect("owner connects");
    for _ in 0..600 {
        let waiting: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' \
             AND wait_event_type = 'Lock' AND query LIKE '%FROM \"{table}\"%'",
            app.db.name()
        ))
        .get_result(&mut conn)
        .await
        .expect("pg_stat_activity");
        if waiting.n > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no request ever waited on the lock of {table}");
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_gets_503_and_the_pool_stays_healthy() {
    // Long enough for sign-up's password hashing on a busy machine.
    let app = TestApp::spawn_with(&[("REQUEST_TIMEOUT_SECS", "4")]).await;
    let owner = app.register("Deadline GmbH").await;
    let lock = TableLock::take(&app, "processing_activities").await;

    let started = Instant::now();
    let response = app
        .http
        .get(format!("{}/api/v1/processing-activities", app.base))
        .bearer_auth(&owner.access)
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(&response, "retry-after"), Some("1"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "request_timeout", "{body}");
    // A bound against hanging, not a speed figure: the deadline is one second.
    assert!(
        waited < Duration::from_secs(10),
        "answered after {waited:?}"
    );

    // A write cut off at its deadline leaves nothing behind.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/processing-activities",
            Some(&owner.access),
            Some(json!({
                "name": "Payroll",
                "role": "controller",
                "purposes": [{"description": "Paying staff", "lawful_basis": "contract"}],
                "data_subject_categories": ["employees"],
                "data_categories": [{"name": "bank details", "retention": "10 years"}],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    lock.release().await;

    let (status, list) = app
        .get("/api/v1/processing-activities", &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    // The connections of the stopped requests were discarded, not reused mid-transaction.
    for _ in 0..20 {
        let (status, _) = app.get("/api/v1/users/me", &owner.access).await;
        assert_eq!(status, StatusCode::OK);
    }
}

async fn post_raw(app: &TestApp, path: &str, token: Option<&str>, body: String) -> StatusCode {
    let mut request = app
        .http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_capped_per_route() {
    let app = TestApp::spawn().await;
    let owner = app.register("Caps GmbH").await;
    let padding = |bytes: usize| "x".repeat(bytes);

    // Public authentication routes take 16 KiB at most.
    let login = json!({"email": "a@example.test", "password": padding(20 * 1024)}).to_string();
    assert_eq!(
        post_raw(&app, "/api/v1/auth/login", None, login).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Ordinary routes: MAX_BODY_BYTES (64 KiB by default).
    let task = json!({"title": padding(100 * 1024)}).to_string();
    assert_eq!(
        post_raw(&app, "/api/v1/tasks", Some(&owner.access), task).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // A policy text of 150 000 characters (within the register's 200 000) fits the
    // document cap, which was impossible under the general one.
    let (status, policy) = app
        .call(
            Method::POST,
            "/api/v1/policies",
            Some(&owner.access),
            Some(json!({"title": "Handbook", "kind": "privacy_policy", "review_interval_months": 12})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    let versions = format!(
        "/api/v1/policies/{}/versions",
        policy["id"].as_str().unwrap()
    );
    let long = json!({"content": format!("# Handbook\n\n{}", "Lorem ipsum dolor sit amet. ".repeat(5_300))});
    assert!(long.to_string().len() > 140_000);
    assert_eq!(
        post_raw(&app, &versions, Some(&owner.access), long.to_string()).await,
        StatusCode::CREATED
    );
    // ... and beyond MAX_DOCUMENT_BODY_BYTES (1 MiB) is refused before it is read.
    let huge = json!({"content": padding(1_100_000)}).to_string();
    assert_eq!(
        post_raw(&app, &versions, Some(&owner.access), huge).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_only_for_requests_that_came_over_https() {
    let app = TestApp::spawn().await;
    let health = |proto: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/health", app.base));
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request.send()
    };
    // The test client is a trusted proxy (TRUSTED_PROXIES=127.0.0.1).
    let over_tls = health(Some("https")).await.unwrap();
    assert_eq!(
        header(&over_tls, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
    let plain = health(Some("http")).await.unwrap();
    assert_eq!(header(&plain, "strict-transport-security"), None);
    let direct = health(None).await.unwrap();
    assert_eq!(header(&direct, "strict-transport-security"), None);
    for response in [&over_tls, &plain] {
        assert_eq!(header(response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(response, "x-frame-options"), Some("DENY"));
        assert_eq!(header(response, "referrer-policy"), Some("no-referrer"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_not_sent_when_the_proxy_is_not_trusted() {
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "10.9.8.7")]).await;
    let response = app
        .http
        .get(format!("{}/health", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "strict-transport-security"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_and_unknown_methods_get_405_everywhere() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("TRACE", "/health"),
        ("TRACE", "/api/v1/users/me"),
        ("TRACE", "/no/such/path"),
        ("BREW", "/api/v1/users/me"),
        ("BREW", "/no/such/path"),
        ("CONNECT", "/api/v1/tasks"),
        ("PUT", "/api/v1/auth/login"),
    ] {
        let response = app
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.base),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json"),
            "{method} {path}"
        );
    }
    // An unknown path with a known method is still a 404.
    let (status, _) = app.call(Method::GET, "/no/such/path", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_then_exits_cleanly() {
    let mut app = TestApp::spawn_with(&[("SHUTDOWN_GRACE_SECS", "20")]).await;
    let owner = app.register("Graceful GmbH").await;
    let lock = TableLock::take(&app, "processing_activities").await;

    let in_flight = tokio::spawn({
        let request = app
            .http
            .get(format!("{}/api/v1/processing-activities", app.base))
            .bearer_auth(&owner.access);
        async move { request.send().await.map(|r| r.status()) }
    });
    wait_until_blocked(&app, "processing_activities").await;

    let signal = std::process::Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(signal.success());
    // The listener closes at once: new connections are refused while the old request runs.
    let mut refused = false;
    // Generous bounds: a loaded CI machine may take seconds to deliver the signal.
    for _ in 0..200 {
        if std::net::TcpStream::connect(app.base.trim_start_matches("http://")).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the listener still accepts after SIGTERM");
    assert!(
        !in_flight.is_finished(),
        "the request in flight was cut off"
    );

    lock.release().await;
    let status = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(status, StatusCode::OK);
    let exit = app
        .wait_for_exit(Duration::from_secs(20))
        .await
        .expect("aura-api exits within the grace period");
    assert!(exit.success(), "exit status {exit:?}");
}
