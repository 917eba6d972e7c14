//! The AI assistant over HTTP. Generating answers `201` with a pending suggestion;
//! nothing in the register changes until `accept` (which, like every decision, sends
//! `If-Match` with the suggestion's ETag).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use aura_ai_port::{
    AiAssistant, AssistantError, PolicyDraftInput, Suggestion, SuggestionKind, SuggestionQuery,
    SuggestionStatus,
};
use aura_audit::RequestContext;
use aura_gdpr_registers::PolicyKind;
use aura_shared_kernel::{Tenant, TenantScope};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, cursor, parse_id, parse_query},
    routes::params::{Versioned, checked_limit, query_enum, with_etag},
    schemas::{
        ai::{AcceptedBody, SuggestionBody, SuggestionList},
        one_of_or_null,
    },
};

/// What to draft: a policy of `kind` (optionally titled), or a new text for the policy
/// `policy_id` (its kind and title apply).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDraftBody {
    /// privacy_policy, data_protection_policy, retention_policy, breach_response_plan or other.
    #[schema(schema_with = one_of_or_null::<PolicyKind>, example = "privacy_policy")]
    pub kind: Option<PolicyKind>,
    pub title: Option<String>,
    pub policy_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivitySuggestionBody {
    /// The processing in plain language (3–2000 characters).
    #[schema(example = "We send a monthly newsletter to customers who signed up on our website.")]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// A question about the organisation's own records (3–1000 characters).
    #[schema(example = "Which processing activities still miss Art. 30 items?")]
    pub question: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachMeasuresBody {
    /// The breach whose likely consequences and measures to suggest.
    pub breach_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DpiaDraftBody {
    /// The DPIA (a draft) whose Art. 35(7) content to draft.
    pub dpia_id: Uuid,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuggestionParams {
    /// pending, accepted, rejected or acknowledged.
    pub status: Option<String>,
    /// policy_draft, activity_suggestion, answer, breach_measures or dpia_draft.
    pub kind: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// The assistant's side of a call.
impl Caller {
    fn ai(&self) -> &AiAssistant {
        &self.state.ai
    }

    fn tenant(&self) -> &Tenant {
        &self.auth.tenant
    }

    /// One of the assistant's generations (`generate`: draft a policy, suggest an
    /// activity, answer) on the request's `input`: `201` with the pending suggestion
    /// and its `ETag`.
    async fn generate<I>(
        &self,
        generate: impl AsyncFnOnce(
            &AiAssistant,
            &TenantScope,
            &Tenant,
            I,
            &RequestContext,
        ) -> Result<Suggestion, AssistantError>,
        input: I,
    ) -> Result<HttpResponse, ApiError> {
        let suggestion =
            generate(self.ai(), self.scope(), self.tenant(), input, self.ctx()).await?;
        Ok(answered(StatusCode::CREATED, suggestion))
    }
}

/// A suggestion as answered: `status` with its `ETag`.
fn answered(status: StatusCode, suggestion: Suggestion) -> HttpResponse {
    with_etag(
        status,
        suggestion.version,
        &SuggestionBody::from(suggestion),
    )
}

const SUGGESTION_EXAMPLE: &str = r##"{
  "id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
  "tenant_id": "0193a1b2-0000-7000-8000-000000000001",
  "kind": "answer",
  "status": "pending",
  "content": {"type": "answer", "question": "Which activities miss Art. 30 items?", "text": "From your register (3 records consulted):\n\n- **Payroll** (processing activity): missing 30(1)(f) the retention period of a data category is missing\n"},
  "citations": [{"kind": "processing_activity", "id": "0193a1b2-1111-7000-8000-000000000002", "title": "Payroll"}],
  "provenance": {"provider": "offline", "model": "aura-offline-rules-1", "template_version": "offline/question@1", "record_ids": ["0193a1b2-1111-7000-8000-000000000002"], "generated_at": "2026-11-24T10:00:00Z"},
  "created_by": "0193a1b2-2222-7000-8000-000000000003",
  "created_at": "2026-11-24T10:00:00Z",
  "decided_by": null,
  "decided_at": null,
  "version": 1
}"##;

fn example() -> serde_json::Value {
    serde_json::from_str(SUGGESTION_EXAMPLE).unwrap_or_default()
}

/// Drafts a policy from the organisation profile and the register. Stored as a pending
/// suggestion; accepting it adds a draft version.
#[utoipa::path(post, path = "/api/v1/ai/policy-drafts", tag = "ai", security(("bearer" = [])),
    request_body(content = PolicyDraftBody, example = json!({"kind": "privacy_policy", "title": "Privacy notice"})),
    responses(
        (status = 201, body = SuggestionBody, description = "the pending suggestion (kind policy_draft); ETag header", example = json!({"kind": "policy_draft", "status": "pending", "content": {"type": "policy_draft", "policy_id": null, "title": "Privacy notice", "policy_kind": "privacy_policy", "text": "# Privacy notice\n\n## Who we are\n\nAcme GmbH is the controller …"}, "version": 1})),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "role, or the assistant is switched off (`ai_disabled`)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "the tenant's hourly limit; Retry-After"),
        (status = 502, body = Problem, content_type = "application/problem+json", description = "the provider failed (`ai_provider_failed`)"),
        (status = 504, body = Problem, content_type = "application/problem+json", description = "the provider did not answer in time (`ai_provider_timeout`)")))]
pub async fn draft_policy(
    caller: Caller,
    JsonBody(body): JsonBody<PolicyDraftBody>,
) -> Result<HttpResponse, ApiError> {
    let input = PolicyDraftInput {
        kind: body.kind,
        title: body.title,
        policy_id: body.policy_id,
    };
    caller.generate(AiAssistant::draft_policy, input).await
}

/// Suggests the fields of a processing activity from a plain-language description.
/// Accepting it creates the activity as a draft.
#[utoipa::path(post, path = "/api/v1/ai/activity-suggestions", tag = "ai", security(("bearer" = [])),
    request_body = ActivitySuggestionBody,
    responses(
        (status = 201, body = SuggestionBody, description = "the pending suggestion (kind activity_suggestion): `content.fields` are the activity's fields, `content.rationale` why", example = json!({"kind": "activity_suggestion", "status": "pending", "content": {"type": "activity_suggestion", "description": "We send a monthly newsletter …", "fields": {"name": "Newsletter", "purposes": [{"description": "Sending newsletters and product news", "lawful_basis": "consent", "legitimate_interest": null}], "data_subject_categories": ["Newsletter subscribers"], "status": "draft"}, "rationale": "Newsletter: e-mail marketing needs consent …"}, "version": 1})),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 504, body = Problem, content_type = "application/problem+json")))]
pub async fn suggest_activity(
    caller: Caller,
    JsonBody(body): JsonBody<ActivitySuggestionBody>,
) -> Result<HttpResponse, ApiError> {
    caller
        .generate(AiAssistant::suggest_activity, &body.description)
        .await
}

/// Answers a question about the organisation's own compliance state, citing the records
/// it used (only ever the caller's tenant's).
#[utoipa::path(post, path = "/api/v1/ai/ask", tag = "ai", security(("bearer" = [])),
    request_body = AskBody,
    responses(
        (status = 201, body = SuggestionBody, description = "the answer (kind answer) with `citations` and `provenance`", example = json!(example())),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 504, body = Problem, content_type = "application/problem+json")))]
pub async fn ask(
    caller: Caller,
    JsonBody(body): JsonBody<AskBody>,
) -> Result<HttpResponse, ApiError> {
    caller.generate(AiAssistant::ask, &body.question).await
}

/// Suggests a breach's likely consequences (Art. 33(3)(c)) and the measures taken or
/// proposed (Art. 33(3)(d)) from its record and the processing activities and processors
/// it names, citing them. Accepting it writes both into the breach (an update whose audit
/// event names the suggestion), if the breach has not changed since.
#[utoipa::path(post, path = "/api/v1/ai/breach-measures", tag = "ai", security(("bearer" = [])),
    request_body = BreachMeasuresBody,
    responses(
        (status = 201, body = SuggestionBody, description = "the pending suggestion (kind breach_measures): `content.consequences`, `content.measures`, `content.rationale`; `citations` name the breach and the records used", example = json!({"kind": "breach_measures", "status": "pending", "content": {"type": "breach_measures", "breach_id": "0193a1b2-4444-7000-8000-000000000005", "breach_version": 1, "consequences": "- The data may be misused by whoever obtained it: phishing …", "measures": "- Contain the disclosure: revoke access …", "rationale": "From the breach's kinds (confidentiality) …"}, "version": 1})),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "role, or the assistant is switched off (`ai_disabled`)"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such breach in the organisation"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 504, body = Problem, content_type = "application/problem+json")))]
pub async fn suggest_breach_measures(
    caller: Caller,
    JsonBody(body): JsonBody<BreachMeasuresBody>,
) -> Result<HttpResponse, ApiError> {
    caller
        .generate(AiAssistant::suggest_breach_measures, body.breach_id)
        .await
}

/// Drafts a DPIA's Art. 35(7) content from the register: (a) the systematic description
/// of the processing, (b) an assessment of each necessity and proportionality topic and
/// (c) candidate risks, from the activities it covers, their processors and the
/// organisation profile, citing them. Only a draft DPIA is drafted for. Accepting it
/// writes the content into the DPIA (an update whose audit event names the suggestion), if
/// the DPIA has not changed since.
#[utoipa::path(post, path = "/api/v1/ai/dpia-drafts", tag = "ai", security(("bearer" = [])),
    request_body = DpiaDraftBody,
    responses(
        (status = 201, body = SuggestionBody, description = "the pending suggestion (kind dpia_draft): `content.description`, `content.necessity`, `content.risks`, `content.rationale`; `citations` name the DPIA and the records used", example = json!({"kind": "dpia_draft", "status": "pending", "content": {"type": "dpia_draft", "dpia_id": "0193a1b2-5555-7000-8000-000000000006", "dpia_version": 1, "description": "The assessment covers 1 processing activity of the register.\n\n### CCTV on the shop floor …", "necessity": [{"topic": "retention", "assessment": "Retention as recorded: recordings, retention: 72 hours …"}], "risks": [{"source": "An attacker or an unauthorised employee", "event": "illegitimate_access", "impact": "The data of Customers (recordings) is disclosed …", "likelihood": "limited", "severity": "significant", "residual_likelihood": "limited", "residual_severity": "significant"}], "rationale": "From the covered activities (CCTV on the shop floor) …"}, "version": 1})),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "role, or the assistant is switched off (`ai_disabled`)"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such DPIA in the organisation"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the DPIA is not a draft (`dpia_approved`, `dpia_in_review`)"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 504, body = Problem, content_type = "application/problem+json")))]
pub async fn draft_dpia(
    caller: Caller,
    JsonBody(body): JsonBody<DpiaDraftBody>,
) -> Result<HttpResponse, ApiError> {
    caller.generate(AiAssistant::draft_dpia, body.dpia_id).await
}

/// The tenant's suggestions, newest first.
#[utoipa::path(get, path = "/api/v1/ai/suggestions", tag = "ai", security(("bearer" = [])), params(SuggestionParams),
    responses((status = 200, body = SuggestionList, example = json!({"items": [example()], "next_cursor": null})),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_suggestions(req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let p: SuggestionParams = parse_query(&req)?;
    let query = SuggestionQuery {
        status: query_enum::<SuggestionStatus>(p.status.as_deref(), "status")?,
        kind: query_enum::<SuggestionKind>(p.kind.as_deref(), "kind")?,
        after: p.cursor.as_deref().map(cursor::decode_id).transpose()?,
        limit: checked_limit(p.limit)?,
    };
    let page = caller
        .ai()
        .suggestions(caller.scope(), &query, caller.ctx())
        .await?;
    Ok(HttpResponse::Ok().json(SuggestionList {
        items: page.items.into_iter().map(SuggestionBody::from).collect(),
        next_cursor: page.next_cursor.map(cursor::encode_id),
    }))
}

/// One suggestion.
#[utoipa::path(get, path = "/api/v1/ai/suggestions/{id}", tag = "ai", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = SuggestionBody, example = json!(example())), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_suggestion(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "id")?;
    let suggestion = caller
        .ai()
        .suggestion(caller.scope(), id, caller.ctx())
        .await?;
    Ok(answered(StatusCode::OK, suggestion))
}

/// Accepts a pending suggestion: a policy draft becomes a new draft version (of its
/// policy, or of a new draft policy), an activity suggestion a new draft activity, a
/// breach's consequences and measures are written into the breach, a DPIA's drafted
/// content into the DPIA, an answer is acknowledged. The register's audit events name the suggestion (`source`).
#[utoipa::path(post, path = "/api/v1/ai/suggestions/{id}/accept", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "the suggestion's ETag")),
    responses(
        (status = 200, body = AcceptedBody, description = "`{suggestion, applied}`; applied is `{type: policy_version, policy_id, number, policy_created}`, `{type: processing_activity, activity_id}`, `{type: breach, breach_id, version}`, `{type: dpia, dpia_id, version}` or null for answers",
            example = json!({"suggestion": example(), "applied": {"type": "policy_version", "policy_id": "0193a1b2-3333-7000-8000-000000000004", "number": 1, "policy_created": true}})),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`stale_version`, `already_decided`, `target_gone` or `target_changed` (the breach or DPIA changed since the suggestion); a DPIA no longer a draft: `dpia_approved`, `dpia_in_review`"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn accept(
    caller: Caller,
    Versioned { id, expected }: Versioned<Suggestion>,
) -> Result<HttpResponse, ApiError> {
    let id = id.as_uuid();
    let accepted = caller
        .ai()
        .accept(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        accepted.suggestion.version,
        &AcceptedBody::from(accepted),
    ))
}

/// Rejects (dismisses) a pending suggestion; nothing else changes.
#[utoipa::path(post, path = "/api/v1/ai/suggestions/{id}/reject", tag = "ai", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "the suggestion's ETag")),
    responses((status = 200, body = SuggestionBody, description = "the rejected suggestion (`status: rejected`)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reject(
    caller: Caller,
    Versioned { id, expected }: Versioned<Suggestion>,
) -> Result<HttpResponse, ApiError> {
    let id = id.as_uuid();
    let suggestion = caller
        .ai()
        .reject(caller.scope(), id, expected, caller.ctx())
        .await?;
    Ok(answered(StatusCode::OK, suggestion))
}
