//! A small in-process SMTP server for tests (127.0.0.1, port 0, no TLS): enough ESMTP for
//! lettre (greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT).
//! It records every accepted message with its envelope, raw data, decoded subject and
//! decoded text and HTML parts, and can be told at run time to misbehave: defer (451) or
//! refuse (554) at RCPT or after the message content, drop the connection, or stall
//! (take the whole message, then never answer).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream, tcp::OwnedReadHalf},
    sync::watch,
};

/// Where a failure mode strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// In answer to `RCPT TO` (the message is never transferred).
    Rcpt,
    /// After the whole message content (the final reply to `DATA`).
    Data,
}

/// How the server answers; read afresh at every stage of every connection, so a change
/// applies to pooled connections too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// `451 4.3.0` (try again later) at the stage.
    Defer(Stage),
    /// `554 5.7.1` (refused for good) at the stage.
    Refuse(Stage),
    /// Closes the connection without a word when a transaction starts (`MAIL FROM`).
    Drop,
    /// Takes the message content, then never answers (until the client goes away).
    Stall,
}

/// One message as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO`), bare addresses.
    pub recipients: Vec<String>,
    /// The message as transferred, dot-unstuffed, CRLF line ends.
    pub raw: String,
    /// The `Subject` header, RFC 2047 encoded words decoded.
    pub subject: String,
    /// The text/plain part, transfer encoding undone, LF line ends.
    pub text: String,
    /// The text/html part, likewise.
    pub html: String,
}

/// What happened on the server so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections: usize,
    /// `DATA` commands answered with 354.
    pub data_started: usize,
    pub accepted: usize,
    pub deferred: usize,
    pub refused: usize,
    pub dropped: usize,
    /// Messages taken and never answered.
    pub stalled: usize,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    accepted: Vec<Message>,
    stalled: Vec<Message>,
    stats: Stats,
}

struct Shared {
    state: Mutex<State>,
    /// Bumped on every change of `state`, so waiters wake up.
    changed: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.lock());
        self.changed.send_modify(|version| *version += 1);
    }

    fn mode(&self) -> Mode {
        self.lock().mode
    }
}

/// The running server; it stops when dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl SmtpServer {
    /// Listens on 127.0.0.1 (a free port), accepting mail.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test SMTP server");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                mode: Mode::Accept,
                accepted: Vec::new(),
                stalled: Vec::new(),
                stats: Stats::default(),
            }),
            changed: watch::channel(0).0,
        });
        let serving = Arc::clone(&shared);
        let accept_loop = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                serving.update(|s| s.stats.connections += 1);
                tokio::spawn(serve(stream, Arc::clone(&serving)));
            }
        });
        Self {
            addr,
            shared,
            accept_loop,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.update(|s| s.mode = mode);
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.shared.lock().accepted.clone()
    }

    /// The accepted messages not taken before (and forgets them).
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut self.shared.lock().accepted)
    }

    /// Messages the server took in stall mode and never answered.
    pub fn stalled(&self) -> Vec<Message> {
        self.shared.lock().stalled.clone()
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Waits (at most `within`) until `condition` holds for the stats; panics naming
    /// `what` otherwise. Returns the stats that satisfied it.
    pub async fn wait_until(
        &self,
        what: &str,
        within: Duration,
        condition: impl Fn(&Stats) -> bool,
    ) -> Stats {
        let mut changes = self.shared.changed.subscribe();
        let waited = tokio::time::timeout(within, async {
            loop {
                let stats = self.stats();
                if condition(&stats) {
                    return stats;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        match waited {
            Ok(stats) => stats,
            Err(_) => panic!(
                "SMTP server: {what} did not happen within {within:?} ({:?})",
                self.stats()
            ),
        }
    }
}

/// Reads one line (up to LF) as text; `None` when the client has gone.
async fn read_line(reader: &mut BufReader<OwnedReadHalf>) -> Option<String> {
    let mut line = Vec::new();
    match reader.read_until(b'\n', &mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(String::from_utf8_lossy(&line).into_owned()),
    }
}

/// The address inside `<…>` of a `MAIL FROM` / `RCPT TO` argument.
fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].trim().to_owned()
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    macro_rules! reply {
        ($text:expr) => {
            if write.write_all($text.as_bytes()).await.is_err() {
                return;
            }
        };
    }
    reply!("220 smtp.aura.test ESMTP test server ready\r\n");
    let mut current = Message::default();
    loop {
        let Some(line) = read_line(&mut reader).await else {
            return;
        };
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            reply!("250-smtp.aura.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
        } else if command.starts_with("HELO") {
            reply!("250 smtp.aura.test\r\n");
        } else if command.starts_with("MAIL FROM") {
            if shared.mode() == Mode::Drop {
                shared.update(|s| s.stats.dropped += 1);
                return;
            }
            current = Message {
                mail_from: address(&line),
                ..Message::default()
            };
            reply!("250 2.1.0 Ok\r\n");
        } else if command.starts_with("RCPT TO") {
            match shared.mode() {
                Mode::Defer(Stage::Rcpt) => {
                    shared.update(|s| s.stats.deferred += 1);
                    reply!("451 4.3.0 Mailbox temporarily unavailable, try again later\r\n");
                }
                Mode::Refuse(Stage::Rcpt) => {
                    shared.update(|s| s.stats.refused += 1);
                    reply!("554 5.7.1 Recipient refused\r\n");
                }
                _ => {
                    current.recipients.push(address(&line));
                    reply!("250 2.1.5 Ok\r\n");
                }
            }
        } else if command == "DATA" {
            if current.recipients.is_empty() {
                reply!("554 5.5.1 No valid recipients\r\n");
                continue;
            }
            shared.update(|s| s.stats.data_started += 1);
            reply!("354 End data with <CR><LF>.<CR><LF>\r\n");
            let mut raw = String::new();
            loop {
                let Some(data_line) = read_line(&mut reader).await else {
                    return;
                };
                if data_line.trim_end_matches(['\r', '\n']) == "." {
                    break;
                }
                // Dot-unstuffing (RFC 5321 4.5.2).
                raw.push_str(data_line.strip_prefix('.').unwrap_or(&data_line));
            }
            let mut message = std::mem::take(&mut current);
            let (subject, text, html) = parse(&raw);
            message.raw = raw;
            message.subject = subject;
            message.text = text;
            message.html = html;
            match shared.mode() {
                Mode::Defer(Stage::Data) => {
                    shared.update(|s| s.stats.deferred += 1);
                    reply!("451 4.3.0 Temporary failure, try again later\r\n");
                }
                Mode::Refuse(Stage::Data) => {
                    shared.update(|s| s.stats.refused += 1);
                    reply!("554 5.7.1 Message refused\r\n");
                }
                Mode::Stall => {
                    shared.update(|s| {
                        s.stats.stalled += 1;
                        s.stalled.push(message);
                    });
                    // Never answer; end when the client goes away.
                    while read_line(&mut reader).await.is_some() {}
                    return;
                }
                Mode::Accept
                | Mode::Defer(Stage::Rcpt)
                | Mode::Refuse(Stage::Rcpt)
                | Mode::Drop => {
                    shared.update(|s| {
                        s.stats.accepted += 1;
                        s.accepted.push(message);
                    });
                    reply!("250 2.0.0 Ok: queued\r\n");
                }
            }
        } else if command == "RSET" {
            current = Message::default();
            reply!("250 2.0.0 Ok\r\n");
        } else if command == "NOOP" {
            reply!("250 2.0.0 Ok\r\n");
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
            return;
        } else {
            reply!("502 5.5.2 Command not recognized\r\n");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Just enough MIME to assert on what lettre sends.

/// Subject, text/plain and text/html of a raw message.
pub fn parse(raw: &str) -> (String, String, String) {
    let normalized = raw.replace("\r\n", "\n");
    let (headers, body) = split_headers(&normalized);
    let subject = header(&headers, "subject")
        .map(decode_words)
        .unwrap_or_default();
    let (mut text, mut html) = (String::new(), String::new());
    let content_type = header(&headers, "content-type").unwrap_or("text/plain");
    match boundary(content_type) {
        Some(boundary) => {
            let delimiter = format!("--{boundary}");
            for part in body.split(delimiter.as_str()).skip(1) {
                if part.starts_with("--") {
                    break;
                }
                let part = part.strip_prefix('\n').unwrap_or(part);
                let part = part.strip_suffix('\n').unwrap_or(part);
                let (part_headers, part_body) = split_headers(part);
                let decoded = decode_body(&part_headers, part_body);
                let kind = header(&part_headers, "content-type")
                    .unwrap_or("text/plain")
                    .to_ascii_lowercase();
                if kind.starts_with("text/plain") {
                    text = decoded;
                } else if kind.starts_with("text/html") {
                    html = decoded;
                }
            }
        }
        None => {
            let decoded = decode_body(&headers, body);
            if content_type.to_ascii_lowercase().starts_with("text/html") {
                html = decoded;
            } else {
                text = decoded;
            }
        }
    }
    (subject, text, html)
}

/// Unfolded headers (name in lower case, value) and the body.
fn split_headers(section: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = section.split_once("\n\n").unwrap_or((section, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    (headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn boundary(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    let at = content_type.to_ascii_lowercase().find("boundary=")? + "boundary=".len();
    let rest = &content_type[at..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or_default(),
        None => rest.split([';', ' ', '\t']).next().unwrap_or_default(),
    };
    Some(value.to_owned())
}

fn decode_body(headers: &[(String, String)], body: &str) -> String {
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => base64_bytes(&body.split_whitespace().collect::<String>()),
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

fn base64_bytes(encoded: &str) -> Vec<u8> {
    STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded.trim_end_matches('=')))
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    std::str::from_utf8(pair)
        .ok()
        .and_then(|hex| u8::from_str_radix(hex, 16).ok())
}

/// Quoted-printable (RFC 2045 6.7), soft line breaks removed.
fn quoted_printable(body: &str) -> Vec<u8> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(byte) = bytes.get(i + 1..i + 3).and_then(hex_byte) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The bytes of one RFC 2047 encoded word (`=?charset?B|Q?data?=`), if it is one.
fn encoded_word(word: &str) -> Option<Vec<u8>> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (_charset, encoding, data) = (parts.next()?, parts.next()?, parts.next()?);
    match encoding {
        "B" | "b" => Some(base64_bytes(data)),
        "Q" | "q" => Some(quoted_printable(&data.replace('_', " "))),
        _ => None,
    }
}

/// A header value with its encoded words decoded (whitespace between two encoded words
/// dropped, other runs of whitespace read as one space).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut previous_encoded: Option<bool> = None;
    for word in value.split_whitespace() {
        let decoded = encoded_word(word);
        let encoded = decoded.is_some();
        if previous_encoded == Some(true) && !encoded {
            out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut pending)));
        }
        if previous_encoded.is_some() && !(previous_encoded == Some(true) && encoded) {
            out.push(' ');
        }
        match decoded {
            Some(bytes) => pending.extend(bytes),
            None => out.push_str(word),
        }
        previous_encoded = Some(encoded);
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out
}
