//! Request rate limits against the real binary: per client address on the public auth
//! routes, per tenant on the API, shared by two `aura-api` processes on one database —
//! counted in PostgreSQL, and in Redis when `REDIS_URL` is set — and over once the
//! window has passed.
//!
//! Redis: `TEST_REDIS_URL`, else the local `redis://127.0.0.1:6379`; these tests never
//! skip. Every test uses addresses and tenants of its own, so runs never collide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use diesel::{QueryableByName, sql_types::BigInt};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use support::{Account, TestApp};

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A client address nobody else uses (TEST-NET ranges are too small to be unique per run).
fn address() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("2001:db8:{:x}:{:x}::1", (n >> 16) as u16, n as u16)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A rate-limit refusal: 429 problem+json with a whole-seconds Retry-After.
    fn assert_rate_limited(&self, max_retry_secs: u64) -> u64 {
        assert_eq!(self.status, StatusCode::TOO_MANY_REQUESTS, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.body["code"], "rate_limited", "{}", self.body);
        assert_eq!(self.body["status"], 429);
        let retry: u64 = self
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("whole seconds");
        assert!(
            (1..=max_retry_secs).contains(&retry),
            "Retry-After {retry} outside 1..={max_retry_secs}"
        );
        assert_eq!(self.header("ratelimit-remaining"), Some("0"));
        retry
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    from: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("x-forwarded-for", from);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn login_attempt(app: &TestApp, from: &str) -> Answer {
    login_attempt_at(app, "/api/v1/auth/login", from).await
}

/// A failed sign-in at `path` (the login route, however spelled).
async fn login_attempt_at(app: &TestApp, path: &str, from: &str) -> Answer {
    let email = format!("nobody-{}@example.test", uuid::Uuid::new_v4().simple());
    send(
        app,
        Method::POST,
        path,
        from,
        None,
        Some(json!({ "email": email, "password": "not the password at all" })),
    )
    .await
}

async fn me(app: &TestApp, account: &Account) -> Answer {
    send(
        app,
        Method::GET,
        "/api/v1/users/me",
        "192.0.2.1",
        Some(&account.access),
        None,
    )
    .await
}

/// Counts `GET /users/me` answers for `account` until the first 429 (at most `max`).
async fn served_until_refused(apps: &[&TestApp], account: &Account, max: usize) -> (usize, Answer) {
    for n in 0..max {
        let answer = me(apps[n % apps.len()], account).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            return (n, answer);
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    panic!("never refused in {max} requests");
}

#[tokio::test]
async fn sign_in_and_sign_up_are_limited_per_client_address() {
    // 3 a minute per address: one every 20 s, three at once.
    let app = TestApp::spawn_with(&[("RATE_LIMIT_AUTH_PER_MINUTE", "3")]).await;
    let flooder = address();
    for n in 0..3 {
        let answer = login_attempt(&app, &flooder).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "attempt {n}: {}",
            answer.body
        );
        assert_eq!(answer.header("ratelimit-limit"), Some("3"));
        assert_eq!(
            answer.header("ratelimit-remaining"),
            Some((2 - n).to_string().as_str())
        );
    }
    login_attempt(&app, &flooder).await.assert_rate_limited(20);

    // Sign-up (and the other public auth routes) count against the same address.
    let sign_up = send(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        &flooder,
        None,
        Some(json!({
            "organisation_name": "Flood GmbH",
            "email": format!("flood-{}@example.test", uuid::Uuid::new_v4().simple()),
            "full_name": "Flood Person",
            "password": support::PASSWORD,
        })),
    )
    .await;
    sign_up.assert_rate_limited(20);
    for path in ["/api/v1/auth/refresh", "/api/v1/auth/password/forgot"] {
        let body = json!({ "refresh_token": "x", "email": "a@example.test" });
        send(&app, Method::POST, path, &flooder, None, Some(body))
            .await
            .assert_rate_limited(20);
    }

    // Another address is not affected, and neither is a neighbour outside the /64.
    let other = login_attempt(&app, &address()).await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED, "{}", other.body);

    // Health, readiness, keys, info and the API description are never limited.
    for path in [
        "/health",
        "/ready",
        "/.well-known/jwks.json",
        "/api/v1/system/info",
        "/openapi.json",
    ] {
        for _ in 0..5 {
            let answer = send(&app, Method::GET, path, &flooder, None, None).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            assert!(answer.header("ratelimit-limit").is_none(), "{path}");
        }
    }
}

/// The limit belongs to the route, not to one spelling of its path: a percent-encoded
/// path the router serves as the login route counts against the same address.
#[tokio::test]
async fn an_encoded_login_path_is_limited_like_the_plain_one() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_AUTH_PER_MINUTE", "3")]).await;
    let flooder = address();
    for (n, path) in [
        "/api/v1/%61uth/login",
        "/api/v1/auth/login",
        "/api/v1/%61uth/login",
    ]
    .into_iter()
    .enumerate()
    {
        let answer = login_attempt_at(&app, path, &flooder).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "attempt {n} at {path}: {}",
            answer.body
        );
        assert_eq!(answer.header("ratelimit-limit"), Some("3"), "{path}");
        assert_eq!(
            answer.header("ratelimit-remaining"),
            Some((2 - n).to_string().as_str()),
            "{path}"
        );
    }
    login_attempt_at(&app, "/api/v1/%61uth/login", &flooder)
        .await
        .assert_rate_limited(20);
    login_attempt(&app, &flooder).await.assert_rate_limited(20);
}

#[tokio::test]
async fn a_tenant_over_its_limit_is_refused_while_another_is_served() {
    // 6 a minute per tenant with bursts of 3: one every 10 s.
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_TENANT_PER_MINUTE", "6"),
        ("RATE_LIMIT_TENANT_BURST", "3"),
        // The tenant's quota alone (the user's share: tests/hardening_edge.rs).
        ("RATE_LIMIT_USER_SHARE_PERCENT", "100"),
    ])
    .await;
    let a = app.register("Flooding GmbH").await; // its sign-in read /users/me once
    let b = app.register("Quiet GmbH").await;
    let (served, refused) = served_until_refused(&[&app], &a, 10).await;
    assert_eq!(served, 2, "the burst of 3, one already used by the sign-in");
    let retry = refused.assert_rate_limited(10);
    assert_eq!(refused.header("ratelimit-limit"), Some("3"));
    // More refusals for A (answered from the instance's block cache) change nothing.
    for _ in 0..20 {
        me(&app, &a).await.assert_rate_limited(retry);
    }
    // B is served, with its own count.
    let answer = me(&app, &b).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("ratelimit-remaining"), Some("1"));
    // Any authenticated route counts, not only /users/me.
    let listed = send(
        &app,
        Method::GET,
        "/api/v1/processing-activities",
        "192.0.2.1",
        Some(&a.access),
        None,
    )
    .await;
    listed.assert_rate_limited(retry);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn stored_limit_rows(app: &TestApp) -> i64 {
    let mut conn = AsyncPgConnection::establish(app.db.superuser_url())
        .await
        .expect("connect");
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM rate_limits")
        .get_result(&mut conn)
        .await
        .expect("count");
    count.n
}

/// Two processes on one database (and, with `redis`, one Redis): the address and the
/// tenant limits hold across both.
async fn limits_hold_across_two_instances(redis: Option<&str>) {
    let mut env = vec![
        ("RATE_LIMIT_AUTH_PER_MINUTE", "4"),
        ("RATE_LIMIT_TENANT_PER_MINUTE", "6"),
        ("RATE_LIMIT_TENANT_BURST", "4"),
        ("RATE_LIMIT_USER_SHARE_PERCENT", "100"),
    ];
    if let Some(url) = redis {
        env.push(("REDIS_URL", url));
    }
    let first = TestApp::spawn_with(&env).await;
    let second = first.spawn_sibling(&env).await;

    // The address: four attempts spread over both instances, then both refuse.
    let flooder = address();
    for n in 0..4 {
        let app = if n % 2 == 0 { &first } else { &second };
        let answer = login_attempt(app, &flooder).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "attempt {n}: {}",
            answer.body
        );
    }
    login_attempt(&first, &flooder)
        .await
        .assert_rate_limited(15);
    login_attempt(&second, &flooder)
        .await
        .assert_rate_limited(15);

    // The tenant: a token from the first instance is counted by both.
    let account = first.register("Shared GmbH").await; // one /users/me on the first
    let (served, refused) = served_until_refused(&[&second, &first], &account, 12).await;
    assert_eq!(served, 3, "the burst of 4 across both instances");
    refused.assert_rate_limited(10);
    me(&second, &account).await.assert_rate_limited(10);

    let rows = stored_limit_rows(&first).await;
    if redis.is_some() {
        assert_eq!(rows, 0, "with REDIS_URL nothing is counted in PostgreSQL");
    } else {
        assert!(
            rows >= 2,
            "the address and the tenant are counted in PostgreSQL"
        );
    }
}

#[tokio::test]
async fn limits_hold_across_two_instances_on_postgresql() {
    limits_hold_across_two_instances(None).await;
}

#[tokio::test]
async fn limits_hold_across_two_instances_on_redis() {
    limits_hold_across_two_instances(Some(&redis_url())).await;
}

#[tokio::test]
async fn limits_are_lifted_once_the_window_has_passed() {
    // One request a second per tenant with bursts of 2; 60 a minute per address.
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_TENANT_PER_MINUTE", "60"),
        ("RATE_LIMIT_TENANT_BURST", "2"),
        ("RATE_LIMIT_USER_SHARE_PERCENT", "100"),
        ("RATE_LIMIT_AUTH_PER_MINUTE", "60"),
    ])
    .await;
    let account = app.register("Patient GmbH").await;
    let (_, refused) = served_until_refused(&[&app], &account, 5).await;
    let retry = refused.assert_rate_limited(1);
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(50)).await;
    let answer = me(&app, &account).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "served again after Retry-After"
    );

    // The address: a minute's worth at once, then one a second.
    let flooder = address();
    let mut refused = None;
    for _ in 0..61 {
        let answer = send(
            &app,
            Method::POST,
            "/api/v1/auth/refresh",
            &flooder,
            None,
            Some(json!({ "refresh_token": "not-a-token" })),
        )
        .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(answer);
            break;
        }
    }
    let retry = refused.expect("refused within 61").assert_rate_limited(1);
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(50)).await;
    let answer = login_attempt(&app, &flooder).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
}

#[tokio::test]
async fn switched_off_limits_refuse_nothing() {
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_ENABLED", "false"),
        ("RATE_LIMIT_AUTH_PER_MINUTE", "1"),
        ("RATE_LIMIT_TENANT_PER_MINUTE", "1"),
        ("RATE_LIMIT_TENANT_BURST", "1"),
    ])
    .await;
    let flooder = address();
    for _ in 0..5 {
        let answer = login_attempt(&app, &flooder).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        assert!(answer.header("ratelimit-limit").is_none());
    }
    let account = app.register("Unlimited GmbH").await;
    for _ in 0..5 {
        assert_eq!(me(&app, &account).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_dead_redis_fails_open() {
    // Nothing listens on the discard port: every Redis call fails at once, the service
    // allows the requests (Redis is not the store of record) and keeps serving.
    let app = TestApp::spawn_with(&[
        ("REDIS_URL", "redis://127.0.0.1:9"),
        ("RATE_LIMIT_TENANT_PER_MINUTE", "1"),
        ("RATE_LIMIT_TENANT_BURST", "1"),
        ("RATE_LIMIT_AUTH_PER_MINUTE", "1"),
    ])
    .await;
    let account = app.register("Unshielded GmbH").await; // two auth calls, one /users/me
    for _ in 0..5 {
        let answer = me(&app, &account).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(
            answer.header("ratelimit-limit").is_none(),
            "no figures without a store answer"
        );
    }
    assert_eq!(
        stored_limit_rows(&app).await,
        0,
        "no fallback to PostgreSQL"
    );
}
