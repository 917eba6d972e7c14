//! The accountability pack as a ZIP (deflate): written in the order given, read back
//! with a cap on what is unpacked, so a crafted archive cannot exhaust memory.

use std::io::{Cursor, Read, Write};

use aura_packs::ports::{Archive, ArchiveError, PackFile};
use zip::{CompressionMethod, ZipArchive, ZipWriter, write::SimpleFileOptions};

/// [`Archive`] as ZIP.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZipArchiver;

fn failed(e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError(e.to_string())
}

impl Archive for ZipArchiver {
    fn pack(&self, files: &[PackFile]) -> Result<Vec<u8>, ArchiveError> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for file in files {
            zip.start_file(file.name.as_str(), options)
                .map_err(failed)?;
            zip.write_all(&file.bytes).map_err(failed)?;
        }
        Ok(zip.finish().map_err(failed)?.into_inner())
    }

    fn unpack(&self, bytes: &[u8], max_bytes: u64) -> Result<Vec<PackFile>, ArchiveError> {
        let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(failed)?;
        let mut files = Vec::with_capacity(zip.len());
        let mut left = max_bytes;
        for index in 0..zip.len() {
            let entry = zip.by_index(index).map_err(failed)?;
            if entry.is_dir() {
                continue;
            }
            let name = entry.name().to_owned();
            let mut content = Vec::new();
            // One byte over what is left tells an oversized entry apart, whatever the
            // header claims.
            entry
                .take(left.saturating_add(1))
                .read_to_end(&mut content)
                .map_err(failed)?;
            left = left
                .checked_sub(content.len() as u64)
                .ok_or_else(|| ArchiveError(format!("more than {max_bytes} bytes unpacked")))?;
            files.push(PackFile {
                name,
                bytes: content,
            });
        }
        Ok(files)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_come_back_as_written_and_the_cap_holds() {
        let files = vec![
            PackFile::new("a.csv", "x".repeat(10_000)),
            PackFile::new("b.json", "{}"),
        ];
        let bytes = ZipArchiver.pack(&files).unwrap();
        assert!(bytes.len() < 1_000, "deflated");
        assert_eq!(ZipArchiver.unpack(&bytes, 1 << 20).unwrap(), files);
        assert!(ZipArchiver.unpack(&bytes, 5_000).is_err());
        assert!(ZipArchiver.unpack(b"not a zip", 1 << 20).is_err());
    }
}
