//! `/api/v1/documents`: the kernel's list, create (`Idempotency-Key`), read and replace
//! (`If-Match`) of a document's metadata; its versions: upload as a raw body (streamed in
//! chunks, `Content-Length` checked against `MAX_UPLOAD_BYTES` before a byte is read, the
//! media type against the file's magic bytes, an optional `Repr-Digest` against the
//! content), list, download (streamed, `Range`), verify; and the removal of the content
//! (admins and owners, never under legal hold; the metadata and audit events stay).
//! Members write, viewers read.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use aura_documents::{
    ByteRange, ContentReader, DocumentError, DocumentFilter, DocumentKind, DocumentService,
    Documents, MediaType, Upload,
    content::clean_file_name,
    parse_range,
    ports::{ChunkSource, SourceError},
};
use aura_records::{ListQuery, RecordUseCases};
use aura_shared_kernel::ValidationErrors;
use base64::Engine;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{
    IntoParams, PartialSchema, ToSchema,
    openapi::{
        ObjectBuilder, RefOr, Schema,
        schema::{KnownFormat, SchemaFormat, Type},
    },
};

use crate::{
    error::{ApiError, Problem},
    extract::Caller,
    extract::JsonBody,
    request::declared_length,
    routes::{
        params::{Versioned, list_query, query_enum, query_id, typed_id, with_etag},
        records::{RecordApi, RecordRoutes},
        tasks::query_date,
    },
    schemas::{
        documents::{
            DocumentBody, DocumentFieldsBody, DocumentList, VerificationBody, VersionBody,
            VersionList,
        },
        record::RecordBody,
    },
    state::ApiState,
};

/// A file's bytes (`format: binary`): the body of an upload and a download.
pub struct FileContent;

impl PartialSchema for FileContent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The file's bytes, as stored."))
            .into()
    }
}

impl ToSchema for FileContent {}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentParams {
    /// One of the document kinds (dpa, scc, …).
    pub kind: Option<String>,
    /// Only documents whose retention date is before this day (YYYY-MM-DD): past retention.
    pub retention_before: Option<String>,
    /// Only documents linked to this record (an activity, processor, policy, task, breach,
    /// request or DPIA id).
    pub linked_to: Option<String>,
    /// created_at (default), -created_at, -updated_at, name (the title), -name, due_on
    /// (by the retention date, undated last), -due_on.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Documents and evidence (signed DPAs, SCCs, DPIA reports, breach evidence, answers to
/// requests, certificates, letters from the authority).
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents", security(("bearer" = [])), params(DocumentParams),
    responses((status = 200, body = DocumentList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub fn list_documents() {}

/// Creates a document's metadata; upload its content as a version afterwards. A link to
/// a record that is not the organisation's (or an owner who is not its user) is 404
/// naming the field, e.g. `processor_ids[0]`.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents", security(("bearer" = [])),
    request_body = DocumentFieldsBody,
    responses((status = 201, body = DocumentBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub fn create_document() {}

/// `POST /documents`: the kernel's create, with foreign links answered 404.
pub(crate) async fn create(
    caller: Caller,
    JsonBody(body): JsonBody<DocumentFieldsBody>,
) -> Result<HttpResponse, ApiError> {
    let document = (caller.documents())
        .create(caller.scope(), body.into(), caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::CREATED,
        document.version,
        &RecordBody::from(document),
    ))
}

/// `PUT /documents/{id}`: the kernel's replace at `If-Match`, with foreign links
/// answered 404.
pub(crate) async fn replace(
    caller: Caller,
    JsonBody(body): JsonBody<DocumentFieldsBody>,
    target: Versioned<Documents>,
) -> Result<HttpResponse, ApiError> {
    let Versioned { id, expected } = target;
    let document = (caller.documents())
        .update(caller.scope(), id, body.into(), expected, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        document.version,
        &RecordBody::from(document),
    ))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = DocumentBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub fn get_document() {}

/// Replaces what a user edits (send all).
#[utoipa::path(put, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = DocumentFieldsBody,
    responses((status = 200, body = DocumentBody), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub fn update_document() {}

impl RecordRoutes for Documents {
    fn use_cases(state: &ApiState) -> &RecordUseCases<Self> {
        state.documents.records()
    }
}

impl RecordApi for Documents {
    type Request = DocumentFieldsBody;
    type Params = DocumentParams;

    fn list_query(
        p: DocumentParams,
        caller: &Caller,
    ) -> Result<ListQuery<DocumentFilter>, ApiError> {
        let filter = DocumentFilter {
            kind: query_enum::<DocumentKind>(p.kind.as_deref(), "kind")?,
            retention_before: query_date(p.retention_before.as_deref(), "retention_before")?,
            linked_to: query_id(p.linked_to.as_deref(), "linked_to")?,
        };
        list_query(filter, p.sort, p.cursor, p.limit, caller.cursors())
    }
}

impl From<DocumentError> for ApiError {
    fn from(error: DocumentError) -> Self {
        match error {
            DocumentError::UseCase(e) => e.into(),
            DocumentError::TooLarge { limit } => ApiError::PayloadTooLarge {
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            },
            DocumentError::QuotaExceeded { .. } => ApiError::Conflict {
                code: "storage_quota_exceeded",
                field: Some("Content-Length"),
                message: "the organisation's document storage quota would be exceeded; remove content or ask the operator for more",
            },
            DocumentError::Incomplete => ApiError::bad_request(
                "incomplete_body",
                Some("Content-Length"),
                "the body did not carry exactly Content-Length bytes; nothing was stored",
            ),
            DocumentError::LegalHold => ApiError::Conflict {
                code: "legal_hold",
                field: Some("legal_hold"),
                message: "the document is under legal hold; lift the hold before removing its content",
            },
            DocumentError::ContentRemoved => ApiError::Conflict {
                code: "content_removed",
                field: None,
                message: "this version's content was removed; its metadata and audit events stay",
            },
            DocumentError::UploadExpired => ApiError::Conflict {
                code: "upload_expired",
                field: None,
                message: "the upload took too long and was discarded; nothing was stored; send it again",
            },
            DocumentError::UnknownLinks(errors) => ApiError::UnknownReferences(errors),
        }
    }
}

impl Caller {
    fn documents(&self) -> &DocumentService {
        &self.state.documents
    }
}

/// The `{number}` of a version's path.
fn version_number(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_path",
            Some("number"),
            "must be a version number, from 1",
        )
    })
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `Repr-Digest: sha-256=:<base64>:` (RFC 9530) as lowercase hex; other algorithms are
/// ignored, a malformed SHA-256 is named.
fn declared_sha256(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = header(req, "Repr-Digest") else {
        return Ok(None);
    };
    let refusal = || {
        ApiError::Validation(ValidationErrors::single(
            "Repr-Digest",
            "must be sha-256=:<base64 of the 32-byte SHA-256>:",
        ))
    };
    for member in raw.split(',') {
        let Some((name, value)) = member.trim().split_once('=') else {
            return Err(refusal());
        };
        if !name.trim().eq_ignore_ascii_case("sha-256") {
            continue;
        }
        let inner = (value.trim().strip_prefix(':'))
            .and_then(|v| v.strip_suffix(':'))
            .ok_or_else(refusal)?;
        let bytes =
            (base64::engine::general_purpose::STANDARD.decode(inner)).map_err(|_| refusal())?;
        if bytes.len() != 32 {
            return Err(refusal());
        }
        return Ok(Some(bytes.iter().map(|b| format!("{b:02x}")).collect()));
    }
    Ok(None)
}

/// The request body, piece by piece as it arrives.
struct PayloadSource(web::Payload);

#[async_trait::async_trait(?Send)]
impl ChunkSource for PayloadSource {
    async fn next(&mut self) -> Option<Result<Vec<u8>, SourceError>> {
        let piece = self.0.next().await?;
        Some(
            piece
                .map(|bytes| bytes.to_vec())
                .map_err(|_| SourceError::Interrupted),
        )
    }
}

/// Uploads a new version of the document's content as the raw body: `Content-Type` one
/// of the allowed media types (checked against the file's own first bytes: 422 naming
/// `Content-Type`), `Content-Length` required and at most `MAX_UPLOAD_BYTES` (413 before
/// reading), `X-File-Name` the original name, an optional `Repr-Digest: sha-256=:…:`
/// checked against the content (422 naming `Repr-Digest`). A body that stops early
/// stores nothing. The SHA-256 goes into the upload's audit event.
#[utoipa::path(post, operation_id = "upload_document_version", path = "/api/v1/documents/{id}/versions", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("X-File-Name" = String, Header, description = "The original file name (ASCII; percent-encoded UTF-8 is decoded)"),
        ("Repr-Digest" = Option<String>, Header, description = "sha-256=:<base64>: of the content (RFC 9530)")),
    request_body(content = FileContent, content_type = "application/octet-stream",
        description = "The file's bytes, sent with its own media type: application/pdf, DOCX, XLSX, ODT, image/png, image/jpeg, text/plain or message/rfc822"),
    responses((status = 201, body = VersionBody), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn upload(
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = typed_id(&id)?;
    // Without Content-Length and without a transfer coding the body is empty (RFC 9112
    // 6.3); a chunked body of unknown size is refused: the size is checked first.
    let length = match declared_length(&req) {
        Some(length) => length,
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            return Err(ApiError::bad_request(
                "length_required",
                Some("Content-Length"),
                "send Content-Length: the size is checked before the upload is read",
            ));
        }
        None => 0,
    };
    let limit = caller.documents().limits().max_upload_bytes;
    if length as u64 > limit {
        return Err(DocumentError::TooLarge { limit }.into());
    }
    let media_type = MediaType::from_header(header(&req, "Content-Type").unwrap_or(""))?;
    let raw_name = header(&req, "X-File-Name").unwrap_or("document");
    let decoded = percent_decode(raw_name);
    let upload = Upload {
        file_name: clean_file_name(&decoded),
        media_type,
        length: length as u64,
        sha256: declared_sha256(&req)?,
    };
    let mut source = PayloadSource(payload);
    let version = (caller.documents())
        .upload(caller.scope(), id, upload, &mut source, caller.ctx())
        .await?;
    Ok(HttpResponse::Created().json(VersionBody::from(version)))
}

/// `%XX` sequences decoded as UTF-8 (lossy); anything else as sent.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The document's versions, oldest first.
#[utoipa::path(get, operation_id = "list_document_versions", path = "/api/v1/documents/{id}/versions", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = VersionList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn versions(
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let versions = (caller.documents())
        .versions(caller.scope(), typed_id(&id)?, caller.ctx())
        .await?;
    Ok(HttpResponse::Ok().json(VersionList {
        items: versions.into_iter().map(Into::into).collect(),
    }))
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the exact name as
/// RFC 8187 `filename*` (UTF-8, percent-encoded): no quote, backslash or control
/// character of the stored name reaches the header.
fn disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The plaintext of `range` (all of the file without one), chunk by chunk; `first` is the
/// range's first chunk, already read (see [`download`]).
fn content_stream(
    reader: ContentReader,
    range: Option<ByteRange>,
    first: Option<Vec<u8>>,
) -> impl futures_util::Stream<Item = Result<web::Bytes, ApiError>> + 'static {
    let size = reader.meta.size;
    let range = whole_or(range, size);
    let chunks = if size == 0 { 0..=0 } else { range.chunks() };
    let empty = size == 0;
    futures_util::stream::unfold(
        (reader, *chunks.start(), *chunks.end(), empty, first),
        move |(reader, index, last, empty, first)| async move {
            if index > last || empty {
                return None;
            }
            let read = match first {
                Some(plain) => Ok(plain),
                None => reader.chunk(index).await,
            };
            let piece = match read {
                Ok(plain) => {
                    let start = u64::from(index) * aura_documents::CHUNK_SIZE as u64;
                    let from = range.first.saturating_sub(start) as usize;
                    let to = ((range.last + 1).saturating_sub(start) as usize).min(plain.len());
                    Ok(web::Bytes::copy_from_slice(&plain[from.min(to)..to]))
                }
                Err(error) => Err(ApiError::from(error)),
            };
            Some((piece, (reader, index + 1, last, empty, None)))
        },
    )
}

/// `range`, or the whole file of `size` bytes.
fn whole_or(range: Option<ByteRange>, size: u64) -> ByteRange {
    range.unwrap_or(ByteRange {
        first: 0,
        last: size.saturating_sub(1),
    })
}

/// Downloads a version's content, streamed, with its stored media type,
/// `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and one byte
/// `Range` (206; 416 when unsatisfiable).
#[utoipa::path(get, operation_id = "download_document_version", path = "/api/v1/documents/{id}/versions/{number}/content", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i32, Path), ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023")),
    responses((status = 200, body = FileContent, content_type = "application/octet-stream", description = "The content, with its stored media type"),
        (status = 206, body = FileContent, content_type = "application/octet-stream", description = "The range asked for"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 416, body = Problem, content_type = "application/problem+json", description = "The range lies outside the file")))]
pub(crate) async fn download(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let (id, number) = (typed_id(&id)?, version_number(&number)?);
    let reader = (caller.documents())
        .open(caller.scope(), id, Some(number), caller.ctx())
        .await?;
    let meta = reader.meta.clone();
    let Ok(range) = parse_range(header(&req, "Range"), meta.size) else {
        let problem = Problem {
            kind: "urn:aura:problem:range_not_satisfiable".to_owned(),
            title: "Range Not Satisfiable".to_owned(),
            status: 416,
            detail: format!("the range lies outside the file of {} bytes", meta.size),
            code: "range_not_satisfiable".to_owned(),
            request_id: None,
            errors: Vec::new(),
        };
        return Ok(HttpResponse::RangeNotSatisfiable()
            .insert_header((header::CONTENT_RANGE, format!("bytes */{}", meta.size)))
            .content_type("application/problem+json")
            .json(problem));
    };
    // The first chunk is read (and opened) before the status line goes out, so content
    // that cannot be read (a chunk that does not open under this instance's key) is an
    // error answer, not a 200 whose body breaks off. A later chunk failing still cuts
    // the body short: the client sees a short read against Content-Length.
    let first = if meta.size == 0 {
        None
    } else {
        Some(
            reader
                .chunk(*whole_or(range, meta.size).chunks().start())
                .await?,
        )
    };
    let mut response = match range {
        Some(r) => {
            let mut partial = HttpResponse::PartialContent();
            partial.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{}", r.first, r.last, meta.size),
            ));
            partial.no_chunking(r.len());
            partial
        }
        None => {
            let mut whole = HttpResponse::Ok();
            whole.no_chunking(meta.size);
            whole
        }
    };
    Ok(response
        .insert_header((header::CONTENT_TYPE, meta.media_type.as_str()))
        .insert_header((header::CONTENT_DISPOSITION, disposition(&meta.file_name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, format!("\"{}\"", meta.sha256)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(content_stream(reader, range, first)))
}

/// Re-reads a version's content and compares its SHA-256 with the one stored at upload
/// (and in the upload's audit event, which the audit chain's verify covers).
#[utoipa::path(post, operation_id = "verify_document_version", path = "/api/v1/documents/{id}/versions/{number}/verify", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i32, Path)),
    responses((status = 200, body = VerificationBody), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn verify(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let (id, number) = (typed_id(&id)?, version_number(&number)?);
    let verification = (caller.documents())
        .verify(caller.scope(), id, Some(number), caller.ctx())
        .await?;
    Ok(HttpResponse::Ok().json(VerificationBody::from(verification)))
}

/// Removes the content of every version (admins and owners). Under legal hold: 409
/// `legal_hold`. The metadata, the versions' facts and the audit events stay.
#[utoipa::path(delete, operation_id = "remove_document_content", path = "/api/v1/documents/{id}/content", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DocumentBody), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn remove_content(
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let document = (caller.documents())
        .remove_content(caller.scope(), typed_id(&id)?, caller.ctx())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        document.version,
        &RecordBody::from(document),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_never_carry_quotes_or_controls() {
        let d = disposition("Vertrag \"final\"\\ä.pdf");
        assert_eq!(
            d,
            "attachment; filename=\"Vertrag _final___.pdf\"; filename*=UTF-8''Vertrag%20%22final%22%5C%C3%A4.pdf"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("Gr%C3%BC%C3%9Fe.pdf"), "Grüße.pdf");
        assert_eq!(percent_decode("100%.pdf"), "100%.pdf");
    }

    #[test]
    fn use_case_errors_keep_their_mapping() {
        use aura_records::UseCaseError;
        let e: ApiError = DocumentError::UseCase(UseCaseError::NotFound).into();
        assert!(matches!(e, ApiError::NotFound));
    }
}
