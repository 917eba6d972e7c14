//! The HTTP adapter: actix-web handlers over the domain use cases, problem+json errors,
//! request ids and access logs, the OpenAPI document and a vendored Swagger UI.

pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod public;
pub mod request;
pub mod route;
pub mod routes;
pub mod schemas;
pub mod state;
mod trace;

use actix_web::{HttpRequest, HttpResponse, guard, http::header::ContentType, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

pub use error::ApiError;
pub use middleware::{deadline, observe};
pub use state::{ApiState, EdgeConfig, Readiness, SystemInfo};

/// Everything the service answers: state, routes, OpenAPI, Swagger UI at `/docs`, the
/// public intake pages (`/public/…`, HTML), and a problem+json 404 for the rest. Wrap the `App` with [`observe`] as well.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let intake = state.intake.clone().map(|service| public::PublicIntake {
            service,
            limits: state.limits.clone(),
            trusted_proxies: state.edge.trusted_proxies.clone(),
        });
        let docs = state.edge.api_docs;
        cfg.app_data(web::Data::new(state))
            .configure(routes::configure)
            .configure(public::configure(intake));
        if docs {
            cfg.configure(api_docs);
        }
        cfg.default_service(web::to(not_found));
    }
}

/// The API description and Swagger UI (`EdgeConfig::api_docs`). No online validator:
/// Swagger UI would otherwise load a badge from validator.swagger.io (telling it the
/// document's URL) on every non-local host.
fn api_docs(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/openapi.json")
            .guard(guard::Get())
            .to(api_document),
    )
    .service(
        SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"]).validator_url("none")),
    )
    .service(web::resource("/docs").get(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header(("location", "/docs/"))
            .finish()
    }));
}

/// `/openapi.json`: the document as written once per process. The first request builds
/// it on the blocking pool (a moment's work that would otherwise stall this worker's other
/// connections), so an instance nobody asks pays neither the time nor the memory.
async fn api_document() -> Result<HttpResponse, ApiError> {
    let json = web::block(openapi::document_json)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(json))
}

/// Unknown paths: 404, unless the method itself is one no route serves (TRACE, CONNECT,
/// inventions), which is a 405 wherever it is sent.
async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    use actix_web::http::Method;
    let served = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    if served.contains(req.method()) {
        Err(ApiError::NotFound)
    } else {
        Err(ApiError::MethodNotAllowed)
    }
}

/// The answer for a known path with an unsupported method, with the `Allow` header
/// (RFC 9110) listing the methods the route table declares for that path.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
    let allowed = req
        .match_pattern()
        .and_then(|pattern| allowed_methods().get(&pattern).cloned());
    if let Some(allowed) = allowed
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed)
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// Route pattern → "GET, PUT, …", built once from the route table.
fn allowed_methods() -> &'static std::collections::HashMap<String, String> {
    static ALLOWED: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    ALLOWED.get_or_init(|| {
        let table = routes::table();
        table
            .iter()
            .map(|r| {
                // HEAD wherever GET is served (`route::Route::service`).
                let methods: Vec<&str> = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"]
                    .into_iter()
                    .filter(|m| {
                        let m = if *m == "HEAD" { "GET" } else { *m };
                        table
                            .iter()
                            .any(|o| o.path == r.path && o.method.as_str() == m)
                    })
                    .collect();
                (r.path.clone(), methods.join(", "))
            })
            .collect()
    })
}
