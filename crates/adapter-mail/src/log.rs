use aura_identity::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};

use crate::message::recipient_domain;

/// Delivers nothing: logs the subject and the recipient's domain (never the address, never
/// the body, which carries tokens).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        tracing::info!(
            subject = %mail.subject,
            recipient_domain = %recipient_domain(&mail.to),
            "mail not delivered (log mailer)"
        );
        Ok(())
    }
}
