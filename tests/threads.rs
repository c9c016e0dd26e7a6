//! An input let go before its end takes its reader threads with it (issue 15: a
//! detached gzip read-ahead thread was still holding its buffers when LeakSanitizer
//! looked, at the end of every fuzz run).
//!
//! The threads are counted in /proc/self/task, so this file holds one test: the test
//! harness would otherwise run other tests, with threads of their own, beside it.

use std::error::Error;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sipxfer::capture::parallel::{Item, Parallel, SetAside};
use sipxfer::capture::write::PcapWriter;
use sipxfer::capture::{Frame, Input};

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

/// Threads of this process, or `None` where there is no /proc (not Linux).
fn threads() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

/// A gzip-compressed pcap of `frames` 1000-byte frames: many MiB once decompressed, so
/// the read-ahead thread fills its queue and blocks long before the end.
fn big_gzip_pcap(frames: usize) -> Result<Vec<u8>> {
    let mut w = PcapWriter::new(Vec::new(), 1)?;
    let mut data = vec![0u8; 1000];
    for i in 0..frames {
        if let Some(b) = data.get_mut(i % 1000) {
            *b = b.wrapping_add(1);
        }
        w.write_packet(i64::try_from(i)? * 1_000, &data)?;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&w.into_inner())?;
    Ok(gz.finish()?)
}

/// A slow source (a few KiB per read, a pause before each) that says when it is
/// dropped: a reader thread is then almost always inside a read when its input is let
/// go, and the source is dropped by that thread only once it has ended.
struct Slow {
    bytes: std::io::Cursor<Vec<u8>>,
    dropped: Arc<AtomicBool>,
}

impl Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_millis(2));
        let n = buf.len().min(4096);
        self.bytes.read(buf.get_mut(..n).unwrap_or_default())
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

/// Opens `bytes` through a [`Slow`] source; the flag is set once the source is gone.
fn open(bytes: &[u8], index: u32) -> Result<(Input, Arc<AtomicBool>)> {
    let dropped = Arc::new(AtomicBool::new(false));
    let source = Slow {
        bytes: std::io::Cursor::new(bytes.to_vec()),
        dropped: Arc::clone(&dropped),
    };
    Ok((
        Input::from_reader("big.pcap.gz", index, Box::new(source))?,
        dropped,
    ))
}

/// Sets nothing aside: every frame goes through the reader's channel, which fills.
#[derive(Clone)]
struct Nothing;

impl SetAside for Nothing {
    type Tally = ();
    fn set_aside(&self, _: &Frame<'_>, _: &mut ()) -> bool {
        false
    }
}

/// Waits a little for the thread count to come down to `want`: a thread that has
/// returned may still be on its way out of the kernel's list after `join`.
fn settles_at(want: usize) -> Option<usize> {
    let mut now = threads()?;
    for _ in 0..100 {
        if now <= want {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        now = threads()?;
    }
    Some(now)
}

#[test]
fn an_input_dropped_mid_file_stops_and_joins_its_threads() -> Result {
    let Some(before) = threads() else {
        return Ok(()); // no /proc: nothing to count with
    };
    let gz = big_gzip_pcap(40_000)?;

    // One input, gzip: one read-ahead thread, reading.
    let (mut input, source_dropped) = open(&gz, 0)?;
    let first = input.next_frame().map(|f| f.number);
    assert_eq!(first, Some(1));
    assert_eq!(threads(), Some(before + 1), "the read-ahead thread runs");
    drop(input);
    // The thread held the source: it is dropped by the time the drop returns only
    // if the drop waited for the thread.
    assert!(source_dropped.load(Ordering::SeqCst), "joined by the drop");
    assert_eq!(settles_at(before), Some(before), "gone after the drop");

    // Two inputs read in parallel, dropped after a few frames: each has a reader
    // thread (blocked on its channel) and a read-ahead thread.
    let ((a, a_dropped), (b, b_dropped)) = (open(&gz, 0)?, open(&gz, 1)?);
    let mut parallel = Parallel::new(vec![a, b], Nothing);
    let mut frames = 0;
    while frames < 10 {
        match parallel.next_item() {
            Some(Item::Frame(..)) => frames += 1,
            Some(Item::Plain(_)) => {}
            None => break,
        }
    }
    assert_eq!(frames, 10);
    assert!(threads().is_some_and(|n| n > before + 2), "readers run");
    drop(parallel);
    assert!(a_dropped.load(Ordering::SeqCst), "input 0's threads joined");
    assert!(b_dropped.load(Ordering::SeqCst), "input 1's threads joined");
    assert_eq!(settles_at(before), Some(before), "all gone after the drop");
    Ok(())
}
