//! The whole pipeline over every capture in ../shared/captures/public (real captures
//! from public projects; see its SOURCES.md). These tests need ../shared beside the
//! repository and skip themselves when it is not there.
//!
//! SOURCES.md gives, for each file, the frames and SIP messages that tshark's two-pass
//! dissection counts; we must agree. The exact per-message comparison is
//! `scripts/crosscheck-tshark`; this test keeps the counts from regressing.

mod common;

use std::collections::HashMap;

use sipxfer::analysis::{self, Analysis, Options, Quiet};
use sipxfer::capture::Input;

/// Frames and SIP messages per file, as SOURCES.md states them.
fn tshark_counts() -> HashMap<String, (u64, u64)> {
    let path = common::root().join("../shared/captures/public/SOURCES.md");
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut counts = HashMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let Some(name) = line.split('`').nth(1) else {
            continue;
        };
        let number_before = |word: &str| -> Option<u64> {
            let at = line.find(word)?;
            line[..at].split_whitespace().last()?.parse().ok()
        };
        if let (Some(frames), Some(sip)) = (number_before(" frames,"), number_before(" SIP msgs")) {
            counts.insert(name.to_string(), (frames, sip));
        }
    }
    counts
}

fn analyse(path: &std::path::Path) -> Option<Analysis> {
    let input = Input::open(path.to_str()?, 0).ok()?;
    Some(analysis::run(vec![input], &Options::default(), &mut Quiet))
}

#[test]
fn every_public_capture_is_read_without_panic() {
    let files = common::public_captures();
    for path in &files {
        // A capture that cannot be opened must say so; nothing may panic.
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match Input::open(path.to_str().unwrap_or_default(), 0) {
            Ok(input) => {
                let a = analysis::run(vec![input], &Options::default(), &mut Quiet);
                eprintln!(
                    "{name}: {} frames, {} SIP messages, {} dialogs",
                    a.stats.frames, a.stats.sip.messages, a.stats.dialogs.dialogs
                );
            }
            Err(e) => {
                assert!(!e.message.is_empty());
                eprintln!("{name}: not opened: {e}");
            }
        }
    }
}

#[test]
fn frame_and_message_counts_agree_with_tshark() {
    let counts = tshark_counts();
    if counts.is_empty() {
        common::skipped("../shared/captures/public/SOURCES.md is not there");
        return;
    }
    let mut failures = Vec::new();
    for (name, (frames, sip)) in &counts {
        let Some(path) = common::public(name) else {
            continue;
        };
        let Some(a) = analyse(&path) else {
            failures.push(format!("{name}: cannot be opened"));
            continue;
        };
        if a.stats.frames != *frames {
            failures.push(format!(
                "{name}: {} frames, tshark {frames}",
                a.stats.frames
            ));
        }
        if a.stats.sip.messages != *sip {
            failures.push(format!(
                "{name}: {} SIP messages, tshark {sip}",
                a.stats.sip.messages
            ));
        }
    }
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
