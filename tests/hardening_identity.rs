//! Issue 18, items 3, 6, 8 and 9, attacked through the real binary on PostgreSQL: locking
//! a chosen user out of sign-in, telling known from unknown addresses by the time a
//! reset request takes, relaying mail through invitations, addresses the mailer cannot
//! take and look-alike spellings of one address, and reset links that outlive a
//! password change, a deactivation or a role change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, PASSWORD, TestApp};

/// A request to a public auth route from the client address `from`, on a connection of
/// its own: after a long burst of bcrypt-bound attempts, a pooled connection may have
/// been closed by the server's keep-alive timeout just as it is reused.
async fn post_from(app: &TestApp, path: &str, from: &str, body: Value) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base))
        .header("X-Forwarded-For", from)
        .header(reqwest::header::CONNECTION, "close")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn login_from(app: &TestApp, email: &str, password: &str, from: &str) -> StatusCode {
    let body = json!({ "email": email, "password": password });
    post_from(app, "/api/v1/auth/login", from, body)
        .await
        .status()
}

fn reset_token_from(mail: &str) -> String {
    let start = mail.find("token=").expect("a link in the mail") + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn forgot(app: &TestApp, email: &str, from: &str) -> (StatusCode, Value) {
    let response = post_from(
        app,
        "/api/v1/auth/password/forgot",
        from,
        json!({ "email": email }),
    )
    .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn reset(app: &TestApp, token: &str, password: &str) -> StatusCode {
    app.call(
        Method::POST,
        "/api/v1/auth/password/reset",
        None,
        Some(json!({ "token": token, "password": password })),
    )
    .await
    .0
}

// ------------------------------------------------------------------------- item 3

/// The attack of the issue, bigger: 150 wrong passwords counted from 30 addresses push
/// the account-wide count over its limit. The owner, at an address with no failures of
/// its own, still signs in; the attackers' refused attempts are not counted (their wait
/// does not grow); an address with a failure of its own that is refused by the
/// account-wide limit gets the owner an unlock mail, whose link lifts the block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_lock_a_chosen_user_out() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let owner = app.register("Lockout Ltd").await;
    let attack = (0..30).map(|n| {
        let app = &app;
        let email = owner.email.clone();
        async move {
            let from = format!("203.0.113.{}", n + 1);
            let mut statuses = Vec::new();
            for _ in 0..12 {
                statuses.push(login_from(app, &email, "wrong guess wrong guess", &from).await);
            }
            statuses
        }
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attack)
        .await
        .into_iter()
        .flatten()
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    println!("attack: {checked} wrong passwords checked, {refused} attempts refused");
    assert_eq!(checked + refused, 360);
    // At most the five free checks per address (150), and past the account-wide
    // limit's 100 (the rest refused by it).
    assert!((100..=150).contains(&checked), "{checked}");

    // The owner at their own address: in, with the right password.
    assert_eq!(
        login_from(&app, &owner.email, PASSWORD, "198.51.100.7").await,
        StatusCode::OK
    );

    // A refused attacker waits the first back-off step, not one renewed by refusals.
    let response = post_from(
        &app,
        "/api/v1/auth/login",
        "203.0.113.1",
        json!({ "email": owner.email, "password": "wrong guess wrong guess" }),
    )
    .await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait <= 2, "refusals renewed the back-off: {wait} s");
    }

    // The owner's sign-in cleared the account-wide count; push it over again, then a
    // new address with a typo of its own meets the account-wide limit…
    let typo = "198.51.100.99";
    assert_eq!(
        login_from(&app, &owner.email, "a typo of my own", typo).await,
        StatusCode::UNAUTHORIZED
    );
    let again = (30..60).map(|n| {
        let app = &app;
        let email = owner.email.clone();
        async move {
            let from = format!("203.0.113.{}", n + 1);
            for _ in 0..5 {
                login_from(app, &email, "wrong guess wrong guess", &from).await;
            }
        }
    });
    futures_util::future::join_all(again).await;
    assert_eq!(
        login_from(&app, &owner.email, PASSWORD, typo).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // … and the owner is mailed an unlock link (through the job queue).
    let mail = app.mail_when(1).await;
    assert!(
        mail.contains("Sign-in to your account is blocked"),
        "{mail}"
    );
    let token = reset_token_from(&mail);
    assert_eq!(
        reset(&app, &token, "an unlocked new passphrase").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        login_from(&app, &owner.email, "an unlocked new passphrase", typo).await,
        StatusCode::OK
    );
}

// ------------------------------------------------------------------------- item 6

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A reset request for a known address takes as long as one for an unknown address:
/// both only count the request and look the address up; the known one's mail (token,
/// audit event, rendering, delivery) is the job queue's. Fresh addresses and client
/// addresses each time, so no request is cut short by a limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_take_as_long_for_known_as_for_unknown_addresses() {
    // 40 members are added: above the default daily cap, which every added member counts
    // against.
    let app = TestApp::spawn_with(&[("INVITATIONS_PER_DAY", "1000")]).await;
    let owner = app.register("Timing Ltd").await;
    const ROUNDS: usize = 40;
    let mut known_addresses = Vec::new();
    for _ in 0..ROUNDS {
        known_addresses.push(app.add_user(&owner, "member").await.email);
    }
    // Warm-up (connections, caches).
    for n in 0..10 {
        forgot(
            &app,
            &format!("warm-{n}@example.test"),
            &format!("192.0.2.{n}"),
        )
        .await;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for (n, address) in known_addresses.iter().enumerate() {
        let unknown_address = format!("nobody-{}@example.test", uuid::Uuid::new_v4().simple());
        let mut pair = [
            (address.as_str(), &mut known, 1),
            (unknown_address.as_str(), &mut unknown, 2),
        ];
        // Either may go first; each comes from a client address of its own, first seen.
        if n % 2 == 1 {
            pair.reverse();
        }
        for (target, samples, side) in pair {
            let from = format!("10.{n}.{side}.1");
            let started = Instant::now();
            let (status, _) = forgot(&app, target, &from).await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, StatusCode::ACCEPTED);
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    println!(
        "password reset request, median of {ROUNDS}: known {known:.2} ms, unknown {unknown:.2} ms, difference {:.2} ms",
        known - unknown
    );
    // Before: 10.6 ms against 6.6 ms (+60 %; the token and the mail were made in the request).
    // The bound leaves room for a loaded CI machine and still catches that.
    assert!(
        (known - unknown).abs() < 3.0_f64.max(unknown * 0.3),
        "known {known:.2} ms vs unknown {unknown:.2} ms"
    );
    // And the mails do go out, from the queue.
    app.mail_when(ROUNDS).await;
}

async fn invite(app: &TestApp, admin: &Account, email: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/tenants/me/users", app.base))
        .bearer_auth(&admin.access)
        .json(&json!({ "email": email, "full_name": "Max Mustermann", "role": "member" }))
        .send()
        .await
        .unwrap()
}

/// Invitations are capped per tenant and day (the setting `invitations_per_day`, named
/// by the 429), and the organisation's and person's names an attacker chose arrive in
/// the mail quoted, cut short and without anything a mail client would make a link of.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_capped_and_cannot_carry_a_message_of_their_own() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let owner = app.register("Relay Ltd").await;
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/v1/tenants/me",
            Some(&owner.access),
            Some(json!({
                "name": "You won! Claim at https://evil.example/win <a href=x>",
                "settings": { "invitations_per_day": 2 },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    for n in 0..2 {
        let response = invite(&app, &owner, &format!("victim-{n}@example.test")).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let refused = invite(&app, &owner, "victim-3@example.test").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "limit_reached");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("invitations_per_day"),
        "{problem}"
    );
    // The refused invitation created nobody.
    let (_, users) = app.get("/api/v1/tenants/me/users", &owner.access).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 3, "{users}");

    let mail = app.mail_when(2).await;
    assert!(
        mail.contains("“You won Claim at https evil example win a href x”"),
        "{mail}"
    );
    for forbidden in ["evil.example", "https://evil", "<a href"] {
        assert!(!mail.contains(forbidden), "{forbidden} in {mail}");
    }
}

// ------------------------------------------------------------------------- item 8

async fn register(app: &TestApp, email: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({
            "organisation_name": format!("Org {}", uuid::Uuid::new_v4().simple()),
            "email": email,
            "full_name": "Anna Bücher",
            "password": PASSWORD,
        })),
    )
    .await
}

/// Addresses are what the mailer takes, in one canonical form: a reset for an address
/// the mailer refuses answers like an unknown one (never 500), sign-up refuses it
/// naming the field, the NFC, NFD and punycode spellings of a domain are one account,
/// and a Cyrillic look-alike is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_are_checked_by_the_mailer_and_spelled_one_way() {
    let app = TestApp::spawn().await;
    let (unknown, unknown_body) = forgot(&app, "nobody@example.test", "192.0.2.1").await;
    let (script, script_body) = forgot(&app, "<script>x@example.com", "192.0.2.2").await;
    assert_eq!(
        (unknown, script),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(unknown_body, script_body);

    let (status, problem) = register(&app, "<script>x@example.com").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "email", "{problem}");

    let nfc = "anna@b\u{fc}cher.example";
    let nfd = "anna@bu\u{308}cher.example";
    let punycode = "anna@xn--bcher-kva.example";
    let (status, created) = register(&app, nfc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"]["email"], punycode, "stored as A-labels");
    for other in [nfd, punycode, "Anna@B\u{dc}CHER.example"] {
        let (status, problem) = register(&app, other).await;
        assert_eq!(status, StatusCode::CONFLICT, "{other}: {problem}");
    }
    for spelling in [nfc, nfd, punycode] {
        assert_eq!(
            login_from(&app, spelling, PASSWORD, "192.0.2.50").await,
            StatusCode::OK,
            "{spelling}"
        );
    }

    // Cyrillic а (U+0430) in "example": refused, naming the field.
    let (status, problem) = register(&app, "anna@ex\u{430}mple.com").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "email");
}

// ------------------------------------------------------------------------- item 9

/// A reset link issued before a password change, a deactivation or a role change no
/// longer works after it; a reset asked for a deactivated account sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_links_die_with_password_role_and_status_changes() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let owner = app.register("Reset Links Ltd").await;
    let member = app.add_user(&owner, "member").await;
    let mut mails = 0;
    let mut link_for = async |email: &str| {
        let (status, _) = forgot(&app, email, "192.0.2.77").await;
        assert_eq!(status, StatusCode::ACCEPTED);
        mails += 1;
        reset_token_from(&app.mail_when(mails).await)
    };

    // Password change.
    let token = link_for(&owner.email).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/users/me/password",
            Some(&owner.access),
            Some(json!({ "current_password": PASSWORD, "new_password": "a changed long passphrase" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        reset(&app, &token, "a hijacked passphrase").await,
        StatusCode::UNAUTHORIZED
    );
    let owner = app.login(&owner.email, "a changed long passphrase").await;

    // Role change.
    let token = link_for(&member.email).await;
    let path = format!("/api/v1/tenants/me/users/{}", member.user_id);
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.access),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        reset(&app, &token, "a hijacked passphrase").await,
        StatusCode::UNAUTHORIZED
    );

    // Deactivation: the open link dies, and a new request sends nothing.
    let token = link_for(&member.email).await;
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.access),
            Some(json!({ "is_active": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        reset(&app, &token, "a hijacked passphrase").await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = forgot(&app, &member.email, "192.0.2.78").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.mail_count(), mails, "no mail for a deactivated account");
}
