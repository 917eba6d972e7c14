use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{error::ValidationErrors, ids::TenantId};

/// A customer company. Everything it owns carries its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub slug: TenantSlug,
    /// A suspended tenant (false) can neither sign in nor use its tokens.
    pub is_active: bool,
    pub subscription_tier: SubscriptionTier,
    pub settings: TenantSettings,
    /// Optimistic-concurrency version of the row: 1 when created, +1 with every write.
    /// Writes name the version they read and fail with `Conflict::Version` when the
    /// row moved on in the meantime.
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Tenant {
    pub fn new(name: TenantName, slug: TenantSlug, now: OffsetDateTime) -> Self {
        Self {
            id: TenantId::generate(),
            name,
            slug,
            is_active: true,
            subscription_tier: SubscriptionTier::Free,
            settings: TenantSettings::default(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Moves the row to its next version before a write and returns the version it had
    /// (the `expected_version` the write names).
    pub fn bump_version(&mut self) -> i32 {
        let read = self.version;
        self.version = read.wrapping_add(1);
        read
    }
}

/// A tenant's display name: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantName(String);

impl TenantName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValidationErrors::single("name", "must not be empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ValidationErrors::single(
                "name",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationErrors::single(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantName {
    type Error = ValidationErrors;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantName> for String {
    fn from(value: TenantName) -> Self {
        value.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A URL-safe, platform-unique handle: 3–100 characters of `a-z`, `0-9` and single
/// hyphens, neither first nor last.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

impl TenantSlug {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let problem = if raw.len() < Self::MIN_CHARS || raw.len() > Self::MAX_CHARS {
            Some("must be 3 to 100 characters long")
        } else if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            Some("may contain only lowercase letters a-z, digits and hyphens")
        } else if raw.starts_with('-') || raw.ends_with('-') || raw.contains("--") {
            Some("must not start or end with a hyphen or contain two in a row")
        } else {
            None
        };
        match problem {
            Some(message) => Err(ValidationErrors::single("slug", message)),
            None => Ok(Self(raw.to_owned())),
        }
    }

    /// A slug proposed from a display name ("Müller & Co. GmbH" → "m-ller-co-gmbh"),
    /// padded when too short. The caller makes it unique.
    pub fn derive_from(name: &str) -> Self {
        let mut slug = String::with_capacity(name.len());
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let mut slug: String = slug.trim_end_matches('-').chars().take(80).collect();
        slug = slug.trim_end_matches('-').to_owned();
        while slug.len() < Self::MIN_CHARS {
            if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            slug.push_str("org");
        }
        Self(slug)
    }

    /// The same slug with a numeric suffix, for making a derived slug unique.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantSlug {
    type Error = ValidationErrors;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantSlug> for String {
    fn from(value: TenantSlug) -> Self {
        value.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the tenant pays for. Changed only by the platform, never by the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionTier {
    Free,
    Basic,
    Premium,
}

impl SubscriptionTier {
    pub const fn as_str(self) -> &'static str {
        match self {
            SubscriptionTier::Free => "free",
            SubscriptionTier::Basic => "basic",
            SubscriptionTier::Premium => "premium",
        }
    }
}

impl FromStr for SubscriptionTier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Self::Free),
            "basic" => Ok(Self::Basic),
            "premium" => Ok(Self::Premium),
            other => Err(format!("unknown subscription tier `{other}`")),
        }
    }
}

/// Free-form tenant preferences (language, time zone, …): a JSON object of bounded size.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct TenantSettings(serde_json::Map<String, serde_json::Value>);

impl TenantSettings {
    /// Serialized size limit, so settings stay a few preferences, not a document store.
    pub const MAX_BYTES: usize = 16 * 1024;

    pub fn parse(value: serde_json::Value) -> Result<Self, ValidationErrors> {
        let serde_json::Value::Object(map) = value else {
            return Err(ValidationErrors::single(
                "settings",
                "must be a JSON object",
            ));
        };
        if map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)) {
            // PostgreSQL's jsonb cannot store U+0000: refuse it here, naming the field.
            return Err(ValidationErrors::single(
                "settings",
                "must not contain the character U+0000",
            ));
        }
        let size = serde_json::to_vec(&map)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > Self::MAX_BYTES {
            return Err(ValidationErrors::single(
                "settings",
                format!("must be at most {} bytes of JSON", Self::MAX_BYTES),
            ));
        }
        Ok(Self(map))
    }

    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// The tenant's language for e-mails and documents (`language` setting), default English.
    pub fn language(&self) -> &str {
        self.0
            .get("language")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("en")
    }
}

fn contains_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(contains_nul),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v))
        }
        _ => false,
    }
}

impl TryFrom<serde_json::Value> for TenantSettings {
    type Error = ValidationErrors;
    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<TenantSettings> for serde_json::Value {
    fn from(value: TenantSettings) -> Self {
        serde_json::Value::Object(value.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_and_bounded() {
        assert!(TenantSlug::parse("acme-gmbh").is_ok());
        assert!(TenantSlug::parse("a1b").is_ok());
        for bad in [
            "ab",
            "Acme",
            "acme_gmbh",
            "-acme",
            "acme-",
            "ac--me",
            "ä-co",
            &"a".repeat(101),
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derived_slugs_are_valid() {
        for name in [
            "Müller & Co. GmbH",
            "X",
            "!!!",
            "ACME Corp",
            &"long name ".repeat(30),
        ] {
            let slug = TenantSlug::derive_from(name);
            assert!(TenantSlug::parse(slug.as_str()).is_ok(), "{name} → {slug}");
        }
        assert_eq!(TenantSlug::derive_from("ACME Corp").as_str(), "acme-corp");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            TenantName::parse("  Acme  ").map(|n| n.0),
            Ok("Acme".to_owned())
        );
        assert!(TenantName::parse("   ").is_err());
        assert!(TenantName::parse(&"x".repeat(201)).is_err());
        assert!(TenantName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn settings_must_be_a_small_object() {
        assert!(TenantSettings::parse(serde_json::json!({"language": "de"})).is_ok());
        assert!(TenantSettings::parse(serde_json::json!([1, 2])).is_err());
        assert!(TenantSettings::parse(serde_json::json!({"a": ["x\u{0}y"]})).is_err());
        let big = "x".repeat(TenantSettings::MAX_BYTES);
        assert!(TenantSettings::parse(serde_json::json!({ "a": big })).is_err());
    }
}
