//! Custom roles: everyone who reads users reads them; owners define, change and remove
//! them. A role is given to a member through the user update (`custom_role_id`).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use aura_identity::{CustomRoles, RoleDraft};
use aura_shared_kernel::CustomRoleId;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, parse_id},
    routes::params::{if_match, with_etag},
    schemas::roles::{RoleBody, RoleList, RoleRequest},
};

impl Caller {
    fn roles(&self) -> &CustomRoles {
        &self.state.identity.roles
    }
}

fn role_id(raw: &str) -> Result<CustomRoleId, ApiError> {
    parse_id(raw, "id").map(CustomRoleId::from_uuid)
}

fn draft(body: &RoleRequest) -> Result<RoleDraft, ApiError> {
    Ok(RoleDraft::parse(&body.name, &body.permissions)?)
}

/// The tenant's custom roles, by name.
#[utoipa::path(get, path = "/api/v1/tenants/me/roles", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = RoleList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_roles(caller: Caller) -> Result<web::Json<RoleList>, ApiError> {
    let roles = caller.roles().list(caller.scope(), caller.ctx()).await?;
    Ok(web::Json(RoleList {
        items: roles.into_iter().map(RoleBody::from).collect(),
    }))
}

/// Defines a custom role (owners). Its holders get exactly its permissions.
#[utoipa::path(post, path = "/api/v1/tenants/me/roles", tag = "tenants", security(("bearer" = [])), request_body = RoleRequest,
    responses((status = 201, body = RoleBody, headers(("ETag" = String, description = "the role's version"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the tenant has a role of this name (`role_name_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is invalid, e.g. `permissions[0]` is unknown or `manage_privileged_users`", body = Problem, content_type = "application/problem+json")))]
pub async fn create_role(
    caller: Caller,
    JsonBody(body): JsonBody<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let role = caller
        .roles()
        .create(caller.scope(), draft(&body)?, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::CREATED,
        role.version,
        &RoleBody::from(role),
    ))
}

/// One custom role of the tenant.
#[utoipa::path(get, path = "/api/v1/tenants/me/roles/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RoleBody, headers(("ETag" = String, description = "the role's version"))),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn get_role(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let role = caller
        .roles()
        .get(caller.scope(), role_id(&path)?, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        role.version,
        &RoleBody::from(role),
    ))
}

/// Replaces a custom role's name and permissions (owners). Its holders hold the new
/// permissions from their next request.
#[utoipa::path(put, path = "/api/v1/tenants/me/roles/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header)), request_body = RoleRequest,
    responses((status = 200, body = RoleBody, headers(("ETag" = String, description = "the role's version"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a stale `If-Match`, or the name is another role's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is invalid, e.g. `permissions[0]` is unknown or `manage_privileged_users`", body = Problem, content_type = "application/problem+json")))]
pub async fn replace_role(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = role_id(&path)?;
    let expected = if_match(&req)?;
    let role = caller
        .roles()
        .update(caller.scope(), id, draft(&body)?, expected, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        role.version,
        &RoleBody::from(role),
    ))
}

/// Removes a custom role nobody holds (owners).
#[utoipa::path(delete, path = "/api/v1/tenants/me/roles/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "members hold the role (`role_in_use`), or a stale `If-Match`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_role(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = role_id(&path)?;
    let expected = if_match(&req)?;
    caller
        .roles()
        .delete(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
