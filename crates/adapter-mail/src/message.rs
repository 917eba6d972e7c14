use aura_identity::{Email, mail::OutgoingMail, ports::MailError};
use lettre::{
    Message,
    message::{
        Body, Mailbox, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType},
    },
};

use crate::MailConfigError;

pub(crate) fn parse_from(from: &str) -> Result<Mailbox, MailConfigError> {
    from.trim().parse::<Mailbox>().map_err(|_| {
        MailConfigError::invalid(
            "from",
            "expected `Name <address@example.com>` or an address",
        )
    })
}

/// The part after the `@`: all that logs may say about a recipient.
pub(crate) fn recipient_domain(to: &Email) -> &str {
    to.as_str()
        .rsplit_once('@')
        .map_or("", |(_, domain)| domain)
}

/// A multipart/alternative message (plain text first, then HTML), with a Message-ID in the
/// sender's domain (not the host name). `readable` writes the bodies unencoded (`binary`,
/// fine for a file, not for SMTP), so a developer can copy links out of an `.eml` file;
/// otherwise lettre picks a transfer encoding that any SMTP server accepts.
pub(crate) fn build(
    from: &Mailbox,
    mail: &OutgoingMail,
    readable: bool,
) -> Result<Message, MailError> {
    let to = mail
        .to
        .as_str()
        .parse()
        .map(|address| Mailbox::new(None, address))
        .map_err(|_| MailError("the recipient address is not usable for mail".to_owned()))?;
    let body = |content: &str| {
        if readable {
            Body::new_with_encoding(content.to_owned(), ContentTransferEncoding::Binary)
                .unwrap_or_else(|_| Body::new(content.to_owned()))
        } else {
            Body::new(content.to_owned())
        }
    };
    let alternative = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body(&mail.text)),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(body(&mail.html)),
        );
    let domain = from.email.domain();
    Message::builder()
        .message_id(Some(format!("<{}@{domain}>", uuid::Uuid::new_v4())))
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(alternative)
        .map_err(|_| MailError("the message could not be built".to_owned()))
}
