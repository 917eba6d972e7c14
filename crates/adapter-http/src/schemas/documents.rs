//! The bodies of documents: the metadata a user edits (title, kind, owner, retention,
//! legal hold, links), who created it, a version's facts and a verification's answer. The
//! content itself goes over the wire as raw bytes (`application/octet-stream` in the
//! document, the stored media type on the wire), never in JSON.

use aura_documents::{
    DocumentFields, DocumentKind, DocumentState, Documents, MediaType, Verification, VersionMeta,
};
use aura_records::Id;
use aura_shared_kernel::UserId;
use aura_shared_kernel::date::iso_date;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    one_of,
    record::{RecordBodies, RecordBody, RecordList},
};

/// What a user edits about a document (create, and `PUT`: send all). Each link names a
/// record of the caller's organisation (another's, or none: 404 naming the field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Signed DPA with Hosting GmbH", "kind": "dpa",
    "processor_ids": ["0190f8a4-0000-7000-8000-000000000001"],
    "retention_until": "2032-12-31", "legal_hold": false}))]
pub struct DocumentFieldsBody {
    pub title: String,
    #[schema(schema_with = one_of::<DocumentKind>)]
    pub kind: DocumentKind,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Kept at least until this day; afterwards the daily retention job lists it for
    /// review (it never deletes).
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub retention_until: Option<Date>,
    /// Under legal hold the content cannot be removed.
    #[serde(default)]
    pub legal_hold: bool,
    #[serde(default)]
    pub activity_ids: Vec<Uuid>,
    #[serde(default)]
    pub processor_ids: Vec<Uuid>,
    #[serde(default)]
    pub policy_ids: Vec<Uuid>,
    #[serde(default)]
    pub task_ids: Vec<Uuid>,
    #[serde(default)]
    pub breach_ids: Vec<Uuid>,
    #[serde(default)]
    pub request_ids: Vec<Uuid>,
    #[serde(default)]
    pub dpia_ids: Vec<Uuid>,
}

fn typed<T: ?Sized>(raw: Vec<Uuid>) -> Vec<Id<T>> {
    raw.into_iter().map(Id::from_uuid).collect()
}

fn plain<T: ?Sized>(ids: Vec<Id<T>>) -> Vec<Uuid> {
    ids.into_iter().map(|i| i.as_uuid()).collect()
}

impl From<DocumentFieldsBody> for DocumentFields {
    fn from(b: DocumentFieldsBody) -> Self {
        Self {
            title: b.title,
            kind: b.kind,
            description: b.description,
            owner_id: b.owner_id.map(UserId::from_uuid),
            retention_until: b.retention_until,
            legal_hold: b.legal_hold,
            activity_ids: typed(b.activity_ids),
            processor_ids: typed(b.processor_ids),
            policy_ids: typed(b.policy_ids),
            task_ids: typed(b.task_ids),
            breach_ids: typed(b.breach_ids),
            request_ids: typed(b.request_ids),
            dpia_ids: typed(b.dpia_ids),
        }
    }
}

impl From<DocumentFields> for DocumentFieldsBody {
    fn from(f: DocumentFields) -> Self {
        Self {
            title: f.title,
            kind: f.kind,
            description: f.description,
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            retention_until: f.retention_until,
            legal_hold: f.legal_hold,
            activity_ids: plain(f.activity_ids),
            processor_ids: plain(f.processor_ids),
            policy_ids: plain(f.policy_ids),
            task_ids: plain(f.task_ids),
            breach_ids: plain(f.breach_ids),
            request_ids: plain(f.request_ids),
            dpia_ids: plain(f.dpia_ids),
        }
    }
}

/// Who created the document (read-only).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentStateBody {
    pub created_by: Option<Uuid>,
}

impl RecordBodies for Documents {
    const BODY_NAME: &'static str = "DocumentBody";
    const BODY_DESCRIPTION: &'static str =
        "A document's metadata (its content is in its versions).";
    const LIST_NAME: &'static str = "DocumentList";
    const LIST_DESCRIPTION: &'static str = "A page of documents.";
    type FieldsBody = DocumentFieldsBody;
    type DerivedBody = DocumentStateBody;

    fn bodies(fields: DocumentFields, s: DocumentState) -> (DocumentFieldsBody, DocumentStateBody) {
        let state = DocumentStateBody {
            created_by: s.created_by.map(|u| u.as_uuid()),
        };
        (fields.into(), state)
    }
}

/// A stored document.
pub type DocumentBody = RecordBody<Documents>;

/// A page of documents.
pub type DocumentList = RecordList<Documents>;

/// One immutable version of a document's content.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionBody {
    pub id: Uuid,
    pub document_id: Uuid,
    /// 1, 2, … per document.
    pub number: i32,
    /// As uploaded (`X-File-Name`), without any path.
    pub file_name: String,
    #[schema(schema_with = one_of::<MediaType>)]
    pub media_type: MediaType,
    pub size: u64,
    /// Lowercase hex SHA-256 of the content; the upload's audit event carries it too.
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// When the content was removed (`null`: kept).
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
}

impl From<VersionMeta> for VersionBody {
    fn from(v: VersionMeta) -> Self {
        Self {
            id: v.id.as_uuid(),
            document_id: v.document_id.as_uuid(),
            number: v.number,
            file_name: v.file_name,
            media_type: v.media_type,
            size: v.size,
            sha256: v.sha256,
            uploaded_by: v.uploaded_by.map(|u| u.as_uuid()),
            uploaded_at: v.uploaded_at,
            removed_at: v.removed_at,
        }
    }
}

/// A document's versions, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionBody>,
}

/// A version re-read and hashed again.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationBody {
    pub version: VersionBody,
    /// The SHA-256 of the content as read now.
    pub sha256: String,
    /// Whether it equals the one stored at upload.
    pub matches: bool,
}

impl From<Verification> for VerificationBody {
    fn from(v: Verification) -> Self {
        Self {
            version: v.version.into(),
            sha256: v.sha256,
            matches: v.matches,
        }
    }
}
