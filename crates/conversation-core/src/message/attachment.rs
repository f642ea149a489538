//! M7, S4: what a file must be to be attached to a message. [`accept_attachment`] is the one
//! entry: the declared content type is reduced to its essence (lower-cased, parameters dropped)
//! and must be on the allow-list ([`ALLOWED_CONTENT_TYPES`]: common images but never SVG, PDF,
//! plain text and CSV, common audio and video, office documents); the size must fit the inbox's
//! `attachment_max_bytes`, itself never above [`ATTACHMENT_MAX_BYTES_CEILING`]; the bytes must
//! look like the declared type (magic numbers for binary formats, no HTML, SVG or script markup
//! at the start of text), so an HTML page cannot be uploaded as `image/png`; and the file name is
//! reduced to a harmless display name ([`sanitize_file_name`]).
//!
//! The storage key is the caller's: a generated id, never derived from the name. Serving the
//! file (always as an attachment, `nosniff`, never inline) is the HTTP layer's.

use super::Attachment;
use crate::error::{DomainError, DomainResult};

/// M7: the most an inbox may allow per attachment (50 MiB), whatever its settings say.
pub const ATTACHMENT_MAX_BYTES_CEILING: u64 = 50 * 1024 * 1024;
/// The longest file name kept, in characters.
pub const FILE_NAME_MAX_CHARS: usize = 200;
/// The name a file gets when nothing of its own name is left.
pub const FALLBACK_FILE_NAME: &str = "attachment";

/// How the first bytes of a file of a type must look.
#[derive(Clone, Copy, Debug)]
enum Signature {
    /// Starts with one of these.
    Prefix(&'static [&'static [u8]]),
    /// RIFF container of WebP.
    Webp,
    /// ISO media (`ftyp` box at offset 4): mp4 audio and video.
    IsoMedia,
    /// MPEG audio: an ID3 tag or a frame sync.
    MpegAudio,
    /// Text: must not start with markup a browser would run.
    Text,
}

const OLE: &[&[u8]] = &[b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"];
const ZIP: &[&[u8]] = &[b"PK\x03\x04"];

/// M7: every content type an attachment may have, with the signature its bytes must show.
const KINDS: [(&str, Signature); 20] = [
    ("image/png", Signature::Prefix(&[b"\x89PNG\r\n\x1a\n"])),
    ("image/jpeg", Signature::Prefix(&[b"\xFF\xD8\xFF"])),
    ("image/gif", Signature::Prefix(&[b"GIF87a", b"GIF89a"])),
    ("image/webp", Signature::Webp),
    ("application/pdf", Signature::Prefix(&[b"%PDF-"])),
    ("text/plain", Signature::Text),
    ("text/csv", Signature::Text),
    ("audio/ogg", Signature::Prefix(&[b"OggS"])),
    ("audio/mpeg", Signature::MpegAudio),
    ("audio/mp4", Signature::IsoMedia),
    ("video/mp4", Signature::IsoMedia),
    ("application/msword", Signature::Prefix(OLE)),
    ("application/vnd.ms-excel", Signature::Prefix(OLE)),
    ("application/vnd.ms-powerpoint", Signature::Prefix(OLE)),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Signature::Prefix(ZIP),
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Signature::Prefix(ZIP),
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Signature::Prefix(ZIP),
    ),
    (
        "application/vnd.oasis.opendocument.text",
        Signature::Prefix(ZIP),
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        Signature::Prefix(ZIP),
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        Signature::Prefix(ZIP),
    ),
];

/// M7: the allowed content types, as [`accept_attachment`] stores them.
pub const ALLOWED_CONTENT_TYPES: [&str; KINDS.len()] = {
    let mut names = [""; KINDS.len()];
    let mut i = 0;
    while i < KINDS.len() {
        names[i] = KINDS[i].0;
        i += 1;
    }
    names
};

/// A file as uploaded, before any check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upload<'a> {
    /// The name the client gave it (may be a path, may be hostile).
    pub file_name: &'a str,
    /// The content type the client declared (`image/png; name=x`).
    pub content_type: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
}

/// The essence of a declared content type: `type/subtype`, lower-cased, without parameters
/// or surrounding spaces (`Image/SVG+XML; x` gives `image/svg+xml`).
#[must_use]
pub fn content_type_essence(declared: &str) -> String {
    declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// M7, S4: the allow-listed type a declared content type names.
///
/// # Errors
/// `attachment_type_not_allowed` for anything off the list (SVG and HTML included).
pub fn allowed_content_type(declared: &str) -> DomainResult<&'static str> {
    let essence = content_type_essence(declared);
    KINDS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == essence)
        .ok_or(DomainError::AttachmentTypeNotAllowed)
}

/// M7: the size limit in force for an inbox's setting: the setting, never above the ceiling.
#[must_use]
pub const fn effective_max_bytes(setting: u64) -> u64 {
    if setting < ATTACHMENT_MAX_BYTES_CEILING {
        setting
    } else {
        ATTACHMENT_MAX_BYTES_CEILING
    }
}

/// M7: a file of `size` bytes fits an inbox allowing `max_bytes` (and the ceiling).
///
/// # Errors
/// `attachment_too_large` above the limit; `invalid_value` (field `file`) for an empty file.
pub fn check_size(size: u64, max_bytes: u64) -> DomainResult<()> {
    if size == 0 {
        return Err(DomainError::InvalidValue {
            field: "file",
            reason: "the file is empty",
        });
    }
    let max = effective_max_bytes(max_bytes);
    if size > max {
        return Err(DomainError::AttachmentTooLarge { max, actual: size });
    }
    Ok(())
}

/// S4: whether text starts with markup a browser would render or run (`<html`, `<svg`,
/// `<script`, `<?xml`, `<!doctype`...): after a byte-order mark and white space, a `<`.
fn starts_with_markup(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

fn matches(signature: Signature, bytes: &[u8]) -> bool {
    match signature {
        Signature::Prefix(prefixes) => prefixes.iter().any(|p| bytes.starts_with(p)),
        Signature::Webp => bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        Signature::IsoMedia => bytes.get(4..8) == Some(b"ftyp"),
        Signature::MpegAudio => {
            bytes.starts_with(b"ID3")
                || matches!(bytes, [0xFF, second, ..] if second & 0xE0 == 0xE0)
        }
        Signature::Text => !starts_with_markup(bytes),
    }
}

/// S4: the bytes look like `content_type` (an allow-listed type).
///
/// # Errors
/// `attachment_content_mismatch` when they do not; `attachment_type_not_allowed` for a type
/// off the list.
pub fn check_content(content_type: &str, bytes: &[u8]) -> DomainResult<()> {
    let (name, signature) = KINDS
        .iter()
        .find(|(name, _)| *name == content_type)
        .ok_or(DomainError::AttachmentTypeNotAllowed)?;
    if matches(*signature, bytes) {
        Ok(())
    } else {
        Err(DomainError::AttachmentContentMismatch { content_type: name })
    }
}

/// S4: a harmless display name: the last path component only, without control characters,
/// quotes, backslashes or leading dots, trimmed, at most [`FILE_NAME_MAX_CHARS`] characters
/// (the extension kept when it is short), or [`FALLBACK_FILE_NAME`] when nothing is left.
#[must_use]
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | '`'))
        .collect();
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end();
    if cleaned.is_empty() {
        return FALLBACK_FILE_NAME.to_owned();
    }
    if cleaned.chars().count() <= FILE_NAME_MAX_CHARS {
        return cleaned.to_owned();
    }
    let extension = cleaned
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= 10);
    match extension {
        Some(ext) => {
            let keep = FILE_NAME_MAX_CHARS - ext.chars().count() - 1;
            let stem: String = cleaned.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => cleaned.chars().take(FILE_NAME_MAX_CHARS).collect(),
    }
}

/// M7, S4: checks an upload for an inbox allowing `max_bytes` and describes it as the
/// [`Attachment`] stored under `storage_key` (a generated id).
///
/// # Errors
/// `attachment_type_not_allowed`, `attachment_too_large`, `attachment_content_mismatch`, and
/// `invalid_value` (field `file`) for an empty file.
pub fn accept_attachment(
    upload: &Upload<'_>,
    max_bytes: u64,
    storage_key: String,
) -> DomainResult<Attachment> {
    let content_type = allowed_content_type(upload.content_type)?;
    let size = u64::try_from(upload.bytes.len()).unwrap_or(u64::MAX);
    check_size(size, max_bytes)?;
    check_content(content_type, upload.bytes)?;
    Ok(Attachment {
        storage_key,
        file_name: sanitize_file_name(upload.file_name),
        content_type: content_type.to_owned(),
        size_bytes: size,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn upload<'a>(name: &'a str, content_type: &'a str, bytes: &'a [u8]) -> Upload<'a> {
        Upload {
            file_name: name,
            content_type,
            bytes,
        }
    }

    #[test]
    fn m7_allowed_types_are_accepted_by_their_essence() {
        assert_eq!(allowed_content_type("image/png"), Ok("image/png"));
        assert_eq!(
            allowed_content_type(" Image/JPEG ; charset=binary"),
            Ok("image/jpeg")
        );
        assert_eq!(
            allowed_content_type("text/plain; charset=utf-8"),
            Ok("text/plain")
        );
        for name in ALLOWED_CONTENT_TYPES {
            assert_eq!(allowed_content_type(name), Ok(name));
            assert_eq!(content_type_essence(name), name, "listed as essences");
        }
    }

    #[test]
    fn s4_svg_html_and_scripts_are_not_allowed_however_declared() {
        for declared in [
            "image/svg+xml",
            "image/svg+xml; x",
            "IMAGE/SVG+XML",
            "text/html",
            "text/html; charset=utf-8",
            "application/xhtml+xml",
            "application/javascript",
            "text/javascript",
            "application/octet-stream",
            "",
            "image",
        ] {
            assert_eq!(
                allowed_content_type(declared),
                Err(DomainError::AttachmentTypeNotAllowed),
                "{declared}"
            );
        }
    }

    #[test]
    fn m7_the_size_limit_is_the_inbox_setting_under_the_ceiling() {
        assert_eq!(check_size(1000, 1000), Ok(()));
        assert_eq!(
            check_size(1001, 1000),
            Err(DomainError::AttachmentTooLarge {
                max: 1000,
                actual: 1001
            })
        );
        assert_eq!(
            check_size(ATTACHMENT_MAX_BYTES_CEILING + 1, u64::MAX),
            Err(DomainError::AttachmentTooLarge {
                max: ATTACHMENT_MAX_BYTES_CEILING,
                actual: ATTACHMENT_MAX_BYTES_CEILING + 1
            })
        );
        assert_eq!(
            check_size(0, 1000).unwrap_err().code(),
            "invalid_value",
            "an empty file is refused"
        );
        assert_eq!(
            crate::entities::InboxSettings::default().attachment_max_bytes,
            20 * 1024 * 1024,
            "default 20 MB"
        );
    }

    #[test]
    fn s4_bytes_must_match_the_declared_type() {
        assert_eq!(check_content("image/png", PNG), Ok(()));
        assert_eq!(check_content("image/jpeg", b"\xFF\xD8\xFF\xE0rest"), Ok(()));
        assert_eq!(check_content("image/gif", b"GIF89a...."), Ok(()));
        assert_eq!(check_content("image/webp", b"RIFF\0\0\0\0WEBPVP8 "), Ok(()));
        assert_eq!(check_content("application/pdf", b"%PDF-1.7\n"), Ok(()));
        assert_eq!(check_content("video/mp4", b"\0\0\0\x20ftypisom"), Ok(()));
        assert_eq!(check_content("audio/mpeg", b"ID3\x04\0"), Ok(()));
        assert_eq!(check_content("audio/mpeg", b"\xFF\xFB\x90\x64"), Ok(()));
        assert_eq!(check_content("audio/ogg", b"OggS\0\x02"), Ok(()));
        assert_eq!(
            check_content(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                b"PK\x03\x04\x14\0"
            ),
            Ok(())
        );
        assert_eq!(check_content("text/csv", b"a,b\n1,2\n"), Ok(()));
        let html = b"<html><script>alert(1)</script></html>";
        for content_type in ["image/png", "image/jpeg", "image/gif", "application/pdf"] {
            assert_eq!(
                check_content(content_type, html),
                Err(DomainError::AttachmentContentMismatch { content_type }),
                "{content_type}"
            );
        }
        assert_eq!(
            check_content("image/png", b"\xFF\xD8\xFF\xE0")
                .unwrap_err()
                .code(),
            "attachment_content_mismatch",
            "a jpeg is not a png"
        );
    }

    #[test]
    fn s4_text_may_not_start_with_markup() {
        for text in [
            &b"<html>hi</html>"[..],
            b"  \n<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            b"\xEF\xBB\xBF<script>alert(1)</script>",
            b"<?xml version='1.0'?><svg/>",
            b"<!DOCTYPE html>",
        ] {
            assert_eq!(
                check_content("text/plain", text).unwrap_err().code(),
                "attachment_content_mismatch"
            );
        }
        assert_eq!(check_content("text/plain", b"a < b and c > d"), Ok(()));
        assert_eq!(check_content("text/plain", b"\xEF\xBB\xBFhello"), Ok(()));
    }

    #[test]
    fn s4_file_names_keep_only_a_harmless_last_component() {
        assert_eq!(sanitize_file_name("photo.png"), "photo.png");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\cv.pdf"), "cv.pdf");
        assert_eq!(sanitize_file_name(".."), FALLBACK_FILE_NAME);
        assert_eq!(sanitize_file_name("dir/"), FALLBACK_FILE_NAME);
        assert_eq!(sanitize_file_name(""), FALLBACK_FILE_NAME);
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(
            sanitize_file_name("a\"b'c`\r\nd\0.txt"),
            "abcd.txt",
            "quotes and control characters removed (no header injection)"
        );
        assert_eq!(sanitize_file_name("  résumé été.pdf "), "résumé été.pdf");
        let long = format!("{}.pdf", "x".repeat(500));
        let kept = sanitize_file_name(&long);
        assert_eq!(kept.chars().count(), FILE_NAME_MAX_CHARS);
        assert!(kept.ends_with(".pdf"));
    }

    #[test]
    fn m7_s4_an_upload_becomes_an_attachment_under_the_given_key() {
        let attachment = accept_attachment(
            &upload("../../x/Photo.PNG", "Image/PNG; name=evil.svg", PNG),
            1024,
            "0190-key".into(),
        )
        .unwrap();
        assert_eq!(
            attachment,
            Attachment {
                storage_key: "0190-key".into(),
                file_name: "Photo.PNG".into(),
                content_type: "image/png".into(),
                size_bytes: u64::try_from(PNG.len()).unwrap(),
            }
        );
        let refused = |u: Upload<'_>, max| accept_attachment(&u, max, "k".into()).unwrap_err();
        assert_eq!(
            refused(upload("a.svg", "image/svg+xml; x", b"<svg/>"), 1024).code(),
            "attachment_type_not_allowed"
        );
        assert_eq!(
            refused(upload("a.png", "image/png", PNG), 4).code(),
            "attachment_too_large"
        );
        assert_eq!(
            refused(upload("a.png", "image/png", b"<html></html>"), 1024).code(),
            "attachment_content_mismatch"
        );
    }

    proptest! {
        /// spec: S4
        #[test]
        fn s4_sanitized_names_are_never_paths_quotes_or_control_characters(name in "\\PC{0,300}|.{0,300}") {
            let clean = sanitize_file_name(&name);
            prop_assert!(!clean.is_empty());
            prop_assert!(clean.chars().count() <= FILE_NAME_MAX_CHARS);
            prop_assert!(!clean.contains(['/', '\\', '"', '\'', '`']));
            prop_assert!(!clean.chars().any(char::is_control));
            prop_assert!(!clean.starts_with('.'));
        }

        /// spec: S4
        #[test]
        fn s4_markup_is_never_accepted_as_text(prefix in "[ \t\r\n]{0,5}", rest in "\\PC{0,40}") {
            let text = format!("{prefix}<{rest}");
            prop_assert!(check_content("text/plain", text.as_bytes()).is_err());
        }
    }
}
