//! References from a record to other rows of its tenant (its owner, linked processors).
//! A register declares them ([`RecordKind::references`]); the store checks them inside the
//! write's transaction, so a create costs no reads before it and no row can name
//! something that vanished between a check and the write.

use aura_shared_kernel::{UserId, ValidationErrors};
use uuid::Uuid;

use crate::{id::Id, record::RecordKind};

/// The entity of a tenant's users, as a reference names it.
pub const MEMBER: &str = "user";

/// One id a record's field names, and what it must name in the same tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The field as a client wrote it, e.g. `processor_ids[2]`.
    pub field: String,
    /// The entity it must name: a [`RecordKind::ENTITY`] or [`MEMBER`].
    pub entity: &'static str,
    pub id: Uuid,
}

impl Reference {
    /// A record of kind `T` of the tenant.
    pub fn to<T: RecordKind>(field: impl Into<String>, id: Id<T>) -> Self {
        Self {
            field: field.into(),
            entity: T::ENTITY,
            id: id.as_uuid(),
        }
    }

    /// A user of the tenant.
    pub fn member(field: impl Into<String>, user: UserId) -> Self {
        Self {
            field: field.into(),
            entity: MEMBER,
            id: user.as_uuid(),
        }
    }

    /// The answer for references that name nothing in the tenant: each field named,
    /// all at once, in the order declared.
    pub fn unresolved<'a>(missing: impl IntoIterator<Item = &'a Reference>) -> ValidationErrors {
        let mut errors = ValidationErrors::default();
        for reference in missing {
            let noun = reference.entity.replace('_', " ");
            errors.push(
                reference.field.clone(),
                format!("is not a {noun} of this organisation"),
            );
        }
        errors
    }
}
