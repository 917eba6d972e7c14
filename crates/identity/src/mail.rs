//! Outgoing messages and their texts. Texts live in one table per language, not in
//! the code paths that send them.

use crate::email::Email;

/// A message ready for a [`crate::ports::Mailer`]: plain text plus HTML.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// The messages identity sends: each carries a single-use link to set a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    PasswordReset,
    Invitation,
    /// Sign-in to the account was refused by the account-wide limit (many wrong
    /// passwords from elsewhere): the link lifts it, with a new password.
    Unlock,
}

impl MailKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MailKind::PasswordReset => "password_reset",
            MailKind::Invitation => "invitation",
            MailKind::Unlock => "unlock",
        }
    }
}

struct Texts {
    subject: &'static str,
    /// `{name}`, `{organisation}`, `{link}` and `{minutes}` are filled in.
    body: &'static str,
}

fn texts(kind: MailKind, language: &str) -> Texts {
    match (kind, language) {
        (MailKind::PasswordReset, "de") => Texts {
            subject: "Passwort zurücksetzen",
            body: "Hallo {name},\n\nüber diesen Link können Sie ein neues Passwort für Ihr Konto bei {organisation} setzen. Er ist {minutes} Minuten gültig und nur einmal verwendbar:\n\n{link}\n\nWenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht; Ihr Passwort bleibt unverändert.",
        },
        (MailKind::Invitation, "de") => Texts {
            subject: "Einladung zu AURA-GDPR",
            body: "Hallo {name},\n\nSie wurden zum Datenschutz-Arbeitsbereich von {organisation} eingeladen. Setzen Sie Ihr Passwort innerhalb von {minutes} Minuten über diesen Link:\n\n{link}",
        },
        (MailKind::Unlock, "de") => Texts {
            subject: "Anmeldung zu Ihrem Konto gesperrt",
            body: "Hallo {name},\n\nfür Ihr Konto bei {organisation} wurden von anderer Stelle viele falsche Passwörter eingegeben; die Anmeldung ist deshalb vorübergehend gesperrt. Mit diesem Link setzen Sie ein neues Passwort und heben die Sperre auf. Er ist {minutes} Minuten gültig und nur einmal verwendbar:\n\n{link}\n\nWenn Sie sich gerade nicht anmelden wollten, sollten Sie das Passwort ändern.",
        },
        (MailKind::Unlock, _) => Texts {
            subject: "Sign-in to your account is blocked",
            body: "Hello {name},\n\nmany wrong passwords were tried for your account at {organisation}, so signing in is blocked for a while. Use this link to set a new password and lift the block. It is valid for {minutes} minutes and works once:\n\n{link}\n\nIf you were not trying to sign in, you should change your password.",
        },
        (MailKind::PasswordReset, _) => Texts {
            subject: "Reset your password",
            body: "Hello {name},\n\nuse this link to set a new password for your account at {organisation}. It is valid for {minutes} minutes and works once:\n\n{link}\n\nIf you did not ask for this, ignore this message; your password stays as it is.",
        },
        (MailKind::Invitation, _) => Texts {
            subject: "You are invited to AURA-GDPR",
            body: "Hello {name},\n\nyou were invited to the privacy workspace of {organisation}. Set your password within {minutes} minutes with this link:\n\n{link}",
        },
    }
}

/// Most characters of a tenant-chosen text (an organisation's or a person's name) a
/// mail quotes.
pub const FENCED_MAX_CHARS: usize = 60;

/// A tenant-chosen text as a mail may carry it: letters, digits, spaces and
/// `- ' & , ( )` only (no dot, colon, slash or `@`, so no mail client can make a link
/// of it, and no markup), at most [`FENCED_MAX_CHARS`], in quotation marks. Whoever
/// can name a tenant or a user then cannot put a message of their own, let alone a
/// link, into mail the service sends.
pub fn fence(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '\'' | '&' | ',' | '(' | ')') {
                c
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    let joined = words.join(" ");
    let mut fenced: String = joined.chars().take(FENCED_MAX_CHARS).collect();
    if joined.chars().count() > FENCED_MAX_CHARS {
        fenced.push('…');
    }
    format!("“{fenced}”")
}

/// Renders a message in the tenant's language (English when there is no translation).
/// The name and the organisation are tenant-chosen: they are [`fence`]d.
pub fn render(
    kind: MailKind,
    language: &str,
    to: Email,
    name: &str,
    organisation: &str,
    link: &str,
    minutes: i64,
) -> OutgoingMail {
    let texts = texts(kind, language);
    let (name, organisation) = (fence(name), fence(organisation));
    let fill = |s: &str, escape: fn(&str) -> String| {
        s.replace("{name}", &escape(&name))
            .replace("{organisation}", &escape(&organisation))
            .replace("{link}", &escape(link))
            .replace("{minutes}", &minutes.to_string())
    };
    let text = fill(texts.body, str::to_owned);
    let html_body = fill(&html_escape(texts.body), html_escape);
    let html = html_document(&html_body);
    OutgoingMail {
        to,
        subject: texts.subject.to_owned(),
        text,
        html,
    }
}

/// The HTML part of a mail from escaped text: blank lines become paragraphs, single
/// line breaks `<br>`.
pub fn html_document(escaped_text: &str) -> String {
    format!(
        "<!doctype html><html><body><p>{}</p></body></html>",
        escaped_text
            .replace("\n\n", "</p><p>")
            .replace('\n', "<br>")
    )
}

/// Escapes text for HTML (element content and attribute values).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_filled_and_escaped() {
        let to = Email::parse("a@example.com").expect("valid");
        let mail = render(
            MailKind::PasswordReset,
            "fr",
            to,
            "<Ann>",
            "Acme",
            "https://x.test/r?t=1&u=2",
            60,
        );
        assert_eq!(mail.subject, "Reset your password");
        assert!(mail.text.contains("“Ann”") && mail.text.contains("https://x.test/r?t=1&u=2"));
        assert!(mail.html.contains("t=1&amp;u=2"));
        assert!(!mail.html.contains("<Ann>") && !mail.text.contains("<Ann>"));
    }

    #[test]
    fn tenant_text_is_fenced() {
        assert_eq!(fence("Acme Ltd."), "“Acme Ltd”");
        assert_eq!(
            fence("Win! Visit https://evil.example/claim now <b>x</b>"),
            "“Win Visit https evil example claim now b x b”"
        );
        assert_eq!(fence("Zoë O'Brien-Smith & Co"), "“Zoë O'Brien-Smith & Co”");
        let long = fence(&"a".repeat(500));
        assert_eq!(long.chars().count(), FENCED_MAX_CHARS + 3);
        let to = Email::parse("a@example.com").expect("valid");
        let mail = render(
            MailKind::Invitation,
            "en",
            to,
            "Ann\n\nClick www.evil.example",
            "Acme: log in at evil.example/x",
            "https://app.test/r?t=1",
            60,
        );
        assert!(!mail.text.contains("evil.example"), "{}", mail.text);
        assert!(!mail.html.contains("evil.example"));
    }
}
