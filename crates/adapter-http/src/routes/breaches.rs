//! `/api/v1/breaches`: the kernel's list, create (`Idempotency-Key`), read and replace
//! (`If-Match`), and the breach's actions (each `If-Match`): assess, notify the authority
//! (one phase each), decide not to notify, communicate to the data subjects, close.
//! Members handle breaches, viewers read them, admins and owners close them. There is no
//! delete: every breach stays in the register (Art. 33(5)).

use actix_web::{HttpResponse, http::StatusCode};
use aura_breaches::{
    Art34Decision, Breach, BreachCases, BreachFilter, BreachStatus, Breaches, PhaseSent, RiskLevel,
};
use aura_records::{ListQuery, RecordUseCases};
use aura_shared_kernel::ValidationErrors;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody},
    routes::{
        params::{Versioned, list_query, query_enum, query_text, with_etag},
        records::{RecordApi, RecordRoutes},
    },
    schemas::{
        breaches::{
            Art34Choice, AssessBody, BreachBody, BreachFieldsBody, BreachList,
            CommunicateToSubjectsBody, DecideNotToNotifyBody, NotifyAuthorityBody,
        },
        record::RecordBody,
    },
    state::ApiState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BreachParams {
    /// open, assessed, notified, not_notified or closed.
    pub status: Option<String>,
    /// no_risk, risk or high_risk.
    pub risk: Option<String>,
    /// true: only breaches notified to the authority; false: only those not notified.
    pub notified: Option<bool>,
    /// true: only breaches whose authority decision is still open after the deadline.
    pub overdue: Option<bool>,
    /// true: only drills (exercises); otherwise only real breaches.
    pub drill: Option<bool>,
    /// Text search in the title and the reference (`BR-2027-0001`), ignoring case.
    pub q: Option<String>,
    /// created_at (default), -created_at, -updated_at, name (the title), -name, due_on
    /// (by the authority deadline, soonest first), -due_on.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Personal-data breaches (Art. 33, 34) with their 72-hour deadline. Drills are listed
/// only with `drill=true`.
#[utoipa::path(get, path = "/api/v1/breaches", tag = "breaches", security(("bearer" = [])), params(BreachParams),
    responses((status = 200, body = BreachList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub fn list_breaches() {}

/// Records a breach. Its authority deadline is `became_aware_at` + 72 hours (Art. 33(1));
/// `became_aware_at` in the future, or `occurred_to` before `occurred_from`, is 422.
#[utoipa::path(post, path = "/api/v1/breaches", tag = "breaches", security(("bearer" = [])),
    request_body = BreachFieldsBody,
    responses((status = 201, body = BreachBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_breach() {}

#[utoipa::path(get, path = "/api/v1/breaches/{id}", tag = "breaches", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = BreachBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_breach() {}

/// Replaces what a user edits (send all); the deadline follows a corrected awareness time.
#[utoipa::path(put, path = "/api/v1/breaches/{id}", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = BreachFieldsBody,
    responses((status = 200, body = BreachBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_breach() {}

impl RecordRoutes for Breaches {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.breaches.records()
    }
}

impl RecordApi for Breaches {
    type Request = BreachFieldsBody;
    type Params = BreachParams;

    fn list_query(p: BreachParams, caller: &Caller) -> Result<ListQuery<BreachFilter>, ApiError> {
        let filter = BreachFilter {
            status: query_enum::<BreachStatus>(p.status.as_deref(), "status")?,
            risk: query_enum::<RiskLevel>(p.risk.as_deref(), "risk")?,
            notified: p.notified,
            overdue_at: (p.overdue)
                .filter(|overdue| *overdue)
                .map(|_| time::OffsetDateTime::now_utc()),
            drill: p.drill.unwrap_or(false),
            search: query_text(p.q, "q")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

// ------------------------------------------------------------------ actions

fn answer(breach: Breach) -> HttpResponse {
    with_etag(StatusCode::OK, breach.version, &RecordBody::from(breach))
}

impl Caller {
    fn breaches(&self) -> &BreachCases {
        &self.state.breaches
    }
}

/// Records the risk assessment (Art. 33(1), 34(1)); an open breach becomes assessed.
#[utoipa::path(post, operation_id = "assess_breach", path = "/api/v1/breaches/{id}/assess", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = AssessBody,
    responses((status = 200, body = BreachBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn assess(
    caller: Caller,
    Versioned { id, expected }: Versioned<Breaches>,
    JsonBody(body): JsonBody<AssessBody>,
) -> Result<HttpResponse, ApiError> {
    let breach = (caller.breaches())
        .assess(
            caller.scope(),
            id,
            expected,
            body.risk,
            &body.reasoning,
            caller.ctx(),
        )
        .await?;
    Ok(answer(breach))
}

/// Records one phase of the notification to the supervisory authority (Art. 33(4)). A
/// first phase after the deadline without `delay_reasons` is 422 (Art. 33(1)).
#[utoipa::path(post, operation_id = "notify_authority", path = "/api/v1/breaches/{id}/notify-authority", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = NotifyAuthorityBody,
    responses((status = 200, body = BreachBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn notify_authority(
    caller: Caller,
    Versioned { id, expected }: Versioned<Breaches>,
    JsonBody(body): JsonBody<NotifyAuthorityBody>,
) -> Result<HttpResponse, ApiError> {
    let phase = PhaseSent {
        sent_at: body.sent_at,
        authority_reference: body.authority_reference,
        content: body.content,
        to_follow: body.to_follow,
        delay_reasons: body.delay_reasons,
    };
    let breach = (caller.breaches())
        .notify_authority(caller.scope(), id, expected, phase, caller.ctx())
        .await?;
    Ok(answer(breach))
}

/// Records the decision not to notify the authority, with its reasoning: only for a
/// breach assessed `no_risk` (422 naming `risk` otherwise).
#[utoipa::path(post, operation_id = "decide_not_to_notify", path = "/api/v1/breaches/{id}/decide-not-to-notify", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = DecideNotToNotifyBody,
    responses((status = 200, body = BreachBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn decide_not_to_notify(
    caller: Caller,
    Versioned { id, expected }: Versioned<Breaches>,
    JsonBody(body): JsonBody<DecideNotToNotifyBody>,
) -> Result<HttpResponse, ApiError> {
    let breach = (caller.breaches())
        .decide_not_to_notify(caller.scope(), id, expected, &body.reasoning, caller.ctx())
        .await?;
    Ok(answer(breach))
}

/// Records the communication to the data subjects (Art. 34) or the Art. 34(3) ground
/// not to communicate, once.
#[utoipa::path(post, operation_id = "communicate_to_subjects", path = "/api/v1/breaches/{id}/communicate-to-subjects", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = CommunicateToSubjectsBody,
    responses((status = 200, body = BreachBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn communicate_to_subjects(
    caller: Caller,
    Versioned { id, expected }: Versioned<Breaches>,
    JsonBody(body): JsonBody<CommunicateToSubjectsBody>,
) -> Result<HttpResponse, ApiError> {
    let decision = art34_decision(body)?;
    let breach = (caller.breaches())
        .communicate_to_subjects(caller.scope(), id, expected, decision, caller.ctx())
        .await?;
    Ok(answer(breach))
}

/// The decision a body names, with the fields its choice needs (422 naming the missing
/// ones, or those of the other choice).
fn art34_decision(body: CommunicateToSubjectsBody) -> Result<Art34Decision, ApiError> {
    let mut e = ValidationErrors::default();
    let required = |e: &mut ValidationErrors, field: &str, value: Option<String>| {
        if value.is_none() {
            e.push(field, "is required for this decision");
        }
        value.unwrap_or_default()
    };
    let decision = match body.decision {
        Art34Choice::Communicated => {
            for (field, given) in [
                ("ground", body.ground.is_some()),
                ("reasoning", body.reasoning.is_some()),
            ] {
                if given {
                    e.push(field, "belongs to a decision not to communicate");
                }
            }
            Art34Decision::Communicated {
                communicated_on: body.communicated_on,
                channel: required(&mut e, "channel", body.channel),
                content_reference: required(&mut e, "content_reference", body.content_reference),
            }
        }
        Art34Choice::NotCommunicated => {
            for (field, given) in [
                ("communicated_on", body.communicated_on.is_some()),
                ("channel", body.channel.is_some()),
                ("content_reference", body.content_reference.is_some()),
            ] {
                if given {
                    e.push(field, "belongs to a communication");
                }
            }
            if body.ground.is_none() {
                e.push("ground", "is required: one of the grounds of Art. 34(3)");
            }
            Art34Decision::NotCommunicated {
                ground: body
                    .ground
                    .unwrap_or(aura_breaches::NoCommunicationGround::DataUnintelligible),
                reasoning: required(&mut e, "reasoning", body.reasoning),
            }
        }
    };
    e.into_result()?;
    Ok(decision)
}

/// Closes a breach whose authority decision is made (admins and owners). A high-risk
/// breach without its Art. 34 decision is 422 naming `communication`.
#[utoipa::path(post, operation_id = "close_breach", path = "/api/v1/breaches/{id}/close", tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = BreachBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn close(
    caller: Caller,
    Versioned { id, expected }: Versioned<Breaches>,
) -> Result<HttpResponse, ApiError> {
    let breach = (caller.breaches())
        .close(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answer(breach))
}
