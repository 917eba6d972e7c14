//! The public intake page of data-subject requests: HTML served by the API itself to
//! people without an account (no JavaScript, no external assets, English and German).
//!
//! - `GET /public/{slug}/requests/new`: the form.
//! - `POST /public/{slug}/requests`: a submission (`application/x-www-form-urlencoded`).
//!   Whatever the slug, address or tenant setting, a good submission gets the same "check
//!   your e-mail" page; bad input gets the form again (422) naming each field; a filled
//!   honeypot gets the success page and nothing is stored; more than
//!   [`BODY_CAP`] bytes get a 413 page.
//! - `GET /public/{slug}/requests/confirm/{token}`: a page with one button (a GET changes
//!   nothing: mail scanners follow links); `POST` to the same path confirms → "request
//!   received" with the reference and due date. An unknown, expired, used or another
//!   tenant's token (and an unknown slug) get the same neutral 404 page.
//!
//! Rate limits: per client address (the public auth routes' quota: these routes send
//! mail and look tokens up) on every POST, and per tenant (its own intake quota, apart
//! from its API quota) on submissions; a refusal is a 429 page with `Retry-After`.
//!
//! No cookies and no session: the confirmation's secret is the token in the path, so a
//! cross-site POST can confirm only a link its sender already holds. The pages' CSP
//! (`middleware::observe`) allows this origin's stylesheet and form posts only.
//!
//! These routes are not part of the JSON API and are kept out of the OpenAPI document
//! (and out of `routes::table`): their answers are HTML pages, not problem+json.

pub mod html;
pub mod pages;
pub mod texts;

use std::{net::IpAddr, sync::Arc};

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use aura_audit::RequestContext;
use aura_rate_limit::{RateLimitKey, RateLimits};
use aura_requests::intake::{IntakeForm, IntakeLanguage, IntakeService, PublicTenant};
use futures_util::StreamExt;
use time::OffsetDateTime;

use crate::request::{RequestId, client_ip, declared_length};

use self::pages::Heading;
use self::texts::texts;

/// The largest submission accepted. A full form of plain text is a few KiB; 32 KiB holds
/// the longest fields (5000 characters of details among them) even in a script whose
/// letters take two bytes of UTF-8, percent-encoded.
pub const BODY_CAP: usize = 32 * 1024;

/// What the public pages need, registered as app data beside the API's state.
#[derive(Clone)]
pub struct PublicIntake {
    pub service: IntakeService,
    /// The service's rate limits (None: switched off).
    pub limits: Option<Arc<RateLimits>>,
    pub trusted_proxies: Vec<IpAddr>,
}

/// Registers the public pages (with `intake` as their data, or answering 404 without).
pub fn configure(intake: Option<PublicIntake>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        if let Some(intake) = intake {
            cfg.app_data(web::Data::new(intake));
        }
        cfg.service(web::resource(html::STYLESHEET_PATH).route(web::get().to(stylesheet)))
            .service(web::resource("/public/{slug}/requests/new").route(web::get().to(new)))
            .service(web::resource("/public/{slug}/requests").route(web::post().to(submit)))
            .service(
                web::resource("/public/{slug}/requests/confirm/{token}")
                    .route(web::get().to(confirm_page))
                    .route(web::post().to(confirm)),
            );
    }
}

#[derive(serde::Deserialize)]
struct Lang {
    lang: Option<String>,
}

/// The page's language: `?lang=` if it names one, else the tenant's, else English.
fn language(query: &web::Query<Lang>, tenant: Option<&PublicTenant>) -> IntakeLanguage {
    query
        .lang
        .as_deref()
        .and_then(IntakeLanguage::parse)
        .or_else(|| tenant.map(|t| t.intake().language))
        .unwrap_or_default()
}

fn heading(tenant: Option<&PublicTenant>) -> Heading {
    Heading {
        organisation: tenant.map(|t| t.name.clone()),
        privacy_contact: tenant.and_then(|t| t.intake().privacy_contact),
    }
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(body)
}

/// A one-message page.
fn message(
    status: StatusCode,
    language: IntakeLanguage,
    heading: &Heading,
    title: &str,
    text: &str,
) -> HttpResponse {
    html(status, pages::message(language, heading, title, text))
}

/// The neutral 404 of the confirmation links.
fn invalid_link(language: IntakeLanguage, heading: &Heading) -> HttpResponse {
    let t = texts(language);
    message(
        StatusCode::NOT_FOUND,
        language,
        heading,
        t.invalid_link_title,
        t.invalid_link_body,
    )
}

fn no_page(language: IntakeLanguage) -> HttpResponse {
    let t = texts(language);
    message(
        StatusCode::NOT_FOUND,
        language,
        &Heading::default(),
        t.no_page_title,
        t.no_page_body,
    )
}

/// 503: ours, not the visitor's. The cause goes to the log (it names no person).
fn failed(
    language: IntakeLanguage,
    heading: &Heading,
    error: &dyn std::fmt::Display,
) -> HttpResponse {
    tracing::error!(%error, "public intake failed");
    let t = texts(language);
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        language,
        heading,
        t.failed_title,
        t.failed_body,
    )
}

fn too_many(language: IntakeLanguage, heading: &Heading, retry_after: u64) -> HttpResponse {
    let t = texts(language);
    let text = t
        .too_many_body
        .replace("{seconds}", &retry_after.to_string());
    let mut response = message(
        StatusCode::TOO_MANY_REQUESTS,
        language,
        heading,
        t.too_many_title,
        &text,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
    response
}

/// Counts the request under `key`; the refusal's `Retry-After` in seconds, if refused.
async fn refused(intake: &PublicIntake, key: RateLimitKey) -> Option<u64> {
    let limits = intake.limits.as_ref()?;
    let decision = limits.check(&key, OffsetDateTime::now_utc()).await;
    if decision.allowed {
        None
    } else {
        crate::metrics::rate_limited(key.kind().name());
        Some(decision.retry_after_secs().max(1))
    }
}

/// Counts the request against the client's address (the public auth routes' quota).
async fn address_refused(intake: &PublicIntake, req: &HttpRequest) -> Option<u64> {
    let ip = client_ip(req, &intake.trusted_proxies)?;
    refused(intake, RateLimitKey::client_address(ip)).await
}

fn context(req: &HttpRequest, intake: &PublicIntake) -> RequestContext {
    let ip = client_ip(req, &intake.trusted_proxies).map(|ip| ip.to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
    RequestContext::new(ip, user_agent, request_id)
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .body(html::STYLESHEET)
}

/// `GET /public/{slug}/requests/new`.
async fn new(
    intake: Option<web::Data<PublicIntake>>,
    path: web::Path<String>,
    query: web::Query<Lang>,
) -> HttpResponse {
    let Some(intake) = intake else {
        return no_page(language(&query, None));
    };
    let slug = path.into_inner();
    let tenant = match intake.service.tenant(&slug).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return no_page(language(&query, None)),
        Err(error) => return failed(language(&query, None), &Heading::default(), &error),
    };
    let language = language(&query, Some(&tenant));
    let page = pages::form(
        language,
        tenant.slug.as_str(),
        &heading(Some(&tenant)),
        &IntakeForm::default(),
        &[],
    );
    html(StatusCode::OK, page)
}

/// A posted form, and whether the honeypot was filled.
fn parse_form(body: &[u8]) -> (IntakeForm, bool) {
    let mut form = IntakeForm::default();
    let mut honeypot = false;
    for (key, value) in form_urlencoded::parse(body) {
        let value = value.into_owned();
        match key.as_ref() {
            "name" => form.name = value,
            "email" => form.email = value,
            "contact" => form.contact = value,
            "category" => form.category = value,
            "rights" => form.rights.push(value),
            "scope" => form.scope = value,
            "acting_for_someone" => form.acting_for_someone = !value.is_empty(),
            "agent_name" => form.agent_name = value,
            "agent_authority" => form.agent_authority = value,
            "website" => honeypot |= !value.trim().is_empty(),
            _ => {}
        }
    }
    (form, honeypot)
}

/// Why a body was not read.
enum Unread {
    TooLarge,
    Broken,
}

/// The body, up to [`BODY_CAP`] bytes: a declared length over it is refused unread, a
/// stream that grows past it is cut off.
async fn read_capped(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, Unread> {
    if declared_length(req).is_some_and(|length| length > BODY_CAP) {
        return Err(Unread::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Unread::Broken)?;
        if body.len() + chunk.len() > BODY_CAP {
            return Err(Unread::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `POST /public/{slug}/requests`.
async fn submit(
    req: HttpRequest,
    intake: Option<web::Data<PublicIntake>>,
    path: web::Path<String>,
    query: web::Query<Lang>,
    payload: web::Payload,
) -> HttpResponse {
    let Some(intake) = intake else {
        return no_page(language(&query, None));
    };
    let asked = language(&query, None);
    if let Some(retry_after) = address_refused(&intake, &req).await {
        return too_many(asked, &Heading::default(), retry_after);
    }
    let t = texts(asked);
    // Before the tenant is known: the asked language, no organisation's heading.
    let unread = |status, title, body| message(status, asked, &Heading::default(), title, body);
    let body = match read_capped(&req, payload).await {
        Ok(body) => body,
        Err(Unread::TooLarge) => {
            return unread(
                StatusCode::PAYLOAD_TOO_LARGE,
                t.too_large_title,
                t.too_large_body,
            );
        }
        Err(Unread::Broken) => {
            return unread(
                StatusCode::BAD_REQUEST,
                t.unreadable_title,
                t.unreadable_body,
            );
        }
    };
    if !is_form(&req) {
        return unread(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            t.unreadable_title,
            t.unreadable_body,
        );
    }
    let (form, honeypot) = parse_form(&body);
    let slug = path.into_inner();
    let tenant = match intake.service.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failed(asked, &Heading::default(), &error),
    };
    let language = language(&query, tenant.as_ref());
    let heading = heading(tenant.as_ref());
    let t = texts(language);
    let sent = || {
        message(
            StatusCode::OK,
            language,
            &heading,
            t.sent_title,
            t.sent_body,
        )
    };
    if honeypot {
        tracing::info!("public intake: honeypot filled, nothing stored");
        return sent();
    }
    let submission = match form.validated() {
        Ok(submission) => submission,
        Err(errors) => {
            let page = pages::form(language, &slug, &heading, &form, &errors.0);
            return html(StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    // An unknown slug, a suspended tenant or one without the page: the same answer, and
    // nothing stored or sent.
    let Some(tenant) = tenant else {
        return sent();
    };
    if let Some(retry_after) = refused(&intake, RateLimitKey::Intake(tenant.id)).await {
        return too_many(language, &heading, retry_after);
    }
    match intake
        .service
        .submit(&tenant, submission, language, OffsetDateTime::now_utc())
        .await
    {
        Ok(()) => sent(),
        Err(error) => failed(language, &heading, &error),
    }
}

/// A confirmation token as [`aura_identity::ports::Secrets`] makes them: URL-safe
/// base64. Anything else is not one of ours (and is never echoed into a page).
fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// The tenant of a confirmation link and the page's language, or the answer for a link
/// that cannot be one (no such tenant or page, a token that is not one of ours).
async fn link_tenant(
    intake: &PublicIntake,
    slug: &str,
    token: &str,
    query: &web::Query<Lang>,
) -> Result<(PublicTenant, IntakeLanguage), HttpResponse> {
    let tenant = match intake.service.tenant(slug).await {
        Ok(tenant) => tenant,
        Err(error) => return Err(failed(language(query, None), &Heading::default(), &error)),
    };
    let language = language(query, tenant.as_ref());
    match (tenant, plausible_token(token)) {
        (Some(tenant), true) => Ok((tenant, language)),
        _ => Err(invalid_link(language, &Heading::default())),
    }
}

/// `GET /public/{slug}/requests/confirm/{token}`: the button, nothing else.
async fn confirm_page(
    intake: Option<web::Data<PublicIntake>>,
    path: web::Path<(String, String)>,
    query: web::Query<Lang>,
) -> HttpResponse {
    let (slug, token) = path.into_inner();
    let Some(intake) = intake else {
        return invalid_link(language(&query, None), &Heading::default());
    };
    let (tenant, language) = match link_tenant(&intake, &slug, &token, &query).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let action = format!(
        "/public/{}/requests/confirm/{token}?lang={}",
        tenant.slug,
        language.as_str()
    );
    html(
        StatusCode::OK,
        pages::confirm(language, &heading(Some(&tenant)), &action),
    )
}

/// `POST /public/{slug}/requests/confirm/{token}`: confirms (once).
async fn confirm(
    req: HttpRequest,
    intake: Option<web::Data<PublicIntake>>,
    path: web::Path<(String, String)>,
    query: web::Query<Lang>,
) -> HttpResponse {
    let (slug, token) = path.into_inner();
    let Some(intake) = intake else {
        return invalid_link(language(&query, None), &Heading::default());
    };
    if let Some(retry_after) = address_refused(&intake, &req).await {
        return too_many(language(&query, None), &Heading::default(), retry_after);
    }
    let (tenant, language) = match link_tenant(&intake, &slug, &token, &query).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let heading = heading(Some(&tenant));
    let ctx = context(&req, &intake);
    match intake
        .service
        .confirm(&tenant, &token, OffsetDateTime::now_utc(), &ctx)
        .await
    {
        Ok(Some(opened)) => html(
            StatusCode::OK,
            pages::received(language, &heading, &opened.reference, opened.due_on),
        ),
        // The same page as for an unknown slug: nothing tells a used token from a guess.
        Ok(None) => invalid_link(language, &Heading::default()),
        Err(error) => failed(language, &heading, &error),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use actix_web::{App, test as actix};
    use aura_adapter_crypto::{HmacChainHasher, RandomSecrets};
    use aura_adapter_memory::{MemoryRateLimiter, MemoryStore};
    use aura_identity::{
        Email, FullName, PasswordHash, User,
        mail::OutgoingMail,
        ports::{MailError, Mailer, TenantRepository},
    };
    use aura_rate_limit::{Quota, RateLimitPolicy};
    use aura_records::UseCaseError;
    use aura_requests::{
        intake::{IntakeId, OpenedRequest, RequestIntakeSink},
        request::{Channel, RequestFields, RequestId},
    };
    use aura_shared_kernel::{
        Role, SystemClock, Tenant, TenantName, TenantScope, TenantSettings, TenantSlug,
    };
    use time::macros::date;

    use super::*;

    #[derive(Default)]
    struct Outbox(Mutex<Vec<OutgoingMail>>);

    #[async_trait::async_trait]
    impl Mailer for Outbox {
        async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
            self.0.lock().expect("outbox").push(mail);
            Ok(())
        }
    }

    /// Records the requests a confirmation opens (the requests' use cases stand in for
    /// it in the black-box tests); refuses while `failing` is set.
    #[derive(Default)]
    struct Opened(
        Mutex<Vec<(TenantScope, RequestFields)>>,
        std::sync::atomic::AtomicBool,
    );

    #[async_trait::async_trait]
    impl RequestIntakeSink for Opened {
        async fn open_request(
            &self,
            scope: &TenantScope,
            fields: RequestFields,
            _: IntakeId,
            _: &RequestContext,
        ) -> Result<OpenedRequest, UseCaseError> {
            if self.1.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(UseCaseError::Internal("the register is down".into()));
            }
            self.0.lock().expect("opened").push((scope.clone(), fields));
            Ok(OpenedRequest {
                id: RequestId::generate(),
                reference: "DSR-2027-0001".into(),
                due_on: Some(date!(2027 - 03 - 10)),
            })
        }
    }

    struct World {
        store: MemoryStore,
        outbox: Arc<Outbox>,
        opened: Arc<Opened>,
        intake: PublicIntake,
    }

    fn world(quota: Option<Quota>) -> World {
        let store = MemoryStore::new(
            Arc::new(HmacChainHasher::with_test_key()),
            Arc::new(SystemClock),
        );
        let outbox = Arc::new(Outbox::default());
        let opened = Arc::new(Opened::default());
        let service = IntakeService::new(
            Arc::new(store.clone()),
            opened.clone(),
            outbox.clone(),
            Arc::new(RandomSecrets),
            "https://aura.example/",
        );
        let limits = quota.map(|quota| {
            Arc::new(RateLimits::new(
                Arc::new(MemoryRateLimiter::new()),
                RateLimitPolicy {
                    client_address: quota,
                    tenant: quota,
                    user: quota,
                    intake: quota,
                },
            ))
        });
        World {
            store,
            outbox,
            opened,
            intake: PublicIntake {
                service,
                limits,
                trusted_proxies: vec![],
            },
        }
    }

    async fn tenant(world: &World, slug: &str, settings: serde_json::Value) -> Tenant {
        let mut tenant = Tenant::new(
            TenantName::parse("Müller & Co <GmbH>").expect("name"),
            TenantSlug::parse(slug).expect("slug"),
            OffsetDateTime::now_utc(),
        );
        tenant.settings = TenantSettings::parse(settings).expect("settings");
        let owner = User::new(
            tenant.id,
            Email::parse(&format!("owner@{slug}.test")).expect("email"),
            FullName::parse("Owner").expect("name"),
            Role::Owner,
            PasswordHash::from_stored("$2b$12$x".into()),
            OffsetDateTime::now_utc(),
        );
        let scope = TenantScope::for_tests(tenant.id, owner.id, Role::Owner);
        world
            .store
            .register(&scope, &tenant, &owner, vec![])
            .await
            .expect("registered");
        tenant
    }

    fn enabled(language: &str) -> serde_json::Value {
        serde_json::json!({
            "requests_intake_enabled": true,
            "requests_intake_language": language,
            "privacy_contact": "datenschutz@mueller.test",
        })
    }

    macro_rules! app {
        ($world:expr) => {
            actix::init_service(App::new().configure(configure(Some($world.intake.clone())))).await
        };
    }

    async fn body_of(response: actix_web::dev::ServiceResponse) -> (StatusCode, String) {
        let status = response.status();
        let bytes = actix::read_body(response).await;
        (status, String::from_utf8(bytes.to_vec()).expect("utf-8"))
    }

    fn post(path: &str, form: &str) -> actix_web::test::TestRequest {
        actix::TestRequest::post()
            .uri(path)
            .peer_addr("203.0.113.7:4000".parse().expect("addr"))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(form.to_owned())
    }

    const GOOD: &str = "name=Erika+Mustermann&email=erika%40example.test&category=customer&rights=access&rights=erasure&scope=Meine+Bestellungen";

    #[actix_web::test]
    async fn the_form_speaks_the_tenants_language_unless_asked_otherwise() {
        let world = world(None);
        tenant(&world, "mueller", enabled("de")).await;
        tenant(&world, "closed", serde_json::json!({})).await;
        let app = app!(world);
        let get = |uri: &str| actix::TestRequest::get().uri(uri).to_request();
        let (status, de) =
            body_of(actix::call_service(&app, get("/public/mueller/requests/new")).await).await;
        assert_eq!(status, StatusCode::OK);
        assert!(de.contains("<html lang=\"de\">"), "{de}");
        assert!(de.contains("Anfrage senden"));
        assert!(de.contains("Müller &amp; Co &lt;GmbH&gt;"), "escaped name");
        assert!(de.contains("datenschutz@mueller.test"));
        for accessible in [
            "<label for=\"field-name\">",
            "autocomplete=\"email\"",
            "<fieldset id=\"field-rights\"",
            "<legend>",
            "action=\"/public/mueller/requests?lang=de\"",
        ] {
            assert!(de.contains(accessible), "{accessible}");
        }
        assert!(!de.contains("<script"), "no script");
        let (_, en) =
            body_of(actix::call_service(&app, get("/public/mueller/requests/new?lang=en")).await)
                .await;
        assert!(en.contains("<html lang=\"en\">") && en.contains("Send request"));
        for off in ["/public/closed/requests/new", "/public/nobody/requests/new"] {
            let response = actix::call_service(&app, get(off)).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{off}");
        }
    }

    #[actix_web::test]
    async fn bad_input_gets_the_form_again_naming_each_field() {
        let world = world(None);
        tenant(&world, "mueller", enabled("en")).await;
        let app = app!(world);
        let form = "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=nope&category=customer";
        let (status, page) = body_of(
            actix::call_service(&app, post("/public/mueller/requests", form).to_request()).await,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("<title>Error: "), "the title says so");
        assert!(page.contains("class=\"error-summary\""));
        assert!(page.contains("href=\"#field-email\""), "{page}");
        assert!(page.contains("href=\"#right-access\""), "rights named");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "kept, escaped"
        );
        assert!(!page.contains("<script>"));
        assert!(world.outbox.0.lock().expect("outbox").is_empty());
    }

    #[actix_web::test]
    async fn oversized_or_foreign_bodies_are_refused_with_a_page() {
        let world = world(None);
        tenant(&world, "mueller", enabled("en")).await;
        let app = app!(world);
        let huge = format!("{GOOD}&scope={}", "x".repeat(BODY_CAP));
        let response =
            actix::call_service(&app, post("/public/mueller/requests", &huge).to_request()).await;
        let (status, page) = body_of(response).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(page.contains("too long"));
        let json = actix::TestRequest::post()
            .uri("/public/mueller/requests")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{}")
            .to_request();
        let status = actix::call_service(&app, json).await.status();
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[actix_web::test]
    async fn the_answer_is_the_same_for_a_known_an_unknown_and_a_bot() {
        let world = world(None);
        tenant(&world, "mueller", enabled("en")).await;
        tenant(&world, "closed", serde_json::json!({})).await;
        let app = app!(world);
        let mut pages = Vec::new();
        for (slug, form) in [
            ("nobody", GOOD.to_owned()),
            ("closed", GOOD.to_owned()),
            ("mueller", format!("{GOOD}&website=http%3A%2F%2Fspam.test")),
        ] {
            let path = format!("/public/{slug}/requests");
            let response = actix::call_service(&app, post(&path, &form).to_request()).await;
            pages.push(body_of(response).await);
        }
        assert!(
            world.outbox.0.lock().expect("outbox").is_empty(),
            "nothing sent"
        );
        let response =
            actix::call_service(&app, post("/public/mueller/requests", GOOD).to_request()).await;
        let (status, known) = body_of(response).await;
        assert_eq!(status, StatusCode::OK);
        assert!(known.contains("Check your e-mail"));
        assert_eq!(world.outbox.0.lock().expect("outbox").len(), 1, "one mail");
        // The pages differ only in the organisation's name, which the form shows anyway.
        let strip = |page: &str| {
            page.lines()
                .filter(|l| !l.contains("class=\"organisation\""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (status, page) in &pages {
            assert_eq!(*status, StatusCode::OK);
            assert_eq!(strip(page), strip(&known));
        }
    }

    /// The link of the newest mail, as a path.
    fn link(world: &World) -> String {
        let outbox = world.outbox.0.lock().expect("outbox");
        let text = &outbox.last().expect("a mail").text;
        let start =
            text.find("https://aura.example/").expect("link") + "https://aura.example".len();
        text[start..]
            .split_whitespace()
            .next()
            .expect("path")
            .to_owned()
    }

    #[actix_web::test]
    async fn the_mailed_link_confirms_once_and_only_in_its_tenant() {
        let world = world(None);
        let mueller = tenant(&world, "mueller", enabled("en")).await;
        tenant(&world, "other", enabled("en")).await;
        let app = app!(world);
        let response =
            actix::call_service(&app, post("/public/mueller/requests", GOOD).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let path = link(&world);
        assert!(
            path.starts_with("/public/mueller/requests/confirm/"),
            "{path}"
        );

        // Following the link shows a button and changes nothing.
        let (status, page) = body_of(
            actix::call_service(&app, actix::TestRequest::get().uri(&path).to_request()).await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<button type=\"submit\">Confirm my request</button>"));
        assert!(world.opened.0.lock().expect("opened").is_empty());

        // Another tenant's page with this token: the neutral 404.
        let foreign = path.replace("/mueller/", "/other/");
        let (status, not_found) =
            body_of(actix::call_service(&app, post(&foreign, "").to_request()).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let before = OffsetDateTime::now_utc();
        let (status, received) =
            body_of(actix::call_service(&app, post(&path, "").to_request()).await).await;
        assert_eq!(status, StatusCode::OK, "{received}");
        assert!(received.contains("DSR-2027-0001"));
        assert!(
            received.contains("<time id=\"due-on\" datetime=\"2027-03-10\">10 March 2027</time>")
        );
        {
            let opened = world.opened.0.lock().expect("opened");
            assert_eq!(opened.len(), 1);
            let (scope, fields) = &opened[0];
            assert_eq!(scope.tenant_id(), mueller.id);
            assert_eq!(fields.channel, Channel::WebForm);
            assert!(fields.received_at >= before, "received at the confirmation");
            assert_eq!(fields.subject.name, "Erika Mustermann");
        }
        let (status, again) =
            body_of(actix::call_service(&app, post(&path, "").to_request()).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "used once");
        assert_eq!(again, not_found, "a used link looks like a foreign one");
        let unknown =
            "/public/mueller/requests/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let (_, guessed) =
            body_of(actix::call_service(&app, post(unknown, "").to_request()).await).await;
        assert_eq!(guessed, not_found);
        assert_eq!(world.opened.0.lock().expect("opened").len(), 1);
    }

    #[actix_web::test]
    async fn a_flood_gets_429_with_retry_after() {
        let world = world(Some(Quota::new(2, 2).expect("quota")));
        tenant(&world, "mueller", enabled("de")).await;
        let app = app!(world);
        let mut statuses = Vec::new();
        let mut last = None;
        for _ in 0..4 {
            let response =
                actix::call_service(&app, post("/public/mueller/requests", GOOD).to_request())
                    .await;
            statuses.push(response.status());
            last = Some(response);
        }
        assert_eq!(
            statuses,
            [
                StatusCode::OK,
                StatusCode::OK,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::TOO_MANY_REQUESTS
            ]
        );
        let last = last.expect("answered");
        let retry: u64 = last
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After");
        assert!((1..=30).contains(&retry), "{retry}");
        let (_, page) = body_of(last).await;
        assert!(page.contains("Zu viele Anfragen") || page.contains("Too many requests"));
    }

    #[actix_web::test]
    async fn a_confirmation_that_cannot_open_its_request_leaves_the_link_working() {
        let world = world(None);
        tenant(&world, "mueller", enabled("en")).await;
        let app = app!(world);
        let response =
            actix::call_service(&app, post("/public/mueller/requests", GOOD).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let path = link(&world);
        world
            .opened
            .1
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let (status, page) =
            body_of(actix::call_service(&app, post(&path, "").to_request()).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.contains("Something went wrong"));
        world
            .opened
            .1
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let (status, _) =
            body_of(actix::call_service(&app, post(&path, "").to_request()).await).await;
        assert_eq!(status, StatusCode::OK, "the intake was put back");
        assert_eq!(world.opened.0.lock().expect("opened").len(), 1);
    }
}
