//! Multi-factor sign-in: the second step after the password, enrolment during a sign-in
//! that requires it, and the signed-in person's own second factor.

use actix_web::{HttpResponse, web};
use aura_identity::{Password, SecondFactors, mfa::SecondProof};
use aura_shared_kernel::ValidationErrors;

use crate::{
    dto::TokenResponse,
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, Visitor},
    schemas::mfa::{
        EnrolledSignInResponse, EnrolmentChallengeBody, EnrolmentConfirmBody, MfaLoginBody,
        MfaStatusBody, PasswordCheckBody, RecoveryCodesBody, TotpCodeBody, TotpEnrolmentBody,
    },
};

fn second_factors(state: &crate::state::ApiState) -> &SecondFactors {
    &state.identity.second_factors
}

/// Exactly one of `code` and `recovery_code`.
fn proof(body: MfaLoginBody) -> Result<(String, SecondProof), ApiError> {
    match (body.code, body.recovery_code) {
        (Some(code), None) => Ok((body.challenge, SecondProof::Code(code))),
        (None, Some(code)) => Ok((body.challenge, SecondProof::RecoveryCode(code))),
        _ => Err(ValidationErrors::single("code", "send either `code` or `recovery_code`").into()),
    }
}

/// The second step of a sign-in: the challenge `POST /auth/login` answered (202,
/// `mfa_required`) and a code from the authenticator or a recovery code. A code works
/// once (one step either side of now); wrong codes are throttled per account like
/// passwords, so past a few a right one is 429 too until `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login/mfa", tag = "auth", request_body = MfaLoginBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong, replayed or used-up code (`invalid_second_factor`), or an unknown, used or expired challenge (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "neither or both of `code` and `recovery_code`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many wrong codes; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login_second_factor(
    visitor: Visitor,
    JsonBody(body): JsonBody<MfaLoginBody>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let (challenge, proof) = proof(body)?;
    let pair = second_factors(&visitor.state)
        .finish_sign_in(&challenge, proof, visitor.meta.ip, visitor.ctx())
        .await?;
    Ok(web::Json(pair.into()))
}

/// Starts the enrolment of an account that must use a second factor and has none, with
/// the challenge its sign-in answered (202, `mfa_enrolment_required`). Again restarts it.
#[utoipa::path(post, path = "/api/v1/auth/login/mfa/enrolment", tag = "auth", request_body = EnrolmentChallengeBody,
    responses(
        (status = 200, body = TotpEnrolmentBody),
        (status = 401, description = "unknown, used or expired challenge", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_enrolment_at_login(
    visitor: Visitor,
    JsonBody(body): JsonBody<EnrolmentChallengeBody>,
) -> Result<web::Json<TotpEnrolmentBody>, ApiError> {
    let enrolment = second_factors(&visitor.state)
        .start_with_challenge(&body.challenge, visitor.ctx())
        .await?;
    Ok(web::Json(enrolment.into()))
}

/// Confirms that enrolment with a first code: the sign-in is finished, and the recovery
/// codes are shown this once.
#[utoipa::path(post, path = "/api/v1/auth/login/mfa/enrolment/confirm", tag = "auth", request_body = EnrolmentConfirmBody,
    responses(
        (status = 200, body = EnrolledSignInResponse),
        (status = 401, description = "wrong code, or an unknown, used or expired challenge", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no enrolment started (`mfa_not_started`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many wrong codes; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_enrolment_at_login(
    visitor: Visitor,
    JsonBody(body): JsonBody<EnrolmentConfirmBody>,
) -> Result<web::Json<EnrolledSignInResponse>, ApiError> {
    let (pair, codes) = second_factors(&visitor.state)
        .confirm_with_challenge(&body.challenge, &body.code, visitor.meta.ip, visitor.ctx())
        .await?;
    Ok(web::Json(EnrolledSignInResponse::new(pair, codes)))
}

/// The caller's second factor: on, being enrolled, required, recovery codes left.
#[utoipa::path(get, path = "/api/v1/me/mfa", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, body = MfaStatusBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn mfa_status(caller: Caller) -> Result<web::Json<MfaStatusBody>, ApiError> {
    let status = second_factors(&caller.state).status(&caller.auth).await?;
    Ok(web::Json(status.into()))
}

/// Starts (or restarts) a TOTP enrolment: the secret and an `otpauth://` URI for a QR
/// code, shown this once. Nothing changes at sign-in until it is confirmed.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrolmentBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a second factor is on already (`mfa_enabled`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_totp(caller: Caller) -> Result<web::Json<TotpEnrolmentBody>, ApiError> {
    let enrolment = second_factors(&caller.state)
        .start(&caller.auth, caller.ctx())
        .await?;
    Ok(web::Json(enrolment.into()))
}

/// Confirms the enrolment with a code from the authenticator: from now on sign-in asks
/// for a code. Answers the ten recovery codes, shown this once.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/confirm", tag = "users", security(("bearer" = [])), request_body = TotpCodeBody,
    responses(
        (status = 200, body = RecoveryCodesBody),
        (status = 401, description = "wrong code (`invalid_second_factor`) or no valid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no enrolment started (`mfa_not_started`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many wrong codes; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_totp(
    caller: Caller,
    JsonBody(body): JsonBody<TotpCodeBody>,
) -> Result<web::Json<RecoveryCodesBody>, ApiError> {
    let recovery_codes = second_factors(&caller.state)
        .confirm(&caller.auth, &body.code, caller.meta.ip, caller.ctx())
        .await?;
    Ok(web::Json(RecoveryCodesBody { recovery_codes }))
}

/// Turns the second factor off; the password is checked again. Refused while the
/// account must use one.
#[utoipa::path(delete, path = "/api/v1/me/mfa/totp", tag = "users", security(("bearer" = [])), request_body = PasswordCheckBody,
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no second factor is on", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the account must use a second factor (`mfa_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the password is not correct", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many wrong passwords; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable_totp(
    caller: Caller,
    JsonBody(body): JsonBody<PasswordCheckBody>,
) -> Result<HttpResponse, ApiError> {
    let password = Password::presented(&body.password, "password")?;
    second_factors(&caller.state)
        .disable(&caller.auth, &password, caller.meta.ip, caller.ctx())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// New recovery codes (the old ones stop working); the password is checked again.
#[utoipa::path(post, path = "/api/v1/me/mfa/recovery-codes", tag = "users", security(("bearer" = [])), request_body = PasswordCheckBody,
    responses(
        (status = 200, body = RecoveryCodesBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no second factor is on", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the password is not correct", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many wrong passwords; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace_recovery_codes(
    caller: Caller,
    JsonBody(body): JsonBody<PasswordCheckBody>,
) -> Result<web::Json<RecoveryCodesBody>, ApiError> {
    let password = Password::presented(&body.password, "password")?;
    let recovery_codes = second_factors(&caller.state)
        .replace_recovery_codes(&caller.auth, &password, caller.meta.ip, caller.ctx())
        .await?;
    Ok(web::Json(RecoveryCodesBody { recovery_codes }))
}
