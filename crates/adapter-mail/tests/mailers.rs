//! The mailers against a small in-process SMTP server, a folder, and a captured log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use aura_adapter_mail::{
    BackgroundMailer, FileMailer, LogMailer, MailConfig, MailConfigError, SmtpConfig, SmtpMailer,
    SmtpTls, mailer_from_config,
};
use aura_identity::{
    Email,
    mail::{MailKind, OutgoingMail, render},
    ports::Mailer,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

const RECIPIENT: &str = "alice.private@customer.example";
const SECRET_LINK: &str = "https://app.aura.test/reset?token=SECRET-TOKEN-123&x=1";
/// Every test is bounded: a hang fails the test instead of blocking the suite.
const TEST_BOUND: Duration = Duration::from_secs(20);

fn mail() -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(RECIPIENT).unwrap(),
        subject: "Reset your password".to_owned(),
        text: format!("Hello Alice,\n\nuse this link: {SECRET_LINK}\n"),
        html: format!(
            "<!doctype html><html><body><p><a href=\"{SECRET_LINK}\">Reset</a></p></body></html>"
        ),
    }
}

// ---------------------------------------------------------------------------------------
// A fake SMTP server: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Accept,
    /// 550 at RCPT, quoting the address as real servers do.
    RejectRecipient,
    /// 451 at MAIL.
    Defer,
    /// Accepts the connection and never says a word.
    Silent,
    /// On the first connection, swallows the message and never answers its end.
    HangFirstData,
}

#[derive(Debug, Default, Clone)]
struct Received {
    mail_from: String,
    recipients: Vec<String>,
    data: String,
}

struct FakeSmtp {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeSmtp {
    async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        tokio::spawn(async move {
            let mut connection = 0;
            while let Ok((stream, _)) = listener.accept().await {
                connection += 1;
                tokio::spawn(serve(stream, behaviour, connection, Arc::clone(&store)));
            }
        });
        Self { addr, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: self.addr.port(),
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "AURA-GDPR <no-reply@aura.test>".to_owned(),
            timeout: Duration::from_secs(2),
        }
    }
}

/// `message` holds each of `parts`.
#[track_caller]
fn assert_holds(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
}

/// The client's next line, or `None` once it hung up or the read failed.
async fn next_line(lines: &mut (impl AsyncBufReadExt + Unpin)) -> Option<String> {
    let mut line = String::new();
    match lines.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

/// The message after `DATA`, up to the line holding a lone dot; `None` if the client
/// hung up before it.
async fn message_data(lines: &mut (impl AsyncBufReadExt + Unpin)) -> Option<String> {
    let mut data = String::new();
    loop {
        let line = next_line(lines).await?;
        if line == ".\r\n" {
            return Some(data);
        }
        data.push_str(&line);
    }
}

async fn serve(
    stream: TcpStream,
    behaviour: Behaviour,
    connection: usize,
    store: Arc<Mutex<Vec<Received>>>,
) {
    if behaviour == Behaviour::Silent {
        let _held = stream;
        std::future::pending::<()>().await;
        return;
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
    if !reply("220 fake.test ESMTP ready\r\n").await {
        return;
    }
    let mut current = Received::default();
    loop {
        let Some(line) = next_line(&mut lines).await else {
            return;
        };
        let command = line.trim_end().to_ascii_uppercase();
        let answer = if command.starts_with("EHLO") {
            "250-fake.test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n".to_owned()
        } else if command.starts_with("HELO") {
            "250 fake.test\r\n".to_owned()
        } else if command.starts_with("MAIL FROM") {
            if behaviour == Behaviour::Defer {
                "451 4.3.0 Try again later\r\n".to_owned()
            } else {
                current.mail_from = line.trim_end().to_owned();
                "250 2.1.0 OK\r\n".to_owned()
            }
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..].trim().to_owned();
            if behaviour == Behaviour::RejectRecipient {
                format!("550 5.1.1 {address}: Recipient address rejected: user unknown\r\n")
            } else {
                current.recipients.push(address);
                "250 2.1.5 OK\r\n".to_owned()
            }
        } else if command == "DATA" {
            if !reply("354 End data with <CR><LF>.<CR><LF>\r\n").await {
                return;
            }
            let Some(data) = message_data(&mut lines).await else {
                return;
            };
            if behaviour == Behaviour::HangFirstData && connection == 1 {
                std::future::pending::<()>().await;
            }
            current.data = data;
            store.lock().unwrap().push(std::mem::take(&mut current));
            "250 2.0.0 Ok: queued\r\n".to_owned()
        } else if command == "RSET" {
            current = Received::default();
            "250 2.0.0 OK\r\n".to_owned()
        } else if command == "NOOP" {
            "250 2.0.0 OK\r\n".to_owned()
        } else if command == "QUIT" {
            let _ = reply("221 2.0.0 Bye\r\n").await;
            return;
        } else {
            "502 5.5.2 Command not recognized\r\n".to_owned()
        };
        if !reply(&answer).await {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Log capture: everything our code logs, at every level, on this thread.

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn assert_private(text: &str) {
    assert!(!text.contains("alice.private"), "recipient leaked: {text}");
    assert!(!text.contains("SECRET-TOKEN"), "body leaked: {text}");
}

async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_BOUND, future)
        .await
        .expect("the mailer must not hang")
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn smtp_delivers_a_multipart_alternative_message() {
    let (logs, _guard) = capture_logs();
    let server = FakeSmtp::start(Behaviour::Accept).await;
    let mailer = SmtpMailer::new(server.config()).unwrap();

    bounded(mailer.send(mail())).await.unwrap();
    // A second message reuses the pooled connection (NOOP, then a new transaction).
    bounded(mailer.send(mail())).await.unwrap();

    let received = server.received();
    assert_eq!(received.len(), 2);
    let first = &received[0];
    assert_eq!(first.recipients, vec![format!("<{RECIPIENT}>")]);
    assert!(
        first.mail_from.contains("<no-reply@aura.test>"),
        "{}",
        first.mail_from
    );
    let data = &first.data;
    assert_holds(
        data,
        &[
            "Subject: Reset your password\r\n",
            &format!("To: {RECIPIENT}\r\n"),
            "From: AURA-GDPR <no-reply@aura.test>\r\n",
            "Content-Type: multipart/alternative",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
        ],
    );
    let message_id = data
        .lines()
        .find(|line| line.starts_with("Message-ID: <"))
        .expect("a Message-ID");
    assert!(
        message_id.ends_with("@aura.test>"),
        "in the sender's domain: {message_id}"
    );
    assert!(data.contains("SECRET-TOKEN-123"), "the link must arrive");
    let plain = data.find("text/plain").unwrap();
    let html = data.find("text/html").unwrap();
    assert!(plain < html, "plain text first, HTML last (preferred)");

    drop(mailer);
    assert_private(&logs.text());
}

#[tokio::test]
async fn smtp_refusals_are_errors_without_recipient_or_body() {
    let (logs, _guard) = capture_logs();
    for (behaviour, expected) in [
        (Behaviour::RejectRecipient, "refused the message (550)"),
        (Behaviour::Defer, "deferred the message (451)"),
    ] {
        let server = FakeSmtp::start(behaviour).await;
        let mailer = SmtpMailer::new(server.config()).unwrap();
        let error = bounded(mailer.send(mail())).await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains(expected), "{behaviour:?}: {text}");
        assert_private(&text);
        assert_private(&format!("{error:?}"));
        assert!(server.received().is_empty());
    }
    assert!(logs.text().contains("mail delivery failed"));
    assert_private(&logs.text());
}

#[tokio::test]
async fn smtp_closed_port_is_an_error() {
    let (logs, _guard) = capture_logs();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = SmtpConfig::new("127.0.0.1", SmtpTls::None, "no-reply@aura.test");
    config.port = port;
    config.timeout = Duration::from_secs(2);
    let mailer = SmtpMailer::new(config).unwrap();
    let error = bounded(mailer.send(mail())).await.unwrap_err();
    assert_eq!(error.0, "smtp connection failed");
    assert_private(&logs.text());
}

#[tokio::test]
async fn smtp_tls_against_a_plain_server_fails_cleanly() {
    let (logs, _guard) = capture_logs();
    for tls in [SmtpTls::Tls, SmtpTls::StartTls] {
        let server = FakeSmtp::start(Behaviour::Accept).await;
        let mut config = server.config();
        config.tls = tls;
        let mailer = SmtpMailer::new(config).unwrap();
        let error = bounded(mailer.send(mail())).await.unwrap_err();
        assert_private(&error.to_string());
        assert!(
            server.received().is_empty(),
            "{tls:?}: nothing may be sent in clear"
        );
    }
    assert_private(&logs.text());
}

#[tokio::test]
async fn smtp_silent_server_times_out() {
    let server = FakeSmtp::start(Behaviour::Silent).await;
    let mailer = SmtpMailer::new(server.config()).unwrap();
    let started = std::time::Instant::now();
    let error = bounded(mailer.send(mail())).await.unwrap_err();
    assert!(error.0.contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_timed_out_connection_is_not_reused() {
    let server = FakeSmtp::start(Behaviour::HangFirstData).await;
    let mailer = SmtpMailer::new(server.config()).unwrap();
    let error = bounded(mailer.send(mail())).await.unwrap_err();
    assert!(error.0.contains("timed out"), "{error}");
    // Let lettre's pool park the abandoned connection (it does so in a spawned task).
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Had the stuck connection been reused, this would wait on it until the timeout.
    bounded(mailer.send(mail())).await.unwrap();
    assert_eq!(server.received().len(), 1);
}

#[test]
fn the_pool_lives_and_dies_with_a_runtime() {
    // Created outside any runtime: refused, not a panic.
    let config = SmtpConfig::new("127.0.0.1", SmtpTls::None, "no-reply@aura.test");
    assert!(matches!(
        SmtpMailer::new(config),
        Err(MailConfigError::NoRuntime)
    ));

    // Created and used inside a runtime, dropped outside it: no panic.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (mailer, server) = runtime.block_on(async {
        let server = FakeSmtp::start(Behaviour::Accept).await;
        let mailer = SmtpMailer::new(server.config()).unwrap();
        bounded(mailer.send(mail())).await.unwrap();
        (mailer, server)
    });
    drop(mailer);
    assert_eq!(server.received().len(), 1);

    // Dropped after its runtime is gone: no panic either.
    let mailer = runtime.block_on(async { SmtpMailer::new(server.config()).unwrap() });
    drop(runtime);
    drop(mailer);
}

#[tokio::test]
async fn smtp_settings_are_checked() {
    let mut config = SmtpConfig::new("smtp.example.com", SmtpTls::None, "no-reply@aura.test");
    config.username = Some("mailer".to_owned());
    config.password = Some("hunter2-smtp-password".to_owned());
    assert!(format!("{config:?}").contains("<redacted>"));
    assert!(!format!("{config:?}").contains("hunter2"));
    // Credentials never travel in plain text to a remote host.
    let error = SmtpMailer::new(config.clone()).unwrap_err();
    assert!(!error.to_string().contains("hunter2"));
    assert!(matches!(
        error,
        MailConfigError::Invalid { field: "tls", .. }
    ));

    config.tls = SmtpTls::StartTls;
    let mailer = SmtpMailer::new(config.clone()).unwrap();
    assert!(!format!("{mailer:?}").contains("hunter2"));

    config.password = None;
    assert!(SmtpMailer::new(config.clone()).is_err());
    let mut config = SmtpConfig::new("smtp.example.com", SmtpTls::Tls, "not an address");
    assert!(SmtpMailer::new(config.clone()).is_err());
    config.from = "AURA <no-reply@aura.test>".to_owned();
    config.timeout = Duration::ZERO;
    assert!(SmtpMailer::new(config).is_err());

    assert_eq!("STARTTLS".parse::<SmtpTls>().unwrap(), SmtpTls::StartTls);
    assert_eq!("tls".parse::<SmtpTls>().unwrap().default_port(), 465);
    assert!("ssl".parse::<SmtpTls>().is_err());
}

struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn file_mailer_writes_a_readable_eml() {
    let (logs, _guard) = capture_logs();
    let dir = ScratchDir(std::env::temp_dir().join(format!("aura-mail-{}", uuid::Uuid::new_v4())));
    let mailer = mailer_from_config(MailConfig::File {
        dir: dir.0.join("outbox"),
        from: "AURA-GDPR <no-reply@aura.test>".to_owned(),
    })
    .unwrap();
    let rendered = render(
        MailKind::PasswordReset,
        "de",
        Email::parse(RECIPIENT).unwrap(),
        "Jörg",
        "Müller & Co",
        SECRET_LINK,
        60,
    );
    bounded(mailer.send(rendered)).await.unwrap();

    let files: Vec<_> = std::fs::read_dir(dir.0.join("outbox"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    // Readable: 8-bit text, the link exactly as sent (not quoted-printable).
    assert_holds(
        &eml,
        &[
            "Subject: ",
            &format!("To: {RECIPIENT}"),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
            "Hallo “Jörg”",
            SECRET_LINK,
        ],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_private(&logs.text());
}

#[tokio::test]
async fn log_mailer_logs_subject_and_domain_only() {
    let (logs, _guard) = capture_logs();
    let mailer = mailer_from_config(MailConfig::Log).unwrap();
    bounded(mailer.send(mail())).await.unwrap();
    LogMailer.send(mail()).await.unwrap();
    let text = logs.text();
    assert!(text.contains("Reset your password"), "{text}");
    assert!(text.contains("customer.example"), "{text}");
    assert_private(&text);
}

#[tokio::test]
async fn file_mailer_refuses_a_bad_sender() {
    let dir = ScratchDir(std::env::temp_dir().join(format!("aura-mail-{}", uuid::Uuid::new_v4())));
    assert!(FileMailer::new(&dir.0, "nobody").is_err());
    assert!(FileMailer::new(&dir.0, "AURA <no-reply@aura.test>").is_ok());
}

#[tokio::test]
async fn background_mailer_returns_at_once_and_bounds_the_queue() {
    let (logs, _guard) = capture_logs();
    // A server that never answers: the caller must not wait for it.
    let silent = FakeSmtp::start(Behaviour::Silent).await;
    let mailer = BackgroundMailer::new(Arc::new(SmtpMailer::new(silent.config()).unwrap()), 1);
    let started = std::time::Instant::now();
    mailer.send(mail()).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    let error = mailer.send(mail()).await.unwrap_err();
    assert_eq!(error.0, "mail queue full");
    // The stuck delivery times out (2 s) in the background, freeing its slot.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(logs.text().contains("background mail delivery failed"));

    let server = FakeSmtp::start(Behaviour::Accept).await;
    let mailer = BackgroundMailer::new(Arc::new(SmtpMailer::new(server.config()).unwrap()), 8);
    mailer.send(mail()).await.unwrap();
    bounded(async {
        while server.received().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_private(&logs.text());
}
