use std::{path::PathBuf, sync::Arc};

use aura_identity::ports::Mailer;

use crate::{FileMailer, LogMailer, SmtpConfig, SmtpMailer};

/// Which mailer to run, and its settings.
#[derive(Debug, Clone)]
pub enum MailConfig {
    /// Deliver through an SMTP server.
    Smtp(SmtpConfig),
    /// Write each message as `<time>-<id>.eml` into `dir` (development).
    File {
        dir: PathBuf,
        /// `Name <address>` or a bare address.
        from: String,
    },
    /// Log subject and recipient domain only; nothing is delivered.
    Log,
}

/// A mail setting that cannot work; found at start-up. Never contains a password.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("invalid mail setting `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the SMTP mailer must be created inside a Tokio runtime")]
    NoRuntime,
    #[error("cannot prepare the mail folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl MailConfigError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Builds the configured mailer. The SMTP mailer needs a Tokio runtime (call this from
/// async code, e.g. inside `#[actix_web::main]`).
pub fn mailer_from_config(config: MailConfig) -> Result<Arc<dyn Mailer>, MailConfigError> {
    Ok(match config {
        MailConfig::Smtp(smtp) => Arc::new(SmtpMailer::new(smtp)?),
        MailConfig::File { dir, from } => Arc::new(FileMailer::new(dir, &from)?),
        MailConfig::Log => Arc::new(LogMailer),
    })
}
