//! `aura`: platform administration for AURA-GDPR — database set-up and migrations,
//! tenants and users, demo data, signing keys. Reads the same settings as `aura-api`
//! (environment and `.env`).
//!
//! Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 not found, 4 conflict.

mod documents;
mod report_export;
mod verify_pack;

use std::{collections::HashMap, io::Read, process::ExitCode};

use aura_api::{Settings, config::Environment, platform};
use aura_identity::{
    Email, FullName, IdentityError, IdentityServices, NewMember, Password, Registration,
};
use aura_shared_kernel::{PageRequest, Role, SystemScope, Tenant, TenantName, TenantSlug};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

#[derive(Parser)]
#[command(name = "aura", version, about = "AURA-GDPR platform administration")]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Database set-up.
    #[command(subcommand)]
    Db(DbCommand),
    /// Apply pending migrations (as the owner role of MIGRATION_DATABASE_URL).
    Migrate,
    /// Tenants (customer companies).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Users of a tenant.
    #[command(subcommand)]
    User(UserCommand),
    /// Create three demo tenants with owners, admins, members and viewers.
    SeedDemo,
    /// Access-token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run the background worker (reminders, digests) until SIGINT/SIGTERM, apart from
    /// the API (set WORKER_ENABLED=false there to scale them separately).
    Worker,
    /// The job queue.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Documents: export with a manifest of hashes, key rotation.
    #[command(subcommand)]
    Documents(documents::DocumentsCommand),
    /// The record of processing activities of a tenant for the supervisory authority
    /// (Art. 30(4)), on standard output or into a file.
    Export {
        /// The tenant's slug or id.
        #[arg(long)]
        tenant: String,
        /// controller (Art. 30(1)) or processor (Art. 30(2)).
        #[arg(long, default_value = "controller")]
        record: String,
        /// json, csv, pdf or xlsx (pdf and xlsx need --output).
        #[arg(long, default_value = "json")]
        format: String,
        /// The language of a pdf or xlsx: en or de (default: the tenant's setting).
        #[arg(long)]
        lang: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Check a received accountability pack: the manifest's signature against the
    /// server's public keys, every file's size and SHA-256, nothing missing or extra.
    /// Exit 0 when intact, 1 when not.
    VerifyPack {
        /// The pack (a ZIP).
        file: std::path::PathBuf,
        /// The server's JWKS: a URL (https://…/.well-known/jwks.json) or a file
        /// (default: PUBLIC_BASE_URL/.well-known/jwks.json).
        #[arg(long)]
        jwks: Option<String>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Create the owner and app roles and the database named by MIGRATION_DATABASE_URL
    /// and DATABASE_URL, if missing; confine the database to this installation's roles
    /// (CONNECT revoked from PUBLIC). Safe to run twice; run it again after upgrading
    /// an installation set up before the per-database app role.
    Init {
        /// A superuser connection, e.g. postgres://postgres@127.0.0.1:5432/postgres
        #[arg(long, env = "SUPERUSER_DATABASE_URL")]
        superuser_url: String,
        /// This installation's app role (a group the DATABASE_URL login is granted);
        /// default aura_app_<database>. Refused if it already serves another database.
        #[arg(long, env = "AURA_APP_ROLE")]
        app_role: Option<String>,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and its owner.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        owner_name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List every tenant.
    List,
    /// Suspend a tenant: its users can neither sign in nor use their tokens.
    Suspend { tenant: String },
    /// Lift a suspension.
    Reactivate { tenant: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to a tenant.
    Create {
        /// The tenant's slug or id.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// owner, admin, member or viewer.
        #[arg(long, default_value = "member")]
        role: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List a tenant's users.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a new Ed25519 signing key (<kid>.pem, mode 0600) in the directory. The newest
    /// key signs unless JWT_ACTIVE_KID names another; older ones keep verifying.
    Generate {
        #[arg(long, env = "JWT_KEYS_DIR", default_value = "./var/keys")]
        dir: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Jobs, newest first.
    List {
        /// queued, running, done, dead or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// Only this tenant (slug or id).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Put a dead or cancelled job back in the queue, to run now with fresh attempts.
    Retry { id: String },
    /// Queue depth and the age of the oldest due job.
    Stats,
}

/// Where a new password comes from. Without either flag one is generated and printed once.
#[derive(Args)]
struct PasswordSource {
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    fn runtime(message: impl std::fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
}

impl From<IdentityError> for Failure {
    fn from(error: IdentityError) -> Self {
        let code = match &error {
            IdentityError::Validation(_) => 2,
            IdentityError::NotFound => 3,
            IdentityError::Conflict { .. } => 4,
            _ => 1,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}

impl From<aura_shared_kernel::ValidationErrors> for Failure {
    fn from(errors: aura_shared_kernel::ValidationErrors) -> Self {
        Self::usage(errors.to_string())
    }
}

impl From<aura_shared_kernel::StoreError> for Failure {
    fn from(error: aura_shared_kernel::StoreError) -> Self {
        let code = match &error {
            aura_shared_kernel::StoreError::NotFound => 3,
            aura_shared_kernel::StoreError::Conflict(_) => 4,
            _ => 1,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("aura: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn settings() -> Result<Settings, Failure> {
    let settings = Settings::from_env().map_err(|problems| {
        Failure::usage(format!(
            "invalid configuration:\n  - {}",
            problems.join("\n  - ")
        ))
    })?;
    if settings.database_url.is_none() {
        return Err(Failure::usage(
            "DATABASE_URL: required (the CLI works on PostgreSQL)",
        ));
    }
    Ok(settings)
}

async fn identity() -> Result<(IdentityServices, Settings), Failure> {
    let settings = settings()?;
    let platform = platform(&settings).await.map_err(Failure::runtime)?;
    Ok((platform.identity, settings))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    aura_api::init_cli_tracing();
    let system = SystemScope::for_platform_operation("cli");
    let out = Output { json: cli.json };
    match cli.command {
        Command::Db(DbCommand::Init {
            superuser_url,
            app_role,
        }) => {
            let settings = settings()?;
            let owner = settings
                .migration_database_url
                .as_ref()
                .ok_or_else(|| Failure::usage("MIGRATION_DATABASE_URL: required"))?;
            let app = settings
                .database_url
                .as_ref()
                .ok_or_else(|| Failure::usage("DATABASE_URL: required"))?;
            let report = aura_adapter_postgres::init_database(
                &superuser_url,
                owner.expose(),
                app.expose(),
                app_role.as_deref(),
            )
            .await
            .map_err(Failure::runtime)?;
            out.print(&json!({ "actions": report.actions }), || report.to_string());
        }
        Command::Migrate => {
            let settings = settings()?;
            let owner = settings
                .migration_database_url
                .as_ref()
                .ok_or_else(|| Failure::usage("MIGRATION_DATABASE_URL: required"))?;
            let applied = aura_adapter_postgres::run_migrations(owner.expose())
                .await
                .map_err(Failure::runtime)?;
            out.print(&json!({ "applied": applied }), || {
                if applied.is_empty() {
                    "migrations: up to date".to_owned()
                } else {
                    format!("applied: {}", applied.join(", "))
                }
            });
        }
        Command::Tenant(TenantCommand::Create {
            name,
            slug,
            owner_email,
            owner_name,
            password,
        }) => {
            let (identity, _) = identity().await?;
            let (password, generated) = read_password(&password, &owner_email)?;
            let registration = Registration {
                organisation_name: TenantName::parse(&name)?,
                slug: slug.as_deref().map(TenantSlug::parse).transpose()?,
                email: identity.admin.email(&owner_email, "email")?,
                full_name: FullName::parse(&owner_name)?,
                password,
            };
            let (tenant, owner) = identity.admin.create_tenant(&system, registration).await?;
            out.print(
                &json!({ "tenant": tenant_json(&tenant), "owner_id": owner.id, "generated_password": generated }),
                || {
                    let mut text = format!("created tenant {} ({}) with owner {}", tenant.slug, tenant.id, owner.email);
                    if let Some(p) = &generated {
                        text.push_str(&format!("\ngenerated password (shown once): {p}"));
                    }
                    text
                },
            );
        }
        Command::Tenant(TenantCommand::List) => {
            let (identity, _) = identity().await?;
            let tenants = identity.admin.list_tenants(&system).await?;
            out.print(
                &json!(tenants.iter().map(tenant_json).collect::<Vec<_>>()),
                || {
                    tenants
                        .iter()
                        .map(|t| {
                            format!(
                                "{}  {:<24} {:<8} {}  {}",
                                t.id,
                                t.slug,
                                t.subscription_tier.as_str(),
                                if t.is_active {
                                    "active   "
                                } else {
                                    "suspended"
                                },
                                t.name
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        Command::Tenant(TenantCommand::Suspend { tenant }) => {
            set_active(&system, &out, &tenant, false).await?;
        }
        Command::Tenant(TenantCommand::Reactivate { tenant }) => {
            set_active(&system, &out, &tenant, true).await?;
        }
        Command::User(UserCommand::Create {
            tenant,
            email,
            name,
            role,
            password,
        }) => {
            let (identity, _) = identity().await?;
            let tenant = find_tenant(&identity, &system, &tenant).await?;
            let role: Role = role.parse().map_err(Failure::usage)?;
            let (password, generated) = read_password(&password, &email)?;
            let member = NewMember {
                email: identity.admin.email(&email, "email")?,
                full_name: FullName::parse(&name)?,
                role,
                password: Some(password),
            };
            let user = identity
                .admin
                .create_user(&system.within(tenant.id), member, &Default::default())
                .await?;
            out.print(&json!({ "user_id": user.id, "tenant": tenant.slug, "generated_password": generated }), || {
                let mut text = format!("created {} {} in {}", user.role, user.email, tenant.slug);
                if let Some(p) = &generated {
                    text.push_str(&format!("\ngenerated password (shown once): {p}"));
                }
                text
            });
        }
        Command::User(UserCommand::List { tenant }) => {
            let (identity, _) = identity().await?;
            let tenant = find_tenant(&identity, &system, &tenant).await?;
            let scope = system.within(tenant.id);
            let mut users = Vec::new();
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            loop {
                let batch = identity
                    .admin
                    .list_users(&scope, page, &Default::default())
                    .await?;
                users.extend(batch.items);
                match batch.next_cursor {
                    Some(after) => page.after = Some(after),
                    None => break,
                }
            }
            let rows: Vec<_> = users
                .iter()
                .map(|u| json!({ "id": u.id, "email": u.email, "full_name": u.full_name.as_str(), "role": u.role, "is_active": u.is_active }))
                .collect();
            out.print(&json!(rows), || {
                users
                    .iter()
                    .map(|u| {
                        format!(
                            "{}  {:<7} {:<8} {}",
                            u.id,
                            u.role,
                            if u.is_active { "active" } else { "inactive" },
                            u.email
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::SeedDemo => seed_demo(&system, &out).await?,
        Command::Worker => run_worker().await?,
        Command::Jobs(command) => jobs(&system, &out, command).await?,
        Command::Documents(command) => documents::run(&system, &out, command).await?,
        Command::VerifyPack { file, jwks } => verify_pack::run(&out, file, jwks).await?,
        Command::Export {
            tenant,
            record,
            format,
            lang,
            output,
        } => {
            let kind: aura_gdpr_registers::RecordKind = record.parse().map_err(Failure::usage)?;
            if matches!(format.as_str(), "pdf" | "xlsx") {
                let request = report_export::Request {
                    tenant,
                    kind,
                    format,
                    lang,
                    output,
                };
                return report_export::run(&system, request).await;
            }
            if !matches!(format.as_str(), "json" | "csv") {
                return Err(Failure::usage("--format: must be json, csv, pdf or xlsx"));
            }
            let settings = settings()?;
            let platform = platform(&settings).await.map_err(Failure::runtime)?;
            let tenant = find_tenant(&platform.identity, &system, &tenant).await?;
            let export = platform
                .registers
                .export(&system.within(tenant.id), kind, &Default::default())
                .await
                .map_err(Failure::runtime)?;
            let text = if format == "csv" {
                aura_gdpr_registers::to_csv(&export)
            } else {
                serde_json::to_string_pretty(&export).map_err(Failure::runtime)?
            };
            match output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(Failure::runtime)?;
                    eprintln!(
                        "wrote {} activities to {}",
                        export.activities.len(),
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
        }
        Command::Keys(KeysCommand::Generate { dir }) => {
            // A missing directory is created owner-only (0700) by the key set.
            let kid = aura_adapter_crypto::JwtKeySet::generate_into_dir(&dir)
                .map_err(Failure::runtime)?;
            out.print(&json!({ "kid": kid, "dir": dir }), || {
                format!("created signing key {kid} in {}", dir.display())
            });
        }
    }
    Ok(())
}

struct Output {
    json: bool,
}

impl Output {
    fn print(&self, value: &serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text());
        }
    }
}

fn tenant_json(tenant: &Tenant) -> serde_json::Value {
    json!({
        "id": tenant.id,
        "name": tenant.name.as_str(),
        "slug": tenant.slug.as_str(),
        "is_active": tenant.is_active,
        "subscription_tier": tenant.subscription_tier.as_str(),
    })
}

/// A password from stdin, or a generated one (returned for printing once).
fn read_password(
    source: &PasswordSource,
    email: &str,
) -> Result<(Password, Option<String>), Failure> {
    if source.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(Failure::runtime)?;
        let text = text.trim_end_matches(['\n', '\r']);
        return Ok((Password::new_checked(text, "password", Some(email))?, None));
    }
    let generated =
        aura_identity::ports::Secrets::opaque_token(&aura_adapter_crypto::RandomSecrets).plain;
    Ok((
        Password::new_checked(&generated, "password", None)?,
        Some(generated),
    ))
}

async fn find_tenant(
    identity: &IdentityServices,
    system: &SystemScope,
    key: &str,
) -> Result<Tenant, Failure> {
    identity
        .admin
        .list_tenants(system)
        .await?
        .into_iter()
        .find(|t| t.slug.as_str() == key || t.id.to_string() == key)
        .ok_or_else(|| Failure {
            code: 3,
            message: format!("no tenant `{key}`"),
        })
}

async fn set_active(
    system: &SystemScope,
    out: &Output,
    key: &str,
    active: bool,
) -> Result<(), Failure> {
    let (identity, _) = identity().await?;
    let tenant = find_tenant(&identity, system, key).await?;
    let tenant = identity
        .admin
        .set_tenant_active(system, tenant.id, active)
        .await?;
    out.print(&tenant_json(&tenant), || {
        format!(
            "{} is now {}",
            tenant.slug,
            if active { "active" } else { "suspended" }
        )
    });
    Ok(())
}

const DEMO_PASSWORD: &str = "demo-password-2026";

async fn seed_demo(system: &SystemScope, out: &Output) -> Result<(), Failure> {
    let settings = settings()?;
    if settings.environment == Environment::Production {
        return Err(Failure::usage(
            "seed-demo refuses to run with APP_ENV=production",
        ));
    }
    let platform = platform(&settings).await.map_err(Failure::runtime)?;
    let identity = &platform.identity;
    let company = aura_api::demo::CompanyServices {
        registers: &platform.registers,
        tasks: &platform.tasks,
        requests: &platform.requests,
        breaches: &platform.breaches,
        dpias: &platform.dpias,
    };
    let existing = identity.admin.list_tenants(system).await?;
    let password = Password::new_checked(DEMO_PASSWORD, "password", None)?;
    let mut created = Vec::new();
    for (slug, name) in [
        ("acme", "Acme GmbH"),
        ("globex", "Globex AG"),
        ("initech", "Initech SARL"),
    ] {
        if existing.iter().any(|t| t.slug.as_str() == slug) {
            continue;
        }
        let email = |role: &str| Email::parse(&format!("{role}@{slug}.demo.test"));
        let (tenant, owner) = identity
            .admin
            .create_tenant(
                system,
                Registration {
                    organisation_name: TenantName::parse(name)?,
                    slug: Some(TenantSlug::parse(slug)?),
                    email: email("owner")?,
                    full_name: FullName::parse(&format!("{name} Owner"))?,
                    password: password.clone(),
                },
            )
            .await?;
        let scope = system.within(tenant.id);
        let mut users = HashMap::from([(Role::Owner, owner.id)]);
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let member = NewMember {
                email: email(role.as_str())?,
                full_name: FullName::parse(&format!("{name} {role}"))?,
                role,
                password: Some(password.clone()),
            };
            let user = identity
                .admin
                .create_user(&scope, member, &Default::default())
                .await?;
            users.insert(role, user.id);
        }
        // Each tenant gets the demo company's registers (its own copy).
        aura_api::demo::seed_company(&company, &scope, users, time::OffsetDateTime::now_utc())
            .await
            .map_err(Failure::runtime)?;
        created.push(slug);
    }
    out.print(&json!({ "created": created, "password": DEMO_PASSWORD }), || {
        format!(
            "demo tenants created: {}\nusers: owner@, admin@, member@, viewer@<slug>.demo.test — password {DEMO_PASSWORD}",
            if created.is_empty() { "none (already there)".to_owned() } else { created.join(", ") }
        )
    });
    Ok(())
}

/// The worker loop in the foreground; stops after the job in hand on SIGINT/SIGTERM.
async fn run_worker() -> Result<(), Failure> {
    let settings = settings()?;
    let platform = platform(&settings).await.map_err(Failure::runtime)?;
    let poll = std::time::Duration::from_millis(settings.worker.poll_ms);
    let handle = aura_api::worker::spawn(platform.worker, poll, "worker");
    shutdown_signal().await;
    handle
        .stop(std::time::Duration::from_secs(settings.shutdown_grace_secs))
        .await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn jobs(system: &SystemScope, out: &Output, command: JobsCommand) -> Result<(), Failure> {
    use aura_jobs::{JobFilter, JobStatus, JobSummary};
    let settings = settings()?;
    let platform = platform(&settings).await.map_err(Failure::runtime)?;
    let row = |j: &JobSummary| {
        format!(
            "{}  {:<9} {:<14} attempts {}/{}  run_at {}  {}",
            j.id,
            j.status,
            j.kind,
            j.attempts,
            j.max_attempts,
            j.run_at,
            j.last_error
                .as_deref()
                .or(j.outcome.as_deref())
                .unwrap_or("")
        )
    };
    match command {
        JobsCommand::List {
            status,
            tenant,
            limit,
        } => {
            if !(1..=1_000).contains(&limit) {
                return Err(Failure::usage("--limit: must be between 1 and 1000"));
            }
            let status = status
                .as_deref()
                .map(|s| s.parse::<JobStatus>().map_err(Failure::usage))
                .transpose()?;
            let tenant = match tenant {
                Some(t) => Some(find_tenant(&platform.identity, system, &t).await?.id),
                None => None,
            };
            let filter = JobFilter {
                status,
                tenant,
                limit,
            };
            let jobs = platform.jobs.list(system, &filter).await?;
            out.print(&json!(jobs), || {
                jobs.iter().map(row).collect::<Vec<_>>().join("\n")
            });
        }
        JobsCommand::Retry { id } => {
            let id = uuid::Uuid::parse_str(&id)
                .map_err(|_| Failure::usage("the job id must be a UUID"))?;
            let now = time::OffsetDateTime::now_utc();
            let job = platform.jobs.retry(system, id, now).await?;
            out.print(&json!(job), || format!("queued again: {}", row(&job)));
        }
        JobsCommand::Stats => {
            let stats = platform
                .jobs
                .stats(system, time::OffsetDateTime::now_utc())
                .await?;
            out.print(&json!(stats), || {
                format!(
                    "due {}  scheduled {}  running {}  dead {}  oldest due {} s",
                    stats.due, stats.scheduled, stats.running, stats.dead, stats.oldest_due_seconds
                )
            });
        }
    }
    Ok(())
}
