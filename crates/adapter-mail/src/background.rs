use std::sync::Arc;

use aura_identity::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};
use tokio::sync::Semaphore;

use crate::message::recipient_domain;

/// Hands each message to a Tokio task and returns at once, so a request never waits on
/// (nor is timed by) the SMTP server: a password-reset answer then takes the same time
/// whether or not a mail goes out. Failures are logged (without recipient or body), not
/// returned. At most `capacity` messages are in flight; beyond that `send` fails with
/// "mail queue full". Messages still in flight when the runtime shuts down are lost.
#[derive(Clone)]
pub struct BackgroundMailer {
    inner: Arc<dyn Mailer>,
    slots: Arc<Semaphore>,
}

impl BackgroundMailer {
    pub fn new(inner: Arc<dyn Mailer>, capacity: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(capacity.max(1))),
        }
    }
}

impl std::fmt::Debug for BackgroundMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundMailer")
            .field("free_slots", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Mailer for BackgroundMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
            tracing::warn!(
                recipient_domain = %recipient_domain(&mail.to),
                "mail queue full; message dropped"
            );
            return Err(MailError("mail queue full".to_owned()));
        };
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            let _slot = slot;
            let domain = recipient_domain(&mail.to).to_owned();
            if let Err(error) = inner.send(mail).await {
                tracing::warn!(recipient_domain = %domain, %error, "background mail delivery failed");
            }
        });
        Ok(())
    }
}
