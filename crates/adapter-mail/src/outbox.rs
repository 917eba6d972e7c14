use std::sync::{Arc, Mutex, PoisonError};

use aura_identity::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};

/// Delivers nothing: keeps every mail sent, oldest first, for whoever holds a clone to
/// read (the use-case and job tests that check what was mailed).
#[derive(Debug, Default, Clone)]
pub struct OutboxMailer(Arc<Mutex<Vec<OutgoingMail>>>);

impl OutboxMailer {
    /// The mails sent since the last call, oldest first.
    pub fn take(&self) -> Vec<OutgoingMail> {
        let mut sent = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *sent)
    }
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let mut sent = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        sent.push(mail);
        Ok(())
    }
}
