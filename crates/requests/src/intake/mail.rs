//! The confirmation mail, in the page's language. The link is the only way to confirm:
//! the text says so, and what happens if the person did not ask for it (nothing).

use aura_identity::{
    Email,
    mail::{OutgoingMail, html_document, html_escape},
};

use crate::intake::settings::IntakeLanguage;

struct Texts {
    subject: &'static str,
    /// `{organisation}`, `{link}` and `{hours}` are filled in.
    body: &'static str,
}

fn texts(language: IntakeLanguage) -> Texts {
    match language {
        IntakeLanguage::De => Texts {
            subject: "Bitte bestätigen Sie Ihre Datenschutz-Anfrage",
            body: "Guten Tag,\n\nSie haben über die Website von {organisation} eine Anfrage zu Ihren personenbezogenen Daten gestellt. Bitte bestätigen Sie sie innerhalb von {hours} Stunden über diesen Link; erst dann wird sie bearbeitet:\n\n{link}\n\nWenn Sie keine Anfrage gestellt haben, ignorieren Sie diese Nachricht; es geschieht dann nichts.",
        },
        IntakeLanguage::En => Texts {
            subject: "Please confirm your privacy request",
            body: "Hello,\n\nyou sent {organisation} a request about your personal data through its website. Please confirm it within {hours} hours with this link; only then will it be handled:\n\n{link}\n\nIf you did not send a request, ignore this message and nothing will happen.",
        },
    }
}

/// The confirmation mail to `to` with `link`.
pub fn confirmation(
    language: IntakeLanguage,
    to: Email,
    organisation: &str,
    link: &str,
    hours: i64,
) -> OutgoingMail {
    let texts = texts(language);
    let fill = |s: &str, escape: fn(&str) -> String| {
        s.replace("{organisation}", &escape(organisation))
            .replace("{link}", &escape(link))
            .replace("{hours}", &hours.to_string())
    };
    OutgoingMail {
        to,
        subject: texts.subject.to_owned(),
        text: fill(texts.body, str::to_owned),
        html: html_document(&fill(&html_escape(texts.body), html_escape)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_carries_the_link_in_the_language_escaped() {
        let to = Email::parse("erika@example.test").expect("valid");
        let link = "https://aura.example/public/acme/requests/confirm/abc";
        let de = confirmation(IntakeLanguage::De, to.clone(), "Müller & Co", link, 24);
        assert!(de.subject.starts_with("Bitte bestätigen"));
        assert!(de.text.contains(link) && de.text.contains("Müller & Co"));
        assert!(de.html.contains("Müller &amp; Co"));
        let en = confirmation(IntakeLanguage::En, to, "<b>", link, 24);
        assert!(en.text.contains("24 hours"));
        assert!(en.html.contains("&lt;b&gt;") && !en.html.contains("<b>"));
    }
}
