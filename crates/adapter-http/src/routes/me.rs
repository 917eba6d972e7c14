use actix_web::web;
use aura_identity::{Accounts, FullName, Password, ProfilePatch};
use aura_shared_kernel::ValidationErrors;

use crate::{
    dto::{ChangePasswordBody, ProfilePatchBody, TokenResponse, UserBody},
    error::{ApiError, Problem},
    extract::{Auth, Caller, JsonBody},
    routes::params::optional,
    schemas::portfolio::PortfolioBody,
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

/// The signed-in account's client tenants at a glance: for every accepted, active
/// membership of the account (the one of this token among them), that tenant's register
/// completeness, processors whose DPA needs attention, overdue tasks, requests due
/// within 7 days or overdue, open breaches on the 72-hour clock and DPIAs and policies
/// due for review, each read in that tenant with that membership's role (a section the
/// role may not read is `null`). A tenant's summary is kept for up to 30 seconds.
#[utoipa::path(get, path = "/api/v1/me/portfolio", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = PortfolioBody), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get_portfolio(caller: Caller) -> Result<web::Json<PortfolioBody>, ApiError> {
    let entries = (caller.state.portfolio)
        .overview(&caller.auth, caller.ctx())
        .await?;
    Ok(web::Json(entries.into()))
}
