//! Extractors: the authenticated principal, the client context, and JSON bodies that
//! name the offending field when they are rejected.

use std::net::IpAddr;

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web, web::BytesMut,
};
use aura_audit::RequestContext;
use aura_identity::Authenticated;
use aura_shared_kernel::TenantScope;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::{StreamExt, future::LocalBoxFuture};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{
    error::ApiError,
    limits,
    request::{
        AUTH_BODY_BYTES, BodyCap, LoggedPrincipal, RequestId, app_state, client_ip,
        declared_length, edge,
    },
    state::ApiState,
};

pub(crate) fn state(req: &HttpRequest) -> Result<&ApiState, ApiError> {
    app_state(req).ok_or_else(|| ApiError::Internal("application state missing".into()))
}

/// Where the request came from: for audit events and throttling.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub context: RequestContext,
    pub ip: Option<IpAddr>,
}

impl FromRequest for ClientMeta {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(state(req).map(|state| {
            let ip = client_ip(req, &state.edge.trusted_proxies);
            let user_agent = req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
            ClientMeta {
                context: RequestContext::new(ip.map(|ip| ip.to_string()), user_agent, request_id),
                ip,
            }
        }))
    }
}

/// A request with a verified access token and a freshly re-read principal.
pub struct Auth(pub Authenticated);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map(Auth) })
    }
}

/// Who calls from where, signed in or not: the application state and the client's
/// context, what every handler of the public sign-in routes reads first.
pub struct Visitor {
    pub state: web::Data<ApiState>,
    pub meta: ClientMeta,
}

impl FromRequest for Visitor {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(req))
    }
}

impl Visitor {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<ApiState>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let meta = ClientMeta::extract(req).into_inner()?;
        Ok(Self { state, meta })
    }

    /// The request's context for audit events.
    pub fn ctx(&self) -> &RequestContext {
        &self.meta.context
    }
}

/// Who calls, in which tenant, from where: what every authenticated handler reads from
/// the request before its own path, query and body (the application state, the
/// client's context and the verified principal, in that order).
pub struct Caller {
    pub state: web::Data<ApiState>,
    pub meta: ClientMeta,
    pub auth: Authenticated,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let visitor = Visitor::of(req);
        let req = req.clone();
        Box::pin(async move {
            let Visitor { state, meta } = visitor?;
            let auth = authenticate(&req).await?;
            Ok(Self { state, meta, auth })
        })
    }
}

impl Caller {
    /// The caller's tenant scope.
    pub fn scope(&self) -> &TenantScope {
        &self.auth.scope
    }

    /// The request's context for audit events.
    pub fn ctx(&self) -> &RequestContext {
        &self.meta.context
    }
}

/// Verifies the bearer token and re-reads the principal, once per request: the result
/// is kept in the request's extensions (server-side only), so a middleware that needs
/// the principal first (idempotency keys) and the handler's [`Auth`] share one check.
pub(crate) async fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    if let Some(done) = req.extensions().get::<Authenticated>() {
        return Ok(done.clone());
    }
    let state = state(req)?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 4096)
        .ok_or_else(ApiError::unauthorized)?;
    // The tenant of a verified signature counts the request; a tenant this instance
    // knows is blocked is refused before any store is read.
    let claims = state.identity.sign_in.verify_access_token(token)?;
    limits::tenant_before_reread(state, req, claims.tenant, claims.user)?;
    let authenticated = state.identity.sign_in.authenticate_claims(claims).await?;
    let (tenant, user) = (authenticated.scope.tenant_id(), authenticated.user.id);
    limits::tenant_after_reread(state, req, tenant, user).await?;
    let mut extensions = req.extensions_mut();
    extensions.insert(LoggedPrincipal {
        tenant_id: authenticated.scope.tenant_id(),
        user_id: authenticated.user.id,
    });
    extensions.insert(authenticated.clone());
    Ok(authenticated)
}

/// A JSON body: `Content-Type: application/json`, size-capped, unknown fields rejected
/// by the DTO, and errors that name the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = body_limit(req);
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let body = read_capped(payload, declared, limit).await?;
            parse_json(&body).map(JsonBody)
        })
    }
}

/// The whole body, at most `limit` bytes (413 beyond): a declared length over the cap
/// is refused before a byte is read, a longer stream as soon as it passes the cap.
pub(crate) async fn read_capped(
    mut payload: Payload,
    declared: Option<usize>,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                "unreadable_body",
                None,
                "the request body could not be read",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn body_limit(req: &HttpRequest) -> usize {
    let edge = edge(req);
    match BodyCap::of(req) {
        BodyCap::Auth => AUTH_BODY_BYTES.min(edge.max_body_bytes),
        BodyCap::Document => edge.max_document_bytes.max(edge.max_body_bytes),
        BodyCap::Standard => edge.max_body_bytes,
    }
}

/// Parses JSON, naming the field of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::bad_request(
                "malformed_json",
                None,
                "the body is not well-formed JSON",
            );
        }
        // serde's messages end with " at line L column C": not useful to a client.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        // For an unknown field the path already ends with its name; for a missing one it
        // names the enclosing object.
        let field = if message.starts_with("unknown field `") {
            path
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default();
            join_path(&path, name)
        } else if path == "." {
            "body".to_owned()
        } else {
            path
        };
        ApiError::Validation(aura_shared_kernel::ValidationErrors::single(field, message))
    })?;
    deserializer.end().map_err(|_| {
        ApiError::bad_request("malformed_json", None, "trailing data after the JSON body")
    })?;
    Ok(value)
}

fn join_path(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Query strings, with the offending parameter named. Control characters (NUL above all,
/// which PostgreSQL refuses in text) are rejected before any value reaches a use case.
pub fn parse_query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    if let Some((key, _)) = form_urlencoded_parse(req.query_string())
        .find(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
    {
        let field = key.chars().filter(|c| !c.is_control()).collect::<String>();
        return Err(ApiError::bad_request(
            "invalid_query",
            Some(&field),
            "must not contain control characters",
        ));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded_parse(req.query_string()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = if let Some(rest) = message.strip_prefix("unknown field `") {
            rest.split('`').next().unwrap_or_default().to_owned()
        } else if path == "." {
            "query".to_owned()
        } else {
            path
        };
        ApiError::bad_request("invalid_query", Some(&field), message)
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// A path id; anything but a UUID is a 400 naming the parameter.
pub fn parse_id(raw: &str, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request("invalid_id", Some(field), "must be a UUID"))
}

/// Opaque list cursors: clients pass back what they got.
pub mod cursor {
    use super::*;

    pub fn encode_id(id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(id.as_bytes())
    }

    pub fn decode_id(cursor: &str) -> Result<Uuid, ApiError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| Uuid::from_slice(&bytes).ok())
            .ok_or_else(invalid)
    }

    pub fn encode_seq(seq: i64) -> String {
        URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
    }

    pub fn decode_seq(cursor: &str) -> Result<i64, ApiError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map(i64::from_be_bytes)
            .filter(|seq| *seq > 0)
            .ok_or_else(invalid)
    }

    fn invalid() -> ApiError {
        ApiError::bad_request(
            "invalid_cursor",
            Some("cursor"),
            "is not a cursor this API issued",
        )
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: u8,
    }

    fn field_of(result: Result<Body, ApiError>) -> String {
        match result {
            Err(ApiError::Validation(errors)) => errors.0[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(
            field_of(parse_json(br#"{"email":"a","age":1,"role":"owner"}"#)),
            "role"
        );
        assert_eq!(field_of(parse_json(br#"{"age":1}"#)), "email");
        assert_eq!(field_of(parse_json(br#"{"email":"a","age":300}"#)), "age");
        assert_eq!(field_of(parse_json(br#"{"email":5,"age":1}"#)), "email");
        assert_eq!(field_of(parse_json(br#""text""#)), "body");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [&b"{"[..], b"nope", b"{\"email\":\"a\",\"age\":1} trailing"] {
            let result: Result<Body, _> = parse_json(body);
            assert!(
                matches!(result, Err(ApiError::BadRequest { .. })),
                "{body:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let id = Uuid::now_v7();
        assert_eq!(cursor::decode_id(&cursor::encode_id(id)).ok(), Some(id));
        assert_eq!(cursor::decode_seq(&cursor::encode_seq(42)).ok(), Some(42));
        assert!(cursor::decode_id("!!").is_err());
        assert!(cursor::decode_seq(&cursor::encode_seq(-1)).is_err());
    }
}
