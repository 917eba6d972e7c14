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

/// The messages identity sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    PasswordReset,
    Invitation,
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

/// Renders a message in the tenant's language (English when there is no translation).
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
    let fill = |s: &str, escape: fn(&str) -> String| {
        s.replace("{name}", &escape(name))
            .replace("{organisation}", &escape(organisation))
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
        assert!(mail.text.contains("<Ann>") && mail.text.contains("https://x.test/r?t=1&u=2"));
        assert!(mail.html.contains("&lt;Ann&gt;") && mail.html.contains("t=1&amp;u=2"));
        assert!(!mail.html.contains("<Ann>"));
    }
}
