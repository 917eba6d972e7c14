use std::time::Duration;

use opentelemetry::{KeyValue, trace::TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::{
    EnvFilter, Layer, filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::{LogFormat, ObservabilitySettings};

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] sends what is still buffered.
#[must_use = "dropping it without shutdown may lose the last spans"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the trace exporter (at most a few seconds); nothing to do when
    /// no OTLP endpoint is configured.
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        // The SDK blocks while its batch thread exports: keep that off the runtime.
        let flushed = tokio::task::spawn_blocking(move || {
            provider.shutdown_with_timeout(Duration::from_secs(5))
        })
        .await;
        if !matches!(flushed, Ok(Ok(()))) {
            tracing::warn!("trace export: the last spans may not have been sent");
        }
    }
}

/// JSON lines in production, readable lines in development. `RUST_LOG` overrides the
/// default level (`info`). With `OTEL_EXPORTER_OTLP_ENDPOINT`, the service's spans
/// (`aura*` targets, info and above) are exported over OTLP/HTTP (protobuf) in batches;
/// without it nothing is exported. Incoming W3C `traceparent`/`tracestate` are read
/// either way, so the access log carries the caller's trace id.
pub fn init_tracing(
    format: LogFormat,
    observability: &ObservabilitySettings,
) -> Result<Telemetry, String> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt_layer = match format {
        LogFormat::Json => fmt::layer()
            .with_target(false)
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .with_target(false)
            .compact()
            .with_filter(filter)
            .boxed(),
    };
    let provider = observability
        .otlp_endpoint
        .as_ref()
        .map(|endpoint| tracer_provider(endpoint.expose(), &observability.service_name))
        .transpose()?;
    // Only the service's own spans: the exporter's HTTP client must not trace itself.
    let otel_layer = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("aura-api"))
            .with_filter(Targets::new().with_target("aura", Level::INFO))
    });
    // A second initialisation (tests) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt_layer)
        .with(otel_layer)
        .try_init();
    if provider.is_some() {
        tracing::info!(
            service = %observability.service_name,
            "trace export over OTLP/HTTP enabled"
        );
    }
    Ok(Telemetry { provider })
}

/// A batch exporter to `{endpoint}/v1/traces`.
fn tracer_provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider, String> {
    let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces)
        .with_timeout(Duration::from_secs(10))
        .build()
        // The error may quote the URL (which may hold credentials): name the variable only.
        .map_err(|_| "OTEL_EXPORTER_OTLP_ENDPOINT: the trace exporter cannot start".to_owned())?;
    let resource = Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// For command-line tools: warnings and errors only (unless `RUST_LOG` says otherwise),
/// on standard error, so standard output stays clean for `--json`.
pub fn init_cli_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .compact()
        .try_init();
}
