//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{dto, error, routes, state};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AURA-GDPR API",
        description = "Multi-tenant GDPR compliance backend: tenants, users, authentication and a tamper-evident audit trail. Errors are RFC 9457 problem documents.",
    ),
    paths(
        routes::system::health,
        routes::system::ready,
        routes::system::info,
        routes::system::jwks,
        routes::auth::register,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::forgot_password,
        routes::auth::reset_password,
        routes::me::get_me,
        routes::me::patch_me,
        routes::me::change_password,
        routes::tenants::get_tenant,
        routes::tenants::patch_tenant,
        routes::tenants::list_users,
        routes::tenants::create_user,
        routes::tenants::get_user,
        routes::tenants::update_user,
        routes::tenants::delete_user,
        routes::audit::list,
        routes::audit::verify,
    ),
    components(schemas(
        error::Problem, error::ProblemField, state::SystemInfo, dto::Health,
        dto::RegisterRequest, dto::RegisterResponse, dto::LoginBody, dto::RefreshBody,
        dto::TokenResponse, dto::ForgotPasswordBody, dto::ResetPasswordBody,
        dto::ChangePasswordBody, dto::Accepted, dto::UserBody, dto::TenantBody,
        dto::ProfilePatchBody, dto::TenantPatchBody, dto::CreateUserBody, dto::UpdateUserBody,
        dto::UserList, dto::AuditEventBody, dto::AuditEventList, dto::ChainReport,
        dto::BrokenLinkBody,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health, readiness, build information, signing keys"),
        (name = "auth", description = "Sign-up, sign-in, tokens and password reset"),
        (name = "users", description = "The signed-in user"),
        (name = "tenants", description = "The caller's tenant and its users"),
        (name = "audit", description = "The tamper-evident audit trail"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
