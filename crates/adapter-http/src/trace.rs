//! One tracing span per request, continuing the caller's W3C trace context
//! (`traceparent`, `tracestate`). When the service exports traces (OTLP), the span becomes
//! an OpenTelemetry server span; either way the trace id reaches the access log.
//!
//! The context is read with the global propagator, which the service sets to W3C trace
//! context; without an OpenTelemetry layer the span is a plain `tracing` span.

use actix_web::{dev::ServiceRequest, http::header::HeaderMap};
use opentelemetry::{
    global,
    propagation::Extractor,
    trace::{TraceContextExt, TraceId},
};
use tracing::{Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{metrics, request::LoggedPrincipal};

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// The span of one request and the trace it continues.
pub(crate) struct RequestTrace {
    span: Span,
    incoming: Option<TraceId>,
    /// The route pattern, or `<unmatched>`.
    route: String,
}

impl RequestTrace {
    /// Opens the request's span (none for metrics scrapes) with the caller's context as
    /// its parent when the request carries a valid `traceparent`.
    pub(crate) fn start(req: &ServiceRequest, request_id: &str) -> Self {
        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract(&Headers(req.headers()))
        });
        let remote = parent.span().span_context().clone();
        let incoming = remote.is_valid().then(|| remote.trace_id());
        // The route pattern is known before routing (the app's resource map), and the
        // exported span's name cannot change once it has started.
        let route = req
            .match_pattern()
            .unwrap_or_else(|| metrics::UNMATCHED.to_owned());
        if req.path() == metrics::PATH {
            return Self {
                span: Span::none(),
                incoming,
                route,
            };
        }
        let span = tracing::info_span!(
            "request",
            otel.name = format!("{} {route}", req.method()),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id,
            method = %req.method(),
            route = %route,
            status = Empty,
            tenant_id = Empty,
            user_id = Empty,
        );
        if remote.is_valid() {
            // Fails only when no OpenTelemetry layer is installed: nothing to continue.
            let _ = span.set_parent(parent);
        }
        Self {
            span,
            incoming,
            route,
        }
    }

    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    pub(crate) fn route(&self) -> &str {
        &self.route
    }

    /// Records the outcome on the span (ids only, never names or addresses) and returns
    /// the trace id for the access log.
    pub(crate) fn finish(&self, status: u16, principal: Option<LoggedPrincipal>) -> Option<String> {
        let span = &self.span;
        span.record("status", status);
        if status >= 500 {
            span.record("otel.status_code", "error");
        }
        if let Some(principal) = principal {
            span.record("tenant_id", principal.tenant_id.to_string());
            span.record("user_id", principal.user_id.to_string());
        }
        let exported = span.context().span().span_context().trace_id();
        (exported != TraceId::INVALID)
            .then_some(exported)
            .or(self.incoming)
            .map(|id| id.to_string())
    }
}
