//! The bodies of the fuzz targets under `fuzz/`, here so that there is one copy of
//! each: `cargo fuzz run NAME` calls them on the fuzzer's inputs, and
//! `tests/fuzz_corpora.rs` replays every file of `fuzz/corpus/NAME/` through them on
//! the stable toolchain (so a crash once found stays fixed without nightly).
//!
//! Each body takes arbitrary bytes and must not panic; the asserts in them are the
//! invariants a fuzzer should also check, beyond "no panic". They are not part of the
//! tool's interface (hidden from the docs), and build with no feature: they cost
//! nothing unless called.
//!
//! The structure-aware target (`transfer_dialogs`) lives in `fuzz/shared/`, as it
//! needs the `arbitrary` crate, which the tool itself does not.

use std::io::Write;

use crate::analysis::{self, Options};
use crate::capture::{Input, Merge};
use crate::report::{self, Palette};
use crate::rules::{Config, Level, RULES, Severity};

/// Opens `data` as input `index`; `None` when it is not a capture at all.
fn open(data: &[u8], index: u32) -> Option<Input> {
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    Input::from_reader("fuzz", index, reader).ok()
}

/// `data` gzip-compressed, as a `.pcap.gz` would be.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec fails only when memory does, which aborts anyway.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Every frame of `input`, checking the reader's invariants: frame numbers count up
/// from 1; a peeked timestamp is the next frame's; at most one damage record, after
/// which nothing more is read. Returns the number of frames.
fn read_all(mut input: Input) -> u64 {
    let mut n = 0u64;
    loop {
        let peeked = if n.is_multiple_of(2) {
            input.peek_ts()
        } else {
            None
        };
        let Some(f) = input.next_frame() else { break };
        n += 1;
        assert_eq!(f.number, n);
        assert!(peeked.is_none() || peeked == Some(f.ts_ns));
    }
    assert!(input.damage().len() <= 1);
    assert!(input.next_frame().is_none());
    n
}

/// `capture`: the capture reader (pcap, pcapng with its sections and interfaces,
/// gzip, the merge) on arbitrary bytes.
pub fn capture(data: &[u8]) {
    let Some(input) = open(data, 0) else {
        return;
    };
    let n = read_all(input);

    // The same bytes gzip-compressed, read on the read-ahead thread: the same frames.
    // Bounded, as compressing costs more than reading.
    if data.len() <= 64 * 1024
        && let Some(input) = open(&gzip(data), 0)
    {
        assert_eq!(read_all(input), n, "gzip changes nothing");
    }

    // The same bytes twice, merged: every frame of both comes out.
    if let (Some(a), Some(b)) = (open(data, 0), open(data, 1)) {
        let mut merge = Merge::new(vec![a, b]);
        let mut total = 0u64;
        while merge.next_frame().is_some() {
            total += 1;
        }
        assert_eq!(total, 2 * n);
    }

    // A gzip input dropped after its first frame: its thread is stopped and joined
    // (LeakSanitizer, run by cargo fuzz, would report one left running).
    if let Some(mut input) = open(&gzip(data.get(..4096).unwrap_or(data)), 0) {
        let _ = input.next_frame();
    }
}

/// `sip_message`: the SIP parser and every typed accessor on arbitrary bytes.
pub fn sip_message(data: &[u8]) {
    use crate::sip::{Message, Sipfrag, framing, looks_like_sip, sdp};
    let _ = looks_like_sip(data);
    let _ = framing::frame_stream(data);
    let _ = framing::datagram_message(data);
    let _ = sdp::direction(data);
    let _ = Sipfrag::parse(data);
    for stream in [false, true] {
        if let Ok(m) = Message::parse(data, stream) {
            let _ = (
                m.call_id(),
                m.from(),
                m.to(),
                m.cseq(),
                m.vias(),
                m.contact(),
            );
            let _ = (
                m.content_type(),
                m.content_length(),
                m.referred_by(),
                m.replaces(),
            );
            let _ = (
                m.event(),
                m.subscription_state(),
                m.refer_sub(),
                m.target_dialog(),
            );
            let _ = (
                m.requires("replaces"),
                m.supports("norefersub"),
                m.user_agent(),
            );
            let _ = m.request_uri();
            for r in m.refer_to() {
                let _ = r
                    .parsed_uri()
                    .map(|u| (u.header("Replaces"), u.param("transport")));
                let _ = r.tag();
            }
        }
    }
}

/// Every rule on, the opt-in ones included, each at a level of its own turn so that
/// every severity is rendered; trusted domains set so the trusted-domain rule speaks.
pub fn every_rule_on() -> Config {
    let levels = [Level::Info, Level::Warn, Level::Deny];
    Config {
        levels: RULES
            .iter()
            .zip(levels.iter().cycle())
            .map(|(rule, level)| (rule.code, *level))
            .collect(),
        trusted_domains: vec!["example.com".to_string(), "10.0.0.0/8".to_string()],
        fail_on: Some(Severity::Info),
    }
}

/// `pipeline`: the whole product on one capture — capture, net, sip, dialog,
/// transfer, rules — and every renderer of every command (`analyze` as text, with the
/// ladder, HTML, Mermaid, JSON and JSON Lines; `calls` as a table, JSON and JSON Lines;
/// `messages` as text, JSON and JSON Lines; `check` as text and JSON), with the calls
/// kept to the end and written aside (or only counted) as they finish, on the input
/// alone and merged with itself (a capture taken at two points), on one thread and
/// (once: spawning threads is most of the time of a run on a small input) on reader
/// threads.
pub fn pipeline(data: &[u8]) {
    // The whole run also groups legs end to end (every leg kept); the threaded
    // runs let legs go as a long capture would.
    let one_thread = Options {
        rules: every_rule_on(),
        threads: false,
        correlate_calls: true,
        ..Options::default()
    };
    let threads = Options {
        threads: true,
        correlate_calls: false,
        ..one_thread.clone()
    };
    let single = || open(data, 0).into_iter().collect::<Vec<_>>();
    let merged = || {
        [open(data, 0), open(data, 1)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
    };
    if single().is_empty() {
        return;
    }
    let colour = Palette {
        enabled: true,
        wide: false,
    };
    let wide = Palette {
        enabled: false,
        wide: true,
    };

    // analyze (text with the ladder, JSON), calls, check: what needs the whole run.
    let mut watch = report::refers::ReferWatch::new(report::ladder::Rows::default());
    let a = analysis::run(single(), &one_thread, &mut watch);
    for palette in [colour, wide] {
        let others = crate::transfer::calls_outside_transfers(&a.transfers, &a.dialogs).len();
        let rows = Some(&watch.inner);
        let _ = report::transfer::text_with(&a, palette, rows, &watch.unlinked, others);
        let _ = report::summary::text(&a, palette);
        let _ = report::calls::text(&a, palette);
        let _ = report::rules::check_text(&a, &watch.unlinked, Severity::Info, palette);
    }
    let _ = report::transfer::text(&a, colour, None);
    // The pictures: the HTML page (SVG ladders) and the Mermaid diagrams.
    let _ = report::html::page_with(&a, &watch.inner, &watch.unlinked);
    let _ = report::mermaid::document(&a, &watch.inner);
    let _ = serde_json::to_vec(&report::transfer::json_with(&a, &watch.unlinked));
    let _ = serde_json::to_vec(&report::calls::json(&a));
    let _ = serde_json::to_vec(&report::transfer::json(&a));
    let _ = report::correlated::text(&a);
    let _ = serde_json::to_vec(&report::correlated::json(&a));

    // analyze --format json: the call list written aside as calls finish.
    let mut spool = report::refers::ReferWatch::new(report::spool::CallSpool::new());
    let spooled = analysis::run(merged(), &threads, &mut spool);
    if let Ok(calls) = spool.inner.finish() {
        let doc = report::transfer::json_with(&spooled, &spool.unlinked);
        let _ = report::spool::write_document(&mut Vec::new(), &doc, calls);
    }

    // calls as a table: the rows written aside as calls finish, measured as they come.
    let style = report::spool::Style::Row {
        inputs: 2,
        wide: true,
    };
    let mut table = report::spool::CallSpool::calls_only(style);
    let _ = analysis::run(merged(), &threads, &mut table);
    if let Ok(Some(spooled)) = table.finish() {
        let _ = spooled.write_table(&mut Vec::new(), colour);
    }

    // analyze and check as text: the calls let go as they finish, only counted.
    let mut counter = report::transfer::OtherCalls::default();
    let mut counted = analysis::run(merged(), &threads, &mut counter);
    let others = counter.finish(&mut counted);
    let _ = report::transfer::text_with(&counted, wide, None, &[], others);

    // analyze --format jsonl streams transfers as they complete: merged, on threads.
    let mut lines = report::transfer::JsonLines::new(Vec::new());
    let _ = analysis::run(merged(), &threads, &mut lines);
    let _ = lines.finish();

    // messages, in its three formats.
    let mut text = report::messages::TextLines::new(Vec::new(), true);
    text.wide = true;
    text.header();
    let a = analysis::run(merged(), &one_thread, &mut text);
    let _ = report::summary::text(&a, wide);
    let mut lines = report::messages::JsonLines::new(Vec::new());
    let _ = analysis::run(single(), &one_thread, &mut lines);
    let _ = lines.finish();
    let mut stream = report::messages::JsonStream::new(Vec::new());
    let a = analysis::run(single(), &one_thread, &mut stream);
    let _ = stream.finish(&a);
}

/// `config`: the `sipxfer.toml` reader on arbitrary text, then the configuration it
/// built asked everything it answers.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut config = Config::default();
    let _ = config.parse_file(&text);
    for rule in RULES {
        let _ = config.severity(rule);
    }
    for host in [
        "example.com",
        "a.example.com",
        "10.1.2.3",
        "[2001:db8::1]",
        "2001:db8::1",
        "",
        ".",
    ] {
        let _ = config.trusts(host);
    }
    // Each line as a host and as a rule name too: the other ends of the same strings.
    for line in text.lines().take(64) {
        let _ = config.trusts(line);
        let _ = config.set(line, Level::Warn);
        let _ = crate::rules::config::parse_severity(line);
    }
}
