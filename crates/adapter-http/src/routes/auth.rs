use actix_web::{HttpResponse, web};
use aura_identity::{Email, FullName, LoginRequest, Password, Registration, SignIn};
use aura_shared_kernel::{TenantName, TenantSlug, ValidationErrors};

use crate::{
    dto::{
        Accepted, ForgotPasswordBody, LoginBody, RefreshBody, RegisterRequest, RegisterResponse,
        ResetPasswordBody, TokenResponse,
    },
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, Visitor},
    routes::params::optional,
    schemas::mfa::{LoginAnswer, MfaChallengeResponse},
};

/// Self-service sign-up: creates a tenant (company) and its owner.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisterResponse),
        (status = 403, description = "sign-up disabled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "e-mail or slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    visitor: Visitor,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let name = errors
        .collect(TenantName::parse(&body.organisation_name).map_err(rename("organisation_name")));
    let slug = optional(&mut errors, body.slug.as_deref(), TenantSlug::parse);
    let email = errors.collect(visitor.sign_in().email(&body.email, "email"));
    let full_name = errors.collect(FullName::parse(&body.full_name));
    let password = errors.collect(Password::new_checked(
        &body.password,
        "password",
        Some(body.email.trim()),
    ));
    let (Some(organisation_name), Some(email), Some(full_name), Some(password)) =
        (name, email, full_name, password)
    else {
        return Err(errors.into());
    };
    errors.into_result()?;
    let registration = Registration {
        organisation_name,
        slug,
        email,
        full_name,
        password,
    };
    let (tenant, user) = visitor
        .sign_in()
        .register(registration, visitor.ctx())
        .await?;
    Ok(HttpResponse::Created().json(RegisterResponse {
        tenant: tenant.into(),
        user: user.into(),
    }))
}

/// Signing in on behalf of a visitor.
impl Visitor {
    fn sign_in(&self) -> &SignIn {
        &self.state.identity.sign_in
    }
}

/// Renames the field of domain validation errors to the DTO's field name.
pub(crate) fn rename(field: &'static str) -> impl Fn(ValidationErrors) -> ValidationErrors {
    move |errors| {
        ValidationErrors(
            errors
                .0
                .into_iter()
                .map(|mut e| {
                    e.field = field.to_owned();
                    e
                })
                .collect(),
        )
    }
}

/// Signs in with e-mail and password. An account with a second factor, or one that
/// must use one (two or more memberships, or the tenant's `require_mfa`) and has none,
/// gets 202 with a short-lived challenge instead of tokens: the second step is
/// `/auth/login/mfa` (`mfa_required`) or the enrolment under `/auth/login/mfa/enrolment`
/// (`mfa_enrolment_required`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 202, description = "the password is right; a second factor is needed", body = MfaChallengeResponse),
        (status = 401, description = "invalid e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    visitor: Visitor,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let email = errors.collect(visitor.sign_in().email(&body.email, "email"));
    let password = errors.collect(Password::presented(&body.password, "password"));
    let (Some(email), Some(password)) = (email, password) else {
        return Err(errors.into());
    };
    let request = LoginRequest {
        email,
        password,
        client_ip: visitor.meta.ip,
    };
    let outcome = visitor.sign_in().login(request, visitor.ctx()).await?;
    Ok(match LoginAnswer::from(outcome) {
        LoginAnswer::Tokens(tokens) => HttpResponse::Ok().json(tokens),
        LoginAnswer::Challenge(challenge) => HttpResponse::Accepted().json(challenge),
    })
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting
/// one again ends its whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    visitor: Visitor,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let pair = visitor
        .sign_in()
        .refresh(&body.refresh_token, visitor.ctx())
        .await?;
    Ok(web::Json(pair.into()))
}

/// Ends the current session: its refresh token and every access token of it.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(caller: Caller) -> Result<HttpResponse, ApiError> {
    caller
        .state
        .identity
        .sign_in
        .logout(&caller.auth, caller.ctx())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a password-reset link (from the job queue). Answers the same, in the same
/// time, whether or not the address is known: the answer comes before the lookup.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = ForgotPasswordBody,
    responses(
        (status = 202, body = Accepted),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn forgot_password(
    visitor: Visitor,
    JsonBody(body): JsonBody<ForgotPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    // Not an address at all: 422. One the mail system refuses (`<script>x@…`, a
    // look-alike) cannot be an account: the answer of an unknown one, nothing sent.
    Email::parse(&body.email)?;
    if let Ok(email) = visitor.sign_in().email(&body.email, "email") {
        // The answer goes out before anything depends on the address: counting, the
        // lookup and enqueueing the mail run after it, so the time to answer cannot
        // tell a known address from an unknown one. A failure there is only logged.
        let sign_in = visitor.sign_in().clone();
        let (ip, ctx) = (visitor.meta.ip, visitor.ctx().clone());
        let after_answer = async move {
            if let Err(error) = sign_in.forgot_password(&email, ip, &ctx).await {
                tracing::warn!(%error, "password-reset request failed after its answer");
            }
        };
        if !spawn_bounded(
            &RESET_LOOKUPS,
            tracing::Instrument::in_current_span(after_answer),
        ) {
            // The same answer; the address's owner can ask again.
            tracing::warn!("password-reset request dropped: too many in flight");
        }
    }
    Ok(HttpResponse::Accepted().json(Accepted { status: "accepted" }))
}

/// At most this many password-reset lookups run after their answers at once (each a
/// throttle count, one lookup and at most one job insert). Past it a request gets the
/// same answer and is dropped, so a flood of reset requests cannot pile up tasks.
const RESET_LOOKUPS_IN_FLIGHT: usize = 64;
static RESET_LOOKUPS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(RESET_LOOKUPS_IN_FLIGHT);

/// Spawns `work` if one of `permits` is free (held until `work` ends); false if none is.
fn spawn_bounded(
    permits: &'static tokio::sync::Semaphore,
    work: impl std::future::Future<Output = ()> + 'static,
) -> bool {
    let Ok(permit) = permits.try_acquire() else {
        return false;
    };
    actix_web::rt::spawn(async move {
        let _permit = permit;
        work.await;
    });
    true
}

/// Sets a new password with the token from the reset e-mail; ends every session.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordBody,
    responses(
        (status = 204),
        (status = 401, description = "invalid or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset_password(
    visitor: Visitor,
    JsonBody(body): JsonBody<ResetPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    visitor
        .sign_in()
        .reset_password(&body.token, &body.password, visitor.ctx())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[actix_web::test]
    async fn no_more_work_runs_after_the_answers_than_there_are_permits() {
        static PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let (release, released) = tokio::sync::watch::channel(false);
        let mut started = 0;
        for _ in 0..10 {
            let mut released = released.clone();
            if spawn_bounded(&PERMITS, async move {
                let _ = released.wait_for(|r| *r).await;
            }) {
                started += 1;
            }
        }
        assert_eq!(started, 2, "2 permits: 2 run, 8 are dropped");
        release.send(true).expect("release");
        // The permits come back when the work ends.
        for _ in 0..100 {
            if PERMITS.available_permits() == 2 {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(PERMITS.available_permits(), 2);
        assert!(spawn_bounded(&PERMITS, async {}));
    }
}
