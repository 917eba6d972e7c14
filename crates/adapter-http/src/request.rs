//! The facts of a request that every part of the edge reads — the application state, the
//! client's address and scheme, the request id, who is logged in, the body cap and the
//! headers every answer carries. A leaf: it imports nothing else of this crate but the
//! state, so extractors, middleware, errors and the route table can all read it without
//! importing each other.

use std::{net::IpAddr, str::FromStr};

use actix_web::{
    HttpMessage, HttpRequest,
    http::header::{self, HeaderName},
    web,
};
use aura_shared_kernel::{TenantId, UserId};

use crate::state::{ApiState, EdgeConfig};

/// The application state, if the app was built with one.
pub(crate) fn app_state(req: &HttpRequest) -> Option<&ApiState> {
    req.app_data::<web::Data<ApiState>>()
        .map(|data| data.get_ref())
}

/// The client address: the peer, or — only when the peer is a trusted proxy — the
/// right-most untrusted address of `X-Forwarded-For`.
pub(crate) fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    forwarded
        .rsplit(',')
        .filter_map(|part| IpAddr::from_str(part.trim()).ok())
        .find(|ip| !trusted.contains(ip))
        .or(Some(peer))
}

/// Whether the client reached us over HTTPS: the service itself speaks plain HTTP, so
/// only a trusted proxy's `X-Forwarded-Proto` can tell (from anyone else it is ignored).
pub(crate) fn arrived_over_https(req: &HttpRequest) -> bool {
    let Some(state) = app_state(req) else {
        return false;
    };
    let from_proxy = req
        .peer_addr()
        .is_some_and(|peer| state.edge.trusted_proxies.contains(&peer.ip()));
    from_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The edge settings, borrowed (read on every request; the defaults when no state is
/// configured, as in unit tests).
pub(crate) fn edge(req: &HttpRequest) -> &EdgeConfig {
    static DEFAULTS: std::sync::LazyLock<EdgeConfig> =
        std::sync::LazyLock::new(EdgeConfig::default);
    app_state(req).map_or(&DEFAULTS, |s| &s.edge)
}

tokio::task_local! {
    /// The id of the request a task is handling (set by `middleware::observe`).
    pub(crate) static REQUEST_ID: String;
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

/// Sent with every answer: no MIME sniffing, no framing, no referrer, no script or
/// style from anywhere, nothing cached.
pub(crate) const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (header::CACHE_CONTROL, "no-store"),
];

/// Which body cap a route has: requests carrying a document get a larger one, the
/// authentication routes a small one, the rest `EdgeConfig::max_body_bytes`. Declared
/// per route in the route table ([`crate::routes::table`]), carried by the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCap {
    /// `EdgeConfig::max_body_bytes`.
    Standard,
    /// Credentials and names only.
    Auth,
    /// Policy texts and other long documents (`EdgeConfig::max_document_bytes`).
    Document,
}

impl BodyCap {
    /// The cap of the route the request reached: each route puts its own in the
    /// request's extensions ([`crate::route::Route::service`]); the standard cap for
    /// anything that reached no route.
    pub(crate) fn of(req: &HttpRequest) -> BodyCap {
        req.extensions()
            .get::<BodyCap>()
            .copied()
            .unwrap_or(BodyCap::Standard)
    }
}

/// Credentials, names and a password fit in far less; anything bigger is abuse.
pub const AUTH_BODY_BYTES: usize = 16 * 1024;

/// The body's declared `Content-Length`, if any.
pub(crate) fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
