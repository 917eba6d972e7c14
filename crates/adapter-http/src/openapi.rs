//! The OpenAPI document, generated from the handlers' annotations.

use std::sync::OnceLock;

use actix_web::web::Bytes;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, ContentBuilder, ObjectBuilder, Ref, RefOr, Required, Response, ResponseBuilder,
        header::Header,
        path::{Parameter, ParameterBuilder, ParameterIn},
        schema::{Object, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{dto, error, routes, state};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AURA-GDPR API",
        description = "Multi-tenant GDPR compliance backend for small and medium companies and the consultants who serve them: the record of processing activities (Art. 30) with its completeness check and exports, processors and their agreements (Art. 28), policies with versions, data-subject requests on the legal clock (Art. 12), personal-data breaches on the 72-hour clock with their notification decisions (Art. 33, 34), compliance tasks with reminders, an AI assistant grounded in the tenant's own register, and a tamper-evident audit trail; sign-up, sign-in, users and roles. Errors are RFC 9457 problem documents.",
    ),
    components(schemas(
        error::Problem, error::ProblemField, state::SystemInfo, dto::Health,
        dto::RegisterRequest, dto::RegisterResponse, dto::LoginBody, dto::RefreshBody,
        dto::TokenResponse, dto::ForgotPasswordBody, dto::ResetPasswordBody,
        dto::ChangePasswordBody, dto::Accepted, dto::UserBody, dto::TenantBody,
        dto::ProfilePatchBody, dto::TenantPatchBody, dto::CreateUserBody, dto::UpdateUserBody,
        dto::UserList, dto::AuditEventBody, dto::AuditEventList, dto::ChainReport,
        dto::BrokenLinkBody, dto::CheckpointBody, dto::VerifyAgainstBody,
        dto::AuditErasureBody, dto::AuditErasureReport, routes::registers::NewVersionBody,
        routes::registers::EditVersionBody, routes::ai::PolicyDraftBody,
        routes::ai::ActivitySuggestionBody, routes::ai::AskBody,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health, readiness, build information, signing keys"),
        (name = "auth", description = "Sign-up, sign-in, tokens and password reset"),
        (name = "users", description = "The signed-in user"),
        (name = "tenants", description = "The caller's tenant, its users and its custom roles (permission sets an owner defines; whoever gives a role holds every permission it gives)"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "registers", description = "Art. 30 records, processors (Art. 28), policies with versions, exports. Updates and deletes send If-Match with the ETag read."),
        (name = "ai", description = "The AI assistant: policy drafts, activity suggestions and answers grounded in the tenant's own register, stored as suggestions that change nothing until accepted. Members and up; the tenant setting `ai_enabled: false` switches it off."),
        (name = "requests", description = "Data-subject requests (Art. 12, 15–22): the case, its identity check, the legal clock (one calendar month from receipt, past weekends and the organisation's public holidays, extendable once by up to two months with reasons), the answer, and a fulfilment checklist generated from the register. Members handle requests, viewers read them; actions send If-Match with the ETag read."),
        (name = "breaches", description = "Personal-data breaches (Art. 33, 34): the register every breach stays in (no delete, Art. 33(5)), the 72-hour deadline from awareness (an instant, in UTC), the risk assessment, the notification to the supervisory authority in phases with the reasons for a late one, the recorded decision not to notify, the communication to the data subjects or its Art. 34(3) ground, and what each record still lacks. Drills are listed only with drill=true. Members handle breaches, viewers read them, admins and owners close them; actions send If-Match with the ETag read."),
        (name = "dpias", description = "Data protection impact assessments (Art. 35, 36): one assessment covers one or more processing activities and holds the Art. 35(7) content — the systematic description (pre-filled from the activities), necessity and proportionality, the risks on 4-point scales before and after the measures, the measures (a planned one becomes a task) —, the DPO's advice (35(2)), the people's views or why they were not sought (35(9)) and a review date (35(11)) that makes a review task. Workflow draft → in_review → approved or sent back; an approved version never changes, a revision starts a new draft from it. Approving a residual high risk requires the prior consultation (Art. 36), whose answer is due eight weeks after submission, fourteen when extended. Members write, viewers read, admins and owners approve; actions send If-Match with the ETag read."),
        (name = "reports", description = "Reports for an authority or auditor: the accountability pack — a ZIP of the registers, their reports and the audit chain's verification for a period, with a manifest of every file's SHA-256 signed with the key published at /.well-known/jwks.json (check it with `aura verify-pack`). Built in the background; kept PACK_RETENTION_HOURS. Admins and owners."),
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

/// The `Idempotency-Key` header, with its 400, 409 and 422 answers, on every route the
/// route table marks idempotent (the marks the middleware is attached by).
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
        for route in routes::table().iter().filter(|r| r.keys.is_some()) {
            let Some(operation) = openapi
                .paths
                .paths
                .get_mut(&route.path)
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

/// The problem responses that whole classes of operations share, declared once here
/// (a route's own declaration of the same status, with its specific description, wins):
/// a malformed parameter or body (400), a missing or ended session (401), an object not
/// in the caller's tenant (404), a stale or missing `If-Match` (409, 428), a body that is
/// too large, not JSON or not valid (413, 415, 422), rate limits (429 with `Retry-After`)
/// and an unreachable database (503).
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let if_match = parameters.iter().any(|p| {
                    matches!(p, RefOr::T(Parameter { name, .. }) if name.as_str() == "If-Match")
                });
                let parameters = !parameters.is_empty();
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                let mut declare = |status: &str, response: Response| {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| response.into());
                };
                if parameters || body {
                    declare(
                        "400",
                        problem("a parameter or the body is malformed (named in `errors`)"),
                    );
                }
                if secured {
                    declare(
                        "401",
                        problem("no valid bearer token, or its session has ended"),
                    );
                }
                if secured && path.contains('{') {
                    declare("404", problem("no such object in the caller's tenant"));
                }
                if if_match {
                    declare(
                        "409",
                        problem("the record changed since it was read (stale `If-Match`)"),
                    );
                    declare("428", problem("`If-Match` is required"));
                }
                if body {
                    declare("413", problem("the request body is larger than allowed"));
                    declare(
                        "415",
                        problem("the request body is not JSON (Content-Type: application/json)"),
                    );
                    declare(
                        "422",
                        problem("the request body is not valid (fields named in `errors`)"),
                    );
                }
                if path.starts_with("/api/v1/") {
                    declare(
                        "429",
                        problem("too many requests; retry after `Retry-After` seconds"),
                    );
                }
                if path != "/health" {
                    declare("503", problem("the database is unreachable; retry later"));
                }
                // OpenAPI requires a description on every response; a route that gives
                // none gets the plain meaning of its status.
                for (status, response) in responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = success_description(status).to_owned();
                    }
                }
                // Every 429 (a route's own too) says when to come back.
                if let Some(RefOr::T(limited)) = responses.get_mut("429") {
                    let seconds = Header::new(Object::with_type(Type::Integer));
                    limited
                        .headers
                        .entry("Retry-After".to_owned())
                        .or_insert_with(|| seconds.into());
                }
            }
        }
    }
}

/// The description of a response whose route declares none.
fn success_description(status: &str) -> &'static str {
    match status {
        "200" => "the result",
        "201" => "created; the new record (with its `ETag` where it is versioned)",
        "202" => "accepted",
        "204" => "done; no content",
        _ => "see the problem document",
    }
}

/// An RFC 9457 problem response.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

/// The document served at `/openapi.json`: [`ApiDoc`] with one operation per route of
/// the route table (and the schemas they refer to), then the shared problem answers and
/// the `Idempotency-Key` header.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = doc.components.get_or_insert_with(Default::default);
    // Each route names every schema it refers to, shared ones again and again: they go
    // into the map route by route, so the repeats are dropped as they come.
    let mut schemas = Vec::new();
    for route in routes::table() {
        doc.paths
            .add_path_operation(&route.path, vec![route.http_method()], route.operation());
        route.schemas(&mut schemas);
        components.schemas.extend(schemas.drain(..));
    }
    CommonProblems.modify(&mut doc);
    IdempotencyKeys.modify(&mut doc);
    doc
}

/// [`document`] as the JSON `/openapi.json` serves, written on first use and kept as
/// bytes. The document is a function of the code alone; as a struct it takes several MB of
/// heap (every operation, schema and problem answer in maps and strings) that the
/// allocator keeps once freed, so it is built once, written, and dropped — not kept by
/// each worker and written again on every request.
pub fn document_json() -> Bytes {
    static JSON: OnceLock<Bytes> = OnceLock::new();
    JSON.get_or_init(|| {
        let json = serde_json::to_vec(&document()).expect("the API document is plain JSON");
        Bytes::from(json)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every operation of the served document, as (method, path, operation).
    fn operations() -> Vec<(String, String, Value)> {
        let doc = serde_json::to_value(super::document()).expect("the document serializes");
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                all.push((method.clone(), path.clone(), operation.clone()));
            }
        }
        all
    }

    fn declares(operation: &Value, status: &str) -> bool {
        operation["responses"].get(status).is_some()
    }

    #[test]
    fn the_served_bytes_are_the_document_and_are_written_once() {
        let served: Value = serde_json::from_slice(&super::document_json()).expect("JSON");
        assert_eq!(
            served,
            serde_json::to_value(super::document()).expect("JSON")
        );
        assert_eq!(
            super::document_json().as_ptr(),
            super::document_json().as_ptr(),
            "a second request shares the first one's bytes"
        );
    }

    #[test]
    fn every_operation_declares_the_problems_it_can_answer() {
        let operations = operations();
        assert!(operations.len() > 50, "{}", operations.len());
        for (method, path, operation) in operations {
            let at = format!("{method} {path}");
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if secured {
                assert!(declares(&operation, "401"), "{at}: 401");
            }
            if secured && path.contains('{') {
                assert!(declares(&operation, "404"), "{at}: 404");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(declares(&operation, status), "{at}: {status}");
                }
            }
            let if_match = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
            if if_match {
                assert!(declares(&operation, "409"), "{at}: 409");
                assert!(declares(&operation, "428"), "{at}: 428");
            }
            if path.starts_with("/api/v1/") {
                let limited = &operation["responses"]["429"];
                assert!(limited["headers"].get("Retry-After").is_some(), "{at}: 429");
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().expect("content");
                    assert!(
                        content.contains_key("application/problem+json"),
                        "{at}: {status} is a problem document"
                    );
                }
            }
        }
    }

    #[test]
    fn the_key_set_is_declared_with_its_media_type() {
        let (_, _, jwks) = operations()
            .into_iter()
            .find(|(_, path, _)| path == "/.well-known/jwks.json")
            .expect("jwks documented");
        assert!(jwks["responses"]["200"]["content"]["application/jwk-set+json"].is_object());
    }

    /// What a strict validator and the client generators need: a description on every
    /// response, no parameter `in: path` that the path template does not name, and no
    /// request or response body typed as a bare `object` (list items included).
    #[test]
    fn the_document_is_a_contract_generators_can_type() {
        let doc = serde_json::to_value(super::document()).expect("the document serializes");
        let resolve = |schema: &Value| -> Value {
            let mut schema = schema.clone();
            while let Some(reference) = schema["$ref"].as_str() {
                let name = reference.rsplit('/').next().unwrap_or_default();
                schema = doc["components"]["schemas"][name].clone();
            }
            schema
        };
        let bare = |schema: &Value| -> bool {
            let schema = resolve(schema);
            let shaped = ["properties", "allOf", "oneOf", "anyOf", "enum"]
                .iter()
                .any(|k| schema.get(*k).is_some());
            let object = schema["type"] == "object"
                || schema["type"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "object"));
            schema.as_object().is_none_or(|o| o.is_empty()) || (object && !shaped)
        };
        let mut problems = Vec::new();
        for (method, path, operation) in operations() {
            let at = format!("{method} {path}");
            let template: Vec<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split('}').next())
                .collect();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap_or_default();
                if parameter["in"] == "path" && !template.contains(&name) {
                    problems.push(format!("{at}: `{name}` is declared in: path"));
                }
            }
            let mut bodies = Vec::new();
            if let Some(body) = operation.get("requestBody") {
                bodies.push(("request".to_owned(), body.clone()));
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if response["description"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{at}: {status} has no description"));
                }
                bodies.push((format!("response {status}"), response.clone()));
            }
            for (which, body) in bodies {
                for (media, content) in body["content"].as_object().into_iter().flatten() {
                    if !media.ends_with("json") {
                        continue;
                    }
                    let schema = &content["schema"];
                    let items = &resolve(schema)["properties"]["items"];
                    if bare(schema) || (!items.is_null() && bare(&resolve(items)["items"])) {
                        problems.push(format!("{at}: {which} ({media}) is untyped"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The organisation's time zone: a string with an example, optional in a request
    /// (default UTC).
    #[test]
    fn the_organisation_time_zone_is_a_typed_optional_field_with_an_example() {
        let doc = serde_json::to_value(super::document()).expect("the document serializes");
        let profile = &doc["components"]["schemas"]["OrganisationProfileBody"];
        let zone = &profile["properties"]["time_zone"];
        assert_eq!(zone["type"], "string", "{zone}");
        assert_eq!(zone["examples"][0], "Europe/Berlin", "{zone}");
        let required = profile["required"].as_array().expect("required");
        assert!(!required.iter().any(|r| r == "time_zone"), "{required:?}");
        assert_eq!(profile["example"]["time_zone"], "Europe/Berlin");
    }
}
