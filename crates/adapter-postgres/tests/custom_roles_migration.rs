//! Migration 000034 (custom roles) on a database holding members: the table's own
//! rules (no owners' permission, a membership's role is its tenant's, `custom` exactly
//! with a role), down gives a holder the least privilege (viewer) and keeps everyone
//! else as they were, up again works.

mod common;

use aura_adapter_postgres::{TestDatabase, revert_migrations_after, run_migrations};
use common::{connect, count};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use uuid::Uuid;

/// The last migration before the custom roles.
const BEFORE_CUSTOM_ROLES: &str = "20261211000032";
const AT: &str = "2026-12-12 10:00:00+00";

/// A tenant with an owner, a member and a holder of a custom role, as the superuser.
struct Seeded {
    tenant: Uuid,
    role: Uuid,
    member: Uuid,
    holder: Uuid,
}

async fn seed(conn: &mut AsyncPgConnection) -> Seeded {
    let (tenant, role) = (Uuid::now_v7(), Uuid::now_v7());
    let people = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let suffix = Uuid::new_v4().simple().to_string();
    let mut sql = format!(
        "INSERT INTO tenants (id, name, slug, created_at, updated_at)
         VALUES ('{tenant}', 'Roles GmbH', 'roles-{s}', '{AT}', '{AT}');
         INSERT INTO tenant_roles (tenant_id, id, name, permissions, version, created_at, updated_at)
         VALUES ('{tenant}', '{role}', 'Desk', ARRAY['handle_requests'], 1, '{AT}', '{AT}');",
        s = &suffix[..12]
    );
    for (index, (id, role_name)) in people.iter().zip(["owner", "member", "custom"]).enumerate() {
        let custom = if role_name == "custom" {
            format!("'{role}'")
        } else {
            "NULL".to_owned()
        };
        sql.push_str(&format!(
            "INSERT INTO accounts (id, email, password_hash, created_at, updated_at)
             VALUES ('{id}', 'p{index}-{suffix}@example.com', 'hash', '{AT}', '{AT}');
             INSERT INTO users (tenant_id, id, account_id, full_name, role, custom_role_id,
                                accepted_at, created_at, updated_at)
             VALUES ('{tenant}', '{id}', '{id}', 'Person {index}', '{role_name}', {custom},
                     '{AT}', '{AT}', '{AT}');"
        ));
    }
    conn.batch_execute(&sql).await.expect("seed");
    Seeded {
        tenant,
        role,
        member: people[1],
        holder: people[2],
    }
}

async fn refused(conn: &mut AsyncPgConnection, sql: &str) -> String {
    conn.batch_execute(sql).await.expect_err(sql).to_string()
}

#[tokio::test]
async fn custom_roles_keep_their_rules_and_fall_back_to_viewer_on_the_way_down() {
    let db = TestDatabase::create().await;
    let mut superuser = connect(db.superuser_url()).await;
    let seeded = seed(&mut superuser).await;
    let (tenant, role) = (seeded.tenant, seeded.role);

    // The table's own rules, whoever writes.
    let escalating = refused(
        &mut superuser,
        &format!(
            "INSERT INTO tenant_roles (tenant_id, id, name, permissions, version, created_at, updated_at)
             VALUES ('{tenant}', '{}', 'Root', ARRAY['manage_privileged_users'], 1, '{AT}', '{AT}')",
            Uuid::now_v7()
        ),
    )
    .await;
    assert!(
        escalating.contains("tenant_roles_permissions_check"),
        "{escalating}"
    );
    let without_role = refused(
        &mut superuser,
        &format!(
            "UPDATE users SET role = 'custom' WHERE id = '{}'",
            seeded.member
        ),
    )
    .await;
    assert!(
        without_role.contains("users_custom_role_check"),
        "{without_role}"
    );
    let in_use = refused(
        &mut superuser,
        &format!("DELETE FROM tenant_roles WHERE id = '{role}'"),
    )
    .await;
    assert!(in_use.contains("users_custom_role_fkey"), "{in_use}");
    // Another tenant's role is no role here (the composite key).
    let other = seed(&mut superuser).await;
    let foreign = refused(
        &mut superuser,
        &format!(
            "UPDATE users SET custom_role_id = '{}' WHERE id = '{}'",
            other.role, seeded.holder
        ),
    )
    .await;
    assert!(foreign.contains("users_custom_role_fkey"), "{foreign}");

    // Down, on data: the holder is a viewer, everybody else keeps their role.
    let reverted = revert_migrations_after(db.owner_url(), BEFORE_CUSTOM_ROLES)
        .await
        .expect("down");
    assert!(
        reverted.iter().any(|v| v == "20261212000034"),
        "{reverted:?}"
    );
    let roles_of = |id: Uuid, role: &str| {
        format!("SELECT count(*) AS n FROM users WHERE id = '{id}' AND role = '{role}'")
    };
    assert_eq!(
        count(&mut superuser, &roles_of(seeded.holder, "viewer")).await,
        1
    );
    assert_eq!(
        count(&mut superuser, &roles_of(seeded.member, "member")).await,
        1
    );
    assert_eq!(
        count(
            &mut superuser,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'tenant_roles'"
        )
        .await,
        0
    );

    // Up again, and the role can be defined and held as before.
    run_migrations(db.owner_url()).await.expect("up again");
    superuser
        .batch_execute(&format!(
            "INSERT INTO tenant_roles (tenant_id, id, name, permissions, version, created_at, updated_at)
             VALUES ('{tenant}', '{role}', 'Desk', ARRAY['handle_requests'], 1, '{AT}', '{AT}');
             UPDATE users SET role = 'custom', custom_role_id = '{role}' WHERE id = '{}'",
            seeded.holder
        ))
        .await
        .expect("a custom role again");
}
