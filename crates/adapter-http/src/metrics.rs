//! Prometheus metrics: what the `observe` middleware records for every request, what the
//! service reads from its pool and job queue at scrape time, and the `/metrics` endpoint.
//!
//! Labels are bounded: a route is its pattern (`/api/v1/tasks/{id}`, never the path),
//! unmatched paths share `<unmatched>`, unknown methods share `OTHER`. No label ever holds
//! an id, an address or a name.

use std::{
    sync::{Arc, LazyLock},
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, http::Method, web};
use aura_jobs::QueueStats;
use aura_shared_kernel::StoreError;
use prometheus_client::{
    encoding::{EncodeLabelSet, text},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram, info::Info},
    registry::Registry,
};

use crate::ApiError;

/// Where the metrics are served.
pub const PATH: &str = "/metrics";

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "<unmatched>";

const LOGIN_ROUTE: &str = "/api/v1/auth/login";

/// Request latency buckets in seconds (Prometheus' classic defaults).
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How long a write holds its tenant's audit-chain head lock, in seconds: from 100 µs.
const CHAIN_LOCK_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    git_commit: String,
}

/// The process-wide instruments (one registry per process).
struct Instruments {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    login_failures: Family<ReasonLabel, Counter>,
    throttled: Family<RouteLabel, Counter>,
    rate_limited: Family<LimitLabel, Counter>,
    chain_lock: Histogram,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let requests: Family<RequestLabels, Histogram, fn() -> Histogram> =
        Family::new_with_constructor(latency_histogram);
    registry.register(
        "http_request_duration_seconds",
        "Time to answer a request, by route pattern, method and status",
        requests.clone(),
    );
    let in_flight = Gauge::default();
    registry.register(
        "http_requests_in_flight",
        "Requests being handled now",
        in_flight.clone(),
    );
    let login_failures = Family::<ReasonLabel, Counter>::default();
    // Known reasons start at 0, so rates work from the first scrape.
    for reason in ["bad_credentials", "throttled"] {
        drop(login_failures.get_or_create(&ReasonLabel { reason }));
    }
    registry.register(
        "aura_login_failures",
        "Failed sign-ins: bad_credentials (401) or throttled (429)",
        login_failures.clone(),
    );
    let throttled = Family::<RouteLabel, Counter>::default();
    registry.register(
        "aura_throttled_requests",
        "Requests answered 429 Too Many Requests, by route pattern",
        throttled.clone(),
    );
    let rate_limited = Family::<LimitLabel, Counter>::default();
    registry.register(
        "aura_rate_limit_rejections",
        "Requests refused by a rate limiter, by limit",
        rate_limited.clone(),
    );
    let chain_lock = Histogram::new(CHAIN_LOCK_BUCKETS);
    registry.register(
        "aura_audit_chain_lock_held_seconds",
        "How long a committed write held its tenant's audit-chain head lock (from taking it to the end of the commit): that tenant's other writes wait for it",
        chain_lock.clone(),
    );
    Instruments {
        registry,
        requests,
        in_flight,
        login_failures,
        throttled,
        rate_limited,
        chain_lock,
    }
});

/// A bounded method label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Counts a request as in flight until dropped.
pub struct InFlight(());

impl InFlight {
    pub fn start() -> Self {
        INSTRUMENTS.in_flight.inc();
        Self(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        INSTRUMENTS.in_flight.dec();
    }
}

/// Records one answered request. `route` is the matched pattern or [`UNMATCHED`].
/// A sign-in answered 401 or 429 counts as a login failure; every 429 counts as throttled.
pub fn record_request(method: &Method, route: &str, status: u16, elapsed: Duration) {
    let instruments = &*INSTRUMENTS;
    let method = method_label(method);
    instruments
        .requests
        .get_or_create(&RequestLabels {
            method,
            route: route.to_owned(),
            status,
        })
        .observe(elapsed.as_secs_f64());
    if status == 429 {
        instruments
            .throttled
            .get_or_create(&RouteLabel {
                route: route.to_owned(),
            })
            .inc();
    }
    if route == LOGIN_ROUTE && method == "POST" {
        let reason = match status {
            401 => Some("bad_credentials"),
            429 => Some("throttled"),
            _ => None,
        };
        if let Some(reason) = reason {
            instruments
                .login_failures
                .get_or_create(&ReasonLabel { reason })
                .inc();
        }
    }
}

/// For rate limiters: counts a refusal by the limit that refused it (a short fixed name
/// such as `"auth"` or `"tenant"`). The 429 itself is counted by the middleware as
/// `aura_throttled_requests_total`, so limiters need not count that.
pub fn rate_limited(limit: &'static str) {
    INSTRUMENTS
        .rate_limited
        .get_or_create(&LimitLabel { limit })
        .inc();
}

/// For the PostgreSQL stores: a committed write held its tenant's audit-chain head lock
/// this long.
pub fn chain_lock_held(held: Duration) {
    INSTRUMENTS.chain_lock.observe(held.as_secs_f64());
}

/// The connection pool as the metrics see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGauges {
    pub max: usize,
    /// Connections open now.
    pub size: usize,
    pub in_use: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// Read at every scrape (cheap: no I/O).
pub trait PoolProbe: Send + Sync {
    fn pool(&self) -> PoolGauges;
}

/// Reads the job queue's depth and age (one query; cached between scrapes).
#[async_trait::async_trait]
pub trait QueueProbe: Send + Sync {
    async fn queue(&self) -> Result<QueueStats, StoreError>;
}

/// Who may read `/metrics` on the listener that serves it.
#[derive(Clone)]
pub enum MetricsAccess {
    /// A separate, private listener: no credentials.
    Open,
    /// The public listener: `Authorization: Bearer <token>` required.
    Token(String),
}

/// Queue figures older than this are read again at the next scrape.
const QUEUE_CACHE: Duration = Duration::from_secs(5);
/// A scrape never waits longer than this for the queue figures.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

struct QueueCache {
    probe: Arc<dyn QueueProbe>,
    last: tokio::sync::Mutex<Option<(Instant, Option<QueueStats>)>>,
}

impl QueueCache {
    /// The cached figures, refreshed when stale; concurrent scrapes share one read.
    /// `None` when the last read failed (the queue gauges are left out then).
    async fn read(&self) -> Option<QueueStats> {
        let mut last = self.last.lock().await;
        if let Some((at, stats)) = last.as_ref()
            && at.elapsed() < QUEUE_CACHE
        {
            return stats.clone();
        }
        let stats = match tokio::time::timeout(QUEUE_TIMEOUT, self.probe.queue()).await {
            Ok(Ok(stats)) => Some(stats),
            Ok(Err(error)) => {
                tracing::warn!(%error, "metrics: the job queue could not be read");
                None
            }
            Err(_) => {
                tracing::warn!("metrics: reading the job queue timed out");
                None
            }
        };
        *last = Some((Instant::now(), stats.clone()));
        stats
    }
}

/// The `/metrics` endpoint: access rule, scrape-time sources and the build info.
#[derive(Clone)]
pub struct MetricsEndpoint {
    access: MetricsAccess,
    pool: Option<Arc<dyn PoolProbe>>,
    queue: Option<Arc<QueueCache>>,
    build: BuildLabels,
}

impl MetricsEndpoint {
    pub fn new(access: MetricsAccess, version: &str, git_commit: &str) -> Self {
        Self {
            access,
            pool: None,
            queue: None,
            build: BuildLabels {
                version: version.to_owned(),
                git_commit: git_commit.to_owned(),
            },
        }
    }

    #[must_use]
    pub fn with_pool(mut self, pool: Arc<dyn PoolProbe>) -> Self {
        self.pool = Some(pool);
        self
    }

    #[must_use]
    pub fn with_queue(mut self, probe: Arc<dyn QueueProbe>) -> Self {
        self.queue = Some(Arc::new(QueueCache {
            probe,
            last: tokio::sync::Mutex::new(None),
        }));
        self
    }

    /// Registers `GET /metrics` with this endpoint.
    pub fn configure(self) -> impl FnOnce(&mut web::ServiceConfig) {
        move |cfg| {
            cfg.app_data(web::Data::new(self))
                .service(web::resource(PATH).get(scrape));
        }
    }

    fn allowed(&self, req: &HttpRequest) -> bool {
        match &self.access {
            MetricsAccess::Open => true,
            MetricsAccess::Token(token) => req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|presented| same_secret(presented.as_bytes(), token.as_bytes())),
        }
    }

    /// The scrape-time figures as their own registry.
    async fn snapshot(&self) -> Registry {
        let mut registry = Registry::default();
        registry.register(
            "aura_build",
            "The running build",
            Info::new(self.build.clone()),
        );
        if let Some(pool) = &self.pool {
            let figures = pool.pool();
            for (name, help, value) in [
                (
                    "aura_db_pool_max_connections",
                    "Most connections the pool may open",
                    figures.max,
                ),
                (
                    "aura_db_pool_connections",
                    "Connections open now",
                    figures.size,
                ),
                (
                    "aura_db_pool_in_use",
                    "Open connections lent out now",
                    figures.in_use,
                ),
                (
                    "aura_db_pool_waiting",
                    "Requests waiting for a connection",
                    figures.waiting,
                ),
            ] {
                registry.register(name, help, gauge(value));
            }
        }
        if let Some(queue) = &self.queue
            && let Some(stats) = queue.read().await
        {
            let depth = Family::<StatusLabel, Gauge>::default();
            for (status, value) in [
                ("due", stats.due),
                ("scheduled", stats.scheduled),
                ("running", stats.running),
                ("dead", stats.dead),
            ] {
                depth.get_or_create(&StatusLabel { status }).set(value);
            }
            registry.register(
                "aura_job_queue_depth",
                "Jobs by status: due (queued, time has come), scheduled (queued for later), running, dead",
                depth,
            );
            let oldest = Gauge::<i64>::default();
            oldest.set(stats.oldest_due_seconds);
            registry.register(
                "aura_job_queue_oldest_due_age_seconds",
                "How long the oldest due job has waited past its time (0 when none)",
                oldest,
            );
        }
        registry
    }

    /// The OpenMetrics text of everything.
    pub async fn render(&self) -> Result<String, std::fmt::Error> {
        let snapshot = self.snapshot().await;
        let mut body = String::with_capacity(8 * 1024);
        text::encode_registry(&mut body, &INSTRUMENTS.registry)?;
        text::encode_registry(&mut body, &snapshot)?;
        text::encode_eof(&mut body)?;
        Ok(body)
    }
}

fn gauge(value: usize) -> Gauge {
    let gauge = Gauge::default();
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    gauge
}

/// Compares without stopping at the first difference, so the time taken does not tell
/// how much of a guess was right.
fn same_secret(presented: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(presented.len() != expected.len());
    for (i, byte) in expected.iter().enumerate() {
        difference |= byte ^ presented.get(i).copied().unwrap_or(!byte);
    }
    std::hint::black_box(difference) == 0
}

async fn scrape(req: HttpRequest, endpoint: web::Data<MetricsEndpoint>) -> HttpResponse {
    if !endpoint.allowed(&req) {
        return actix_web::ResponseError::error_response(&ApiError::Unauthorized {
            code: "unauthorized",
            detail: "the metrics token is required (Authorization: Bearer …)",
        });
    }
    match endpoint.render().await {
        Ok(body) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .insert_header(("cache-control", "no-store"))
            .body(body),
        Err(_) => {
            tracing::error!("metrics could not be encoded");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"abcd", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }

    #[test]
    fn odd_methods_share_one_label() {
        let odd = Method::from_bytes(b"FOOBAR").expect("token");
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }

    #[actix_web::test]
    async fn requests_are_counted_by_pattern() {
        record_request(&Method::POST, LOGIN_ROUTE, 401, Duration::from_millis(30));
        let text = MetricsEndpoint::new(MetricsAccess::Open, "1.2.3", "abc")
            .render()
            .await
            .expect("encodes");
        assert!(text.contains(
            r#"http_request_duration_seconds_bucket{le="0.05",method="POST",route="/api/v1/auth/login",status="401"} 1"#
        ), "{text}");
        assert!(
            text.contains(r#"aura_login_failures_total{reason="bad_credentials"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"aura_build_info{version="1.2.3",git_commit="abc"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
