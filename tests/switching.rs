//! Issue 16 (one account in several tenants; partners) through the real binary on
//! PostgreSQL: an account in three tenants lists and switches among them; a token of one
//! tenant never reaches another's records (probed with the other tenants' ids, as the
//! isolation suite does); a switch into a tenant without a usable membership, or one
//! that does not exist, is 404 alike; removing the membership in B ends B's sessions at
//! once while A's work. A client grants a consultancy access with a role; its member
//! switches in, acts, and the client's audit chain names the partner; revoking ends the
//! sessions at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, PASSWORD, TestApp};

async fn spawn() -> TestApp {
    TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await
}

async fn my_tenants(app: &TestApp, who: &Account) -> Vec<Value> {
    let (status, body) = app.get("/api/v1/me/tenants", &who.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// A processing activity of `who`'s tenant whose name carries `marker`: its id.
async fn activity(app: &TestApp, who: &Account, marker: &str) -> String {
    let created = app
        .created(
            "/api/v1/processing-activities",
            who,
            json!({ "name": format!("Payroll {marker}") }),
        )
        .await;
    created["id"].as_str().unwrap().to_owned()
}

/// Every verb on another tenant's activity answers 404 (or 403) and shows nothing of it;
/// no list shows it. The leaks found.
async fn probe(app: &TestApp, caller: &Account, foreign_id: &str, marker: &str) -> Vec<String> {
    let path = format!("/api/v1/processing-activities/{foreign_id}");
    let mut leaks = Vec::new();
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({ "name": "Pwned" }))),
        (Method::DELETE, None),
    ] {
        let (status, _, answer) = app.send(method.clone(), &path, caller, Some(1), body).await;
        if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
            leaks.push(format!("{method} {path} → {status} {answer}"));
        }
        if answer.to_string().contains(marker) {
            leaks.push(format!("{method} {path} revealed the record"));
        }
    }
    let (_, list) = app
        .get("/api/v1/processing-activities?limit=100", &caller.access)
        .await;
    if list.to_string().contains(marker) {
        leaks.push(format!("the list of {} shows it", caller.tenant_id));
    }
    leaks
}

fn tenant_ids(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|m| m["tenant_id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_in_three_tenants_switches_and_never_reads_across() {
    let app = spawn().await;
    let home = app.register("Alpha Consulting").await;
    let beta = app.register("Beta GmbH").await;
    let gamma = app.register("Gamma AG").await;
    let delta = app.register("Delta SA").await;
    app.join(&beta, "Beta GmbH", &home.email, "member").await;
    app.join(&gamma, "Gamma AG", &home.email, "viewer").await;

    // The links ended the account's sessions: sign in again (it lands in A).
    let in_a = app.login(&home.email, PASSWORD).await;
    assert_eq!(in_a.tenant_id, home.tenant_id);
    let listed = my_tenants(&app, &in_a).await;
    assert_eq!(
        tenant_ids(&listed),
        [
            home.tenant_id.as_str(),
            beta.tenant_id.as_str(),
            gamma.tenant_id.as_str()
        ],
        "by name, D's not among them: {listed:?}"
    );
    let names: Vec<&str> = listed
        .iter()
        .map(|m| m["tenant_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha Consulting", "Beta GmbH", "Gamma AG"]);
    let roles: Vec<&str> = listed.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["owner", "member", "viewer"]);
    let current: Vec<bool> = listed
        .iter()
        .map(|m| m["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, [true, false, false]);
    assert!(
        listed
            .iter()
            .all(|m| m["via_partner"].is_null() && m["usable"] == json!(true))
    );

    // Switch B → C → A: each a session of that tenant, the earlier ones kept.
    let in_b = app.switched(&in_a, &beta.tenant_id).await;
    assert_eq!(in_b.tenant_id, beta.tenant_id);
    let in_c = app.switched(&in_b, &gamma.tenant_id).await;
    assert_eq!(in_c.tenant_id, gamma.tenant_id);
    let again_a = app.switched(&in_c, &home.tenant_id).await;
    assert_eq!(again_a.tenant_id, home.tenant_id);
    let (_, listed_in_c) = app.get("/api/v1/me/tenants", &in_c.access).await;
    let current_in_c: Vec<&Value> = listed_in_c["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["current"] == json!(true))
        .collect();
    assert_eq!(current_in_c.len(), 1);
    assert_eq!(current_in_c[0]["tenant_id"], json!(gamma.tenant_id));
    // The viewer role holds in C: no writes there.
    let (status, _, _) = app
        .send(
            Method::POST,
            "/api/v1/processing-activities",
            &in_c,
            None,
            Some(json!({ "name": "Not allowed" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Records of each tenant; every token of the account reaches its own tenant's only.
    let mut records = Vec::new();
    // (A's owner is the account itself: its token of before the links ended.)
    for (owner, who) in [(&in_a, &in_a), (&beta, &in_b), (&gamma, &in_c)] {
        let marker = format!("marker-{}", uuid::Uuid::new_v4().simple());
        records.push((
            owner.tenant_id.clone(),
            activity(&app, owner, &marker).await,
            marker,
        ));
        let (status, _) = app.get("/api/v1/users/me", &who.access).await;
        assert_eq!(status, StatusCode::OK);
    }
    let mut leaks = Vec::new();
    for token in [&in_a, &in_b, &in_c, &again_a] {
        for (tenant, id, marker) in &records {
            if *tenant == token.tenant_id {
                let (status, _) = app
                    .get(
                        &format!("/api/v1/processing-activities/{id}"),
                        &token.access,
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "own record");
            } else {
                leaks.extend(probe(&app, token, id, marker).await);
            }
        }
    }
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));

    // No membership (D), a random id, and an id that is no UUID.
    let (status, none) = app.switch(&in_a, &delta.tenant_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    let (status, random) = app.switch(&in_a, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(none["type"], random["type"]);
    assert_eq!(none["detail"], random["detail"], "alike");
    let (status, bad) = app.switch(&in_a, "not-a-tenant").await;
    assert!(
        status.is_client_error() && status != StatusCode::NOT_FOUND,
        "{bad}"
    );
    assert!(bad.to_string().contains("tenant_id"), "{bad}");

    // B's trail records the switch, by B's membership.
    let (_, events) = app
        .get("/api/v1/audit-events?action=session.switched", &beta.access)
        .await;
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor_id"], json!(in_b.user_id));
    assert_eq!(events[0]["actor_kind"], json!("user"));

    // Removing the membership in B ends B's sessions at once; A's keep working.
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tenants/me/users/{}", in_b.user_id),
            Some(&beta.access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = app.get("/api/v1/users/me", &in_b.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "B's session ended");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": in_b.refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for token in [&in_a, &in_c, &again_a] {
        let (status, _) = app.get("/api/v1/users/me", &token.access).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}'s session lives",
            token.tenant_id
        );
    }
    let (status, _) = app.switch(&in_a, &beta.tenant_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let listed = my_tenants(&app, &in_a).await;
    assert!(!tenant_ids(&listed).contains(&beta.tenant_id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_member_switches_into_a_client_acts_named_and_is_revoked() {
    let app = spawn().await;
    let boss = app.register("Privacy Partners").await;
    let client = app.register("Client Corp").await;
    let consultant = app.add_user(&boss, "member").await;
    let partner_slug = app.slug_of(&boss).await;

    // Not a consultancy yet: as unknown as a slug nobody has.
    let (status, _) = app.grant_partner(&client, &partner_slug, "member").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.offer_as_partner(&boss).await;
    let (status, body) = app.grant_partner(&client, &partner_slug, "owner").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(support::problem_fields(&body), ["role"]);
    let (status, body) = app.grant_partner(&client, "Not A Slug", "member").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(support::problem_fields(&body), ["partner"]);
    let admin = app.add_user(&client, "admin").await;
    let (status, _) = app.grant_partner(&admin, &partner_slug, "member").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "owners grant");
    let (status, granted) = app.grant_partner(&client, &partner_slug, "member").await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    assert_eq!(granted["partner"]["id"], json!(boss.tenant_id));
    assert_eq!(granted["role"], json!("member"));
    let (status, _) = app.grant_partner(&client, &partner_slug, "viewer").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, partners) = app.get("/api/v1/tenants/me/partners", &client.access).await;
    assert_eq!(partners["items"].as_array().unwrap().len(), 1, "{partners}");

    // The consultant sees the client through the partner and switches in.
    let listed = my_tenants(&app, &consultant).await;
    let via = listed
        .iter()
        .find(|m| m["tenant_id"] == json!(client.tenant_id))
        .expect("the client is listed");
    assert_eq!(via["via_partner"]["id"], json!(boss.tenant_id));
    assert_eq!(via["via_partner"]["name"], json!("Privacy Partners"));
    assert_eq!(via["role"], json!("member"));
    // A partner role makes a second factor required: the consultant's session from before
    // the grant, without one, does not switch in. Signing in again enrols one (the
    // harness's `login` takes the enrolment step as the person would).
    let (status, refused) = app.switch(&consultant, &client.tenant_id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(
        refused["code"],
        json!("mfa_enrolment_required"),
        "{refused}"
    );
    let consultant = app.login(&consultant.email, PASSWORD).await;
    let (_, mfa) = app.get("/api/v1/me/mfa", &consultant.access).await;
    assert_eq!(
        (&mfa["enabled"], &mfa["required"]),
        (&json!(true), &json!(true)),
        "{mfa}"
    );
    let inside = app.switched(&consultant, &client.tenant_id).await;
    assert_eq!(inside.tenant_id, client.tenant_id);
    let marker = format!("marker-{}", uuid::Uuid::new_v4().simple());
    let made = activity(&app, &inside, &marker).await;
    // The partner's own token never reads it.
    let leaks = probe(&app, &consultant, &made, &marker).await;
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
    // A sign-in never lands in the client: it is entered by a switch only.
    let signed_in = app.login(&consultant.email, PASSWORD).await;
    assert_eq!(signed_in.tenant_id, boss.tenant_id);

    // The client's chain names the partner with each of the consultant's actions.
    let (_, events) = app
        .get(
            &format!("/api/v1/audit-events?actor={}&limit=100", inside.user_id),
            &client.access,
        )
        .await;
    let events = events["items"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"session.switched"), "{actions:?}");
    assert!(
        actions.contains(&"processing_activity.created"),
        "{actions:?}"
    );
    for event in events {
        assert_eq!(event["actor_kind"], json!("partner"), "{event}");
        assert_eq!(event["actor_partner_id"], json!(boss.tenant_id), "{event}");
    }
    let (_, chain) = app.get("/api/v1/audit-events/verify", &client.access).await;
    assert_eq!(chain["valid"], json!(true), "{chain}");

    // Revoked: the consultant's sessions in the client end at once.
    let (status, body) = app.revoke_partner(&client, &boss.tenant_id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = app.get("/api/v1/users/me", &inside.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": inside.refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.switch(&consultant, &client.tenant_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let listed = my_tenants(&app, &consultant).await;
    assert_eq!(tenant_ids(&listed), [boss.tenant_id.as_str()]);
    // The consultant's home session is untouched.
    let (status, _) = app.get("/api/v1/users/me", &consultant.access).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.revoke_partner(&client, &boss.tenant_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, chain) = app.get("/api/v1/audit-events/verify", &client.access).await;
    assert_eq!(chain["valid"], json!(true), "{chain}");
}
