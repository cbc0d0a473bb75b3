// Where the window finds images, and how it tells a pasted image from pasted text.
//
// The shell serves images on its own `attachment` protocol (`attachment://localhost/<path>`, or
// `http://attachment.localhost/<path>` on Windows): `pending/<id>` is the thumbnail of an image
// attached to the next message, `thumb/<sha256>` and `full/<sha256>` a stored image's thumbnail
// and the image whole. Outside Tauri, tests give convertFileSrc with `mockConvertFileSrc`.
import { convertFileSrc } from '@tauri-apps/api/core';
import type { Attachment } from './types';

/** The most images one message may carry (MAX_IMAGES in the chat crate). */
export const MAX_IMAGES = 10;
/** The most sound clips one message may carry (MAX_CLIPS in the chat crate). */
export const MAX_CLIPS = 4;

function attachmentUrl(path: string): string {
  return convertFileSrc(path, 'attachment');
}

/** The thumbnail of an image attached to the next message. */
export function pendingImageUrl(id: number): string {
  return attachmentUrl(`pending/${id}`);
}

/** A sound clip attached to the next message, whole (WAV), for its player. */
export function pendingClipUrl(id: number): string {
  return attachmentUrl(`pending/${id}`);
}

/** The thumbnail of a stored image. */
export function thumbnailUrl(sha256: string): string {
  return attachmentUrl(`thumb/${sha256}`);
}

/** A stored image, whole. */
export function fullImageUrl(sha256: string): string {
  return attachmentUrl(`full/${sha256}`);
}

/** A stored sound clip, whole (WAV). */
export function clipUrl(sha256: string): string {
  return attachmentUrl(`full/${sha256}`);
}

/** A clip's length as the player shows it: `0:07`, `1:05`. */
export function clipDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** Whether a message's attachment is an image (the others, audio, are not shown as pictures). */
export function isImage(attachment: Attachment): boolean {
  return attachment.media_type.startsWith('image/');
}

/**
 * Whether a paste into the composer is an image for the shell to read: it is whenever the
 * clipboard offers the page no text. WebKitGTK never gives the page the clipboard's images, and
 * other engines show them only as `Files`, so the shell reads the system clipboard itself
 * (`paste_image`); text the browser pastes as it always does.
 */
export function pasteIsImage(data: DataTransfer | null): boolean {
  return !data?.getData('text/plain');
}
