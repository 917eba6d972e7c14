//! `/api/v1/reports/packs`: the accountability pack — ask for one (`Idempotency-Key`;
//! built in the background), read where it stands, download the signed ZIP. Owners and
//! admins (the audit trail's readers); another tenant's pack is 404 like an unknown one.

use actix_web::{HttpResponse, http::header, web};
use aura_packs::{Pack, PackStatus, Period};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use aura_shared_kernel::date::iso_date;

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, parse_id},
    routes::reports::{BinaryFile, language},
};

/// What a pack covers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPackBody {
    /// The first day of the period (YYYY-MM-DD, UTC).
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub period_from: Date,
    /// The last day of the period, included.
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub period_to: Date,
    /// The reports' language: en or de (default: the tenant's `language` setting).
    #[serde(default)]
    pub lang: Option<String>,
}

/// A pack and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackBody {
    pub id: Uuid,
    /// queued, ready, failed or expired.
    #[schema(example = "queued")]
    pub status: String,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub period_from: Date,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub period_to: Date,
    #[schema(example = "en")]
    pub lang: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub built_at: Option<OffsetDateTime>,
    /// When the pack's bytes are removed (`PACK_RETENTION_HOURS` after the request).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The ZIP's size in bytes, once ready.
    pub size: Option<u64>,
    /// The ZIP's SHA-256 (hex), once ready.
    pub sha256: Option<String>,
    /// Why the build failed.
    pub failure: Option<String>,
}

impl From<Pack> for PackBody {
    fn from(p: Pack) -> Self {
        Self {
            id: p.id,
            status: p.status.as_str().to_owned(),
            period_from: p.period.from,
            period_to: p.period.to,
            lang: p.language.tag().to_owned(),
            created_at: p.created_at,
            built_at: p.built_at,
            expires_at: p.expires_at,
            size: p.size,
            sha256: p.sha256,
            failure: p.failure,
        }
    }
}

/// Asks for a pack of the period: answered at once with the queued pack; a job builds
/// the ZIP (the register as PDF and CSV, processors with their DPA status, current policy
/// versions, DPIAs, the breach and request registers of the period with the on-time
/// rate, task completion, the audit chain's verification, and `manifest.json` with every
/// file's size and SHA-256 and the chain head, signed in `manifest.sig` with the key
/// published at `/.well-known/jwks.json`). Poll `GET …/packs/{id}` until `ready`.
#[utoipa::path(post, operation_id = "create_accountability_pack", path = "/api/v1/reports/packs", tag = "reports", security(("bearer" = [])),
    request_body = NewPackBody,
    responses((status = 202, body = PackBody), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_pack(
    caller: Caller,
    JsonBody(body): JsonBody<NewPackBody>,
) -> Result<HttpResponse, ApiError> {
    let language = language(&caller, body.lang.as_deref())?;
    let period = Period::new(body.period_from, body.period_to).map_err(ApiError::Validation)?;
    let pack = caller
        .state
        .packs
        .request(caller.scope(), period, language, caller.ctx())
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/reports/packs/{}", pack.id),
        ))
        .json(PackBody::from(pack)))
}

/// Where a pack stands: queued, ready (with its size and SHA-256), failed, or expired
/// (its bytes removed).
#[utoipa::path(get, operation_id = "get_accountability_pack", path = "/api/v1/reports/packs/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PackBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_pack(
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<PackBody>, ApiError> {
    let id = parse_id(&path, "id")?;
    let pack = caller
        .state
        .packs
        .get(caller.scope(), id, caller.ctx())
        .await?;
    Ok(web::Json(pack.into()))
}

/// The ready pack's ZIP, an attachment `accountability-pack-<from>-<to>.zip`; 404 while
/// queued, after a failure and once expired.
#[utoipa::path(get, operation_id = "download_accountability_pack", path = "/api/v1/reports/packs/{id}/content", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BinaryFile, content_type = "application/zip"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pack_content(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "id")?;
    let (pack, bytes) = caller
        .state
        .packs
        .content(caller.scope(), id, caller.ctx())
        .await?;
    debug_assert_eq!(pack.status, PackStatus::Ready);
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"accountability-pack-{}-{}.zip\"",
                pack.period.from, pack.period.to
            ),
        ))
        .body(bytes))
}
