//! `Idempotency-Key` on the retry-prone POSTs (sign-up and the create routes), as one
//! middleware attached to exactly the routes the route table marks with [`Keys`]
//! ([`crate::routes::table`]; the OpenAPI header parameter is declared from the same marks).
//!
//! Without the header a request runs as usual. With it:
//! 1. the key is checked (1–255 visible ASCII characters, else 400 naming the header);
//! 2. the key space is the verified principal's tenant (the bearer token is checked
//!    here, once, and the handler's `Auth` reuses the result), or sign-up's own space;
//! 3. the body is read (same cap as JSON bodies) and put back for the handler;
//! 4. [`Idempotency::begin`] reserves the key for this method, target, caller and exact
//!    body: a new key runs the handler and keeps its 2xx answer (status, `Content-Type`,
//!    `Location`, `ETag` and body, sealed); the same request again gets that answer
//!    byte for byte with `Idempotency-Replayed: true`; another request with the key gets
//!    422 `idempotency_key_reused`; a retry while the first still runs gets 409
//!    `idempotency_key_in_progress` with `Retry-After`. 4xx and 5xx answers are not
//!    kept: the key is released and the client may retry (with a corrected body too).
//!
//! [`Idempotency::begin`]: aura_idempotency::Idempotency::begin

use actix_web::{
    Error, HttpMessage, HttpResponse, ResponseError,
    body::{BoxBody, MessageBody, to_bytes},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{HeaderName, HeaderValue},
    },
    middleware::Next,
};
use aura_idempotency::{
    Begin, IdempotencyError, IdempotencyKey, KeySpace, RecordedResponse, RequestFacts, Ticket,
};
use aura_shared_kernel::StoreError;

use crate::{
    error::ApiError,
    extract::{authenticate, body_limit, read_capped, state},
    request::declared_length,
};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a replayed response.
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";

/// Where the keys of an idempotent route live. Only creating POSTs take a key; actions
/// on an existing record (submit, publish, complete, accept, reject, …) take `If-Match`
/// instead, which already makes a retry harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Sign-up's own space (no tenant yet).
    SignUp,
    /// The verified caller's tenant.
    Tenant,
}

/// The response headers kept with a stored answer (the rest, such as the request id
/// and security headers, are set afresh on the replay).
const RECORDED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

/// Middleware for the create routes: keys live in the caller's tenant.
pub async fn tenant_keys(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    guard(Keys::Tenant, req, next).await
}

/// Middleware for sign-up: keys live in sign-up's own space (no tenant yet).
pub async fn signup_keys(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    guard(Keys::SignUp, req, next).await
}

fn answer(req: ServiceRequest, error: &ApiError) -> ServiceResponse<BoxBody> {
    req.into_response(error.error_response())
}

fn store_error(error: IdempotencyError) -> ApiError {
    match error {
        IdempotencyError::Store(StoreError::Unavailable(source)) => ApiError::Unavailable(source),
        IdempotencyError::Store(other) => ApiError::Internal(Box::new(other)),
        IdempotencyError::Corrupt => ApiError::Internal("a stored idempotent response".into()),
    }
}

fn invalid_key() -> ApiError {
    ApiError::bad_request(
        "invalid_idempotency_key",
        Some("Idempotency-Key"),
        aura_idempotency::InvalidKey.to_string(),
    )
}

async fn guard<B: MessageBody + 'static>(
    which: Keys,
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let mut keys = req.headers().get_all(IDEMPOTENCY_KEY);
    let (Some(raw), true) = (keys.next(), req.method() == Method::POST) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match (IdempotencyKey::parse(raw.as_bytes()), keys.next()) {
        (Ok(key), None) => key,
        _ => return Ok(answer(req, &invalid_key())),
    };
    let Ok(state) = state(req.request()).cloned() else {
        return Ok(answer(
            req,
            &ApiError::Internal("application state missing".into()),
        ));
    };
    let (space, principal) = match which {
        Keys::SignUp => (KeySpace::SignUp, None),
        Keys::Tenant => match authenticate(req.request()).await {
            Ok(auth) => (KeySpace::Tenant(auth.scope), Some(auth.user.id)),
            Err(error) => return Ok(answer(req, &error)),
        },
    };
    // The route's own cap (policy texts are larger than other bodies).
    let limit = body_limit(req.request());
    let declared = declared_length(req.request());
    let body = match read_capped(req.take_payload(), declared, limit).await {
        Ok(body) => body.freeze(),
        Err(error) => return Ok(answer(req, &error)),
    };
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    let facts = RequestFacts {
        method: req.method().as_str(),
        target: &target,
        principal,
        body: &body,
    };
    let begun = state.idempotency.begin(space, key, &facts).await;
    req.set_payload(Payload::from(body));
    match begun {
        Ok(Begin::Proceed(ticket)) => run(&state.idempotency, ticket, req, next).await,
        Ok(Begin::Replay(recorded)) => Ok(match replay(recorded) {
            Ok(response) => req.into_response(response),
            Err(error) => answer(req, &error),
        }),
        Ok(Begin::KeyReused) => Ok(answer(req, &ApiError::IdempotencyKeyReused)),
        Ok(Begin::InProgress { retry_after_secs }) => Ok(answer(
            req,
            &ApiError::IdempotencyInProgress { retry_after_secs },
        )),
        Err(error) => Ok(answer(req, &store_error(error))),
    }
}

/// Runs the handler with the key held, then keeps or releases it.
async fn run<B: MessageBody + 'static>(
    idempotency: &aura_idempotency::Idempotency,
    ticket: Ticket,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            release(idempotency, ticket).await;
            return Err(error);
        }
    };
    let (request, response) = response.into_parts();
    let status = response.status();
    let headers = RECORDED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect();
    let (head, body) = response.into_parts();
    let body = match to_bytes(body).await {
        Ok(body) => body,
        Err(_) => {
            release(idempotency, ticket).await;
            let error = ApiError::Internal("the response body could not be read".into());
            return Ok(ServiceResponse::new(request, error.error_response()));
        }
    };
    let recorded = RecordedResponse {
        status: status.as_u16(),
        headers,
        body: body.to_vec(),
    };
    if let Err(error) = idempotency.finish(ticket, &recorded).await {
        // The answer still goes out; the key stays held until its lock passes.
        tracing::error!(error = %error, "could not keep an idempotent response");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

async fn release(idempotency: &aura_idempotency::Idempotency, ticket: Ticket) {
    if let Err(error) = idempotency.release(ticket).await {
        tracing::error!(error = %error, "could not release an idempotency key");
    }
}

/// The stored answer, as it was, marked as a replay.
fn replay(recorded: RecordedResponse) -> Result<HttpResponse, ApiError> {
    let corrupt = || ApiError::Internal("a stored idempotent response is malformed".into());
    let status = StatusCode::from_u16(recorded.status).map_err(|_| corrupt())?;
    let mut response = HttpResponse::build(status);
    for (name, value) in &recorded.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| corrupt())?;
        let value = HeaderValue::from_str(value).map_err(|_| corrupt())?;
        response.insert_header((name, value));
    }
    response.insert_header((IDEMPOTENCY_REPLAYED, "true"));
    Ok(response.body(recorded.body))
}
