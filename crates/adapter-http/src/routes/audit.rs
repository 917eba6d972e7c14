use actix_web::{HttpRequest, web};
use aura_audit::{AuditQuery, ChainHash, Checkpoint};
use aura_shared_kernel::{TenantId, UserId};
use serde::Deserialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::IntoParams;

use crate::{
    dto::{
        AuditErasureBody, AuditErasureReport, AuditEventBody, AuditEventList, ChainReport,
        CheckpointBody, VerifyAgainstBody,
    },
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, cursor, parse_id, parse_query},
    routes::params::{checked_limit, ordered, query_text},
};

/// Filters of the audit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// The acting user's id.
    pub actor: Option<String>,
    /// e.g. `user.login_failed`.
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Events before this time (RFC 3339).
    pub to: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// The trail is for owners and admins; a refusal is audited like any other.
async fn may_read_audit(caller: &Caller) -> Result<(), ApiError> {
    let permission = aura_shared_kernel::Permission::ReadAudit;
    let admin = &caller.state.identity.admin;
    Ok(admin
        .require(caller.scope(), permission, caller.ctx())
        .await?)
}

fn parse_time(raw: Option<&str>, field: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|s| {
        OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                Some(field),
                "must be an RFC 3339 timestamp (2026-01-31T12:00:00Z)",
            )
        })
    })
    .transpose()
}

/// The tenant's audit trail, newest first (owners and admins).
#[utoipa::path(get, operation_id = "list_audit_events", path = "/api/v1/audit-events", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditEventList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(req: HttpRequest, caller: Caller) -> Result<web::Json<AuditEventList>, ApiError> {
    let params: AuditParams = parse_query(&req)?;
    let (from, to) = ordered(
        parse_time(params.from.as_deref(), "from")?,
        parse_time(params.to.as_deref(), "to")?,
    )?;
    let query = AuditQuery {
        actor: params
            .actor
            .as_deref()
            .map(|a| parse_id(a, "actor").map(UserId::from_uuid))
            .transpose()?,
        action: query_text(params.action, "action")?,
        entity_type: query_text(params.entity_type, "entity_type")?,
        entity_id: query_text(params.entity_id, "entity_id")?,
        from,
        to,
        before_seq: params
            .cursor
            .as_deref()
            .map(cursor::decode_seq)
            .transpose()?,
        limit: checked_limit(params.limit)?,
    };
    may_read_audit(&caller).await?;
    let page = caller.state.audit.list(caller.scope(), &query).await?;
    Ok(web::Json(AuditEventList {
        items: page.items.into_iter().map(AuditEventBody::from).collect(),
        next_cursor: page.next_cursor.map(cursor::encode_seq),
    }))
}

/// Recomputes the tenant's hash chain and reports every broken link; an intact chain's
/// report carries a signed checkpoint of its head.
#[utoipa::path(get, operation_id = "verify_audit_chain", path = "/api/v1/audit-events/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = ChainReport), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn verify(caller: Caller) -> Result<web::Json<ChainReport>, ApiError> {
    may_read_audit(&caller).await?;
    let report = caller.state.audit.verify(caller.scope()).await?;
    Ok(web::Json(report.into()))
}

/// Checkpoints one request may compare.
const MAX_CHECKPOINTS: usize = 100;

/// Verifies the chain as `GET …/verify` does and compares it with checkpoints published
/// earlier: events removed from the end together with the stored head, or rewritten
/// events, fall short of them. A checkpoint this service did not sign for the tenant is
/// reported as a broken link, never trusted.
#[utoipa::path(post, operation_id = "verify_audit_chain_against", path = "/api/v1/audit-events/verify", tag = "audit", security(("bearer" = [])),
    request_body = VerifyAgainstBody,
    responses((status = 200, body = ChainReport), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn verify_against(
    caller: Caller,
    JsonBody(body): JsonBody<VerifyAgainstBody>,
) -> Result<web::Json<ChainReport>, ApiError> {
    // The permission first: a caller who may not read the trail learns nothing of the
    // body's rules, and the denial is audited.
    may_read_audit(&caller).await?;
    if body.checkpoints.len() > MAX_CHECKPOINTS {
        return Err(ApiError::bad_request(
            "invalid_body",
            Some("checkpoints"),
            format!("at most {MAX_CHECKPOINTS} checkpoints"),
        ));
    }
    let checkpoints = body
        .checkpoints
        .into_iter()
        .enumerate()
        .map(|(i, c)| checkpoint(i, c))
        .collect::<Result<Vec<_>, _>>()?;
    let report = caller
        .state
        .audit
        .verify_against(caller.scope(), &checkpoints)
        .await?;
    Ok(web::Json(report.into()))
}

fn checkpoint(index: usize, body: CheckpointBody) -> Result<Checkpoint, ApiError> {
    let hex = |value: &str, name: &str| {
        ChainHash::from_hex(value).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_body",
                Some(&format!("checkpoints[{index}].{name}")),
                "must be 64 hex digits",
            )
        })
    };
    Ok(Checkpoint {
        tenant_id: TenantId::from_uuid(body.tenant_id),
        seq: body.seq,
        hash: hex(&body.hash, "hash")?,
        sealed_at: body.sealed_at,
        signature: hex(&body.signature, "signature")?,
    })
}

/// Erasure in the audit trail: makes the personal values (client addresses, user
/// agents, names) of every event the user caused or that is about the user unreadable.
/// The chain keeps their salted digests and still verifies. Owners only.
#[utoipa::path(post, operation_id = "erase_audit_personal_values", path = "/api/v1/audit-events/erasures", tag = "audit", security(("bearer" = [])),
    request_body = AuditErasureBody,
    responses((status = 200, body = AuditErasureReport), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn erase(
    caller: Caller,
    JsonBody(body): JsonBody<AuditErasureBody>,
) -> Result<web::Json<AuditErasureReport>, ApiError> {
    let events = caller
        .state
        .audit
        .erase_user(
            caller.scope(),
            UserId::from_uuid(body.user_id),
            caller.ctx(),
        )
        .await?;
    Ok(web::Json(AuditErasureReport { events }))
}
