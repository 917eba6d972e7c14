//! The tenant settings the public intake page reads (a free JSON map, `TenantSettings`):
//!
//! - `requests_intake_enabled` (bool, default `false`): the page exists only when `true`.
//! - `requests_intake_language` (`"en"` | `"de"`, default `"en"`): the page's and the
//!   confirmation mail's language; a visitor may switch with `?lang=`.
//! - `privacy_contact` (text): who to ask about privacy, shown on the page.

use aura_shared_kernel::TenantSettings;

use crate::settings::{INTAKE_ENABLED, INTAKE_LANGUAGE, PRIVACY_CONTACT};

/// A language the intake page and its mail are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntakeLanguage {
    #[default]
    En,
    De,
}

impl IntakeLanguage {
    pub const ALL: [IntakeLanguage; 2] = [IntakeLanguage::En, IntakeLanguage::De];

    /// `en` or `de`; anything else is not a language of the page.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "en" => Some(Self::En),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    /// The BCP 47 tag (the page's `lang` attribute).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }
}

/// The longest privacy contact shown (a longer one is cut, not refused: the setting is
/// the tenant's, the page must still render).
const MAX_CONTACT_CHARS: usize = 500;

/// What the intake page reads from a tenant's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntakeSettings {
    pub enabled: bool,
    pub language: IntakeLanguage,
    pub privacy_contact: Option<String>,
}

impl IntakeSettings {
    /// Reads the settings; a missing or mistyped value takes its default (the page stays
    /// off unless `requests_intake_enabled` is exactly `true`; `PATCH /tenants/me` refuses
    /// mistyped values, see `RequestSettings::parse`).
    pub fn of(settings: &TenantSettings) -> Self {
        let map = settings.as_map();
        let enabled = map
            .get(INTAKE_ENABLED)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let language = map
            .get(INTAKE_LANGUAGE)
            .and_then(serde_json::Value::as_str)
            .and_then(IntakeLanguage::parse)
            .unwrap_or_default();
        let privacy_contact = map
            .get(PRIVACY_CONTACT)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|contact| !contact.is_empty())
            .map(|contact| contact.chars().take(MAX_CONTACT_CHARS).collect());
        Self {
            enabled,
            language,
            privacy_contact,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(value: serde_json::Value) -> IntakeSettings {
        IntakeSettings::of(&TenantSettings::parse(value).expect("an object"))
    }

    #[test]
    fn the_page_is_off_and_english_by_default() {
        assert_eq!(settings(json!({})), IntakeSettings::default());
        assert!(!settings(json!({"requests_intake_enabled": "true"})).enabled);
        assert!(!settings(json!({"requests_intake_enabled": 1})).enabled);
    }

    #[test]
    fn the_tenant_switches_it_on_and_chooses_language_and_contact() {
        let read = settings(json!({
            "requests_intake_enabled": true,
            "requests_intake_language": "de",
            "privacy_contact": "  datenschutz@example.test  ",
        }));
        assert!(read.enabled);
        assert_eq!(read.language, IntakeLanguage::De);
        assert_eq!(
            read.privacy_contact.as_deref(),
            Some("datenschutz@example.test")
        );
        let unknown = settings(json!({"requests_intake_language": "fr", "privacy_contact": " "}));
        assert_eq!(unknown.language, IntakeLanguage::En);
        assert_eq!(unknown.privacy_contact, None);
    }
}
