//! A reader that never goes past the end of the file: every read is checked against the bytes
//! left before anything is allocated, so a length field from the file cannot make it allocate
//! more than the file holds.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::GgufError;

/// Buffered, position-counting reader over a GGUF file of known length.
pub(super) struct Reader<'p> {
    inner: BufReader<File>,
    /// Bytes consumed so far; never more than `len`.
    pub(super) pos: u64,
    /// The file's length.
    pub(super) len: u64,
    /// The file as given.
    pub(super) path: &'p Path,
}

impl<'p> Reader<'p> {
    pub(super) fn new(file: File, len: u64, path: &'p Path) -> Self {
        Reader { inner: BufReader::with_capacity(1 << 16, file), pos: 0, len, path }
    }

    /// The file, for an error.
    pub(super) fn path(&self) -> PathBuf {
        self.path.to_path_buf()
    }

    /// The error for a file that ends `needed` bytes too early.
    pub(super) fn truncated(&self, needed: u64) -> GgufError {
        let expected = self.pos.saturating_add(needed);
        GgufError::Truncated { path: self.path(), expected, found: self.len }
    }

    fn io_error(&self, source: std::io::Error) -> GgufError {
        GgufError::Io { path: self.path(), offset: self.pos, source }
    }

    /// The first bytes of the file (up to 16), without consuming them.
    pub(super) fn peek_head(&mut self) -> Result<Vec<u8>, GgufError> {
        let path = self.path;
        let buffered =
            self.inner.fill_buf().map_err(|source| GgufError::Io { path: path.to_path_buf(), offset: 0, source })?;
        Ok(buffered[..buffered.len().min(16)].to_vec())
    }

    /// Fails unless `n` more bytes are in the file.
    pub(super) fn ensure(&self, n: u64) -> Result<(), GgufError> {
        if self.len - self.pos < n { Err(self.truncated(n)) } else { Ok(()) }
    }

    pub(super) fn fill(&mut self, buf: &mut [u8]) -> Result<(), GgufError> {
        let n = buf.len() as u64;
        self.ensure(n)?;
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => self.truncated(n),
            _ => self.io_error(e),
        })?;
        self.pos += n;
        Ok(())
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut b = [0; N];
        self.fill(&mut b)?;
        Ok(b)
    }

    pub(super) fn u32(&mut self) -> Result<u32, GgufError> {
        self.array().map(u32::from_le_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, GgufError> {
        self.array().map(u64::from_le_bytes)
    }

    /// Reads `n` bytes, once the file is known to hold them.
    pub(super) fn bytes(&mut self, n: u64) -> Result<Vec<u8>, GgufError> {
        self.ensure(n)?;
        let mut v = vec![0; usize::try_from(n).map_err(|_| self.truncated(n))?];
        self.fill(&mut v)?;
        Ok(v)
    }

    /// Moves past `n` bytes, once the file is known to hold them.
    pub(super) fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        self.ensure(n)?;
        let step = i64::try_from(n).map_err(|_| self.truncated(n))?;
        self.inner.seek_relative(step).map_err(|e| self.io_error(e))?;
        self.pos += n;
        Ok(())
    }
}
