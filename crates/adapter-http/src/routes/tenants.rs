use actix_web::{HttpRequest, HttpResponse, web};
use aura_identity::{FullName, NewMember, TenantAdmin, TenantPatch, UserPatch};
use aura_requests::settings::RequestSettings;
use aura_shared_kernel::{
    CustomRoleId, Role, TenantName, TenantSettings, UserId, ValidationErrors,
};

use crate::{
    dto::{CreateUserBody, TenantBody, TenantPatchBody, UpdateUserBody, UserBody, UserList},
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, cursor, parse_id, parse_query},
    routes::params::{ListParams, optional},
};

fn parse_role(raw: &str) -> Result<Role, ValidationErrors> {
    raw.parse::<Role>()
        .map_err(|message| ValidationErrors::single("role", message))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    parse_id(raw, "id").map(UserId::from_uuid)
}

/// Tenant administration on behalf of the caller.
impl Caller {
    fn admin(&self) -> &TenantAdmin {
        &self.state.identity.admin
    }
}

/// The caller's tenant.
#[utoipa::path(get, path = "/api/v1/tenants/me", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = TenantBody), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get_tenant(caller: Caller) -> Result<web::Json<TenantBody>, ApiError> {
    let tenant = caller.admin().tenant(caller.scope(), caller.ctx()).await?;
    Ok(web::Json(tenant.into()))
}

/// Changes the tenant's name or settings (owners and admins). Tier and status are
/// platform-only.
#[utoipa::path(patch, path = "/api/v1/tenants/me", tag = "tenants", security(("bearer" = [])), request_body = TenantPatchBody,
    responses((status = 200, body = TenantBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_tenant(
    caller: Caller,
    JsonBody(body): JsonBody<TenantPatchBody>,
) -> Result<web::Json<TenantBody>, ApiError> {
    let mut errors = ValidationErrors::default();
    let name = optional(&mut errors, body.name.as_deref(), TenantName::parse);
    let settings = optional(&mut errors, body.settings, TenantSettings::parse);
    // The settings the requests' clock reads are checked here, naming the key: a broken
    // one would otherwise only fall back to its default.
    if let Some(settings) = &settings
        && let Err(wrong) = RequestSettings::parse(settings)
    {
        errors.0.extend(wrong.0);
    }
    errors.into_result()?;
    let tenant = caller
        .admin()
        .update_tenant(caller.scope(), TenantPatch { name, settings }, caller.ctx())
        .await?;
    Ok(web::Json(tenant.into()))
}

/// The tenant's users, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/me/users", tag = "tenants", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = UserList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(req: HttpRequest, caller: Caller) -> Result<web::Json<UserList>, ApiError> {
    let params: ListParams = parse_query(&req)?;
    let page = caller
        .admin()
        .list_users(caller.scope(), params.page()?, caller.ctx())
        .await?;
    Ok(web::Json(UserList {
        items: page.items.into_iter().map(UserBody::from).collect(),
        next_cursor: page.next_cursor.map(cursor::encode_id),
    }))
}

/// Adds a user. Admins add members and viewers; only owners add owners and admins.
/// The person is mailed an invitation (from the job queue; at most
/// `invitations_per_day` a day) whose link accepts the membership and, for a new
/// address, sets the password. An administrator never sets it: for an address that
/// already has an account it could not apply, and signing in with it would tell the
/// administrator which addresses have one (issue 18 item 6).
#[utoipa::path(post, path = "/api/v1/tenants/me/users", tag = "tenants", security(("bearer" = [])), request_body = CreateUserBody,
    responses((status = 201, body = UserBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "the tenant's `invitations_per_day` is used up until the next UTC day; see Retry-After", body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    caller: Caller,
    JsonBody(body): JsonBody<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let email = errors.collect(caller.admin().email(&body.email, "email"));
    let full_name = errors.collect(FullName::parse(&body.full_name));
    let role = errors.collect(parse_role(&body.role));
    let (Some(email), Some(full_name), Some(role)) = (email, full_name, role) else {
        return Err(errors.into());
    };
    errors.into_result()?;
    let member = NewMember {
        email,
        full_name,
        role,
        password: None,
    };
    let user = caller
        .admin()
        .create_user(caller.scope(), member, caller.ctx())
        .await?;
    Ok(HttpResponse::Created().json(UserBody::from(user)))
}

/// One user of the tenant.
#[utoipa::path(get, path = "/api/v1/tenants/me/users/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = UserBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_user(
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<UserBody>, ApiError> {
    let id = user_id(&path)?;
    let user = caller
        .admin()
        .user(caller.scope(), id, caller.ctx())
        .await?;
    Ok(web::Json(user.into()))
}

/// Changes a user's name, role or status. A role change or deactivation ends the
/// user's sessions. The last active owner can be neither demoted nor deactivated.
#[utoipa::path(patch, path = "/api/v1/tenants/me/users/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateUserBody,
    responses((status = 200, body = UserBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn update_user(
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateUserBody>,
) -> Result<web::Json<UserBody>, ApiError> {
    let id = user_id(&path)?;
    let mut errors = ValidationErrors::default();
    let full_name = optional(&mut errors, body.full_name.as_deref(), FullName::parse);
    let role = optional(&mut errors, body.role.as_deref(), parse_role);
    errors.into_result()?;
    let patch = UserPatch {
        full_name,
        role,
        custom_role: body.custom_role_id.map(CustomRoleId::from_uuid),
        is_active: body.is_active,
    };
    let user = caller
        .admin()
        .update_user(caller.scope(), id, patch, caller.ctx())
        .await?;
    Ok(web::Json(user.into()))
}

/// Removes a user (not yourself; not the last owner).
#[utoipa::path(delete, path = "/api/v1/tenants/me/users/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_user(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path)?;
    caller
        .admin()
        .delete_user(caller.scope(), id, caller.ctx())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
