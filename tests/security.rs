//! Attacks against the real binary on PostgreSQL: forged tokens, refresh-token replay and
//! races, revocation on logout/reset/deactivation/role change, throttling, timing, the
//! 72-byte bcrypt limit, mass assignment and malformed input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{PASSWORD, TestApp};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The server's own signing key (the test controls its key directory), so forged tokens
/// fail for their claims, not merely for an unknown key.
fn server_key(app: &TestApp) -> (String, EncodingKey) {
    let entry = std::fs::read_dir(app.keys_dir())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "pem"))
        .expect("a signing key");
    let kid = entry
        .path()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let pem = std::fs::read(entry.path()).unwrap();
    (kid, EncodingKey::from_ed_pem(&pem).unwrap())
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn sign(claims: &Value, kid: Option<&str>, key: &EncodingKey, typ: &str) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    header.typ = Some(typ.to_owned());
    encode(&header, claims, key).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.register("Forgery Target Ltd").await;
    let (kid, key) = server_key(&app);
    let genuine = decode_part(&owner.access, 1);
    let with = |changes: Value| {
        let mut claims = genuine.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let at = "at+jwt";
    let other_key = {
        let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        EncodingKey::from_ed_der(pkcs8.as_ref())
    };
    let jwks: Value = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public_x = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let parts: Vec<&str> = owner.access.split('.').collect();
    let unsigned_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);

    let mut flipped_signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    flipped_signature[5] ^= 0x01;
    let mut flipped_payload = parts[1].as_bytes().to_vec();
    flipped_payload[10] = if flipped_payload[10] == b'A' {
        b'B'
    } else {
        b'A'
    };

    let forged: Vec<(&str, String)> = vec![
        ("alg none", format!("{unsigned_header}.{}.", parts[1])),
        ("wrong key", sign(&genuine, Some(&kid), &other_key, at)),
        (
            "HS256 keyed with the public key",
            encode(
                &{
                    let mut h = Header::new(Algorithm::HS256);
                    h.kid = Some(kid.clone());
                    h.typ = Some(at.to_owned());
                    h
                },
                &genuine,
                &EncodingKey::from_secret(&public_x),
            )
            .unwrap(),
        ),
        (
            "flipped signature byte",
            format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                URL_SAFE_NO_PAD.encode(flipped_signature)
            ),
        ),
        (
            "flipped payload byte",
            format!(
                "{}.{}.{}",
                parts[0],
                String::from_utf8(flipped_payload).unwrap(),
                parts[2]
            ),
        ),
        (
            "expired",
            sign(
                &with(json!({"iat": now() - 7200, "nbf": now() - 7200, "exp": now() - 3600})),
                Some(&kid),
                &key,
                at,
            ),
        ),
        (
            "future nbf",
            sign(
                &with(json!({"nbf": now() + 3600, "exp": now() + 7200})),
                Some(&kid),
                &key,
                at,
            ),
        ),
        (
            "wrong iss",
            sign(&with(json!({"iss": "someone-else"})), Some(&kid), &key, at),
        ),
        (
            "wrong aud",
            sign(&with(json!({"aud": "another-api"})), Some(&kid), &key, at),
        ),
        (
            "wrong typ claim",
            sign(&with(json!({"typ": "refresh"})), Some(&kid), &key, at),
        ),
        (
            "missing exp",
            sign(&with(json!({"exp": null})), Some(&kid), &key, at),
        ),
        (
            "wrong header typ",
            sign(&genuine, Some(&kid), &key, "JWT+refresh"),
        ),
        ("missing kid", sign(&genuine, None, &key, at)),
        ("unknown kid", sign(&genuine, Some("not-a-key"), &key, at)),
        (
            "other tenant in claims",
            sign(
                &with(json!({"tenant_id": uuid::Uuid::now_v7()})),
                Some(&kid),
                &key,
                at,
            ),
        ),
        ("refresh token as access token", owner.refresh.clone()),
        ("garbage", "not.a.token".to_owned()),
        ("empty", String::new()),
    ];
    let mut accepted = Vec::new();
    for (name, token) in &forged {
        let (status, body) = app.get("/api/v1/users/me", token).await;
        if status != StatusCode::UNAUTHORIZED || body["code"].is_null() {
            accepted.push(format!("{name}: {status} {body}"));
        }
    }
    // The control: the genuine token and a re-signed copy of it work.
    assert_eq!(
        app.get("/api/v1/users/me", &owner.access).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/users/me", &sign(&genuine, Some(&kid), &key, at))
            .await
            .0,
        StatusCode::OK
    );
    println!(
        "{} forged tokens tried, {} accepted",
        forged.len(),
        accepted.len()
    );
    assert!(accepted.is_empty(), "accepted forgeries: {accepted:#?}");
}

async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({ "refresh_token": token })),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    let app = TestApp::spawn().await;
    let owner = app.register("Replay Target Ltd").await;

    let (status, first) = refresh(&app, &owner.refresh).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let rotated = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, owner.refresh);

    // The old token again: refused, and the whole family dies with it.
    assert_eq!(
        refresh(&app, &owner.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(refresh(&app, &rotated).await.0, StatusCode::UNAUTHORIZED);
    let newest_access = first["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/users/me", newest_access).await.0,
        StatusCode::UNAUTHORIZED,
        "access tokens of a revoked family must die too"
    );

    let fresh = app.login(&owner.email, PASSWORD).await;
    let (_, events) = app
        .get(
            "/api/v1/audit-events?action=auth.refresh_reused",
            &fresh.access,
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_refreshes_of_one_token_let_at_most_one_through() {
    let app = TestApp::spawn().await;
    let owner = app.register("Race Target Ltd").await;
    let attempts = (0..8).map(|_| refresh(&app, &owner.refresh));
    let results = futures_util::future::join_all(attempts).await;
    let winners = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert!(winners <= 1, "{winners} parallel refreshes succeeded");
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let owner = app.register("Logout Ltd").await;
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/users/me", &owner.access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &owner.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
}

fn reset_token_from(mail: &str) -> String {
    let start = mail.find("token=").expect("a reset link in the mail") + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_works_once_and_ends_old_sessions() {
    let app = TestApp::spawn().await;
    let owner = app.register("Reset Ltd").await;
    let forgot = |email: String| {
        app.call(
            Method::POST,
            "/api/v1/auth/password/forgot",
            None,
            Some(json!({ "email": email })),
        )
    };
    // Known and unknown addresses get the same answer.
    let (known, known_body) = forgot(owner.email.clone()).await;
    let (unknown, unknown_body) = forgot("nobody@example.test".to_owned()).await;
    assert_eq!(
        (known, unknown),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(known_body, unknown_body);

    let token = reset_token_from(&app.mail_when(1).await);
    assert!(token.len() >= 43, "reset token carries 256 bits: {token}");
    let new_password = "an entirely new passphrase";
    let reset = |token: String| {
        app.call(
            Method::POST,
            "/api/v1/auth/password/reset",
            None,
            Some(json!({ "token": token, "password": new_password })),
        )
    };
    assert_eq!(reset(token.clone()).await.0, StatusCode::NO_CONTENT);
    assert_eq!(reset(token).await.0, StatusCode::UNAUTHORIZED, "single use");

    assert_eq!(
        app.get("/api/v1/users/me", &owner.access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &owner.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (old, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": owner.email, "password": PASSWORD })),
        )
        .await;
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    app.login(&owner.email, new_password).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_and_demotion_take_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.register("Staff Changes Ltd").await;
    let admin = app.add_user(&owner, "admin").await;
    let member = app.add_user(&owner, "member").await;
    assert_eq!(
        app.get("/api/v1/audit-events", &admin.access).await.0,
        StatusCode::OK
    );

    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{}", admin.user_id),
            Some(&owner.access),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The demoted admin's token is dead; a new sign-in has member rights only.
    assert_eq!(
        app.get("/api/v1/audit-events", &admin.access).await.0,
        StatusCode::UNAUTHORIZED
    );
    let demoted = app.login(&admin.email, PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/audit-events", &demoted.access).await.0,
        StatusCode::FORBIDDEN
    );

    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{}", member.user_id),
            Some(&owner.access),
            Some(json!({ "is_active": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/users/me", &member.access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &member.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The last owner can be neither demoted nor removed.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{}", owner.user_id),
            Some(&owner.access),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "last_owner");
}

async fn login_from(
    app: &TestApp,
    email: &str,
    password: &str,
    address: &str,
) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("X-Forwarded-For", address)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_slows_an_attacker_without_locking_the_owner_out() {
    let app = TestApp::spawn().await;
    let owner = app.register("Throttle Ltd").await;
    let attacker = "203.0.113.7";
    let mut throttled = None;
    for _ in 0..8 {
        let response = login_from(&app, &owner.email, "wrong guess wrong guess", attacker).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = throttled.expect("the attacker is throttled within 8 failures");
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    // The owner, from their own address, still gets in.
    let response = login_from(&app, &owner.email, PASSWORD, "198.51.100.20").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_get_no_more_real_checks_than_sequential_ones() {
    let app = TestApp::spawn().await;
    let owner = app.register("Parallel Guess Ltd").await;
    let attacker = "203.0.113.9";
    let guesses =
        (0..20).map(|_| login_from(&app, &owner.email, "wrong guess wrong guess", attacker));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 20, "{statuses:?}");
    assert!(
        checked <= 5,
        "at most the free attempts get a real check: {statuses:?}"
    );
    // The owner, from their own address, still gets in.
    let response = login_from(&app, &owner.email, PASSWORD, "198.51.100.30").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_password_change_cannot_undo_a_concurrent_deactivation() {
    // bcrypt at cost 14 makes the password change (verify + hash) take seconds: the
    // owner's change lands while it runs, after it read the member's row.
    let app = TestApp::spawn_with(&[("BCRYPT_COST", "14")]).await;
    let owner = app.register("Lost Update Ltd").await;
    let member = app.add_user(&owner, "member").await;

    let change = app.call(
        Method::POST,
        "/api/v1/users/me/password",
        Some(&member.access),
        Some(
            json!({ "current_password": PASSWORD, "new_password": "a fresh new passphrase 2026" }),
        ),
    );
    let deactivate = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        app.call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{}", member.user_id),
            Some(&owner.access),
            Some(json!({ "is_active": false, "role": "viewer" })),
        )
        .await
    };
    let ((change_status, change_body), (patch_status, patch_body)) =
        tokio::join!(change, deactivate);
    assert_eq!(patch_status, StatusCode::OK, "{patch_body}");
    assert_eq!(change_status, StatusCode::CONFLICT, "{change_body}");
    assert_eq!(change_body["code"], "stale", "{change_body}");

    let (status, user) = app
        .get(
            &format!("/api/v1/tenants/me/users/{}", member.user_id),
            &owner.access,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["is_active"], false, "the deactivation stands: {user}");
    assert_eq!(user["role"], "viewer", "the demotion stands: {user}");
    let response = login_from(&app, &member.email, PASSWORD, "198.51.100.31").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_accounts_and_wrong_passwords_look_alike() {
    let app = TestApp::spawn().await;
    let owner = app.register("Timing Ltd").await;
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..6 {
        // Distinct addresses keep the throttle out of the measurement.
        let address = format!("192.0.2.{}", 10 + i);
        let started = Instant::now();
        let a = login_from(&app, &owner.email, "not the password at all", &address).await;
        wrong.push(started.elapsed());
        let a_status = a.status();
        let a_body: Value = a.json().await.unwrap();
        let started = Instant::now();
        let b = login_from(
            &app,
            &format!("ghost{i}@example.test"),
            "not the password at all",
            &address,
        )
        .await;
        unknown.push(started.elapsed());
        let b_status = b.status();
        let b_body: Value = b.json().await.unwrap();
        assert_eq!(a_status, b_status);
        assert_eq!(a_body["code"], b_body["code"]);
        assert_eq!(a_body["detail"], b_body["detail"]);
    }
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[3], unknown[3]);
    println!("median wrong password {w:?}, unknown account {u:?}");
    // Both pay for one bcrypt verification: neither is a fraction of the other.
    assert!(u * 2 > w && w * 2 > u, "wrong {w:?} vs unknown {u:?}");
    assert!(
        u > Duration::from_millis(20),
        "an unknown account must still cost a hash"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_byte_of_a_long_passphrase_counts() {
    let app = TestApp::spawn().await;
    let prefix = "x".repeat(72);
    let email = format!("long-{}@example.test", uuid::Uuid::new_v4().simple());
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({
                "organisation_name": "Long Passphrase Ltd",
                "email": email,
                "full_name": "Long Phrase",
                "password": format!("{prefix}-the-real-ending"),
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": format!("{prefix}-another-ending") })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "bytes after 72 must matter"
    );
    app.login(&email, &format!("{prefix}-the-real-ending"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_fields_cannot_be_smuggled_in() {
    let app = TestApp::spawn().await;
    let owner = app.register("Mass Assignment Ltd").await;
    let member = app.add_user(&owner, "member").await;
    let attempts = [
        (
            Method::PATCH,
            "/api/v1/users/me",
            &member.access,
            json!({ "role": "owner" }),
        ),
        (
            Method::PATCH,
            "/api/v1/users/me",
            &member.access,
            json!({ "tenant_id": uuid::Uuid::now_v7() }),
        ),
        (
            Method::PATCH,
            "/api/v1/users/me",
            &member.access,
            json!({ "is_active": true, "full_name": "M" }),
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/me",
            &owner.access,
            json!({ "subscription_tier": "premium" }),
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/me",
            &owner.access,
            json!({ "is_active": true }),
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/me",
            &owner.access,
            json!({ "id": uuid::Uuid::now_v7() }),
        ),
        (
            Method::POST,
            "/api/v1/tenants/me/users",
            &owner.access,
            json!({
            "email": "smuggle@example.test", "full_name": "S", "role": "member",
            "tenant_id": uuid::Uuid::now_v7() }),
        ),
        (
            Method::POST,
            "/api/v1/tenants/me/users",
            &owner.access,
            json!({
            "email": "smuggle2@example.test", "full_name": "S", "role": "member",
            "id": uuid::Uuid::now_v7() }),
        ),
    ];
    for (method, path, token, body) in attempts {
        let (status, problem) = app
            .call(method.clone(), path, Some(token), Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} {body} → {problem}"
        );
        let field = problem["errors"][0]["field"].as_str().unwrap();
        assert!(body.as_object().unwrap().contains_key(field), "{problem}");
    }
    let (_, me) = app.get("/api/v1/users/me", &member.access).await;
    assert_eq!(me["role"], "member");
    // Responses never carry secrets.
    for (path, token) in [
        ("/api/v1/users/me", &member.access),
        ("/api/v1/tenants/me/users", &owner.access),
    ] {
        let (_, body) = app.get(path, token).await;
        let text = body.to_string();
        assert!(
            !text.contains("password_hash") && !text.contains("$2"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_problem_never_a_5xx() {
    let app = TestApp::spawn().await;
    let owner = app.register("Bad Input Ltd").await;
    let huge = "x".repeat(70 * 1024);
    let bodies: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not json", "hello".to_owned()),
        ("truncated", r#"{"email": "a@b.c""#.to_owned()),
        ("array", "[1,2,3]".to_owned()),
        ("null", "null".to_owned()),
        (
            "wrong types",
            r#"{"email": 5, "password": true}"#.to_owned(),
        ),
        (
            "sql",
            r#"{"email": "' OR 1=1 --", "password": "'; DROP TABLE users; --"}"#.to_owned(),
        ),
        (
            "huge number",
            r#"{"email": 1e400, "password": 99999999999999999999999999}"#.to_owned(),
        ),
        ("nested", format!("{}{}", "[".repeat(200), "]".repeat(200))),
        (
            "oversized",
            format!(r#"{{"email": "{huge}", "password": "x"}}"#),
        ),
        (
            "nul bytes",
            "{\"email\": \"a\u{0000}@b.c\", \"password\": \"x\"}".to_owned(),
        ),
        (
            "unicode",
            r#"{"full_name": "\ud800", "email": "é@ü.de"}"#.to_owned(),
        ),
    ];
    let routes = [
        (Method::POST, "/api/v1/auth/register", None),
        (Method::POST, "/api/v1/auth/login", None),
        (Method::POST, "/api/v1/auth/refresh", None),
        (Method::POST, "/api/v1/auth/password/forgot", None),
        (Method::POST, "/api/v1/auth/password/reset", None),
        (Method::PATCH, "/api/v1/users/me", Some(&owner.access)),
        (
            Method::POST,
            "/api/v1/users/me/password",
            Some(&owner.access),
        ),
        (Method::PATCH, "/api/v1/tenants/me", Some(&owner.access)),
        (
            Method::POST,
            "/api/v1/tenants/me/users",
            Some(&owner.access),
        ),
        (
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{}", owner.user_id),
            Some(&owner.access),
        ),
    ];
    let mut tried = 0;
    let mut failures = Vec::new();
    for (method, path, token) in &routes {
        for (name, body) in &bodies {
            let mut request = app
                .http
                .request(method.clone(), format!("{}{path}", app.base))
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            tried += 1;
            let status = response.status();
            let content_type = response.headers().get("content-type").cloned();
            if !status.is_client_error()
                || content_type.is_none_or(|c| c != "application/problem+json")
            {
                failures.push(format!("{method} {path} [{name}] → {status}"));
            }
        }
    }
    // Bad ids, queries and content types.
    for (path, expected) in [
        (
            "/api/v1/tenants/me/users/not-a-uuid",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/tenants/me/users?limit=1000",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/tenants/me/users?limit=-1", StatusCode::BAD_REQUEST),
        (
            "/api/v1/tenants/me/users?cursor=%%%",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/tenants/me/users?role=owner",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/audit-events?from=yesterday",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/audit-events?actor=1%20OR%201=1",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/audit-events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = app.get(path, &owner.access).await;
        tried += 1;
        if status != expected || body["code"].is_null() {
            failures.push(format!("GET {path} → {status} {body}"));
        }
    }
    let response = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@b.c","password":"x"}"#)
        .send()
        .await
        .unwrap();
    tried += 1;
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE {
        failures.push(format!("text/plain login → {}", response.status()));
    }
    println!(
        "{tried} bad inputs tried, {} answered wrongly (5xx or not problem+json)",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_change_route_is_throttled_like_sign_in() {
    let app = TestApp::spawn().await;
    let owner = app.register("Oracle Ltd").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/users/me/password",
                Some(&owner.access),
                Some(json!({ "current_password": "a wrong guess here", "new_password": "a fresh new passphrase" })),
            )
            .await;
        statuses.push(status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY || *s == StatusCode::TOO_MANY_REQUESTS)
    );
    let (_, events) = app
        .get(
            "/api/v1/audit-events?action=user.login_failed",
            &owner.access,
        )
        .await;
    assert!(
        !events["items"].as_array().unwrap().is_empty(),
        "failed guesses are audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_are_rate_limited_without_an_oracle() {
    let app = TestApp::spawn().await;
    let owner = app.register("Mail Flood Ltd").await;
    for _ in 0..6 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/password/forgot",
                None,
                Some(json!({ "email": owner.email })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    app.mail_when(3).await;
    // Two more worker passes: nothing else was queued.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(
        app.mail_count(),
        3,
        "at most three reset mails per address and hour"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_in_queries_are_a_400() {
    let app = TestApp::spawn().await;
    let owner = app.register("Nul Ltd").await;
    for path in [
        "/api/v1/audit-events?action=%00",
        "/api/v1/audit-events?entity_id=a%00b",
        "/api/v1/tenants/me/users?cursor=%00",
    ] {
        let (status, body) = app.get(path, &owner.access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
}
