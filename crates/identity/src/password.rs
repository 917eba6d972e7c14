use std::fmt;

use aura_shared_kernel::ValidationErrors;

/// A plain-text password on its way to the hasher. Never printed, never serialized.
#[derive(Clone)]
pub struct Password(String);

/// Passwords of at least the minimum length that attackers try first.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789abc",
    "1q2w3e4r5t6y",
    "aaaaaaaaaaaa",
    "abc123abc123",
    "abcdefghijkl",
    "correcthorsebatterystaple",
    "iloveyou1234",
    "letmeinletmein",
    "password1234",
    "password12345",
    "passwordpassword",
    "qwerty123456",
    "qwertyuiop12",
    "qwertyuiopas",
    "qwertyuiopasdfgh",
    "welcome12345",
    "changeme1234",
    "administrator",
    "admin1234567",
    "passw0rd1234",
    "p@ssw0rd1234",
    "000000000000",
    "111111111111",
    "987654321098",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "superman1234",
    "sunshine1234",
    "princess1234",
    "dragon123456",
    "monkey123456",
    "master123456",
    "whatever1234",
    "qazwsxedcrfv",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "asdfasdfasdf",
    "zxcvbnm12345",
    "password123!",
];

impl Password {
    pub const MIN_CHARS: usize = 12;
    /// Long passphrases are welcome; this only bounds the work per request.
    pub const MAX_BYTES: usize = 1024;

    /// Accepts a new password under the policy: 12 or more characters, any Unicode, no
    /// composition rules, not a well-known password, not the account's e-mail address.
    pub fn new_checked(
        raw: &str,
        field: &str,
        email: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let problem = if raw.chars().count() < Self::MIN_CHARS {
            Some(format!("must be at least {} characters", Self::MIN_CHARS))
        } else if raw.len() > Self::MAX_BYTES {
            Some(format!("must be at most {} bytes", Self::MAX_BYTES))
        } else if is_common(raw) {
            Some("is too common; choose a less guessable passphrase".to_owned())
        } else if email.is_some_and(|e| raw.trim().eq_ignore_ascii_case(e)) {
            Some("must not be the e-mail address".to_owned())
        } else {
            None
        };
        match problem {
            Some(message) => Err(ValidationErrors::single(field, message)),
            None => Ok(Self(raw.to_owned())),
        }
    }

    /// A password presented at sign-in: checked against a hash, not against the policy
    /// (which may have changed since it was set). Oversized input is still refused.
    pub fn presented(raw: &str, field: &str) -> Result<Self, ValidationErrors> {
        if raw.is_empty() {
            Err(ValidationErrors::single(field, "must not be empty"))
        } else if raw.len() > Self::MAX_BYTES {
            Err(ValidationErrors::single(
                field,
                format!("must be at most {} bytes", Self::MAX_BYTES),
            ))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_common(raw: &str) -> bool {
    let lowered = raw.to_lowercase();
    let single_repeated = lowered.chars().all(|c| lowered.starts_with(c));
    single_repeated || COMMON_PASSWORDS.contains(&lowered.as_str())
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A stored password hash (opaque to the domain). An empty hash never verifies: it marks
/// an account that has no password yet (invited, not yet set).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(hash: String) -> Self {
        Self(hash)
    }

    /// The hash of an account whose password has not been set.
    pub fn unset() -> Self {
        Self(String::new())
    }

    pub fn is_unset(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_length_not_composition() {
        assert!(Password::new_checked("correct horse battery", "password", None).is_ok());
        assert!(Password::new_checked("ünïcødé pässwörd ✓", "password", None).is_ok());
        assert!(Password::new_checked("short", "password", None).is_err());
        assert!(Password::new_checked("Password1234", "password", None).is_err());
        assert!(Password::new_checked("zzzzzzzzzzzzzz", "password", None).is_err());
        assert!(Password::new_checked(&"x".repeat(1025), "password", None).is_err());
        assert!(
            Password::new_checked("alice@example.com", "password", Some("alice@example.com"))
                .is_err()
        );
    }

    #[test]
    fn secrets_never_print() {
        let password = Password::presented("hunter2hunter2", "password");
        assert_eq!(format!("{password:?}"), "Ok(Password(<redacted>))");
    }
}
