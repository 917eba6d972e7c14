//! Migration 000026 (accounts and memberships) on a database holding users of the
//! schema before it: up keeps every user's sign-in, session and id; down gives the
//! users back their address, password and session version; up again works.

mod common;

use std::sync::Arc;

use aura_adapter_postgres::{revert_migrations_after, run_migrations};
use aura_identity::{Email, ports::UserRepository};
use aura_shared_kernel::{FixedClock, PageRequest, TenantId, TenantScope, UserId};
use common::{T0, connect, connect_stores, count};
use diesel_async::SimpleAsyncConnection;
use time::Duration;
use uuid::Uuid;

/// `T0` as PostgreSQL reads it, and 30 days later.
const T0_SQL: &str = "2026-11-23 10:00:00+00";
const T0_PLUS_30_DAYS_SQL: &str = "2026-12-23 10:00:00+00";

/// The last migration before the accounts.
const BEFORE_ACCOUNTS: &str = "20261210000025";

struct Seeded {
    tenant_a: Uuid,
    tenant_b: Uuid,
    /// (id, e-mail, tenant)
    users: Vec<(Uuid, String, Uuid)>,
    family: Uuid,
}

/// Tenants, users with passwords, session versions and a live session, written as the
/// superuser on the schema before the accounts.
async fn seed_old_schema(superuser_url: &str) -> Seeded {
    let mut conn = connect(superuser_url).await;
    let (tenant_a, tenant_b) = (Uuid::now_v7(), Uuid::now_v7());
    let suffix = Uuid::new_v4().simple().to_string();
    let users = vec![
        (
            Uuid::now_v7(),
            format!("owner-a-{suffix}@example.com"),
            tenant_a,
        ),
        (
            Uuid::now_v7(),
            format!("member-a-{suffix}@example.com"),
            tenant_a,
        ),
        (
            Uuid::now_v7(),
            format!("owner-b-{suffix}@example.com"),
            tenant_b,
        ),
    ];
    let family = Uuid::now_v7();
    let mut sql = format!(
        "INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES
           ('{tenant_a}', 'A GmbH', 'a-{s}', '{T0_SQL}', '{T0_SQL}'),
           ('{tenant_b}', 'B GmbH', 'b-{s}', '{T0_SQL}', '{T0_SQL}');",
        s = &suffix[..12],
    );
    for (index, (id, email, tenant)) in users.iter().enumerate() {
        let role = if index == 1 { "member" } else { "owner" };
        // Session versions 3, 4, 5: a token of before carries them.
        sql.push_str(&format!(
            "INSERT INTO users (tenant_id, id, email, full_name, role, password_hash,
                                session_version, created_at, updated_at)
             VALUES ('{tenant}', '{id}', '{email}', 'Person {index}', '{role}',
                     'hash-{index}', {}, '{T0_SQL}', '{T0_SQL}');",
            index + 3
        ));
    }
    let (member, _, _) = &users[1];
    sql.push_str(&format!(
        "INSERT INTO refresh_families (tenant_id, id, user_id, session_version, created_at,
                                       absolute_expires_at)
         VALUES ('{tenant_a}', '{family}', '{member}', 4, '{T0_SQL}', '{T0_PLUS_30_DAYS_SQL}');"
    ));
    conn.batch_execute(&sql).await.expect("seed the old schema");
    Seeded {
        tenant_a,
        tenant_b,
        users,
        family,
    }
}

#[tokio::test]
async fn existing_users_become_accounts_and_memberships_and_back() {
    let db = aura_adapter_postgres::TestDatabase::create().await;
    let reverted = revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS)
        .await
        .expect("down to the schema before the accounts");
    assert!(
        reverted.iter().any(|v| v == "20261210000026"),
        "{reverted:?}"
    );
    let seeded = seed_old_schema(db.superuser_url()).await;

    // Up, on data.
    run_migrations(db.owner_url()).await.expect("up");
    let mut superuser = connect(db.superuser_url()).await;
    assert_eq!(
        count(&mut superuser, "SELECT count(*) AS n FROM accounts").await,
        3
    );
    assert_eq!(
        count(
            &mut superuser,
            "SELECT count(*) AS n FROM users u JOIN accounts a ON a.id = u.account_id
              WHERE a.id = u.id AND a.session_version = 0 AND u.accepted_at = u.created_at
                AND a.password_hash = 'hash-' || (u.session_version - 3)"
        )
        .await,
        3,
        "one account per user, with the user's id, password and a session version of 0"
    );

    let clock = Arc::new(FixedClock::at(T0 + Duration::hours(1)));
    let stores = connect_stores(db.app_url(), Default::default(), clock).await;
    for (index, (id, email, tenant)) in seeded.users.iter().enumerate() {
        let login = stores
            .find_for_login(&Email::parse(email).unwrap())
            .await
            .expect("lookup")
            .expect("the address still signs in");
        assert_eq!(login.user.id, UserId::from_uuid(*id), "the same id");
        assert_eq!(login.user.account_id.as_uuid(), *id);
        assert_eq!(login.tenant.id, TenantId::from_uuid(*tenant));
        assert_eq!(login.user.password_hash.as_str(), format!("hash-{index}"));
        let expected = i32::try_from(index).unwrap() + 3;
        assert_eq!(
            login.user.session_generation(),
            expected,
            "tokens issued before carry the same session version"
        );
    }
    // The session of before is still a live session of the same membership.
    let (member, _, _) = &seeded.users[1];
    let member = UserId::from_uuid(*member);
    let scope =
        TenantScope::for_credential_check(TenantId::from_uuid(seeded.tenant_a), Some(member));
    let principal = stores
        .find_principal(&scope, member, seeded.family)
        .await
        .expect("read")
        .expect("the member");
    assert!(principal.session_active);
    assert_eq!(principal.user.session_generation(), 4);
    // Accounts stay out of other tenants' reach: B's context sees only B's account.
    let scope_b = TenantScope::for_credential_check(TenantId::from_uuid(seeded.tenant_b), None);
    let b_users = stores
        .list(&scope_b, PageRequest::first(10))
        .await
        .expect("B's users");
    assert_eq!(b_users.items.len(), 1);

    // A password change after the migration moves the account's session version.
    superuser
        .batch_execute(&format!(
            "UPDATE accounts SET session_version = 1, password_hash = 'hash-new' WHERE id = '{}'",
            seeded.users[0].0
        ))
        .await
        .expect("a password change");

    // Down, on data.
    revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS)
        .await
        .expect("down");
    let back = count(
        &mut superuser,
        &format!(
            "SELECT count(*) AS n FROM users
              WHERE (id = '{}' AND email = '{}' AND password_hash = 'hash-new' AND session_version = 4)
                 OR (id = '{}' AND email = '{}' AND password_hash = 'hash-1' AND session_version = 4)
                 OR (id = '{}' AND email = '{}' AND password_hash = 'hash-2' AND session_version = 5)",
            seeded.users[0].0,
            seeded.users[0].1,
            seeded.users[1].0,
            seeded.users[1].1,
            seeded.users[2].0,
            seeded.users[2].1,
        ),
    )
    .await;
    assert_eq!(
        back, 3,
        "every user has their address, password and session generation back"
    );
    assert_eq!(
        count(
            &mut superuser,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'accounts'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &mut superuser,
            "SELECT count(*) AS n FROM refresh_families WHERE session_version = 4"
        )
        .await,
        1,
        "the session survived both ways"
    );

    // And up again.
    run_migrations(db.owner_url()).await.expect("up again");
    assert_eq!(
        count(&mut superuser, "SELECT count(*) AS n FROM accounts").await,
        3
    );
}

#[tokio::test]
async fn down_refuses_an_account_in_two_tenants() {
    let db = aura_adapter_postgres::TestDatabase::create().await;
    revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS)
        .await
        .expect("down");
    let seeded = seed_old_schema(db.superuser_url()).await;
    run_migrations(db.owner_url()).await.expect("up");
    let mut superuser = connect(db.superuser_url()).await;
    // The owner of A becomes a member of B as well (accepted: written as the end state,
    // past the insert check that keeps the app from forging it).
    let (owner_a, _, _) = &seeded.users[0];
    superuser
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             INSERT INTO users (tenant_id, id, account_id, full_name, role, accepted_at,
                                created_at, updated_at)
             VALUES ('{}', '{}', '{owner_a}', 'Consultant', 'admin', '{T0_SQL}', '{T0_SQL}', '{T0_SQL}');
             RESET session_replication_role",
            seeded.tenant_b,
            Uuid::now_v7()
        ))
        .await
        .expect("a second membership");
    let refused = revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS).await;
    let error = format!(
        "{:?}",
        refused.expect_err("a user of before has one tenant")
    );
    assert!(error.contains("more than one tenant"), "{error}");
    assert_eq!(
        count(&mut superuser, "SELECT count(*) AS n FROM accounts").await,
        3,
        "nothing was reverted"
    );
}

/// Finding 6: the down of 000026 copied the account's address and password to every
/// membership, a pending one too, which then signed in to a tenant the person never
/// joined. A pending membership goes instead; accepted ones sign in as before.
#[tokio::test]
async fn down_never_turns_a_pending_membership_into_a_login() {
    let db = aura_adapter_postgres::TestDatabase::create().await;
    revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS)
        .await
        .expect("down");
    let seeded = seed_old_schema(db.superuser_url()).await;
    run_migrations(db.owner_url()).await.expect("up");
    let mut superuser = connect(db.superuser_url()).await;
    // An account whose only membership is an invitation into B, not accepted (its
    // membership in another tenant was removed since).
    let (account, membership) = (Uuid::now_v7(), Uuid::now_v7());
    let email = format!("invitee-{}@example.com", Uuid::new_v4().simple());
    superuser
        .batch_execute(&format!(
            "INSERT INTO accounts (id, email, password_hash, created_at, updated_at)
             VALUES ('{account}', '{email}', 'hash-invitee', '{T0_SQL}', '{T0_SQL}');
             INSERT INTO users (tenant_id, id, account_id, full_name, role, created_at, updated_at)
             VALUES ('{}', '{membership}', '{account}', 'Invitee', 'admin', '{T0_SQL}', '{T0_SQL}')",
            seeded.tenant_b
        ))
        .await
        .expect("a pending membership");

    revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS)
        .await
        .expect("down");
    assert_eq!(
        count(
            &mut superuser,
            &format!("SELECT count(*) AS n FROM aura_find_login('{email}')")
        )
        .await,
        0,
        "the invitation signs nobody in"
    );
    assert_eq!(
        count(
            &mut superuser,
            &format!(
                "SELECT count(*) AS n FROM users WHERE id = '{membership}' OR email = '{email}'"
            )
        )
        .await,
        0
    );
    assert_eq!(
        count(&mut superuser, "SELECT count(*) AS n FROM users").await,
        3,
        "the accepted users stay"
    );
}

/// Review finding 1, on the down of 000028: a membership that created its account is
/// accepted (000026's rule) only while it is the account's only way in. One whose
/// account has an accepted membership elsewhere, whose password was set through a
/// link, stays pending (and 000026's down then removes it).
#[tokio::test]
async fn down_of_the_hardening_accepts_a_creating_membership_only_while_it_is_the_only_way_in() {
    let db = aura_adapter_postgres::TestDatabase::create().await;
    revert_migrations_after(db.owner_url(), BEFORE_ACCOUNTS)
        .await
        .expect("down");
    let seeded = seed_old_schema(db.superuser_url()).await;
    run_migrations(db.owner_url()).await.expect("up");
    let mut superuser = connect(db.superuser_url()).await;
    let (a, b) = (seeded.tenant_a, seeded.tenant_b);
    let (taken, lone, in_b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let suffix = Uuid::new_v4().simple();
    // `taken`: created by A's pending membership, accepted in B through B's link (its
    // password set there). `lone`: A's pending membership is all it has. Written as
    // they would be in that order; the insert check is for the app, not this seed.
    superuser
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             INSERT INTO accounts (id, email, password_hash, session_version, created_at, updated_at)
             VALUES ('{taken}', 'taken-{suffix}@example.com', 'hash-b', 1, '{T0_SQL}', '{T0_SQL}'),
                    ('{lone}', 'lone-{suffix}@example.com', 'hash-a', 0, '{T0_SQL}', '{T0_SQL}');
             INSERT INTO users (tenant_id, id, account_id, full_name, role, accepted_at, created_at, updated_at)
             VALUES ('{a}', '{taken}', '{taken}', 'Taken', 'member', NULL, '{T0_SQL}', '{T0_SQL}'),
                    ('{b}', '{in_b}', '{taken}', 'Taken', 'member', '{T0_SQL}', '{T0_SQL}', '{T0_SQL}'),
                    ('{a}', '{lone}', '{lone}', 'Lone', 'member', NULL, '{T0_SQL}', '{T0_SQL}');
             RESET session_replication_role;"
        ))
        .await
        .expect("the memberships");

    revert_migrations_after(db.owner_url(), "20261211000027")
        .await
        .expect("down to 000026's accounts");
    let accepted = |id: Uuid, tenant: Uuid| {
        format!(
            "SELECT count(*) AS n FROM users
              WHERE tenant_id = '{tenant}' AND id = '{id}' AND accepted_at IS NOT NULL"
        )
    };
    assert_eq!(
        count(&mut superuser, &accepted(taken, a)).await,
        0,
        "A took over"
    );
    assert_eq!(count(&mut superuser, &accepted(in_b, b)).await, 1);
    assert_eq!(count(&mut superuser, &accepted(lone, a)).await, 1);
    assert_eq!(
        count(
            &mut superuser,
            &format!("SELECT count(*) AS n FROM aura_find_login('taken-{suffix}@example.com') WHERE tenant_id = '{a}'")
        )
        .await,
        0
    );
    run_migrations(db.owner_url()).await.expect("up again");
}
