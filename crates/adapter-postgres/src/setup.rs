//! Database set-up: roles and database (`aura db init`), and the embedded migrations.

use std::fmt;

use diesel::{
    QueryableByName,
    migration::MigrationVersion,
    sql_types::{BigInt, Bool, Text},
};
use diesel_async::{
    AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    async_connection_wrapper::AsyncConnectionWrapper,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use url::Url;

/// The SQL in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock key migrations run under ("AURAMIGR").
const MIGRATION_LOCK: i64 = 0x4155_5241_4d49_4752;

/// The role every migration file grants the app's privileges to: the grant template.
/// After each migration run its privileges on the database are moved to the
/// installation's own app role (see [`default_app_role`] and migration 000023), so no
/// cluster-wide role holds privileges on two installations.
pub const APP_ROLE: &str = "aura_app";

/// Moves the template's grants to the installation's app role, once migration 000023
/// has defined the function that does it.
const MOVE_APP_GRANTS: &str = "DO $$ BEGIN \
     IF to_regprocedure('aura_move_app_grants()') IS NOT NULL THEN \
         PERFORM aura_move_app_grants(); \
     END IF; END $$";

/// The setting (`ALTER DATABASE ... SET`) that names the installation's app role.
const APP_ROLE_SETTING: &str = "aura.app_role";

/// The app role of the installation in `database` when `AURA_APP_ROLE` is not set:
/// `aura_app_<database>`, lower-cased, every character outside `a-z0-9_` as `_`, cut to
/// PostgreSQL's 63 bytes.
pub fn default_app_role(database: &str) -> String {
    let mut role: String = format!("{APP_ROLE}_{database}")
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    role.truncate(63);
    role
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why set-up failed. Texts name the step, never a password.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(&'static str),
    #[error("cannot connect to the database")]
    Connect(#[source] diesel::ConnectionError),
    #[error("database statement failed: {step}")]
    Statement {
        step: &'static str,
        #[source]
        source: diesel::result::Error,
    },
    #[error("migration failed")]
    Migration(#[source] BoxError),
    #[error("{0}")]
    Refused(String),
    #[error("set-up task failed")]
    Task(#[source] tokio::task::JoinError),
}

fn statement(step: &'static str) -> impl FnOnce(diesel::result::Error) -> SetupError {
    move |source| SetupError::Statement { step, source }
}

/// Applies every pending migration, connected as the owner role (which then owns every
/// object). Returns the versions applied. Runs on a blocking thread (diesel's migration
/// harness is synchronous), so it works from any Tokio runtime.
///
/// Instances starting together (a rolling deploy, a scaled service) take turns on a
/// PostgreSQL advisory lock: the first applies the migrations, the others then find
/// none pending, instead of racing on the same `CREATE`s.
pub async fn run_migrations(owner_url: &str) -> Result<Vec<String>, SetupError> {
    with_migration_connection(owner_url, |conn| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_lock($1)").bind::<BigInt, _>(MIGRATION_LOCK),
            conn,
        )
        .map_err(statement("wait for the migration lock"))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|applied| versions(&applied))
            .map_err(SetupError::Migration)
            .and_then(|applied| {
                move_app_grants(conn)?;
                Ok(applied)
            });
        // Closing the session releases the lock as well; unlocking says so at once.
        let _ = diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(MIGRATION_LOCK),
            conn,
        );
        applied
    })
    .await
}

/// Moves what the migrations granted to the template [`APP_ROLE`] to the installation's
/// app role, when `aura db init` recorded one (migration 000023 defines the function;
/// before it, or on a database without the setting, nothing moves).
fn move_app_grants(conn: &mut AsyncConnectionWrapper<AsyncPgConnection>) -> Result<(), SetupError> {
    diesel::connection::SimpleConnection::batch_execute(conn, MOVE_APP_GRANTS)
        .map_err(statement("move the app role's grants"))
}

/// Reverts every applied migration (tests of the down migrations). Returns the versions
/// reverted, newest first.
pub async fn revert_all_migrations(owner_url: &str) -> Result<Vec<String>, SetupError> {
    with_migration_connection(owner_url, |conn| {
        let reverted = conn
            .revert_all_migrations(MIGRATIONS)
            .map_err(SetupError::Migration)?;
        Ok(versions(&reverted))
    })
    .await
}

/// Reverts the applied migrations newer than `version` (e.g. `"20261210000025"`),
/// newest first, and returns their versions: the tests of one migration's up and down
/// on a database holding data of the schema before it.
pub async fn revert_migrations_after(
    owner_url: &str,
    version: &str,
) -> Result<Vec<String>, SetupError> {
    let version = version.to_owned();
    with_migration_connection(owner_url, move |conn| {
        let mut reverted = Vec::new();
        loop {
            let applied = conn.applied_migrations().map_err(SetupError::Migration)?;
            let newest = applied.iter().map(ToString::to_string).max();
            match newest {
                Some(newest) if newest.as_str() > version.as_str() => {
                    let gone = conn
                        .revert_last_migration(MIGRATIONS)
                        .map_err(SetupError::Migration)?;
                    reverted.push(gone.to_string());
                }
                _ => return Ok(reverted),
            }
        }
    })
    .await
}

/// The versions of the embedded migrations not yet applied.
pub async fn pending_migrations(owner_url: &str) -> Result<Vec<String>, SetupError> {
    with_migration_connection(owner_url, |conn| {
        let pending = conn
            .pending_migrations(MIGRATIONS)
            .map_err(SetupError::Migration)?;
        Ok(pending
            .iter()
            .map(|m| m.name().version().to_string())
            .collect())
    })
    .await
}

/// Runs `work` on a connection of its own to `url`, on a blocking thread: diesel's
/// migration harness is synchronous, so this works from any Tokio runtime.
async fn with_migration_connection<T: Send + 'static>(
    url: &str,
    work: impl FnOnce(&mut AsyncConnectionWrapper<AsyncPgConnection>) -> Result<T, SetupError>
    + Send
    + 'static,
) -> Result<T, SetupError> {
    let target = crate::tls::Target::parse(url)
        .map_err(|e| SetupError::Connect(diesel::ConnectionError::InvalidConnectionUrl(e.0)))?;
    // Over TLS the connection is opened here (its driver runs on this runtime) and
    // handed to the blocking thread; a plain one is opened there, as diesel does it.
    let opened = if target.uses_tls() {
        Some(target.connect().await.map_err(SetupError::Connect)?)
    } else {
        None
    };
    let url = target.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = match opened {
            Some(conn) => AsyncConnectionWrapper::<AsyncPgConnection>::from(conn),
            None => {
                <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                    .map_err(SetupError::Connect)?
            }
        };
        work(&mut conn)
    })
    .await
    .map_err(SetupError::Task)?
}

fn versions(list: &[MigrationVersion<'_>]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// What [`init_database`] did, one line per step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    pub actions: Vec<String>,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for action in &self.actions {
            writeln!(f, "{action}")?;
        }
        Ok(())
    }
}

/// The parts of a connection URL that set-up needs.
#[derive(Clone)]
pub(crate) struct UrlParts {
    pub user: String,
    pub password: Option<String>,
    pub database: String,
}

impl fmt::Debug for UrlParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlParts")
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

pub(crate) fn url_parts(raw: &str, which: &'static str) -> Result<UrlParts, SetupError> {
    let url = Url::parse(raw).map_err(|_| SetupError::InvalidUrl(which))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(SetupError::InvalidUrl(which));
    }
    let user = percent_decode(url.username()).ok_or(SetupError::InvalidUrl(which))?;
    if user.is_empty() {
        return Err(SetupError::InvalidUrl(which));
    }
    let password = match url.password() {
        Some(p) => Some(percent_decode(p).ok_or(SetupError::InvalidUrl(which))?),
        None => None,
    };
    let database =
        percent_decode(url.path().trim_start_matches('/')).ok_or(SetupError::InvalidUrl(which))?;
    if database.is_empty() {
        return Err(SetupError::InvalidUrl(which));
    }
    Ok(UrlParts {
        user,
        password,
        database,
    })
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(QueryableByName)]
struct Sql {
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct RoleFlags {
    #[diesel(sql_type = Bool)]
    rolsuper: bool,
    #[diesel(sql_type = Bool)]
    rolbypassrls: bool,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Runs a statement built server-side with `format()` (`%I` quotes identifiers, `%L`
/// literals), so names and passwords are never spliced into SQL by hand.
async fn run_formatted(
    conn: &mut AsyncPgConnection,
    template: &'static str,
    args: &[&str],
    step: &'static str,
) -> Result<(), SetupError> {
    let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}")).collect();
    let query = format!(
        "SELECT format('{template}', {}) AS sql",
        placeholders.join(", ")
    );
    let mut built = diesel::sql_query(query).into_boxed::<diesel::pg::Pg>();
    for arg in args {
        built = built.bind::<Text, _>(arg.to_string());
    }
    let sql: Sql = built.get_result(conn).await.map_err(statement(step))?;
    conn.batch_execute(&sql.sql).await.map_err(statement(step))
}

async fn role_flags(
    conn: &mut AsyncPgConnection,
    role: &str,
) -> Result<Option<RoleFlags>, SetupError> {
    diesel::sql_query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
        .bind::<Text, _>(role)
        .get_result(conn)
        .await
        .map(Some)
        .or_else(|e| match e {
            diesel::result::Error::NotFound => Ok(None),
            other => Err(other),
        })
        .map_err(statement("read role"))
}

/// Creates `role` as a LOGIN (or NOLOGIN) role, NOSUPERUSER NOBYPASSRLS, or checks an
/// existing one. A password from the URL is (re)set, so the URL works afterwards.
async fn ensure_role(
    conn: &mut AsyncPgConnection,
    role: &str,
    login: bool,
    password: Option<&str>,
    report: &mut InitReport,
) -> Result<(), SetupError> {
    match role_flags(conn, role).await? {
        None => {
            let template = if login {
                "CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            } else {
                "CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            };
            run_formatted(conn, template, &[role], "create role").await?;
            report.actions.push(format!(
                "created role {role} ({})",
                if login { "login" } else { "group, no login" }
            ));
        }
        Some(flags) if flags.rolsuper || flags.rolbypassrls => {
            return Err(SetupError::Refused(format!(
                "role {role} exists with SUPERUSER or BYPASSRLS: row-level security would not bind it; \
                 use another role name or remove those attributes"
            )));
        }
        Some(_) => {
            if login {
                run_formatted(conn, "ALTER ROLE %I LOGIN", &[role], "alter role").await?;
            }
            report.actions.push(format!("role {role} exists"));
        }
    }
    if let Some(password) = password {
        run_formatted(
            conn,
            "ALTER ROLE %I PASSWORD %L",
            &[role, password],
            "set role password",
        )
        .await?;
        report.actions.push(format!("set the password of {role}"));
    }
    Ok(())
}

/// Prepares a server for AURA, connected as a superuser: creates the owner login role
/// (from `owner_url`), this installation's app role `app_role` (default
/// [`default_app_role`]: `aura_app_<database>`; a LOGIN role when `app_url` names it,
/// otherwise a NOLOGIN group that the app's login role is granted), the grant template
/// [`APP_ROLE`] (NOLOGIN when created here), all NOSUPERUSER NOBYPASSRLS, and the
/// database named in the URLs, owned by the owner role. Passwords in the URLs are set
/// on their roles. Safe to run again: what exists is kept.
///
/// One installation, one set of roles: CONNECT on the database is revoked from PUBLIC
/// and granted to the app role only (the owner has it as owner); the database records
/// its app role (`aura.app_role`), to which the migrations' grants are moved; an app
/// role or login that already reaches another database through an explicit grant is
/// refused. On a database migrated before, the grants are moved at once.
///
/// Run the migrations as the owner afterwards ([`run_migrations`]).
pub async fn init_database(
    superuser_url: &str,
    owner_url: &str,
    app_url: &str,
    app_role: Option<&str>,
) -> Result<InitReport, SetupError> {
    let owner = url_parts(owner_url, "owner URL")?;
    let app = url_parts(app_url, "app URL")?;
    url_parts(superuser_url, "superuser URL")?;
    if owner.database != app.database {
        return Err(SetupError::Refused(
            "the owner and app URLs must name the same database".to_owned(),
        ));
    }
    let database = owner.database.clone();
    let group = match app_role.map(str::trim).filter(|r| !r.is_empty()) {
        Some(role) => role.to_owned(),
        None => default_app_role(&database),
    };
    if group == APP_ROLE {
        return Err(SetupError::Refused(format!(
            "AURA_APP_ROLE: {APP_ROLE} is the grant template every installation's migrations name; \
             choose a role of this installation (default {})",
            default_app_role(&database)
        )));
    }
    if owner.user == app.user || owner.user == APP_ROLE || owner.user == group {
        return Err(SetupError::Refused(
            "the app must connect as a role other than the owner".to_owned(),
        ));
    }
    let mut report = InitReport::default();
    let mut conn = crate::tls::connect(superuser_url)
        .await
        .map_err(SetupError::Connect)?;
    let is_superuser: Exists =
        diesel::sql_query("SELECT rolsuper AS exists FROM pg_roles WHERE rolname = current_user")
            .get_result(&mut conn)
            .await
            .map_err(statement("check superuser"))?;
    if !is_superuser.exists {
        return Err(SetupError::Refused(
            "init needs a superuser connection (to create roles and the database)".to_owned(),
        ));
    }
    // A role that reaches another database through an explicit grant serves another
    // installation: sharing it would share that installation's data. So would an owner
    // that owns another installation's database (one `db init` set up: it records its app
    // role). Other databases the role owns (scratch databases of a test harness, say) are
    // no installation's.
    let owned: Option<Name> = diesel::sql_query(
        "SELECT d.datname AS name FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
         WHERE r.rolname = $1 AND d.datname <> $2
           AND EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) c
                       WHERE s.setdatabase = d.oid AND s.setrole = 0
                         AND c LIKE 'aura.app_role=%')
         ORDER BY 1 LIMIT 1",
    )
    .bind::<Text, _>(&owner.user)
    .bind::<Text, _>(&database)
    .get_result(&mut conn)
    .await
    .map(Some)
    .or_else(|e| match e {
        diesel::result::Error::NotFound => Ok(None),
        other => Err(other),
    })
    .map_err(statement("check the databases the owner owns"))?;
    if let Some(other) = owned {
        return Err(SetupError::Refused(format!(
            "role {} already owns database {}: every installation needs an owner of its own",
            owner.user, other.name
        )));
    }
    for role in [group.as_str(), app.user.as_str()] {
        if let Some(other) = other_database_served(&mut conn, role, &database).await? {
            return Err(SetupError::Refused(format!(
                "role {role} already serves database {other}: every installation needs roles of its own \
                 (set AURA_APP_ROLE and the login of DATABASE_URL to names unused on this cluster)"
            )));
        }
    }

    ensure_role(
        &mut conn,
        &owner.user,
        true,
        owner.password.as_deref(),
        &mut report,
    )
    .await?;
    // The template the migration files grant to: never a login of its own when made here.
    let template_login = app.user == APP_ROLE;
    ensure_role(
        &mut conn,
        APP_ROLE,
        template_login,
        if template_login {
            app.password.as_deref()
        } else {
            None
        },
        &mut report,
    )
    .await?;
    if app.user == group {
        ensure_role(
            &mut conn,
            &group,
            true,
            app.password.as_deref(),
            &mut report,
        )
        .await?;
    } else {
        ensure_role(&mut conn, &group, false, None, &mut report).await?;
        if !template_login {
            ensure_role(
                &mut conn,
                &app.user,
                true,
                app.password.as_deref(),
                &mut report,
            )
            .await?;
        }
        run_formatted(
            &mut conn,
            "GRANT %I TO %I",
            &[&group, &app.user],
            "grant app role",
        )
        .await?;
        report
            .actions
            .push(format!("granted {group} to {}", app.user));
    }
    // The app must not inherit the owner's rights (its lookup policies, its tables), nor
    // the owner the app's (migrations must not run as the role they confine).
    for (member, of) in [(&app.user, &owner.user), (&owner.user, &group)] {
        let inside: Exists = diesel::sql_query("SELECT pg_has_role($1, $2, 'MEMBER') AS exists")
            .bind::<Text, _>(member)
            .bind::<Text, _>(of)
            .get_result(&mut conn)
            .await
            .map_err(statement("check role membership"))?;
        if inside.exists {
            return Err(SetupError::Refused(format!(
                "role {member} is a member of role {of}: revoke that membership"
            )));
        }
    }

    let db_exists: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&database)
            .get_result(&mut conn)
            .await
            .map_err(statement("check database"))?;
    if db_exists.exists {
        run_formatted(
            &mut conn,
            "ALTER DATABASE %I OWNER TO %I",
            &[&database, &owner.user],
            "set database owner",
        )
        .await?;
        report.actions.push(format!(
            "database {database} exists (owner set to {})",
            owner.user
        ));
    } else {
        run_formatted(
            &mut conn,
            "CREATE DATABASE %I OWNER %I",
            &[&database, &owner.user],
            "create database",
        )
        .await?;
        report.actions.push(format!(
            "created database {database} owned by {}",
            owner.user
        ));
    }
    run_formatted(
        &mut conn,
        "REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC",
        &[&database],
        "revoke connect from public",
    )
    .await?;
    if !template_login {
        // An installation set up before kept CONNECT for the shared role.
        run_formatted(
            &mut conn,
            "REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM %I",
            &[&database, APP_ROLE],
            "revoke connect from the template",
        )
        .await?;
    }
    run_formatted(
        &mut conn,
        "GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I",
        &[&database, &group],
        "grant connect",
    )
    .await?;
    run_formatted(
        &mut conn,
        "ALTER DATABASE %I SET aura.app_role = %L",
        &[&database, &group],
        "record the app role",
    )
    .await?;
    report.actions.push(format!(
        "database {database}: CONNECT for {group} and the owner only; {APP_ROLE_SETTING} = {group}"
    ));
    drop(conn);

    // An installation migrated before: its grants move now, not at the next migration.
    let mut in_database = crate::tls::connect(&database_url(superuser_url, &database)?)
        .await
        .map_err(SetupError::Connect)?;
    in_database
        .batch_execute(MOVE_APP_GRANTS)
        .await
        .map_err(statement("move the app role's grants"))?;
    Ok(report)
}

/// `url` with its database replaced by `database`.
fn database_url(url: &str, database: &str) -> Result<String, SetupError> {
    let mut url = Url::parse(url).map_err(|_| SetupError::InvalidUrl("superuser URL"))?;
    url.set_path(&format!("/{}", utf8_percent_encode(database)));
    Ok(url.to_string())
}

fn utf8_percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// A database other than `database` that `role` (or a role it is a member of) holds an
/// explicit privilege on: the installation it already serves.
async fn other_database_served(
    conn: &mut AsyncPgConnection,
    role: &str,
    database: &str,
) -> Result<Option<String>, SetupError> {
    diesel::sql_query(
        "SELECT d.datname AS name
         FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
         JOIN pg_roles grantee ON grantee.oid = a.grantee
         WHERE d.datname <> $2
           AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = $1)
           AND pg_has_role($1, grantee.oid, 'MEMBER')
           AND (grantee.rolname <> $3 OR $1 = $3)
           AND d.datdba <> grantee.oid
         ORDER BY 1 LIMIT 1",
    )
    .bind::<Text, _>(role)
    .bind::<Text, _>(database)
    .bind::<Text, _>(APP_ROLE)
    .get_result::<Name>(conn)
    .await
    .map(|row| Some(row.name))
    .or_else(|e| match e {
        diesel::result::Error::NotFound => Ok(None),
        other => Err(other),
    })
    .map_err(statement("check the databases a role serves"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_yield_user_password_and_database() {
        let parts = url_parts("postgres://app%40x:p%3Ass@localhost:5432/aura", "u").unwrap();
        assert_eq!(parts.user, "app@x");
        assert_eq!(parts.password.as_deref(), Some("p:ss"));
        assert_eq!(parts.database, "aura");
        assert!(url_parts("postgres://localhost/aura", "u").is_err());
        assert!(url_parts("postgres://u@localhost/", "u").is_err());
        assert!(url_parts("mysql://u@localhost/db", "u").is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let parts = url_parts("postgres://u:secret@localhost/db", "u").unwrap();
        assert!(!format!("{parts:?}").contains("secret"));
    }
}
