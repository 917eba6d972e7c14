//! The answer for a kernel record, written once: the envelope every record has (id,
//! tenant, version, timestamps), the register's field body (the one its requests use) and
//! the values the store derives, side by side as [`aura_records::Record`] serialises
//! them. A register names its bodies in [`RecordBodies`]; its answer and page bodies are
//! [`RecordBody`] and [`RecordList`] (a [`Page`] of them).

use std::borrow::Cow;

use aura_records::{Record, RecordKind};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ObjectBuilder, RefOr, Schema,
        schema::{SchemaType, Type},
    },
};
use uuid::Uuid;

use super::page::{Listed, Page};

/// What a kernel register's answer is made of, and the names of its schemas.
pub trait RecordBodies: RecordKind {
    /// The answer's schema, e.g. `ActivityBody`.
    const BODY_NAME: &'static str;
    const BODY_DESCRIPTION: &'static str;
    /// The page's schema, e.g. `ActivityList`.
    const LIST_NAME: &'static str;
    const LIST_DESCRIPTION: &'static str;

    /// The fields as the wire carries them (the register's request body).
    type FieldsBody: Serialize + ToSchema + std::fmt::Debug;
    /// The derived values as the wire carries them.
    type DerivedBody: Serialize + ToSchema + std::fmt::Debug;

    /// A stored record's fields and derived values as their bodies.
    fn bodies(
        fields: Self::Fields,
        derived: Self::Derived,
    ) -> (Self::FieldsBody, Self::DerivedBody);
}

/// What every stored record carries besides its fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordMeta {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Optimistic concurrency: an update names the version it read (`If-Match`).
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A stored record of kind `K`: envelope, fields and derived values in one object.
#[derive(Debug, Serialize)]
pub struct RecordBody<K: RecordBodies> {
    #[serde(flatten)]
    pub meta: RecordMeta,
    #[serde(flatten)]
    pub fields: K::FieldsBody,
    #[serde(flatten)]
    pub derived: K::DerivedBody,
}

impl<K: RecordBodies> From<Record<K>> for RecordBody<K> {
    fn from(record: Record<K>) -> Self {
        let (fields, derived) = K::bodies(record.fields, record.derived);
        Self {
            meta: RecordMeta {
                id: record.id.as_uuid(),
                tenant_id: record.tenant_id.as_uuid(),
                version: record.version,
                created_at: record.created_at,
                updated_at: record.updated_at,
            },
            fields,
            derived,
        }
    }
}

/// The properties of an object schema (a derived `ToSchema` struct's).
fn properties_of<T: PartialSchema>() -> Vec<(String, RefOr<Schema>)> {
    match T::schema() {
        RefOr::T(Schema::Object(object)) => object.properties.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Whether a property's schema lets it be `null`.
fn admits_null(schema: &RefOr<Schema>) -> bool {
    let nullable = |t: &SchemaType| match t {
        SchemaType::Type(t) => *t == Type::Null,
        SchemaType::Array(types) => types.contains(&Type::Null),
        SchemaType::AnyValue => true,
    };
    match schema {
        RefOr::Ref(_) => false,
        RefOr::T(Schema::Object(o)) => nullable(&o.schema_type),
        RefOr::T(Schema::Array(a)) => nullable(&a.schema_type),
        RefOr::T(Schema::OneOf(o)) => o.items.iter().any(admits_null),
        RefOr::T(_) => true,
    }
}

/// One object with the properties of the envelope, the fields and the derived values.
/// An answer always carries every property, so each one that cannot be `null` is
/// required — also those a request may leave out for their defaults.
impl<K: RecordBodies> PartialSchema for RecordBody<K> {
    fn schema() -> RefOr<Schema> {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(K::BODY_DESCRIPTION));
        let parts = [
            properties_of::<RecordMeta>(),
            properties_of::<K::FieldsBody>(),
            properties_of::<K::DerivedBody>(),
        ];
        for (name, schema) in parts.into_iter().flatten() {
            if !admits_null(&schema) {
                object = object.required(name.clone());
            }
            object = object.property(name, schema);
        }
        object.into()
    }
}

impl<K: RecordBodies> ToSchema for RecordBody<K> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(K::BODY_NAME)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        K::FieldsBody::schemas(schemas);
        K::DerivedBody::schemas(schemas);
    }
}

/// A page of records of kind `K`.
pub type RecordList<K> = Page<RecordBody<K>>;

impl<K: RecordBodies> Listed for RecordBody<K> {
    const LIST_NAME: &'static str = K::LIST_NAME;
    const LIST_DESCRIPTION: &'static str = K::LIST_DESCRIPTION;
}

#[cfg(test)]
mod tests {
    //! The answers' schemas keep the required lists they had as hand-written structs.

    use aura_gdpr_registers::{Activities, Policies, Processors};
    use aura_tasks::Tasks;

    use super::*;

    fn required<K: RecordBodies>() -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = RecordBody::<K>::schema() else {
            panic!("an answer is an object");
        };
        let mut required = object.required;
        required.sort();
        required
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn answers_require_what_is_never_null() {
        let envelope = ["id", "tenant_id", "version", "created_at", "updated_at"];
        let cases = [
            (
                required::<Activities>(),
                vec![
                    "name",
                    "role",
                    "purposes",
                    "data_subject_categories",
                    "data_categories",
                    "recipient_categories",
                    "transfers",
                    "automated_decision_making",
                    "dpia_required",
                    "processor_ids",
                    "status",
                    "missing",
                ],
            ),
            (
                required::<Processors>(),
                vec![
                    "name",
                    "data_categories",
                    "dpa_status",
                    "clauses",
                    "activity_ids",
                ],
            ),
            (required::<Policies>(), vec!["title", "kind", "status"]),
            (
                required::<Tasks>(),
                vec!["title", "category", "recurrence", "status"],
            ),
        ];
        for (actual, own) in cases {
            let expected: Vec<&str> = envelope.iter().copied().chain(own).collect();
            assert_eq!(actual, sorted(&expected));
        }
    }
}
