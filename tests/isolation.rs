//! Cross-tenant isolation against the real binary on PostgreSQL: with a token of one
//! tenant, every route and verb with another tenant's ids answers 404 (or reveals nothing),
//! no list shows a foreign row, and nothing of the other tenants changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

struct Tenant {
    owner: Account,
    members: Vec<Account>,
}

impl Tenant {
    fn accounts(&self) -> impl Iterator<Item = &Account> {
        std::iter::once(&self.owner).chain(&self.members)
    }
}

async fn snapshot(app: &TestApp, tenant: &Tenant) -> Value {
    let (status, users) = app
        .get("/api/v1/tenants/me/users?limit=100", &tenant.owner.access)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, profile) = app.get("/api/v1/tenants/me", &tenant.owner.access).await;
    let mut users = users["items"].clone();
    // last_login_at moves as the probes sign in; everything else must stay.
    for user in users.as_array_mut().unwrap() {
        user.as_object_mut().unwrap().remove("last_login_at");
    }
    json!({ "users": users, "tenant": profile })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_or_verb_reaches_another_tenant() {
    let app = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["Alpha GmbH", "Beta AG", "Gamma SARL"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        tenants.push(Tenant { owner, members });
    }
    let before: Vec<Value> = futures_snapshot(&app, &tenants).await;

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, attacker) in tenants.iter().enumerate() {
        for (j, victim) in tenants.iter().enumerate() {
            if i == j {
                continue;
            }
            for target in victim.accounts() {
                let path = format!("/api/v1/tenants/me/users/{}", target.user_id);
                for caller in attacker.accounts() {
                    let attempts = [
                        (Method::GET, None),
                        (
                            Method::PATCH,
                            Some(json!({ "full_name": "Pwned", "role": "viewer" })),
                        ),
                        (Method::PATCH, Some(json!({ "is_active": false }))),
                        (Method::DELETE, None),
                    ];
                    for (method, body) in attempts {
                        let (status, response) = app
                            .call(method.clone(), &path, Some(&caller.access), body)
                            .await;
                        probes += 1;
                        // 403 is fine for roles that may not act at all: it says nothing
                        // about the target. Anything else than 404/403 is a leak.
                        if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
                            leaks.push(format!("{method} {path} → {status} {response}"));
                        }
                        if response.to_string().contains(&target.email) {
                            leaks.push(format!("{method} {path} revealed the target"));
                        }
                    }
                }
                // Audit filters with foreign ids find nothing.
                for query in [
                    format!("actor={}", target.user_id),
                    format!("entity_id={}", target.user_id),
                ] {
                    let (status, page) = app
                        .get(
                            &format!("/api/v1/audit-events?{query}"),
                            &attacker.owner.access,
                        )
                        .await;
                    probes += 1;
                    if status != StatusCode::OK || !page["items"].as_array().unwrap().is_empty() {
                        leaks.push(format!("audit ?{query} → {status} {page}"));
                    }
                }
            }
            // A header naming the victim's tenant changes nothing.
            let response = app
                .http
                .get(format!("{}/api/v1/tenants/me", app.base))
                .bearer_auth(&attacker.owner.access)
                .header("X-Tenant-Id", &victim.owner.tenant_id)
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            probes += 1;
            if body["id"] != json!(attacker.owner.tenant_id) {
                leaks.push(format!("X-Tenant-Id switched the tenant: {body}"));
            }
        }
        // Every list holds only the caller's own rows.
        for caller in attacker.accounts() {
            let (_, users) = app
                .get("/api/v1/tenants/me/users?limit=100", &caller.access)
                .await;
            probes += 1;
            for user in users["items"].as_array().into_iter().flatten() {
                if user["tenant_id"] != json!(attacker.owner.tenant_id) {
                    leaks.push(format!("foreign user listed: {user}"));
                }
            }
        }
        let (_, events) = app
            .get("/api/v1/audit-events?limit=100", &attacker.owner.access)
            .await;
        probes += 1;
        let own_ids: Vec<&str> = attacker.accounts().map(|a| a.user_id.as_str()).collect();
        for event in events["items"].as_array().unwrap() {
            if let Some(actor) = event["actor_id"].as_str()
                && !own_ids.contains(&actor)
            {
                leaks.push(format!("foreign audit event listed: {event}"));
            }
        }
    }

    let after = futures_snapshot(&app, &tenants).await;
    assert_eq!(before, after, "a tenant changed under cross-tenant probes");
    for tenant in &tenants {
        let (_, chain) = app
            .get("/api/v1/audit-events/verify", &tenant.owner.access)
            .await;
        assert_eq!(chain["valid"], json!(true), "{chain}");
    }
    println!("{probes} probes, {} leaks", leaks.len());
    assert!(probes >= 100, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

async fn futures_snapshot(app: &TestApp, tenants: &[Tenant]) -> Vec<Value> {
    let mut out = Vec::new();
    for tenant in tenants {
        out.push(snapshot(app, tenant).await);
    }
    out
}
