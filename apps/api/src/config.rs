//! Settings from environment variables (and `.env` in development), validated at start:
//! every bad variable is reported by name before the service refuses to start.

use std::{collections::HashMap, env, fmt, net::IpAddr, path::PathBuf, str::FromStr};

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    Log,
    File(PathBuf),
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// none | starttls | tls
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// Which AI provider answers the assistant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiProviderKind {
    /// Built-in templates and rules; no network (the default, and always in demo mode).
    Offline,
    /// An OpenAI-compatible chat-completions API.
    OpenAi,
}

/// The AI assistant's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiSettings {
    pub provider: AiProviderKind,
    /// Root of the OpenAI-compatible API (`…/v1`).
    pub base_url: Option<Secret>,
    pub model: String,
    pub api_key: Option<Secret>,
    /// `bearer` (Authorization: Bearer) or `api-key` (Azure OpenAI).
    pub api_key_header: String,
    pub timeout_secs: u64,
    pub max_tokens: u32,
    pub max_retries: u32,
    /// Provider requests per tenant and clock hour.
    pub rate_limit_per_hour: u32,
}

/// The background worker: reminders, digests, retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Run the worker inside `aura-api` (false: run `aura worker` separately).
    pub enabled: bool,
    /// Pause between passes when the queue had nothing due.
    pub poll_ms: u64,
    pub lease_secs: i64,
    pub batch: usize,
    pub max_attempts: i32,
    pub retry_base_secs: i64,
    pub retry_max_secs: i64,
    /// Days before the due date, largest first.
    pub reminder_offsets_days: Vec<u16>,
    /// Time of day (UTC) reminders and digests go out.
    pub send_time_utc: time::Time,
    /// Link to a task in mails; `{id}` is replaced.
    pub task_url: String,
    pub digest_max_tasks: usize,
    /// Link to a data-subject request in mails; `{id}` is replaced.
    pub request_url: String,
    /// Days before a request's first due date that owners and admins are told to answer
    /// or extend it.
    pub request_extend_warning_days: u16,
    /// Link to a personal-data breach in the escalation alerts; `{id}` is replaced.
    pub breach_url: String,
}

/// Metrics and trace export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservabilitySettings {
    /// Bearer token for `/metrics` (on the public listener, or also on the separate one).
    pub metrics_token: Option<Secret>,
    /// A separate listener serving only `/metrics` (then not on the public one).
    pub metrics_bind_addr: Option<String>,
    /// OTLP/HTTP base URL; spans go to `{endpoint}/v1/traces`. None: no export.
    pub otlp_endpoint: Option<Secret>,
    pub service_name: String,
}

/// Request rate limits (per client address on the public auth routes, per tenant on the
/// API), shared by every instance through PostgreSQL or Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Per client address on sign-up, sign-in, refresh and password reset; also the
    /// burst (a minute's worth may come at once).
    pub auth_per_minute: u32,
    pub tenant_per_minute: u32,
    pub tenant_burst: u32,
    /// The share (percent) of the tenant's request quota, and of its hourly AI quota,
    /// one user may use.
    pub user_share_percent: u8,
    /// Submissions a minute to one tenant's public request intake page (also the burst).
    pub intake_per_minute: u32,
    /// Keep the counts in Redis instead of PostgreSQL.
    pub redis_url: Option<Secret>,
}

/// The audit trail: the chain's key, and how long personal values stay readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Keys the chain and signs its checkpoints (base64, 32+ bytes), kept outside the
    /// database. None: development only (a generated key file; random in demo mode).
    pub chain_key: Option<Secret>,
    /// Days after which the personal values of audit events (addresses, agents, names)
    /// are shredded; 0 keeps them.
    pub personal_retention_days: u32,
    /// Every this many days the owners get the chain's signed checkpoint by mail; 0: never.
    pub checkpoint_mail_days: u32,
}

/// Documents: the upload cap, the per-tenant quota and the server key that wraps each
/// tenant's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSettings {
    /// `DOCUMENT_KEY` (base64, 32+ bytes). None: derived from the password pepper under
    /// its own label.
    pub key: Option<Secret>,
    /// `DOCUMENT_KEY_PREVIOUS`: the key before a rotation, still opening data keys wrapped
    /// under it until `aura documents rewrap` ran.
    pub previous_key: Option<Secret>,
    /// `MAX_UPLOAD_BYTES` (default 25 MiB).
    pub max_upload_bytes: u64,
    /// `DOCUMENT_QUOTA_BYTES` (default 1 GiB per tenant).
    pub quota_bytes: u64,
    /// `DOCUMENT_STORAGE`: where the sealed chunks go.
    pub storage: DocumentStorage,
}

/// Where the documents' sealed chunk bytes are kept (metadata, staging, quota and audit
/// are in PostgreSQL either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentStorage {
    /// `postgres` (the default): in the `document_chunks` table.
    Postgres,
    /// `s3`: in an S3-compatible bucket, one object per chunk.
    S3(S3Config),
}

/// The bucket of `DOCUMENT_STORAGE=s3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `S3_ENDPOINT` (e.g. `https://s3.eu-central-1.amazonaws.com`).
    pub endpoint: String,
    /// `S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `S3_BUCKET`.
    pub bucket: String,
    /// `S3_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `S3_SECRET_ACCESS_KEY`.
    pub secret_access_key: Secret,
    /// `S3_ALLOW_HTTP` (default false; refused in production).
    pub allow_http: bool,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// None: demo mode on the in-memory store.
    pub database_url: Option<Secret>,
    pub migration_database_url: Option<Secret>,
    pub run_migrations: bool,
    pub bind_addr: String,
    pub workers: Option<usize>,
    pub shutdown_grace_secs: u64,
    pub db_pool_max_size: usize,
    pub db_acquire_timeout_ms: u64,
    /// `DATABASE_URL` goes through a transaction-mode pooler (PgBouncer
    /// `pool_mode = transaction`): no prepared statement is cached.
    pub db_transaction_pooling: bool,
    /// A pooled connection unused this long is checked (`SELECT 1`) before it is lent.
    pub db_check_idle_after_seconds: u64,
    pub jwt_keys_dir: PathBuf,
    pub jwt_active_kid: Option<String>,
    pub jwt_hs256_secret: Option<Secret>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_idle_ttl_secs: i64,
    pub refresh_absolute_ttl_secs: i64,
    pub password_pepper: Option<Secret>,
    pub bcrypt_cost: u32,
    pub signup_enabled: bool,
    /// Members a tenant may add per UTC day (`INVITATIONS_PER_DAY`): the installation's
    /// cap; a tenant's own `invitations_per_day` setting can only lower it.
    pub invitations_per_day: u32,
    /// How long a tenant's portfolio summary is served from memory
    /// (`PORTFOLIO_CACHE_SECS`; 0: computed on every request).
    pub portfolio_cache_secs: i64,
    pub password_reset_url: String,
    /// Where the service is reached from outside (`PUBLIC_BASE_URL`): the links in the
    /// public intake's confirmation mails start with it.
    pub public_base_url: String,
    pub mail: MailTransport,
    pub mail_from: String,
    pub cors_allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<IpAddr>,
    pub max_body_bytes: usize,
    /// Body cap on the routes that carry documents (policy texts).
    pub max_document_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// 0: no `Strict-Transport-Security` header.
    pub hsts_max_age_secs: u64,
    pub log_format: LogFormat,
    pub ai: AiSettings,
    pub worker: WorkerConfig,
    pub observability: ObservabilitySettings,
    pub rate_limits: RateLimitSettings,
    /// How long an `Idempotency-Key`'s answer is replayed.
    pub idempotency_ttl_hours: i64,
    /// How long an accountability pack is kept before its bytes are removed.
    pub pack_retention_hours: i64,
    pub documents: DocumentSettings,
    pub audit: AuditSettings,
    /// Serve `/docs` and `/openapi.json` (default: on in development, off in production).
    pub api_docs_enabled: bool,
    /// Show the commit and build time in `/api/v1/system/info` (default: on in
    /// development, off in production: they tell an attacker which build to study).
    pub build_details_enabled: bool,
    /// A user's repeated permission denials within this many seconds are one audit event
    /// with their count.
    pub audit_denial_window_secs: i64,
}

/// Reads variables, collecting one message per bad one.
struct Reader<'a> {
    vars: &'a HashMap<String, String>,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or(default).to_owned()
    }

    fn parsed<T: FromStr>(&mut self, name: &str, default: T, what: &str) -> T {
        match self.raw(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.problems.push(format!("{name}: must be {what}"));
                default
            }),
        }
    }

    fn ranged<T: FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        name: &str,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let value = self.parsed(name, default, &format!("a number from {min} to {max}"));
        if value < min || value > max {
            self.problems
                .push(format!("{name}: must be a number from {min} to {max}"));
        }
        value
    }

    fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            Some(_) => {
                self.problems.push(format!("{name}: must be true or false"));
                default
            }
        }
    }

    fn url(&mut self, name: &str, schemes: &[&str]) -> Option<Secret> {
        let raw = self.raw(name)?;
        match url::Url::parse(raw) {
            Ok(url) if schemes.contains(&url.scheme()) => Some(Secret(raw.to_owned())),
            // The value may hold a password: name the variable, never echo it.
            _ => {
                self.problems.push(format!(
                    "{name}: must be a URL starting with {}://",
                    schemes.join(":// or ")
                ));
                None
            }
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Settings {
    /// Loads `.env` (if present, without overriding real variables), then the process
    /// environment.
    pub fn from_env() -> Result<Self, Vec<String>> {
        // A missing .env is normal; a malformed one is reported.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            return Err(vec![format!(".env: {error}")]);
        }
        Self::from_vars(&env::vars().collect())
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, Vec<String>> {
        let mut r = Reader {
            vars,
            problems: Vec::new(),
        };
        let environment = match r.raw("APP_ENV").unwrap_or("development") {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            _ => {
                r.problems
                    .push("APP_ENV: must be development or production".to_owned());
                Environment::Development
            }
        };
        let production = environment == Environment::Production;
        let pg = &["postgres", "postgresql"];
        let database_url = r.url("DATABASE_URL", pg);
        let migration_database_url = r.url("MIGRATION_DATABASE_URL", pg);
        let run_migrations = r.flag("RUN_MIGRATIONS", true);
        if database_url.is_some() && run_migrations && migration_database_url.is_none() {
            r.problems.push(
                "MIGRATION_DATABASE_URL: required to apply migrations at start (or set RUN_MIGRATIONS=false)"
                    .to_owned(),
            );
        }
        if production && database_url.is_none() {
            r.problems.push(
                "DATABASE_URL: required in production (demo mode persists nothing)".to_owned(),
            );
        }
        let bind_addr = r.string("BIND_ADDR", "127.0.0.1:8080");
        if bind_addr.parse::<std::net::SocketAddr>().is_err() {
            r.problems
                .push("BIND_ADDR: must be host:port, e.g. 0.0.0.0:8080".to_owned());
        }
        let workers = if r.raw("WORKERS").is_some() {
            Some(r.ranged("WORKERS", 2usize, 1, 256))
        } else {
            None
        };
        let jwt_hs256_secret = r.raw("JWT_HS256_SECRET").map(|s| Secret(s.to_owned()));
        if let Some(secret) = &jwt_hs256_secret {
            if production {
                r.problems.push(
                    "JWT_HS256_SECRET: HS256 is a development option; production signs with EdDSA keys"
                        .to_owned(),
                );
            } else if secret.0.len() < 32 {
                r.problems
                    .push("JWT_HS256_SECRET: must be at least 32 characters".to_owned());
            }
        }
        let password_pepper = r.raw("PASSWORD_PEPPER").map(|s| Secret(s.to_owned()));
        if production && password_pepper.is_none() {
            r.problems.push(
                "PASSWORD_PEPPER: required in production (32+ random bytes, base64)".to_owned(),
            );
        }
        let mail = match r.raw("MAIL_TRANSPORT").unwrap_or("log") {
            "log" => MailTransport::Log,
            "file" => MailTransport::File(PathBuf::from(r.string("MAIL_DIR", "./var/mail"))),
            "smtp" => {
                let host = r.string("SMTP_HOST", "");
                if host.is_empty() {
                    r.problems
                        .push("SMTP_HOST: required when MAIL_TRANSPORT=smtp".to_owned());
                }
                let tls = r.string("SMTP_TLS", "starttls");
                if !["none", "starttls", "tls"].contains(&tls.as_str()) {
                    r.problems
                        .push("SMTP_TLS: must be none, starttls or tls".to_owned());
                }
                MailTransport::Smtp(SmtpSettings {
                    host,
                    port: r.ranged("SMTP_PORT", 587u16, 1, 65535),
                    tls,
                    username: r.raw("SMTP_USERNAME").map(str::to_owned),
                    password: r.raw("SMTP_PASSWORD").map(|s| Secret(s.to_owned())),
                })
            }
            _ => {
                r.problems
                    .push("MAIL_TRANSPORT: must be log, file or smtp".to_owned());
                MailTransport::Log
            }
        };
        let trusted_proxies = r
            .list("TRUSTED_PROXIES")
            .into_iter()
            .filter_map(|ip| match ip.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    r.problems
                        .push(format!("TRUSTED_PROXIES: `{ip}` is not an IP address"));
                    None
                }
            })
            .collect();
        let cors_allowed_origins = r.list("CORS_ALLOWED_ORIGINS");
        for origin in &cors_allowed_origins {
            if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin == "*" {
                r.problems.push(format!(
                    "CORS_ALLOWED_ORIGINS: `{origin}` must be an origin like https://app.example.com"
                ));
            }
        }
        let log_format =
            match r
                .raw("LOG_FORMAT")
                .unwrap_or(if production { "json" } else { "pretty" })
            {
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                _ => {
                    r.problems
                        .push("LOG_FORMAT: must be json or pretty".to_owned());
                    LogFormat::Pretty
                }
            };
        let password_reset_url = r.string(
            "PASSWORD_RESET_URL",
            "http://localhost:3000/reset-password?token={token}",
        );
        if !password_reset_url.contains("{token}") {
            r.problems
                .push("PASSWORD_RESET_URL: must contain {token}".to_owned());
        }
        // A reset link carries a bearer secret: in production it travels over TLS only.
        if production && !password_reset_url.starts_with("https://") {
            r.problems.push(
                "PASSWORD_RESET_URL: must be an https:// URL in production (the link carries the reset token)"
                    .to_owned(),
            );
        }
        let public_base_url = r.string("PUBLIC_BASE_URL", "http://localhost:8080");
        if !url::Url::parse(&public_base_url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        {
            r.problems
                .push("PUBLIC_BASE_URL: must be an http:// or https:// URL".to_owned());
        }
        let ai = ai_settings(&mut r);
        let worker = worker_config(&mut r);
        let observability = observability_settings(&mut r, &bind_addr);
        let rate_limits = rate_limit_settings(&mut r);
        let audit = audit_settings(&mut r, production, password_pepper.as_ref());
        let document_storage = document_storage(&mut r, production, database_url.is_some());
        if production && !rate_limits.enabled {
            r.problems.push(
                "RATE_LIMIT_ENABLED: cannot be false in production (sign-in and sign-up would be unlimited)"
                    .to_owned(),
            );
        }
        let settings = Settings {
            environment,
            database_url,
            migration_database_url,
            run_migrations,
            bind_addr,
            workers,
            shutdown_grace_secs: r.ranged("SHUTDOWN_GRACE_SECS", 30u64, 1, 600),
            db_pool_max_size: r.ranged("DB_POOL_MAX_SIZE", 16usize, 1, 512),
            db_acquire_timeout_ms: r.ranged("DB_ACQUIRE_TIMEOUT_MS", 2_000u64, 50, 60_000),
            db_transaction_pooling: r.flag("DB_TRANSACTION_POOLING", false),
            db_check_idle_after_seconds: r.ranged("DB_CHECK_IDLE_AFTER_SECONDS", 30u64, 0, 3_600),
            jwt_keys_dir: PathBuf::from(r.string("JWT_KEYS_DIR", "./var/keys")),
            jwt_active_kid: r.raw("JWT_ACTIVE_KID").map(str::to_owned),
            jwt_hs256_secret,
            jwt_issuer: r.string("JWT_ISSUER", "aura-gdpr"),
            jwt_audience: r.string("JWT_AUDIENCE", "aura-gdpr-api"),
            access_token_ttl_secs: r.ranged("ACCESS_TOKEN_TTL_SECS", 900i64, 60, 3_600),
            refresh_idle_ttl_secs: r.ranged(
                "REFRESH_IDLE_TTL_SECS",
                14 * 86_400i64,
                300,
                90 * 86_400,
            ),
            refresh_absolute_ttl_secs: r.ranged(
                "REFRESH_ABSOLUTE_TTL_SECS",
                30 * 86_400i64,
                300,
                365 * 86_400,
            ),
            password_pepper,
            bcrypt_cost: r.ranged("BCRYPT_COST", 12u32, 10, 16),
            signup_enabled: r.flag("SIGNUP_ENABLED", true),
            invitations_per_day: r.ranged("INVITATIONS_PER_DAY", 20u32, 1, 10_000),
            portfolio_cache_secs: r.ranged("PORTFOLIO_CACHE_SECS", 30i64, 0, 300),
            password_reset_url,
            public_base_url,
            mail,
            mail_from: r.string("MAIL_FROM", "AURA-GDPR <no-reply@localhost>"),
            cors_allowed_origins,
            trusted_proxies,
            max_body_bytes: r.ranged("MAX_BODY_BYTES", 65_536usize, 1_024, 10 * 1024 * 1024),
            max_document_body_bytes: r.ranged(
                "MAX_DOCUMENT_BODY_BYTES",
                1_048_576usize,
                65_536,
                16 * 1024 * 1024,
            ),
            request_timeout_secs: r.ranged("REQUEST_TIMEOUT_SECS", 30u64, 1, 600),
            hsts_max_age_secs: r.ranged("HSTS_MAX_AGE_SECS", 31_536_000u64, 0, 63_072_000),
            log_format,
            ai,
            worker,
            observability,
            rate_limits,
            idempotency_ttl_hours: r.ranged("IDEMPOTENCY_TTL_HOURS", 24i64, 1, 720),
            pack_retention_hours: r.ranged("PACK_RETENTION_HOURS", 168i64, 1, 8_760),
            documents: DocumentSettings {
                key: r.raw("DOCUMENT_KEY").map(|s| Secret(s.to_owned())),
                previous_key: r.raw("DOCUMENT_KEY_PREVIOUS").map(|s| Secret(s.to_owned())),
                max_upload_bytes: r.ranged("MAX_UPLOAD_BYTES", 26_214_400u64, 1, 1 << 30),
                quota_bytes: r.ranged("DOCUMENT_QUOTA_BYTES", 1u64 << 30, 1, 1 << 50),
                storage: document_storage,
            },
            audit,
            api_docs_enabled: r.flag("API_DOCS_ENABLED", !production),
            build_details_enabled: r.flag("BUILD_DETAILS_ENABLED", !production),
            audit_denial_window_secs: r.ranged("AUDIT_DENIAL_WINDOW_SECS", 60i64, 1, 3_600),
        };
        if r.problems.is_empty() {
            Ok(settings)
        } else {
            Err(r.problems)
        }
    }
}

/// `DOCUMENT_STORAGE` and, for `s3`, the bucket: every missing variable named; plain
/// HTTP refused in production (the keys sign requests, but the sealed bytes and object
/// names would travel in clear).
fn document_storage(r: &mut Reader<'_>, production: bool, database: bool) -> DocumentStorage {
    match r.raw("DOCUMENT_STORAGE").unwrap_or("postgres") {
        "postgres" => return DocumentStorage::Postgres,
        "s3" => {}
        _ => {
            r.problems
                .push("DOCUMENT_STORAGE: must be postgres or s3".to_owned());
            return DocumentStorage::Postgres;
        }
    }
    if !database {
        r.problems.push(
            "DOCUMENT_STORAGE: s3 needs DATABASE_URL (demo mode keeps documents in memory)"
                .to_owned(),
        );
    }
    let mut required = |name: &str| match r.raw(name) {
        Some(value) => value.to_owned(),
        None => {
            r.problems
                .push(format!("{name}: required when DOCUMENT_STORAGE=s3"));
            String::new()
        }
    };
    let (bucket, access_key_id) = (required("S3_BUCKET"), required("S3_ACCESS_KEY_ID"));
    let secret_access_key = Secret(required("S3_SECRET_ACCESS_KEY"));
    let endpoint = match r.url("S3_ENDPOINT", &["https", "http"]) {
        Some(url) => url.0,
        None => {
            if r.raw("S3_ENDPOINT").is_none() {
                r.problems
                    .push("S3_ENDPOINT: required when DOCUMENT_STORAGE=s3".to_owned());
            }
            String::new()
        }
    };
    let allow_http = r.flag("S3_ALLOW_HTTP", false);
    if production && allow_http {
        r.problems.push(
            "S3_ALLOW_HTTP: cannot be true in production (use an https:// endpoint)".to_owned(),
        );
    }
    DocumentStorage::S3(S3Config {
        endpoint,
        region: r.string("S3_REGION", "us-east-1"),
        bucket,
        access_key_id,
        secret_access_key,
        allow_http,
    })
}

fn ai_settings(r: &mut Reader<'_>) -> AiSettings {
    let provider = match r.raw("AI_PROVIDER").unwrap_or("offline") {
        "offline" => AiProviderKind::Offline,
        "openai" => AiProviderKind::OpenAi,
        _ => {
            r.problems
                .push("AI_PROVIDER: must be offline or openai".to_owned());
            AiProviderKind::Offline
        }
    };
    let openai = provider == AiProviderKind::OpenAi;
    let base_url = r.url("AI_BASE_URL", &["https", "http"]);
    if openai && base_url.is_none() && r.raw("AI_BASE_URL").is_none() {
        r.problems.push(
            "AI_BASE_URL: required when AI_PROVIDER=openai (e.g. https://api.openai.com/v1)"
                .to_owned(),
        );
    }
    let model = r.string("AI_MODEL", "");
    if openai && model.is_empty() {
        r.problems
            .push("AI_MODEL: required when AI_PROVIDER=openai (e.g. gpt-4o-mini)".to_owned());
    }
    let api_key_header = r.string("AI_API_KEY_HEADER", "bearer");
    if !["bearer", "api-key"].contains(&api_key_header.as_str()) {
        r.problems
            .push("AI_API_KEY_HEADER: must be bearer or api-key".to_owned());
    }
    AiSettings {
        provider,
        base_url,
        model,
        api_key: r.raw("AI_API_KEY").map(|s| Secret(s.to_owned())),
        api_key_header,
        timeout_secs: r.ranged("AI_TIMEOUT_SECONDS", 60u64, 1, 600),
        max_tokens: r.ranged("AI_MAX_TOKENS", 2_000u32, 64, 128_000),
        max_retries: r.ranged("AI_MAX_RETRIES", 2u32, 0, 10),
        rate_limit_per_hour: r.ranged("AI_RATE_LIMIT_PER_HOUR", 60u32, 1, 100_000),
    }
}

fn observability_settings(r: &mut Reader<'_>, bind_addr: &str) -> ObservabilitySettings {
    let metrics_token = r.raw("METRICS_TOKEN").map(|s| Secret(s.to_owned()));
    if metrics_token
        .as_ref()
        .is_some_and(|token| token.0.len() < 16 || token.0.contains(char::is_whitespace))
    {
        r.problems.push(
            "METRICS_TOKEN: must be at least 16 characters without spaces (e.g. 32 random bytes, base64)"
                .to_owned(),
        );
    }
    let metrics_bind_addr = r.raw("METRICS_BIND_ADDR").map(str::to_owned);
    if let Some(addr) = &metrics_bind_addr {
        match addr.parse::<std::net::SocketAddr>() {
            Err(_) => r
                .problems
                .push("METRICS_BIND_ADDR: must be host:port, e.g. 127.0.0.1:9090".to_owned()),
            Ok(metrics) if metrics.port() != 0 && bind_addr.parse().ok() == Some(metrics) => r
                .problems
                .push("METRICS_BIND_ADDR: must differ from BIND_ADDR".to_owned()),
            Ok(_) => {}
        }
    }
    let service_name = r.string("OTEL_SERVICE_NAME", "aura-api");
    if service_name.len() > 100 || service_name.chars().any(char::is_control) {
        r.problems
            .push("OTEL_SERVICE_NAME: must be a short name (up to 100 characters)".to_owned());
    }
    ObservabilitySettings {
        metrics_token,
        metrics_bind_addr,
        otlp_endpoint: r.url("OTEL_EXPORTER_OTLP_ENDPOINT", &["http", "https"]),
        service_name,
    }
}

/// Defaults: 30 sign-in/sign-up/reset requests per minute per address (a bcrypt hash each:
/// an attacker gets half a hash a second per address, a shared office NAT still signs in
/// its people), and per tenant 600 requests a minute with bursts of 100 (a busy
/// organisation's users and scripts stay far below it; one runaway client cannot take
/// the service from everyone else), of which one user may use half (one user, or one
/// leaked token, cannot lock the rest of the tenant out), and 20 submissions a minute to one tenant's public
/// intake page (each sends a mail; a real organisation gets a few a week).
fn rate_limit_settings(r: &mut Reader<'_>) -> RateLimitSettings {
    RateLimitSettings {
        enabled: r.flag("RATE_LIMIT_ENABLED", true),
        auth_per_minute: r.ranged("RATE_LIMIT_AUTH_PER_MINUTE", 30u32, 1, 10_000_000),
        tenant_per_minute: r.ranged("RATE_LIMIT_TENANT_PER_MINUTE", 600u32, 1, 10_000_000),
        tenant_burst: r.ranged("RATE_LIMIT_TENANT_BURST", 100u32, 1, 10_000_000),
        user_share_percent: r.ranged("RATE_LIMIT_USER_SHARE_PERCENT", 50u8, 1, 100),
        intake_per_minute: r.ranged("RATE_LIMIT_INTAKE_PER_MINUTE", 20u32, 1, 10_000_000),
        redis_url: r.url("REDIS_URL", &["redis", "rediss"]),
    }
}

/// The audit chain's key is required in production and must not be the pepper: each
/// secret has one use. Personal values stay readable for 13 months by default (a year of
/// accountability plus the time to notice); checkpoints go out weekly.
fn audit_settings(r: &mut Reader<'_>, production: bool, pepper: Option<&Secret>) -> AuditSettings {
    let chain_key = r.raw("AUDIT_CHAIN_KEY").map(|s| Secret(s.to_owned()));
    match &chain_key {
        None if production => r
            .problems
            .push("AUDIT_CHAIN_KEY: required in production (32+ random bytes, base64)".to_owned()),
        Some(key) if pepper.is_some_and(|pepper| same_secret_bytes(key, pepper)) => r
            .problems
            .push("AUDIT_CHAIN_KEY: must differ from PASSWORD_PEPPER".to_owned()),
        _ => {}
    }
    AuditSettings {
        chain_key,
        personal_retention_days: r.ranged("AUDIT_PERSONAL_RETENTION_DAYS", 396u32, 0, 3_650),
        checkpoint_mail_days: r.ranged("AUDIT_CHECKPOINT_MAIL_DAYS", 7u32, 0, 366),
    }
}

/// Whether two base64 secrets hold the same key: their decoded bytes are compared (the
/// same key may be written with or without padding, in either alphabet, with spaces
/// around it). Text that does not decode is compared as text (start-up reports it).
fn same_secret_bytes(a: &Secret, b: &Secret) -> bool {
    let decode = |s: &Secret| aura_adapter_crypto::decode_secret(s.expose(), "a secret").ok();
    match (decode(a), decode(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.expose().trim() == b.expose().trim(),
    }
}

fn worker_config(r: &mut Reader<'_>) -> WorkerConfig {
    let offsets = r.string("REMINDER_OFFSETS_DAYS", "7,1,0");
    let reminder_offsets_days =
        aura_tasks::ReminderPolicy::parse_offsets(&offsets).unwrap_or_else(|problem| {
            r.problems.push(format!("REMINDER_OFFSETS_DAYS: {problem}"));
            Vec::new()
        });
    let send_time = r.string("REMINDER_SEND_TIME_UTC", "08:00");
    let send_time_utc = time::Time::parse(
        &send_time,
        time::macros::format_description!("[hour]:[minute]"),
    )
    .unwrap_or_else(|_| {
        r.problems
            .push("REMINDER_SEND_TIME_UTC: must be a time of day as HH:MM".to_owned());
        time::Time::MIDNIGHT
    });
    let mut link = |name: &str, default: &str| {
        let url = r.string(name, default);
        if !url.contains("{id}") {
            r.problems.push(format!("{name}: must contain {{id}}"));
        }
        url
    };
    let task_url = link("TASK_URL", "http://localhost:3000/tasks/{id}");
    let request_url = link("REQUEST_URL", "http://localhost:3000/requests/{id}");
    let breach_url = link("BREACH_URL", "http://localhost:3000/breaches/{id}");
    let retry_base_secs = r.ranged("JOB_RETRY_BASE_SECS", 30i64, 1, 3_600);
    let retry_max_secs = r.ranged("JOB_RETRY_MAX_SECS", 7_200i64, 1, 86_400);
    if retry_max_secs < retry_base_secs {
        r.problems
            .push("JOB_RETRY_MAX_SECS: must not be below JOB_RETRY_BASE_SECS".to_owned());
    }
    WorkerConfig {
        enabled: r.flag("WORKER_ENABLED", true),
        poll_ms: r.ranged("WORKER_POLL_MS", 2_000u64, 50, 600_000),
        lease_secs: r.ranged("WORKER_LEASE_SECS", 300i64, 1, 86_400),
        batch: r.ranged("WORKER_BATCH", 20usize, 1, 1_000),
        max_attempts: r.ranged("JOB_MAX_ATTEMPTS", 8i32, 1, 100),
        retry_base_secs,
        retry_max_secs,
        reminder_offsets_days,
        send_time_utc,
        task_url,
        digest_max_tasks: r.ranged("DIGEST_MAX_TASKS", 20usize, 1, 500),
        request_url,
        request_extend_warning_days: r.ranged("REQUEST_EXTEND_WARNING_DAYS", 5u16, 0, 27),
        breach_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_variables_means_demo_mode_in_development() {
        let settings = Settings::from_vars(&vars(&[])).expect("defaults are valid");
        assert_eq!(settings.environment, Environment::Development);
        assert!(settings.database_url.is_none());
        assert_eq!(settings.bcrypt_cost, 12);
    }

    /// `DOCUMENT_STORAGE=s3`: each missing bucket variable named, plain HTTP only
    /// outside production, the secret key never in the settings' debug output.
    #[test]
    fn s3_storage_names_what_is_missing_and_redacts_its_secret() {
        let problems =
            Settings::from_vars(&vars(&[("DOCUMENT_STORAGE", "s3")])).expect_err("incomplete");
        for name in [
            "DOCUMENT_STORAGE",
            "S3_ENDPOINT",
            "S3_BUCKET",
            "S3_ACCESS_KEY_ID",
            "S3_SECRET_ACCESS_KEY",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
        let s3 = [
            ("DATABASE_URL", "postgres://app@db/aura"),
            ("RUN_MIGRATIONS", "false"),
            ("DOCUMENT_STORAGE", "s3"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_BUCKET", "aura"),
            ("S3_ACCESS_KEY_ID", "example-key-id"),
            ("S3_SECRET_ACCESS_KEY", "very-secret-key"),
            ("S3_ALLOW_HTTP", "true"),
        ];
        let settings = Settings::from_vars(&vars(&s3)).expect("valid");
        let DocumentStorage::S3(bucket) = &settings.documents.storage else {
            panic!("{:?}", settings.documents.storage);
        };
        assert!(bucket.allow_http && bucket.region == "us-east-1");
        assert!(!format!("{settings:?}").contains("very-secret-key"));
        let problems =
            Settings::from_vars(&vars(&[("DOCUMENT_STORAGE", "disk")])).expect_err("unknown");
        assert!(problems[0].starts_with("DOCUMENT_STORAGE"), "{problems:?}");
    }

    #[test]
    fn every_bad_variable_is_named() {
        let problems = Settings::from_vars(&vars(&[
            ("BCRYPT_COST", "9"),
            ("BIND_ADDR", "nowhere"),
            ("DATABASE_URL", "mysql://secret@x/y"),
            ("SIGNUP_ENABLED", "maybe"),
            ("DB_TRANSACTION_POOLING", "sometimes"),
        ]))
        .expect_err("invalid");
        for name in [
            "BCRYPT_COST",
            "BIND_ADDR",
            "DATABASE_URL",
            "SIGNUP_ENABLED",
            "DB_TRANSACTION_POOLING",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
        assert!(
            problems.iter().all(|p| !p.contains("secret")),
            "{problems:?}"
        );
    }

    /// Production: a reset link over plain HTTP and switched-off rate limits are refused;
    /// the docs and build details are off unless asked for.
    #[test]
    fn production_refuses_an_insecure_edge_and_hides_docs_and_build_details() {
        let production = |extra: &[(&str, &str)]| {
            let mut all = vec![
                ("APP_ENV", "production"),
                ("DATABASE_URL", "postgres://app@db/aura"),
                ("RUN_MIGRATIONS", "false"),
                (
                    "PASSWORD_PEPPER",
                    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                ),
                (
                    "PASSWORD_RESET_URL",
                    "https://app.example.com/reset?token={token}",
                ),
                (
                    "AUDIT_CHAIN_KEY",
                    "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
                ),
            ];
            all.extend_from_slice(extra);
            Settings::from_vars(&vars(&all))
        };
        let settings = production(&[]).expect("valid");
        assert!(settings.rate_limits.enabled);
        assert!(!settings.api_docs_enabled);
        assert!(!settings.build_details_enabled);
        let opted_in = production(&[
            ("API_DOCS_ENABLED", "true"),
            ("BUILD_DETAILS_ENABLED", "true"),
        ])
        .expect("valid");
        assert!(opted_in.api_docs_enabled && opted_in.build_details_enabled);
        let bucket = [
            ("DOCUMENT_STORAGE", "s3"),
            ("S3_ENDPOINT", "https://s3.eu-central-1.amazonaws.com"),
            ("S3_BUCKET", "aura"),
            ("S3_ACCESS_KEY_ID", "example-key-id"),
            ("S3_SECRET_ACCESS_KEY", "very-secret-key"),
        ];
        production(&bucket).expect("an https bucket");
        let problems =
            production(&[&bucket[..], &[("S3_ALLOW_HTTP", "true")]].concat()).expect_err("http");
        assert!(
            problems.len() == 1 && problems[0].starts_with("S3_ALLOW_HTTP"),
            "{problems:?}"
        );
        for (name, value) in [
            ("RATE_LIMIT_ENABLED", "false"),
            (
                "PASSWORD_RESET_URL",
                "http://app.example.com/reset?token={token}",
            ),
        ] {
            let problems = production(&[(name, value)]).expect_err("refused");
            assert!(
                problems.len() == 1 && problems[0].starts_with(name),
                "{name}: {problems:?}"
            );
        }
        let development = Settings::from_vars(&vars(&[("RATE_LIMIT_ENABLED", "false")]))
            .expect("development may switch limits off");
        assert!(development.api_docs_enabled && development.build_details_enabled);
    }

    #[test]
    fn production_refuses_dev_shortcuts() {
        let problems = Settings::from_vars(&vars(&[
            ("APP_ENV", "production"),
            ("JWT_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
        ]))
        .expect_err("invalid");
        for name in ["DATABASE_URL", "JWT_HS256_SECRET", "PASSWORD_PEPPER"] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
    }

    #[test]
    fn the_ai_settings_are_checked() {
        let settings = Settings::from_vars(&vars(&[])).expect("defaults");
        assert_eq!(settings.ai.provider, AiProviderKind::Offline);
        assert_eq!(settings.ai.rate_limit_per_hour, 60);
        let problems = Settings::from_vars(&vars(&[
            ("AI_PROVIDER", "openai"),
            ("AI_TIMEOUT_SECONDS", "0"),
            ("AI_MAX_RETRIES", "many"),
            ("AI_RATE_LIMIT_PER_HOUR", "0"),
        ]))
        .expect_err("invalid");
        for name in [
            "AI_BASE_URL",
            "AI_MODEL",
            "AI_TIMEOUT_SECONDS",
            "AI_MAX_RETRIES",
            "AI_RATE_LIMIT_PER_HOUR",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
        let settings = Settings::from_vars(&vars(&[
            ("AI_PROVIDER", "openai"),
            ("AI_BASE_URL", "http://localhost:11434/v1"),
            ("AI_MODEL", "llama3.1"),
            ("AI_API_KEY", "sk-live-hunter2"),
        ]))
        .expect("valid");
        assert_eq!(settings.ai.provider, AiProviderKind::OpenAi);
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn the_observability_settings_are_checked() {
        let settings = Settings::from_vars(&vars(&[])).expect("defaults");
        assert_eq!(settings.observability.service_name, "aura-api");
        assert!(settings.observability.metrics_token.is_none());
        assert!(settings.observability.otlp_endpoint.is_none());
        let problems = Settings::from_vars(&vars(&[
            ("METRICS_TOKEN", "short"),
            ("METRICS_BIND_ADDR", "somewhere"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://collector:4317"),
        ]))
        .expect_err("invalid");
        for name in [
            "METRICS_TOKEN",
            "METRICS_BIND_ADDR",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
        assert!(
            problems.iter().all(|p| !p.contains("short")),
            "{problems:?}"
        );
        let problems = Settings::from_vars(&vars(&[
            ("BIND_ADDR", "127.0.0.1:8080"),
            ("METRICS_BIND_ADDR", "127.0.0.1:8080"),
        ]))
        .expect_err("same address");
        assert!(problems[0].starts_with("METRICS_BIND_ADDR"), "{problems:?}");
        let settings = Settings::from_vars(&vars(&[
            ("METRICS_TOKEN", "a-long-metrics-token-hunter2"),
            ("METRICS_BIND_ADDR", "127.0.0.1:9090"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_SERVICE_NAME", "aura-eu-1"),
        ]))
        .expect("valid");
        assert_eq!(settings.observability.service_name, "aura-eu-1");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn the_rate_limits_are_checked() {
        let settings = Settings::from_vars(&vars(&[])).expect("defaults");
        assert!(settings.rate_limits.enabled);
        assert_eq!(settings.rate_limits.auth_per_minute, 30);
        assert_eq!(settings.rate_limits.tenant_per_minute, 600);
        assert_eq!(settings.rate_limits.tenant_burst, 100);
        assert_eq!(settings.rate_limits.intake_per_minute, 20);
        assert!(settings.rate_limits.redis_url.is_none());
        let problems = Settings::from_vars(&vars(&[
            ("RATE_LIMIT_ENABLED", "sometimes"),
            ("RATE_LIMIT_AUTH_PER_MINUTE", "0"),
            ("RATE_LIMIT_TENANT_PER_MINUTE", "lots"),
            ("RATE_LIMIT_TENANT_BURST", "-1"),
            ("REDIS_URL", "http://:hunter2@cache:6379"),
        ]))
        .expect_err("invalid");
        for name in [
            "RATE_LIMIT_ENABLED",
            "RATE_LIMIT_AUTH_PER_MINUTE",
            "RATE_LIMIT_TENANT_PER_MINUTE",
            "RATE_LIMIT_TENANT_BURST",
            "REDIS_URL",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
        assert!(problems.iter().all(|p| !p.contains("hunter2")));
        let settings = Settings::from_vars(&vars(&[(
            "REDIS_URL",
            "rediss://:hunter2@cache.internal:6380/0",
        )]))
        .expect("valid");
        assert!(settings.rate_limits.redis_url.is_some());
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn the_idempotency_ttl_is_checked() {
        let settings = Settings::from_vars(&vars(&[])).expect("defaults");
        assert_eq!(settings.idempotency_ttl_hours, 24);
        let settings =
            Settings::from_vars(&vars(&[("IDEMPOTENCY_TTL_HOURS", "48")])).expect("valid");
        assert_eq!(settings.idempotency_ttl_hours, 48);
        for bad in ["0", "721", "a day"] {
            let problems =
                Settings::from_vars(&vars(&[("IDEMPOTENCY_TTL_HOURS", bad)])).expect_err("invalid");
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("IDEMPOTENCY_TTL_HOURS")),
                "{bad}: {problems:?}"
            );
        }
    }

    #[test]
    fn the_audit_settings_are_checked() {
        let settings = Settings::from_vars(&vars(&[])).expect("defaults");
        assert!(settings.audit.chain_key.is_none());
        assert_eq!(settings.audit.personal_retention_days, 396);
        assert_eq!(settings.audit.checkpoint_mail_days, 7);
        let problems =
            Settings::from_vars(&vars(&[("APP_ENV", "production")])).expect_err("no key");
        assert!(
            problems.iter().any(|p| p.starts_with("AUDIT_CHAIN_KEY")),
            "{problems:?}"
        );
        let same = "c2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQ=";
        let problems = Settings::from_vars(&vars(&[
            ("AUDIT_CHAIN_KEY", same),
            ("PASSWORD_PEPPER", same),
            ("AUDIT_PERSONAL_RETENTION_DAYS", "forever"),
            ("AUDIT_CHECKPOINT_MAIL_DAYS", "400"),
        ]))
        .expect_err("invalid");
        for name in [
            "AUDIT_CHAIN_KEY",
            "AUDIT_PERSONAL_RETENTION_DAYS",
            "AUDIT_CHECKPOINT_MAIL_DAYS",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(name)),
                "{name}: {problems:?}"
            );
        }
        assert!(problems.iter().all(|p| !p.contains(same)), "{problems:?}");
        // The same bytes spelt differently (no padding, URL-safe alphabet, spaces) are
        // still the same key.
        for spelling in [
            "c2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQ",
            " c2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQ=\n",
        ] {
            let problems = Settings::from_vars(&vars(&[
                ("AUDIT_CHAIN_KEY", spelling),
                ("PASSWORD_PEPPER", same),
            ]))
            .expect_err("the same key");
            assert!(
                problems
                    .iter()
                    .any(|p| p == "AUDIT_CHAIN_KEY: must differ from PASSWORD_PEPPER"),
                "{spelling:?}: {problems:?}"
            );
        }
        let pepper_urlsafe = "-_-_c2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQ";
        let key_standard = "+/+/c2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQtc2FtZS1zZWNyZXQ";
        let problems = Settings::from_vars(&vars(&[
            ("AUDIT_CHAIN_KEY", key_standard),
            ("PASSWORD_PEPPER", pepper_urlsafe),
        ]))
        .expect_err("the same key in both alphabets");
        assert!(
            problems.iter().any(|p| p.starts_with("AUDIT_CHAIN_KEY")),
            "{problems:?}"
        );
        let settings = Settings::from_vars(&vars(&[
            ("AUDIT_CHAIN_KEY", same),
            (
                "PASSWORD_PEPPER",
                "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci0=",
            ),
        ]))
        .expect("different keys");
        assert!(settings.audit.chain_key.is_some());
        let settings = Settings::from_vars(&vars(&[("AUDIT_CHAIN_KEY", same)])).expect("valid");
        assert!(!format!("{settings:?}").contains(same));
    }

    #[test]
    fn secrets_do_not_print() {
        let settings = Settings::from_vars(&vars(&[
            ("DATABASE_URL", "postgres://app:hunter2@localhost/aura"),
            ("RUN_MIGRATIONS", "false"),
        ]))
        .expect("valid");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
