//! Request rate limits at the edge.
//!
//! - Per client address on the public auth routes (marked `RateLimit::PerAddress` in the
//!   route table, [`crate::routes::table`]): checked by [`per_address`], which the route
//!   itself carries, before the handler runs (before any body is parsed or password
//!   hashed), whatever spelling of the path reached the route.
//! - Per tenant, and per user for a share of the tenant's quota, on every authenticated
//!   route: checked by the `Auth` extractor with the tenant and user of the verified
//!   token — the local block cache before the principal is re-read, the shared store
//!   after ([`tenant_before_reread`], [`tenant_after_reread`]). The user's share is
//!   counted first, so a user over it does not use up the tenant's quota.
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
use aura_rate_limit::{RateLimitDecision, RateLimitKey, RateLimits};
use aura_shared_kernel::{TenantId, UserId};
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
    User,
}

impl Limit {
    fn of(key: &RateLimitKey) -> Self {
        match key {
            RateLimitKey::User(_) => Limit::User,
            _ => Limit::Tenant,
        }
    }
}

fn refusal(decision: RateLimitDecision, limit: Limit) -> ApiError {
    let (label, scope) = match limit {
        Limit::Address => ("address", "this address"),
        Limit::Tenant => ("tenant", "your organisation"),
        Limit::User => ("user", "you (your share of your organisation's quota)"),
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

/// The keys an authenticated request counts against: the user's share first (unless it
/// is the whole quota), then the tenant.
fn principal_keys(limits: &RateLimits, tenant: TenantId, user: UserId) -> Vec<RateLimitKey> {
    let policy = limits.policy();
    let share = (policy.user != policy.tenant).then_some(RateLimitKey::User(user));
    share
        .into_iter()
        .chain([RateLimitKey::Tenant(tenant)])
        .collect()
}

/// Before the principal is re-read: refuses at once, without a store round trip, when
/// this instance already knows the user or the tenant is blocked.
pub(crate) fn tenant_before_reread(
    state: &ApiState,
    req: &HttpRequest,
    tenant: TenantId,
    user: UserId,
) -> Result<(), ApiError> {
    let Some(limits) = &state.limits else {
        return Ok(());
    };
    let now = OffsetDateTime::now_utc();
    for key in principal_keys(limits, tenant, user) {
        if let Some(refused) = limits.blocked(&key, now) {
            return judge(req, refused, Limit::of(&key));
        }
    }
    Ok(())
}

/// After the principal is re-read: counts the request against the user's share, then
/// (if that allows it) against the tenant. The headers tell the tighter of the two.
pub(crate) async fn tenant_after_reread(
    state: &ApiState,
    req: &HttpRequest,
    tenant: TenantId,
    user: UserId,
) -> Result<(), ApiError> {
    let Some(limits) = &state.limits else {
        return Ok(());
    };
    let now = OffsetDateTime::now_utc();
    let mut tightest: Option<RateLimitDecision> = None;
    for key in principal_keys(limits, tenant, user) {
        let decision = limits.check(&key, now).await;
        if !decision.allowed {
            return judge(req, decision, Limit::of(&key));
        }
        if tightest.is_none_or(|t| decision.remaining < t.remaining) {
            tightest = Some(decision);
        }
    }
    match tightest {
        Some(decision) => judge(req, decision, Limit::Tenant),
        None => Ok(()),
    }
}

/// Keeps a decision for the response headers; a refusal becomes the error.
fn judge(req: &HttpRequest, decision: RateLimitDecision, limit: Limit) -> Result<(), ApiError> {
    req.extensions_mut().insert(Decided(decision));
    if decision.allowed {
        Ok(())
    } else {
        Err(refusal(decision, limit))
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
