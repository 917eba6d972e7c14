use actix_web::web;
use aura_identity::{Accounts, FullName, Password, ProfilePatch};
use aura_shared_kernel::ValidationErrors;

use crate::{
    dto::{ChangePasswordBody, ProfilePatchBody, TokenResponse, UserBody},
    error::{ApiError, Problem},
    extract::{Auth, Caller, JsonBody},
    routes::params::optional,
};

/// The caller's own account.
impl Caller {
    fn accounts(&self) -> &Accounts {
        &self.state.identity.accounts
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get_me(Auth(auth): Auth) -> web::Json<UserBody> {
    web::Json(auth.user.into())
}

/// Changes the signed-in user's own profile.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = ProfilePatchBody,
    responses((status = 200, body = UserBody), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_me(
    caller: Caller,
    JsonBody(body): JsonBody<ProfilePatchBody>,
) -> Result<web::Json<UserBody>, ApiError> {
    let mut errors = ValidationErrors::default();
    let full_name = optional(&mut errors, body.full_name.as_deref(), FullName::parse);
    errors.into_result()?;
    let user = caller
        .accounts()
        .update_profile(&caller.auth, ProfilePatch { full_name }, caller.ctx())
        .await?;
    Ok(web::Json(user.into()))
}

/// Changes the own password (the current one is required). Ends every other session and
/// returns a fresh token pair for this client.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePasswordBody,
    responses((status = 200, body = TokenResponse), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    caller: Caller,
    JsonBody(body): JsonBody<ChangePasswordBody>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let current = Password::presented(&body.current_password, "current_password")?;
    let pair = caller
        .accounts()
        .change_password(
            &caller.auth,
            &current,
            &body.new_password,
            caller.meta.ip,
            caller.ctx(),
        )
        .await?;
    Ok(web::Json(pair.into()))
}
