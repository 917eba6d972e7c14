use std::{
    fmt,
    str::FromStr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use aura_identity::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::Mailbox,
    transport::smtp::{PoolConfig, authentication::Credentials},
};

use crate::{
    MailConfigError,
    message::{build, parse_from, recipient_domain},
};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a local relay or a development catcher such as Mailpit).
    None,
    /// Connect in plain text, then STARTTLS, which is required (no downgrade).
    StartTls,
    /// TLS from the first byte (SMTPS, "implicit TLS").
    Tls,
}

impl SmtpTls {
    /// The usual port: 25, 587 (submission) or 465 (submissions).
    pub const fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

impl FromStr for SmtpTls {
    type Err = MailConfigError;

    /// `none`, `starttls` or `tls` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            _ => Err(MailConfigError::invalid(
                "tls",
                "expected none, starttls or tls",
            )),
        }
    }
}

/// SMTP settings. Debug output hides the password.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Set both or neither.
    pub username: Option<String>,
    pub password: Option<String>,
    /// `Name <address@example.com>` or a bare address.
    pub from: String,
    /// Bounds connecting, and each whole delivery (connect, greet, send).
    pub timeout: Duration,
}

impl SmtpConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Settings without credentials, on the usual port for `tls`, with the default timeout.
    pub fn new(host: impl Into<String>, tls: SmtpTls, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: tls.default_port(),
            tls,
            username: None,
            password: None,
            from: from.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Delivers through an SMTP server with lettre's pooled async transport on Tokio.
///
/// The pool spawns Tokio tasks when it is created and when it is dropped, so
/// [`SmtpMailer::new`] must run inside a Tokio runtime; dropping the mailer outside one is
/// handled (the drop enters the runtime it was created in).
pub struct SmtpMailer {
    config: SmtpConfig,
    from: Mailbox,
    transport: Mutex<Option<Arc<Transport>>>,
    runtime: tokio::runtime::Handle,
}

impl SmtpMailer {
    pub fn new(config: SmtpConfig) -> Result<Self, MailConfigError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| MailConfigError::NoRuntime)?;
        if config.host.trim().is_empty() {
            return Err(MailConfigError::invalid("host", "must not be empty"));
        }
        if config.port == 0 {
            return Err(MailConfigError::invalid("port", "must not be 0"));
        }
        if config.timeout.is_zero() {
            return Err(MailConfigError::invalid("timeout", "must be positive"));
        }
        match (&config.username, &config.password) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(MailConfigError::invalid(
                    "username",
                    "set both username and password, or neither",
                ));
            }
            (Some(_), Some(_)) if config.tls == SmtpTls::None && !is_loopback(&config.host) => {
                return Err(MailConfigError::invalid(
                    "tls",
                    "credentials are only sent over starttls or tls (or to localhost)",
                ));
            }
            _ => {}
        }
        let from = parse_from(&config.from)?;
        let transport = build_transport(&config)?;
        Ok(Self {
            config,
            from,
            transport: Mutex::new(Some(Arc::new(transport))),
            runtime,
        })
    }

    fn current(&self) -> Result<Arc<Transport>, MailError> {
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| MailError("the SMTP mailer is shut down".to_owned()))
    }

    /// After a timeout the pooled connection may be stuck mid-transaction, and lettre would
    /// park it for reuse: start over with a fresh pool instead.
    fn replace_transport(&self, stale: &Arc<Transport>) {
        let mut slot = self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, stale))
        {
            match build_transport(&self.config) {
                Ok(fresh) => *slot = Some(Arc::new(fresh)),
                Err(e) => tracing::warn!(error = %e, "could not rebuild the SMTP transport"),
            }
        }
    }
}

fn build_transport(config: &SmtpConfig) -> Result<Transport, MailConfigError> {
    let tls_error = |_| MailConfigError::invalid("host", "not usable as a TLS server name");
    let builder = match config.tls {
        SmtpTls::None => Transport::builder_dangerous(config.host.trim()),
        SmtpTls::StartTls => Transport::starttls_relay(config.host.trim()).map_err(tls_error)?,
        SmtpTls::Tls => Transport::relay(config.host.trim()).map_err(tls_error)?,
    };
    let mut builder = builder
        .port(config.port)
        .timeout(Some(config.timeout))
        .pool_config(
            PoolConfig::new()
                .min_idle(0)
                .max_size(4)
                .idle_timeout(Duration::from_secs(60)),
        );
    if let (Some(username), Some(password)) = (&config.username, &config.password) {
        builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// A description of a failed delivery that names neither recipient nor body (server
/// replies often quote the address, so only the reply code is kept), and whether the
/// error's source may be logged (only I/O and TLS failures, never a server reply).
fn describe(error: &lettre::transport::smtp::Error) -> (String, bool) {
    let code = error
        .status()
        .map(|code| code.to_string())
        .unwrap_or_default();
    if error.is_transient() {
        (format!("smtp server deferred the message ({code})"), false)
    } else if error.is_permanent() {
        (format!("smtp server refused the message ({code})"), false)
    } else if error.is_response() || error.is_client() {
        ("smtp server sent an unexpected reply".to_owned(), false)
    } else if error.is_timeout() {
        ("smtp server timed out".to_owned(), true)
    } else if error.is_tls() {
        ("smtp tls failure".to_owned(), true)
    } else {
        ("smtp connection failed".to_owned(), true)
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let domain = recipient_domain(&mail.to).to_owned();
        let message = build(&self.from, &mail, false)?;
        drop(mail);
        let transport = self.current()?;
        match tokio::time::timeout(self.config.timeout, transport.send(message)).await {
            Ok(Ok(_)) => {
                tracing::debug!(recipient_domain = %domain, "mail delivered to the SMTP server");
                Ok(())
            }
            Ok(Err(error)) => {
                let (reason, source_is_safe) = describe(&error);
                let source = source_is_safe
                    .then(|| std::error::Error::source(&error).map(ToString::to_string))
                    .flatten();
                tracing::warn!(recipient_domain = %domain, %reason, ?source, "mail delivery failed");
                Err(MailError(reason))
            }
            Err(_) => {
                self.replace_transport(&transport);
                tracing::warn!(
                    recipient_domain = %domain,
                    timeout_ms = self.config.timeout.as_millis() as u64,
                    "mail delivery timed out"
                );
                Err(MailError("smtp delivery timed out".to_owned()))
            }
        }
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Drop for SmtpMailer {
    fn drop(&mut self) {
        let transport = self
            .transport
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(transport);
        } else {
            // lettre's pool spawns its shutdown on drop: give it the runtime it came from.
            let _entered = self.runtime.enter();
            drop(transport);
        }
    }
}
