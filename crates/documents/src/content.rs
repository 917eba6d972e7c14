//! A document's content: immutable versions, the media types allowed and how a file's own
//! bytes are checked against the type it was declared with, and the chunking that keeps
//! memory flat however large the file.

use aura_records::Id;
use aura_shared_kernel::{UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::DocumentId;

/// Plaintext bytes per stored chunk: the most a request holds of a file at once (plus
/// the sealed copy of one chunk).
pub const CHUNK_SIZE: usize = 256 * 1024;

/// Marker of a version's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentVersion {}

pub type VersionId = Id<DocumentVersion>;

aura_gdpr_registers::string_enum!(
    /// The media types a document may have (the allow-list). Each is checked against the
    /// file's own first bytes ([`MediaType::admits`]).
    MediaType {
        Pdf => "application/pdf",
        Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Odt => "application/vnd.oasis.opendocument.text",
        Png => "image/png",
        Jpeg => "image/jpeg",
        PlainText => "text/plain",
        /// An e-mail as sent (RFC 5322).
        Email => "message/rfc822",
    }
);

/// How many leading bytes [`MediaType::admits`] needs at most.
pub const SNIFF_BYTES: usize = 512;

const ZIP: &[u8] = b"PK\x03\x04";
const ODT_MIMETYPE: &[u8] = b"mimetypeapplication/vnd.oasis.opendocument.text";

impl MediaType {
    /// The declared `Content-Type` (parameters such as `; charset=utf-8` ignored, case
    /// insensitive), if it is one of the allowed types.
    pub fn from_header(raw: &str) -> Result<Self, ValidationErrors> {
        let essence = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence.parse().map_err(|_| {
            let allowed: Vec<&str> = Self::ALL.iter().map(|m| m.as_str()).collect();
            ValidationErrors::single(
                "Content-Type",
                format!("must be one of: {}", allowed.join(", ")),
            )
        })
    }

    /// Whether `head` (the file's first bytes, up to [`SNIFF_BYTES`]; all of a shorter
    /// file) is a file of this type by its magic bytes. Office Open XML files are ZIP
    /// archives; an OpenDocument text names its type in its first entry. Plain text and
    /// e-mail are UTF-8 without NUL bytes; an e-mail starts with a header field.
    pub fn admits(self, head: &[u8]) -> bool {
        match self {
            MediaType::Pdf => head.starts_with(b"%PDF-"),
            MediaType::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            MediaType::Jpeg => head.starts_with(b"\xFF\xD8\xFF"),
            MediaType::Docx | MediaType::Xlsx => {
                head.starts_with(ZIP)
                    && !head.get(30..).is_some_and(|r| r.starts_with(ODT_MIMETYPE))
            }
            MediaType::Odt => {
                head.starts_with(ZIP) && head.get(30..).is_some_and(|r| r.starts_with(ODT_MIMETYPE))
            }
            MediaType::PlainText => is_text(head),
            MediaType::Email => is_text(head) && starts_with_header_field(head),
        }
    }

    /// The refusal of a file whose bytes are not of the declared type (422 naming
    /// `Content-Type`).
    pub fn refusal(self) -> ValidationErrors {
        ValidationErrors::single(
            "Content-Type",
            format!("the file's content is not {}", self.as_str()),
        )
    }
}

/// UTF-8 (a character cut at the end of the sniffed head allowed) without NUL bytes.
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// `Name: value` on the first line, the name printable ASCII without a colon or space.
fn starts_with_header_field(head: &[u8]) -> bool {
    let Some(colon) = head.iter().position(|&b| b == b':') else {
        return false;
    };
    colon > 0
        && head[..colon]
            .iter()
            .all(|&b| (33..=126).contains(&b) && b != b':')
}

/// One immutable version of a document's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMeta {
    pub id: VersionId,
    pub document_id: DocumentId,
    /// 1, 2, … per document.
    pub number: i32,
    /// The file name as uploaded (for `Content-Disposition`), cleaned of paths.
    pub file_name: String,
    pub media_type: MediaType,
    pub size: u64,
    /// Lowercase hex SHA-256 of the content, also in the upload's audit event.
    pub sha256: String,
    /// Chunks stored ([`chunk_count`] of the size).
    pub chunks: u32,
    pub uploaded_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// When the content was removed (the metadata stays).
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
}

/// How many chunks a file of `size` bytes is stored in (an empty file: one empty chunk,
/// so that even it is sealed and bound to its version).
pub fn chunk_count(size: u64) -> u32 {
    let chunks = size.div_ceil(CHUNK_SIZE as u64).max(1);
    u32::try_from(chunks).unwrap_or(u32::MAX)
}

/// The file name kept: its last path segment, control characters dropped, at most 255
/// characters; `file` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim().trim_matches('.').trim();
    if name.is_empty() {
        "file".to_owned()
    } else {
        name.to_owned()
    }
}

/// An inclusive byte range of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    pub fn len(self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(self) -> bool {
        false
    }

    /// The chunks that hold the range.
    pub fn chunks(self) -> std::ops::RangeInclusive<u32> {
        let first = (self.first / CHUNK_SIZE as u64) as u32;
        let last = (self.last / CHUNK_SIZE as u64) as u32;
        first..=last
    }
}

/// A `Range` header of one byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) over a file of
/// `size` bytes. `Ok(None)`: no range asked for, or a form we answer with the whole file
/// (several ranges, another unit), as RFC 9110 allows; `Err(())`: not satisfiable (416).
#[allow(clippy::result_unit_err)]
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<ByteRange>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let Ok(suffix) = end.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 || size == 0 {
            return Err(());
        }
        ByteRange {
            first: size.saturating_sub(suffix),
            last: size - 1,
        }
    } else {
        let Ok(first) = start.parse::<u64>() else {
            return Ok(None);
        };
        let last = match end {
            "" => size.saturating_sub(1),
            end => match end.parse::<u64>() {
                Ok(last) => last.min(size.saturating_sub(1)),
                Err(_) => return Ok(None),
            },
        };
        if first >= size || last < first {
            return Err(());
        }
        ByteRange { first, last }
    };
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn magic_bytes_decide_not_the_declared_type() {
        assert!(MediaType::Pdf.admits(b"%PDF-1.7\n..."));
        assert!(!MediaType::Pdf.admits(b"\x89PNG\r\n\x1a\n...."));
        assert!(MediaType::Png.admits(b"\x89PNG\r\n\x1a\n...."));
        assert!(MediaType::Jpeg.admits(b"\xFF\xD8\xFF\xE0"));
        assert!(!MediaType::PlainText.admits(b"%PDF\0binary"));
        assert!(MediaType::PlainText.admits("Grüße".as_bytes()));
        assert!(MediaType::PlainText.admits(b""));
        assert!(MediaType::Email.admits(b"From: a@example.org\r\nSubject: x\r\n\r\nhi"));
        assert!(!MediaType::Email.admits(b"just text"));
        let mut odt = b"PK\x03\x04".to_vec();
        odt.resize(30, 0);
        odt.extend_from_slice(ODT_MIMETYPE);
        assert!(MediaType::Odt.admits(&odt));
        assert!(!MediaType::Docx.admits(&odt));
        assert!(MediaType::Docx.admits(b"PK\x03\x04\x14\x00\x06\x00"));
        assert!(!MediaType::Docx.admits(b"%PDF-1.4"));
    }

    #[test]
    fn declared_types_outside_the_list_are_named() {
        assert_eq!(
            MediaType::from_header("Application/PDF; charset=binary").ok(),
            Some(MediaType::Pdf)
        );
        let refused = MediaType::from_header("application/x-msdownload").expect_err("refused");
        assert!(refused.names("Content-Type"));
    }

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(clean_file_name("C:\\Users\\x\\DPA.pdf"), "DPA.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\r\nb.pdf"), "ab.pdf");
        assert_eq!(clean_file_name(".."), "file");
    }

    #[test]
    fn ranges() {
        let r = |h: &str, size| parse_range(Some(h), size);
        assert_eq!(
            r("bytes=0-9", 100),
            Ok(Some(ByteRange { first: 0, last: 9 }))
        );
        assert_eq!(
            r("bytes=90-", 100),
            Ok(Some(ByteRange {
                first: 90,
                last: 99
            }))
        );
        assert_eq!(
            r("bytes=-10", 100),
            Ok(Some(ByteRange {
                first: 90,
                last: 99
            }))
        );
        assert_eq!(
            r("bytes=50-500", 100),
            Ok(Some(ByteRange {
                first: 50,
                last: 99
            }))
        );
        assert_eq!(r("bytes=100-", 100), Err(()));
        assert_eq!(r("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(r("items=0-1", 100), Ok(None));
        assert_eq!(parse_range(None, 100), Ok(None));
    }

    proptest! {
        /// A satisfiable range lies inside the file and its chunks cover it.
        #[test]
        fn ranges_stay_inside_the_file(size in 1u64..2_000_000, a in 0u64..2_000_000, b in 0u64..2_000_000) {
            if let Ok(Some(range)) = parse_range(Some(&format!("bytes={a}-{b}")), size) {
                prop_assert!(range.first <= range.last && range.last < size);
                let chunks = range.chunks();
                prop_assert!(u64::from(*chunks.start()) * CHUNK_SIZE as u64 <= range.first);
                prop_assert!((u64::from(*chunks.end()) + 1) * CHUNK_SIZE as u64 > range.last);
                prop_assert!(*chunks.end() < chunk_count(size));
            }
        }
    }
}
