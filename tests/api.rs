//! The real binary on PostgreSQL: system routes, sign-up to audit trail, user management.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{PASSWORD, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_routes_answer() {
    let app = TestApp::spawn().await;
    for (path, status) in [
        ("/health", StatusCode::OK),
        ("/ready", StatusCode::OK),
        ("/api/v1/system/info", StatusCode::OK),
        ("/.well-known/jwks.json", StatusCode::OK),
        ("/openapi.json", StatusCode::OK),
        ("/docs/", StatusCode::OK),
        ("/nowhere", StatusCode::NOT_FOUND),
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert!(response.headers().contains_key("x-request-id"), "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        // Every answer has a policy; the docs page's lets it load only its own assets.
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(policy.starts_with("default-src 'none'"), "{path}: {policy}");
        if path == "/docs/" {
            assert!(policy.contains("script-src 'self'"), "{policy}");
            assert!(!policy.contains("http"), "{policy}");
        }
    }
    let (_, info) = app
        .call(Method::GET, "/api/v1/system/info", None, None)
        .await;
    assert_eq!(info["storage"], "postgres");
    let response = app
        .http
        .request(Method::TRACE, format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    let response = app
        .http
        .request(
            Method::PUT,
            format!(
                "{}/api/v1/tenants/me/users/{}",
                app.base,
                uuid::Uuid::now_v7()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD, DELETE, PATCH");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    // A client's request id is echoed and appears in error bodies.
    let response = app
        .http
        .get(format!("{}/nowhere", app.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["request_id"], "trace-me-123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_is_run_through_the_api_and_audited() {
    let app = TestApp::spawn().await;
    let owner = app.register("Audit Trail GmbH").await;
    let (_, tenant) = app.get("/api/v1/tenants/me", &owner.access).await;
    assert_eq!(tenant["slug"], "audit-trail-gmbh");

    let (status, tenant) = app
        .call(
            Method::PATCH,
            "/api/v1/tenants/me",
            Some(&owner.access),
            Some(json!({ "name": "Audit Trail AG", "settings": { "language": "de" } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tenant}");
    assert_eq!(tenant["settings"]["language"], "de");

    let viewer = app.add_user(&owner, "viewer").await;
    let (status, _) = app
        .call(
            Method::PATCH,
            "/api/v1/tenants/me",
            Some(&viewer.access),
            Some(json!({ "name": "Viewer Was Here" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An invited user (no password) gets a mail with a link to set one.
    let (status, invited) = app
        .call(
            Method::POST,
            "/api/v1/tenants/me/users",
            Some(&owner.access),
            Some(json!({ "email": "invitee@example.test", "full_name": "In Vitee", "role": "member" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(invited["password_pending"], true);
    assert!(app.mail_when(1).await.contains("token="));

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!(
                "/api/v1/tenants/me/users/{}",
                invited["id"].as_str().unwrap()
            ),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The trail has every step, newest first, paginated, and its chain verifies.
    let (_, page) = app.get("/api/v1/audit-events?limit=3", &owner.access).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(page["items"][0]["action"], "user.deleted");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, next) = app
        .get(
            &format!("/api/v1/audit-events?limit=100&cursor={cursor}"),
            &owner.access,
        )
        .await;
    let actions: Vec<&str> = next["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "tenant.created",
        "user.created",
        "user.login_succeeded",
        "tenant.updated",
        "auth.permission_denied",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let (_, updated) = app
        .get("/api/v1/audit-events?action=tenant.updated", &owner.access)
        .await;
    assert_eq!(
        updated["items"][0]["changes"]["name"],
        json!({ "before": "Audit Trail GmbH", "after": "Audit Trail AG" })
    );
    let (_, chain) = app.get("/api/v1/audit-events/verify", &owner.access).await;
    assert_eq!(chain["valid"], true, "{chain}");
    assert!(chain["events_checked"].as_u64().unwrap() >= 8);

    // Viewers cannot read the trail.
    assert_eq!(
        app.get("/api/v1/audit-events", &viewer.access).await.0,
        StatusCode::FORBIDDEN
    );

    // Password change: needs the current one, ends old sessions, returns a new pair.
    let (status, pair) = app
        .call(
            Method::POST,
            "/api/v1/users/me/password",
            Some(&viewer.access),
            Some(json!({ "current_password": PASSWORD, "new_password": "viewer's brand new phrase" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(
        app.get("/api/v1/users/me", &viewer.access).await.0,
        StatusCode::UNAUTHORIZED
    );
    let new_access = pair["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/users/me", new_access).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_can_be_switched_off() {
    let app = TestApp::spawn_with(&[("SIGNUP_ENABLED", "false")]).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({
                "organisation_name": "Closed Ltd",
                "email": "closed@example.test",
                "full_name": "Closed",
                "password": PASSWORD,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "registration_disabled");
}
