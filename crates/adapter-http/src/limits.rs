//! Request rate limits at the edge.
//!
//! - Per client address on the public auth routes (marked `RateLimit::PerAddress` in the
//!   route table, [`crate::routes::table`]): checked by [`per_address`], which the route
//!   itself carries, before the handler runs (before any body is parsed or password
//!   hashed), whatever spelling of the path reached the route.
//! - Per tenant on every authenticated route: checked by the `Auth` extractor with the
//!   tenant of the verified token — the local block cache before the principal is
//!   re-read, the shared store after ([`tenant_before_reread`], [`tenant_after_reread`]).
//!
//! A refusal is `429 application/problem+json` (`code: rate_limited`) with `Retry-After`
//! in whole seconds, rounded up. Every limited response also carries `RateLimit-Limit`
//! (the burst), `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the full burst
//! is back). Health, readiness, JWKS, system info, the docs and the OpenAPI document are
//! never limited.

use actix_web::{
    Error, HttpMessage, HttpRequest, ResponseError,
    body::{BoxBody, EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use aura_rate_limit::{RateLimitDecision, RateLimitKey};
use aura_shared_kernel::TenantId;
use time::OffsetDateTime;

use crate::{error::ApiError, request::client_ip, state::ApiState};

/// The decision for this request, for the response headers.
#[derive(Debug, Clone, Copy)]
struct Decided(RateLimitDecision);

/// Which limit refused a request.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Address,
    Tenant,
}

fn refusal(decision: RateLimitDecision, limit: Limit) -> ApiError {
    let (label, scope) = match limit {
        Limit::Address => ("address", "this address"),
        Limit::Tenant => ("tenant", "your organisation"),
    };
    crate::metrics::rate_limited(label);
    ApiError::RateLimited {
        scope,
        retry_after_secs: decision.retry_after_secs(),
    }
}

/// Wraps each route the table marks `RateLimit::PerAddress` (attached where the route
/// is registered, [`crate::route::Route::service`]): the per-address limit, refused
/// before anything else of the route runs.
pub async fn per_address(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, Error> {
    if let Some(state) = req.app_data::<web::Data<ApiState>>()
        && let Some(limits) = &state.limits
        && let Some(ip) = client_ip(req.request(), &state.edge.trusted_proxies)
    {
        let decision = limits
            .check(&RateLimitKey::client_address(ip), OffsetDateTime::now_utc())
            .await;
        req.extensions_mut().insert(Decided(decision));
        if !decision.allowed {
            let (request, _) = req.into_parts();
            let mut response = refusal(decision, Limit::Address).error_response();
            set_headers(response.headers_mut(), decision);
            return Ok(ServiceResponse::new(request, response).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Wraps `/api/v1`: the rate-limit headers on every response whose request was counted
/// (per address by [`per_address`], per tenant by the `Auth` extractor).
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let decided = response.request().extensions().get::<Decided>().copied();
    if let Some(Decided(decision)) = decided {
        set_headers(response.headers_mut(), decision);
    }
    Ok(response)
}

/// Before the principal is re-read: refuses at once, without a store round trip, when
/// this instance already knows the tenant is blocked.
pub(crate) fn tenant_before_reread(
    state: &ApiState,
    req: &HttpRequest,
    tenant: TenantId,
) -> Result<(), ApiError> {
    match &state.limits {
        Some(limits) => limits
            .blocked(&RateLimitKey::Tenant(tenant), OffsetDateTime::now_utc())
            .map_or(Ok(()), |refused| judge(req, refused)),
        None => Ok(()),
    }
}

/// After the principal is re-read: counts the request against its tenant.
pub(crate) async fn tenant_after_reread(
    state: &ApiState,
    req: &HttpRequest,
    tenant: TenantId,
) -> Result<(), ApiError> {
    match &state.limits {
        Some(limits) => {
            let key = RateLimitKey::Tenant(tenant);
            judge(req, limits.check(&key, OffsetDateTime::now_utc()).await)
        }
        None => Ok(()),
    }
}

/// Keeps a tenant decision for the response headers; a refusal becomes the error.
fn judge(req: &HttpRequest, decision: RateLimitDecision) -> Result<(), ApiError> {
    req.extensions_mut().insert(Decided(decision));
    if decision.allowed {
        Ok(())
    } else {
        Err(refusal(decision, Limit::Tenant))
    }
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, decision: RateLimitDecision) {
    // A decision without a store answer (the store failed open) has no figures to tell.
    if decision.limit == u32::MAX {
        return;
    }
    for (name, value) in [
        ("ratelimit-limit", u64::from(decision.limit)),
        ("ratelimit-remaining", u64::from(decision.remaining)),
        ("ratelimit-reset", decision.reset_secs()),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}
