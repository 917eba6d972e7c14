//! Issue 16, multi-factor sign-in, through the real binary on PostgreSQL: TOTP enrolment
//! and its confirmation, sign-in with and without the code (202 and a challenge), a
//! replayed code, wrong codes throttled even before a right one, recovery codes used
//! once, turning the factor off with the password, and the accounts that must use a
//! second factor (a tenant whose owner requires it, an account in two tenants) getting
//! no tokens without one. The codes are computed here from the enrolment's secret with
//! `totp-rs`, as an authenticator app would; the secret and the recovery codes are looked
//! for at rest and in the log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, PASSWORD, TestApp, problem_fields};
use totp_rs::{Builder, Secret, Totp};

/// An authenticator app: the secret of an enrolment and the last step a code of it was
/// accepted for (each step signs in once).
struct Authenticator {
    totp: Totp,
    used: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Authenticator {
    fn of(enrolment: &Value) -> Self {
        let secret = Secret::try_from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
        Self {
            totp: Builder::new().with_secret(secret).build().unwrap(),
            used: 0,
        }
    }

    fn code_of_step(&self, step: u64) -> String {
        self.totp.generate(step * 30).to_string()
    }

    /// A code of a step after the last one used and within the server's window (one
    /// step either side of now), waiting for the clock when the next step is too far.
    async fn next_code(&mut self) -> String {
        loop {
            let now = unix_now() / 30;
            let step = (self.used + 1).max(now);
            if step <= now + 1 {
                self.used = step;
                return self.code_of_step(step);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The password step; status and answer.
async fn password_step(app: &TestApp, email: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "email": email, "password": PASSWORD })),
    )
    .await
}

/// The challenge of a password step that must answer one (202).
async fn challenge_of(app: &TestApp, email: &str, kind: &str) -> String {
    let (status, answer) = password_step(app, email).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer[kind], json!(true), "{answer}");
    assert!(answer.get("access_token").is_none(), "no tokens: {answer}");
    assert_eq!(answer["expires_in"], json!(300));
    answer["challenge"].as_str().unwrap().to_owned()
}

async fn second_step(app: &TestApp, challenge: &str, proof: Value) -> (StatusCode, Value) {
    let mut body = json!({ "challenge": challenge });
    body.as_object_mut()
        .unwrap()
        .extend(proof.as_object().unwrap().clone());
    app.call(Method::POST, "/api/v1/auth/login/mfa", None, Some(body))
        .await
}

/// Starts and confirms `who`'s enrolment; the authenticator and the recovery codes.
async fn enrol(app: &TestApp, who: &Account) -> (Authenticator, Vec<String>) {
    let (status, enrolment) = app
        .call(Method::POST, "/api/v1/me/mfa/totp", Some(&who.access), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let mut authenticator = Authenticator::of(&enrolment);
    let code = authenticator.next_code().await;
    let (status, confirmed) = app
        .call(
            Method::POST,
            "/api/v1/me/mfa/totp/confirm",
            Some(&who.access),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let codes = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (authenticator, codes)
}

fn assert_unauthorized(status: StatusCode, problem: &Value, code: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["code"], json!(code), "{problem}");
}

/// The audit events of `action` that `who`'s tenant sees.
async fn trail(app: &TestApp, who: &Account, action: &str) -> Vec<Value> {
    let path = format!("/api/v1/audit-events?action={action}&limit=100");
    let (status, page) = app.get(&path, &who.access).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[derive(QueryableByName)]
struct AtRest {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

/// Every second factor and challenge at rest, as hex, read as the superuser.
async fn at_rest(app: &TestApp) -> String {
    let mut conn = AsyncPgConnection::establish(app.db.superuser_url())
        .await
        .expect("connect as the superuser");
    let row: AtRest = diesel::sql_query(
        "SELECT coalesce(string_agg(encode(sealed_secret, 'hex') || ':'
                    || array_to_string(recovery_codes::text[], ','), ';'), '')
                || '|' || (SELECT coalesce(string_agg(encode(token_hash, 'hex'), ';'), '')
                             FROM mfa_challenges) AS t
           FROM second_factors",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    row.t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_account_signs_in_with_a_code_once_and_never_without_one() {
    let app = TestApp::spawn().await;
    let owner = app.register("Second Factor GmbH").await;
    let (status, state) = app.get("/api/v1/me/mfa", &owner.access).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["enabled"], json!(false));

    let (status, enrolment) = app
        .call(
            Method::POST,
            "/api/v1/me/mfa/totp",
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/AURA-GDPR:"), "{uri}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    // Not confirmed yet: the password alone still signs in.
    let (status, _) = password_step(&app, &owner.email).await;
    assert_eq!(status, StatusCode::OK);

    let mut authenticator = Authenticator::of(&enrolment);
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/me/mfa/totp/confirm",
            Some(&owner.access),
            Some(json!({ "code": "000000" })),
        )
        .await;
    assert_unauthorized(status, &problem, "invalid_second_factor");
    let first = authenticator.next_code().await;
    let (status, confirmed) = app
        .call(
            Method::POST,
            "/api/v1/me/mfa/totp/confirm",
            Some(&owner.access),
            Some(json!({ "code": first })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let (_, state) = app.get("/api/v1/me/mfa", &owner.access).await;
    assert_eq!(state["enabled"], json!(true), "{state}");
    assert_eq!(state["recovery_codes_left"], json!(10));

    // The password alone: 202 and a challenge, no tokens.
    let challenge = challenge_of(&app, &owner.email, "mfa_required").await;
    let (status, problem) = second_step(&app, &challenge, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem_fields(&problem), ["code"]);
    let (status, problem) = second_step(&app, &challenge, json!({ "code": "12345" })).await;
    assert_unauthorized(status, &problem, "invalid_second_factor");
    // The confirming code again: its step is used.
    let (status, problem) = second_step(&app, &challenge, json!({ "code": first })).await;
    assert_unauthorized(status, &problem, "invalid_second_factor");
    let (status, tokens) = second_step(
        &app,
        &challenge,
        json!({ "code": authenticator.next_code().await }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, me) = app.get("/api/v1/users/me", access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], json!(owner.user_id));
    // The challenge signs in once.
    let (status, problem) = second_step(
        &app,
        &challenge,
        json!({ "code": authenticator.next_code().await }),
    )
    .await;
    assert_unauthorized(status, &problem, "invalid_token");
    let (status, problem) = second_step(&app, "forged", json!({ "code": "123456" })).await;
    assert_unauthorized(status, &problem, "invalid_token");

    // Audited in the tenant's chain.
    for action in ["user.mfa_enrolment_started", "user.mfa_enabled"] {
        assert_eq!(trail(&app, &owner, action).await.len(), 1, "{action}");
    }
    let logins = trail(&app, &owner, "user.login_succeeded").await;
    assert!(
        logins.iter().any(|e| e.to_string().contains("totp")),
        "{logins:?}"
    );
    assert!(trail(&app, &owner, "user.login_failed").await.len() >= 3);

    // Neither the secret nor a recovery code is at rest or in the log.
    let stored = at_rest(&app).await;
    let raw = Secret::try_from_base32(&secret).unwrap();
    let raw_hex: String = raw.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!stored.contains(&raw_hex), "the secret in clear");
    let log = app.logged().join("\n");
    for plain in codes.iter().chain([&secret, &challenge]) {
        assert!(!stored.contains(plain.as_str()));
        let plain_hex: String = plain.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!stored.contains(&plain_hex), "{plain} at rest");
        assert!(!log.contains(plain.as_str()), "{plain} in the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_throttled_even_before_a_right_one() {
    let app = TestApp::spawn().await;
    let owner = app.register("Throttled GmbH").await;
    let (mut authenticator, _) = enrol(&app, &owner).await;
    let challenge = challenge_of(&app, &owner.email, "mfa_required").await;
    for _ in 0..5 {
        let (status, problem) = second_step(&app, &challenge, json!({ "code": "999999" })).await;
        assert_unauthorized(status, &problem, "invalid_second_factor");
    }
    let right = authenticator.next_code().await;
    let response = app
        .http
        .post(format!("{}/api/v1/auth/login/mfa", app.base))
        .json(&json!({ "challenge": challenge, "code": right }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // The refused right code was not used: after the delay it signs in.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, tokens) = second_step(&app, &challenge, json!({ "code": right })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_signs_in_once() {
    let app = TestApp::spawn().await;
    let owner = app.register("Recovery GmbH").await;
    let (_, codes) = enrol(&app, &owner).await;

    let first = challenge_of(&app, &owner.email, "mfa_required").await;
    let (status, tokens) = second_step(&app, &first, json!({ "recovery_code": codes[0] })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (_, state) = app.get("/api/v1/me/mfa", access).await;
    assert_eq!(state["recovery_codes_left"], json!(9), "{state}");
    assert_eq!(
        trail(&app, &owner, "user.mfa_recovery_code_used")
            .await
            .len(),
        1
    );

    let again = challenge_of(&app, &owner.email, "mfa_required").await;
    let (status, problem) = second_step(&app, &again, json!({ "recovery_code": codes[0] })).await;
    assert_unauthorized(status, &problem, "invalid_second_factor");
    // Typed in lower case without the dash, another one works.
    let typed = codes[1].replace('-', "").to_lowercase();
    let (status, _) = second_step(&app, &again, json!({ "recovery_code": typed })).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_the_factor_off_or_new_recovery_codes_need_the_password() {
    let app = TestApp::spawn().await;
    let owner = app.register("Password Check GmbH").await;
    let (mut authenticator, codes) = enrol(&app, &owner).await;
    let path = "/api/v1/me/mfa/totp";

    let wrong = json!({ "password": "not the password at all" });
    let (status, problem) = app
        .call(
            Method::DELETE,
            path,
            Some(&owner.access),
            Some(wrong.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem_fields(&problem), ["password"]);
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/me/mfa/recovery-codes",
            Some(&owner.access),
            Some(wrong),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    let right = json!({ "password": PASSWORD });
    let (status, fresh) = app
        .call(
            Method::POST,
            "/api/v1/me/mfa/recovery-codes",
            Some(&owner.access),
            Some(right.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let challenge_now = challenge_of(&app, &owner.email, "mfa_required").await;
    let (status, _) = second_step(&app, &challenge_now, json!({ "recovery_code": codes[0] })).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old codes stop working"
    );
    let (status, _) = second_step(
        &app,
        &challenge_now,
        json!({ "code": authenticator.next_code().await }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = app
        .call(
            Method::DELETE,
            path,
            Some(&owner.access),
            Some(right.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(trail(&app, &owner, "user.mfa_disabled").await.len(), 1);
    let (status, _) = password_step(&app, &owner.email).await;
    assert_eq!(status, StatusCode::OK, "the password alone again");
    let (status, _) = app
        .call(Method::DELETE, path, Some(&owner.access), Some(right))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing to turn off");
}

async fn require_mfa(app: &TestApp, who: &Account, value: Value) -> (StatusCode, Value) {
    app.call(
        Method::PATCH,
        "/api/v1/tenants/me",
        Some(&who.access),
        Some(json!({ "settings": { "require_mfa": value } })),
    )
    .await
}

/// Enrols through the challenge of a sign-in that requires it; the token pair's answer.
async fn enrol_at_sign_in(app: &TestApp, challenge: &str) -> Value {
    let (status, enrolment) = app
        .call(
            Method::POST,
            "/api/v1/auth/login/mfa/enrolment",
            None,
            Some(json!({ "challenge": challenge })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let mut authenticator = Authenticator::of(&enrolment);
    let (status, signed_in) = app
        .call(
            Method::POST,
            "/api/v1/auth/login/mfa/enrolment/confirm",
            None,
            Some(json!({ "challenge": challenge, "code": authenticator.next_code().await })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["recovery_codes"].as_array().unwrap().len(), 10);
    signed_in
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_owner_requires_a_second_factor_and_members_enrol_before_any_token() {
    let app = TestApp::spawn().await;
    let owner = app.register("Strict GmbH").await;
    let admin = app.add_user(&owner, "admin").await;
    let member = app.add_user(&owner, "member").await;

    let (status, _) = require_mfa(&app, &admin, json!(true)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the owner");
    let (status, problem) = require_mfa(&app, &owner, json!("yes")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem_fields(&problem), ["settings.require_mfa"]);
    let (status, tenant) = require_mfa(&app, &owner, json!(true)).await;
    assert_eq!(status, StatusCode::OK, "{tenant}");

    // The member's password answers an enrolment challenge; it opens nothing else.
    let challenge = challenge_of(&app, &member.email, "mfa_enrolment_required").await;
    let (status, problem) = second_step(&app, &challenge, json!({ "code": "123456" })).await;
    assert_unauthorized(status, &problem, "invalid_token");
    let (status, _) = app.get("/api/v1/users/me", &challenge).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a challenge is no token");
    let signed_in = enrol_at_sign_in(&app, &challenge).await;
    let access = signed_in["access_token"].as_str().unwrap();
    let (status, state) = app.get("/api/v1/me/mfa", access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["enabled"], json!(true));
    assert_eq!(state["required"], json!(true));
    // Used up; and required, it cannot be turned off.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login/mfa/enrolment",
            None,
            Some(json!({ "challenge": challenge })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, problem) = app
        .call(
            Method::DELETE,
            "/api/v1/me/mfa/totp",
            Some(access),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], json!("mfa_required"));
    // Next time, the code.
    challenge_of(&app, &member.email, "mfa_required").await;
    // The owner too.
    challenge_of(&app, &owner.email, "mfa_enrolment_required").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_two_tenants_must_use_a_second_factor() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let person = app.register("Home GmbH").await;
    let other = app.register("Client GmbH").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/tenants/me/users",
            Some(&other.access),
            Some(json!({ "email": person.email, "full_name": "Kim", "role": "member" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Pending: it does not count yet.
    let (status, _) = password_step(&app, &person.email).await;
    assert_eq!(status, StatusCode::OK);

    let mail = app.mail_when(1).await;
    let start = mail.find("token=").unwrap() + "token=".len();
    let token: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/password/reset",
            None,
            Some(json!({ "token": token, "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let challenge = challenge_of(&app, &person.email, "mfa_enrolment_required").await;
    enrol_at_sign_in(&app, &challenge).await;
}
