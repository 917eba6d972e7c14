//! Request id, access log and security headers for every response.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
};
use aura_tenancy::{TenantId, UserId};
use tracing::Instrument;

use crate::{metrics, trace::RequestTrace};

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being handled on this task, for error bodies.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request's id, in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who made the request, once authenticated (for the access log).
#[derive(Debug, Clone, Copy)]
pub struct LoggedPrincipal {
    pub tenant_id: TenantId,
    pub user_id: UserId,
}

/// A client-sent id is kept when it is short and plain; otherwise a new one is made.
fn accept_request_id(header: Option<&HeaderValue>) -> String {
    header
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Assigns the request id, echoes it, logs one line per request, records the request's
/// metrics and trace span, and sets security headers. Metrics scrapes are neither
/// counted nor logged above debug level.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = accept_request_id(req.headers().get(REQUEST_ID_HEADER));
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let is_docs = req.path().starts_with("/docs");
    let scrape = req.path() == metrics::PATH;
    let in_flight = (!scrape).then(metrics::InFlight::start);
    let trace = RequestTrace::start(&req, &request_id);

    let mut response = REQUEST_ID
        .scope(request_id.clone(), next.call(req))
        .instrument(trace.span().clone())
        .await?;
    drop(in_flight);

    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| metrics::UNMATCHED.to_owned());
    let principal = response
        .request()
        .extensions()
        .get::<LoggedPrincipal>()
        .copied();
    let trace_id = trace.finish(status, principal);
    if scrape {
        tracing::debug!(request_id, status, "metrics scrape");
    } else {
        metrics::record_request(&method, &route, status, started.elapsed());
        tracing::info!(
            request_id,
            method = %method,
            route,
            status,
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            tenant_id = principal.map(|p| p.tenant_id.to_string()),
            user_id = principal.map(|p| p.user_id.to_string()),
            trace_id,
            "request"
        );
    }

    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !is_docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_client_ids_are_kept_and_others_replaced() {
        let keep = HeaderValue::from_static("abc-123_x.y");
        assert_eq!(accept_request_id(Some(&keep)), "abc-123_x.y");
        let odd = HeaderValue::from_static("abc def<script>");
        assert_ne!(accept_request_id(Some(&odd)), "abc def<script>");
        let long = HeaderValue::from_str(&"a".repeat(200)).expect("ascii");
        assert_eq!(accept_request_id(Some(&long)).len(), 36);
    }
}
