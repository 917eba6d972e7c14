//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
        path::{ParameterBuilder, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{dto, error, idempotency::IDEMPOTENT_ROUTES, routes, state};

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
        routes::registers::get_organisation,
        routes::registers::put_organisation,
        routes::registers::list_activities,
        routes::registers::create_activity,
        routes::registers::completeness,
        routes::registers::get_activity,
        routes::registers::update_activity,
        routes::registers::delete_activity,
        routes::registers::list_processors,
        routes::registers::create_processor,
        routes::registers::get_processor,
        routes::registers::update_processor,
        routes::registers::delete_processor,
        routes::registers::list_policies,
        routes::registers::create_policy,
        routes::registers::get_policy,
        routes::registers::update_policy,
        routes::registers::delete_policy,
        routes::registers::list_versions,
        routes::registers::create_version,
        routes::registers::current_version,
        routes::registers::get_version,
        routes::registers::edit_version,
        routes::registers::transition_version,
        routes::registers::export,
        routes::ai::draft_policy,
        routes::ai::suggest_activity,
        routes::ai::ask,
        routes::ai::list_suggestions,
        routes::ai::get_suggestion,
        routes::ai::accept,
        routes::ai::reject,
        routes::tasks::list,
        routes::tasks::create,
        routes::tasks::get,
        routes::tasks::update,
        routes::tasks::delete,
        routes::tasks::complete,
        routes::tasks::reopen,
    ),
    components(schemas(
        error::Problem, error::ProblemField, state::SystemInfo, dto::Health,
        dto::RegisterRequest, dto::RegisterResponse, dto::LoginBody, dto::RefreshBody,
        dto::TokenResponse, dto::ForgotPasswordBody, dto::ResetPasswordBody,
        dto::ChangePasswordBody, dto::Accepted, dto::UserBody, dto::TenantBody,
        dto::ProfilePatchBody, dto::TenantPatchBody, dto::CreateUserBody, dto::UpdateUserBody,
        dto::UserList, dto::AuditEventBody, dto::AuditEventList, dto::ChainReport,
        dto::BrokenLinkBody, routes::registers::RecordList, routes::registers::NewVersionBody,
        routes::registers::EditVersionBody, routes::ai::PolicyDraftBody,
        routes::ai::ActivitySuggestionBody, routes::ai::AskBody, routes::ai::SuggestionList,
        routes::tasks::CompletedTask,
    )),
    modifiers(&BearerAuth, &IdempotencyKeys),
    tags(
        (name = "system", description = "Health, readiness, build information, signing keys"),
        (name = "auth", description = "Sign-up, sign-in, tokens and password reset"),
        (name = "users", description = "The signed-in user"),
        (name = "tenants", description = "The caller's tenant and its users"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "registers", description = "Art. 30 records, processors (Art. 28), policies with versions, exports. Updates and deletes send If-Match with the ETag read."),
        (name = "ai", description = "The AI assistant: policy drafts, activity suggestions and answers grounded in the tenant's own register, stored as suggestions that change nothing until accepted. Members and up; the tenant setting `ai_enabled: false` switches it off."),
        (name = "tasks", description = "Compliance tasks with reminders to the assignee and a daily overdue digest to owners and admins. Changes send If-Match with the ETag read."),
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

/// The `Idempotency-Key` header, with its 409 and 422 answers, on every POST of
/// [`IDEMPOTENT_ROUTES`] (the list the middleware is attached by).
struct IdempotencyKeys;

impl Modify for IdempotencyKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for path in IDEMPOTENT_ROUTES {
            let Some(operation) = openapi
                .paths
                .paths
                .get_mut(*path)
                .and_then(|item| item.post.as_mut())
            else {
                continue;
            };
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes a retry safe: 1–255 visible ASCII characters (a UUID is ideal), \
                     new for each new request. The same key with the same body within \
                     IDEMPOTENCY_TTL_HOURS (24 h) replays the first successful answer with \
                     `Idempotency-Replayed: true`; failures (4xx, 5xx) are not kept.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]+$")),
                ))
                .build();
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(parameter));
            let responses = &mut operation.responses.responses;
            for (status, description) in [
                (
                    "400",
                    "an `Idempotency-Key` that is not 1–255 visible ASCII characters (`invalid_idempotency_key`)",
                ),
                (
                    "409",
                    "a request with this `Idempotency-Key` is still running (`idempotency_key_in_progress`); see Retry-After",
                ),
                (
                    "422",
                    "the `Idempotency-Key` was used for a different request (`idempotency_key_reused`)",
                ),
            ] {
                match responses.get_mut(status) {
                    Some(RefOr::T(existing)) => {
                        existing.description = if existing.description.is_empty() {
                            description.to_owned()
                        } else {
                            format!("{}; or {description}", existing.description)
                        };
                    }
                    _ => {
                        responses.insert(status.to_owned(), problem(description));
                    }
                }
            }
        }
    }
}

/// The document served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
