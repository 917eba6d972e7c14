//! The HTTP routes. Handlers stay thin: parse, call one use case, render.

pub mod ai;
pub mod audit;
pub mod auth;
pub mod me;
mod records;
pub mod registers;
pub mod system;
pub mod tasks;
pub mod tenants;

use actix_web::{middleware::from_fn, web};
use aura_tenancy::{PageRequest, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::ApiError,
    extract::{BodyCap, cursor},
    idempotency::{signup_keys, tenant_keys},
};

/// Registers every route under its path.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").get(system::health))
        .service(resource("/ready").get(system::ready))
        .service(resource("/.well-known/jwks.json").get(system::jwks))
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(crate::limits::enforce))
                .service(resource("/system/info").get(system::info))
                .service(
                    auth_resource("/auth/register")
                        .post(auth::register)
                        .wrap(from_fn(signup_keys)),
                )
                .service(auth_resource("/auth/login").post(auth::login))
                .service(auth_resource("/auth/refresh").post(auth::refresh))
                .service(auth_resource("/auth/logout").post(auth::logout))
                .service(auth_resource("/auth/password/forgot").post(auth::forgot_password))
                .service(auth_resource("/auth/password/reset").post(auth::reset_password))
                .service(resource("/users/me").get(me::get_me).patch(me::patch_me))
                .service(resource("/users/me/password").post(me::change_password))
                .service(
                    resource("/tenants/me")
                        .get(tenants::get_tenant)
                        .patch(tenants::patch_tenant),
                )
                .service(
                    resource("/tenants/me/users")
                        .get(tenants::list_users)
                        .post(tenants::create_user)
                        .wrap(from_fn(tenant_keys)),
                )
                .service(
                    resource("/tenants/me/users/{id}")
                        .get(tenants::get_user)
                        .patch(tenants::update_user)
                        .delete(tenants::delete_user),
                )
                .service(resource("/audit-events").get(audit::list))
                .service(resource("/audit-events/verify").get(audit::verify))
                .configure(register_routes)
                .configure(ai_routes)
                .configure(task_routes),
        );
}

fn ai_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/ai/policy-drafts")
            .post(ai::draft_policy)
            .wrap(from_fn(tenant_keys)),
    )
    .service(
        resource("/ai/activity-suggestions")
            .post(ai::suggest_activity)
            .wrap(from_fn(tenant_keys)),
    )
    .service(resource("/ai/ask").post(ai::ask).wrap(from_fn(tenant_keys)))
    .service(resource("/ai/suggestions").get(ai::list_suggestions))
    .service(resource("/ai/suggestions/{id}").get(ai::get_suggestion))
    .service(resource("/ai/suggestions/{id}/accept").post(ai::accept))
    .service(resource("/ai/suggestions/{id}/reject").post(ai::reject));
}

fn register_routes(cfg: &mut web::ServiceConfig) {
    use registers as r;
    cfg.service(
        resource("/organisation")
            .get(r::get_organisation)
            .put(r::put_organisation),
    )
    .service(
        resource("/processing-activities")
            .get(r::list_activities)
            .post(r::create_activity)
            .wrap(from_fn(tenant_keys)),
    )
    // Before `{id}`: actix matches in registration order.
    .service(resource("/processing-activities/completeness").get(r::completeness))
    .service(
        resource("/processing-activities/{id}")
            .get(r::get_activity)
            .put(r::update_activity)
            .delete(r::delete_activity),
    )
    .service(
        resource("/processors")
            .get(r::list_processors)
            .post(r::create_processor)
            .wrap(from_fn(tenant_keys)),
    )
    .service(
        resource("/processors/{id}")
            .get(r::get_processor)
            .put(r::update_processor)
            .delete(r::delete_processor),
    )
    .service(
        document_resource("/policies")
            .get(r::list_policies)
            .post(r::create_policy)
            .wrap(from_fn(tenant_keys)),
    )
    .service(
        document_resource("/policies/{id}")
            .get(r::get_policy)
            .put(r::update_policy)
            .delete(r::delete_policy),
    )
    .service(
        document_resource("/policies/{id}/versions")
            .get(r::list_versions)
            .post(r::create_version)
            .wrap(from_fn(tenant_keys)),
    )
    .service(resource("/policies/{id}/versions/current").get(r::current_version))
    .service(
        document_resource("/policies/{id}/versions/{number}")
            .get(r::get_version)
            .put(r::edit_version),
    )
    .service(resource("/policies/{id}/versions/{number}/{action}").post(r::transition_version))
    .service(resource("/registers/export").get(r::export));
}

fn task_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/tasks")
            .get(tasks::list)
            .post(tasks::create)
            .wrap(from_fn(tenant_keys)),
    )
    .service(
        resource("/tasks/{id}")
            .get(tasks::get)
            .patch(tasks::update)
            .delete(tasks::delete),
    )
    .service(resource("/tasks/{id}/complete").post(tasks::complete))
    .service(resource("/tasks/{id}/reopen").post(tasks::reopen));
}

/// A resource whose unsupported methods answer 405 problem+json.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(crate::method_not_allowed))
}

/// A public authentication route: small bodies only.
fn auth_resource(path: &str) -> actix_web::Resource {
    resource(path).app_data(BodyCap::Auth)
}

/// A route whose body may carry a long document (a policy text).
fn document_resource(path: &str) -> actix_web::Resource {
    resource(path).app_data(BodyCap::Document)
}

/// `limit` and `cursor` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Items per page, 1–100 (default 25).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub(crate) fn checked_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(PageRequest::DEFAULT_LIMIT),
        Some(n) if (1..=PageRequest::MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            Some("limit"),
            "must be between 1 and 100",
        )),
    }
}

/// A free-text query parameter: trimmed, empty means absent, at most 200 characters.
pub(crate) fn query_text(raw: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    match raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 200 => Err(ApiError::bad_request(
            "invalid_query",
            Some(field),
            "must be at most 200 characters",
        )),
        other => Ok(other),
    }
}

impl ListParams {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            after: self.cursor.as_deref().map(cursor::decode_id).transpose()?,
            limit: checked_limit(self.limit)?,
        })
    }
}

/// Runs `parse` on an optional input, collecting its errors.
pub(crate) fn optional<T, R>(
    errors: &mut ValidationErrors,
    value: Option<R>,
    parse: impl FnOnce(R) -> Result<T, ValidationErrors>,
) -> Option<T> {
    value.and_then(|v| errors.collect(parse(v)))
}
