//! Outgoing mail for the identity [`Mailer`](aura_identity::ports::Mailer) port, chosen by
//! configuration ([`MailConfig`]):
//!
//! - [`SmtpMailer`]: lettre's pooled async SMTP transport on Tokio (production);
//! - [`FileMailer`]: one `.eml` file per message in a folder (development: the reset link
//!   is there);
//! - [`LogMailer`]: logs the subject and the recipient's domain, nothing else;
//! - [`OutboxMailer`]: keeps every mail in memory for tests to read;
//! - [`MailerAddressRules`]: identity's `AddressRules` by lettre's own address parser
//!   (NFC, domains as IDNA A-labels, no mixed-script look-alikes);
//! - [`BackgroundMailer`]: wraps any of them so `send` returns at once (delivery in a
//!   Tokio task), keeping request latency independent of the mail server.
//!
//! No adapter logs a recipient address or a message body (bodies carry tokens), and no
//! error text contains either.

mod address;
mod background;
mod config;
mod file;
mod log;
mod message;
mod outbox;
mod smtp;

pub use address::MailerAddressRules;
pub use background::BackgroundMailer;
pub use config::{MailConfig, MailConfigError, mailer_from_config};
pub use file::FileMailer;
pub use log::LogMailer;
pub use outbox::OutboxMailer;
pub use smtp::{SmtpConfig, SmtpMailer, SmtpTls};
