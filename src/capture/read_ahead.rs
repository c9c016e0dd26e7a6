//! Reading a capture on a thread of its own, ahead of the analysis.
//!
//! Decompressing gzip, and reading several files of a ring buffer, is work the
//! analysis thread need not do: a reader thread fills chunks while the analysis
//! consumes the previous ones, so a second core takes that share. The bytes handed on
//! are exactly the bytes read, in order, so the analysis — and its result — is the same
//! as with a plain reader; only the time changes.
//!
//! Guarantees:
//! - At most [`CHUNKS_AHEAD`] chunks of [`CHUNK`] bytes wait at once: memory stays
//!   bounded however fast the reader is.
//! - A read error is handed on, with its kind and message, after the bytes before it.
//! - Dropping the reader stops the thread and waits for it: when the drop returns the
//!   thread is gone, with its source and buffers (a detached thread would outlive the
//!   input, which LeakSanitizer reports and a long-running caller would pile up). The
//!   wait is for at most the one read of the source in progress (a pipe that stays
//!   silent keeps it waiting, as nothing can interrupt a blocking read).

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes per chunk.
const CHUNK: usize = 1 << 20;
/// Chunks that may wait between the threads.
const CHUNKS_AHEAD: usize = 4;
/// Bytes asked of the source per read: a decoder that fails inside a read drops what
/// it decoded in that read, so reads stay as small as the in-place reader's.
const READ: usize = 64 * 1024;

/// What the reader thread sends: bytes, or the error that ended the stream.
type Piece = Result<Vec<u8>, (io::ErrorKind, String)>;

/// A `Read` whose bytes come from a thread that reads `source` ahead.
pub struct ReadAhead {
    /// `None` only while dropping: dropped first, so that a thread blocked sending
    /// wakes up with an error.
    chunks: Option<Receiver<Piece>>,
    /// Read chunks go back to the thread to be filled again: no allocation (and no
    /// fresh pages to fault in) per chunk.
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
    /// Asks the thread to stop before its next read.
    stop: Arc<AtomicBool>,
    /// Joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Starts the reader thread. If the thread cannot be started, the source is read
    /// in place instead (the same bytes, without the second core).
    pub fn spawn(source: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        let (send, chunks) = sync_channel(CHUNKS_AHEAD);
        let (spent, recycled) = sync_channel(CHUNKS_AHEAD + 2);
        let shared = Arc::new(std::sync::Mutex::new(Some(source)));
        let for_thread = Arc::clone(&shared);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = Arc::clone(&stop);
        let started = std::thread::Builder::new()
            .name("sipxfer-read".to_string())
            .spawn(move || {
                let taken = for_thread.lock().ok().and_then(|mut s| s.take());
                if let Some(source) = taken {
                    fill(source, &send, &recycled, &stop_thread);
                }
            });
        let thread = match started {
            Ok(thread) => thread,
            Err(_) => {
                // The thread never ran: the source is still here.
                if let Some(source) = shared.lock().ok().and_then(|mut s| s.take()) {
                    return source;
                }
                // Unreachable in practice (only the thread takes the source); an empty
                // stream is the honest answer if it ever happens.
                return Box::new(io::empty());
            }
        };
        Box::new(ReadAhead {
            chunks: Some(chunks),
            spent,
            current: Vec::new(),
            at: 0,
            done: false,
            stop,
            thread: Some(thread),
        })
    }
}

/// The reader thread: chunks until the end, an error, nobody listening, or `stop`.
fn fill(
    mut source: Box<dyn Read + Send>,
    send: &SyncSender<Piece>,
    recycled: &Receiver<Vec<u8>>,
    stop: &AtomicBool,
) {
    loop {
        let mut chunk = recycled.try_recv().unwrap_or_default();
        chunk.resize(CHUNK, 0);
        let mut filled = 0;
        let mut failure = None;
        while filled < CHUNK {
            // Checked before every read, so a dropped reader waits for one read at most.
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let until = filled.saturating_add(READ).min(CHUNK);
            match chunk.get_mut(filled..until).map(|rest| source.read(rest)) {
                Some(Ok(0)) | None => break,
                Some(Ok(n)) => filled += n,
                Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Some(Err(e)) => {
                    failure = Some((e.kind(), e.to_string()));
                    break;
                }
            }
        }
        chunk.truncate(filled);
        let end = filled < CHUNK;
        if filled > 0 && send.send(Ok(chunk)).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = send.send(Err(e));
            return;
        }
        if end {
            return;
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            if self.done {
                return Ok(0);
            }
            let Some(chunks) = &self.chunks else {
                return Ok(0);
            };
            match chunks.recv() {
                Ok(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.current, chunk);
                    // A full return queue only means the thread has enough buffers.
                    let _ = self.spent.try_send(spent);
                    self.at = 0;
                }
                Ok(Err((kind, message))) => {
                    self.done = true;
                    return Err(io::Error::new(kind, message));
                }
                // The thread finished: the end of the stream.
                Err(_) => self.done = true,
            }
        }
        let rest = self.current.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.at += n;
        Ok(n)
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A thread blocked on a full channel wakes up: its send fails.
        drop(self.chunks.take());
        if let Some(thread) = self.thread.take() {
            // A panic on the thread would be a bug of ours; a drop is no place to
            // raise it (it may run while unwinding already).
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads in odd-sized pieces, then fails.
    struct Source {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let rest = &self.data[self.at..];
            if rest.is_empty() {
                return if self.fail_at_end {
                    Err(io::Error::other("disk on fire"))
                } else {
                    Ok(0)
                };
            }
            let n = rest.len().min(buf.len()).min(777);
            buf[..n].copy_from_slice(&rest[..n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn the_same_bytes_come_out_in_order() {
        for len in [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 5] {
            let want = data(len);
            let mut r = ReadAhead::spawn(Box::new(Source {
                data: want.clone(),
                at: 0,
                fail_at_end: false,
            }));
            let mut got = Vec::new();
            r.read_to_end(&mut got).expect("reads");
            assert_eq!(got, want, "{len} bytes");
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it() {
        let want = data(CHUNK + 10);
        let mut r = ReadAhead::spawn(Box::new(Source {
            data: want.clone(),
            at: 0,
            fail_at_end: true,
        }));
        let mut got = vec![0u8; want.len()];
        r.read_exact(&mut got).expect("the bytes first");
        assert_eq!(got, want);
        let e = r.read(&mut [0u8; 16]).expect_err("then the error");
        assert_eq!(e.to_string(), "disk on fire");
    }
}
