//! The document register: a document's metadata is a kernel record (title, kind, owner,
//! retention, legal hold, links to the records it documents); its content lives in
//! immutable versions (`content.rs`).

use aura_audit::AuditAction;
use aura_breaches::Breaches;
use aura_dpias::Dpias;
use aura_gdpr_registers::{
    Activities, ActivityId, Policies, PolicyId, ProcessorId, Processors, string_enum,
    text::{TextRule, optional_text, text},
};
use aura_records::{Id, Record, RecordActions, RecordKind, Reference};
use aura_requests::request::{RequestId, Requests};
use aura_shared_kernel::{Permission, UserId, ValidationErrors};
use aura_tasks::{TaskId, Tasks};
use serde::{Deserialize, Serialize};
use time::Date;

string_enum!(
    /// What a document is evidence of.
    DocumentKind {
        /// A data processing agreement (Art. 28(3)).
        Dpa => "dpa",
        /// Standard contractual clauses (Art. 46(2)(c)).
        Scc => "scc",
        TransferImpactAssessment => "transfer_impact_assessment",
        DpiaReport => "dpia_report",
        BreachEvidence => "breach_evidence",
        /// The answer to a data-subject request.
        RequestAnswer => "request_answer",
        TrainingCertificate => "training_certificate",
        Policy => "policy",
        AuthorityCorrespondence => "authority_correspondence",
        Other => "other",
    }
);

/// Links to one register: at most this many ids each.
pub const MAX_LINKS: usize = 100;

/// Everything a user edits about a document (create, and update: send all). The content
/// is uploaded separately, one immutable version per upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentFields {
    pub title: String,
    pub kind: DocumentKind,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner_id: Option<UserId>,
    /// Kept at least until this day; the retention job lists it for review after it
    /// (never deletes on its own).
    #[serde(default)]
    pub retention_until: Option<Date>,
    /// Under legal hold the content cannot be deleted.
    #[serde(default)]
    pub legal_hold: bool,
    #[serde(default)]
    pub activity_ids: Vec<ActivityId>,
    #[serde(default)]
    pub processor_ids: Vec<ProcessorId>,
    #[serde(default)]
    pub policy_ids: Vec<PolicyId>,
    #[serde(default)]
    pub task_ids: Vec<TaskId>,
    #[serde(default)]
    pub breach_ids: Vec<Id<Breaches>>,
    #[serde(default)]
    pub request_ids: Vec<RequestId>,
    #[serde(default)]
    pub dpia_ids: Vec<Id<Dpias>>,
}

/// Each id once, in the user's order; too many is a problem named by `field`.
fn links<T: Copy + PartialEq>(field: &str, ids: Vec<T>, e: &mut ValidationErrors) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(ids.len());
    for id in ids {
        if !kept.contains(&id) {
            kept.push(id);
        }
    }
    if kept.len() > MAX_LINKS {
        e.push(field, format!("at most {MAX_LINKS} entries"));
    }
    kept
}

impl DocumentFields {
    /// A document with only a title and a kind: no owner, retention, hold or links.
    pub fn titled(title: impl Into<String>, kind: DocumentKind) -> Self {
        Self {
            title: title.into(),
            kind,
            description: None,
            owner_id: None,
            retention_until: None,
            legal_hold: false,
            activity_ids: vec![],
            processor_ids: vec![],
            policy_ids: vec![],
            task_ids: vec![],
            breach_ids: vec![],
            request_ids: vec![],
            dpia_ids: vec![],
        }
    }

    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.collect(text("title", &self.title, TextRule::line(200)));
        let description = e.collect(optional_text(
            "description",
            self.description.as_deref(),
            TextRule::block(4000),
        ));
        let fields = Self {
            title: title.unwrap_or_default(),
            kind: self.kind,
            description: description.flatten(),
            owner_id: self.owner_id,
            retention_until: self.retention_until,
            legal_hold: self.legal_hold,
            activity_ids: links("activity_ids", self.activity_ids, &mut e),
            processor_ids: links("processor_ids", self.processor_ids, &mut e),
            policy_ids: links("policy_ids", self.policy_ids, &mut e),
            task_ids: links("task_ids", self.task_ids, &mut e),
            breach_ids: links("breach_ids", self.breach_ids, &mut e),
            request_ids: links("request_ids", self.request_ids, &mut e),
            dpia_ids: links("dpia_ids", self.dpia_ids, &mut e),
        };
        e.into_result()?;
        Ok(fields)
    }
}

/// What the store keeps beside the fields: who created the document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocumentState {
    pub created_by: Option<UserId>,
}

/// The register's list filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    pub kind: Option<DocumentKind>,
    /// Only documents whose retention date is before this day (past retention).
    pub retention_before: Option<Date>,
    /// Only documents linked to this record (any register's id).
    pub linked_to: Option<uuid::Uuid>,
}

impl DocumentFilter {
    /// Whether `document` passes the filter (the memory store's reading).
    pub fn admits(&self, document: &Document) -> bool {
        let f = &document.fields;
        self.kind.is_none_or(|k| f.kind == k)
            && (self.retention_before).is_none_or(|day| f.retention_until.is_some_and(|r| r < day))
            && self.linked_to.is_none_or(|id| linked_ids(f).contains(&id))
    }
}

/// Every record id the document links to.
pub fn linked_ids(f: &DocumentFields) -> Vec<uuid::Uuid> {
    (f.activity_ids.iter().map(|i| i.as_uuid()))
        .chain(f.processor_ids.iter().map(|i| i.as_uuid()))
        .chain(f.policy_ids.iter().map(|i| i.as_uuid()))
        .chain(f.task_ids.iter().map(|i| i.as_uuid()))
        .chain(f.breach_ids.iter().map(|i| i.as_uuid()))
        .chain(f.request_ids.iter().map(|i| i.as_uuid()))
        .chain(f.dpia_ids.iter().map(|i| i.as_uuid()))
        .collect()
}

/// The register's marker type.
#[derive(Debug, Clone, PartialEq)]
pub enum Documents {}

pub type Document = Record<Documents>;
pub type DocumentId = Id<Documents>;

pub mod actions {
    //! The audit actions of a document's content (its metadata changes are
    //! `document.created`, `document.updated`, `document.deleted`).
    use aura_audit::AuditAction;

    /// A version's content was stored; the event carries its SHA-256.
    pub const VERSION_UPLOADED: AuditAction = AuditAction::known("document.version_uploaded");
    /// The content of every version was removed (the metadata and events stay).
    pub const CONTENT_REMOVED: AuditAction = AuditAction::known("document.content_removed");
    /// An upload that never committed was removed once older than the staging bound
    /// (its request died before discarding it); the event names its version id and
    /// size.
    pub const STAGING_SWEPT: AuditAction = AuditAction::known("document.staging_swept");
    /// Someone re-read a version and compared its hash.
    pub const VERIFIED: AuditAction = AuditAction::known("document.verified");
}

/// Who removes content: admins and owners.
pub const REMOVE: Permission = Permission::DeleteRecords;

fn refs<T: RecordKind>(field: &str, ids: &[Id<T>]) -> impl Iterator<Item = Reference> {
    (ids.iter().enumerate()).map(move |(i, id)| Reference::to::<T>(format!("{field}[{i}]"), *id))
}

impl RecordKind for Documents {
    const ENTITY: &'static str = "document";
    const ACTIONS: RecordActions = RecordActions {
        created: AuditAction::known("document.created"),
        updated: AuditAction::known("document.updated"),
        deleted: AuditAction::known("document.deleted"),
    };
    const READ: Permission = Permission::ReadDocuments;
    const WRITE: Permission = Permission::ManageDocuments;
    /// A document's metadata is never deleted (its content is removed instead).
    const DELETE: Permission = REMOVE;
    const LABEL_FIELD: &'static str = "title";
    type Fields = DocumentFields;
    type Derived = DocumentState;
    type Filter = DocumentFilter;

    fn validated(fields: DocumentFields) -> Result<DocumentFields, ValidationErrors> {
        fields.validated()
    }

    fn label(fields: &DocumentFields) -> &str {
        &fields.title
    }

    /// The owner and every linked record must be the tenant's.
    fn references(f: &DocumentFields) -> Vec<Reference> {
        let owner = f.owner_id.map(|u| Reference::member("owner_id", u));
        owner
            .into_iter()
            .chain(refs::<Activities>("activity_ids", &f.activity_ids))
            .chain(refs::<Processors>("processor_ids", &f.processor_ids))
            .chain(refs::<Policies>("policy_ids", &f.policy_ids))
            .chain(refs::<Tasks>("task_ids", &f.task_ids))
            .chain(refs::<Breaches>("breach_ids", &f.breach_ids))
            .chain(refs::<Requests>("request_ids", &f.request_ids))
            .chain(refs::<Dpias>("dpia_ids", &f.dpia_ids))
            .collect()
    }

    /// Lists sort by the retention date (`sort=due_on`), undated last.
    const SORTS_BY_DUE: bool = true;

    fn due_on(document: &Document) -> Option<Date> {
        document.fields.retention_until
    }

    fn derived_at_creation(actor: Option<UserId>) -> DocumentState {
        DocumentState { created_by: actor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> DocumentFields {
        DocumentFields::titled("  Signed DPA  ", DocumentKind::Dpa)
    }

    #[test]
    fn validation_trims_and_deduplicates_links() {
        let p = ProcessorId::generate();
        let mut f = fields();
        f.processor_ids = vec![p, p];
        let f = f.validated().expect("valid");
        assert_eq!(f.title, "Signed DPA");
        assert_eq!(f.processor_ids, vec![p]);
    }

    #[test]
    fn an_empty_title_is_named() {
        let mut f = fields();
        f.title = " ".into();
        let errors = f.validated().expect_err("empty title");
        assert!(errors.names("title"), "{errors:?}");
    }

    #[test]
    fn each_link_is_a_reference_naming_its_field() {
        let mut f = fields();
        f.processor_ids = vec![ProcessorId::generate()];
        f.dpia_ids = vec![Id::generate(), Id::generate()];
        let refs = Documents::references(&f);
        let names: Vec<_> = refs.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(names, ["processor_ids[0]", "dpia_ids[0]", "dpia_ids[1]"]);
        assert_eq!(refs[1].entity, Dpias::ENTITY);
    }
}
