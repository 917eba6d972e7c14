use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use aura_identity::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};
use lettre::message::Mailbox;

use crate::{
    MailConfigError,
    message::{build, parse_from, recipient_domain},
};

/// Development mailer: writes each message as an `.eml` file (RFC 5322, 8-bit bodies where
/// possible, so links can be copied) into a folder. Files are created with mode 0600:
/// they carry reset and invitation tokens.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: Arc<PathBuf>,
    from: Mailbox,
}

impl FileMailer {
    /// Creates `dir` when missing. `from` is `Name <address>` or a bare address.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self, MailConfigError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| MailConfigError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir: Arc::new(dir),
            from: parse_from(from)?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let bytes = build(&self.from, &mail, true)?.formatted();
        let now = time::OffsetDateTime::now_utc();
        let stamp = now
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_else(|_| now.unix_timestamp().to_string());
        let name = format!("{stamp}-{}.eml", uuid::Uuid::now_v7().simple());
        let dir = Arc::clone(&self.dir);
        let path = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
            .await
            .map_err(|_| MailError("writing the mail file failed".to_owned()))?
            .map_err(|e| {
                tracing::warn!(error = %e, "writing the mail file failed");
                MailError("writing the mail file failed".to_owned())
            })?;
        tracing::info!(
            path = %path.display(),
            subject = %mail.subject,
            recipient_domain = %recipient_domain(&mail.to),
            "mail written to file"
        );
        Ok(())
    }
}

/// Writes to a hidden temporary name, then renames, so a watcher never sees half a file.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let temporary = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let mut file = open_private_new(&temporary)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, &target)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(target)
}

#[cfg(unix)]
fn open_private_new(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
