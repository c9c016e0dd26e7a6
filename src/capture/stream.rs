//! A byte stream over any reader with a growable window, the one buffer a capture is
//! read through.
//!
//! Guarantees:
//! - Records are parsed in place: [`ByteStream::available`] borrows the window, nothing
//!   is copied out of it.
//! - The window starts small (so thousands of tiny files stay cheap), grows to
//!   [`TARGET_CAPACITY`] on long streams (few, large reads), and grows further only
//!   while a single record needs it and the data is really there: a damaged length
//!   near the end of a file never makes it allocate more than the file holds.
//! - Read errors are kept with their OS message; `Interrupted` is retried.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Window size for a new stream.
const INITIAL_CAPACITY: usize = 64 * 1024;
/// Window size for long streams: reads are large enough that syscalls do not matter.
pub(super) const TARGET_CAPACITY: usize = 1024 * 1024;

/// Counts shared between the raw file reader and the [`super::Input`] that owns it
/// (the raw reader sits under the gzip decoder, out of reach otherwise).
#[derive(Debug, Default)]
pub(super) struct ReadCounters {
    /// Bytes read from the file itself (compressed bytes for gzip).
    pub bytes: AtomicU64,
    /// Whether the file itself failed to read, as opposed to the decoder above it.
    pub failed: AtomicBool,
}

/// Reader wrapper that counts the bytes read from the file.
pub(super) struct Counted<R> {
    pub inner: R,
    pub counters: Arc<ReadCounters>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.counters.failed.store(true, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }
}

/// Outcome of [`ByteStream::request`].
#[derive(Debug)]
pub(super) enum Fill {
    /// At least the requested number of bytes is available.
    Ready,
    /// The stream ended first; `available` holds what is left.
    Eof,
    /// The reader failed.
    Failed(io::Error),
}

pub(super) struct ByteStream {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Window of unconsumed bytes: `buf[start..end]`.
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl ByteStream {
    pub fn new(reader: Box<dyn Read + Send>) -> ByteStream {
        ByteStream {
            reader,
            buf: Vec::new(),
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// The unconsumed bytes.
    #[inline]
    pub fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Stream offset of the first unconsumed byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Marks `n` bytes (at most what is available) as consumed.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Makes at least `n` bytes available, reading as needed.
    #[inline]
    pub fn request(&mut self, n: usize) -> Fill {
        if self.end - self.start >= n {
            return Fill::Ready;
        }
        self.fill(n)
    }

    #[cold]
    fn fill(&mut self, n: usize) -> Fill {
        if self.eof {
            return Fill::Eof;
        }
        if self.buf.is_empty() {
            self.buf.resize(INITIAL_CAPACITY, 0);
        } else if self.buf.len() < TARGET_CAPACITY && self.offset >= 4 * self.buf.len() as u64 {
            // A long stream: fewer, larger reads.
            let doubled = self.buf.len() * 2;
            self.buf.resize(doubled, 0);
        }
        // Move the partial record to the front; it is at most one record long.
        // (start <= end <= buf.len() always holds.)
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < n {
            if self.end == self.buf.len() {
                // One record needs more than the window: grow only as far as data is
                // actually read, so a bogus length cannot make us allocate it upfront.
                let grown = self.buf.len().saturating_mul(2).min(n.max(TARGET_CAPACITY));
                self.buf.resize(grown, 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Fill::Eof;
            };
            match self.reader.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Fill::Eof;
                }
                Ok(k) => self.end += k.min(space.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Fill::Failed(e),
            }
        }
        Fill::Ready
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the stream.
pub(super) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(space) = buf.get_mut(filled..) {
        if space.is_empty() {
            break;
        }
        match reader.read(space) {
            Ok(0) => break,
            Ok(k) => filled += k.min(space.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per call, like a pipe.
    struct Trickle {
        data: io::Cursor<Vec<u8>>,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len());
            self.data.read(&mut buf[..n])
        }
    }

    fn trickle(data: &[u8], chunk: usize) -> ByteStream {
        ByteStream::new(Box::new(Trickle {
            data: io::Cursor::new(data.to_vec()),
            chunk,
        }))
    }

    #[test]
    fn request_gathers_short_reads() {
        let mut s = trickle(b"0123456789", 3);
        assert!(matches!(s.request(7), Fill::Ready));
        assert_eq!(&s.available()[..7], b"0123456");
        s.consume(5);
        assert_eq!(s.offset(), 5);
        assert!(matches!(s.request(5), Fill::Ready));
        assert_eq!(s.available(), b"56789");
        assert!(matches!(s.request(6), Fill::Eof));
        assert_eq!(s.available(), b"56789");
    }

    #[test]
    fn window_grows_for_a_record_larger_than_it() {
        let mut s = trickle(&vec![7u8; 3 * TARGET_CAPACITY], 100_000);
        assert!(matches!(s.request(2 * TARGET_CAPACITY + 1), Fill::Ready));
        assert!(s.available().len() > 2 * TARGET_CAPACITY);
    }

    #[test]
    fn a_bogus_length_does_not_allocate_it() {
        let mut s = trickle(&[1, 2, 3], 3);
        assert!(matches!(s.request(200 << 20), Fill::Eof));
        assert!(s.buf.len() <= TARGET_CAPACITY);
    }
}
