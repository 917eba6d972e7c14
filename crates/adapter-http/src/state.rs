use std::{net::IpAddr, sync::Arc, time::Duration};

use aura_ai_port::AiAssistant;
use aura_audit::AuditService;
use aura_gdpr_registers::Registers;
use aura_idempotency::Idempotency;
use aura_identity::IdentityServices;
use aura_rate_limit::RateLimits;
use aura_requests::{RequestCases, intake::IntakeService};
use aura_tasks::TaskService;
use serde::Serialize;
use utoipa::ToSchema;

/// Whether the service can do its work (the database answers).
#[async_trait::async_trait]
pub trait Readiness: Send + Sync {
    async fn check(&self) -> Result<(), String>;
}

/// What `GET /api/v1/system/info` tells.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SystemInfo {
    pub name: String,
    pub version: String,
    /// The build's commit; absent unless the installation shows build details
    /// (`BUILD_DETAILS_ENABLED`, off in production by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// When the binary was built; shown like `git_commit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_time: Option<String>,
    /// `postgres` or `memory` (demo mode: nothing is persisted).
    pub storage: String,
}

/// How the edge treats requests.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Largest accepted JSON body.
    pub max_body_bytes: usize,
    /// Largest accepted body on routes that carry documents (policy texts).
    pub max_document_bytes: usize,
    /// Longest a request may run before it is stopped with 503.
    pub request_timeout: Duration,
    /// The same for the AI routes, which wait on a provider (its timeout and retries).
    pub ai_request_timeout: Duration,
    /// `Strict-Transport-Security` max-age for requests that arrived over HTTPS (through
    /// a trusted proxy); 0 sends no header.
    pub hsts_max_age_secs: u64,
    /// Serve the API description (`/openapi.json`) and Swagger UI (`/docs`); otherwise
    /// both answer 404.
    pub api_docs: bool,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            max_body_bytes: 64 * 1024,
            max_document_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            ai_request_timeout: Duration::from_secs(180),
            hsts_max_age_secs: 31_536_000,
            api_docs: true,
        }
    }
}

/// Everything the handlers need, shared by all workers.
#[derive(Clone)]
pub struct ApiState {
    pub identity: IdentityServices,
    pub audit: AuditService,
    pub registers: Registers,
    /// The AI assistant's use cases.
    pub ai: AiAssistant,
    pub tasks: TaskService,
    /// Data-subject requests and their actions.
    pub requests: RequestCases,
    /// Personal-data breaches and their actions.
    pub breaches: aura_breaches::BreachCases,
    /// The DPIA screening of processing activities (Art. 35).
    pub dpia_screenings: aura_dpia_screening::DpiaScreenings,
    /// DPIAs and their actions.
    pub dpias: aura_dpias::DpiaCases,
    /// Documents: their metadata, versions and sealed content.
    pub documents: aura_documents::DocumentService,
    /// Idempotency keys of the create routes and sign-up.
    pub idempotency: Idempotency,
    pub readiness: Arc<dyn Readiness>,
    /// The public signing keys (`GET /.well-known/jwks.json`).
    pub jwks: Arc<serde_json::Value>,
    pub info: SystemInfo,
    pub edge: EdgeConfig,
    /// Request rate limits (None: switched off with `RATE_LIMIT_ENABLED=false`).
    pub limits: Option<Arc<RateLimits>>,
    /// The public intake page of data-subject requests (None: its pages answer 404).
    pub intake: Option<IntakeService>,
    /// Seals what the API hands out to be given back (list cursors) under the tenant's
    /// key, the stores' own seal.
    pub seal: Arc<dyn aura_shared_kernel::PersonalDataSeal>,
    /// The report renderers (PDF documents, XLSX workbooks).
    pub reports: aura_reports::Reports,
    /// Accountability packs (built by the worker).
    pub packs: aura_packs::Packs,
    /// The signed-in account's tenants at a glance (`GET /me/portfolio`).
    pub portfolio: aura_portfolio::Portfolio,
}
