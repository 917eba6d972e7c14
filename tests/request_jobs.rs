//! Data-subject requests' jobs and export against the real binary on PostgreSQL: a due
//! reminder is written as a mail file (`MAIL_TRANSPORT=file`) naming the request's
//! reference and not the person; the register's export in JSON and CSV carries dates,
//! rights and outcome, and nothing of the person.
//!
//! The binary runs on the wall clock, so the reminder test sets the reminders' time of
//! day to the coming minute and offsets of 0 to 6 days: whatever weekday the request falls
//! due on, one of its reminders is due at that minute. It waits for the file (at most
//! two minutes), polling.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};
use time::{
    Date, Duration as Span, Month, OffsetDateTime, format_description::well_known::Rfc3339,
};

const NAME: &str = "Erika Mustermann";
const EMAIL: &str = "erika.mustermann@example.test";

async fn create(
    app: &TestApp,
    member: &Account,
    received: OffsetDateTime,
    assignee: Option<&str>,
) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/data-subject-requests",
            Some(&member.access),
            Some(json!({
                "received_at": received.format(&Rfc3339).unwrap(),
                "channel": "email",
                "subject": {"name": NAME, "email": EMAIL, "contact": "Musterweg 1",
                            "category": "customer"},
                "rights": ["access", "erasure"],
                "scope": "All data about my customer account",
                "assignee_id": assignee,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Text of every mail file in the directory.
fn mails(app: &TestApp) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(app.mail_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}

/// A receipt whose request falls due on `day` or, past a weekend, a day or two later
/// (never before it): the same date a month earlier, or the 1st of `day`'s month when
/// that date does not exist (31 March: due 1 April).
fn a_month_before(day: Date) -> Date {
    let (year, month) = match day.month() {
        Month::January => (day.year() - 1, Month::December),
        other => (day.year(), other.previous()),
    };
    Date::from_calendar_date(year, month, day.day()).unwrap_or_else(|_| day.replace_day(1).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_reminder_is_written_as_a_mail_naming_the_reference_not_the_person() {
    // The coming minute, at least 40 s ahead (start-up and set-up come first).
    let now = OffsetDateTime::now_utc();
    let send = now + Span::seconds(100);
    let send_time = format!("{:02}:{:02}", send.hour(), send.minute());
    let app = TestApp::spawn_with(&[
        ("REMINDER_SEND_TIME_UTC", send_time.as_str()),
        ("REMINDER_OFFSETS_DAYS", "0,1,2,3,4,5,6"),
        ("WORKER_POLL_MS", "200"),
        ("REQUEST_URL", "https://aura.test/requests/{id}"),
    ])
    .await;
    let owner = app.register("Reminder Works").await;
    let member = app.add_user(&owner, "member").await;
    let before = mails(&app).len();
    let received = a_month_before(send.date() + Span::days(1))
        .with_hms(0, 30, 0)
        .unwrap()
        .assume_utc();
    let request = create(&app, &member, received, Some(&member.user_id)).await;
    let reference = request["reference"].as_str().unwrap().to_owned();
    let due = request["due_on"].as_str().unwrap().to_owned();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    let reminder = loop {
        let found = mails(&app)
            .into_iter()
            .find(|m| m.contains(&format!("data-subject request {reference}")));
        if let Some(mail) = found {
            break mail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reminder for {reference} (due {due}, sent at {send_time}); {} mails",
            mails(&app).len() - before
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        reminder.contains(&member.email),
        "to the assignee: {reminder}"
    );
    // The text is readable here (the assignee's name and the due date are in it) ...
    assert!(reminder.contains("A member"), "{reminder}");
    assert!(reminder.contains(&due), "{reminder}");
    assert!(
        reminder.contains("https://aura.test/requests/"),
        "{reminder}"
    );
    // ... and the person is not.
    for personal in [NAME, "Mustermann", EMAIL, "Musterweg", "customer account"] {
        assert!(
            !reminder.contains(personal),
            "{personal} in the mail: {reminder}"
        );
    }
}

async fn export(app: &TestApp, who: &Account, query: &str) -> reqwest::Response {
    app.http
        .get(format!(
            "{}/api/v1/data-subject-requests/export{query}",
            app.base
        ))
        .bearer_auth(&who.access)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_lists_a_periods_requests_in_json_and_csv_without_the_person() {
    let app = TestApp::spawn_with(&[("WORKER_ENABLED", "false")]).await;
    let owner = app.register("Export Works").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;
    let at = |raw: &str| OffsetDateTime::parse(raw, &Rfc3339).unwrap();
    let first = create(&app, &member, at("2026-01-05T10:00:00Z"), None).await;
    let second = create(&app, &member, at("2026-02-03T10:00:00Z"), None).await;
    create(&app, &member, at("2026-03-02T10:00:00Z"), None).await;
    // The first one answered on time.
    let id = first["id"].as_str().unwrap();
    let response = app
        .http
        .post(format!(
            "{}/api/v1/data-subject-requests/{id}/answer",
            app.base
        ))
        .bearer_auth(&member.access)
        .header("If-Match", "\"1\"")
        .json(&json!({"outcome": "fulfilled", "answered_on": "2026-01-20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // JSON, as a viewer: January and February only.
    let response = export(&app, &viewer, "?from=2026-01-01&to=2026-02-28").await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"dsr-register-")
            && disposition.ends_with(".json\""),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let rows = body["requests"].as_array().unwrap();
    let references: Vec<&str> = rows
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        references,
        [
            first["reference"].as_str().unwrap(),
            second["reference"].as_str().unwrap()
        ]
    );
    assert_eq!(rows[0]["timeliness"], "on_time");
    assert_eq!(rows[0]["outcome"], "fulfilled");
    assert_eq!(rows[0]["answered_on"], "2026-01-20");
    assert_eq!(rows[0]["first_due_on"], "2026-02-05");
    assert_eq!(rows[0]["extended_due_on"], Value::Null);
    assert_eq!(rows[0]["rights"], json!(["access", "erasure"]));
    assert_eq!(rows[1]["timeliness"], "overdue");
    assert_eq!(rows[1]["status"], "received");
    for personal in [NAME, "Mustermann", EMAIL, "Musterweg", "customer account"] {
        assert!(!text.contains(personal), "{personal} in the export");
    }

    // CSV: a header and one row per request of the whole register.
    let response = export(&app, &viewer, "?format=csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(
        lines[0].trim_start_matches('\u{feff}'),
        "reference,received_at,channel,rights,status,first_due_on,extended_due_on,answered_on,timeliness,outcome,closed_at"
    );
    assert!(
        lines[1].contains("2026-01-05T10:00:00Z,email,\"access; erasure\",answered,2026-02-05,,2026-01-20,on_time,fulfilled,"),
        "{}",
        lines[1]
    );
    for personal in [NAME, EMAIL, "Musterweg"] {
        assert!(!csv.contains(personal), "{personal} in the CSV");
    }

    // Bad parameters are named.
    let (status, problem) = app
        .get(
            "/api/v1/data-subject-requests/export?format=xml",
            &viewer.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (status, problem) = app
        .get(
            "/api/v1/data-subject-requests/export?from=2026-03-01&to=2026-02-01",
            &viewer.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (status, _) = app
        .get(
            "/api/v1/data-subject-requests/export?from=someday",
            &viewer.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
