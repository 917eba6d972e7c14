//! Issue 16, the consultant's portfolio, through the real binary on PostgreSQL: one
//! account with memberships in three client tenants (owner, viewer, member) sees three
//! entries with the counts of the data made in each; another account sees only its own
//! tenant; a deactivated membership is not listed, at once; without a token, 401. A
//! consultancy's member sees the clients that granted the firm a role (not entered yet:
//! listed without a summary; entered: read with the grant's role, the partner named),
//! gone at once after a revoke; a custom role's holder sees what its permissions allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, reset};
use time::{Date, Duration, OffsetDateTime, format_description::well_known::Rfc3339};

const PORTFOLIO: &str = "/api/v1/me/portfolio";
const CONSULTANT_PASSWORD: &str = "the consultant's long passphrase";

fn day(offset_days: i64) -> String {
    (OffsetDateTime::now_utc().date() + Duration::days(offset_days)).to_string()
}

/// Adds the account of `email` to `owner`'s tenant with `role` and accepts the mailed
/// invitation; the membership's user id.
async fn join(
    app: &TestApp,
    owner: &Account,
    organisation: &str,
    email: &str,
    role: &str,
) -> String {
    let (status, member) = app
        .call(
            Method::POST,
            "/api/v1/tenants/me/users",
            Some(&owner.access),
            Some(json!({ "email": email, "full_name": "Kim Consultant", "role": role })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    let invitation = app.link_in_mail(email, organisation, 1).await;
    assert_eq!(
        reset(app, &invitation, CONSULTANT_PASSWORD).await,
        StatusCode::NO_CONTENT
    );
    member["id"].as_str().unwrap().to_owned()
}

async fn task(app: &TestApp, who: &Account, due_in_days: i64) {
    let body = json!({ "title": "Review", "category": "other", "due_date": day(due_in_days) });
    app.created("/api/v1/tasks", who, body).await;
}

async fn request(app: &TestApp, who: &Account, received_days_ago: i64) {
    let body = json!({
        "received_at": format!("{}T10:00:00Z", day(-received_days_ago)),
        "channel": "email",
        "subject": {"name": "Erika Mustermann", "email": "erika@example.test", "category": "customer"},
        "rights": ["access"],
    });
    app.created("/api/v1/data-subject-requests", who, body)
        .await;
}

async fn portfolio(app: &TestApp, who: &Account) -> Vec<Value> {
    let (status, body) = app.get(PORTFOLIO, &who.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tenants"].as_array().unwrap().clone()
}

fn entry<'a>(entries: &'a [Value], tenant: &Account) -> &'a Value {
    (entries.iter())
        .find(|e| e["tenant_id"] == tenant.tenant_id.as_str())
        .unwrap_or_else(|| panic!("{} listed: {entries:?}", tenant.tenant_id))
}

fn tenant_ids(entries: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = (entries.iter())
        .map(|e| e["tenant_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultant_sees_each_client_with_its_own_counts_and_nothing_else() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let home = app.register("Kim Consulting").await;
    let client_b = app.register("Client Bakery").await;
    let client_c = app.register("Client Cannery").await;
    let client_d = app.register("Client Dairy").await;

    // The consultant's own tenant: a processor without a DPA, an overdue task, a breach
    // the clock runs for.
    app.created(
        "/api/v1/processors",
        &home,
        json!({"name": "Draft Cloud", "dpa_status": "none"}),
    )
    .await;
    task(&app, &home, -1).await;
    let aware = OffsetDateTime::now_utc() - Duration::hours(10);
    let breach = app
        .created(
            "/api/v1/breaches",
            &home,
            json!({
                "title": "Laptop stolen",
                "became_aware_at": aware.format(&Rfc3339).unwrap(),
                "kinds": ["confidentiality"],
            }),
        )
        .await;
    // B: two overdue tasks, one today (not overdue); an overdue request, one due within
    // the week (received 28 days ago: due in at most a few days, moved to a working
    // day), one just received.
    for due in [-5, -1, 0] {
        task(&app, &client_b, due).await;
    }
    for received in [45, 28, 0] {
        request(&app, &client_b, received).await;
    }
    // C: an incomplete activity and a policy due for review within the month.
    app.created(
        "/api/v1/processing-activities",
        &client_c,
        json!({"name": "Payroll"}),
    )
    .await;
    app.created(
        "/api/v1/policies",
        &client_c,
        json!({"title": "Privacy policy", "kind": "privacy_policy", "next_review_date": day(5)}),
    )
    .await;
    // D: an overdue task the consultant must never see (the membership is deactivated).
    task(&app, &client_d, -2).await;

    join(&app, &client_b, "Client Bakery", &home.email, "viewer").await;
    join(&app, &client_c, "Client Cannery", &home.email, "member").await;
    let in_d = join(&app, &client_d, "Client Dairy", &home.email, "member").await;
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{in_d}"),
            Some(&client_d.access),
            Some(json!({ "is_active": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let consultant = app.login(&home.email, CONSULTANT_PASSWORD).await;
    let entries = portfolio(&app, &consultant).await;
    let mut expected = vec![
        home.tenant_id.clone(),
        client_b.tenant_id.clone(),
        client_c.tenant_id.clone(),
    ];
    expected.sort();
    assert_eq!(
        tenant_ids(&entries),
        expected,
        "three, not the deactivated D"
    );

    let own = entry(&entries, &home);
    assert_eq!(own["role"], "owner");
    assert_eq!(own["name"], "Kim Consulting");
    assert_eq!(own["available"], true);
    assert_eq!(
        own["processors"],
        json!({"without_signed_dpa": 1, "dpa_review_due": 0})
    );
    assert_eq!(own["overdue_tasks"], 1);
    let open = own["open_breaches"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{own}");
    assert_eq!(open[0]["id"], breach["id"]);
    let hours_left = open[0]["hours_left"].as_i64().unwrap();
    assert!((60..=62).contains(&hours_left), "{hours_left}");
    assert_eq!(open[0]["hours_late"], Value::Null);
    assert_eq!(
        own["requests"],
        json!({"overdue": 0, "due_soon": 0, "earliest_due_on": null})
    );

    // A viewer reads the counts.
    let b = entry(&entries, &client_b);
    assert_eq!(b["role"], "viewer");
    assert_eq!(b["overdue_tasks"], 2);
    assert_eq!(b["requests"]["overdue"], 1, "{b}");
    assert_eq!(b["requests"]["due_soon"], 1, "{b}");
    let earliest = Date::parse(
        b["requests"]["earliest_due_on"].as_str().unwrap(),
        &time::format_description::well_known::Iso8601::DATE,
    )
    .unwrap();
    assert!(earliest < OffsetDateTime::now_utc().date());
    assert_eq!(
        b["processors"],
        json!({"without_signed_dpa": 0, "dpa_review_due": 0})
    );
    assert_eq!(b["open_breaches"], json!([]));

    let c = entry(&entries, &client_c);
    assert_eq!(c["role"], "member");
    assert_eq!(
        c["completeness"],
        json!({"activities": 1, "complete": 0, "incomplete": 1})
    );
    assert_eq!(c["policies_due_for_review"], 1);
    assert_eq!(c["dpias_due_for_review"], 0);
    assert_eq!(c["overdue_tasks"], 0);

    // Another account sees its own tenant only, and nothing of the consultant's others.
    let of_b = portfolio(&app, &client_b).await;
    assert_eq!(tenant_ids(&of_b), std::slice::from_ref(&client_b.tenant_id));
    let raw = serde_json::to_string(&of_b).unwrap();
    for other in [&home, &client_c, &client_d] {
        assert!(!raw.contains(&other.tenant_id), "{raw}");
    }

    // Deactivated in C: gone from the next answer, cache or not.
    let in_c = {
        let (_, users) = app.get("/api/v1/tenants/me/users", &client_c.access).await;
        (users["items"].as_array().unwrap().iter())
            .find(|u| u["email"] == home.email.as_str())
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{in_c}"),
            Some(&client_c.access),
            Some(json!({ "is_active": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let entries = portfolio(&app, &consultant).await;
    let mut expected = vec![home.tenant_id.clone(), client_b.tenant_id.clone()];
    expected.sort();
    assert_eq!(tenant_ids(&entries), expected);

    let (status, problem) = app.call(Method::GET, PORTFOLIO, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
}

/// The consultant's main case: a consultancy's member sees the clients that granted the
/// firm access, each read as a request there would be — the grant's role, acting for the
/// partner. A client never entered is listed with `entered: false` and nothing read;
/// after a revoke the client is gone from the very next answer (the summary cache, 30 s
/// by default, is keyed by the membership, and only listed memberships are served).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_member_sees_the_clients_of_the_firm_until_revoked() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let boss = app.register("Privacy Partners").await;
    let client = app.register("Client Corp").await;
    let consultant = app.add_user(&boss, "member").await;
    app.offer_as_partner(&boss).await;
    let partner_slug = app.slug_of(&boss).await;
    let (status, granted) = app.grant_partner(&client, &partner_slug, "viewer").await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    for due in [-3, -1] {
        task(&app, &client, due).await;
    }
    // A partner role makes a second factor required: `login` enrols one.
    let consultant = app.login(&consultant.email, support::PASSWORD).await;

    // Never entered: listed, nothing read, nothing created.
    let entries = portfolio(&app, &consultant).await;
    let mut expected = vec![boss.tenant_id.clone(), client.tenant_id.clone()];
    expected.sort();
    assert_eq!(tenant_ids(&entries), expected);
    let own = entry(&entries, &boss);
    assert_eq!(
        (&own["entered"], &own["via_partner"], &own["role"]),
        (&json!(true), &Value::Null, &json!("member"))
    );
    let outside = entry(&entries, &client);
    assert_eq!(outside["entered"], false, "{outside}");
    assert_eq!(outside["available"], false, "{outside}");
    assert_eq!(outside["role"], "viewer");
    assert_eq!(outside["via_partner"]["id"], json!(boss.tenant_id));
    assert_eq!(outside["overdue_tasks"], Value::Null);
    let (_, tenants) = app.get("/api/v1/me/tenants", &consultant.access).await;
    let listed = (tenants["items"].as_array().unwrap().iter())
        .find(|m| m["tenant_id"] == json!(client.tenant_id))
        .unwrap()
        .clone();
    assert_eq!(
        listed["via_partner"]["id"],
        json!(boss.tenant_id),
        "{listed}"
    );

    // Entered once: read as the grant's viewer, through the partner.
    app.switched(&consultant, &client.tenant_id).await;
    let entries = portfolio(&app, &consultant).await;
    let inside = entry(&entries, &client);
    assert_eq!(inside["entered"], true, "{inside}");
    assert_eq!(inside["available"], true, "{inside}");
    assert_eq!(inside["role"], "viewer");
    assert_eq!(inside["via_partner"]["name"], "Privacy Partners");
    assert_eq!(inside["overdue_tasks"], 2, "{inside}");
    assert!(inside["requests"].is_object(), "{inside}");

    // Revoked: gone from the next answer, although its summary is still in the cache.
    let (status, body) = app.revoke_partner(&client, &boss.tenant_id).await;
    assert!(status.is_success(), "{status} {body}");
    let entries = portfolio(&app, &consultant).await;
    assert_eq!(tenant_ids(&entries), std::slice::from_ref(&boss.tenant_id));

    // Granted again as member: the membership from before is not read with its old
    // role (listed as not entered) until a switch brings it to the grant's.
    let (status, granted) = app.grant_partner(&client, &partner_slug, "member").await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    let entries = portfolio(&app, &consultant).await;
    let again = entry(&entries, &client);
    assert_eq!(
        (&again["entered"], &again["role"]),
        (&json!(false), &json!("member")),
        "{again}"
    );
    app.switched(&consultant, &client.tenant_id).await;
    let entries = portfolio(&app, &consultant).await;
    let again = entry(&entries, &client);
    assert_eq!(
        (&again["entered"], &again["role"], &again["overdue_tasks"]),
        (&json!(true), &json!("member"), &json!(2)),
        "{again}"
    );
}

/// A custom role's holder sees the sections its permissions allow, not an empty entry:
/// a requests desk reads the requests and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_role_holder_sees_what_its_permissions_allow() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "200")]).await;
    let owner = app.register("Desk Corp").await;
    task(&app, &owner, -1).await;
    request(&app, &owner, 45).await;
    let role = app
        .created(
            "/api/v1/tenants/me/roles",
            &owner,
            json!({"name": "Requests desk", "permissions": ["handle_requests"]}),
        )
        .await;
    let desk = app.add_user(&owner, "viewer").await;
    let (status, answer) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/me/users/{}", desk.user_id),
            Some(&owner.access),
            Some(json!({"custom_role_id": role["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let desk = app.login(&desk.email, support::PASSWORD).await;

    let entries = portfolio(&app, &desk).await;
    let mine = entry(&entries, &owner);
    assert_eq!(mine["role"], "custom", "{mine}");
    assert_eq!(mine["available"], true, "{mine}");
    assert_eq!(mine["requests"]["overdue"], 1, "{mine}");
    assert_eq!(mine["overdue_tasks"], Value::Null, "{mine}");
    assert_eq!(mine["processors"], Value::Null, "{mine}");
    assert_eq!(mine["completeness"], Value::Null, "{mine}");
}
