//! The HTTP routes. Handlers stay thin: parse, call one use case, render.

pub mod ai;
pub mod audit;
pub mod auth;
pub mod breaches;
pub mod breaches_export;
pub mod documents;
pub mod dpia_screening;
pub mod dpias;
mod exports;
pub mod me;
pub mod mfa;
pub mod packs;
pub mod params;
pub mod partners;
mod records;
pub mod registers;
pub mod reports;
pub mod requests;
pub mod requests_export;
pub mod roles;
pub mod system;
pub mod tasks;
pub mod tenants;

use std::sync::LazyLock;

use actix_web::web;

use crate::{
    idempotency::Keys,
    middleware::Deadline,
    request::BodyCap,
    route::{RateLimit, Route},
};

/// Every route the service answers, built once, in registration order (actix matches in
/// that order: a literal segment such as `/completeness` comes before `{id}`).
pub fn table() -> &'static [Route] {
    static TABLE: LazyLock<Vec<Route>> = LazyLock::new(declarations);
    &TABLE
}

/// Each line is the one declaration of a route; see [`crate::route`].
fn declarations() -> Vec<Route> {
    use aura_breaches::Breaches;
    use aura_dpias::Dpias;
    use aura_gdpr_registers::{Activities, Policies, Processors};
    use aura_requests::request::Requests;
    use requests::{
        __path_add_checklist_item, __path_answer_request, __path_create_request,
        __path_delete_request, __path_extend, __path_generate_checklist, __path_get_request,
        __path_list_requests, __path_request_information, __path_update_checklist_item,
        __path_update_request, __path_verify_identity, __path_withdraw, add_checklist_item,
        answer_request, extend, generate_checklist, request_information, update_checklist_item,
        verify_identity, withdraw,
    };
    use {ai::*, audit::*, auth::*, me::*, mfa::*, registers::*, system::*, tasks::*, tenants::*};
    let public = |route: Route| route.limit(RateLimit::Unlimited);
    let sign_in = |route: Route| route.limit(RateLimit::PerAddress).body(BodyCap::Auth);
    let document = |route: Route| route.body(BodyCap::Document);
    let provider = |route: Route| route.deadline(Deadline::Provider);
    vec![
        public(Route::new(__path_health, health)),
        public(Route::new(__path_ready, ready)),
        public(Route::new(__path_jwks, jwks)),
        public(Route::new(__path_info, info)),
        sign_in(Route::new(__path_register, register)).idempotent(Keys::SignUp),
        sign_in(Route::new(__path_login, login)),
        sign_in(Route::new(__path_login_second_factor, login_second_factor)),
        sign_in(Route::new(
            __path_start_enrolment_at_login,
            start_enrolment_at_login,
        )),
        sign_in(Route::new(
            __path_confirm_enrolment_at_login,
            confirm_enrolment_at_login,
        )),
        sign_in(Route::new(__path_refresh, refresh)),
        Route::new(__path_logout, logout).body(BodyCap::Auth),
        Route::new(partners::__path_switch, partners::switch).body(BodyCap::Auth),
        sign_in(Route::new(__path_forgot_password, forgot_password)),
        sign_in(Route::new(__path_reset_password, reset_password)),
        Route::new(__path_get_me, get_me),
        Route::new(__path_patch_me, patch_me),
        Route::new(__path_change_password, change_password),
        Route::new(partners::__path_my_tenants, partners::my_tenants),
        Route::new(__path_get_portfolio, get_portfolio),
        Route::new(__path_mfa_status, mfa_status),
        Route::new(__path_start_totp, start_totp).body(BodyCap::Auth),
        Route::new(__path_confirm_totp, confirm_totp).body(BodyCap::Auth),
        Route::new(__path_disable_totp, disable_totp).body(BodyCap::Auth),
        Route::new(__path_replace_recovery_codes, replace_recovery_codes).body(BodyCap::Auth),
        Route::new(__path_get_tenant, get_tenant),
        Route::new(__path_patch_tenant, patch_tenant),
        Route::new(__path_list_users, list_users),
        Route::new(__path_create_user, create_user).idempotent(Keys::Tenant),
        Route::new(__path_get_user, get_user),
        Route::new(__path_update_user, update_user),
        Route::new(__path_delete_user, delete_user),
        Route::new(roles::__path_list_roles, roles::list_roles),
        Route::new(roles::__path_create_role, roles::create_role),
        Route::new(roles::__path_get_role, roles::get_role),
        Route::new(roles::__path_replace_role, roles::replace_role),
        Route::new(roles::__path_delete_role, roles::delete_role),
        Route::new(partners::__path_list_partners, partners::list_partners),
        Route::new(partners::__path_grant_partner, partners::grant_partner),
        Route::new(partners::__path_revoke_partner, partners::revoke_partner),
        Route::new(audit::__path_list, audit::list),
        Route::new(__path_verify, verify),
        Route::new(__path_verify_against, verify_against),
        Route::new(__path_erase, erase),
        // Registers.
        Route::new(__path_get_organisation, get_organisation),
        Route::new(__path_put_organisation, put_organisation),
        Route::new(__path_list_activities, records::list::<Activities>),
        Route::new(__path_create_activity, records::create::<Activities>).idempotent(Keys::Tenant),
        Route::new(__path_completeness, completeness),
        Route::new(__path_get_activity, records::get::<Activities>),
        Route::new(__path_update_activity, records::replace::<Activities>),
        Route::new(__path_delete_activity, records::delete::<Activities>),
        Route::new(
            dpia_screening::__path_get_screening,
            dpia_screening::get_screening,
        ),
        Route::new(
            dpia_screening::__path_put_answers,
            dpia_screening::put_answers,
        ),
        Route::new(
            dpia_screening::__path_accept_suggestion,
            dpia_screening::accept_suggestion,
        ),
        Route::new(__path_list_processors, records::list::<Processors>),
        Route::new(__path_create_processor, records::create::<Processors>).idempotent(Keys::Tenant),
        Route::new(__path_get_processor, records::get::<Processors>),
        Route::new(__path_update_processor, records::replace::<Processors>),
        Route::new(__path_delete_processor, records::delete::<Processors>),
        document(Route::new(__path_list_policies, records::list::<Policies>)),
        document(Route::new(
            __path_create_policy,
            records::create::<Policies>,
        ))
        .idempotent(Keys::Tenant),
        document(Route::new(__path_get_policy, records::get::<Policies>)),
        document(Route::new(
            __path_update_policy,
            records::replace::<Policies>,
        )),
        document(Route::new(
            __path_delete_policy,
            records::delete::<Policies>,
        )),
        document(Route::new(__path_list_versions, list_versions)),
        document(Route::new(__path_create_version, create_version)).idempotent(Keys::Tenant),
        Route::new(__path_current_version, current_version),
        document(Route::new(__path_get_version, get_version)),
        document(Route::new(__path_edit_version, edit_version)),
        // The PDF's literal segment before the transitions' `{action}`.
        Route::new(
            reports::__path_policy_version_pdf,
            reports::policy_version_pdf,
        ),
        Route::new(__path_transition_version, transition_version),
        Route::new(__path_export, export),
        // The AI assistant (the generating routes wait on the provider).
        provider(Route::new(__path_draft_policy, draft_policy)).idempotent(Keys::Tenant),
        provider(Route::new(__path_suggest_activity, suggest_activity)).idempotent(Keys::Tenant),
        provider(Route::new(__path_ask, ask)).idempotent(Keys::Tenant),
        provider(Route::new(
            __path_suggest_breach_measures,
            suggest_breach_measures,
        ))
        .idempotent(Keys::Tenant),
        provider(Route::new(__path_draft_dpia, draft_dpia)).idempotent(Keys::Tenant),
        Route::new(__path_list_suggestions, list_suggestions),
        Route::new(__path_get_suggestion, get_suggestion),
        Route::new(__path_accept, accept),
        Route::new(__path_reject, reject),
        // Tasks.
        Route::new(tasks::__path_list, tasks::list),
        Route::new(tasks::__path_create, tasks::create).idempotent(Keys::Tenant),
        Route::new(tasks::__path_get, records::get::<aura_tasks::Tasks>),
        Route::new(tasks::__path_update, tasks::update),
        Route::new(tasks::__path_delete, records::delete::<aura_tasks::Tasks>),
        Route::new(__path_complete, complete),
        Route::new(__path_reopen, reopen),
        // Data-subject requests (the export's literal segment before `{id}`).
        Route::new(__path_list_requests, records::list::<Requests>),
        Route::new(
            requests_export::__path_export_requests,
            requests_export::export_requests,
        ),
        Route::new(__path_create_request, records::create::<Requests>).idempotent(Keys::Tenant),
        Route::new(__path_get_request, records::get::<Requests>),
        Route::new(__path_update_request, records::replace::<Requests>),
        Route::new(__path_delete_request, records::delete::<Requests>),
        Route::new(__path_verify_identity, verify_identity),
        Route::new(__path_request_information, request_information),
        Route::new(__path_extend, extend),
        Route::new(__path_answer_request, answer_request),
        Route::new(requests::__path_close, requests::close),
        Route::new(__path_withdraw, withdraw),
        Route::new(__path_generate_checklist, generate_checklist),
        Route::new(__path_add_checklist_item, add_checklist_item),
        Route::new(__path_update_checklist_item, update_checklist_item),
        Route::new(reports::__path_request_pdf, reports::request_pdf),
        // Personal-data breaches (no delete: Art. 33(5); the export's literal segment
        // before `{id}`).
        Route::new(breaches::__path_list_breaches, records::list::<Breaches>),
        Route::new(
            breaches_export::__path_export_breaches,
            breaches_export::export_breaches,
        ),
        Route::new(breaches::__path_create_breach, records::create::<Breaches>)
            .idempotent(Keys::Tenant),
        Route::new(breaches::__path_get_breach, records::get::<Breaches>),
        Route::new(breaches::__path_update_breach, records::replace::<Breaches>),
        Route::new(breaches_export::__path_draft, breaches_export::draft),
        Route::new(reports::__path_breach_pdf, reports::breach_pdf),
        Route::new(breaches::__path_assess, breaches::assess),
        Route::new(
            breaches::__path_notify_authority,
            breaches::notify_authority,
        ),
        Route::new(
            breaches::__path_decide_not_to_notify,
            breaches::decide_not_to_notify,
        ),
        Route::new(
            breaches::__path_communicate_to_subjects,
            breaches::communicate_to_subjects,
        ),
        Route::new(breaches::__path_close, breaches::close),
        // DPIAs (no delete: an assessment stays as the Art. 35 documentation).
        Route::new(dpias::__path_list_dpias, records::list::<Dpias>),
        Route::new(dpias::__path_create_dpia, records::create::<Dpias>).idempotent(Keys::Tenant),
        Route::new(dpias::__path_get_dpia, records::get::<Dpias>),
        Route::new(dpias::__path_update_dpia, records::replace::<Dpias>),
        Route::new(dpias::__path_submit, dpias::submit),
        Route::new(dpias::__path_approve, dpias::approve),
        Route::new(dpias::__path_send_back, dpias::send_back),
        Route::new(dpias::__path_prior_consultation, dpias::prior_consultation),
        Route::new(dpias::__path_start_revision, dpias::start_revision),
        Route::new(dpias::__path_measure_task, dpias::measure_task),
        Route::new(dpias::__path_export, dpias::export),
        Route::new(reports::__path_dpia_pdf, reports::dpia_pdf),
        // Documents (no delete of the metadata: the content is removed, admins and owners;
        // uploads stream their raw body under their own cap, `MAX_UPLOAD_BYTES`).
        Route::new(
            documents::__path_list_documents,
            records::list::<aura_documents::Documents>,
        ),
        Route::new(documents::__path_create_document, documents::create).idempotent(Keys::Tenant),
        Route::new(
            documents::__path_get_document,
            records::get::<aura_documents::Documents>,
        ),
        Route::new(documents::__path_update_document, documents::replace),
        Route::new(documents::__path_versions, documents::versions),
        Route::new(documents::__path_upload, documents::upload),
        Route::new(documents::__path_download, documents::download),
        Route::new(documents::__path_verify, documents::verify),
        Route::new(documents::__path_remove_content, documents::remove_content),
        // The accountability pack: built by a job, downloaded once ready.
        Route::new(packs::__path_create_pack, packs::create_pack).idempotent(Keys::Tenant),
        Route::new(packs::__path_get_pack, packs::get_pack),
        Route::new(packs::__path_pack_content, packs::pack_content),
    ]
}

/// Under this prefix responses carry the rate-limit headers.
const API: &str = "/api/v1";

/// Registers every route of [`table`]: one resource per path (in the
/// order of its first route), those under `/api/v1` in a scope wrapped by
/// [`crate::limits::headers`]. Each route carries its own facts ([`Route::service`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The routes of each path, paths in the order of their first route.
    let mut paths: Vec<(&str, Vec<&Route>)> = Vec::new();
    for route in table() {
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, routes)) => routes.push(route),
            None => paths.push((&route.path, vec![route])),
        }
    }
    let mut scope = web::scope(API).wrap(actix_web::middleware::from_fn(crate::limits::headers));
    for (path, routes) in paths {
        let (under_api, relative) = match path.strip_prefix(API) {
            Some(rest) => (true, rest),
            None => (false, path),
        };
        let resource = routes
            .into_iter()
            .fold(resource(relative), |resource, route| {
                resource.route(route.service())
            });
        if under_api {
            scope = scope.service(resource);
        } else {
            cfg.service(resource);
        }
    }
    cfg.service(scope);
}

/// A resource whose unsupported methods answer 405 problem+json.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(crate::method_not_allowed))
}
