//! The database itself: migrations, the catalog (forced RLS, role attributes) and
//! row-level security as the app role sees it.

mod common;

use aura_adapter_postgres::{
    TestDatabase, revert_all_migrations, run_migrations, testing::unscoped_view,
};
use aura_identity::RefreshFamily;
use aura_shared_kernel::TenantScope;
use common::{
    T0, alpha_and_beta, connect, connect_stores, count, enter_tenant, env, env_with_pool,
    registered, registered_with_member,
};
use diesel::{
    QueryableByName,
    sql_types::{Bool, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use time::Duration;
use uuid::Uuid;

#[derive(QueryableByName, Debug)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName, Debug)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

async fn flag(conn: &mut AsyncPgConnection, sql: &str) -> bool {
    diesel::sql_query(sql)
        .get_result::<Flag>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .flag
}

async fn names(conn: &mut AsyncPgConnection, sql: &str) -> Vec<String> {
    let rows = diesel::sql_query(sql).load::<Name>(conn).await;
    let rows = rows.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|n| n.name).collect()
}

async fn user_tables(conn: &mut AsyncPgConnection) -> Vec<String> {
    names(
        conn,
        "SELECT c.relname::text AS name FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'
            AND c.relname <> '__diesel_schema_migrations'
          ORDER BY 1",
    )
    .await
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDatabase::create().await;
    let mut conn = connect(db.owner_url()).await;
    let before = user_tables(&mut conn).await;
    assert!(before.contains(&"audit_events".to_owned()), "{before:?}");

    // One folder per migration under migrations/ (so adding one needs no edit here).
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .expect("migrations folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("up.sql").is_file())
        .count();
    let reverted = revert_all_migrations(db.owner_url()).await.expect("down");
    assert_eq!(reverted.len(), migrations, "{reverted:?}");
    assert!(user_tables(&mut conn).await.is_empty());
    let functions = count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_proc WHERE proname LIKE 'aura\\_%'",
    )
    .await;
    assert_eq!(
        functions, 0,
        "down migrations leave no lookup function behind"
    );

    let applied = run_migrations(db.owner_url()).await.expect("up again");
    assert_eq!(applied.len(), migrations);
    assert_eq!(user_tables(&mut conn).await, before);
    // Nothing pending: running again applies nothing.
    assert!(
        run_migrations(db.owner_url())
            .await
            .expect("noop")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_apply_the_migrations_once() {
    let db = TestDatabase::create().await;
    let all = revert_all_migrations(db.owner_url()).await.expect("down");
    // Four instances start at the same moment: without the advisory lock they race on
    // the same CREATEs and all but one fail.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let url = db.owner_url().to_owned();
            tokio::spawn(async move { run_migrations(&url).await })
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.push(run.await.expect("joined").expect("every instance starts"));
    }
    applied.sort_by_key(Vec::len);
    assert!(applied[..3].iter().all(Vec::is_empty), "{applied:?}");
    assert_eq!(applied[3].len(), all.len(), "{applied:?}");
}

#[tokio::test]
async fn migrations_refuse_to_run_as_the_app_role() {
    let db = TestDatabase::create().await;
    revert_all_migrations(db.owner_url()).await.expect("down");
    let error = run_migrations(db.app_url()).await.expect_err("app role");
    let chain = format!("{error:?}");
    assert!(
        chain.contains("owner role") || chain.contains("permission denied"),
        "{chain}"
    );
}

#[tokio::test]
async fn catalog_every_tenant_table_forces_rls_and_the_app_role_cannot_bypass_it() {
    let db = TestDatabase::create().await;
    let mut conn = connect(db.app_url()).await;

    let tables = names(
        &mut conn,
        "SELECT DISTINCT table_name::text AS name FROM information_schema.columns
          WHERE table_schema = 'public' AND column_name = 'tenant_id'
         UNION SELECT 'tenants' ORDER BY 1",
    )
    .await;
    // 13 of the foundation and the registers, `tasks` and `jobs`.
    assert!(tables.len() >= 15, "{tables:?}");
    assert!(
        tables.contains(&"tasks".to_owned()) && tables.contains(&"jobs".to_owned()),
        "{tables:?}"
    );

    let mut forced = 0;
    for table in &tables {
        // Table names come from the catalog itself.
        let rls = flag(
            &mut conn,
            &format!(
                "SELECT (c.relrowsecurity AND c.relforcerowsecurity) AS flag FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND c.relname = '{table}'"
            ),
        )
        .await;
        assert!(rls, "{table} lacks ENABLE + FORCE row-level security");
        let policies = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM pg_policies WHERE schemaname = 'public'
                    AND tablename = '{table}' AND policyname = 'tenant_isolation'"
            ),
        )
        .await;
        assert_eq!(policies, 1, "{table} lacks its tenant policy");
        forced += 1;
    }
    println!("{} tenant tables, {forced} with forced RLS", tables.len());

    // Powers the app role must not have, each asked as a yes-or-no question.
    for (question, what) in [
        (
            "SELECT (rolsuper OR rolbypassrls) AS flag FROM pg_roles WHERE rolname = current_user",
            "the app role is superuser or BYPASSRLS",
        ),
        (
            "SELECT count(*) > 0 AS flag FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND pg_has_role(current_user, c.relowner, 'MEMBER')",
            "the app role owns (or inherits the owner of) a table",
        ),
        (
            "SELECT pg_has_role(current_user, 'aura_owner', 'MEMBER') AS flag",
            "the app role is a member of the owner role",
        ),
    ] {
        assert!(!flag(&mut conn, question).await, "{what}");
    }

    // The cross-tenant lookups and the job queue's functions are SECURITY DEFINER with a
    // fixed search_path, and only the app role (not PUBLIC) may run them.
    let lookups = count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_proc
          WHERE proname IN ('aura_find_login', 'aura_slug_taken', 'aura_find_refresh_token',
                            'aura_find_reset_token', 'aura_list_tenants',
                            'aura_claim_jobs', 'aura_schedule_for_active_tenants', 'aura_list_jobs',
                            'aura_retry_job', 'aura_job_stats', 'aura_find_public_intake',
                            'aura_forget_lone_account', 'aura_find_account',
                            'aura_pending_member_email', 'aura_accept_membership',
                            'aura_account_password_changed', 'aura_accept_sign_in',
                            'aura_account_tenants', 'aura_enter_tenant',
                            'aura_partner_access', 'aura_find_partner',
                            'aura_partner_grants')
            AND prosecdef AND proconfig::text LIKE '%search_path%'
            AND has_function_privilege('aura_app', oid, 'EXECUTE')
            AND proacl IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM aclexplode(proacl) a
                             WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')",
    )
    .await;
    assert_eq!(lookups, 22);
    // The insert check runs as the owner too, and nobody calls it directly.
    assert!(
        flag(
            &mut conn,
            "SELECT prosecdef AND proconfig::text LIKE '%search_path%'
                    AND NOT has_function_privilege('aura_app', oid, 'EXECUTE') AS flag
               FROM pg_proc WHERE proname = 'aura_check_new_membership'",
        )
        .await,
        "aura_check_new_membership"
    );
}

#[tokio::test]
async fn without_a_tenant_the_app_role_sees_nothing() {
    let env = env().await;
    alpha_and_beta(&env.stores).await;
    let mut conn = connect(env.db.app_url()).await;
    for table in [
        "tenants",
        "users",
        "audit_events",
        "audit_chain_heads",
        "refresh_families",
        "refresh_tokens",
        "password_reset_tokens",
    ] {
        let n = count(&mut conn, &format!("SELECT count(*) AS n FROM {table}")).await;
        assert_eq!(n, 0, "{table} visible without a tenant");
    }
    // The superuser sees what is there (so the zeros above are RLS, not emptiness).
    let mut admin = connect(env.db.superuser_url()).await;
    assert_eq!(
        count(&mut admin, "SELECT count(*) AS n FROM tenants").await,
        2
    );
}

#[tokio::test]
async fn a_tenant_context_sees_only_its_own_rows_and_cannot_write_into_another() {
    let env = env().await;
    let [(a, _, _), (b, b_owner, _)] = alpha_and_beta(&env.stores).await;
    let mut conn = connect(env.db.app_url()).await;
    enter_tenant(&mut conn, a.id).await;
    for (table, column) in [
        ("tenants", "id"),
        ("users", "tenant_id"),
        ("audit_events", "tenant_id"),
        ("audit_chain_heads", "tenant_id"),
    ] {
        let own = count(&mut conn, &format!("SELECT count(*) AS n FROM {table}")).await;
        assert!(own > 0, "{table}: own rows visible");
        let foreign = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM {table} WHERE {column} <> '{}'",
                a.id
            ),
        )
        .await;
        assert_eq!(foreign, 0, "{table}: another tenant's rows visible");
    }
    let named_b = count(
        &mut conn,
        &format!(
            "SELECT count(*) AS n FROM users WHERE tenant_id = '{}'",
            b.id
        ),
    )
    .await;
    assert_eq!(named_b, 0);

    // Writing a row of B from A's context fails the policy's WITH CHECK.
    let insert = conn
        .batch_execute(&format!(
            "INSERT INTO users (tenant_id, id, account_id, full_name, role, created_at, updated_at)
             VALUES ('{}', '{}', '{}', 'X', 'owner', now(), now())",
            b.id,
            Uuid::now_v7(),
            Uuid::now_v7()
        ))
        .await
        .expect_err("cross-tenant insert");
    assert!(
        insert.to_string().contains("row-level security"),
        "{insert}"
    );
    conn.batch_execute("ROLLBACK").await.expect("rollback");

    // Updating B's rows from A's context changes nothing.
    enter_tenant(&mut conn, a.id).await;
    let changed = diesel::sql_query("UPDATE users SET full_name = 'Mallory' WHERE id = $1::uuid")
        .bind::<Text, _>(b_owner.id.to_string())
        .execute(&mut conn)
        .await
        .expect("update");
    assert_eq!(changed, 0);
    conn.batch_execute("COMMIT").await.expect("commit");
}

#[tokio::test]
async fn the_tenant_setting_does_not_leak_to_the_next_borrower() {
    // One connection in the pool: the second use gets the very same connection.
    let env = env_with_pool(1).await;
    let (_, _, scope) = registered(&env.stores, "alpha").await;
    let users = env
        .stores
        .users()
        .list(&scope, aura_shared_kernel::PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(users.items.len(), 1);
    let (rows, setting) = unscoped_view(&env.stores, "users").await.expect("view");
    assert_eq!(rows, 0, "the pooled connection kept the tenant");
    assert!(setting.is_empty() || setting == "<unset>", "{setting}");
}

/// Behind a transaction-mode pooler a server connection serves whichever client comes
/// next: with `transaction_pooling` nothing the adapter prepares outlives its
/// transaction (the same work with the statement cache leaves statements behind).
#[tokio::test]
async fn with_transaction_pooling_no_prepared_statement_outlives_its_transaction() {
    use aura_adapter_postgres::{PoolSettings, testing::cached_statements};
    use aura_shared_kernel::FixedClock;
    use std::sync::Arc;
    let db = TestDatabase::create().await;
    for pooling in [false, true] {
        // One connection: every step below runs on the same server session.
        let settings = PoolSettings {
            max_size: 1,
            transaction_pooling: pooling,
            ..PoolSettings::default()
        };
        let stores = connect_stores(db.app_url(), settings, Arc::new(FixedClock::at(T0))).await;
        let (_, owner, scope) =
            registered(&stores, if pooling { "pooled" } else { "cached" }).await;
        stores.ready().await.expect("ready");
        let users = stores.users();
        users.find_for_login(&owner.email).await.expect("lookup");
        users
            .list(&scope, aura_shared_kernel::PageRequest::first(10))
            .await
            .expect("list");
        let cached = cached_statements(&stores).await.expect("count");
        if pooling {
            assert_eq!(cached, 0, "statements left on the server connection");
        } else {
            assert!(cached > 0, "the probe sees cached statements: {cached}");
        }
    }
}

#[tokio::test]
async fn composite_foreign_keys_stop_links_into_another_tenant_even_for_the_superuser() {
    let env = env().await;
    let [(a, _, _), (_, b_owner, _)] = alpha_and_beta(&env.stores).await;
    let mut admin = connect(env.db.superuser_url()).await;
    let error = admin
        .batch_execute(&format!(
            "INSERT INTO refresh_families
                 (tenant_id, id, user_id, session_version, created_at, absolute_expires_at)
             VALUES ('{}', '{}', '{}', 1, now(), now() + interval '1 day')",
            a.id,
            Uuid::now_v7(),
            b_owner.id
        ))
        .await
        .expect_err("cross-tenant family");
    assert!(error.to_string().contains("foreign key"), "{error}");

    // And through the adapter: a family of A for B's user is NotFound.
    let scope = TenantScope::for_credential_check(a.id, Some(b_owner.id));
    let family = RefreshFamily {
        id: Uuid::now_v7(),
        tenant_id: a.id,
        user_id: b_owner.id,
        session_version: 1,
        created_at: T0,
        absolute_expires_at: T0 + Duration::days(30),
    };
    let result = env
        .stores
        .sessions()
        .start(
            &scope,
            &family,
            &aura_identity::TokenHash([7; 32]),
            T0 + Duration::days(1),
            common::event(aura_identity::actions::USER_LOGIN_SUCCEEDED, family.id),
        )
        .await;
    assert!(
        matches!(result, Err(aura_shared_kernel::StoreError::NotFound)),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_app_role_can_neither_change_nor_remove_audit_events() {
    let env = env().await;
    let (a, _, _, _) = registered_with_member(&env.stores, "alpha").await;
    let mut conn = connect(env.db.app_url()).await;
    for statement in [
        "UPDATE audit_events SET action = 'forged'",
        "UPDATE audit_events SET changes = '{}'",
        "UPDATE audit_events SET personal_digest = NULL",
        "UPDATE audit_events SET hash = prev_hash",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        enter_tenant(&mut conn, a.id).await;
        let error = conn.batch_execute(statement).await.expect_err(statement);
        assert!(
            error.to_string().contains("permission denied"),
            "{statement}: {error}"
        );
        conn.batch_execute("ROLLBACK").await.expect("rollback");
    }
    // Shredding is the one change it may make: clearing the personal values.
    enter_tenant(&mut conn, a.id).await;
    conn.batch_execute("UPDATE audit_events SET personal = NULL, personal_salt = NULL")
        .await
        .expect("the app may shred personal values");
    conn.batch_execute("ROLLBACK").await.expect("rollback");
    let mut admin = connect(env.db.superuser_url()).await;
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) AS n FROM audit_events WHERE action = 'forged'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_stores_refuse_a_role_that_could_bypass_rls() {
    use std::sync::Arc;

    use aura_adapter_postgres::PoolSettings;
    use aura_shared_kernel::SystemClock;

    let db = TestDatabase::create().await;
    let connect_as = |url: String| async move {
        connect_stores(&url, PoolSettings::default(), Arc::new(SystemClock)).await
    };
    connect_as(db.app_url().to_owned())
        .await
        .check_app_role()
        .await
        .expect("the app role is fine");
    for url in [db.owner_url(), db.superuser_url()] {
        let error = connect_as(url.to_owned())
            .await
            .check_app_role()
            .await
            .expect_err("owner and superuser bypass RLS");
        assert!(error.to_string().contains("unexpected"), "{error}");
    }
}

#[tokio::test]
async fn init_database_creates_roles_and_database_and_can_run_twice() {
    use std::sync::Arc;

    use aura_adapter_postgres::{PoolSettings, init_database};
    use aura_shared_kernel::SystemClock;

    let db = TestDatabase::create().await; // only for its server's superuser URL
    let tag = &Uuid::new_v4().simple().to_string()[..10];
    let (owner, login, database) = (
        format!("aura_it_owner_{tag}"),
        format!("aura_it_login_{tag}"),
        format!("aura_test_init_{tag}"),
    );
    let url_for = |user: &str, password: &str, database: &str| {
        let mut url = url::Url::parse(db.superuser_url()).expect("url");
        url.set_username(user).expect("user");
        url.set_password(Some(password)).expect("password");
        url.set_path(&format!("/{database}"));
        url.to_string()
    };
    let superuser = {
        let mut url = url::Url::parse(db.superuser_url()).expect("url");
        url.set_path("/postgres");
        url.to_string()
    };
    let owner_url = url_for(&owner, "owner pw'\"", &database);
    let app_url = url_for(&login, "app:pw@x", &database);

    let first = init_database(&superuser, &owner_url, &app_url, None)
        .await
        .expect("init");
    let text = first.to_string();
    assert!(text.contains(&format!("created role {owner}")), "{text}");
    assert!(text.contains(&format!("created role {login}")), "{text}");
    assert!(text.contains("role aura_app exists"), "{text}");
    assert!(
        text.contains(&format!("created database {database}")),
        "{text}"
    );
    assert!(!text.contains("pw"), "no password in the report");
    let second = init_database(&superuser, &owner_url, &app_url, None)
        .await
        .expect("init again");
    assert!(second.to_string().contains(&format!("role {owner} exists")));

    // Refusals: the app as owner.
    assert!(
        init_database(&superuser, &owner_url, &owner_url, None)
            .await
            .is_err()
    );

    run_migrations(&owner_url)
        .await
        .expect("migrate as the new owner");
    let stores = connect_stores(&app_url, PoolSettings::default(), Arc::new(SystemClock)).await;
    stores.check_app_role().await.expect("login role confined");
    let (tenant, _, scope) = registered(&stores, "init").await;
    assert_eq!(
        stores.tenants().get(&scope).await.expect("get").id,
        tenant.id
    );
    drop(stores);

    let mut admin = connect(&superuser).await;
    for statement in [
        format!("DROP DATABASE \"{database}\" WITH (FORCE)"),
        format!("DROP ROLE \"{login}\""),
        format!(
            "DROP ROLE \"{}\"",
            aura_adapter_postgres::default_app_role(&database)
        ),
        format!("DROP ROLE \"{owner}\""),
    ] {
        admin.batch_execute(&statement).await.expect("clean up");
    }
}

#[tokio::test]
async fn a_cancelled_tenant_transaction_leaves_nothing_on_the_pooled_connection() {
    use std::sync::Arc;

    use aura_adapter_crypto::HmacChainHasher;
    use aura_audit::AuditService;
    use aura_identity::actions;

    let env = env_with_pool(1).await;
    let (a, _, scope) = registered(&env.stores, "alpha").await;
    // Hold A's chain head so the next append waits inside its transaction.
    let mut blocker = connect(env.db.superuser_url()).await;
    blocker.batch_execute("BEGIN").await.expect("begin");
    blocker
        .batch_execute(&format!(
            "SELECT * FROM audit_chain_heads WHERE tenant_id = '{}' FOR UPDATE",
            a.id
        ))
        .await
        .expect("lock");
    let audit = env.stores.audit();
    let append = audit.append(&scope, common::event(actions::USER_UPDATED, 1));
    let cancelled = tokio::time::timeout(std::time::Duration::from_millis(300), append).await;
    assert!(cancelled.is_err(), "the append should still be waiting");
    blocker.batch_execute("ROLLBACK").await.expect("release");

    // The one pooled connection was abandoned mid-transaction: the next borrower gets a
    // clean one, with no tenant set.
    let (rows, setting) = unscoped_view(&env.stores, "users").await.expect("view");
    assert_eq!(rows, 0);
    assert!(setting.is_empty() || setting == "<unset>", "{setting}");
    env.stores
        .audit()
        .append(&scope, common::event(actions::USER_UPDATED, 2))
        .await
        .expect("append after");
    let verified = AuditService::new(
        env.stores.audit(),
        Arc::new(HmacChainHasher::with_test_key()),
    )
    .verify(&scope)
    .await
    .expect("verify");
    assert!(verified.valid);
    assert_eq!(
        verified.events_checked, 3,
        "the cancelled event was not stored"
    );
}
