//! A page of a list: its items and the cursor of the next page, for every paged list
//! (records, users, audit events, suggestions).

use std::borrow::Cow;

use serde::Serialize;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ArrayBuilder, ObjectBuilder, Ref, RefOr, Schema,
        schema::{SchemaType, Type},
    },
};

/// A body that comes in pages: its page's schema name and description.
pub trait Listed: ToSchema {
    /// e.g. `UserList`.
    const LIST_NAME: &'static str;
    const LIST_DESCRIPTION: &'static str;
}

/// A page of `B`s.
#[derive(Debug, Serialize)]
pub struct Page<B> {
    pub items: Vec<B>,
    pub next_cursor: Option<String>,
}

impl<B: Listed> PartialSchema for Page<B> {
    fn schema() -> RefOr<Schema> {
        let cursor = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some(
                "Pass as `cursor` for the next page; null on the last page.",
            ));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(B::LIST_DESCRIPTION))
            .property(
                "items",
                ArrayBuilder::new().items(Ref::from_schema_name(B::name())),
            )
            .required("items")
            .property("next_cursor", cursor)
            .into()
    }
}

impl<B: Listed> ToSchema for Page<B> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(B::LIST_NAME)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((B::name().into_owned(), B::schema()));
        B::schemas(schemas);
    }
}
