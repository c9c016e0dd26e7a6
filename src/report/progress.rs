//! A progress line on standard error for long runs: bytes read of the total, rate,
//! time left. Only when standard error is a terminal, not in CI, and only once the work
//! has taken more than a moment; it is erased when the run ends.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::analysis::{Found, Observer};
use crate::transfer::Transfer;

/// Wraps the observer that makes the output, adding the progress line.
pub struct Progress<O> {
    pub inner: O,
    enabled: bool,
    started: Instant,
    last: Option<Instant>,
    shown: bool,
}

/// How long a run goes before the line appears, and how often it is redrawn.
const QUIET_FOR: Duration = Duration::from_millis(700);
const REDRAW_EVERY: Duration = Duration::from_millis(150);

impl<O> Progress<O> {
    /// Progress for an interactive run: on only when standard error is a terminal and
    /// `CI` is not set.
    pub fn new(inner: O) -> Self {
        let enabled = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress {
            inner,
            enabled,
            started: Instant::now(),
            last: None,
            shown: false,
        }
    }

    /// Erases the line; call before printing the results.
    pub fn finish(self) -> O {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
        self.inner
    }
}

fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb >= 1000.0 {
        format!("{:.2} GB", mb / 1000.0)
    } else {
        format!("{mb:.0} MB")
    }
}

/// The progress line's text.
pub fn line(read: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = read as f64 / secs;
    match total.filter(|t| *t > 0) {
        Some(total) => {
            let done = (read as f64 / total as f64).clamp(0.0, 1.0);
            let left = if rate > 0.0 {
                (total.saturating_sub(read)) as f64 / rate
            } else {
                0.0
            };
            let width = 24;
            let filled = (done * width as f64).round() as usize;
            format!(
                "[{}{}] {:>3.0}%  {} of {}  {}/s  {:.0} s left",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width)),
                done * 100.0,
                megabytes(read),
                megabytes(total),
                megabytes(rate as u64),
                left
            )
        }
        None => format!("{} read  {}/s", megabytes(read), megabytes(rate as u64)),
    }
}

impl<O: Observer> Observer for Progress<O> {
    fn message(&mut self, found: &Found<'_, '_>) {
        self.inner.message(found);
    }
    fn streams_transfers(&self) -> bool {
        self.inner.streams_transfers()
    }
    fn lists_calls(&self) -> bool {
        self.inner.lists_calls()
    }
    fn takes_calls(&self) -> bool {
        self.inner.takes_calls()
    }
    fn call(&mut self, zero_ns: i64, listed: crate::transfer::Listed) {
        self.inner.call(zero_ns, listed);
    }
    fn transfer(&mut self, zero_ns: i64, transfer: &Transfer) {
        self.inner.transfer(zero_ns, transfer);
    }
    fn progress(&mut self, read: u64, total: Option<u64>) {
        self.inner.progress(read, total);
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.started);
        if elapsed < QUIET_FOR
            || self
                .last
                .is_some_and(|l| now.duration_since(l) < REDRAW_EVERY)
        {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", line(read, total, elapsed));
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_far_how_fast_and_how_long() {
        let l = line(500_000_000, Some(2_000_000_000), Duration::from_secs(1));
        assert!(l.contains(" 25%"), "{l}");
        assert!(l.contains("500 MB of 2.00 GB"), "{l}");
        assert!(l.contains("500 MB/s") && l.contains("3 s left"), "{l}");
        assert_eq!(
            line(10_000_000, None, Duration::from_secs(2)),
            "10 MB read  5 MB/s"
        );
    }
}
