use std::fmt;

use aura_shared_kernel::ValidationErrors;

use crate::ports::AddressRules;
use serde::{Deserialize, Serialize};

/// An e-mail address, trimmed and lower-cased: unique across the platform regardless of
/// the case it was typed in.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        Self::parse_field(raw, "email")
    }

    /// An address typed by someone: checked by the mail system's `rules` (can mail be
    /// sent to it, no look-alike scripts) and stored in their canonical form (NFC, the
    /// domain as IDNA A-labels), then by [`Email::parse_field`]. Addresses read back
    /// from storage or written by the service itself use [`Email::parse`].
    pub fn parse_with(
        raw: &str,
        field: &str,
        rules: &dyn AddressRules,
    ) -> Result<Self, ValidationErrors> {
        // The cheap shape checks first, so `rules` sees only address-like text.
        Self::parse_field(raw, field)?;
        let canonical = rules
            .canonical(raw.trim())
            .map_err(|message| ValidationErrors::single(field, message))?;
        Self::parse_field(&canonical, field)
    }

    /// Like [`Email::parse`], reporting problems under `field`.
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, ValidationErrors> {
        let email = raw.trim().to_lowercase();
        let invalid = |message: &str| Err(ValidationErrors::single(field, message));
        if email.is_empty() {
            return invalid("must not be empty");
        }
        if email.len() > Self::MAX_LEN {
            return invalid("must be at most 254 characters");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return invalid("must be an e-mail address (name@example.com)");
        };
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return invalid("must be an e-mail address (name@example.com)");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Addresses are personal data: debug output shows only the domain.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit_once('@').map_or("", |(_, d)| d);
        write!(f, "Email(…@{domain})")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationErrors;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        let email = Email::parse("  Alice@Example.COM ").map(|e| e.0);
        assert_eq!(email, Ok("alice@example.com".to_owned()));
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@x.io",
            "a@x..io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_the_person() {
        let email = Email::parse("alice@example.com").map(|e| format!("{e:?}"));
        assert_eq!(email, Ok("Email(…@example.com)".to_owned()));
    }
}
