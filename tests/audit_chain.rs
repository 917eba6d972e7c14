//! The audit chain on the real binary, attacked where it lives: values PostgreSQL's jsonb
//! would normalise (`{"x": -0.0}` in the tenant settings), events removed by a database
//! superuser together with the chain head (found only against a checkpoint published
//! before), the erasure of a user's personal values (the chain still verifies), and the
//! owners' checkpoint mail sent by the worker.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

async fn verify(app: &TestApp, owner: &Account) -> Value {
    let (status, report) = app.get("/api/v1/audit-events/verify", &owner.access).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

async fn verify_against(app: &TestApp, owner: &Account, checkpoints: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/audit-events/verify",
        Some(&owner.access),
        Some(json!({ "checkpoints": checkpoints })),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_jsonb_normalises_do_not_break_the_chain() {
    let app = TestApp::spawn().await;
    let owner = app.register("Minus Zero GmbH").await;
    for settings in [
        json!({"x": -0.0}),
        json!({"x": 12_345_678_901_234_567_890_u64, "y": 1e300, "z": 1.10}),
        json!({"b": "\u{2028}\\\"\u{1}é😀", "a": {"z": [], "a": null}}),
    ] {
        let (status, body) = app
            .call(
                Method::PATCH,
                "/api/v1/tenants/me",
                Some(&owner.access),
                Some(json!({ "settings": settings })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let report = verify(&app, &owner).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["broken_count"], 0);
    assert_eq!(report["unkeyed_links"], 0);
}

/// The tenant's newest events from `keep + 1` on removed, and the head moved back to
/// `keep`, as a superuser: the database alone then looks whole.
async fn truncate_as_superuser(app: &TestApp, tenant: &str, keep: i64) {
    let sql = format!(
        "WITH gone AS (DELETE FROM audit_events WHERE tenant_id = '{tenant}' AND seq > {keep} RETURNING 1), \
         moved AS (UPDATE audit_chain_heads h SET seq = e.seq, hash = e.hash FROM audit_events e \
                   WHERE h.tenant_id = e.tenant_id AND e.tenant_id = '{tenant}' AND e.seq = {keep} RETURNING 1) \
         SELECT (SELECT count(*) FROM gone)::text || '/' || (SELECT count(*) FROM moved)::text AS text"
    );
    let done = app.db.superuser_texts(&sql).await;
    assert!(done[0].ends_with("/1"), "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_removed_with_the_head_moved_back_fall_short_of_the_checkpoint() {
    let app = TestApp::spawn().await;
    let owner = app.register("Checkpoint AG").await;
    for name in ["Checkpoint AG 2", "Checkpoint AG 3"] {
        let (status, body) = app
            .call(
                Method::PATCH,
                "/api/v1/tenants/me",
                Some(&owner.access),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let report = verify(&app, &owner).await;
    assert_eq!(report["valid"], true, "{report}");
    let checkpoint = report["checkpoint"].clone();
    let seq = checkpoint["seq"].as_i64().expect("a signed checkpoint");
    assert_eq!(checkpoint["tenant_id"], json!(owner.tenant_id));
    assert_eq!(checkpoint["hash"], report["head"]);
    let (status, intact) = verify_against(&app, &owner, json!([checkpoint])).await;
    assert_eq!(status, StatusCode::OK, "{intact}");
    assert_eq!(intact["valid"], true, "{intact}");
    assert_eq!(intact["checkpoints_checked"], 1);

    // The two renames removed, the head moved back: the database alone looks whole.
    truncate_as_superuser(&app, &owner.tenant_id, seq - 2).await;
    let report = verify(&app, &owner).await;
    assert_eq!(report["valid"], true, "without the checkpoint: {report}");
    let (status, report) = verify_against(&app, &owner, json!([checkpoint])).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["broken_links"][0]["seq"], seq);
    assert!(
        report["broken_links"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("ends before a checkpoint"),
        "{report}"
    );
    assert_eq!(report["checkpoint"], Value::Null);

    // A checkpoint moved back with it needs the key to be signed.
    let mut forged = checkpoint.clone();
    forged["seq"] = json!(seq - 2);
    forged["hash"] = json!("ab".repeat(32));
    let (_, report) = verify_against(&app, &owner, json!([forged])).await;
    assert_eq!(report["valid"], false);
    assert!(
        report["broken_links"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
    // Another tenant's checkpoint says nothing about this chain.
    let other = app.register("Other GmbH").await;
    let (_, report) = verify_against(&app, &other, json!([checkpoint])).await;
    assert_eq!(report["valid"], false, "{report}");

    // Bad checkpoints are the client's fault, named by field.
    let mut bad = checkpoint.clone();
    bad["hash"] = json!("not hex");
    let (status, problem) = verify_against(&app, &owner, json!([checkpoint, bad])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem.to_string().contains("checkpoints[1].hash"),
        "{problem}"
    );
    let many: Vec<Value> = (0..101).map(|_| checkpoint.clone()).collect();
    let (status, problem) = verify_against(&app, &owner, json!(many)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_users_personal_values_are_gone_and_the_chain_still_verifies() {
    let app = TestApp::spawn().await;
    let owner = app.register("Erasure GmbH").await;
    let admin = app.add_user(&owner, "admin").await;
    let member = app.add_user(&owner, "member").await;
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&member.access),
            Some(json!({ "full_name": "Erika Mustermann" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, events) = app
        .get(
            &format!("/api/v1/audit-events?actor={}", member.user_id),
            &owner.access,
        )
        .await;
    let renamed = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.updated")
        .expect("the rename")
        .clone();
    assert_eq!(renamed["changes"]["full_name"]["after"], "Erika Mustermann");
    assert_eq!(renamed["ip"], "127.0.0.1");
    assert_eq!(renamed["chain_version"], 2);
    let name_in_chain = "SELECT count(*)::text AS text FROM audit_events \
                         WHERE changes LIKE '%Erika%' OR ip IS NOT NULL";
    assert_eq!(
        app.db.superuser_texts(name_in_chain).await,
        ["0"],
        "kept beside the chain, not in it"
    );

    let (status, _) = erase(&app, &admin, json!({ "user_id": member.user_id })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "owners only");
    let (status, problem) = erase(&app, &owner, json!({ "user_id": "nobody" })).await;
    assert!(status.is_client_error(), "{status} {problem}");
    let (status, erased) = erase(&app, &owner, json!({ "user_id": member.user_id })).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert!(erased["events"].as_u64().unwrap() >= 2, "{erased}");

    let personal = "SELECT count(*)::text AS text FROM audit_events \
                    WHERE personal LIKE '%Erika%' OR personal_salt IS NOT NULL AND actor_id = '";
    let personal = format!("{personal}{}'", member.user_id);
    assert_eq!(app.db.superuser_texts(&personal).await, ["0"]);
    let (_, events) = app
        .get(
            &format!("/api/v1/audit-events?actor={}", member.user_id),
            &owner.access,
        )
        .await;
    for event in events["items"].as_array().unwrap() {
        assert_eq!(event["ip"], Value::Null, "{event}");
        assert!(!event.to_string().contains("Erika"), "{event}");
    }
    let report = verify(&app, &owner).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["shredded"], erased["events"]);
    // The owner's own events keep their values.
    let (_, mine) = app
        .get(
            &format!("/api/v1/audit-events?actor={}", owner.user_id),
            &owner.access,
        )
        .await;
    assert_eq!(mine["items"][0]["ip"], "127.0.0.1", "{mine}");
}

async fn erase(app: &TestApp, who: &Account, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/audit-events/erasures",
        Some(&who.access),
        Some(body),
    )
    .await
}

/// A mail file's text with quoted-printable soft breaks and escapes undone.
fn decoded(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let mut out = String::new();
    let mut rest = joined.as_str();
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        match u8::from_str_radix(rest.get(at + 1..at + 3).unwrap_or(""), 16) {
            Ok(byte) => {
                out.push(byte as char);
                rest = &rest[at + 3..];
            }
            Err(_) => {
                out.push('=');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_mails_the_owners_a_checkpoint_that_verifies() {
    let app = TestApp::spawn_with(&[
        ("AUDIT_CHECKPOINT_MAIL_DAYS", "1"),
        ("WORKER_POLL_MS", "100"),
    ])
    .await;
    let owner = app.register("Mailed Checkpoint SE").await;
    // A worker schedules the day's jobs on its first pass: a second instance started
    // now schedules the new tenant's upkeep (either instance may send the mail).
    let sibling = app
        .spawn_sibling(&[
            ("AUDIT_CHECKPOINT_MAIL_DAYS", "1"),
            ("WORKER_POLL_MS", "100"),
        ])
        .await;
    let mut checkpoint = None;
    for _ in 0..300 {
        let mails: Vec<_> = [app.mail_dir(), sibling.mail_dir()]
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flat_map(|dir| dir.filter_map(Result::ok).map(|e| e.path()))
            .collect();
        for path in mails {
            let text = decoded(&std::fs::read_to_string(&path).unwrap_or_default());
            if text.contains("Audit trail checkpoint") && text.contains(&owner.email) {
                let start = text
                    .find("{\"checkpoints\"")
                    .expect("the checkpoint in the mail");
                let json: Value = serde_json::Deserializer::from_str(&text[start..])
                    .into_iter::<Value>()
                    .next()
                    .expect("json")
                    .expect("valid json");
                checkpoint = Some(json);
            }
        }
        if checkpoint.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = checkpoint.expect("the owner got the checkpoint mail");
    assert_eq!(body["checkpoints"][0]["tenant_id"], json!(owner.tenant_id));
    let (status, report) = verify_against(&app, &owner, body["checkpoints"].clone()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["checkpoints_checked"], 1);
}
