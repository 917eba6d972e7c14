//! Issue 18, item 2: one installation's database login cannot reach another's data on the
//! same PostgreSQL cluster. Two installations (two databases) are set up on the test
//! cluster the way `aura db init` and `aura migrate` set them up, and attacked with each
//! other's logins, as the database sees them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aura_adapter_postgres::{
    APP_ROLE, default_app_role, init_database, run_migrations, testing::TestDatabase,
};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Bool, Text},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use url::Url;

/// One installation's names and URLs.
struct Installation {
    owner: String,
    login: String,
    database: String,
    group: String,
    owner_url: String,
    app_url: String,
}

fn url_for(base: &str, user: &str, password: &str, database: &str) -> String {
    let mut url = Url::parse(base).expect("url");
    url.set_username(user).expect("user");
    url.set_password(Some(password)).expect("password");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

impl Installation {
    fn new(base: &str, name: &str) -> Self {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let (owner, login, database) = (
            format!("aura_rt_owner_{name}_{tag}"),
            format!("aura_rt_login_{name}_{tag}"),
            format!("aura_rt_{name}_{tag}"),
        );
        Self {
            owner_url: url_for(base, &owner, "owner-pw", &database),
            app_url: url_for(base, &login, "login-pw", &database),
            group: default_app_role(&database),
            owner,
            login,
            database,
        }
    }
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

async fn connect(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

async fn flag(conn: &mut AsyncPgConnection, sql: &str) -> bool {
    diesel::sql_query(sql)
        .get_result::<Flag>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .flag
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .count
}

/// Privileges `role` holds directly on the tables, columns and functions of the
/// database `conn` is connected to.
async fn privileges_of(conn: &mut AsyncPgConnection, role: &str) -> i64 {
    count(
        conn,
        &format!(
            "SELECT (
               (SELECT count(*) FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
                 WHERE a.grantee = '{role}'::regrole)
             + (SELECT count(*) FROM pg_attribute t CROSS JOIN LATERAL aclexplode(t.attacl) a
                 WHERE a.grantee = '{role}'::regrole)
             + (SELECT count(*) FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
                 WHERE a.grantee = '{role}'::regrole)
             )::bigint AS count"
        ),
    )
    .await
}

#[tokio::test]
async fn one_installations_login_cannot_reach_another_installations_database() {
    let harness = TestDatabase::create().await; // only for its server's superuser URL
    let superuser = {
        let mut url = Url::parse(harness.superuser_url()).expect("url");
        url.set_path("/postgres");
        url.to_string()
    };
    let a = Installation::new(&superuser, "a");
    let b = Installation::new(&superuser, "b");
    for install in [&a, &b] {
        let report = init_database(&superuser, &install.owner_url, &install.app_url, None)
            .await
            .expect("db init");
        let text = report.to_string();
        assert!(
            text.contains(&format!("created role {}", install.group)),
            "{text}"
        );
        assert!(
            text.contains(&format!("granted {} to {}", install.group, install.login)),
            "{text}"
        );
        run_migrations(&install.owner_url).await.expect("migrate");
    }
    let mut admin_a = connect(&url_for(&superuser, "postgres", "", &a.database)).await;
    let mut admin_b = connect(&url_for(&superuser, "postgres", "", &b.database)).await;

    // Each login works in its own database: it reads and writes its tables (row-level
    // security then confines it to the tenant it names).
    let mut login_a = connect(&a.app_url).await;
    let rows = count(&mut login_a, "SELECT count(*) AS count FROM tenants").await;
    assert_eq!(
        rows, 0,
        "no tenant named: row-level security hides every row"
    );
    login_a
        .batch_execute("BEGIN; SELECT count(*) FROM users; SELECT aura_list_tenants(); ROLLBACK")
        .await
        .expect("the app's privileges reach its login");

    // A's login cannot even connect to B's database (CONNECT is not PUBLIC's).
    let b_with_a_login = url_for(&superuser, &a.login, "login-pw", &b.database);
    let refused = AsyncPgConnection::establish(&b_with_a_login)
        .await
        .err()
        .expect("A's login must not connect to B");
    assert!(
        refused
            .to_string()
            .contains("permission denied for database"),
        "{refused}"
    );
    // Nor can A's migration login, the owner of A.
    let b_with_a_owner = url_for(&superuser, &a.owner, "owner-pw", &b.database);
    assert!(AsyncPgConnection::establish(&b_with_a_owner).await.is_err());

    // And were it let in (a PUBLIC grant put back by hand), it could read nothing: B's
    // privileges belong to B's role, not to a role A's login is a member of.
    for (table, privilege) in [
        ("users", "SELECT"),
        ("tenants", "INSERT"),
        ("audit_events", "SELECT"),
        ("personal_data_breaches", "UPDATE"),
    ] {
        let sql = format!(
            "SELECT has_table_privilege('{}', '{table}', '{privilege}') AS flag",
            a.login
        );
        assert!(!flag(&mut admin_b, &sql).await, "{sql}");
        let sql = format!(
            "SELECT has_table_privilege('{}', '{table}', '{privilege}') AS flag",
            b.login
        );
        assert!(flag(&mut admin_b, &sql).await, "{sql}");
    }
    let sql = format!(
        "SELECT has_function_privilege('{}', 'aura_find_login(text)', 'EXECUTE') AS flag",
        a.login
    );
    assert!(!flag(&mut admin_b, &sql).await, "{sql}");
    for (login, database, expected) in [
        (&a.login, &b.database, false),
        (&b.login, &a.database, false),
        (&a.login, &a.database, true),
        (&b.login, &b.database, true),
        (&APP_ROLE.to_owned(), &a.database, false),
        (&APP_ROLE.to_owned(), &b.database, false),
    ] {
        let sql =
            format!("SELECT has_database_privilege('{login}', '{database}', 'CONNECT') AS flag");
        assert_eq!(flag(&mut admin_a, &sql).await, expected, "{sql}");
    }

    // The grants moved from the template to the installation's role, column-level ones
    // included; the template keeps nothing.
    for admin in [&mut admin_a, &mut admin_b] {
        assert_eq!(privileges_of(admin, APP_ROLE).await, 0);
    }
    let moved = privileges_of(&mut admin_b, &b.group).await;
    assert!(moved > 50, "{moved} privileges for {}", b.group);
    for (column, expected) in [("personal", true), ("personal_salt", true), ("hash", false)] {
        let sql = format!(
            "SELECT has_column_privilege('{}', 'audit_events', '{column}', 'UPDATE') AS flag",
            b.group
        );
        assert_eq!(flag(&mut admin_b, &sql).await, expected, "{sql}");
    }
    let recorded = diesel::sql_query("SELECT current_setting('aura.app_role') AS value")
        .get_result::<Setting>(&mut admin_b)
        .await
        .expect("setting");
    assert_eq!(recorded.value, b.group);

    // A later migration that grants to the template: the next migration run moves it.
    let mut owner_a = connect(&a.owner_url).await;
    owner_a
        .batch_execute(&format!("GRANT SELECT ON tenants TO {APP_ROLE}"))
        .await
        .expect("grant as a migration does");
    run_migrations(&a.owner_url).await.expect("migrate again");
    assert_eq!(privileges_of(&mut admin_a, APP_ROLE).await, 0);

    // db init refuses to share a role with another installation.
    let c = Installation::new(&superuser, "c");
    for (owner_url, app_url, role, what) in [
        (&c.owner_url, &c.app_url, Some(a.group.as_str()), &a.group),
        (
            &c.owner_url,
            &url_for(&superuser, &a.login, "login-pw", &c.database),
            None,
            &a.login,
        ),
        (
            &url_for(&superuser, &a.owner, "owner-pw", &c.database),
            &c.app_url,
            None,
            &a.owner,
        ),
    ] {
        let refused = init_database(&superuser, owner_url, app_url, role)
            .await
            .expect_err("a role of another installation");
        let text = refused.to_string();
        assert!(
            text.contains(what.as_str()) && text.contains(&a.database),
            "{text}"
        );
    }
    let template = init_database(&superuser, &c.owner_url, &c.app_url, Some(APP_ROLE))
        .await
        .expect_err("the template as an installation's role");
    assert!(
        template.to_string().contains("grant template"),
        "{template}"
    );

    drop((login_a, owner_a, admin_a, admin_b));
    cleanup(&superuser, &[&a, &b, &c]).await;
}

/// An installation set up before the per-database role (its grants on the shared
/// `aura_app`, CONNECT for PUBLIC): running `aura db init` again moves it over.
#[tokio::test]
async fn db_init_moves_an_installation_set_up_before() {
    let harness = TestDatabase::create().await;
    let superuser = {
        let mut url = Url::parse(harness.superuser_url()).expect("url");
        url.set_path("/postgres");
        url.to_string()
    };
    let old = Installation::new(&superuser, "old");
    let mut admin = connect(&superuser).await;
    for statement in [
        format!("CREATE ROLE {} LOGIN PASSWORD 'owner-pw'", old.owner),
        format!("CREATE DATABASE {} OWNER {}", old.database, old.owner),
        format!(
            "DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                     CREATE ROLE {APP_ROLE} NOLOGIN;
                 END IF;
             END $$"
        ),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .unwrap_or_else(|e| panic!("the old layout: {statement}: {e}"));
    }
    run_migrations(&old.owner_url)
        .await
        .expect("migrate the old way");
    let old_admin_url = url_for(&superuser, "postgres", "", &old.database);
    let mut old_admin = connect(&old_admin_url).await;
    let before = privileges_of(&mut old_admin, APP_ROLE).await;
    assert!(before > 50, "the old layout grants to {APP_ROLE}: {before}");
    let stranger = format!("aura_rt_stranger_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE ROLE {stranger} LOGIN PASSWORD 'x'"))
        .await
        .expect("a login of no installation");
    let can_connect = format!(
        "SELECT has_database_privilege('{stranger}', '{}', 'CONNECT') AS flag",
        old.database
    );
    assert!(
        flag(&mut old_admin, &can_connect).await,
        "the old layout lets PUBLIC connect"
    );
    drop(old_admin);

    init_database(&superuser, &old.owner_url, &old.app_url, None)
        .await
        .expect("db init on the old installation");
    let mut old_admin = connect(&old_admin_url).await;
    assert_eq!(privileges_of(&mut old_admin, APP_ROLE).await, 0);
    assert_eq!(privileges_of(&mut old_admin, &old.group).await, before);
    assert!(!flag(&mut old_admin, &can_connect).await, "{can_connect}");
    let mut login = connect(&old.app_url).await;
    login
        .batch_execute("BEGIN; SELECT count(*) FROM users; ROLLBACK")
        .await
        .expect("the installation's login works after the move");
    drop((login, old_admin));
    admin
        .batch_execute(&format!("DROP ROLE {stranger}"))
        .await
        .expect("drop");
    drop(admin);
    cleanup(&superuser, &[&old]).await;
}

async fn cleanup(superuser: &str, installs: &[&Installation]) {
    let mut admin = connect(superuser).await;
    for install in installs {
        for statement in [
            format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                install.database
            ),
            format!("DROP ROLE IF EXISTS \"{}\"", install.login),
            format!("DROP ROLE IF EXISTS \"{}\"", install.group),
            format!("DROP ROLE IF EXISTS \"{}\"", install.owner),
        ] {
            admin.batch_execute(&statement).await.expect("clean up");
        }
    }
}
