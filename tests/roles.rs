//! Function-level access: each of the four roles against every authenticated route and
//! method must match the role → permission matrix in `aura-tenancy` (2xx where the role
//! holds the permission, 403 where it does not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use aura_tenancy::{Permission, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp};

/// What a route needs; `None`: any signed-in user.
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    needs: Option<Permission>,
}

fn route(method: Method, path: &str, body: Option<Value>, needs: Option<Permission>) -> Route {
    Route {
        method,
        path: path.to_owned(),
        body,
        needs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_matrix_grants() {
    let app = TestApp::spawn().await;
    let owner = app.register("Matrix GmbH").await;
    let mut callers: Vec<(Role, Account)> = vec![(Role::Owner, owner.clone())];
    for role in [Role::Admin, Role::Member, Role::Viewer] {
        callers.push((role, app.add_user(&owner, role.as_str()).await));
    }

    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (role, caller) in &callers {
        // Fresh targets for each caller, so writes by one do not change the next check.
        let member_target = app.add_user(&owner, "member").await;
        let member_victim = app.add_user(&owner, "viewer").await;
        let admin_target = app.add_user(&owner, "admin").await;
        let admin_victim = app.add_user(&owner, "admin").await;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let routes = [
            route(Method::GET, "/api/v1/users/me", None, None),
            route(
                Method::PATCH,
                "/api/v1/users/me",
                Some(json!({ "full_name": "Renamed" })),
                None,
            ),
            route(
                Method::GET,
                "/api/v1/tenants/me",
                None,
                Some(Permission::ReadTenant),
            ),
            route(
                Method::PATCH,
                "/api/v1/tenants/me",
                Some(json!({ "name": "Matrix AG" })),
                Some(Permission::ManageTenant),
            ),
            route(
                Method::GET,
                "/api/v1/tenants/me/users",
                None,
                Some(Permission::ReadUsers),
            ),
            route(
                Method::POST,
                "/api/v1/tenants/me/users",
                Some(
                    json!({ "email": format!("m-{unique}@example.test"), "full_name": "New Member", "role": "member", "password": support::PASSWORD }),
                ),
                Some(Permission::ManageMembers),
            ),
            route(
                Method::POST,
                "/api/v1/tenants/me/users",
                Some(
                    json!({ "email": format!("a-{unique}@example.test"), "full_name": "New Admin", "role": "admin", "password": support::PASSWORD }),
                ),
                Some(Permission::ManagePrivilegedUsers),
            ),
            route(
                Method::GET,
                &format!("/api/v1/tenants/me/users/{}", member_target.user_id),
                None,
                Some(Permission::ReadUsers),
            ),
            route(
                Method::PATCH,
                &format!("/api/v1/tenants/me/users/{}", member_target.user_id),
                Some(json!({ "full_name": "Changed By Someone" })),
                Some(Permission::ManageMembers),
            ),
            route(
                Method::PATCH,
                &format!("/api/v1/tenants/me/users/{}", admin_target.user_id),
                Some(json!({ "full_name": "Changed By Someone" })),
                Some(Permission::ManagePrivilegedUsers),
            ),
            route(
                Method::DELETE,
                &format!("/api/v1/tenants/me/users/{}", member_victim.user_id),
                None,
                Some(Permission::ManageMembers),
            ),
            route(
                Method::DELETE,
                &format!("/api/v1/tenants/me/users/{}", admin_victim.user_id),
                None,
                Some(Permission::ManagePrivilegedUsers),
            ),
            route(
                Method::GET,
                "/api/v1/audit-events",
                None,
                Some(Permission::ReadAudit),
            ),
            route(
                Method::GET,
                "/api/v1/audit-events/verify",
                None,
                Some(Permission::ReadAudit),
            ),
        ];
        for r in routes {
            let allowed = r.needs.is_none_or(|p| role.allows(p));
            let (status, body) = app
                .call(r.method.clone(), &r.path, Some(&caller.access), r.body)
                .await;
            checked += 1;
            let ok = if allowed {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                mismatches.push(format!(
                    "{role} {} {} → {status} (allowed: {allowed}) {body}",
                    r.method, r.path
                ));
            }
        }
    }
    // Every denial above is in the trail.
    let (_, denials) = app
        .get(
            "/api/v1/audit-events?action=auth.permission_denied&limit=100",
            &owner.access,
        )
        .await;
    let denied = denials["items"].as_array().unwrap().len();
    println!(
        "{checked} role-matrix cells checked, {} mismatched, {denied} denials audited",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(denied > 0);
}
