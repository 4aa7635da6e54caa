//! Rectification attachments: size, count and type limits, SHA-256 content hashes, and the safe
//! content type each file is served with. Nothing that a browser would render as a page (HTML, SVG,
//! XML, scripts) is accepted, the declared extension must agree with the content's magic bytes, and
//! text is always served as `text/plain`. Servers must still send `Content-Disposition: attachment` and
//! `X-Content-Type-Options: nosniff`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use taishi_model::rectification::AttachmentMeta;
use uuid::Uuid;

/// Limits on attachments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentPolicy {
    /// Largest file in bytes.
    pub max_bytes: u64,
    /// Most files per rectification.
    pub max_files: usize,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        AttachmentPolicy {
            max_bytes: 10 * 1024 * 1024,
            max_files: 10,
        }
    }
}

/// A refused attachment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// Too big.
    #[error("attachment {name:?} is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// File name.
        name: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Too many files.
    #[error("{count} attachments; at most {limit} are allowed")]
    TooMany {
        /// How many were given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A type that is not accepted, or content that does not match its extension.
    #[error("attachment {name:?}: {reason}")]
    Type {
        /// File name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Empty file.
    #[error("attachment {0:?} is empty")]
    Empty(String),
}

/// Accepted extensions and the content type each is served with.
const TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("txt", "text/plain; charset=utf-8"),
    ("log", "text/plain; charset=utf-8"),
    ("csv", "text/plain; charset=utf-8"),
    ("json", "text/plain; charset=utf-8"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("zip", "application/zip"),
    ("doc", "application/msword"),
    ("xls", "application/vnd.ms-excel"),
];

fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(200)
        .collect();
    if s.trim().is_empty() {
        "attachment".into()
    } else {
        s.trim().to_owned()
    }
}

fn magic_ok(ext: &str, data: &[u8]) -> bool {
    let starts = |m: &[u8]| data.starts_with(m);
    match ext {
        "pdf" => starts(b"%PDF-"),
        "png" => starts(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => starts(&[0xFF, 0xD8, 0xFF]),
        "gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "docx" | "xlsx" | "zip" => starts(b"PK\x03\x04"),
        "doc" | "xls" => starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]),
        // Text: valid UTF-8 that does not look like markup a browser might sniff.
        _ => std::str::from_utf8(data).is_ok_and(|t| {
            let head = t
                .trim_start()
                .get(..t.trim_start().len().min(512))
                .unwrap_or("")
                .to_ascii_lowercase();
            ![
                "<!doctype",
                "<html",
                "<script",
                "<svg",
                "<?xml",
                "<body",
                "<iframe",
            ]
            .iter()
            .any(|m| head.contains(m))
        }),
    }
}

/// Checks one file and returns its metadata (with a fresh id and the SHA-256 of the content).
///
/// # Errors
/// Empty, too large, unknown type, or content not matching the extension.
pub fn check_attachment(
    policy: &AttachmentPolicy,
    name: &str,
    data: &[u8],
) -> Result<AttachmentMeta, AttachmentError> {
    let name = clean_name(name);
    let size = data.len() as u64;
    if size == 0 {
        return Err(AttachmentError::Empty(name));
    }
    if size > policy.max_bytes {
        return Err(AttachmentError::TooLarge {
            name,
            size,
            limit: policy.max_bytes,
        });
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some((_, ct)) = TYPES.iter().find(|(e, _)| *e == ext) else {
        return Err(AttachmentError::Type {
            name,
            reason: format!(
                "type .{ext} is not accepted (pdf, images, text, office documents, zip)"
            ),
        });
    };
    if !magic_ok(&ext, data) {
        return Err(AttachmentError::Type {
            name,
            reason: format!("content is not a .{ext} file"),
        });
    }
    Ok(AttachmentMeta {
        id: Uuid::new_v4(),
        name,
        content_type: (*ct).to_owned(),
        size,
        sha256: hex::encode(Sha256::digest(data)),
    })
}

/// Checks a whole upload.
///
/// # Errors
/// The first refused file, or too many files.
pub fn check_attachments(
    policy: &AttachmentPolicy,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<AttachmentMeta>, AttachmentError> {
    if files.len() > policy.max_files {
        return Err(AttachmentError::TooMany {
            count: files.len(),
            limit: policy.max_files,
        });
    }
    files
        .iter()
        .map(|(n, d)| check_attachment(policy, n, d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_types_and_hashes() {
        let p = AttachmentPolicy {
            max_bytes: 64,
            max_files: 2,
        };
        let m = check_attachment(&p, "C:\\tmp\\整改报告.pdf", b"%PDF-1.7 ...").unwrap();
        assert_eq!(
            (m.name.as_str(), m.content_type.as_str(), m.size),
            ("整改报告.pdf", "application/pdf", 12)
        );
        assert_eq!(m.sha256, hex::encode(Sha256::digest(b"%PDF-1.7 ...")));
        let t = check_attachment(&p, "scan.log", "端口已关闭\n".as_bytes()).unwrap();
        assert_eq!(t.content_type, "text/plain; charset=utf-8");
        for (name, data) in [
            ("page.html", b"<html></html>".as_slice()),
            ("x.svg", b"<svg onload=alert(1)>"),
            ("fake.pdf", b"<html>not a pdf"),
            ("notes.txt", b"  <!DOCTYPE html><script>x</script>"),
            ("bin.txt", &[0xff, 0xfe, 0x00]),
            ("noext", b"hello"),
        ] {
            assert!(
                matches!(
                    check_attachment(&p, name, data),
                    Err(AttachmentError::Type { .. })
                ),
                "{name}"
            );
        }
        assert!(matches!(
            check_attachment(&p, "a.txt", &[b'a'; 65]),
            Err(AttachmentError::TooLarge { .. })
        ));
        assert!(matches!(
            check_attachment(&p, "a.txt", b""),
            Err(AttachmentError::Empty(_))
        ));
        let three = vec![("a.txt".to_owned(), b"a".to_vec()); 3];
        assert!(matches!(
            check_attachments(&p, &three),
            Err(AttachmentError::TooMany { count: 3, limit: 2 })
        ));
    }
}
