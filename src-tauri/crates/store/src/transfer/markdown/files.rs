//! The image and sound files beside a Markdown export: a safe name in the folder for each
//! distinct file, and the Markdown that shows an image or links a clip.
//!
//! Names come from people and from imported files, so none reaches the file system or the
//! Markdown as it is: a file name loses path separators, control, bidirectional and reserved
//! characters and leading dots; a link is percent-encoded; alt text has its punctuation escaped.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::one_line;
use crate::types::{Attachment, ExportFile};

/// The most bytes of a name kept before its extension (file systems allow 255 in all).
const MAX_STEM_BYTES: usize = 100;

/// Names Windows keeps for devices, whatever the extension.
const WINDOWS_DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Whether the attachment is written beside the Markdown (an image or a sound clip); others are
/// only described.
pub(super) fn is_kept_as_file(attachment: &Attachment) -> bool {
    attachment.is_image() || attachment.is_clip()
}

/// The image and clip files of one export, named as the export meets them.
pub(super) struct AttachmentFiles<'a> {
    /// The folder beside the Markdown file, as the links name it.
    folder: &'a str,
    /// The same bytes are one file, however often they are attached.
    by_sha256: HashMap<String, String>,
    /// The names given, lowercased: on macOS and Windows names differing in case are one file.
    taken: HashSet<String>,
    files: Vec<ExportFile>,
}

impl<'a> AttachmentFiles<'a> {
    pub fn new(folder: &'a str) -> AttachmentFiles<'a> {
        AttachmentFiles { folder, by_sha256: HashMap::new(), taken: HashSet::new(), files: Vec::new() }
    }

    /// `![photo.png](Trip%20files/photo.png)` for an image, `[🔊 question.wav (2.4 s)](Trip%20files/question.wav)`
    /// for a clip.
    pub fn markdown(&mut self, attachment: &Attachment) -> String {
        let file = self.file_name(attachment);
        let link = format!("{}/{}", percent_encoded(self.folder), percent_encoded(&file));
        if attachment.is_image() {
            return format!("![{}]({link})", alt_text(attachment));
        }
        let length = attachment.duration_ms.map(|ms| format!(" ({:.1} s)", ms as f64 / 1000.0)).unwrap_or_default();
        format!("[🔊 {}{length}]({link})", alt_text(attachment))
    }

    pub fn into_files(self) -> Vec<ExportFile> {
        self.files
    }

    fn file_name(&mut self, image: &Attachment) -> String {
        if let Some(name) = self.by_sha256.get(&image.sha256) {
            return name.clone();
        }
        let (stem, extension) = stem_and_extension(image);
        let name = (1..)
            .map(|n| if n == 1 { format!("{stem}.{extension}") } else { format!("{stem} {n}.{extension}") })
            .find(|name| !self.taken.contains(&name.to_lowercase()))
            .expect("some number is free");
        self.taken.insert(name.to_lowercase());
        self.by_sha256.insert(image.sha256.clone(), name.clone());
        self.files.push(ExportFile { name: name.clone(), sha256: image.sha256.clone() });
        name
    }
}

/// The safe stem of the file's name and the extension to write: the name's own when it fits the
/// media type (`IMG_1.JPG` stays), otherwise the media type's (`scan` becomes `scan.png`). A file
/// without a usable name is `image-` or `clip-<the first 12 digits of its sha256>`.
fn stem_and_extension(image: &Attachment) -> (String, String) {
    let (extension, aliases) = extension_for(&image.media_type);
    let name = image.name.as_deref().map(safe_name).unwrap_or_default();
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, own)) if aliases.iter().any(|alias| own.eq_ignore_ascii_case(alias)) => (stem, own.to_owned()),
        _ => (name.as_str(), extension),
    };
    let stem = stem[..stem.floor_char_boundary(MAX_STEM_BYTES)].trim_end_matches([' ', '.']);
    let stem = match stem {
        "" => format!(
            "{}-{}",
            if image.is_clip() { "clip" } else { "image" },
            image.sha256.get(..12).unwrap_or(&image.sha256)
        ),
        device if WINDOWS_DEVICES.iter().any(|reserved| device.eq_ignore_ascii_case(reserved)) => format!("_{device}"),
        stem => stem.to_owned(),
    };
    (stem, extension)
}

/// The extension for a media type, and the extensions a name may already carry for it.
fn extension_for(media_type: &str) -> (String, &'static [&'static str]) {
    let subtype = media_type.split_once('/').map_or("", |(_, subtype)| subtype).to_ascii_lowercase();
    match subtype.as_str() {
        "jpeg" => ("jpg".into(), &["jpg", "jpeg"]),
        "tiff" => ("tif".into(), &["tif", "tiff"]),
        "svg+xml" => ("svg".into(), &["svg"]),
        "png" => ("png".into(), &["png"]),
        "gif" => ("gif".into(), &["gif"]),
        "webp" => ("webp".into(), &["webp"]),
        "bmp" => ("bmp".into(), &["bmp"]),
        "wav" | "x-wav" | "wave" => ("wav".into(), &["wav", "wave"]),
        other => {
            let extension: String = other.chars().take_while(char::is_ascii_alphanumeric).collect();
            (if extension.is_empty() { "bin".into() } else { extension }, &[])
        }
    }
}

/// The name with what a file name cannot hold replaced by `_`, and no leading dots or spaces (so
/// never `..`, never hidden).
fn safe_name(name: &str) -> String {
    let bidirectional = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let replaced: String = name
        .chars()
        .map(|c| if c.is_control() || bidirectional(c) || "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect();
    replaced.trim_start_matches(['.', ' ']).trim_end().to_owned()
}

/// Every byte but letters, digits and `-._~` as `%XX`: a link target that no Markdown reader
/// takes for anything else, whatever the name holds.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The file's name on one line, every ASCII punctuation mark escaped: a name like
/// `x](javascript:alert(1))` or `<img onerror=...>` stays text.
fn alt_text(attachment: &Attachment) -> String {
    let unnamed = if attachment.is_clip() { "recording" } else { "image" };
    let name =
        attachment.name.as_deref().map(one_line).filter(|name| !name.is_empty()).unwrap_or_else(|| unnamed.into());
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(name: Option<&str>, media_type: &str, sha256: &str) -> Attachment {
        Attachment {
            id: 1,
            message_id: 1,
            sha256: sha256.repeat(64 / sha256.len()),
            media_type: media_type.to_owned(),
            size: 1,
            width: None,
            height: None,
            duration_ms: None,
            name: name.map(str::to_owned),
            created_at: 0,
        }
    }

    fn names(images: &[Attachment]) -> Vec<String> {
        let mut files = AttachmentFiles::new("Trip files");
        for image in images {
            files.markdown(image);
        }
        files.into_files().into_iter().map(|file| file.name).collect()
    }

    #[test]
    fn a_name_keeps_an_extension_that_fits_and_gains_one_that_does() {
        let images = [
            image(Some("IMG_1.JPG"), "image/jpeg", "a"),
            image(Some("scan"), "image/png", "b"),
            image(Some("photo.jpg"), "image/png", "c"),
            image(Some("diagram.svg"), "image/svg+xml", "d"),
            image(None, "image/webp", "e"),
        ];
        let expected = ["IMG_1.JPG", "scan.png", "photo.jpg.png", "diagram.svg", "image-eeeeeeeeeeee.webp"];
        assert_eq!(names(&images), expected, "the extension always says what the bytes are");
    }

    #[test]
    fn names_from_anywhere_become_one_safe_file_name() {
        let images = [
            image(Some("../../etc/passwd"), "image/png", "a"),
            image(Some(".hidden.png"), "image/png", "b"),
            image(Some("a\nb:c*?\"<>|\\d.png"), "image/png", "c"),
            image(Some("evil\u{202e}gnp.exe"), "image/png", "d"),
            image(Some(".."), "image/png", "e"),
            image(Some("con.png"), "image/png", "f"),
            image(Some(&format!("{}.png", "é".repeat(200))), "image/png", "0"),
        ];
        let names = names(&images);
        assert_eq!(
            names[..6],
            [
                "_.._etc_passwd.png",
                "hidden.png",
                "a_b_c_______d.png",
                "evil_gnp.exe.png",
                "image-eeeeeeeeeeee.png",
                "_con.png"
            ]
        );
        assert_eq!(names[6], format!("{}.png", "é".repeat(50)), "cut to 100 bytes, on a character boundary");
    }

    #[test]
    fn the_same_bytes_are_one_file_and_the_same_name_is_numbered() {
        let images = [
            image(Some("cat.png"), "image/png", "a"),
            image(Some("cat.png"), "image/png", "b"),
            image(Some("Cat.PNG"), "image/png", "c"),
            image(Some("other name.png"), "image/png", "a"),
        ];
        assert_eq!(names(&images), ["cat.png", "cat 2.png", "Cat 3.PNG"], "case alone does not tell files apart");
    }

    #[test]
    fn links_are_percent_encoded_and_alt_text_escaped() {
        let mut files = AttachmentFiles::new("Trip (day 1) files");
        let hostile = image(Some("x](javascript:alert(1)) <img src=x onerror=alert(1)> 100%.png"), "image/png", "a");
        assert_eq!(
            files.markdown(&hostile),
            "![x\\]\\(javascript\\:alert\\(1\\)\\) \\<img src\\=x onerror\\=alert\\(1\\)\\> 100\\%\\.png]\
             (Trip%20%28day%201%29%20files/x%5D%28javascript_alert%281%29%29%20_img%20src%3Dx%20onerror%3Dalert%281%29_%20100%25.png)"
        );
        let unicode = image(Some("sunset 🌅\n.png"), "image/png", "b");
        assert_eq!(
            files.markdown(&unicode),
            "![sunset 🌅 \\.png](Trip%20%28day%201%29%20files/sunset%20%F0%9F%8C%85_.png)"
        );
    }

    #[test]
    fn a_clip_is_a_file_with_a_link_that_gives_its_length() {
        let mut files = AttachmentFiles::new("Trip files");
        let clip = Attachment { duration_ms: Some(2_430), ..image(Some("question.wav"), "audio/wav", "a") };
        assert_eq!(files.markdown(&clip), "[🔊 question\\.wav (2.4 s)](Trip%20files/question.wav)");
        let recording = image(None, "audio/wav", "b");
        assert_eq!(files.markdown(&recording), "[🔊 recording](Trip%20files/clip-bbbbbbbbbbbb.wav)");
        assert!(is_kept_as_file(&clip) && !is_kept_as_file(&image(Some("notes.txt"), "text/plain", "c")));
    }
}
