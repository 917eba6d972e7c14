//! The GDPR registers over HTTP. Optimistic concurrency through `ETag` / `If-Match`:
//! every record answers with `ETag: "<version>"`; `PUT` and `DELETE` must send
//! `If-Match: "<version>"` (428 without it, 409 when it is stale).
//!
//! The list, create, get, replace and delete routes of the kernel registers (activities,
//! processors, policies) are documented here by functions without a body of their own:
//! their handlers are the kernel's generic ones (`routes::records`), named for each path
//! in `routes::table()`; what each register adds is its `RecordRoutes` impl below.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use aura_gdpr_registers::{
    Activities, ActivityFilter, ActivityRole, ActivityStatus, DpaStatus, LawfulBasis, Policies,
    PolicyFilter, PolicyKind, PolicyStatus, PolicyVersion, ProcessorFilter, Processors, RecordKind,
    Registers, VersionStatus, to_csv,
};
use aura_records::{Id, ListQuery, RecordUseCases};
use aura_shared_kernel::UserId;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    error::{ApiError, Problem},
    extract::{Caller, JsonBody, parse_query},
    routes::{
        exports::{Requested, attachment},
        params::{if_match, list_query, query_enum, query_id, query_text, typed_id, with_etag},
        records::{RecordApi, RecordRoutes},
        reports::{self, BinaryFile},
    },
    schemas::registers::{
        ActivityBody, ActivityFieldsBody, ActivityList, CompletenessBody, OrganisationBody,
        OrganisationProfileBody, PolicyBody, PolicyFieldsBody, PolicyList, PolicyVersionBody,
        PolicyVersionList, ProcessorBody, ProcessorFieldsBody, ProcessorList, RegisterExportBody,
    },
    state::ApiState,
};

/// The registers on behalf of the caller.
impl Caller {
    fn registers(&self) -> &Registers {
        &self.state.registers
    }
}

// ------------------------------------------------------------------ organisation

/// The organisation profile (controller details, Art. 30(1)(a)); 404 until first saved.
#[utoipa::path(get, path = "/api/v1/organisation", tag = "registers", security(("bearer" = [])),
    responses((status = 200, body = OrganisationBody, description = "the profile with `version`; ETag header"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_organisation(caller: Caller) -> Result<HttpResponse, ApiError> {
    let stored = caller
        .registers()
        .organisation(caller.scope(), caller.ctx())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(with_etag(
        StatusCode::OK,
        stored.version,
        &OrganisationBody::from(stored),
    ))
}

/// Saves the organisation profile. The first save sends `If-Match: "0"`.
#[utoipa::path(put, path = "/api/v1/organisation", tag = "registers", security(("bearer" = [])),
    params(("If-Match" = String, Header, description = "the ETag you read, \"0\" for the first save")),
    request_body = OrganisationProfileBody,
    responses((status = 200, body = OrganisationBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn put_organisation(
    req: HttpRequest,
    caller: Caller,
    JsonBody(profile): JsonBody<OrganisationProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let stored = caller
        .registers()
        .put_organisation(caller.scope(), profile.into(), expected, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        stored.version,
        &OrganisationBody::from(stored),
    ))
}

// ------------------------------------------------------------------ activities

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityParams {
    /// draft, active or retired.
    pub status: Option<String>,
    /// controller, joint_controller or processor.
    pub role: Option<String>,
    /// The owning user's id.
    pub owner: Option<String>,
    /// consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests.
    pub lawful_basis: Option<String>,
    /// Activities linked to this processor id.
    pub processor: Option<String>,
    /// Text search in the name.
    pub q: Option<String>,
    /// created_at (default), -created_at, name, -name, -updated_at.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Processing activities with what each record still lacks (`missing`).
#[utoipa::path(get, path = "/api/v1/processing-activities", tag = "registers", security(("bearer" = [])), params(ActivityParams),
    responses((status = 200, body = ActivityList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub fn list_activities() {}

/// Adds a processing activity.
#[utoipa::path(post, path = "/api/v1/processing-activities", tag = "registers", security(("bearer" = [])),
    request_body = ActivityFieldsBody,
    responses((status = 201, body = ActivityBody), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_activity() {}

/// One activity with its missing Art. 30 items.
#[utoipa::path(get, path = "/api/v1/processing-activities/{id}", tag = "registers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ActivityBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_activity() {}

/// Replaces an activity's fields (send all of them) at the version named by `If-Match`.
#[utoipa::path(put, path = "/api/v1/processing-activities/{id}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = ActivityFieldsBody,
    responses((status = 200, body = ActivityBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_activity() {}

/// Deletes an activity (admins and owners).
#[utoipa::path(delete, path = "/api/v1/processing-activities/{id}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub fn delete_activity() {}

/// How complete the register is: activities complete/incomplete and gaps per Art. 30 item.
#[utoipa::path(get, path = "/api/v1/processing-activities/completeness", tag = "registers", security(("bearer" = [])),
    responses((status = 200, body = CompletenessBody)))]
pub async fn completeness(caller: Caller) -> Result<HttpResponse, ApiError> {
    let summary = caller
        .registers()
        .completeness(caller.scope(), caller.ctx())
        .await?;
    Ok(HttpResponse::Ok().json(CompletenessBody::from(summary)))
}

// ------------------------------------------------------------------ processors

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProcessorParams {
    /// none, draft or signed.
    pub dpa_status: Option<String>,
    /// Only processors whose DPA is missing, unsigned or due for review within this many days.
    pub dpa_due_within_days: Option<u16>,
    /// Sub-processors of this processor id.
    pub parent: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Processors and sub-processors (Art. 28).
#[utoipa::path(get, path = "/api/v1/processors", tag = "registers", security(("bearer" = [])), params(ProcessorParams),
    responses((status = 200, body = ProcessorList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub fn list_processors() {}

/// Adds a processor.
#[utoipa::path(post, path = "/api/v1/processors", tag = "registers", security(("bearer" = [])),
    request_body = ProcessorFieldsBody,
    responses((status = 201, body = ProcessorBody), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_processor() {}

#[utoipa::path(get, path = "/api/v1/processors/{id}", tag = "registers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ProcessorBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_processor() {}

#[utoipa::path(put, path = "/api/v1/processors/{id}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = ProcessorFieldsBody,
    responses((status = 200, body = ProcessorBody), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_processor() {}

/// Deletes a processor that no activity and no sub-processor uses (admins and owners).
#[utoipa::path(delete, path = "/api/v1/processors/{id}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub fn delete_processor() {}

// ------------------------------------------------------------------ policies

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PolicyParams {
    /// privacy_policy, data_protection_policy, retention_policy, breach_response_plan, other.
    pub kind: Option<String>,
    /// draft, active or retired.
    pub status: Option<String>,
    pub owner: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/policies", tag = "registers", security(("bearer" = [])), params(PolicyParams),
    responses((status = 200, body = PolicyList)))]
pub fn list_policies() {}

#[utoipa::path(post, path = "/api/v1/policies", tag = "registers", security(("bearer" = [])),
    request_body = PolicyFieldsBody,
    responses((status = 201, body = PolicyBody), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_policy() {}

#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "registers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PolicyBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_policy() {}

#[utoipa::path(put, path = "/api/v1/policies/{id}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = PolicyFieldsBody,
    responses((status = 200, body = PolicyBody), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_policy() {}

#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub fn delete_policy() {}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersionBody {
    /// The policy text (Markdown).
    pub content: String,
    pub change_note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditVersionBody {
    pub content: String,
}

/// A policy's versions, newest first.
#[utoipa::path(get, path = "/api/v1/policies/{id}/versions", tag = "registers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PolicyVersionList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_versions(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let versions = caller
        .registers()
        .versions(caller.scope(), typed_id(&path)?, caller.ctx())
        .await?;
    Ok(HttpResponse::Ok().json(PolicyVersionList {
        items: versions.into_iter().map(Into::into).collect(),
    }))
}

/// Adds a draft version with the next number.
#[utoipa::path(post, path = "/api/v1/policies/{id}/versions", tag = "registers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = NewVersionBody,
    responses((status = 201, body = PolicyVersionBody), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_version(
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NewVersionBody>,
) -> Result<HttpResponse, ApiError> {
    let version = caller
        .registers()
        .create_version(
            caller.scope(),
            typed_id(&path)?,
            &body.content,
            body.change_note.as_deref(),
            caller.ctx(),
        )
        .await?;
    Ok(version_answer(StatusCode::CREATED, version))
}

/// The published version of a policy.
#[utoipa::path(get, path = "/api/v1/policies/{id}/versions/current", tag = "registers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PolicyVersionBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn current_version(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let version = caller
        .registers()
        .current_version(caller.scope(), typed_id(&path)?, caller.ctx())
        .await?;
    Ok(version_answer(StatusCode::OK, version))
}

/// A policy version with its `ETag`.
fn version_answer(status: StatusCode, version: PolicyVersion) -> HttpResponse {
    with_etag(status, version.version, &PolicyVersionBody::from(version))
}

pub(crate) fn version_number(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_id",
            Some("number"),
            "must be a version number (1, 2, …)",
        )
    })
}

#[utoipa::path(get, path = "/api/v1/policies/{id}/versions/{number}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i32, Path)),
    responses((status = 200, body = PolicyVersionBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_version(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let version = caller
        .registers()
        .version(
            caller.scope(),
            typed_id(&id)?,
            version_number(&number)?,
            caller.ctx(),
        )
        .await?;
    Ok(version_answer(StatusCode::OK, version))
}

/// Changes the text of a draft or in-review version (published versions never change).
#[utoipa::path(put, path = "/api/v1/policies/{id}/versions/{number}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i32, Path), ("If-Match" = String, Header)), request_body = EditVersionBody,
    responses((status = 200, body = PolicyVersionBody), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn edit_version(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<EditVersionBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let expected = if_match(&req)?;
    let version = caller
        .registers()
        .edit_version(
            caller.scope(),
            typed_id(&id)?,
            version_number(&number)?,
            &body.content,
            expected,
            caller.ctx(),
        )
        .await?;
    Ok(version_answer(StatusCode::OK, version))
}

/// Moves a version: `submit` (draft → in_review), `withdraw` (in_review → draft),
/// `publish` (in_review → published, admins and owners; records the approver and retires
/// the previous published version), `retire` (published → retired, admins and owners).
#[utoipa::path(post, path = "/api/v1/policies/{id}/versions/{number}/{action}", tag = "registers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i32, Path), ("action" = String, Path, description = "submit | withdraw | publish | retire"), ("If-Match" = String, Header)),
    responses((status = 200, body = PolicyVersionBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn transition_version(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number, action) = path.into_inner();
    let next = match action.as_str() {
        "submit" => VersionStatus::InReview,
        "withdraw" => VersionStatus::Draft,
        "publish" => VersionStatus::Published,
        "retire" => VersionStatus::Retired,
        _ => return Err(ApiError::NotFound),
    };
    let expected = if_match(&req)?;
    let version = caller
        .registers()
        .transition_version(
            caller.scope(),
            typed_id(&id)?,
            version_number(&number)?,
            next,
            expected,
            caller.ctx(),
        )
        .await?;
    Ok(version_answer(StatusCode::OK, version))
}

// ------------------------------------------------------------------ the kernel registers

impl RecordRoutes for Activities {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.registers.activity_records()
    }
}

impl RecordApi for Activities {
    type Request = ActivityFieldsBody;
    type Params = ActivityParams;

    fn list_query(
        p: ActivityParams,
        caller: &Caller,
    ) -> Result<ListQuery<ActivityFilter>, ApiError> {
        let filter = ActivityFilter {
            status: query_enum::<ActivityStatus>(p.status.as_deref(), "status")?,
            role: query_enum::<ActivityRole>(p.role.as_deref(), "role")?,
            owner: query_id(p.owner.as_deref(), "owner")?.map(UserId::from_uuid),
            lawful_basis: query_enum::<LawfulBasis>(p.lawful_basis.as_deref(), "lawful_basis")?,
            processor: query_id(p.processor.as_deref(), "processor")?.map(Id::from_uuid),
            search: query_text(p.q, "q")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

impl RecordRoutes for Processors {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.registers.processor_records()
    }
}

impl RecordApi for Processors {
    type Request = ProcessorFieldsBody;
    type Params = ProcessorParams;

    fn list_query(
        p: ProcessorParams,
        caller: &Caller,
    ) -> Result<ListQuery<ProcessorFilter>, ApiError> {
        if p.dpa_due_within_days.is_some_and(|d| d > 3650) {
            return Err(ApiError::bad_request(
                "invalid_query",
                Some("dpa_due_within_days"),
                "must be at most 3650",
            ));
        }
        let filter = ProcessorFilter {
            dpa_status: query_enum::<DpaStatus>(p.dpa_status.as_deref(), "dpa_status")?,
            dpa_attention_by: p
                .dpa_due_within_days
                .map(|d| caller.state.registers.attention_date(i64::from(d))),
            parent: query_id(p.parent.as_deref(), "parent")?.map(Id::from_uuid),
            search: query_text(p.q, "q")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

impl RecordRoutes for Policies {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.registers.policy_records()
    }
}

impl RecordApi for Policies {
    type Request = PolicyFieldsBody;
    type Params = PolicyParams;

    fn list_query(p: PolicyParams, caller: &Caller) -> Result<ListQuery<PolicyFilter>, ApiError> {
        let filter = PolicyFilter {
            kind: query_enum::<PolicyKind>(p.kind.as_deref(), "kind")?,
            status: query_enum::<PolicyStatus>(p.status.as_deref(), "status")?,
            owner: query_id(p.owner.as_deref(), "owner")?.map(UserId::from_uuid),
            search: query_text(p.q, "q")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

// ------------------------------------------------------------------ export

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// json (default), csv, pdf or xlsx.
    pub format: Option<String>,
    /// controller (Art. 30(1), default) or processor (Art. 30(2)).
    pub record: Option<String>,
    /// The language of a pdf or xlsx: en or de (default: the tenant's `language` setting).
    #[param(pattern = "^(en|de)$")]
    pub lang: Option<String>,
}

/// The record for the supervisory authority (Art. 30(4)), with linked processors and the
/// organisation profile: JSON, CSV with one row per activity, a PDF document (cover with
/// the organisation profile, one section per activity with every Art. 30 item, annexes of
/// processors and of gaps; page numbers, the generation time and the audit-chain head in
/// the footer) or an XLSX workbook (the CSV's rows with typed dates, the processors, and
/// the breaches, data-subject requests, DPIAs and tasks).
#[utoipa::path(get, path = "/api/v1/registers/export", tag = "registers", security(("bearer" = [])), params(ExportParams),
    responses((status = 200, description = "the record as JSON (default), as CSV with one row per activity, as a PDF document or as an XLSX workbook",
        content((RegisterExportBody = "application/json"), (String = "text/csv"), (BinaryFile = "application/pdf"),
            (BinaryFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn export(req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let p: ExportParams = parse_query(&req)?;
    let kind =
        query_enum::<RecordKind>(p.record.as_deref(), "record")?.unwrap_or(RecordKind::Controller);
    let requested = Requested::parse(p.format.as_deref())?;
    let language = reports::language(&caller, p.lang.as_deref())?;
    let export = caller
        .registers()
        .export(caller.scope(), kind, caller.ctx())
        .await?;
    let name = format!("ropa-{kind}");
    let format = match requested {
        Requested::File(document) => {
            return reports::register_file(&caller, export, document, language, &name).await;
        }
        Requested::Data(format) => format,
    };
    let generated_on = export.generated_at.date();
    Ok(attachment::<_, RegisterExportBody>(
        format,
        &name,
        generated_on,
        export,
        to_csv,
    ))
}
