//! Working in several tenants: the caller's tenants, the switch between them, and a
//! client's partners (consultancies whose members it lets in).

use actix_web::{HttpResponse, web};
use aura_identity::PartnerGrant;
use aura_shared_kernel::{Role, TenantId, TenantSlug, ValidationErrors};

use crate::{
    dto::TokenResponse,
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, parse_id},
    schemas::partners::{
        MembershipBody, MembershipList, PartnerBody, PartnerGrantBody, PartnerList, SwitchBody,
    },
};

/// The tenants the signed-in account may work in: its own memberships and the clients
/// whose grant to a partner it is a member of (`via_partner`). `current` marks the
/// token's tenant. Read by the verified principal's account, never by input.
#[utoipa::path(get, path = "/api/v1/me/tenants", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = MembershipList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn my_tenants(caller: Caller) -> Result<web::Json<MembershipList>, ApiError> {
    let current = caller.auth.tenant.id;
    let memberships = caller.state.identity.accounts.tenants(&caller.auth).await?;
    Ok(web::Json(MembershipList {
        items: memberships
            .into_iter()
            .map(|m| MembershipBody::of(m, current))
            .collect(),
    }))
}

/// A new token pair for another tenant of the signed-in account (one of
/// `GET /api/v1/me/tenants`), in a new session there. The current tokens stay valid for
/// their own tenant. A tenant without a usable membership, or an id that names none, is
/// 404 alike. An account that must use a second factor in the target (two or more
/// tenants, a partner role, the target's `require_mfa`) and has none confirmed gets 403
/// `mfa_enrolment_required` and enrols one under `/api/v1/me/mfa/totp` first.
#[utoipa::path(post, path = "/api/v1/auth/switch", tag = "auth", security(("bearer" = [])), request_body = SwitchBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "a second factor is required there and the account has none (`mfa_enrolment_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no usable membership in that tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn switch(
    caller: Caller,
    JsonBody(body): JsonBody<SwitchBody>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let tenant = TenantId::from_uuid(parse_id(&body.tenant_id, "tenant_id")?);
    let pair = caller
        .state
        .identity
        .sign_in
        .switch(&caller.auth, tenant, caller.ctx())
        .await?;
    Ok(web::Json(pair.into()))
}

/// Lets a consultancy's members in, with a role (owners). Its members enter through
/// `POST /api/v1/auth/switch`; the audit trail names the partner with each of their
/// actions. A slug that names no active consultancy is 404.
#[utoipa::path(post, path = "/api/v1/tenants/me/partners", tag = "tenants", security(("bearer" = [])), request_body = PartnerGrantBody,
    responses((status = 201, body = PartnerBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the partner has access already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn grant_partner(
    caller: Caller,
    JsonBody(body): JsonBody<PartnerGrantBody>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let slug = errors.collect(TenantSlug::parse(&body.partner).map_err(rename_to_partner));
    let role = errors.collect(
        body.role
            .parse::<Role>()
            .map_err(|message| ValidationErrors::single("role", message))
            .and_then(PartnerGrant::grantable),
    );
    let (Some(slug), Some(role)) = (slug, role) else {
        return Err(errors.into());
    };
    let grant = caller
        .state
        .identity
        .admin
        .grant_partner(caller.scope(), &slug, role, caller.ctx())
        .await?;
    Ok(HttpResponse::Created().json(PartnerBody::from(grant)))
}

fn rename_to_partner(errors: ValidationErrors) -> ValidationErrors {
    crate::routes::auth::rename("partner")(errors)
}

/// The partners with access to the tenant, by name.
#[utoipa::path(get, path = "/api/v1/tenants/me/partners", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = PartnerList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_partners(caller: Caller) -> Result<web::Json<PartnerList>, ApiError> {
    let grants = caller
        .state
        .identity
        .admin
        .partners(caller.scope(), caller.ctx())
        .await?;
    Ok(web::Json(PartnerList {
        items: grants.into_iter().map(PartnerBody::from).collect(),
    }))
}

/// Ends a partner's access (owners): every session of its members in the tenant ends
/// at once.
#[utoipa::path(delete, path = "/api/v1/tenants/me/partners/{partner_id}", tag = "tenants", security(("bearer" = [])),
    params(("partner_id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_partner(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let partner = TenantId::from_uuid(parse_id(&path, "partner_id")?);
    caller
        .state
        .identity
        .admin
        .revoke_partner(caller.scope(), partner, caller.ctx())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
