//! Request id, access log and security headers for every response; request deadlines.

use std::{cell::Cell, rc::Rc, time::Duration, time::Instant};

use actix_web::{
    Error, HttpMessage, HttpRequest,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;

use crate::{
    error::ApiError,
    metrics,
    request::{
        LoggedPrincipal, REQUEST_ID, REQUEST_ID_HEADER, RequestId, SECURITY_HEADERS,
        arrived_over_https, edge,
    },
    trace::RequestTrace,
};

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
    let is_public_page = req.path().starts_with("/public/");
    let hsts = strict_transport_security(req.request());
    let scrape = req.path() == metrics::PATH;
    let in_flight = (!scrape).then(metrics::InFlight::start);
    let trace = RequestTrace::start(&req, &request_id);

    let result = REQUEST_ID
        .scope(request_id.clone(), next.call(req))
        .instrument(trace.span().clone())
        .await;
    drop(in_flight);
    let mut response = match result {
        Ok(response) => response,
        // Rendered by the server (a request stopped at its deadline): still one line.
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            let trace_id = trace.finish(status, None);
            if !scrape {
                metrics::record_request(&method, trace.route(), status, started.elapsed());
            }
            tracing::info!(
                request_id,
                method = %method,
                route = trace.route(),
                status,
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                trace_id,
                "request"
            );
            return Err(error);
        }
    };

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
    for (name, value) in SECURITY_HEADERS {
        // Swagger UI (`/docs`) runs its own scripts (under its own policy) and may be cached.
        if is_docs && (name == header::CONTENT_SECURITY_POLICY || name == header::CACHE_CONTROL) {
            continue;
        }
        headers.insert(name, HeaderValue::from_static(value));
    }
    if is_docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
        );
    } else if is_public_page {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PUBLIC_CONTENT_SECURITY_POLICY),
        );
    }
    if let Some(hsts) = hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    Ok(response)
}

/// What the docs page may load: its own vendored scripts and styles (Swagger UI sets style
/// attributes, hence `'unsafe-inline'` for styles only), its inline SVG icons, and the API
/// document from this origin; nothing from another host, ever.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What the public intake pages (`crate::public`) may do: load this origin's stylesheet
/// and post their forms to this origin; no script, no image, no frame, nothing else.
const PUBLIC_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// HSTS only for requests that came over HTTPS (RFC 6797 §7.2: not over plain HTTP).
fn strict_transport_security(req: &HttpRequest) -> Option<HeaderValue> {
    let max_age = edge(req).hsts_max_age_secs;
    (max_age > 0 && arrived_over_https(req))
        .then(|| HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains")).ok())
        .flatten()
}

/// Which deadline a route has: declared per route in the route table
/// ([`crate::routes::table`]), so it follows the route the router matched, never the
/// path's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// `EdgeConfig::request_timeout`.
    Standard,
    /// `EdgeConfig::ai_request_timeout`: the route waits on the AI provider (its timeout,
    /// retries and back-off).
    Provider,
}

/// The running request's deadline, which [`deadline`] starts at the standard one before
/// routing and the matched route may extend ([`extend_deadline`]). Actix serves a
/// request on one thread, so a `Cell` shared by the two is enough.
#[derive(Clone)]
struct DeadlineSlot(Rc<Cell<Duration>>);

/// Called by a route with a [`Deadline::Provider`] once the router matched it: the
/// request's deadline becomes the provider's budget.
pub(crate) fn extend_deadline(req: &ServiceRequest, class: Deadline) {
    if class == Deadline::Provider
        && let Some(DeadlineSlot(slot)) = req.extensions().get::<DeadlineSlot>()
    {
        slot.set(slot.get().max(edge(req.request()).ai_request_timeout));
    }
}

/// Stops a request that runs past its deadline and answers 503 problem+json with
/// `Retry-After`. The deadline is the standard one unless the route the request reached
/// extends it. The handler's future is dropped: an open database transaction is rolled
/// back and its connection discarded, never returned to the pool half-done.
///
/// The answer is an error rendered by the server itself: a response cannot be built
/// here because the request may not be cloned before routing is done.
pub async fn deadline<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let slot = Rc::new(Cell::new(edge(req.request()).request_timeout));
    req.extensions_mut().insert(DeadlineSlot(slot.clone()));
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
    let started = tokio::time::Instant::now();
    let call = next.call(req);
    tokio::pin!(call);
    let limit = loop {
        let limit = slot.get();
        match tokio::time::timeout_at(started + limit, &mut call).await {
            Ok(response) => return response,
            // Extended meanwhile by the route: wait for the rest of the new deadline.
            Err(_) if slot.get() > limit => continue,
            Err(_) => break limit,
        }
    };
    tracing::warn!(
        request_id,
        timeout_secs = limit.as_secs(),
        "request stopped at its deadline"
    );
    Err(ApiError::Timeout {
        secs: limit.as_secs(),
        request_id,
    }
    .into())
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
