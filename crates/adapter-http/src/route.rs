//! One declaration per route: [`Route`] holds everything the service knows about a
//! route, and [`crate::routes::table`] lists them all. Registration
//! ([`crate::routes::configure`]), the OpenAPI paths ([`crate::openapi::document`]), the
//! `Idempotency-Key` middleware and its documented header, the body caps and the
//! per-address rate limit are all read from that table; nothing else lists routes.
//!
//! The method and path come from the handler's own `#[utoipa::path]` attribute, so the
//! documented route and the served one cannot differ.

use actix_web::{
    FromRequest, Handler, HttpMessage, Responder,
    body::BoxBody,
    dev::ServiceRequest,
    guard,
    http::Method,
    middleware::{Next, from_fn},
    web,
};
use utoipa::openapi::{RefOr, path::HttpMethod, path::Operation, schema::Schema};

use crate::{
    idempotency::{Keys, signup_keys, tenant_keys},
    limits::per_address,
    middleware::{Deadline, extend_deadline},
    request::BodyCap,
};

/// Which rate limit a route falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// Public routes that cost work (a password hash, a token look-up, a mail): limited
    /// per client address before the handler runs ([`crate::limits::per_address`]).
    PerAddress,
    /// Authenticated routes: limited per tenant by the `Auth` extractor.
    PerTenant,
    /// Health, readiness, signing keys, build information: never limited.
    Unlimited,
}

/// The OpenAPI schemas a route's `#[utoipa::path]` refers to.
type Schemas = Vec<(String, RefOr<Schema>)>;

/// A route: its documented method and path, its handler, and the edge facts about it.
pub struct Route {
    /// The HTTP method, from the handler's `#[utoipa::path]`.
    pub method: Method,
    /// The full path template (`/api/v1/tasks/{id}`), from the handler's `#[utoipa::path]`.
    pub path: String,
    /// The body cap (see [`BodyCap`]).
    pub body: BodyCap,
    /// `Some` when a POST takes an `Idempotency-Key`, with the space its keys live in.
    pub keys: Option<Keys>,
    /// The rate limit the route falls under.
    pub limit: RateLimit,
    /// The route's deadline.
    pub deadline: Deadline,
    operation: fn() -> Operation,
    schemas: fn(&mut Schemas),
    attach: Box<dyn Fn(actix_web::Route) -> actix_web::Route + Send + Sync>,
}

impl Route {
    /// The route documented by `doc` (the `__path_<handler>` type `#[utoipa::path]`
    /// generates) and served by `handler`: standard body cap, no idempotency key,
    /// limited per tenant.
    ///
    /// # Panics
    ///
    /// When `#[utoipa::path]` names more or fewer than one method (a declaration error,
    /// found when the table is first built: at start-up and by every test here).
    pub fn new<P, F, Args>(_doc: P, handler: F) -> Self
    where
        P: utoipa::Path + for<'t> utoipa::__dev::Tags<'t> + utoipa::__dev::SchemaReferences,
        F: Handler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let method = match P::methods().as_slice() {
            [method] => actix_method(method),
            other => panic!("{}: one method per route, not {}", P::path(), other.len()),
        };
        Route {
            method,
            path: P::path(),
            body: BodyCap::Standard,
            keys: None,
            limit: RateLimit::PerTenant,
            deadline: Deadline::Standard,
            operation: operation::<P>,
            schemas: <P as utoipa::__dev::SchemaReferences>::schemas,
            attach: Box::new(move |route| route.to(handler.clone())),
        }
    }

    /// With another body cap.
    pub fn body(self, body: BodyCap) -> Self {
        Route { body, ..self }
    }

    /// Taking an `Idempotency-Key` whose keys live in `keys`.
    pub fn idempotent(self, keys: Keys) -> Self {
        Route {
            keys: Some(keys),
            ..self
        }
    }

    /// Under another rate limit.
    pub fn limit(self, limit: RateLimit) -> Self {
        Route { limit, ..self }
    }

    /// With another deadline.
    pub fn deadline(self, deadline: Deadline) -> Self {
        Route { deadline, ..self }
    }

    /// The OpenAPI operation, tagged as its `#[utoipa::path]` says.
    pub fn operation(&self) -> Operation {
        (self.operation)()
    }

    /// The OpenAPI method.
    pub fn http_method(&self) -> HttpMethod {
        match self.method {
            Method::GET => HttpMethod::Get,
            Method::PUT => HttpMethod::Put,
            Method::POST => HttpMethod::Post,
            Method::DELETE => HttpMethod::Delete,
            Method::PATCH => HttpMethod::Patch,
            Method::HEAD => HttpMethod::Head,
            Method::OPTIONS => HttpMethod::Options,
            _ => HttpMethod::Trace,
        }
    }

    /// Adds the schemas the operation refers to.
    pub fn schemas(&self, into: &mut Schemas) {
        (self.schemas)(into);
    }

    /// The actix route: method guard, handler, the idempotency middleware if any, the
    /// route's body cap put in the request (for the extractors and the idempotency
    /// middleware to read) and its deadline set, and outermost the per-address limit if
    /// the route has it. Whatever spelling of the path the router resolves to this route
    /// (a percent-encoded one included) meets the same facts.
    pub fn service(&self) -> actix_web::Route {
        // HEAD is GET without the body (RFC 9110 §9.3.2): the same handler answers it and
        // the server sends the head only.
        let guarded = if self.method == Method::GET {
            web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
        } else {
            web::method(self.method.clone())
        };
        let route = (self.attach)(guarded);
        let route = match self.keys {
            Some(Keys::SignUp) => route.wrap(from_fn(signup_keys)),
            Some(Keys::Tenant) => route.wrap(from_fn(tenant_keys)),
            None => route,
        };
        let (body, deadline) = (self.body, self.deadline);
        let route = route.wrap(from_fn(
            move |req: ServiceRequest, next: Next<BoxBody>| async move {
                req.extensions_mut().insert(body);
                extend_deadline(&req, deadline);
                next.call(req).await
            },
        ));
        match self.limit {
            RateLimit::PerAddress => route.wrap(from_fn(per_address)),
            RateLimit::PerTenant | RateLimit::Unlimited => route,
        }
    }
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Post => Method::POST,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// What `#[derive(OpenApi)]` does with a listed path: the operation with its tags.
fn operation<P>() -> Operation
where
    P: utoipa::Path + for<'t> utoipa::__dev::Tags<'t>,
{
    let mut operation = P::operation();
    operation
        .tags
        .get_or_insert_with(Vec::new)
        .extend(P::tags().iter().map(ToString::to_string));
    operation
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::{
        App, HttpResponse,
        http::{Method, StatusCode},
        test as actix,
    };
    use serde_json::Value;

    use super::{RateLimit, Route};
    use crate::routes::table;
    use crate::{idempotency::Keys, request::BodyCap};

    /// (method, path) of every operation in the served document.
    fn documented() -> Vec<(String, String, Value)> {
        let doc = serde_json::to_value(crate::openapi::document()).expect("serializes");
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                all.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
        all
    }

    #[test]
    fn every_route_is_documented_and_every_operation_is_a_route() {
        let routes: Vec<(String, String)> = table()
            .iter()
            .map(|r| (r.method.to_string(), r.path.clone()))
            .collect();
        let unique: BTreeSet<_> = routes.iter().cloned().collect();
        assert_eq!(unique.len(), routes.len(), "a route is declared twice");
        let documented: BTreeSet<(String, String)> = documented()
            .into_iter()
            .map(|(method, path, _)| (method, path))
            .collect();
        let missing: Vec<_> = unique.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&unique).collect();
        assert!(
            missing.is_empty(),
            "routes not in the document: {missing:?}"
        );
        assert!(extra.is_empty(), "operations that are no route: {extra:?}");
        assert!(routes.len() > 50, "{}", routes.len());
    }

    /// The documented operation of `route`.
    fn operation_of<'a>(operations: &'a [(String, String, Value)], route: &Route) -> &'a Value {
        operations
            .iter()
            .find(|(m, p, _)| *m == route.method.as_str() && *p == route.path)
            .map(|(_, _, operation)| operation)
            .expect("documented")
    }

    #[test]
    fn idempotent_routes_are_posts_and_declare_the_key() {
        let operations = documented();
        let idempotent: Vec<_> = table().iter().filter(|r| r.keys.is_some()).collect();
        assert!(idempotent.len() >= 10, "{}", idempotent.len());
        for route in table() {
            let operation = operation_of(&operations, route);
            let declares_key = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            assert_eq!(declares_key, route.keys.is_some(), "{}", route.path);
            if route.keys.is_some() {
                assert_eq!(
                    route.method,
                    actix_web::http::Method::POST,
                    "{}",
                    route.path
                );
            }
        }
        let sign_up = table()
            .iter()
            .find(|r| r.path == "/api/v1/auth/register")
            .expect("sign-up");
        assert_eq!(sign_up.keys, Some(Keys::SignUp));
        for route in table().iter().filter(|r| r.keys == Some(Keys::SignUp)) {
            assert_eq!(route.limit, RateLimit::PerAddress, "{}", route.path);
        }
    }

    /// The limit class agrees with what the route documents: per tenant exactly when it
    /// takes a bearer token; per address only on plain `/api/v1` paths.
    #[test]
    fn rate_limit_classes_match_the_security_of_each_route() {
        let operations = documented();
        for route in table() {
            let operation = operation_of(&operations, route);
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let at = format!("{} {}", route.method, route.path);
            assert_eq!(secured, route.limit == RateLimit::PerTenant, "{at}");
            if route.limit == RateLimit::PerAddress {
                assert!(route.path.starts_with("/api/v1/auth/"), "{at}");
                assert!(!route.path.contains('{'), "{at}");
                assert_eq!(route.body, BodyCap::Auth, "{at}");
            }
        }
        let address: Vec<&str> = table()
            .iter()
            .filter(|r| r.limit == RateLimit::PerAddress)
            .map(|r| r.path.as_str())
            .collect();
        assert_eq!(
            address,
            [
                "/api/v1/auth/register",
                "/api/v1/auth/login",
                "/api/v1/auth/login/mfa",
                "/api/v1/auth/login/mfa/enrolment",
                "/api/v1/auth/login/mfa/enrolment/confirm",
                "/api/v1/auth/refresh",
                "/api/v1/auth/password/forgot",
                "/api/v1/auth/password/reset",
            ]
        );
        let limit = |path: &str| declared(&Method::POST, path).limit;
        assert_eq!(limit("/api/v1/auth/login"), RateLimit::PerAddress);
        assert_ne!(limit("/api/v1/auth/logout"), RateLimit::PerAddress);
    }

    /// The route of the table at `method` and `path` (a route's facts travel with it).
    fn declared(method: &Method, path: &str) -> &'static Route {
        table()
            .iter()
            .find(|r| r.method == *method && r.path == path)
            .expect("declared")
    }

    #[test]
    fn body_caps_are_declared_per_method_and_pattern() {
        let cap = |method: Method, path: &str| declared(&method, path).body;
        assert_eq!(cap(Method::POST, "/api/v1/policies"), BodyCap::Document);
        assert_eq!(
            cap(Method::PUT, "/api/v1/policies/{id}/versions/{number}"),
            BodyCap::Document
        );
        assert_eq!(cap(Method::POST, "/api/v1/auth/login"), BodyCap::Auth);
        assert_eq!(cap(Method::POST, "/api/v1/auth/logout"), BodyCap::Auth);
        assert_eq!(cap(Method::POST, "/api/v1/tasks"), BodyCap::Standard);
        assert_eq!(
            BodyCap::of(&actix::TestRequest::post().to_http_request()),
            BodyCap::Standard,
            "no route, no larger cap"
        );
    }

    /// Every route of the table is served at its path and method (no state is configured,
    /// so the handlers fail, but the request reaches them); another method on its path is
    /// a 405, and an unknown path falls through.
    #[actix_web::test]
    async fn every_route_is_registered_at_its_path_and_method() {
        let app = actix::init_service(
            App::new()
                .configure(crate::routes::configure)
                .default_service(actix_web::web::to(|| async {
                    HttpResponse::ImATeapot().finish()
                })),
        )
        .await;
        let concrete = |path: &str| {
            path.replace("{id}", "00000000-0000-4000-8000-000000000001")
                .replace("{number}", "1")
                .replace("{action}", "publish")
        };
        for route in table() {
            let request = actix::TestRequest::default()
                .method(route.method.clone())
                .uri(&concrete(&route.path))
                .to_request();
            let status = actix::call_service(&app, request).await.status();
            let at = format!("{} {}", route.method, route.path);
            assert_ne!(status, StatusCode::IM_A_TEAPOT, "{at}: not registered");
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{at}: wrong method");
        }
        // HEAD reaches every GET route (and no other).
        for route in table().iter().filter(|r| r.method == Method::GET) {
            let request = actix::TestRequest::default()
                .method(Method::HEAD)
                .uri(&concrete(&route.path))
                .to_request();
            let status = actix::call_service(&app, request).await.status();
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "HEAD {}",
                route.path
            );
        }
        let request = actix::TestRequest::default()
            .method(Method::HEAD)
            .uri("/api/v1/auth/login")
            .to_request();
        let status = actix::call_service(&app, request).await.status();
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "HEAD on a POST-only path"
        );
        let request = actix::TestRequest::default()
            .method(actix_web::http::Method::PATCH)
            .uri("/api/v1/processors")
            .to_request();
        let response = actix::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok());
        assert_eq!(allow, Some("GET, HEAD, POST"));
        let request = actix::TestRequest::get()
            .uri("/api/v1/nothing")
            .to_request();
        let status = actix::call_service(&app, request).await.status();
        assert_eq!(status, StatusCode::IM_A_TEAPOT);
    }
}
