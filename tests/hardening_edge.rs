//! Attacks on the edge of the real binary, one per hardening item: other spellings of the
//! limited paths, the AI deadline behind an encoded path, HEAD, implausible dates, list
//! cursors, formula cells in CSV exports, production settings, counter keys at rest, and
//! two concurrent parent changes that would close a sub-processor loop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use diesel::{QueryableByName, sql_types::Bytea};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client address nobody else uses.
fn address() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("2001:db8:{:x}:{:x}::1", (n >> 16) as u16, n as u16)
}

/// Sends `POST {path}` exactly as written (no client normalises it) from `from`, with a
/// JSON body; the status and the headers, lower-cased.
async fn raw_post(app: &TestApp, path: &str, from: &str, body: &str) -> (u16, String) {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nX-Forwarded-For: {from}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    (status, head.to_ascii_lowercase())
}

/// Item 1. Once an address has used its per-address quota on the plain paths, no other
/// spelling of a public auth path reaches a handler: each one is either served by the
/// route (and refused by its limit: 429) or by nothing (404). The percent-encoded ones
/// the attack used are the route's.
#[tokio::test]
async fn every_spelling_of_a_public_auth_path_meets_its_limit_or_no_route() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_AUTH_PER_MINUTE", "3")]).await;
    let flooder = address();
    let body = json!({
        "email": "nobody@example.test", "password": "not the password at all",
        "refresh_token": "x", "token": "x", "organisation_name": "Flood GmbH",
        "full_name": "Flood Person",
    })
    .to_string();
    for _ in 0..3 {
        let (status, _) = raw_post(&app, "/api/v1/auth/login", &flooder, &body).await;
        assert_ne!(status, 429, "within the quota");
    }
    let encoded = [
        "/api/v1/auth/%72egister",
        "/api/v1/auth/%6Cogin",
        "/api/v1/auth/%6c%6f%67%69%6e",
        "/api/%76%31/auth/refresh",
        "/api/v1/auth/password/%72eset",
        "/api/v1/auth/password/%66orgot",
        "/%61pi/v1/auth/login",
    ];
    for path in encoded {
        let (status, head) = raw_post(&app, path, &flooder, &body).await;
        assert_eq!(status, 429, "{path}: the route's limit");
        assert!(head.contains("retry-after:"), "{path}: {head}");
    }
    let mut not_found = Vec::new();
    for route in [
        "register",
        "login",
        "refresh",
        "password/forgot",
        "password/reset",
    ] {
        let spellings = [
            format!("//api/v1/auth/{route}"),
            format!("/api//v1/auth/{route}"),
            format!("/api/v1//auth/{route}"),
            format!("/api/v1/auth//{route}"),
            format!("/api/v1/auth/{route}/"),
            format!("/api/v1/auth/{route}//"),
            format!("/API/v1/auth/{route}"),
            format!("/api/V1/auth/{route}"),
            format!("/api/v1/auth/{}", route.to_uppercase()),
            format!("/api/v1/auth/./{route}"),
            format!("/api/v1/x/../auth/{route}"),
            format!("/api/v1/auth/%2e/{route}"),
            format!("/api/v1/auth/{route}%2f"),
            format!("/api/v1/auth/{route};x"),
            format!("/api/v1/auth/{route}%00"),
            format!("/api/v1/auth/{route}?x=1"),
            format!("/api/v1/auth/{route}#x"),
        ];
        for path in spellings {
            let (status, _) = raw_post(&app, &path, &flooder, &body).await;
            assert!(
                status == 404 || status == 429 || status == 400,
                "{path} reached a handler uncounted: {status}"
            );
            if status != 429 {
                not_found.push(path);
            }
        }
    }
    // The plain query string is the route itself; the rest of the spellings are no route.
    assert!(
        not_found.iter().all(|p| !p.ends_with("?x=1")),
        "{not_found:?}"
    );
    eprintln!("{} spellings answered 404 or 400", not_found.len());
}

/// Item 1, the AI deadline: it belongs to the matched route, so a percent-encoded AI path
/// gets the provider's budget (the provider's own timeout answers 504 after 8 s), not the
/// four seconds every other route gets (503).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ai_deadline_follows_the_route_whatever_the_spelling() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&slow)
        .await;
    let base = format!("{}/v1", slow.uri());
    let app = TestApp::spawn_with(&[
        ("AI_PROVIDER", "openai"),
        ("AI_BASE_URL", &base),
        ("AI_MODEL", "gpt-test"),
        ("AI_API_KEY", "sk-test"),
        ("AI_TIMEOUT_SECONDS", "8"),
        ("AI_MAX_RETRIES", "0"),
        // Long enough for sign-up's password hashing on a busy machine.
        ("REQUEST_TIMEOUT_SECS", "4"),
    ])
    .await;
    let owner = app.register("Deadline AI GmbH").await;
    for path in ["/api/v1/ai/ask", "/api/v1/%61i/ask", "/api/%76%31/ai/%61sk"] {
        let (status, problem) = app
            .call(
                Method::POST,
                path,
                Some(&owner.access),
                Some(json!({"question": "Who is our DPO?"})),
            )
            .await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{path}: {problem}");
        assert_eq!(problem["code"], "ai_provider_timeout", "{path}");
    }
}

/// Item 15: HEAD on a GET route answers like GET (status, ETag, type, length) without a
/// body, with the same limits and authentication; HEAD where no GET is served is 405.
#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let owner = app.register("Head GmbH").await;
    let processor = app
        .created(
            "/api/v1/processors",
            &owner,
            json!({"name": "Head Cloud", "dpa_status": "draft"}),
        )
        .await;
    let path = format!("/api/v1/processors/{}", processor["id"].as_str().unwrap());
    for path in [
        "/health",
        "/api/v1/system/info",
        "/api/v1/processors",
        path.as_str(),
    ] {
        let get = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&owner.access)
            .send()
            .await
            .unwrap();
        let (get_status, get_headers) = (get.status(), get.headers().clone());
        let get_body = get.bytes().await.unwrap();
        let head = app
            .http
            .head(format!("{}{path}", app.base))
            .bearer_auth(&owner.access)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), get_status, "HEAD {path}");
        assert_eq!(get_status, StatusCode::OK, "GET {path}");
        for name in ["content-type", "etag", "content-length"] {
            assert_eq!(
                head.headers().get(name),
                get_headers.get(name),
                "{name} of {path}"
            );
        }
        assert_eq!(
            head.headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok()),
            Some(get_body.len().to_string().as_str()),
            "{path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} sent a body"
        );
    }
    let anonymous = app
        .http
        .head(format!("{}/api/v1/processors", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let no_get = app
        .http
        .head(format!("{}/api/v1/auth/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(no_get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(no_get.headers()["allow"], "POST");
}

/// Item 7: a date outside 1900-01-01..=2200-12-31 in any body or date filter is a 4xx
/// naming the field (it was a 500 before 4714 BC, where PostgreSQL refuses dates).
#[tokio::test]
async fn implausible_dates_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let owner = app.register("Dates GmbH").await;
    let activity = |review: &str| {
        json!({
            "name": "Payroll", "role": "controller",
            "purposes": [{"description": "Paying staff", "lawful_basis": "contract"}],
            "data_subject_categories": ["employees"],
            "data_categories": [{"name": "bank details", "retention": "10 years"}],
            "review_date": review,
        })
    };
    let mut refused = 0;
    for year in ["-5000", "9999", "1899", "2201"] {
        let day = format!("{year}-01-01");
        for (path, body, field) in [
            (
                "/api/v1/processing-activities",
                activity(&day),
                "review_date",
            ),
            (
                "/api/v1/processors",
                json!({"name": "Cloud", "dpa_status": "signed", "dpa_signed_on": day,
                       "dpa_review_on": "2030-01-01"}),
                "dpa_signed_on",
            ),
            (
                "/api/v1/processors",
                json!({"name": "Cloud", "dpa_status": "draft", "dpa_review_on": day}),
                "dpa_review_on",
            ),
            (
                "/api/v1/policies",
                json!({"title": "Privacy", "kind": "privacy_policy", "next_review_date": day}),
                "next_review_date",
            ),
            (
                "/api/v1/tasks",
                json!({"title": "Check", "category": "other", "due_date": day}),
                "due_date",
            ),
        ] {
            let (status, problem) = app
                .call(Method::POST, path, Some(&owner.access), Some(body))
                .await;
            assert!(status.is_client_error(), "{path} {day}: {status} {problem}");
            assert_eq!(
                support::problem_fields(&problem),
                [field],
                "{path} {day}: {problem}"
            );
            refused += 1;
        }
        for filter in ["due_before", "due_after"] {
            let (status, problem) = app
                .get(&format!("/api/v1/tasks?{filter}={day}"), &owner.access)
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}={day}: {problem}");
            assert_eq!(problem["errors"][0]["field"], filter, "{problem}");
            refused += 1;
        }
    }
    eprintln!("{refused} implausible dates refused");
    // The ends of the range are dates like any other.
    app.created(
        "/api/v1/processing-activities",
        &owner,
        activity("2200-12-31"),
    )
    .await;
    let (status, _) = app
        .get("/api/v1/tasks?due_after=1900-01-01", &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// Item 15: a name-sorted list's cursor does not carry the name (nor anything readable);
/// it pages on, a changed byte is refused, and another tenant cannot use it.
#[tokio::test]
async fn list_cursors_carry_no_name_and_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let owner = app.register("Cursor GmbH").await;
    let other = app.register("Other Cursor GmbH").await;
    for name in [
        "Alpha Secret Cloud",
        "Bravo Secret Cloud",
        "Charlie Secret Cloud",
    ] {
        app.created(
            "/api/v1/processors",
            &owner,
            json!({"name": name, "dpa_status": "draft"}),
        )
        .await;
    }
    let (status, first) = app
        .get("/api/v1/processors?sort=name&limit=1", &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"][0]["name"], "Alpha Secret Cloud");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let decoded = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
    let text = String::from_utf8_lossy(&decoded);
    assert!(!text.contains("Secret"), "the name in the cursor: {text}");
    assert!(!text.contains(first["items"][0]["id"].as_str().unwrap()));
    let (status, second) = app
        .get(
            &format!("/api/v1/processors?sort=name&limit=1&cursor={cursor}"),
            &owner.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["items"][0]["name"], "Bravo Secret Cloud");
    let mut forged = decoded.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged = URL_SAFE_NO_PAD.encode(forged);
    for (who, cursor) in [(&owner, forged.as_str()), (&other, cursor.as_str())] {
        let (status, problem) = app
            .get(
                &format!("/api/v1/processors?sort=name&limit=1&cursor={cursor}"),
                &who.access,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(problem["code"], "invalid_cursor");
    }
    // A cursor in clear, as the API issued them before, is no longer taken.
    let clear = URL_SAFE_NO_PAD
        .encode(json!({"k": "Alpha Secret Cloud", "i": first["items"][0]["id"]}).to_string());
    let (status, _) = app
        .get(
            &format!("/api/v1/processors?sort=name&cursor={clear}"),
            &owner.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Item 15: cells a spreadsheet could run as formulas behind an invisible prefix or in
/// full-width form are defused in the CSV export.
#[tokio::test]
async fn csv_exports_defuse_hidden_and_full_width_formulas() {
    let app = TestApp::spawn().await;
    let owner = app.register("Formula GmbH").await;
    let attacks = [
        "\u{200B}=HYPERLINK(1)",
        "\u{FEFF}=1+1",
        "\u{FF1D}1+1",
        "\u{FF0B}1",
        "\u{FF0D}1",
        "\u{FF20}SUM(A1)",
    ];
    for name in attacks {
        app.created(
            "/api/v1/processing-activities",
            &owner,
            json!({
                "name": name, "role": "controller",
                "purposes": [{"description": "Paying staff", "lawful_basis": "contract"}],
                "data_subject_categories": ["employees"],
                "data_categories": [{"name": "bank details", "retention": "10 years"}],
            }),
        )
        .await;
    }
    let csv = app
        .http
        .get(format!(
            "{}/api/v1/registers/export?format=csv&record=controller",
            app.base
        ))
        .bearer_auth(&owner.access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in attacks {
        assert!(
            csv.contains(&format!(",'{name},")),
            "{name:?} undefused: {csv}"
        );
        assert!(
            !csv.contains(&format!(",{name},")),
            "{name:?} undefused: {csv}"
        );
    }
}

/// Item 11: production refuses switched-off rate limits and a reset link over plain HTTP,
/// naming both, before it serves anything.
#[tokio::test]
async fn production_refuses_unlimited_sign_in_and_plain_http_reset_links() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aura-api"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "postgres://aura_app@127.0.0.1:1/aura")
        .env("RUN_MIGRATIONS", "false")
        .env(
            "PASSWORD_PEPPER",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .env("RATE_LIMIT_ENABLED", "false")
        .env(
            "PASSWORD_RESET_URL",
            "http://app.example.com/reset?token={token}",
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .await
        .expect("aura-api runs");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    for name in ["RATE_LIMIT_ENABLED", "PASSWORD_RESET_URL"] {
        assert!(said.contains(&format!("  - {name}:")), "{name}: {said}");
    }
}

/// Item 11: in production `/docs`, `/openapi.json` and the build details of the system
/// information are off unless asked for.
#[tokio::test]
async fn production_hides_the_docs_and_build_details_unless_asked() {
    let development = TestApp::spawn().await; // makes the signing keys production reads
    let reset = (
        "PASSWORD_RESET_URL",
        "https://app.example.com/reset?token={token}",
    );
    let production = development
        .spawn_sibling(&[("APP_ENV", "production"), reset])
        .await;
    for path in ["/docs/", "/docs", "/openapi.json"] {
        let (status, _) = production.call(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, info) = production
        .call(Method::GET, "/api/v1/system/info", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        info.get("git_commit").is_none() && info.get("build_time").is_none(),
        "{info}"
    );
    assert_eq!(info["name"], "aura-gdpr");
    let opted_in = development
        .spawn_sibling(&[
            ("APP_ENV", "production"),
            reset,
            ("API_DOCS_ENABLED", "true"),
            ("BUILD_DETAILS_ENABLED", "true"),
        ])
        .await;
    let (status, _) = opted_in
        .call(Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = opted_in
        .call(Method::GET, "/api/v1/system/info", None, None)
        .await;
    assert!(
        info["git_commit"].is_string() && info["build_time"].is_string(),
        "{info}"
    );
    // Development shows both, as before.
    let (_, info) = development
        .call(Method::GET, "/api/v1/system/info", None, None)
        .await;
    assert!(info["git_commit"].is_string(), "{info}");
}

#[derive(QueryableByName)]
struct Hash {
    #[diesel(sql_type = Bytea)]
    key_hash: Vec<u8>,
}

/// Item 12: what the database holds for a client address's rate limit and sign-in
/// throttle is a pepper-keyed hash: hashing the address (the attack) finds no row.
#[tokio::test]
async fn counter_keys_at_rest_are_keyed_hashes() {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn().await;
    let client = "203.0.113.77";
    let (status, _) = raw_post(
        &app,
        "/api/v1/auth/login",
        client,
        &json!({"email": "victim@example.test", "password": "wrong password here"}).to_string(),
    )
    .await;
    assert_eq!(status, 401);
    let mut conn = AsyncPgConnection::establish(app.db.superuser_url())
        .await
        .unwrap();
    let mut stored = Vec::new();
    for table in ["rate_limits", "login_throttle"] {
        let rows: Vec<Hash> = diesel::sql_query(format!("SELECT key_hash FROM {table}"))
            .load(&mut conn)
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{table}: nothing counted");
        stored.extend(rows.into_iter().map(|r| r.key_hash));
    }
    let guesses = [
        format!("address:{client}"),
        "account:victim@example.test".to_owned(),
        format!("account-address:victim@example.test|{client}"),
    ];
    for guess in guesses {
        let digest = Sha256::digest(guess.as_bytes()).to_vec();
        assert!(!stored.contains(&digest), "{guess} found by its SHA-256");
    }
}

/// Item 10: two concurrent updates, P1 under P2 and P2 under P1, both pass the check made
/// before the write (neither sees the other); inside the write's transaction only one
/// may win. The writes are held at a table lock until both wait, then let go together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_parent_changes_cannot_close_a_sub_processor_loop() {
    let app = TestApp::spawn().await;
    let owner = app.register("Loop GmbH").await;
    let p1 = app
        .created(
            "/api/v1/processors",
            &owner,
            json!({"name": "P1", "dpa_status": "draft"}),
        )
        .await;
    let p2 = app
        .created(
            "/api/v1/processors",
            &owner,
            json!({"name": "P2", "dpa_status": "draft"}),
        )
        .await;
    // EXCLUSIVE lets plain reads through (the use case's loop check) and holds every
    // write and locking read of the table.
    let mut lock = AsyncPgConnection::establish(app.db.owner_url())
        .await
        .unwrap();
    lock.batch_execute("BEGIN; LOCK TABLE processors IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let put = |me: &Value, parent: &Value| {
        let path = format!("/api/v1/processors/{}", me["id"].as_str().unwrap());
        let body = json!({"name": me["name"], "dpa_status": "draft", "parent_id": parent["id"]});
        let version = me["version"].as_i64();
        let app = &app;
        let owner: &Account = &owner;
        async move {
            app.send(Method::PUT, &path, owner, version, Some(body))
                .await
        }
    };
    let both = async { tokio::join!(put(&p1, &p2), put(&p2, &p1)) };
    let release = async {
        wait_for_waiting_writes(&app, 2).await;
        lock.batch_execute("COMMIT").await.unwrap();
    };
    let (((first, _, a), (second, _, b)), ()) = tokio::join!(both, release);
    let statuses = [first, second];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "exactly one wins: {a} / {b}"
    );
    let loser = if first == StatusCode::OK { &b } else { &a };
    assert_eq!(loser["errors"][0]["field"], "parent_id", "{loser}");
    // And the register holds no loop.
    let (_, list) = app.get("/api/v1/processors", &owner.access).await;
    let parents: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["parent_id"])
        .collect();
    assert_eq!(
        parents.iter().filter(|p| p.is_string()).count(),
        1,
        "{list}"
    );
}

/// Waits until `count` sessions of the app wait for a lock on a statement about
/// processors (a write held by the table lock, or one waiting for its turn).
async fn wait_for_waiting_writes(app: &TestApp, count: i64) {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(app.db.superuser_url())
        .await
        .unwrap();
    for _ in 0..600 {
        let waiting: Waiting = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' \
             AND wait_event_type = 'Lock' AND query LIKE '%processor%'",
            app.db.name()
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        if waiting.n >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the two writes never both waited");
}

/// Item 14: one user may use only a share of the tenant's request quota; the tenant's
/// other users are still served when that user is refused.
#[tokio::test]
async fn one_user_takes_only_a_share_of_the_tenants_requests() {
    // 6 a minute with bursts of 4 per tenant; a user: half, 3 a minute, bursts of 2.
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_TENANT_PER_MINUTE", "6"),
        ("RATE_LIMIT_TENANT_BURST", "4"),
        ("RATE_LIMIT_USER_SHARE_PERCENT", "50"),
    ])
    .await;
    let owner = app.register("Shared Quota GmbH").await; // owner 1, tenant 1
    let member = app.add_user(&owner, "member").await; // member 1, tenant 2 (added by the CLI)
    let me = |who: &Account| {
        let token = who.access.clone();
        let app = &app;
        async move {
            let response = app
                .http
                .get(format!("{}/api/v1/users/me", app.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let limit = response
                .headers()
                .get("ratelimit-limit")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, limit, response.json::<Value>().await.unwrap())
        }
    };
    let (status, _, body) = me(&owner).await; // owner 2, tenant 3
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, limit, problem) = me(&owner).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    assert_eq!(limit.as_deref(), Some("2"), "the user's burst");
    assert!(
        problem["detail"].as_str().unwrap().contains("your share"),
        "{problem}"
    );
    let (status, _, body) = me(&member).await; // member 2, tenant 4
    assert_eq!(
        status,
        StatusCode::OK,
        "the owner's flood left the member's share: {body}"
    );
    let (status, _, _) = me(&member).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

/// Item 14: the same for the AI assistant's hourly quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_takes_only_a_share_of_the_tenants_ai_quota() {
    let app = TestApp::spawn_with(&[
        ("AI_RATE_LIMIT_PER_HOUR", "4"),
        ("RATE_LIMIT_USER_SHARE_PERCENT", "50"),
    ])
    .await;
    let owner = app.register("AI Share GmbH").await;
    let member = app.add_user(&owner, "member").await;
    let ask = |who: &Account| {
        let token = who.access.clone();
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/v1/ai/ask",
                Some(&token),
                Some(json!({"question": "Who is our DPO?"})),
            )
            .await
        }
    };
    let mut statuses = Vec::new();
    for who in [&owner, &owner, &owner, &member, &member, &member] {
        statuses.push(ask(who).await.0.as_u16());
    }
    assert_eq!(statuses, [201, 201, 429, 201, 201, 429]);
}

/// Item 14: a user hammering a route they may not use gets 403 every time, but the trail
/// holds their first denial and one event counting the repeats, and the chain verifies.
#[tokio::test]
async fn repeated_denials_are_audited_in_bulk() {
    // A window the 30 denials fit in even on a loaded machine (a debug build with other
    // suites beside it): repeats past the window would rightly start a new one.
    let app = TestApp::spawn_with(&[("AUDIT_DENIAL_WINDOW_SECS", "8")]).await;
    let owner = app.register("Denials GmbH").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let attempts = 30;
    for _ in 0..attempts {
        let (status, problem) = app
            .call(
                Method::POST,
                "/api/v1/processors",
                Some(&viewer.access),
                Some(json!({"name": "Forbidden", "dpa_status": "draft"})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    }
    let denials = || async {
        let (status, page) = app
            .get(
                "/api/v1/audit-events?action=auth.permission_denied&limit=100",
                &owner.access,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    };
    assert_eq!(
        denials().await.len(),
        1,
        "only the first is written at once"
    );
    let mut events = Vec::new();
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        events = denials().await;
        if events.len() > 1 {
            break;
        }
    }
    assert_eq!(events.len(), 2, "{events:?}");
    let summary = &events[0]; // newest first
    assert_eq!(summary["changes"]["repeated"], attempts - 1, "{summary}");
    assert_eq!(summary["actor_id"], viewer.user_id.as_str(), "{summary}");
    assert_eq!(
        summary["changes"]["permission"],
        events[1]["changes"]["permission"]
    );
    let (_, chain) = app.get("/api/v1/audit-events/verify", &owner.access).await;
    assert_eq!(chain["valid"], true, "{chain}");
    eprintln!("{attempts} denials, 2 audit events");
}
