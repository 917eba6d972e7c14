use actix_web::{HttpResponse, web};

use crate::{
    dto::Health,
    error::{ApiError, Problem},
    state::{ApiState, SystemInfo},
};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Health)))]
pub async fn health() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "system", responses(
    (status = 200, body = Health),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
pub async fn ready(state: web::Data<ApiState>) -> Result<web::Json<Health>, ApiError> {
    state
        .readiness
        .check()
        .await
        .map_err(|cause| ApiError::Unavailable(cause.into()))?;
    Ok(web::Json(Health { status: "ready" }))
}

/// Name, version, git commit and build time of this build.
#[utoipa::path(get, path = "/api/v1/system/info", tag = "system", responses((status = 200, body = SystemInfo)))]
pub async fn info(state: web::Data<ApiState>) -> web::Json<SystemInfo> {
    web::Json(state.info.clone())
}

/// The public keys that verify access tokens (JWK set).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "system",
    responses((status = 200, body = crate::schemas::JwkSet, content_type = "application/jwk-set+json", description = "the public keys (RFC 7517)")))]
pub async fn jwks(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .json(state.jwks.as_ref())
}
