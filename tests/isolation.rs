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

/// Sends with an optional If-Match; status and body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

struct Records {
    activity: String,
    processor: String,
    policy: String,
    marker: String,
}

async fn make_records(app: &TestApp, owner: &Account) -> Records {
    let marker = format!("secret-{}", uuid::Uuid::new_v4().simple());
    let (_, processor) = send(
        app,
        Method::POST,
        "/api/v1/processors",
        &owner.access,
        None,
        Some(json!({"name": format!("{marker} processor"), "country": "US"})),
    )
    .await;
    let processor = processor["id"].as_str().unwrap().to_owned();
    let (status, activity) = send(
        app,
        Method::POST,
        "/api/v1/processing-activities",
        &owner.access,
        None,
        Some(json!({"name": format!("{marker} activity"), "processor_ids": [processor]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{activity}");
    let (status, screening) = send(
        app,
        Method::PUT,
        &format!(
            "/api/v1/processing-activities/{}/dpia-screening",
            activity["id"].as_str().unwrap()
        ),
        &owner.access,
        Some("\"0\""),
        Some(json!({"large_scale": true, "notes": format!("{marker} screening")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{screening}");
    let (_, policy) = send(
        app,
        Method::POST,
        "/api/v1/policies",
        &owner.access,
        None,
        Some(json!({"title": format!("{marker} policy"), "kind": "other"})),
    )
    .await;
    let policy = policy["id"].as_str().unwrap().to_owned();
    send(
        app,
        Method::POST,
        &format!("/api/v1/policies/{policy}/versions"),
        &owner.access,
        None,
        Some(json!({"content": format!("{marker} text")})),
    )
    .await;
    send(
        app,
        Method::PUT,
        "/api/v1/organisation",
        &owner.access,
        Some("\"0\""),
        Some(json!({"legal_name": format!("{marker} legal")})),
    )
    .await;
    Records {
        activity: activity["id"].as_str().unwrap().to_owned(),
        processor,
        policy,
        marker,
    }
}

async fn register_snapshot(app: &TestApp, owner: &Account) -> Value {
    let mut all = Vec::new();
    // Each activity's DPIA screening with its answers.
    let (_, activities) = send(
        app,
        Method::GET,
        "/api/v1/processing-activities?limit=100",
        &owner.access,
        None,
        None,
    )
    .await;
    for activity in activities["items"].as_array().unwrap() {
        let path = format!(
            "/api/v1/processing-activities/{}/dpia-screening",
            activity["id"].as_str().unwrap()
        );
        all.push(
            send(app, Method::GET, &path, &owner.access, None, None)
                .await
                .1,
        );
    }
    for path in [
        "/api/v1/processing-activities?limit=100",
        "/api/v1/processors?limit=100",
        "/api/v1/policies?limit=100",
        "/api/v1/organisation",
    ] {
        all.push(
            send(app, Method::GET, path, &owner.access, None, None)
                .await
                .1,
        );
    }
    json!(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_records_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["Delta GmbH", "Epsilon AG"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        let records = make_records(&app, &owner).await;
        tenants.push((Tenant { owner, members }, records));
    }
    let mut before = Vec::new();
    for (tenant, _) in &tenants {
        before.push(register_snapshot(&app, &tenant.owner).await);
    }

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, (attacker, own)) in tenants.iter().enumerate() {
        let (_, victim) = &tenants[1 - i];
        let activity = json!({"name": "hijack", "processor_ids": []});
        let attempts: Vec<Attempt> = vec![
            (
                Method::GET,
                format!("/api/v1/processing-activities/{}", victim.activity),
                None,
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/processing-activities/{}", victim.activity),
                Some("\"1\""),
                Some(activity.clone()),
            ),
            (
                Method::DELETE,
                format!("/api/v1/processing-activities/{}", victim.activity),
                Some("\"1\""),
                None,
            ),
            (
                Method::GET,
                format!(
                    "/api/v1/processing-activities/{}/dpia-screening",
                    victim.activity
                ),
                None,
                None,
            ),
            (
                Method::PUT,
                format!(
                    "/api/v1/processing-activities/{}/dpia-screening",
                    victim.activity
                ),
                Some("\"1\""),
                Some(json!({"large_scale": false})),
            ),
            (
                Method::PUT,
                format!(
                    "/api/v1/processing-activities/{}/dpia-screening",
                    victim.activity
                ),
                Some("\"0\""),
                Some(json!({"large_scale": false})),
            ),
            (
                Method::POST,
                format!(
                    "/api/v1/processing-activities/{}/dpia-screening/accept",
                    victim.activity
                ),
                Some("\"1\""),
                Some(json!({"outcome": "to_assess"})),
            ),
            (
                Method::GET,
                format!("/api/v1/processors/{}", victim.processor),
                None,
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/processors/{}", victim.processor),
                Some("\"1\""),
                Some(json!({"name": "hijack"})),
            ),
            (
                Method::DELETE,
                format!("/api/v1/processors/{}", victim.processor),
                Some("\"1\""),
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{}", victim.policy),
                None,
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/policies/{}", victim.policy),
                Some("\"1\""),
                Some(json!({"title": "hijack", "kind": "other"})),
            ),
            (
                Method::DELETE,
                format!("/api/v1/policies/{}", victim.policy),
                Some("\"1\""),
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{}/versions", victim.policy),
                None,
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/policies/{}/versions", victim.policy),
                None,
                Some(json!({"content": "hijack"})),
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{}/versions/current", victim.policy),
                None,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/policies/{}/versions/1", victim.policy),
                None,
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/policies/{}/versions/1", victim.policy),
                Some("\"1\""),
                Some(json!({"content": "hijack"})),
            ),
            (
                Method::POST,
                format!("/api/v1/policies/{}/versions/1/submit", victim.policy),
                Some("\"1\""),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/policies/{}/versions/1/publish", victim.policy),
                Some("\"1\""),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/policies/{}/versions/1/retire", victim.policy),
                Some("\"1\""),
                None,
            ),
        ];
        for caller in attacker.accounts() {
            probes += probe_foreign(&app, caller, &attempts, &victim.marker, &mut leaks).await;
            // Linking the victim's processor from one's own activity is refused.
            let (status, _) = send(
                &app,
                Method::POST,
                "/api/v1/processing-activities",
                &caller.access,
                None,
                Some(json!({"name": "link attempt", "processor_ids": [victim.processor]})),
            )
            .await;
            probes += 1;
            if status != StatusCode::UNPROCESSABLE_ENTITY && status != StatusCode::FORBIDDEN {
                leaks.push(format!("link to a foreign processor → {status}"));
            }
            // Lists, filters, the completeness summary and exports show only own data.
            for path in [
                "/api/v1/processing-activities?limit=100".to_owned(),
                format!(
                    "/api/v1/processing-activities?processor={}",
                    victim.processor
                ),
                "/api/v1/processors?limit=100".to_owned(),
                format!("/api/v1/processors?parent={}", victim.processor),
                "/api/v1/policies?limit=100".to_owned(),
                "/api/v1/processing-activities/completeness".to_owned(),
                "/api/v1/organisation".to_owned(),
                "/api/v1/registers/export?format=json".to_owned(),
                "/api/v1/registers/export?format=csv".to_owned(),
                "/api/v1/registers/export?format=json&record=processor".to_owned(),
            ] {
                let (status, body) =
                    send(&app, Method::GET, &path, &caller.access, None, None).await;
                probes += 1;
                if body.to_string().contains(&victim.marker) {
                    leaks.push(format!("GET {path} → {status} shows the victim's data"));
                }
                if path.contains("export")
                    && status == StatusCode::OK
                    && !body.to_string().contains(&own.marker)
                {
                    leaks.push(format!("GET {path} lacks the caller's own data"));
                }
            }
        }
    }
    for (k, (tenant, _)) in tenants.iter().enumerate() {
        assert_eq!(
            before[k],
            register_snapshot(&app, &tenant.owner).await,
            "registers changed under cross-tenant probes"
        );
    }
    println!("{probes} register probes, {} leaks", leaks.len());
    assert!(probes >= 100, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

/// Tasks of both tenants, as their owners see them.
async fn task_snapshot(app: &TestApp, owner: &Account) -> Value {
    send(
        app,
        Method::GET,
        "/api/v1/tasks?limit=100",
        &owner.access,
        None,
        None,
    )
    .await
    .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["Zeta GmbH", "Eta AG"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        let records = make_records(&app, &owner).await;
        let assignee = members[1].user_id.clone();
        let (status, task) = send(
            &app,
            Method::POST,
            "/api/v1/tasks",
            &owner.access,
            None,
            Some(json!({
                "title": format!("{} task", records.marker),
                "description": format!("{} details", records.marker),
                "category": "dpa_review",
                "due_date": "2030-03-01",
                "assigned_to": assignee,
                "link": {"kind": "processor", "id": records.processor},
                "recurrence": "monthly",
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        let task = task["id"].as_str().unwrap().to_owned();
        tenants.push((Tenant { owner, members }, records, task, assignee));
    }
    let mut before = Vec::new();
    for (tenant, ..) in &tenants {
        before.push(task_snapshot(&app, &tenant.owner).await);
    }

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, (attacker, own, own_task, _)) in tenants.iter().enumerate() {
        let (_, victim, victim_task, victim_user) = &tenants[1 - i];
        let attempts: Vec<Attempt> = vec![
            (
                Method::GET,
                format!("/api/v1/tasks/{victim_task}"),
                None,
                None,
            ),
            (
                Method::PATCH,
                format!("/api/v1/tasks/{victim_task}"),
                Some("\"1\""),
                Some(json!({"title": "hijack"})),
            ),
            (
                Method::POST,
                format!("/api/v1/tasks/{victim_task}/complete"),
                Some("\"1\""),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/tasks/{victim_task}/reopen"),
                Some("\"1\""),
                None,
            ),
            (
                Method::DELETE,
                format!("/api/v1/tasks/{victim_task}"),
                Some("\"1\""),
                None,
            ),
            // Foreign ids inside one's own writes: an assignee or a linked record of the
            // other tenant is unknown here.
            (
                Method::POST,
                "/api/v1/tasks".into(),
                None,
                Some(json!({"title": "t", "category": "other", "assigned_to": victim_user})),
            ),
            (
                Method::POST,
                "/api/v1/tasks".into(),
                None,
                Some(json!({"title": "t", "category": "other",
                    "link": {"kind": "processor", "id": victim.processor}})),
            ),
            (
                Method::POST,
                "/api/v1/tasks".into(),
                None,
                Some(json!({"title": "t", "category": "other",
                    "link": {"kind": "processing_activity", "id": victim.activity}})),
            ),
            (
                Method::POST,
                "/api/v1/tasks".into(),
                None,
                Some(json!({"title": "t", "category": "other",
                    "link": {"kind": "policy", "id": victim.policy}})),
            ),
            (
                Method::PATCH,
                format!("/api/v1/tasks/{own_task}"),
                Some("\"1\""),
                Some(json!({"assigned_to": victim_user})),
            ),
        ];
        for caller in attacker.accounts() {
            probes += probe_foreign(&app, caller, &attempts, &victim.marker, &mut leaks).await;
            for path in [
                "/api/v1/tasks?limit=100".to_owned(),
                format!("/api/v1/tasks?assigned_to={victim_user}"),
                "/api/v1/tasks?overdue=true".to_owned(),
                "/api/v1/tasks?sort=-updated_at".to_owned(),
            ] {
                let (status, body) =
                    send(&app, Method::GET, &path, &caller.access, None, None).await;
                probes += 1;
                if status != StatusCode::OK || body.to_string().contains(&victim.marker) {
                    leaks.push(format!("GET {path} → {status} {body}"));
                }
            }
            let (_, list) = send(
                &app,
                Method::GET,
                "/api/v1/tasks?limit=100",
                &caller.access,
                None,
                None,
            )
            .await;
            if !list.to_string().contains(&own.marker) {
                leaks.push("the caller's own task is missing from its list".into());
            }
        }
    }
    for (k, (tenant, ..)) in tenants.iter().enumerate() {
        assert_eq!(
            before[k],
            task_snapshot(&app, &tenant.owner).await,
            "tasks changed under cross-tenant probes"
        );
    }
    println!("{probes} task probes, {} leaks", leaks.len());
    assert!(probes >= 100, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_suggestions_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["Zeta GmbH", "Eta AG"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        // Colliding titles: both tenants record "Payroll".
        let (status, activity) = send(
            &app,
            Method::POST,
            "/api/v1/processing-activities",
            &owner.access,
            None,
            Some(json!({"name": "Payroll"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{activity}");
        let mut suggestions = Vec::new();
        for (path, body) in [
            (
                "/api/v1/ai/ask",
                json!({"question": "What is missing for payroll?"}),
            ),
            (
                "/api/v1/ai/policy-drafts",
                json!({"kind": "privacy_policy"}),
            ),
            (
                "/api/v1/ai/activity-suggestions",
                json!({"description": "Payroll for staff"}),
            ),
        ] {
            let (status, suggestion) =
                send(&app, Method::POST, path, &owner.access, None, Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{suggestion}");
            suggestions.push(suggestion["id"].as_str().unwrap().to_owned());
        }
        let activity = activity["id"].as_str().unwrap().to_owned();
        tenants.push((Tenant { owner, members }, activity, suggestions));
    }

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, (attacker, own_activity, _)) in tenants.iter().enumerate() {
        let (victim, victim_activity, victim_suggestions) = &tenants[1 - i];
        for caller in attacker.accounts() {
            for suggestion in victim_suggestions {
                for (method, path) in [
                    (Method::GET, format!("/api/v1/ai/suggestions/{suggestion}")),
                    (
                        Method::POST,
                        format!("/api/v1/ai/suggestions/{suggestion}/accept"),
                    ),
                    (
                        Method::POST,
                        format!("/api/v1/ai/suggestions/{suggestion}/reject"),
                    ),
                ] {
                    let (status, response) = send(
                        &app,
                        method.clone(),
                        &path,
                        &caller.access,
                        Some("\"1\""),
                        None,
                    )
                    .await;
                    probes += 1;
                    if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
                        leaks.push(format!("{method} {path} → {status} {response}"));
                    }
                }
            }
            let (_, listed) = send(
                &app,
                Method::GET,
                "/api/v1/ai/suggestions?limit=100",
                &caller.access,
                None,
                None,
            )
            .await;
            probes += 1;
            let listed = listed.to_string();
            for foreign in victim_suggestions.iter().chain([victim_activity]) {
                if listed.contains(foreign.as_str()) {
                    leaks.push(format!("the list shows the victim's {foreign}"));
                }
            }
            if listed.contains(&victim.owner.tenant_id) {
                leaks.push("the list shows the victim's tenant".to_owned());
            }
        }
        // A fresh answer of the attacker's own uses and cites only its own records.
        let (status, answer) = send(
            &app,
            Method::POST,
            "/api/v1/ai/ask",
            &attacker.owner.access,
            None,
            Some(json!({"question": "Tell me about payroll"})),
        )
        .await;
        probes += 1;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let text = answer.to_string();
        if text.contains(victim_activity.as_str()) || !text.contains(own_activity.as_str()) {
            leaks.push(format!("an answer's context crossed tenants: {text}"));
        }
    }
    for (tenant, _, suggestions) in &tenants {
        for suggestion in suggestions {
            let (_, stored) = send(
                &app,
                Method::GET,
                &format!("/api/v1/ai/suggestions/{suggestion}"),
                &tenant.owner.access,
                None,
                None,
            )
            .await;
            assert_eq!(stored["status"], "pending", "probes decided nothing");
        }
    }
    println!("{probes} AI probes, {} leaks", leaks.len());
    assert!(probes >= 50, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

async fn breach_snapshot(app: &TestApp, owner: &Account) -> Value {
    let mut all = Vec::new();
    for path in ["/api/v1/breaches?limit=100", "/api/v1/breaches?drill=true"] {
        all.push(
            send(app, Method::GET, path, &owner.access, None, None)
                .await
                .1,
        );
    }
    Value::Array(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaches_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let aware = time::OffsetDateTime::now_utc() - time::Duration::hours(80);
    let aware = aware
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut tenants = Vec::new();
    for name in ["Theta GmbH", "Iota AG"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        let records = make_records(&app, &owner).await;
        let mut ids = Vec::new();
        for drill in [false, true] {
            let (status, breach) = send(
                &app,
                Method::POST,
                "/api/v1/breaches",
                &owner.access,
                None,
                Some(json!({
                    "title": format!("{} breach", records.marker),
                    "description": format!("{} details", records.marker),
                    "became_aware_at": aware,
                    "kinds": ["confidentiality"],
                    "activity_ids": [records.activity],
                    "processor_ids": [records.processor],
                    "owner_id": owner.user_id,
                    "drill": drill,
                })),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{breach}");
            ids.push(breach["id"].as_str().unwrap().to_owned());
        }
        tenants.push((Tenant { owner, members }, records, ids));
    }
    let mut before = Vec::new();
    for (tenant, ..) in &tenants {
        before.push(breach_snapshot(&app, &tenant.owner).await);
    }

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, (attacker, own, own_ids)) in tenants.iter().enumerate() {
        let (victim_tenant, victim, victim_ids) = &tenants[1 - i];
        let fields = |extra: Value| {
            let mut body = json!({"title": "hijack", "became_aware_at": aware,
                "kinds": ["integrity"]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        let mut attempts: Vec<Attempt> = Vec::new();
        for id in victim_ids {
            let path = format!("/api/v1/breaches/{id}");
            attempts.push((Method::GET, path.clone(), None, None));
            attempts.push((
                Method::GET,
                format!("{path}/notification-draft"),
                None,
                None,
            ));
            attempts.push((
                Method::PUT,
                path.clone(),
                Some("\"1\""),
                Some(fields(json!({}))),
            ));
            // The assistant reads a breach only in the caller's tenant.
            attempts.push((
                Method::POST,
                "/api/v1/ai/breach-measures".to_owned(),
                None,
                Some(json!({"breach_id": id})),
            ));
            for (action, body) in [
                ("assess", Some(json!({"risk": "risk", "reasoning": "x"}))),
                (
                    "notify-authority",
                    Some(json!({"content": "x", "delay_reasons": "x"})),
                ),
                ("decide-not-to-notify", Some(json!({"reasoning": "x"}))),
                (
                    "communicate-to-subjects",
                    Some(json!({"decision": "not_communicated",
                        "ground": "data_unintelligible", "reasoning": "x"})),
                ),
                ("close", None),
            ] {
                attempts.push((
                    Method::POST,
                    format!("{path}/{action}"),
                    Some("\"1\""),
                    body,
                ));
            }
        }
        // Foreign ids inside one's own writes: unknown here (422 naming the field).
        let foreign = [
            json!({"activity_ids": [victim.activity]}),
            json!({"processor_ids": [victim.processor]}),
            json!({"owner_id": victim_tenant.owner.user_id}),
            json!({"assignee_id": victim_tenant.owner.user_id}),
        ];
        for caller in attacker.accounts() {
            probes += probe_foreign(&app, caller, &attempts, &victim.marker, &mut leaks).await;
            for extra in &foreign {
                for (method, path, tag) in [
                    (Method::POST, "/api/v1/breaches".to_owned(), None),
                    (
                        Method::PUT,
                        format!("/api/v1/breaches/{}", own_ids[0]),
                        Some("\"1\""),
                    ),
                ] {
                    let body = Some(fields(extra.clone()));
                    let (status, response) =
                        send(&app, method.clone(), &path, &caller.access, tag, body).await;
                    probes += 1;
                    if status != StatusCode::UNPROCESSABLE_ENTITY && status != StatusCode::FORBIDDEN
                    {
                        leaks.push(format!(
                            "{method} {path} with {extra} → {status} {response}"
                        ));
                    }
                }
            }
            for path in [
                "/api/v1/breaches?limit=100",
                "/api/v1/breaches?drill=true",
                "/api/v1/breaches?overdue=true",
                "/api/v1/breaches?sort=due_on",
                // The register's export (JSON, CSV, the drills') and the draft of one's
                // own breach, which names one's own activity and processor.
                "/api/v1/breaches/export",
                "/api/v1/breaches/export?format=csv",
                "/api/v1/breaches/export?drill=true&format=csv",
                &format!("/api/v1/breaches/{}/notification-draft", own_ids[0]),
            ] {
                let (status, body) =
                    send(&app, Method::GET, path, &caller.access, None, None).await;
                probes += 1;
                if status != StatusCode::OK || body.to_string().contains(&victim.marker) {
                    leaks.push(format!("GET {path} → {status} {body}"));
                }
                if !body.to_string().contains(&own.marker) {
                    leaks.push(format!("GET {path} lacks the caller's own breach"));
                }
            }
        }
        // A suggestion for one's own breach uses and cites only one's own records.
        let (status, suggestion) = send(
            &app,
            Method::POST,
            "/api/v1/ai/breach-measures",
            &attacker.owner.access,
            None,
            Some(json!({"breach_id": own_ids[0]})),
        )
        .await;
        probes += 1;
        assert_eq!(status, StatusCode::CREATED, "{suggestion}");
        let text = suggestion.to_string();
        if text.contains(&victim.marker)
            || text.contains(victim.activity.as_str())
            || !text.contains(own.activity.as_str())
        {
            leaks.push(format!("a breach suggestion crossed tenants: {text}"));
        }
    }
    for (k, (tenant, ..)) in tenants.iter().enumerate() {
        assert_eq!(
            before[k],
            breach_snapshot(&app, &tenant.owner).await,
            "breaches changed under cross-tenant probes"
        );
    }
    println!("{probes} breach probes, {} leaks", leaks.len());
    assert!(probes >= 100, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

/// One attempt on another tenant's row: method, path, `If-Match`, body.
type Attempt<'a> = (Method, String, Option<&'a str>, Option<Value>);

/// Sends each attempt as `caller`: anything but 404 or 403, or an answer showing the
/// victim's `marker`, is a leak. Returns the number of probes.
async fn probe_foreign(
    app: &TestApp,
    caller: &Account,
    attempts: &[Attempt<'_>],
    marker: &str,
    leaks: &mut Vec<String>,
) -> usize {
    for (method, path, tag, body) in attempts {
        let (status, response) = send(
            app,
            method.clone(),
            path,
            &caller.access,
            *tag,
            body.clone(),
        )
        .await;
        if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
            leaks.push(format!("{method} {path} {body:?} → {status} {response}"));
        }
        if response.to_string().contains(marker) {
            leaks.push(format!("{method} {path} revealed the victim's data"));
        }
    }
    attempts.len()
}

async fn dpia_snapshot(app: &TestApp, owner: &Account) -> Value {
    send(
        app,
        Method::GET,
        "/api/v1/dpias?limit=100",
        &owner.access,
        None,
        None,
    )
    .await
    .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpias_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["Kappa GmbH", "Lambda AG"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        let records = make_records(&app, &owner).await;
        let mut ids = Vec::new();
        // A draft and an approved DPIA (submitted, then approved by the owner).
        for approve in [false, true] {
            let (status, dpia) = send(
                &app,
                Method::POST,
                "/api/v1/dpias",
                &owner.access,
                None,
                Some(json!({
                    "title": format!("{} DPIA", records.marker),
                    "activity_ids": [records.activity],
                    "description": format!("{} cameras", records.marker),
                    "owner_id": owner.user_id,
                    "review_date": "2030-01-01",
                })),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{dpia}");
            let id = dpia["id"].as_str().unwrap().to_owned();
            if approve {
                let path = format!("/api/v1/dpias/{id}/submit");
                let (status, _) = send(
                    &app,
                    Method::POST,
                    &path,
                    &owner.access,
                    Some("\"1\""),
                    None,
                )
                .await;
                assert_eq!(status, StatusCode::OK);
            }
            ids.push(id);
        }
        tenants.push((Tenant { owner, members }, records, ids));
    }
    let mut before = Vec::new();
    for (tenant, ..) in &tenants {
        before.push(dpia_snapshot(&app, &tenant.owner).await);
    }

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, (attacker, own, own_ids)) in tenants.iter().enumerate() {
        let (victim_tenant, victim, victim_ids) = &tenants[1 - i];
        let fields = |extra: Value| {
            let mut body = json!({"title": "hijack", "activity_ids": [own.activity]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        let mut attempts: Vec<Attempt> = Vec::new();
        for id in victim_ids {
            let path = format!("/api/v1/dpias/{id}");
            attempts.push((Method::GET, path.clone(), None, None));
            attempts.push((Method::GET, format!("{path}/export"), None, None));
            attempts.push((Method::POST, format!("{path}/start-revision"), None, None));
            // The assistant drafts only a DPIA of the caller's tenant.
            attempts.push((
                Method::POST,
                "/api/v1/ai/dpia-drafts".to_owned(),
                None,
                Some(json!({"dpia_id": id})),
            ));
            attempts.push((
                Method::PUT,
                path.clone(),
                Some("\"1\""),
                Some(fields(json!({}))),
            ));
            for (action, body) in [
                ("submit", None),
                ("approve", None),
                ("send-back", Some(json!({"reason": "x"}))),
                (
                    "prior-consultation",
                    Some(json!({"authority": "x", "submitted_on": "2026-01-05"})),
                ),
                ("measures/0/task", None),
            ] {
                for version in ["\"1\"", "\"2\""] {
                    attempts.push((
                        Method::POST,
                        format!("{path}/{action}"),
                        Some(version),
                        body.clone(),
                    ));
                }
            }
        }
        // Foreign ids inside one's own writes: unknown here (422 naming the field).
        let foreign = [
            json!({"activity_ids": [victim.activity]}),
            json!({"owner_id": victim_tenant.owner.user_id}),
            json!({"revision_of": victim_ids[1]}),
            json!({"measures": [{"title": "x", "kind": "legal", "status": "planned",
                "owner_id": victim_tenant.owner.user_id}]}),
        ];
        for caller in attacker.accounts() {
            probes += probe_foreign(&app, caller, &attempts, &victim.marker, &mut leaks).await;
            for extra in &foreign {
                for (method, path, tag) in [
                    (Method::POST, "/api/v1/dpias".to_owned(), None),
                    (
                        Method::PUT,
                        format!("/api/v1/dpias/{}", own_ids[0]),
                        Some("\"1\""),
                    ),
                ] {
                    let body = Some(fields(extra.clone()));
                    let (status, response) =
                        send(&app, method.clone(), &path, &caller.access, tag, body).await;
                    probes += 1;
                    if status != StatusCode::UNPROCESSABLE_ENTITY && status != StatusCode::FORBIDDEN
                    {
                        leaks.push(format!(
                            "{method} {path} with {extra} → {status} {response}"
                        ));
                    }
                }
            }
            for path in [
                "/api/v1/dpias?limit=100".to_owned(),
                "/api/v1/dpias?sort=due_on".to_owned(),
                "/api/v1/dpias?review_due_on=2031-01-01".to_owned(),
                format!("/api/v1/dpias?activity={}", own.activity),
                format!("/api/v1/dpias/{}/export", own_ids[0]),
            ] {
                let (status, body) =
                    send(&app, Method::GET, &path, &caller.access, None, None).await;
                probes += 1;
                if status != StatusCode::OK || body.to_string().contains(&victim.marker) {
                    leaks.push(format!("GET {path} → {status} {body}"));
                }
                if !body.to_string().contains(&own.marker) {
                    leaks.push(format!("GET {path} lacks the caller's own DPIA"));
                }
            }
            // The victim's activity as a filter shows nothing.
            let path = format!("/api/v1/dpias?activity={}", victim.activity);
            let (status, body) = send(&app, Method::GET, &path, &caller.access, None, None).await;
            probes += 1;
            if status != StatusCode::OK || body["items"] != json!([]) {
                leaks.push(format!("GET {path} → {status} {body}"));
            }
        }
        // A draft of one's own DPIA uses and cites only one's own records.
        let (status, suggestion) = send(
            &app,
            Method::POST,
            "/api/v1/ai/dpia-drafts",
            &attacker.owner.access,
            None,
            Some(json!({"dpia_id": own_ids[0]})),
        )
        .await;
        probes += 1;
        assert_eq!(status, StatusCode::CREATED, "{suggestion}");
        let text = suggestion.to_string();
        if text.contains(&victim.marker)
            || text.contains(victim.activity.as_str())
            || !text.contains(own.activity.as_str())
        {
            leaks.push(format!("a DPIA draft crossed tenants: {text}"));
        }
    }
    for (k, (tenant, ..)) in tenants.iter().enumerate() {
        assert_eq!(
            before[k],
            dpia_snapshot(&app, &tenant.owner).await,
            "DPIAs changed under cross-tenant probes"
        );
    }
    println!("{probes} DPIA probes, {} leaks", leaks.len());
    assert!(probes >= 100, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

async fn document_snapshot(app: &TestApp, owner: &Account, ids: &[String]) -> Value {
    let (_, list) = send(
        app,
        Method::GET,
        "/api/v1/documents?limit=100",
        &owner.access,
        None,
        None,
    )
    .await;
    let mut versions = Vec::new();
    for id in ids {
        let path = format!("/api/v1/documents/{id}/versions");
        versions.push(
            send(app, Method::GET, &path, &owner.access, None, None)
                .await
                .1,
        );
    }
    json!({"documents": list, "versions": versions})
}

/// Uploads `content` as a version of document `id`: status and body.
async fn upload_version(
    app: &TestApp,
    token: &str,
    id: &str,
    content: &[u8],
) -> (StatusCode, String) {
    let response = app
        .http
        .post(format!("{}/api/v1/documents/{id}/versions", app.base))
        .bearer_auth(token)
        .header("Content-Type", "text/plain")
        .header("X-File-Name", "evidence.txt")
        .body(content.to_vec())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["Mu GmbH", "Nu AG"] {
        let owner = app.register(name).await;
        let mut members = Vec::new();
        for role in ["admin", "member", "viewer"] {
            members.push(app.add_user(&owner, role).await);
        }
        let records = make_records(&app, &owner).await;
        let mut ids = Vec::new();
        for hold in [false, true] {
            let (status, document) = send(
                &app,
                Method::POST,
                "/api/v1/documents",
                &owner.access,
                None,
                Some(json!({
                    "title": format!("{} evidence", records.marker),
                    "kind": "dpa",
                    "legal_hold": hold,
                    "processor_ids": [records.processor],
                    "activity_ids": [records.activity],
                    "policy_ids": [records.policy],
                })),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{document}");
            let id = document["id"].as_str().unwrap().to_owned();
            let content = format!("{} file body", records.marker);
            let (status, body) = upload_version(&app, &owner.access, &id, content.as_bytes()).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            ids.push(id);
        }
        tenants.push((Tenant { owner, members }, records, ids));
    }
    let mut before = Vec::new();
    for (tenant, _, ids) in &tenants {
        before.push(document_snapshot(&app, &tenant.owner, ids).await);
    }

    let mut probes = 0usize;
    let mut leaks = Vec::new();
    for (i, (attacker, own, own_ids)) in tenants.iter().enumerate() {
        let (victim_tenant, victim, victim_ids) = &tenants[1 - i];
        let fields = |extra: Value| {
            let mut body = json!({"title": "hijack", "kind": "other"});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        // The victim's document, its versions, content and removal.
        let mut attempts: Vec<Attempt> = Vec::new();
        for id in victim_ids {
            let path = format!("/api/v1/documents/{id}");
            attempts.push((Method::GET, path.clone(), None, None));
            attempts.push((
                Method::PUT,
                path.clone(),
                Some("\"1\""),
                Some(fields(json!({}))),
            ));
            attempts.push((Method::GET, format!("{path}/versions"), None, None));
            for number in ["1", "2"] {
                let version = format!("{path}/versions/{number}");
                attempts.push((Method::GET, format!("{version}/content"), None, None));
                attempts.push((Method::POST, format!("{version}/verify"), None, None));
            }
            attempts.push((Method::DELETE, format!("{path}/content"), None, None));
        }
        // Links to the victim's records from one's own documents: unknown here, 404
        // naming the field.
        let foreign = [
            (
                json!({"processor_ids": [victim.processor]}),
                "processor_ids[0]",
            ),
            (
                json!({"activity_ids": [victim.activity]}),
                "activity_ids[0]",
            ),
            (json!({"policy_ids": [victim.policy]}), "policy_ids[0]"),
            (json!({"owner_id": victim_tenant.owner.user_id}), "owner_id"),
        ];
        for caller in attacker.accounts() {
            probes += probe_foreign(&app, caller, &attempts, &victim.marker, &mut leaks).await;
            for id in victim_ids {
                let (status, body) = upload_version(&app, &caller.access, id, b"overwrite").await;
                probes += 1;
                if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
                    leaks.push(format!("upload to {id} → {status} {body}"));
                }
            }
            for (extra, field) in &foreign {
                for (method, path, tag) in [
                    (Method::POST, "/api/v1/documents".to_owned(), None),
                    (
                        Method::PUT,
                        format!("/api/v1/documents/{}", own_ids[0]),
                        Some("\"1\""),
                    ),
                ] {
                    let body = Some(fields(extra.clone()));
                    let (status, response) =
                        send(&app, method.clone(), &path, &caller.access, tag, body).await;
                    probes += 1;
                    let named = response["errors"][0]["field"] == json!(field);
                    let refused = status == StatusCode::FORBIDDEN
                        || (status == StatusCode::NOT_FOUND && named);
                    if !refused || response.to_string().contains(&victim.marker) {
                        leaks.push(format!(
                            "{method} {path} with {extra} → {status} {response}"
                        ));
                    }
                }
            }
            // Lists show only one's own documents; the victim's records as a filter
            // show nothing.
            for path in [
                "/api/v1/documents?limit=100".to_owned(),
                "/api/v1/documents?sort=due_on".to_owned(),
                format!("/api/v1/documents?linked_to={}", own.processor),
            ] {
                let (status, body) =
                    send(&app, Method::GET, &path, &caller.access, None, None).await;
                probes += 1;
                if status != StatusCode::OK || body.to_string().contains(&victim.marker) {
                    leaks.push(format!("GET {path} → {status} {body}"));
                }
                if !body.to_string().contains(&own.marker) {
                    leaks.push(format!("GET {path} lacks the caller's own documents"));
                }
            }
            for record in [&victim.processor, &victim.activity, &victim.policy] {
                let path = format!("/api/v1/documents?linked_to={record}");
                let (status, body) =
                    send(&app, Method::GET, &path, &caller.access, None, None).await;
                probes += 1;
                if status != StatusCode::OK || body["items"] != json!([]) {
                    leaks.push(format!("GET {path} → {status} {body}"));
                }
            }
        }
    }
    for (k, (tenant, _, ids)) in tenants.iter().enumerate() {
        assert_eq!(
            before[k],
            document_snapshot(&app, &tenant.owner, ids).await,
            "documents changed under cross-tenant probes"
        );
        let (_, chain) = send(
            &app,
            Method::GET,
            "/api/v1/audit-events/verify",
            &tenant.owner.access,
            None,
            None,
        )
        .await;
        assert_eq!(chain["valid"], json!(true), "{chain}");
    }
    println!("{probes} document probes, {} leaks", leaks.len());
    assert!(probes >= 100, "only {probes} probes");
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}
