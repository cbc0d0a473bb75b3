//! Whether a JPEG is whole. zune-jpeg, the `image` crate's decoder, fills the rows it has no data
//! for with gray and reports success (as libjpeg does, with a warning nobody sees), so a
//! half-downloaded photo would reach the model half gray. Walking the segments to the
//! end-of-image marker tells a cut-short file without decoding it.

/// The marker that ends the image.
const EOI: u8 = 0xD9;
/// The marker that starts a scan: a header, then entropy-coded data up to the next marker.
const SOS: u8 = 0xDA;

/// Whether the data ends before the end-of-image marker (`FF D9`) that closes every complete
/// JPEG. Anything after that marker (a motion photo's video, padding) is not looked at. Data that
/// is not shaped like a JPEG at all is not called cut short: the decoder will say what is wrong.
pub(crate) fn is_cut_short(data: &[u8]) -> bool {
    // After SOI (FF D8), the image is a run of marker segments.
    let mut at = 2;
    loop {
        // A marker is FF and a code; any number of FF fill bytes may come before it.
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&prefix), Some(&code)) = (data.get(at), data.get(at + 1)) else {
            return true;
        };
        if prefix != 0xFF {
            return false;
        }
        at += 2;
        match code {
            EOI => return false,
            // TEM and the restart markers stand alone, without a length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(length) = data.get(at..at + 2).map(|bytes| usize::from(u16::from_be_bytes([bytes[0], bytes[1]])))
        else {
            return true;
        };
        at += length;
        if at > data.len() {
            return true;
        }
        if code == SOS {
            match entropy_coded_end(data, at) {
                Some(end) => at = end,
                None => return true,
            }
        }
    }
}

/// Where the entropy-coded data starting at `from` ends: at the first marker, since inside the
/// data an FF byte is always followed by 00 (a stuffed FF) or a restart marker. `None` when the
/// data runs out first.
fn entropy_coded_end(data: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += data.get(at..)?.iter().position(|&byte| byte == 0xFF)?;
        match *data.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2,
            _ => return Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_cut_short;

    /// SOI, a comment segment, a scan header and two bytes of scan data with a stuffed FF.
    const WHOLE: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x04, b'h', b'i', 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0,
        0x56, 0xFF, 0xD9,
    ];

    #[test]
    fn a_jpeg_that_reaches_its_end_marker_is_whole() {
        assert!(!is_cut_short(WHOLE));
        let mut with_trailer = WHOLE.to_vec();
        with_trailer.extend_from_slice(b"a motion photo's video");
        assert!(!is_cut_short(&with_trailer), "what follows the end marker is not part of the image");
    }

    #[test]
    fn a_jpeg_cut_anywhere_before_its_end_marker_is_cut_short() {
        for end in 2..WHOLE.len() {
            assert!(is_cut_short(&WHOLE[..end]), "cut after {end} bytes");
        }
    }
}
