//! One error type for every handler, rendered as RFC 9457 `application/problem+json`.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use aura_audit::AuditError;
use aura_identity::IdentityError;
use aura_shared_kernel::{FieldError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request::{REQUEST_ID_HEADER, SECURITY_HEADERS, current_request_id};

/// A failed request. 4xx for what the client did; 5xx only for our faults, with a
/// generic body (the cause is logged with the request id, never sent).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid")]
    Validation(ValidationErrors),
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("authentication required")]
    Unauthorized {
        code: &'static str,
        detail: &'static str,
    },
    #[error("{detail}")]
    Forbidden {
        code: &'static str,
        detail: &'static str,
    },
    #[error("not found")]
    NotFound,
    /// A body field names a user or record that is not in the caller's tenant (foreign
    /// ids included): 404, naming the field.
    #[error("`{field}` names nothing in your organisation")]
    UnknownReference { field: &'static str },
    /// Body fields (such as a document's links, `processor_ids[0]`) name records that are
    /// not in the caller's tenant: 404, naming each field.
    #[error("the request names records that are not in your organisation")]
    UnknownReferences(ValidationErrors),
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("send If-Match with the record's ETag (the version you read)")]
    PreconditionRequired,
    #[error(
        "the record was changed by someone else since you read it; reload and apply your change again"
    )]
    StaleVersion,
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
        message: &'static str,
    },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    /// A daily cap of the tenant, named by its setting: 429 with `Retry-After` (the
    /// next UTC day).
    #[error(
        "the tenant's limit `{setting}` is used up for today; retry after the time in Retry-After"
    )]
    LimitReached {
        setting: &'static str,
        retry_after_secs: i64,
    },
    /// The request ran past its deadline and was stopped (503, Retry-After).
    #[error(
        "the request took longer than {secs} s and was stopped; a write may or may not have taken effect: retry it with the same Idempotency-Key"
    )]
    Timeout {
        secs: u64,
        /// Rendered outside the request's task (see `middleware::deadline`), so the
        /// request id travels with the error.
        request_id: Option<String>,
    },
    /// The request rate limit of the client address or the tenant: 429 with
    /// `Retry-After` (whole seconds, rounded up).
    #[error("too many requests from {scope}; retry after the time in Retry-After")]
    RateLimited {
        scope: &'static str,
        retry_after_secs: u64,
    },
    /// The `Idempotency-Key` was used before for a different request: 422.
    #[error(
        "this Idempotency-Key was used for a different request; send a new key with a new request"
    )]
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still running: 409 with Retry-After.
    #[error(
        "a request with this Idempotency-Key is still being processed; retry after Retry-After seconds"
    )]
    IdempotencyInProgress { retry_after_secs: i64 },
    #[error("service temporarily unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An upstream AI provider failed (5xx, refused, unusable answer): 502.
    #[error("the AI provider did not give a usable answer; nothing was stored; try again later")]
    ProviderFailed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An upstream AI provider did not answer in time: 504.
    #[error("the AI provider did not answer in time; nothing was stored; try again later")]
    ProviderTimeout,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The problem document (RFC 9457) with our extension members.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:aura:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// The request id (also in the `X-Request-ID` response header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// One entry per rejected input field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, field: Option<&str>, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let errors = field
            .map(|f| {
                vec![FieldError {
                    field: f.to_owned(),
                    message: detail.clone(),
                }]
            })
            .unwrap_or_default();
        Self::BadRequest {
            code,
            detail,
            errors,
        }
    }

    pub fn unauthorized() -> Self {
        Self::Unauthorized {
            code: "unauthorized",
            detail: "a valid bearer access token is required",
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest { code, .. } => code,
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Unauthorized { code, .. } => code,
            ApiError::Forbidden { code, .. } => code,
            ApiError::NotFound => "not_found",
            ApiError::UnknownReference { .. } | ApiError::UnknownReferences(_) => {
                "unknown_reference"
            }
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PreconditionRequired => "precondition_required",
            ApiError::StaleVersion => "stale_version",
            ApiError::Conflict { code, .. } => code,
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::LimitReached { .. } => "limit_reached",
            ApiError::Timeout { .. } => "request_timeout",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::IdempotencyInProgress { .. } => "idempotency_key_in_progress",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::ProviderFailed(_) => "ai_provider_failed",
            ApiError::ProviderTimeout => "ai_provider_timeout",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn field_errors(&self) -> Vec<ProblemField> {
        let convert = |errors: &[FieldError]| {
            errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect()
        };
        match self {
            ApiError::Validation(errors) | ApiError::UnknownReferences(errors) => {
                convert(&errors.0)
            }
            ApiError::BadRequest { errors, .. } => convert(errors),
            ApiError::Conflict {
                field: Some(field),
                message,
                ..
            } => vec![ProblemField {
                field: (*field).to_owned(),
                message: (*message).to_owned(),
            }],
            ApiError::UnknownReference { field } => vec![ProblemField {
                field: (*field).to_owned(),
                message: "names nothing in your organisation".to_owned(),
            }],
            ApiError::IdempotencyKeyReused => vec![ProblemField {
                field: "Idempotency-Key".to_owned(),
                message: "was used for a different request".to_owned(),
            }],
            _ => Vec::new(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound
            | ApiError::UnknownReference { .. }
            | ApiError::UnknownReferences(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::StaleVersion => StatusCode::CONFLICT,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. }
            | ApiError::LimitReached { .. }
            | ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyInProgress { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable(_) | ApiError::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ProviderFailed(_) => StatusCode::BAD_GATEWAY,
            ApiError::ProviderTimeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request_id = match self {
            ApiError::Timeout { request_id, .. } => request_id.clone(),
            _ => current_request_id(),
        };
        if status.is_server_error() {
            // The cause chain goes to the log, never to the client.
            let mut causes = Vec::new();
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                causes.push(cause.to_string());
                source = cause.source();
            }
            tracing::error!(request_id, code = self.code(), causes = ?causes, "request failed");
        }
        let code = self.code();
        let problem = Problem {
            kind: format!("urn:aura:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: code.to_owned(),
            request_id,
            errors: self.field_errors(),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::LimitReached {
                retry_after_secs, ..
            }
            | ApiError::IdempotencyInProgress { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::Timeout { request_id, .. } => {
                response.insert_header((header::RETRY_AFTER, "1"));
                // This answer bypasses `observe`, which adds these to every other one.
                if let Some(id) = request_id {
                    response.insert_header((REQUEST_ID_HEADER, id.as_str()));
                }
                for (name, value) in SECURITY_HEADERS {
                    response.insert_header((name, value));
                }
            }
            _ => {}
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl ApiError {
    /// A role refusal, whichever domain refused (the permission is in the audit log).
    pub const FORBIDDEN: ApiError = ApiError::Forbidden {
        code: "forbidden",
        detail: "your role does not allow this action",
    };

    /// A domain rule the change would break, naming no field.
    pub fn conflict(code: &'static str, message: &'static str) -> Self {
        ApiError::Conflict {
            code,
            field: None,
            message,
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Validation(errors) => ApiError::Validation(errors),
            IdentityError::InvalidCredentials => ApiError::Unauthorized {
                code: "invalid_credentials",
                detail: "invalid e-mail or password",
            },
            IdentityError::InvalidSecondFactor => ApiError::Unauthorized {
                code: "invalid_second_factor",
                detail: "the code is not valid (wrong, already used, or expired)",
            },
            IdentityError::InvalidToken => ApiError::Unauthorized {
                code: "invalid_token",
                detail: "the token is invalid, expired or revoked",
            },
            IdentityError::Throttled { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            IdentityError::LimitReached {
                setting,
                retry_after_secs,
            } => ApiError::LimitReached {
                setting,
                retry_after_secs,
            },
            IdentityError::Forbidden(_) => ApiError::FORBIDDEN,
            IdentityError::RegistrationDisabled => ApiError::Forbidden {
                code: "registration_disabled",
                detail: "self-service sign-up is disabled on this installation",
            },
            IdentityError::SecondFactorRequired => ApiError::Forbidden {
                code: "mfa_enrolment_required",
                detail: "this account must use a second factor there: enrol one under /api/v1/me/mfa/totp first",
            },
            IdentityError::NotFound => ApiError::NotFound,
            IdentityError::Conflict {
                code,
                field,
                message,
            } => ApiError::Conflict {
                code,
                field,
                message,
            },
            IdentityError::Unavailable(source) => ApiError::Unavailable(Box::new(source)),
            IdentityError::Internal(source) => ApiError::Internal(source),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        IdentityError::from(error).into()
    }
}

/// The kernel's use-case error core, which the registers, the tasks and the assistant
/// share (`RegistersError` and `TasksError` are this type): one mapping for all.
impl From<aura_records::UseCaseError> for ApiError {
    fn from(error: aura_records::UseCaseError) -> Self {
        use aura_records::UseCaseError as E;
        match error {
            E::Validation(errors) => ApiError::Validation(errors),
            E::Forbidden(_) => ApiError::FORBIDDEN,
            E::NotFound => ApiError::NotFound,
            E::UnknownReference { field } => ApiError::UnknownReference { field },
            E::StaleVersion => ApiError::StaleVersion,
            E::Conflict { code, message } => ApiError::conflict(code, message),
            E::Unavailable(source) => ApiError::Unavailable(Box::new(source)),
            E::Internal(source) => ApiError::Internal(source),
        }
    }
}

impl From<aura_ai_port::AssistantError> for ApiError {
    fn from(error: aura_ai_port::AssistantError) -> Self {
        use aura_ai_port::{AiError, AssistantError as E};
        match error {
            E::UseCase(core) => core.into(),
            E::Disabled => ApiError::Forbidden {
                code: "ai_disabled",
                detail: "the AI assistant is switched off for this organisation (tenant setting ai_enabled)",
            },
            E::RateLimited { retry_after_secs } => ApiError::TooManyRequests { retry_after_secs },
            E::Provider(AiError::Timeout) => ApiError::ProviderTimeout,
            E::Provider(other) => ApiError::ProviderFailed(Box::new(other)),
        }
    }
}
