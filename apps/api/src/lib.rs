//! The `aura-api` service: reads settings, wires adapters to the use cases, and serves
//! HTTP until told to stop. The binary is a thin `main` over [`Application`].

pub mod config;
pub mod demo;
mod secrets;
mod telemetry;
pub mod worker;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{
    App, Error, HttpServer,
    body::MessageBody,
    dev::{Server, ServerHandle, ServiceRequest, ServiceResponse},
    http::{Method, header},
    middleware::{Condition, Next, from_fn},
};
use aura_adapter_crypto::{
    AesGcmPersonalDataSeal, BcryptPasswordHasher, HmacAesIdempotencySealer, RandomSecrets,
    TotpSecondFactor,
};
use aura_adapter_holidays::{EuPublicHolidays, IanaTimeZones};
use aura_adapter_http::{
    ApiState, EdgeConfig, Readiness, SystemInfo,
    metrics::{MetricsAccess, MetricsEndpoint, PoolGauges, PoolProbe},
};
use aura_adapter_s3::{S3ChunkBlobs, S3Settings};
use aura_ai_port::{AiAssistant, AiConfig, AiPorts, AiProvider, AiUsage, SuggestionRepository};
use aura_audit::{AuditLog, AuditService, BulkDenials, ChainHasher};
use aura_breaches::{BreachCases, BreachRules, Breaches, EscalationPlanner, jobs::BreachJobPorts};
use aura_dpia_screening::{DpiaScreenings, ports::ScreeningAnswersStore};
use aura_dpias::{DpiaCases, DpiaRules, Dpias};
use aura_gdpr_registers::{
    Activities, Members, Policies, Processors, RegisterPorts, Registers,
    ports::{OrganisationRepository, PolicyVersions},
};
use aura_idempotency::{Idempotency, IdempotencyConfig, IdempotencyStore};
use aura_identity::{
    AuthConfig, IdentityPorts, IdentityServices,
    ports::{
        LoginThrottle, Mailer, PasswordResetStore, SessionStore, TenantRepository, UserRepository,
    },
};
use aura_jobs::{JobQueue, PlannedRecords, PlannedWrites, Worker, WorkerPorts};
use aura_portfolio::{Portfolio, Sources as PortfolioSources, SummaryCache};
use aura_rate_limit::{Quota, RateLimitPolicy, RateLimiter, RateLimits};
use aura_records::{RecordStore, RecordUseCases};
use aura_requests::{
    RequestCases,
    intake::{IntakeService, IntakeStore},
    jobs::{OverdueRequests, RequestJobPorts},
    request::Requests,
    rules::RequestRules,
    settings::TenantCalendars,
    store::{RequestPlanner, RequestRepository},
};
use aura_shared_kernel::{
    Clock, KeyedHash, PersonalDataSeal, StoreError, SystemClock, TenantScope, UserId,
};
use aura_tasks::{AuditJobPorts, TaskJobPorts, TaskPorts, TaskService, ports::TaskRepository};
use config::DocumentStorage;

pub use config::Settings;
pub use telemetry::{init_cli_tracing, init_tracing};

/// Why the service could not start. The message names what to fix and holds no secret.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

impl StartError {
    fn from(context: &str, error: impl std::fmt::Display) -> Self {
        Self(format!("{context}: {error}"))
    }
}

/// The stores behind the ports, whichever adapter provides them.
struct Stores {
    tenants: Arc<dyn TenantRepository>,
    users: Arc<dyn UserRepository>,
    /// The tenants' custom roles.
    roles: Arc<dyn aura_identity::CustomRoleRepository>,
    sessions: Arc<dyn SessionStore>,
    resets: Arc<dyn PasswordResetStore>,
    throttle: Arc<dyn LoginThrottle>,
    second_factors: Arc<dyn aura_identity::ports::SecondFactorStore>,
    audit: Arc<dyn AuditLog>,
    organisation: Arc<dyn OrganisationRepository>,
    activities: Arc<dyn RecordStore<Activities>>,
    processors: Arc<dyn RecordStore<Processors>>,
    policies: Arc<dyn RecordStore<Policies>>,
    policy_versions: Arc<dyn PolicyVersions>,
    suggestions: Arc<dyn SuggestionRepository>,
    ai_usage: Arc<dyn AiUsage>,
    tasks: Arc<dyn TaskRepository>,
    jobs: Arc<dyn JobQueue>,
    reviews: Arc<dyn aura_gdpr_registers::reviews::ReviewDates>,
    requests: Arc<dyn RecordStore<Requests>>,
    /// The request writes with their reminder plan (the same store as `requests`).
    request_writes: Arc<dyn PlannedWrites<Requests>>,
    /// The retention job's read of requests.
    request_repository: Arc<dyn RequestRepository>,
    /// The public intake's pending submissions.
    intakes: Arc<dyn IntakeStore>,
    breaches: Arc<dyn RecordStore<Breaches>>,
    /// The breach writes with their escalation plan (the same store as `breaches`).
    breach_writes: Arc<dyn PlannedWrites<Breaches>>,
    /// The DPIA screening's answers per activity.
    dpia_screenings: Arc<dyn ScreeningAnswersStore>,
    dpias: Arc<dyn RecordStore<Dpias>>,
    documents: Arc<dyn RecordStore<aura_documents::Documents>>,
    document_content: Arc<dyn aura_documents::ports::ContentStore>,
    /// Accountability packs and their bytes.
    packs: Arc<dyn aura_packs::ports::PackStore>,
    idempotency: Arc<dyn IdempotencyStore>,
    readiness: Arc<dyn Readiness>,
    /// The connection pool, for metrics (none in memory).
    pool: Option<Arc<dyn PoolProbe>>,
    /// Where request rate limits are counted (replaced by Redis when configured).
    rate_limiter: Arc<dyn RateLimiter>,
    storage: &'static str,
}

/// The registers ask whether a record owner belongs to the tenant; identity knows.
struct TenantMembers(Arc<dyn UserRepository>);

#[async_trait::async_trait]
impl Members for TenantMembers {
    async fn is_member(&self, scope: &TenantScope, user: UserId) -> Result<bool, StoreError> {
        match self.0.get(scope, user).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

impl Stores {
    fn register_ports(&self, clock: Arc<dyn Clock>) -> RegisterPorts {
        RegisterPorts {
            organisation: self.organisation.clone(),
            activities: self.activities.clone(),
            processors: self.processors.clone(),
            policies: self.policies.clone(),
            policy_versions: self.policy_versions.clone(),
            members: Arc::new(TenantMembers(self.users.clone())),
            audit: self.audit.clone(),
            clock,
            time_zones: Arc::new(IanaTimeZones::new()),
        }
    }

    fn registers(&self, clock: Arc<dyn Clock>) -> Registers {
        Registers::new(self.register_ports(clock))
    }

    /// The DPIA screening over the activities' use cases (its accepted suggestions are
    /// the activities' writes).
    fn dpia_screenings(&self, registers: &Registers) -> DpiaScreenings {
        DpiaScreenings::new(
            registers.activity_records().clone(),
            self.dpia_screenings.clone(),
        )
    }

    /// Data-subject requests: dated by the legal clock on the tenant's calendar (its
    /// country's public holidays and its own closing days); every write stores the
    /// request's reminder plan.
    fn requests(&self, clock: Arc<dyn Clock>, config: &config::WorkerConfig) -> RequestCases {
        let rules = RequestRules {
            holidays: Arc::new(EuPublicHolidays),
            calendars: Arc::new(TenantCalendars {
                tenants: self.tenants.clone(),
                organisation: self.organisation.clone(),
            }),
        };
        let store = PlannedRecords {
            records: self.requests.clone(),
            writes: self.request_writes.clone(),
            planner: Arc::new(RequestPlanner {
                policy: worker::request_reminder_policy(config),
                retry: worker::retry_policy(config),
                clock: clock.clone(),
            }),
        };
        let records = RecordUseCases::new(
            Arc::new(store),
            Arc::new(rules),
            self.audit.clone(),
            clock.clone(),
        );
        RequestCases::new(
            records,
            self.activities.clone(),
            self.processors.clone(),
            clock,
        )
    }

    /// Personal-data breaches: every write stores the breach's escalation plan (alerts
    /// while the authority decision is open); the deadline and what a record lacks are
    /// derived on every write.
    fn breaches(&self, clock: Arc<dyn Clock>, config: &config::WorkerConfig) -> BreachCases {
        let store = PlannedRecords {
            records: self.breaches.clone(),
            writes: self.breach_writes.clone(),
            planner: Arc::new(EscalationPlanner {
                retry: worker::retry_policy(config),
                clock: clock.clone(),
            }),
        };
        let rules = BreachRules {
            clock: clock.clone(),
            organisation: self.organisation.clone(),
            activities: self.activities.clone(),
            zones: Arc::new(IanaTimeZones::new()),
        };
        let records = RecordUseCases::new(
            Arc::new(store),
            Arc::new(rules),
            self.audit.clone(),
            clock.clone(),
        );
        BreachCases::new(records, clock)
    }

    /// DPIAs: the description's pre-fill read from the covered activities on every
    /// write; a planned measure becomes a task through the tasks' use cases.
    fn dpias(&self, clock: Arc<dyn Clock>, tasks: &TaskService) -> DpiaCases {
        let rules = DpiaRules {
            activities: self.activities.clone(),
            dpias: self.dpias.clone(),
        };
        let records = RecordUseCases::new(
            self.dpias.clone(),
            Arc::new(rules),
            self.audit.clone(),
            clock.clone(),
        );
        DpiaCases::new(records, tasks.records().clone(), clock)
    }

    /// Documents: the metadata through the kernel's use cases, the content sealed chunk
    /// by chunk under the tenant's data key.
    fn documents(
        &self,
        clock: Arc<dyn Clock>,
        cipher: Arc<dyn aura_documents::ports::ContentCipher>,
        settings: &Settings,
    ) -> aura_documents::DocumentService {
        let records = RecordUseCases::new(
            self.documents.clone(),
            Arc::new(aura_records::NoRules),
            self.audit.clone(),
            clock.clone(),
        );
        let ports = aura_documents::ContentPorts {
            store: self.document_content.clone(),
            cipher,
            hasher: Arc::new(aura_adapter_crypto::Sha256ContentHasher),
        };
        let limits = aura_documents::DocumentLimits {
            max_upload_bytes: settings.documents.max_upload_bytes,
            quota_bytes: settings.documents.quota_bytes,
        };
        aura_documents::DocumentService::new(records, ports, clock, limits)
    }

    /// Accountability packs: asked for on the API, built by the worker.
    fn packs(&self, clock: Arc<dyn Clock>, settings: &Settings) -> aura_packs::Packs {
        aura_packs::Packs::new(
            self.packs.clone(),
            self.jobs.clone(),
            self.audit.clone(),
            clock,
            aura_packs::PackSettings {
                retention: time::Duration::hours(settings.pack_retention_hours),
                max_attempts: settings.worker.max_attempts,
            },
        )
    }

    /// What the pack's build reads (the registers' use cases, the audit trail, the
    /// renderer) and how it seals: SHA-256, the ZIP, and `signer`'s Ed25519 key.
    fn pack_jobs(
        &self,
        clock: Arc<dyn Clock>,
        chain: Arc<dyn ChainHasher>,
        settings: &Settings,
        signer: Arc<dyn aura_packs::ports::Signer>,
    ) -> aura_packs::PackJobs {
        let config = &settings.worker;
        let tasks = self.tasks(clock.clone(), config);
        aura_packs::PackJobs {
            store: self.packs.clone(),
            sources: aura_packs::PackSources {
                registers: self.registers(clock.clone()),
                requests: self.requests(clock.clone(), config).records().clone(),
                breaches: self.breaches(clock.clone(), config).records().clone(),
                dpias: self.dpias(clock.clone(), &tasks).records().clone(),
                tasks: tasks.records().clone(),
                audit: AuditService::new(self.audit.clone(), chain),
                reports: report_renderers(),
            },
            archive: Arc::new(aura_adapter_reports::ZipArchiver),
            digest: Arc::new(aura_adapter_crypto::Sha256Digest),
            signer,
            clock,
        }
    }

    /// The assistant, writing accepted breach suggestions through `breaches` (the same
    /// use cases as the breach routes: the escalation is re-planned with the write) and
    /// accepted DPIA drafts through `dpias` (the DPIA routes' own).
    fn assistant(
        &self,
        provider: Arc<dyn AiProvider>,
        settings: &Settings,
        clock: Arc<dyn Clock>,
        (breaches, dpias): (&BreachCases, &DpiaCases),
    ) -> AiAssistant {
        AiAssistant::new(
            AiPorts {
                provider,
                suggestions: self.suggestions.clone(),
                usage: self.ai_usage.clone(),
                audit: self.audit.clone(),
                clock: clock.clone(),
            },
            self.register_ports(clock),
            AiConfig {
                rate_limit_per_hour: settings.ai.rate_limit_per_hour,
                user_share_percent: settings.rate_limits.user_share_percent,
                ..AiConfig::default()
            },
        )
        .with_breaches(breaches.records().clone())
        .with_dpias(dpias.records().clone())
    }

    fn tasks(&self, clock: Arc<dyn Clock>, config: &config::WorkerConfig) -> TaskService {
        TaskService::new(TaskPorts {
            tasks: self.tasks.clone(),
            audit: self.audit.clone(),
            clock,
            reminders: worker::reminder_policy(config),
            retry: worker::retry_policy(config),
        })
    }

    /// The background worker; it mails through `mailer` directly (not in the
    /// background), so a failed delivery fails the job and is retried.
    fn worker(
        &self,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        chain: Arc<dyn ChainHasher>,
        settings: &Settings,
        (identity, documents): (&IdentityServices, &aura_documents::DocumentService),
        signer: Arc<dyn aura_packs::ports::Signer>,
    ) -> Result<Worker, StartError> {
        let config = &settings.worker;
        let packs = self.pack_jobs(clock.clone(), chain.clone(), settings, signer);
        let audit = AuditJobPorts {
            audit: AuditService::new(self.audit.clone(), chain),
            queue: self.jobs.clone(),
            tenants: self.tenants.clone(),
            users: self.users.clone(),
            mailer: mailer.clone(),
            clock: clock.clone(),
        };
        let requests = RequestJobPorts {
            queue: self.jobs.clone(),
            requests: self.requests.clone(),
            cases: self.requests(clock.clone(), config).records().clone(),
            repository: self.request_repository.clone(),
            tenants: self.tenants.clone(),
            users: self.users.clone(),
            mailer: mailer.clone(),
            clock: clock.clone(),
        };
        let breaches = BreachJobPorts {
            queue: self.jobs.clone(),
            breaches: self.breaches.clone(),
            tenants: self.tenants.clone(),
            users: self.users.clone(),
            mailer: mailer.clone(),
            clock: clock.clone(),
        };
        let registry = worker::job_registry(
            TaskJobPorts {
                queue: self.jobs.clone(),
                tasks: self.tasks.clone(),
                tenants: self.tenants.clone(),
                users: self.users.clone(),
                mailer,
                clock: clock.clone(),
                sections: vec![Arc::new(OverdueRequests {
                    requests: self.requests.clone(),
                    users: self.users.clone(),
                })],
            },
            worker::task_job_settings(config),
            self.reviews.clone(),
            Some((requests, worker::request_job_settings(config))),
            Some((breaches, worker::breach_job_settings(config))),
            Some((audit, worker::audit_job_settings(&settings.audit, config))),
        )
        .and_then(|mut registry| {
            // Identity's reset, invitation and unlock mails.
            registry.register(identity.mail_jobs())?;
            // The sweep of dropped document uploads.
            aura_documents::staging::register(&mut registry, documents.clone())?;
            // The accountability pack's build and its daily purge.
            aura_packs::register(&mut registry, packs)?;
            Ok(registry)
        })
        .map_err(|duplicate| StartError(duplicate.to_string()))?;
        Ok(Worker::new(
            WorkerPorts {
                queue: self.jobs.clone(),
                clock,
            },
            worker::worker_settings(config),
            registry,
        ))
    }
}

/// The configured AI provider; demo mode always uses the offline one (demo data never
/// leaves the process).
fn ai_provider(
    settings: &Settings,
    demo: bool,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn AiProvider>, StartError> {
    use aura_adapter_ai::{ApiKey, AuthHeader, OfflineAssistant, OpenAiCompatible, OpenAiConfig};
    let ai = &settings.ai;
    if ai.provider == config::AiProviderKind::Offline || demo {
        if demo && ai.provider != config::AiProviderKind::Offline {
            tracing::warn!("demo mode: the AI assistant uses the offline provider");
        }
        return Ok(Arc::new(OfflineAssistant::new(clock)));
    }
    let base_url = ai
        .base_url
        .as_ref()
        .ok_or_else(|| StartError("AI_BASE_URL: not set".to_owned()))?;
    let mut config = OpenAiConfig::new(base_url.expose(), ai.model.clone());
    config.api_key = ai.api_key.as_ref().map(|k| ApiKey::new(k.expose()));
    config.auth_header = if ai.api_key_header == "api-key" {
        AuthHeader::ApiKey
    } else {
        AuthHeader::Bearer
    };
    config.timeout = Duration::from_secs(ai.timeout_secs);
    config.max_tokens = ai.max_tokens;
    config.max_retries = ai.max_retries;
    let client = OpenAiCompatible::new(config, clock).map_err(StartError)?;
    tracing::info!(model = %ai.model, "AI assistant: OpenAI-compatible provider");
    Ok(Arc::new(client))
}

/// The AI routes wait for the provider: every attempt's timeout plus the back-off
/// between retries, never less than the ordinary request deadline.
fn ai_request_budget(settings: &Settings) -> Duration {
    let ai = &settings.ai;
    let provider = match ai.provider {
        // The offline provider answers at once: the ordinary deadline applies.
        config::AiProviderKind::Offline => 0,
        config::AiProviderKind::OpenAi => {
            let attempts = u64::from(ai.max_retries) + 1;
            ai.timeout_secs.saturating_mul(attempts) + 10 * attempts
        }
    };
    Duration::from_secs(provider.max(settings.request_timeout_secs))
}

/// Demo mode is always ready: there is nothing to reach.
struct AlwaysReady;

#[async_trait::async_trait]
impl Readiness for AlwaysReady {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A built, bound, not yet running service.
pub struct Application {
    server: Server,
    /// The separate metrics listener (`METRICS_BIND_ADDR`), if any.
    metrics: Option<MetricsServer>,
    port: u16,
    worker: Option<worker::WorkerHandle>,
    /// Permission denials recorded in bulk, and the task that appends their summaries.
    denials: (Arc<BulkDenials>, tokio::task::JoinHandle<()>),
    grace: Duration,
}

impl Application {
    /// Wires everything and binds `settings.bind_addr` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let demo = settings.database_url.is_none();
        let chain: Arc<dyn ChainHasher> = Arc::new(secrets::audit_chain(&settings, demo)?);

        let pepper = secrets::password_pepper(&settings, demo)?;
        // The stores' seal; also the keyed hash of the rate-limit keys in Redis.
        let seal = Arc::new(AesGcmPersonalDataSeal::from_pepper(&pepper));
        let mut stores = if demo {
            memory_stores(chain.clone(), clock.clone())
        } else {
            postgres_stores(&settings, chain.clone(), clock.clone(), seal.clone()).await?
        };
        // Every use case's audit log records repeated permission denials in bulk.
        let denials = Arc::new(BulkDenials::new(
            stores.audit.clone(),
            clock.clone(),
            time::Duration::seconds(settings.audit_denial_window_secs),
        ));
        stores.audit = denials.clone();

        let idempotency = Idempotency::new(
            stores.idempotency.clone(),
            Arc::new(HmacAesIdempotencySealer::from_pepper(&pepper)),
            clock.clone(),
            idempotency_config(&settings),
        );
        let document_cipher = Arc::new(secrets::document_cipher(&settings, &pepper)?);
        let totp = second_factor(&pepper);
        let hasher = BcryptPasswordHasher::new(settings.bcrypt_cost, pepper)
            .map_err(|e| StartError::from("BCRYPT_COST", e))?;
        // Also the accountability packs' signer: their manifests are signed with the key
        // that `/.well-known/jwks.json` publishes.
        let tokens = Arc::new(secrets::access_tokens(&settings, demo)?);
        let jwks = tokens.jwks();
        let direct_mailer = build_mailer(&settings)?;
        let intake_mailer = in_background(&settings, direct_mailer.clone());

        let identity = IdentityServices::new(
            IdentityPorts {
                tenants: stores.tenants.clone(),
                users: stores.users.clone(),
                roles: stores.roles.clone(),
                sessions: stores.sessions.clone(),
                resets: stores.resets.clone(),
                throttle: stores.throttle.clone(),
                second_factors: stores.second_factors.clone(),
                totp,
                audit: stores.audit.clone(),
                hasher: Arc::new(hasher),
                tokens: tokens.clone(),
                secrets: Arc::new(RandomSecrets),
                addresses: Arc::new(aura_adapter_mail::MailerAddressRules),
                jobs: stores.jobs.clone(),
                // Only the mail jobs mail, from the worker: directly, so a failed
                // delivery fails the job and is retried.
                mailer: direct_mailer.clone(),
                clock: clock.clone(),
            },
            AuthConfig {
                registration_enabled: settings.signup_enabled,
                refresh_idle: time::Duration::seconds(settings.refresh_idle_ttl_secs),
                refresh_absolute: time::Duration::seconds(settings.refresh_absolute_ttl_secs),
                reset_url_template: settings.password_reset_url.clone(),
                invitations_per_day: settings.invitations_per_day,
                ..AuthConfig::default()
            },
        );

        let provider = ai_provider(&settings, demo, clock.clone())?;
        let documents = stores.documents(clock.clone(), document_cipher, &settings);
        let worker = if settings.worker.enabled {
            Some(stores.worker(
                clock.clone(),
                direct_mailer,
                chain.clone(),
                &settings,
                (&identity, &documents),
                tokens.clone(),
            )?)
        } else {
            None
        };
        let worker = worker.map(|worker| {
            worker::spawn(
                Arc::new(worker),
                Duration::from_millis(settings.worker.poll_ms),
                "worker",
            )
        });

        let metrics = metrics_endpoint(&settings, &stores, clock.clone());
        let limits = rate_limits(&settings, stores.rate_limiter.clone(), seal.clone()).await?;
        let registers = stores.registers(clock.clone());
        let tasks = stores.tasks(clock.clone(), &settings.worker);
        let requests = stores.requests(clock.clone(), &settings.worker);
        let breaches = stores.breaches(clock.clone(), &settings.worker);
        let dpias = stores.dpias(clock.clone(), &tasks);
        if demo {
            let company = demo::CompanyServices {
                registers: &registers,
                tasks: &tasks,
                requests: &requests,
                breaches: &breaches,
                dpias: &dpias,
            };
            demo::seed(&identity, &company, clock.now()).await?;
        }
        let ai = stores.assistant(provider, &settings, clock.clone(), (&breaches, &dpias));
        // The portfolio reads each client tenant through the same use cases as the routes.
        let portfolio = Portfolio::with_cache(
            Arc::new(identity.sign_in.clone()),
            PortfolioSources {
                registers: registers.clone(),
                tasks: tasks.clone(),
                requests: requests.records().clone(),
                breaches: breaches.records().clone(),
                reviews: stores.reviews.clone(),
                clock: clock.clone(),
            },
            SummaryCache::new(
                time::Duration::seconds(settings.portfolio_cache_secs),
                aura_portfolio::CACHE_CAPACITY,
            ),
        );
        let state = ApiState {
            // Reports: PDF through krilla (fonts compiled in), XLSX through rust_xlsxwriter.
            reports: report_renderers(),
            packs: stores.packs(clock.clone(), &settings),
            dpia_screenings: stores.dpia_screenings(&registers),
            seal,
            portfolio,
            registers,
            tasks,
            requests,
            breaches,
            ai,
            dpias,
            documents,
            audit: AuditService::new(stores.audit.clone(), chain),
            identity,
            idempotency,
            readiness: stores.readiness.clone(),
            jwks: Arc::new(jwks),
            info: SystemInfo {
                name: "aura-gdpr".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                git_commit: settings
                    .build_details_enabled
                    .then(|| env!("AURA_GIT_COMMIT").to_owned()),
                build_time: settings
                    .build_details_enabled
                    .then(|| env!("AURA_BUILD_TIME").to_owned()),
                storage: stores.storage.to_owned(),
            },
            edge: EdgeConfig {
                trusted_proxies: settings.trusted_proxies.clone(),
                max_body_bytes: settings.max_body_bytes,
                max_document_bytes: settings.max_document_body_bytes,
                request_timeout: Duration::from_secs(settings.request_timeout_secs),
                ai_request_timeout: ai_request_budget(&settings),
                hsts_max_age_secs: settings.hsts_max_age_secs,
                api_docs: settings.api_docs_enabled,
            },
            limits,
            // The public intake page: a confirmation opens its request through the
            // requests' use cases (the one create path: clock, reference, audit event).
            intake: Some(IntakeService::new(
                stores.intakes.clone(),
                Arc::new(
                    stores
                        .requests(clock.clone(), &settings.worker)
                        .records()
                        .clone(),
                ),
                intake_mailer,
                Arc::new(RandomSecrets),
                settings.public_base_url.clone(),
            )),
        };

        let listener = TcpListener::bind(&settings.bind_addr)
            .map_err(|e| StartError::from("BIND_ADDR: cannot listen", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::from("BIND_ADDR", e))?
            .port();
        let origins = settings.cors_allowed_origins.clone();
        let obs = &settings.observability;
        // On the public listener only with a token and no separate listener; else 404.
        let public_metrics = (obs.metrics_bind_addr.is_none() && obs.metrics_token.is_some())
            .then(|| metrics.clone());
        let metrics = match &obs.metrics_bind_addr {
            Some(addr) => Some(metrics_server(addr, metrics)?),
            None => None,
        };
        let units = stores.storage == "postgres";
        let mut server = HttpServer::new(move || {
            let public_metrics = public_metrics.clone();
            App::new()
                .wrap(Condition::new(units, from_fn(request_unit)))
                .wrap(from_fn(aura_adapter_http::deadline))
                .wrap(cors(&origins))
                .wrap(from_fn(aura_adapter_http::observe))
                .configure(move |cfg| {
                    if let Some(endpoint) = public_metrics {
                        endpoint.configure()(cfg);
                    }
                })
                .configure(aura_adapter_http::configure(state.clone()))
        })
        .shutdown_timeout(settings.shutdown_grace_secs)
        .client_request_timeout(Duration::from_secs(10));
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|e| StartError::from("BIND_ADDR", e))?
            .run();
        tracing::info!(port, storage = stores.storage, "listening");
        let flusher = spawn_denial_flusher(denials.clone(), settings.audit_denial_window_secs);
        Ok(Self {
            server,
            metrics,
            port,
            worker,
            denials: (denials, flusher),
            grace: Duration::from_secs(settings.shutdown_grace_secs),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests within the grace
    /// period and stops the worker after the job in hand.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((handle, task)) = self.metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        if let Some(worker) = self.worker {
            worker.stop(self.grace).await;
        }
        let (denials, flusher) = self.denials;
        flusher.abort();
        if let Err(error) = denials.flush(true).await {
            tracing::warn!(%error, "the last permission-denial summaries were not written");
        }
        served
    }
}

/// Appends the summaries of passed denial windows, a few times per window.
fn spawn_denial_flusher(
    denials: Arc<BulkDenials>,
    window_secs: i64,
) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(u64::try_from(window_secs / 4).unwrap_or(1).max(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            if let Err(error) = denials.flush(false).await {
                tracing::warn!(%error, "permission-denial summaries not written; retrying");
            }
        }
    })
}

/// `/metrics`: the pool and the job queue read at scrape time, and who may read it
/// (`METRICS_TOKEN`, else open on the separate listener).
fn metrics_endpoint(
    settings: &Settings,
    stores: &Stores,
    clock: Arc<dyn Clock>,
) -> MetricsEndpoint {
    let access = settings
        .observability
        .metrics_token
        .as_ref()
        .map_or(MetricsAccess::Open, |token| {
            MetricsAccess::Token(token.expose().to_owned())
        });
    let endpoint = MetricsEndpoint::new(access, env!("CARGO_PKG_VERSION"), env!("AURA_GIT_COMMIT"))
        .with_queue(worker::queue_probe(stores.jobs.clone(), clock));
    match &stores.pool {
        Some(pool) => endpoint.with_pool(pool.clone()),
        None => endpoint,
    }
}

/// The separate metrics server, running on its own task.
type MetricsServer = (ServerHandle, tokio::task::JoinHandle<std::io::Result<()>>);

/// A listener of its own serving only `/metrics` (one worker; it stops with the service).
fn metrics_server(addr: &str, endpoint: MetricsEndpoint) -> Result<MetricsServer, StartError> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| StartError::from("METRICS_BIND_ADDR: cannot listen", e))?;
    let metrics_port = listener
        .local_addr()
        .map_err(|e| StartError::from("METRICS_BIND_ADDR", e))?
        .port();
    let server = HttpServer::new(move || App::new().configure(endpoint.clone().configure()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|e| StartError::from("METRICS_BIND_ADDR", e))?
        .run();
    tracing::info!(metrics_port, "metrics listening");
    Ok((server.handle(), tokio::spawn(server)))
}

/// The use cases for platform operations (the `aura` CLI).
pub struct Platform {
    pub identity: IdentityServices,
    pub registers: Registers,
    pub tasks: TaskService,
    pub requests: RequestCases,
    pub breaches: BreachCases,
    pub dpias: DpiaCases,
    /// The queue, for `aura jobs`.
    pub jobs: Arc<dyn JobQueue>,
    /// The background worker, for `aura worker`.
    pub worker: Arc<Worker>,
    /// Documents, for `aura documents`.
    pub documents: aura_documents::DocumentService,
    /// The audit trail, for the chain head `aura export --format pdf` stamps.
    pub audit: AuditService,
}

/// Wires the use cases for platform operations (the `aura` CLI): the same stores, pepper
/// and settings as the service, so what the CLI creates signs in through the API.
pub async fn platform(settings: &Settings) -> Result<Platform, StartError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let chain: Arc<dyn ChainHasher> = Arc::new(secrets::audit_chain(settings, false)?);
    // Migrations are `aura migrate`'s job, not a side effect of every command.
    let settings = &Settings {
        run_migrations: false,
        ..settings.clone()
    };
    let pepper = secrets::password_pepper(settings, false)?;
    let seal = Arc::new(AesGcmPersonalDataSeal::from_pepper(&pepper));
    let stores = postgres_stores(settings, chain.clone(), clock.clone(), seal).await?;
    let document_cipher = Arc::new(secrets::document_cipher(settings, &pepper)?);
    let totp = second_factor(&pepper);
    let hasher = BcryptPasswordHasher::new(settings.bcrypt_cost, pepper)
        .map_err(|e| StartError::from("BCRYPT_COST", e))?;
    // The CLI signs no tokens: throw-away keys satisfy the port.
    let tokens = secrets::access_tokens(settings, true)?;
    let registers = stores.registers(clock.clone());
    let tasks = stores.tasks(clock.clone(), &settings.worker);
    let requests = stores.requests(clock.clone(), &settings.worker);
    let breaches = stores.breaches(clock.clone(), &settings.worker);
    let dpias = stores.dpias(clock.clone(), &tasks);
    let direct_mailer = build_mailer(settings)?;
    let jobs = stores.jobs.clone();
    let identity = IdentityServices::new(
        IdentityPorts {
            tenants: stores.tenants.clone(),
            users: stores.users.clone(),
            roles: stores.roles.clone(),
            sessions: stores.sessions.clone(),
            resets: stores.resets.clone(),
            throttle: stores.throttle.clone(),
            second_factors: stores.second_factors.clone(),
            totp,
            audit: stores.audit.clone(),
            hasher: Arc::new(hasher),
            tokens: Arc::new(tokens),
            secrets: Arc::new(RandomSecrets),
            addresses: Arc::new(aura_adapter_mail::MailerAddressRules),
            jobs: jobs.clone(),
            mailer: direct_mailer.clone(),
            clock: clock.clone(),
        },
        AuthConfig {
            reset_url_template: settings.password_reset_url.clone(),
            invitations_per_day: settings.invitations_per_day,
            ..AuthConfig::default()
        },
    );
    let documents = stores.documents(clock.clone(), document_cipher, settings);
    let audit = AuditService::new(stores.audit.clone(), chain.clone());
    let worker = Arc::new(stores.worker(
        clock,
        direct_mailer,
        chain,
        settings,
        (&identity, &documents),
        pack_signer(settings),
    )?);
    Ok(Platform {
        audit,
        identity,
        registers,
        tasks,
        requests,
        breaches,
        dpias,
        jobs,
        worker,
        documents,
    })
}

/// Reports: PDF through krilla (fonts compiled in), XLSX through rust_xlsxwriter.
fn report_renderers() -> aura_reports::Reports {
    aura_reports::Reports {
        renderer: Arc::new(aura_adapter_reports::PdfRenderer),
        workbooks: Arc::new(aura_adapter_reports::XlsxWriter),
    }
}

/// The CLI's worker signs packs with the service's keys (`JWT_KEYS_DIR`), so they verify
/// against the published JWKS; without them its pack builds fail, saying why.
fn pack_signer(settings: &Settings) -> Arc<dyn aura_packs::ports::Signer> {
    struct NoKey(String);
    impl aura_packs::ports::Signer for NoKey {
        fn sign(
            &self,
            _: &[u8],
        ) -> Result<aura_packs::ports::Signature, aura_packs::ports::SignError> {
            Err(aura_packs::ports::SignError(self.0.clone()))
        }
    }
    match secrets::access_tokens(settings, false) {
        Ok(tokens) => Arc::new(tokens),
        Err(error) => Arc::new(NoKey(error.0)),
    }
}

/// The request rate limits: in Redis when `REDIS_URL` is set, else in the stores'
/// limiter (PostgreSQL; memory in demo mode), or none when switched off.
async fn rate_limits(
    settings: &Settings,
    stored: Arc<dyn RateLimiter>,
    keys: Arc<dyn KeyedHash>,
) -> Result<Option<Arc<RateLimits>>, StartError> {
    let config = &settings.rate_limits;
    if !config.enabled {
        tracing::warn!("rate limits are off (RATE_LIMIT_ENABLED=false)");
        return Ok(None);
    }
    let quota = |name: &str, per_minute: u32, burst: u32| {
        Quota::new(per_minute, burst).map_err(|e| StartError::from(name, e))
    };
    let tenant = quota(
        "RATE_LIMIT_TENANT_PER_MINUTE",
        config.tenant_per_minute,
        config.tenant_burst,
    )?;
    let policy = RateLimitPolicy {
        client_address: quota(
            "RATE_LIMIT_AUTH_PER_MINUTE",
            config.auth_per_minute,
            config.auth_per_minute,
        )?,
        tenant,
        user: tenant.share(config.user_share_percent),
        intake: quota(
            "RATE_LIMIT_INTAKE_PER_MINUTE",
            config.intake_per_minute,
            config.intake_per_minute,
        )?,
    };
    let limiter: Arc<dyn RateLimiter> = match &config.redis_url {
        Some(url) => {
            use aura_adapter_redis::{DEFAULT_PREFIX, RedisRateLimiter};
            let redis =
                RedisRateLimiter::connect(url.expose(), DEFAULT_PREFIX, REDIS_TIMEOUT, keys)
                    .map_err(|e| StartError::from("REDIS_URL", e))?;
            // Redis speeds counting up; it is not the store of record. The service
            // starts without it and fails open until it answers.
            match redis.ping().await {
                Ok(()) => tracing::info!("rate limits: Redis"),
                Err(error) => tracing::warn!(
                    %error,
                    "rate limits: Redis does not answer yet; allowing requests until it does"
                ),
            }
            Arc::new(redis)
        }
        None => stored,
    };
    Ok(Some(Arc::new(RateLimits::new(limiter, policy))))
}

/// Every Redis command and connection attempt gives up after this.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// Keys live `IDEMPOTENCY_TTL_HOURS`; a running request holds its key for 60 s, or
/// longer when a request may run longer (the AI routes' deadline), so a retry never runs
/// a generate route a second time while the first still waits for the provider.
fn idempotency_config(settings: &Settings) -> IdempotencyConfig {
    let longest_request = ai_request_budget(settings).as_secs() + 5;
    let lock_secs = i64::try_from(longest_request.max(60)).unwrap_or(i64::MAX);
    IdempotencyConfig {
        ttl: time::Duration::hours(settings.idempotency_ttl_hours),
        lock_timeout: time::Duration::seconds(lock_secs),
        ..IdempotencyConfig::default()
    }
}

/// CORS only for configured origins; none configured means no cross-origin access.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::HeaderName::from_static("ratelimit-limit"),
            header::HeaderName::from_static("ratelimit-remaining"),
            header::HeaderName::from_static("ratelimit-reset"),
            header::HeaderName::from_static(aura_adapter_http::idempotency::IDEMPOTENCY_REPLAYED),
        ])
        .max_age(600)
}

fn memory_stores(chain: Arc<dyn ChainHasher>, clock: Arc<dyn Clock>) -> Stores {
    let store = aura_adapter_memory::MemoryStore::new(chain, clock);
    Stores {
        tenants: Arc::new(store.clone()),
        users: Arc::new(store.clone()),
        roles: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        resets: Arc::new(store.clone()),
        throttle: Arc::new(store.clone()),
        second_factors: Arc::new(store.clone()),
        audit: Arc::new(store.clone()),
        organisation: Arc::new(store.clone()),
        activities: Arc::new(store.clone()),
        processors: Arc::new(store.clone()),
        policies: Arc::new(store.clone()),
        policy_versions: Arc::new(store.clone()),
        suggestions: Arc::new(store.clone()),
        ai_usage: Arc::new(store.clone()),
        tasks: Arc::new(store.clone()),
        jobs: Arc::new(store.clone()),
        reviews: Arc::new(store.clone()),
        requests: Arc::new(store.clone()),
        request_writes: Arc::new(store.clone()),
        request_repository: Arc::new(store.clone()),
        intakes: Arc::new(store.clone()),
        breaches: Arc::new(store.clone()),
        breach_writes: Arc::new(store.clone()),
        dpia_screenings: Arc::new(store.clone()),
        dpias: Arc::new(store.clone()),
        documents: Arc::new(store.clone()),
        document_content: Arc::new(store.clone()),
        packs: Arc::new(store.clone()),
        idempotency: Arc::new(store),
        readiness: Arc::new(AlwaysReady),
        pool: None,
        rate_limiter: Arc::new(aura_adapter_memory::MemoryRateLimiter::new()),
        storage: "memory",
    }
}

/// PostgreSQL: migrations (as the owner role) when configured, then the app-role pool,
/// refusing to serve if that role could bypass row-level security.
async fn postgres_stores(
    settings: &Settings,
    chain: Arc<dyn ChainHasher>,
    clock: Arc<dyn Clock>,
    seal: Arc<dyn PersonalDataSeal>,
) -> Result<Stores, StartError> {
    use aura_adapter_postgres::{PgStores, PoolSettings, run_migrations};
    let url = settings
        .database_url
        .as_ref()
        .ok_or_else(|| StartError("DATABASE_URL: not set".to_owned()))?;
    if settings.run_migrations
        && let Some(owner_url) = &settings.migration_database_url
    {
        let applied = run_migrations(owner_url.expose())
            .await
            .map_err(|e| StartError::from("migrations (MIGRATION_DATABASE_URL)", e))?;
        tracing::info!(applied = applied.len(), "migrations up to date");
    }
    let pool = PoolSettings {
        max_size: settings.db_pool_max_size,
        acquire_timeout: Duration::from_millis(settings.db_acquire_timeout_ms),
        connect_timeout: Duration::from_millis(settings.db_acquire_timeout_ms.max(1_000)),
        transaction_pooling: settings.db_transaction_pooling,
        check_idle_after: Duration::from_secs(settings.db_check_idle_after_seconds),
    };
    let stores = PgStores::connect(url.expose(), pool, chain, clock, seal)
        .await
        .map_err(|e| StartError::from("DATABASE_URL", e))?
        .with_chain_lock_observer(aura_adapter_http::metrics::chain_lock_held);
    stores
        .check_app_role()
        .await
        .map_err(|e| StartError::from("DATABASE_URL", error_chain(&e)))?;
    let content = document_content(&stores, &settings.documents.storage)?;
    Ok(Stores {
        tenants: stores.tenants(),
        users: stores.users(),
        roles: Arc::new(stores.clone()),
        sessions: stores.sessions(),
        resets: stores.resets(),
        throttle: stores.throttle(),
        second_factors: stores.second_factors(),
        audit: stores.audit(),
        organisation: Arc::new(stores.clone()),
        activities: Arc::new(stores.clone()),
        processors: Arc::new(stores.clone()),
        policies: Arc::new(stores.clone()),
        policy_versions: Arc::new(stores.clone()),
        suggestions: stores.suggestions(),
        ai_usage: stores.ai_usage(),
        tasks: Arc::new(stores.clone()),
        jobs: Arc::new(stores.clone()),
        reviews: Arc::new(stores.clone()),
        requests: stores.requests(),
        request_writes: Arc::new(stores.clone()),
        request_repository: stores.request_repository(),
        intakes: Arc::new(stores.clone()),
        breaches: stores.breaches(),
        breach_writes: Arc::new(stores.clone()),
        dpia_screenings: Arc::new(stores.clone()),
        dpias: stores.dpias(),
        documents: stores.documents(),
        document_content: content,
        packs: Arc::new(stores.clone()),
        pool: Some(Arc::new(PgPool(stores.clone()))),
        rate_limiter: Arc::new(aura_adapter_postgres::PgRateLimiter::new(stores.clone())),
        idempotency: stores.idempotency(),
        readiness: Arc::new(PgReadiness(stores)),
        storage: "postgres",
    })
}

/// A request that sends no body checks its principal and does its first work in one
/// transaction ([`aura_adapter_postgres::with_request_unit`]). One that sends a body does
/// not: the body arrives at the client's pace, and no transaction waits on a client.
async fn request_unit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if sends_body(&req) {
        next.call(req).await
    } else {
        aura_adapter_postgres::with_request_unit(next.call(req)).await
    }
}

/// A body is declared by a length other than 0 or by a transfer coding; without either,
/// only the methods that never carry one here count as sending none (an HTTP/2 body needs
/// no length).
fn sends_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    match headers.get(header::CONTENT_LENGTH) {
        Some(length) => length.as_bytes().trim_ascii() != b"0",
        None => !matches!(*req.method(), Method::GET | Method::HEAD | Method::DELETE),
    }
}

/// The documents' content store: sealed chunks in PostgreSQL, or (`DOCUMENT_STORAGE=s3`)
/// in the bucket with the rest in PostgreSQL. No request is made here: a wrong bucket
/// or key shows on the first upload or read.
fn document_content(
    stores: &aura_adapter_postgres::PgStores,
    storage: &DocumentStorage,
) -> Result<Arc<dyn aura_documents::ports::ContentStore>, StartError> {
    let DocumentStorage::S3(s3) = storage else {
        return Ok(stores.document_content());
    };
    let blobs = S3ChunkBlobs::new(&S3Settings {
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        bucket: s3.bucket.clone(),
        access_key_id: s3.access_key_id.clone(),
        secret_access_key: s3.secret_access_key.expose().to_owned(),
        allow_http: s3.allow_http,
    })
    .map_err(|e| StartError::from("S3_ENDPOINT", e))?;
    Ok(stores.with_chunk_blobs(Arc::new(blobs)).document_content())
}

/// An error and its causes on one line (causes name what failed, never values).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

struct PgPool(aura_adapter_postgres::PgStores);

impl PoolProbe for PgPool {
    fn pool(&self) -> PoolGauges {
        let status = self.0.pool_status();
        PoolGauges {
            max: status.max_size,
            size: status.size,
            in_use: status.size.saturating_sub(status.available),
            waiting: status.waiting,
        }
    }
}

struct PgReadiness(aura_adapter_postgres::PgStores);

#[async_trait::async_trait]
impl Readiness for PgReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ready().await.map_err(|e| e.to_string())
    }
}

/// The configured mail transport, delivering in the caller's task (errors surface).
fn build_mailer(settings: &Settings) -> Result<Arc<dyn Mailer>, StartError> {
    use aura_adapter_mail::{MailConfig, SmtpConfig, SmtpTls, mailer_from_config};
    let config = match &settings.mail {
        config::MailTransport::Log => MailConfig::Log,
        config::MailTransport::File(dir) => MailConfig::File {
            dir: dir.clone(),
            from: settings.mail_from.clone(),
        },
        config::MailTransport::Smtp(smtp) => {
            let tls: SmtpTls = smtp
                .tls
                .parse()
                .map_err(|_| StartError("SMTP_TLS: must be none, starttls or tls".to_owned()))?;
            let mut config = SmtpConfig::new(smtp.host.clone(), tls, settings.mail_from.clone());
            config.port = smtp.port;
            config.username = smtp.username.clone();
            config.password = smtp.password.as_ref().map(|p| p.expose().to_owned());
            MailConfig::Smtp(config)
        }
    };
    mailer_from_config(config).map_err(|e| StartError::from("mail settings", e))
}

/// Request-path mail (the public intake's confirmation): SMTP delivery moves to the
/// background. Identity's mails (resets, invitations, unlock links) go through the job
/// queue instead.
fn in_background(settings: &Settings, mailer: Arc<dyn Mailer>) -> Arc<dyn Mailer> {
    if matches!(settings.mail, config::MailTransport::Smtp(_)) {
        Arc::new(aura_adapter_mail::BackgroundMailer::new(mailer, 256))
    } else {
        mailer
    }
}

/// TOTP second factors: secrets sealed and recovery codes keyed under the pepper;
/// authenticator apps show the service as "AURA-GDPR".
fn second_factor(
    pepper: &aura_adapter_crypto::Pepper,
) -> Arc<dyn aura_identity::ports::SecondFactor> {
    Arc::new(TotpSecondFactor::from_pepper(pepper, "AURA-GDPR"))
}
