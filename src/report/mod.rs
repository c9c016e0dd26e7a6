//! Renders a finished analysis (or a stream of messages) as text or JSON. It computes
//! nothing new.
//!
//! Guarantees:
//! - Every byte that came off the wire passes through [`escape`] before it reaches a
//!   terminal: control characters are shown as escapes, so a capture cannot drive the
//!   user's terminal.
//! - Colour only when asked for or when standard output is a terminal and `NO_COLOR`
//!   is not set.
//! - JSON documents start with `schema_version` and keep the field names documented in
//!   README.md.

pub mod calls;
pub mod correlated;
pub mod filter;
pub mod html;
pub mod ladder;
pub mod mermaid;
pub mod messages;
pub mod phase;
pub mod progress;
pub mod refers;
pub mod rules;
pub mod spool;
pub mod summary;
pub mod transfer;

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::capture::FrameRef;

/// Version of the JSON documents; a change of meaning bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// Text with every control character escaped (C0, DEL, C1, and the Unicode bidi
/// controls), lossily decoded from bytes: safe to print on a terminal.
pub fn escape(bytes: &[u8]) -> Cow<'_, str> {
    let text = String::from_utf8_lossy(bytes);
    if !text.chars().any(needs_escape) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            match c {
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                c if (c as u32) < 0x100 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for text that is already a string (decoded earlier from wire bytes).
pub fn escape_str(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(escape(text.as_bytes()).into_owned())
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Seconds with 6 decimals, as Wireshark shows relative times.
pub fn seconds(s: f64) -> String {
    format!("{s:.6}")
}

/// Relative time, as Wireshark shows it: seconds from time zero, the first frame of
/// the capture. Every time the report shows goes through here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Time zero, ns since the epoch.
    pub zero_ns: i64,
}

impl Clock {
    /// The clock of a finished analysis: zero at its first frame (at the epoch when it
    /// read none, and then it has no times to show).
    pub fn of(analysis: &Analysis) -> Clock {
        Clock::from_zero(analysis.start_ns.unwrap_or_default())
    }

    /// The clock of a streamed run, which hands its time zero to each observer.
    pub fn from_zero(zero_ns: i64) -> Clock {
        Clock { zero_ns }
    }

    /// Seconds of `ts_ns` from time zero.
    pub fn secs(self, ts_ns: i64) -> f64 {
        ts_ns.saturating_sub(self.zero_ns) as f64 / 1e9
    }

    /// The time of a frame for text: seconds with 6 decimals (`40.861666`).
    pub fn text(self, frame: FrameRef) -> String {
        seconds(self.secs(frame.ts_ns))
    }

    /// The time of a frame for JSON: seconds rounded to the microsecond.
    pub fn json(self, frame: FrameRef) -> f64 {
        micro(self.secs(frame.ts_ns))
    }
}

/// A duration in a human form: `12.3 s`, `4 min 05 s`, `1 h 02 min`.
pub fn duration(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        let whole = s as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        let whole = s as u64;
        format!("{} h {:02} min", whole / 3600, (whole % 3600) / 60)
    }
}

/// How a frame is named to the user: `42`, or `2:42` (file 2 of the command line,
/// frame 42) when several files were read; the summary lists the files by number.
pub fn frame_name(inputs: usize, frame: FrameRef) -> String {
    if inputs > 1 {
        format!("{}:{}", frame.file + 1, frame.number)
    } else {
        frame.number.to_string()
    }
}

/// The last component of a path.
pub fn short_path(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A frame reference in JSON: file index, frame number, seconds from the first frame.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FrameJson {
    pub file: u32,
    pub frame: u64,
    pub time: f64,
}

impl FrameJson {
    pub fn new(analysis: &Analysis, frame: FrameRef) -> FrameJson {
        FrameJson::at(Clock::of(analysis), frame)
    }

    pub fn at(clock: Clock, frame: FrameRef) -> FrameJson {
        FrameJson {
            file: frame.file,
            frame: frame.number,
            time: clock.json(frame),
        }
    }
}

/// Rounds seconds to microseconds so JSON shows 6 decimals at most.
pub fn micro(s: f64) -> f64 {
    (s * 1e6).round() / 1e6
}

/// Colours for text output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Palette {
    pub enabled: bool,
    /// `--wide`: Call-IDs, methods and labels whole instead of cut to fit the columns.
    pub wide: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn bad(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn warn(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_plain_text_alone() {
        assert!(matches!(escape(b"Alice <sip:a@b>"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_neutralises_terminal_controls() {
        assert_eq!(escape(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape(b"line\r\nnext\t"), "line\\r\\nnext\\t");
        assert_eq!(escape("x\u{202e}y".as_bytes()), "x\\u{202e}y");
        assert_eq!(escape(b"\x9b"), "\u{fffd}");
        assert_eq!(escape_str("\u{9b}1m"), "\\x9b1m");
    }

    #[test]
    fn escape_keeps_text_that_is_not_a_control() {
        // Printable non-ASCII, and the invalid byte shown as U+FFFD, stay as they are.
        assert_eq!(escape("Zoë → 北京".as_bytes()), "Zoë → 北京");
        assert_eq!(escape(b"a\xffb"), "a\u{fffd}b");
        assert!(matches!(escape_str("plain"), Cow::Borrowed(_)));
        // DEL and the other bidi controls too.
        assert_eq!(escape(b"\x7f"), "\\x7f");
        assert_eq!(escape_str("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(escape(b"\x00"), "\\x00");
    }

    fn at(file: u32, number: u64, ts_ns: i64) -> FrameRef {
        FrameRef {
            seq: number,
            file,
            number,
            ts_ns,
        }
    }

    #[test]
    fn times_are_seconds_from_the_first_frame() {
        let clock = Clock::from_zero(1_000_000_000_000);
        let f = at(0, 27, 1_040_861_665_900);
        assert_eq!(clock.secs(f.ts_ns), 40.8616659);
        assert_eq!(clock.text(f), "40.861666");
        assert_eq!(clock.json(f), 40.861666);
        assert_eq!(clock.text(at(0, 1, 1_000_000_000_000)), "0.000000");
        // A frame before time zero (a later file of a merge cannot be, but a
        // reordered record can) shows as a negative time, not a wrapped one.
        assert_eq!(clock.text(at(0, 2, 999_999_500_000)), "-0.000500");
        assert_eq!(seconds(1.5), "1.500000");
        assert_eq!(micro(0.123_456_7), 0.123457);
    }

    #[test]
    fn frames_name_their_file_only_when_there_are_several() {
        assert_eq!(frame_name(1, at(0, 42, 0)), "42");
        assert_eq!(frame_name(2, at(1, 42, 0)), "2:42");
        assert_eq!(frame_name(3, at(0, 7, 0)), "1:7");
        assert_eq!(short_path("/tmp/x/capture.pcapng"), "capture.pcapng");
        assert_eq!(short_path("capture.pcap"), "capture.pcap");
    }

    #[test]
    fn palette_paints_only_when_enabled() {
        let on = Palette {
            enabled: true,
            wide: false,
        };
        let off = Palette {
            enabled: false,
            wide: false,
        };
        assert_eq!(on.bad("x"), "\x1b[31mx\x1b[0m");
        assert_eq!(off.bad("x"), "x");
        assert_eq!(off.bold("Transfer 1"), "Transfer 1");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(1_500_000_000), "1.5 s");
        assert_eq!(duration(65_000_000_000), "1 min 05 s");
        assert_eq!(duration(3_720_000_000_000), "1 h 02 min");
    }
}
