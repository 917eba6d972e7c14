//! The public intake page of data-subject requests against the real binary on
//! PostgreSQL: the form in English and German, the answers to bad, oversized, bot and
//! unknown-tenant submissions, the rate limits, and the mailed link that confirms exactly
//! once, opening a web-form request received at the confirmation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::{Account, TestApp};

/// A tenant with its page on, in `language`; answers its owner and slug.
async fn intake_tenant(app: &TestApp, language: &str) -> (Account, String) {
    let owner = app.register("Intake Test GmbH").await;
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/v1/tenants/me",
            Some(&owner.access),
            Some(json!({ "settings": {
                "requests_intake_enabled": true,
                "requests_intake_language": language,
                "privacy_contact": "privacy@intake.test",
            }})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, tenant) = app.get("/api/v1/tenants/me", &owner.access).await;
    (owner, tenant["slug"].as_str().unwrap().to_owned())
}

struct Page {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

async fn page(app: &TestApp, method: Method, path: &str, form: Option<&str>, from: &str) -> Page {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("x-forwarded-for", from);
    if let Some(form) = form {
        request = request
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned());
    }
    let response = request.send().await.expect("sent");
    Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap_or_default(),
    }
}

async fn get(app: &TestApp, path: &str) -> Page {
    page(app, Method::GET, path, None, "198.51.100.1").await
}

async fn post(app: &TestApp, path: &str, form: &str) -> Page {
    page(app, Method::POST, path, Some(form), "198.51.100.1").await
}

/// A complete submission for `email`.
fn good(email: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("name", "Erika Mustermann")
        .append_pair("email", email)
        .append_pair("category", "customer")
        .append_pair("rights", "access")
        .append_pair("rights", "erasure")
        .append_pair("scope", "Alle Daten zu meinen Bestellungen")
        .finish()
}

fn unique_email() -> String {
    format!("erika-{}@example.test", uuid::Uuid::new_v4().simple())
}

/// The mail files written so far.
fn mails(app: &TestApp) -> Vec<String> {
    std::fs::read_dir(app.mail_dir())
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The confirmation link mailed to `email` (the background sender may take a moment).
async fn mailed_link(app: &TestApp, email: &str) -> String {
    for _ in 0..100 {
        if let Some(mail) = mails(app).into_iter().find(|m| m.contains(email)) {
            let start = mail.find("/public/").expect("a link in the mail");
            let end = mail[start..]
                .find(|c: char| c.is_whitespace() || c == '<' || c == '"')
                .map_or(mail.len(), |n| start + n);
            return mail[start..end].to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {email} within 5 s");
}

async fn requests(app: &TestApp, owner: &Account) -> Vec<Value> {
    let (status, body) = app
        .get("/api/v1/data-subject-requests", &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_form_is_served_in_the_tenants_language_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let (_, slug) = intake_tenant(&app, "de").await;
    let de = get(&app, &format!("/public/{slug}/requests/new")).await;
    assert_eq!(de.status, StatusCode::OK);
    assert!(de.body.contains("<html lang=\"de\">"));
    assert!(de.body.contains("Anfrage senden") && de.body.contains("privacy@intake.test"));
    assert_eq!(
        de.headers[header::CONTENT_TYPE].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let csp = de.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    for rule in [
        "default-src 'none'",
        "style-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert!(!csp.contains("script-src"), "no script at all: {csp}");
    assert_eq!(de.headers[header::X_FRAME_OPTIONS], "DENY");
    let en = get(&app, &format!("/public/{slug}/requests/new?lang=en")).await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Send request"));
    let css = get(&app, "/public/assets/intake.css").await;
    assert_eq!(css.status, StatusCode::OK);
    // A tenant without the page, and no tenant at all: no form.
    let other = app.register("No Intake GmbH").await;
    let (_, tenant) = app.get("/api/v1/tenants/me", &other.access).await;
    let closed = get(
        &app,
        &format!("/public/{}/requests/new", tenant["slug"].as_str().unwrap()),
    )
    .await;
    assert_eq!(closed.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/public/nobody-here/requests/new").await.status,
        StatusCode::NOT_FOUND
    );
    // Not part of the JSON API's document.
    let (_, document) = app.call(Method::GET, "/openapi.json", None, None).await;
    let paths = document["paths"].as_object().unwrap();
    assert!(
        paths.keys().all(|p| !p.starts_with("/public/")),
        "HTML pages stay out"
    );
}

#[tokio::test]
async fn bad_oversized_bot_and_unknown_submissions_get_pages_never_a_500() {
    let app = TestApp::spawn().await;
    let (owner, slug) = intake_tenant(&app, "en").await;
    let path = format!("/public/{slug}/requests");

    let bad = post(&app, &path, "name=Max&email=not-an-address&rights=fly").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for named in [
        "href=\"#field-email\"",
        "href=\"#field-category\"",
        "href=\"#right-access\"",
    ] {
        assert!(bad.body.contains(named), "{named}");
    }

    let huge = format!("{}&scope={}", good(&unique_email()), "x".repeat(40 * 1024));
    let oversized = post(&app, &path, &huge).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(oversized.body.contains("too long"));

    let mails_before = mails(&app).len();
    let bot = post(
        &app,
        &path,
        &format!("{}&website=spam", good(&unique_email())),
    )
    .await;
    assert_eq!(bot.status, StatusCode::OK);
    let unknown = post(&app, "/public/nobody-here/requests", &good(&unique_email())).await;
    assert_eq!(unknown.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        mails(&app).len(),
        mails_before,
        "neither the bot nor the unknown slug got mail"
    );

    let person = unique_email();
    let known = post(&app, &path, &good(&person)).await;
    assert_eq!(known.status, StatusCode::OK);
    mailed_link(&app, &person).await;
    // The same page whatever happened behind it (only the organisation's name, which its
    // form shows anyway, is missing where no tenant was found).
    let strip = |body: &str| {
        body.lines()
            .filter(|l| !l.contains("class=\"organisation\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&bot.body), strip(&known.body));
    assert_eq!(strip(&unknown.body), strip(&known.body));
    assert!(
        requests(&app, &owner).await.is_empty(),
        "nothing is a request before confirming"
    );
}

#[tokio::test]
async fn flooding_gets_429_per_tenant_and_per_address() {
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_INTAKE_PER_MINUTE", "2"),
        ("RATE_LIMIT_AUTH_PER_MINUTE", "4"),
    ])
    .await;
    let (_, slug) = intake_tenant(&app, "en").await;
    let path = format!("/public/{slug}/requests");
    // Per tenant: each submission from another address; the third is refused.
    let mut statuses = Vec::new();
    for n in 0..3 {
        let from = format!("203.0.113.{}", n + 10);
        statuses.push(
            page(
                &app,
                Method::POST,
                &path,
                Some(&good(&unique_email())),
                &from,
            )
            .await,
        );
    }
    assert_eq!(statuses[0].status, StatusCode::OK);
    assert_eq!(statuses[1].status, StatusCode::OK);
    let refused = &statuses[2];
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    let retry: u64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert!(refused.body.contains("Too many requests"));
    // Per address, whatever the slug: four a minute, the fifth refused.
    let from = "192.0.2.77";
    for n in 0..4 {
        let answer = page(
            &app,
            Method::POST,
            "/public/nobody-here/requests",
            Some(&good(&unique_email())),
            from,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "attempt {n}");
    }
    let flooded = page(
        &app,
        Method::POST,
        "/public/nobody-here/requests",
        Some(&good(&unique_email())),
        from,
    )
    .await;
    assert_eq!(flooded.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(flooded.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn the_mailed_link_confirms_once_into_a_web_form_request_received_then() {
    let app = TestApp::spawn().await;
    let (owner, slug) = intake_tenant(&app, "en").await;
    let (other_owner, other_slug) = intake_tenant(&app, "en").await;
    let person = unique_email();
    let sent = post(&app, &format!("/public/{slug}/requests"), &good(&person)).await;
    assert_eq!(sent.status, StatusCode::OK);
    let link = mailed_link(&app, &person).await;
    assert!(
        link.starts_with(&format!("/public/{slug}/requests/confirm/")),
        "{link}"
    );

    // Opening the link shows the button and changes nothing.
    let opened = get(&app, &link).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.body.contains("Confirm my request"));
    assert!(requests(&app, &owner).await.is_empty());

    // Another tenant's page with this token: the neutral 404, and the token still works.
    let foreign = post(
        &app,
        &link.replace(&format!("/{slug}/"), &format!("/{other_slug}/")),
        "",
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(requests(&app, &other_owner).await.is_empty());

    let before = time::OffsetDateTime::now_utc();
    let confirmed = post(&app, &link, "").await;
    let after = time::OffsetDateTime::now_utc();
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(confirmed.body.contains("Request received"));
    let listed = requests(&app, &owner).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let request = &listed[0];
    assert_eq!(request["channel"], "web_form");
    let reference = request["reference"].as_str().unwrap();
    assert!(
        confirmed.body.contains(reference),
        "the page shows the reference"
    );
    let due = request["due_on"].as_str().unwrap();
    assert!(
        confirmed.body.contains(&format!("datetime=\"{due}\"")),
        "and the due date"
    );
    let received = time::OffsetDateTime::parse(
        request["received_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let slack = time::Duration::seconds(1);
    assert!(
        received >= before - slack && received <= after + slack,
        "received at the confirmation"
    );

    // Used once: the same neutral page as a foreign or guessed token.
    let again = post(&app, &link, "").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body, foreign.body);
    let guessed = post(
        &app,
        &format!("/public/{slug}/requests/confirm/{}", "A".repeat(43)),
        "",
    )
    .await;
    assert_eq!(guessed.body, foreign.body);
    assert_eq!(requests(&app, &owner).await.len(), 1);
}
