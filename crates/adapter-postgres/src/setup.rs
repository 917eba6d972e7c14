//! Database set-up: roles and database (`aura db init`), and the embedded migrations.

use std::fmt;

use diesel::{
    QueryableByName,
    migration::MigrationVersion,
    sql_types::{BigInt, Bool, Text},
};
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    async_connection_wrapper::AsyncConnectionWrapper,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use url::Url;

/// The SQL in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock key migrations run under ("AURAMIGR").
const MIGRATION_LOCK: i64 = 0x4155_5241_4d49_4752;

/// The role every migration grants the app's privileges to.
pub const APP_ROLE: &str = "aura_app";

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
            .map(|applied| versions(&applied));
        // Closing the session releases the lock as well; unlocking says so at once.
        let _ = diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(MIGRATION_LOCK),
            conn,
        );
        applied.map_err(SetupError::Migration)
    })
    .await
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
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .map_err(SetupError::Connect)?;
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
/// (from `owner_url`), the app role `aura_app` (a LOGIN role when `app_url` names it,
/// otherwise a NOLOGIN group that the app's login role is granted), all NOSUPERUSER
/// NOBYPASSRLS, and the database named in the URLs, owned by the owner role. Passwords
/// in the URLs are set on their roles. Safe to run again: what exists is kept.
///
/// Run the migrations as the owner afterwards ([`run_migrations`]).
pub async fn init_database(
    superuser_url: &str,
    owner_url: &str,
    app_url: &str,
) -> Result<InitReport, SetupError> {
    let owner = url_parts(owner_url, "owner URL")?;
    let app = url_parts(app_url, "app URL")?;
    url_parts(superuser_url, "superuser URL")?;
    if owner.database != app.database {
        return Err(SetupError::Refused(
            "the owner and app URLs must name the same database".to_owned(),
        ));
    }
    if owner.user == app.user || owner.user == APP_ROLE {
        return Err(SetupError::Refused(
            "the app must connect as a role other than the owner".to_owned(),
        ));
    }
    let mut report = InitReport::default();
    let mut conn = AsyncPgConnection::establish(superuser_url)
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

    ensure_role(
        &mut conn,
        &owner.user,
        true,
        owner.password.as_deref(),
        &mut report,
    )
    .await?;
    if app.user == APP_ROLE {
        ensure_role(
            &mut conn,
            APP_ROLE,
            true,
            app.password.as_deref(),
            &mut report,
        )
        .await?;
    } else {
        ensure_role(&mut conn, APP_ROLE, false, None, &mut report).await?;
        ensure_role(
            &mut conn,
            &app.user,
            true,
            app.password.as_deref(),
            &mut report,
        )
        .await?;
        run_formatted(
            &mut conn,
            "GRANT %I TO %I",
            &[APP_ROLE, &app.user],
            "grant app role",
        )
        .await?;
        report
            .actions
            .push(format!("granted {APP_ROLE} to {}", app.user));
    }
    // The app must not inherit the owner's rights (its lookup policies, its tables).
    let app_in_owner: Exists = diesel::sql_query("SELECT pg_has_role($1, $2, 'MEMBER') AS exists")
        .bind::<Text, _>(&app.user)
        .bind::<Text, _>(&owner.user)
        .get_result(&mut conn)
        .await
        .map_err(statement("check role membership"))?;
    if app_in_owner.exists {
        return Err(SetupError::Refused(format!(
            "role {} is a member of the owner role {}: revoke that membership",
            app.user, owner.user
        )));
    }

    let db_exists: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&owner.database)
            .get_result(&mut conn)
            .await
            .map_err(statement("check database"))?;
    if db_exists.exists {
        run_formatted(
            &mut conn,
            "ALTER DATABASE %I OWNER TO %I",
            &[&owner.database, &owner.user],
            "set database owner",
        )
        .await?;
        report.actions.push(format!(
            "database {} exists (owner set to {})",
            owner.database, owner.user
        ));
    } else {
        run_formatted(
            &mut conn,
            "CREATE DATABASE %I OWNER %I",
            &[&owner.database, &owner.user],
            "create database",
        )
        .await?;
        report.actions.push(format!(
            "created database {} owned by {}",
            owner.database, owner.user
        ));
    }
    run_formatted(
        &mut conn,
        "GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I",
        &[&owner.database, APP_ROLE],
        "grant connect",
    )
    .await?;
    Ok(report)
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
