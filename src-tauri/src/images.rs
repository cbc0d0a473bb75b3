//! Images and sound clips the user attaches to the next message: read and checked in Rust (from
//! the paths of a native drop or file dialog, from the system clipboard, or recorded from the
//! microphone), kept here until the message that carries them is stored, and shown to the window
//! through the `attachment:` protocol.
//!
//! The protocol serves small thumbnails of pending images and pending clips whole as WAV
//! (`pending/<id>`), thumbnails of stored images (`thumb/<sha256>`), and stored images and clips
//! whole (`full/<sha256>`), from memory or the attachment store: nothing remote, and no file
//! outside the attachment folder, can be named.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use gemma_desk_chat::{CheckedAttachment, MAX_CLIPS, MAX_IMAGES, check_clip, check_image, clip_attachment};
use gemma_desk_media::{Format, Limits, Target};
use gemma_desk_store::Store;
use serde::Serialize;
use tauri::http::{Request, Response, StatusCode, header};
use ts_rs::TS;

use crate::error::{AppError, CommandResult};

/// The longer side of a thumbnail, in pixels (twice what the composer shows, for sharp screens).
const THUMBNAIL_SIDE: u32 = 192;
/// Stored images' thumbnails kept in memory.
const THUMBNAILS_KEPT: usize = 64;
/// Images waiting to be sent, at most (ten for a message, with room for ones being replaced).
const MAX_PENDING: usize = 2 * MAX_IMAGES;

/// An image attached to the next message, as the window shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PendingImage {
    /// Names it in `send_message` and `discard_image`.
    pub id: u64,
    /// The file's name; none for a pasted image.
    pub name: Option<String>,
    /// Pixels, after the EXIF orientation.
    pub width: u32,
    /// Pixels, after the EXIF orientation.
    pub height: u32,
    /// e.g. `image/jpeg`.
    pub media_type: String,
}

/// A sound clip attached to the next message (a dropped sound file, or a recording).
#[derive(Debug, Clone, Serialize, TS)]
pub struct PendingClip {
    /// Names it in `send_message` and `discard_image`.
    pub id: u64,
    /// The file's name (`recording.wav` for a recording).
    pub name: Option<String>,
    /// Its length in milliseconds, as the model hears it.
    pub duration_ms: u64,
}

/// What attaching a set of files gave: the images and clips, and why the others were refused.
#[derive(Debug, Default, Serialize, TS)]
pub struct Attached {
    /// The images now attached.
    pub images: Vec<PendingImage>,
    /// The sound clips now attached.
    pub clips: Vec<PendingClip>,
    /// One message per file refused, naming it.
    pub refused: Vec<String>,
}

struct Pending {
    attachment: CheckedAttachment,
    /// What `pending/<id>` serves: an image's thumbnail (PNG), a clip whole (WAV).
    preview: Arc<Vec<u8>>,
}

/// The images and clips attached and not yet sent, and the thumbnails of stored images.
#[derive(Default)]
pub struct Images {
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, Pending>>,
    thumbnails: Mutex<(HashMap<String, Arc<Vec<u8>>>, VecDeque<String>)>,
}

impl Images {
    /// Reads and checks each file (an image, or a WAV, FLAC or MP3 sound file); the good ones
    /// are attached.
    pub fn attach_files(&self, paths: &[PathBuf]) -> Attached {
        let mut attached = Attached::default();
        for path in paths {
            let read = read_file(path);
            let result = match read {
                Ok((name, bytes)) if is_sound(&name, &bytes) => {
                    self.attach_sound_file(name, bytes).map(|clip| attached.clips.push(clip))
                }
                Ok((name, bytes)) => self.attach(Some(name), bytes).map(|image| attached.images.push(image)),
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                attached.refused.push(error.message);
            }
        }
        attached
    }

    /// Checks `bytes` as an image (decoding it whole) and attaches it.
    pub fn attach(&self, name: Option<String>, bytes: Vec<u8>) -> CommandResult<PendingImage> {
        self.check_room()?;
        let (image, decoded) =
            check_image(name.clone(), bytes).map_err(|error| AppError::bad_input(error.to_string()))?;
        let thumbnail = thumbnail_png(&decoded)?;
        let id = self.keep(image, thumbnail);
        Ok(PendingImage {
            id,
            name,
            width: decoded.width,
            height: decoded.height,
            media_type: decoded.format.media_type().to_owned(),
        })
    }

    /// Decodes a dropped sound file whole, resampled to the model's rate, and attaches it.
    fn attach_sound_file(&self, name: String, bytes: Vec<u8>) -> CommandResult<PendingClip> {
        self.check_room()?;
        let (clip, _) = check_clip(Some(name), bytes).map_err(|error| AppError::bad_input(error.to_string()))?;
        Ok(self.keep_clip(clip))
    }

    /// Attaches a clip recorded from the microphone.
    pub fn attach_recording(&self, clip: &gemma_desk_voice::Clip) -> CommandResult<PendingClip> {
        self.check_room()?;
        let clip = clip_attachment(clip, Some("recording.wav".into()))
            .map_err(|error| AppError::io(format!("the recording cannot be kept: {error}")))?;
        Ok(self.keep_clip(clip))
    }

    fn keep_clip(&self, clip: CheckedAttachment) -> PendingClip {
        let info = clip.info();
        let (name, duration_ms) = (info.name.clone(), info.duration_ms.unwrap_or_default().max(0) as u64);
        let wav = clip.bytes().to_vec();
        PendingClip { id: self.keep(clip, wav), name, duration_ms }
    }

    fn check_room(&self) -> CommandResult<()> {
        if lock(&self.pending).len() >= MAX_PENDING {
            return Err(AppError::bad_input(format!(
                "{MAX_PENDING} files are already attached; one message may carry at most {MAX_IMAGES} images and {MAX_CLIPS} sound clips"
            )));
        }
        Ok(())
    }

    fn keep(&self, attachment: CheckedAttachment, preview: Vec<u8>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.pending).insert(id, Pending { attachment, preview: Arc::new(preview) });
        id
    }

    /// Forgets an attached image (removed before sending).
    pub fn discard(&self, id: u64) {
        lock(&self.pending).remove(&id);
    }

    /// The attached images and clips `ids`, in that order, for the message about to be sent
    /// (checked when attached, not decoded again); they stay attached until [`Images::sent`].
    pub fn inputs(&self, ids: &[u64]) -> CommandResult<Vec<CheckedAttachment>> {
        let pending = lock(&self.pending);
        ids.iter()
            .map(|id| {
                let pending = pending.get(id).ok_or_else(|| {
                    AppError::bad_input(format!("attachment {id} is no longer attached; attach it again"))
                })?;
                Ok(pending.attachment.clone())
            })
            .collect()
    }

    /// The message carrying `ids` is stored: they are no longer pending.
    pub fn sent(&self, ids: &[u64]) {
        let mut pending = lock(&self.pending);
        for id in ids {
            pending.remove(id);
        }
    }

    /// Answers an `attachment:` request from the pending images and `store`'s attachments.
    pub fn serve(&self, request: &Request<Vec<u8>>, store: Option<&Store>) -> Response<Vec<u8>> {
        let path =
            percent_encoding::percent_decode_str(request.uri().path().trim_start_matches('/')).decode_utf8_lossy();
        let answer = match path.split_once('/') {
            Some(("pending", id)) => id.parse::<u64>().ok().and_then(|id| {
                let pending = lock(&self.pending);
                let pending = pending.get(&id)?;
                let media_type = if pending.attachment.is_clip() { "audio/wav" } else { "image/png" };
                Some((media_type, pending.preview.as_ref().clone()))
            }),
            Some(("thumb", sha256)) if is_sha256(sha256) => store
                .and_then(|store| self.stored_thumbnail(store, sha256))
                .map(|png| ("image/png", png.as_ref().clone())),
            Some(("full", sha256)) if is_sha256(sha256) => {
                store.and_then(|store| std::fs::read(store.attachment_path(sha256)).ok()).and_then(|bytes| {
                    let media_type =
                        Format::sniff(&bytes).map(Format::media_type).or(is_wav(&bytes).then_some("audio/wav"));
                    media_type.map(|media_type| (media_type, bytes))
                })
            }
            _ => None,
        };
        let mut builder = Response::builder().header(header::CACHE_CONTROL, "no-store");
        // The window fetches clips to play them (WebKitGTK's player cannot read this scheme),
        // and its own origin is another scheme's: it alone may read the answer.
        if let Some(origin) = request.headers().get(header::ORIGIN).filter(|origin| is_window_origin(origin.as_bytes()))
        {
            builder = builder.header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
        match answer {
            Some((media_type, body)) => builder.header(header::CONTENT_TYPE, media_type).body(body),
            None => builder.status(StatusCode::NOT_FOUND).body(Vec::new()),
        }
        .unwrap_or_else(|_| Response::new(Vec::new()))
    }

    /// The thumbnail of the stored image `sha256`, made once and kept for a while.
    fn stored_thumbnail(&self, store: &Store, sha256: &str) -> Option<Arc<Vec<u8>>> {
        if let Some(png) = lock(&self.thumbnails).0.get(sha256) {
            return Some(png.clone());
        }
        let bytes = std::fs::read(store.attachment_path(sha256)).ok()?;
        let decoded = gemma_desk_media::decode_bytes(None, &bytes, &Limits::default()).ok()?;
        let png = Arc::new(thumbnail_png(&decoded).ok()?);
        let mut thumbnails = lock(&self.thumbnails);
        let (kept, order) = &mut *thumbnails;
        if order.len() == THUMBNAILS_KEPT
            && let Some(oldest) = order.pop_front()
        {
            kept.remove(&oldest);
        }
        order.push_back(sha256.to_owned());
        kept.insert(sha256.to_owned(), png.clone());
        Some(png)
    }
}

/// Reads a dropped or picked file, refusing one over the size limit before reading it.
fn read_file(path: &Path) -> CommandResult<(String, Vec<u8>)> {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let limit = Limits::default().max_file_bytes;
    let size = std::fs::metadata(path).map_err(|e| AppError::bad_input(format!("cannot read {name}: {e}")))?.len();
    if size > limit {
        return Err(AppError::bad_input(format!(
            "{name} is {} MiB, more than the {} MiB an attachment may have",
            size >> 20,
            limit >> 20
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| AppError::bad_input(format!("cannot read {name}: {e}")))?;
    Ok((name, bytes))
}

fn thumbnail_png(decoded: &gemma_desk_media::Decoded) -> CommandResult<Vec<u8>> {
    let small = gemma_desk_media::prepare(decoded, Target::LongestSide(THUMBNAIL_SIDE));
    let mut png = Vec::new();
    small
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| AppError::io(format!("could not make a thumbnail: {e}")))?;
    Ok(png)
}

/// Reads the system clipboard's image natively: WebKitGTK never gives the page clipboard images.
/// `None` when the clipboard holds no image.
pub fn clipboard_image() -> CommandResult<Option<(u32, u32, Vec<u8>)>> {
    let mut clipboard =
        arboard::Clipboard::new().map_err(|e| AppError::io(format!("the clipboard cannot be read: {e}")))?;
    match clipboard.get_image() {
        Ok(image) => Ok(Some((image.width as u32, image.height as u32, image.bytes.into_owned()))),
        Err(arboard::Error::ContentNotAvailable) => Ok(None),
        Err(error) => Err(AppError::io(format!("the clipboard's image cannot be read: {error}"))),
    }
}

/// RGBA pixels (the clipboard's) as a PNG file's bytes, to store as the attachment.
pub fn rgba_to_png(width: u32, height: u32, rgba: Vec<u8>) -> CommandResult<Vec<u8>> {
    let image = image::RgbaImage::from_raw(width, height, rgba)
        .ok_or_else(|| AppError::io("the clipboard's image has the wrong number of bytes for its size"))?;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| AppError::io(format!("could not encode the pasted image: {e}")))?;
    Ok(png)
}

/// Whether a dropped file is a sound file (decoded as a clip) rather than an image: by its first
/// bytes (WAV, FLAC, MP3 with its ID3 tag or a frame header), or its name.
fn is_sound(name: &str, bytes: &[u8]) -> bool {
    let extension = Path::new(name).extension().map(|extension| extension.to_ascii_lowercase());
    let named = extension.is_some_and(|extension| ["wav", "flac", "mp3"].iter().any(|known| extension == *known));
    let mp3_frame = bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0;
    is_wav(bytes) || bytes.starts_with(b"fLaC") || bytes.starts_with(b"ID3") || mp3_frame || named
}

/// The origins the app's own window has (`tauri://localhost` on Linux and macOS,
/// `http://tauri.localhost` on Windows).
fn is_window_origin(origin: &[u8]) -> bool {
    [b"tauri://localhost".as_slice(), b"http://tauri.localhost", b"https://tauri.localhost"].contains(&origin)
}

fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The mutex's value, also after a panic elsewhere left it poisoned.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_window_may_read_what_the_protocol_serves() {
        let images = Images::default();
        let allowed = |origin: &str| {
            let request = Request::builder()
                .uri("attachment://localhost/pending/1")
                .header(header::ORIGIN, origin)
                .body(Vec::new());
            let answer = images.serve(&request.unwrap(), None);
            answer.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).map(|value| value.as_bytes().to_vec())
        };
        assert_eq!(allowed("tauri://localhost"), Some(b"tauri://localhost".to_vec()));
        assert_eq!(allowed("http://tauri.localhost"), Some(b"http://tauri.localhost".to_vec()));
        assert_eq!(allowed("https://example.com"), None);
    }

    #[test]
    fn sound_files_are_told_from_images_by_their_first_bytes_or_name() {
        assert!(is_sound("x.bin", b"RIFF\0\0\0\0WAVEfmt "));
        assert!(is_sound("x.bin", b"fLaC\0"));
        assert!(is_sound("x.bin", b"ID3\x04"));
        assert!(is_sound("voice.MP3", b"garbage"));
        assert!(!is_sound("photo.png", b"\x89PNG\r\n"));
        assert!(!is_sound("RIFF.webp", b"RIFF\0\0\0\0WEBPVP8 "));
    }
}
