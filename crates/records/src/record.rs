//! The one shape every register shares: a versioned, tenant-owned, audited record.

use std::fmt::Debug;

use aura_audit::AuditAction;
use aura_shared_kernel::{Permission, TenantId, ValidationErrors};
use serde::{Serialize, de::DeserializeOwned};
use time::OffsetDateTime;

use crate::id::Id;

/// What a register declares about its records; everything else about create, read, list,
/// replace and delete is the kernel's. Implemented by a marker type named for the
/// register (`Processors`, `Activities`).
pub trait RecordKind: Debug + Clone + PartialEq + Send + Sync + Sized + 'static {
    /// The entity type in audit events, e.g. `processor`.
    const ENTITY: &'static str;
    /// The audit actions of the three changes, owned by the register's domain.
    const ACTIONS: RecordActions;
    /// Who may read, write and delete. Every register today uses the record permissions.
    const READ: Permission = Permission::ReadRecords;
    const WRITE: Permission = Permission::WriteRecords;
    const DELETE: Permission = Permission::DeleteRecords;

    /// What a client writes (the whole record on `PUT`), parsed and then validated.
    type Fields: Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync;
    /// Read-only values the store derives from other rows when it reads or writes the
    /// record (which activities link to a processor, what an activity still lacks given
    /// the organisation profile) and who created it; never written by a client.
    type Derived: Serialize + Clone + PartialEq + Debug + Default + Send + Sync;
    /// The register's list filters.
    type Filter: Clone + Default + PartialEq + Debug + Send + Sync;

    /// The fields with every rule that needs no other record checked, normalised
    /// (trimmed, deduplicated); all problems at once.
    fn validated(fields: Self::Fields) -> Result<Self::Fields, ValidationErrors>;

    /// The field [`RecordKind::label`] reads, as a deletion's audit event names it.
    const LABEL_FIELD: &'static str = "name";

    /// What the audit event of a deletion keeps to say what was deleted (its name).
    fn label(fields: &Self::Fields) -> &str;

    /// Top-level fields holding personal data of people who are not users (a data
    /// subject's identity): their audit events note that they changed, never their values.
    const PERSONAL_FIELDS: &'static [&'static str] = &[];

    /// The other rows the fields name (owner, links), each of which the store checks in
    /// the write's transaction: a missing one fails the write with the field named.
    fn references(_fields: &Self::Fields) -> Vec<crate::Reference> {
        Vec::new()
    }

    /// Every reference a record makes as stored: its fields' ([`RecordKind::references`])
    /// and any its derived values hold (a request's checklist items name activities and
    /// processors). The stores check these. Default: the fields'.
    fn record_references(record: &Record<Self>) -> Vec<crate::Reference> {
        Self::references(&record.fields)
    }

    /// Whether the register's records fall due, so that its lists offer the due sorts
    /// ([`crate::Sort::Due`]) ordered by [`RecordKind::due_on`]. A register without due
    /// dates refuses them rather than order by nothing.
    const SORTS_BY_DUE: bool = false;

    /// The date the record falls due, the key of the due sorts (`None`: undated, listed
    /// last). Default: none.
    fn due_on(_record: &Record<Self>) -> Option<time::Date> {
        None
    }

    /// The derived values of a record created by `actor` now (most registers: none).
    fn derived_at_creation(_actor: Option<aura_shared_kernel::UserId>) -> Self::Derived {
        Self::Derived::default()
    }
}

/// The audit actions of a register's record changes, e.g. `processor.created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordActions {
    pub created: AuditAction,
    pub updated: AuditAction,
    pub deleted: AuditAction,
}

/// One record of kind `K`. Serialises flat: the envelope, the fields and the derived
/// values side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(bound(serialize = ""))]
pub struct Record<K: RecordKind> {
    pub id: Id<K>,
    pub tenant_id: TenantId,
    #[serde(flatten)]
    pub fields: K::Fields,
    #[serde(flatten)]
    pub derived: K::Derived,
    /// Optimistic concurrency: an update or delete must name the version it read.
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl<K: RecordKind> Record<K> {
    /// A new record `id` of `tenant_id`: version 1, created and last changed `at`. The
    /// one place a record's envelope starts (the kernel's create, the stores' contracts,
    /// the registers' tests).
    pub fn first_version(
        id: Id<K>,
        tenant_id: TenantId,
        fields: K::Fields,
        derived: K::Derived,
        at: OffsetDateTime,
    ) -> Self {
        Record {
            id,
            tenant_id,
            fields,
            derived,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    /// A new record of a fresh tenant whose fields are written as JSON (the register's
    /// names), with default derived values: the records of tests and samples that need
    /// no store.
    pub fn of_json(fields: serde_json::Value, at: OffsetDateTime) -> serde_json::Result<Self> {
        let fields = serde_json::from_value(fields)?;
        let (id, tenant) = (Id::generate(), TenantId::generate());
        Ok(Self::first_version(
            id,
            tenant,
            fields,
            K::Derived::default(),
            at,
        ))
    }
}
