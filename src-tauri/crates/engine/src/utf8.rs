//! Token pieces can end in the middle of a UTF-8 character (an emoji is often split over two or
//! three byte-fallback tokens). [`Utf8Stream`] holds the incomplete tail back until it completes.

/// Accumulates raw token bytes and releases only complete UTF-8 text.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Appends `bytes` and returns the longest complete UTF-8 text now available (possibly empty).
    ///
    /// Bytes that can never become valid UTF-8 are replaced by U+FFFD so that one bad token
    /// cannot hold the rest of the stream hostage.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(valid) => {
                    text.push_str(valid);
                    self.pending.clear();
                    return text;
                }
                Err(error) => {
                    let valid_up_to = error.valid_up_to();
                    // SAFETY of the unwrap: `valid_up_to` marks a valid prefix by definition.
                    text.push_str(std::str::from_utf8(&self.pending[..valid_up_to]).unwrap());
                    match error.error_len() {
                        // An incomplete character at the end: wait for the next piece.
                        None => {
                            self.pending.drain(..valid_up_to);
                            return text;
                        }
                        Some(invalid) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid_up_to + invalid);
                        }
                    }
                }
            }
        }
    }

    /// Releases whatever is left at the end of a reply; an incomplete character becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emoji_split_over_pieces_is_released_whole() {
        let bytes = "a😀b".as_bytes();
        let mut stream = Utf8Stream::default();
        let mut out = Vec::new();
        for byte in bytes {
            out.push(stream.push(&[*byte]));
        }
        assert_eq!(out.concat(), "a😀b");
        assert!(out.iter().all(|piece| piece.chars().count() <= 1), "{out:?}");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.push(&[b'x', 0xff, b'y']), "x\u{fffd}y");
    }

    #[test]
    fn an_unfinished_character_at_the_end_is_not_lost_silently() {
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.push(&"é".as_bytes()[..1]), "");
        assert_eq!(stream.finish(), "\u{fffd}");
    }
}
