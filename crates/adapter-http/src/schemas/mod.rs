//! Request and response bodies that are exactly what goes over the wire, with their
//! OpenAPI schemas. Domain crates stay free of utoipa: a request is deserialized into a
//! body here and converted into the domain type; a response is built from the domain type.
//! Closed sets of values keep the domain's own enum types (so parsing and error messages
//! are the domain's), and their schemas list the domain's values (`ALL`), so neither can
//! drift from what is sent.

pub mod ai;
pub mod breaches;
pub mod breaches_export;
pub mod documents;
pub mod dpia_screening;
pub mod dpias;
pub mod mfa;
pub mod page;
pub mod partners;
pub mod portfolio;
pub mod record;
pub mod registers;
pub mod requests;
pub mod roles;
pub mod tasks;

use aura_gdpr_registers::text::StringEnum;
use serde_json::Value;
use utoipa::openapi::{
    ObjectBuilder,
    schema::{AdditionalProperties, Object, SchemaType, Type},
};

/// A string that is one of `values`; with `nullable`, `null` too.
pub(crate) fn enum_of<'a>(values: impl IntoIterator<Item = &'a str>, nullable: bool) -> Object {
    let mut values: Vec<Value> = values.into_iter().map(Value::from).collect();
    let schema_type = if nullable {
        values.push(Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(values))
        .build()
}

/// The schema of a domain's closed value set: its stable names.
pub(crate) fn one_of<E: StringEnum>() -> Object {
    enum_of(E::ALL.iter().map(|v| v.as_str()), false)
}

/// An array of a domain's closed values (each one of [`one_of`]).
pub(crate) fn list_of<E: StringEnum>() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of::<E>())
        .build()
}

/// [`one_of`], or `null`.
pub(crate) fn one_of_or_null<E: StringEnum>() -> Object {
    enum_of(E::ALL.iter().map(|v| v.as_str()), true)
}

/// An ISO 3166-1 alpha-2 country code (any case in, upper case out); with `nullable`,
/// `null` too.
pub(crate) fn country(nullable: bool) -> Object {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .min_length(Some(2))
        .max_length(Some(2))
        .description(Some("ISO 3166-1 alpha-2 country code, e.g. DE or US"))
        .examples(["US"])
        .build()
}

pub(crate) fn country_code() -> Object {
    country(false)
}

pub(crate) fn optional_country_code() -> Object {
    country(true)
}

/// The name of a zone of the IANA time zone database (any case in, the database's
/// spelling out).
pub(crate) fn time_zone() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .min_length(Some(1))
        .max_length(Some(64))
        .description(Some(
            "IANA time zone name, e.g. Europe/Berlin or UTC (the default); an unknown name is 422",
        ))
        .examples(["Europe/Berlin"])
        .build()
}

/// One instant said twice: in UTC and in the organisation's time zone (the same instant,
/// written with the zone's offset then), e.g. a breach's Art. 33(1) deadline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"utc": "2026-03-30T00:30:00Z", "local": "2026-03-30T02:30:00+02:00", "zone": "Europe/Berlin"}))]
pub struct LocalInstantBody {
    #[serde(with = "time::serde::rfc3339")]
    pub utc: time::OffsetDateTime,
    /// The same instant in the zone's local time, with the zone's offset at that instant.
    #[serde(with = "time::serde::rfc3339")]
    pub local: time::OffsetDateTime,
    /// The organisation profile's `time_zone` (IANA name).
    #[schema(schema_with = time_zone)]
    pub zone: aura_shared_kernel::TimeZoneName,
}

impl From<aura_shared_kernel::LocalInstant> for LocalInstantBody {
    fn from(i: aura_shared_kernel::LocalInstant) -> Self {
        Self {
            utc: i.utc,
            local: i.local,
            zone: i.zone,
        }
    }
}

/// The public keys that verify access tokens (RFC 7517 JWK set), as the key store
/// publishes them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// One public Ed25519 signing key.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: String,
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// The key id named in a token's header.
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}

/// A JSON object whose keys are not fixed (tenant settings, an audit event's changes).
pub(crate) fn free_form() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .build()
}

/// [`free_form`] or `null`.
pub(crate) fn optional_free_form() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .build()
}
