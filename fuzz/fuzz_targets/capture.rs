//! The capture reader (pcap, pcapng, gzip, the merge) on arbitrary bytes:
//! `cargo fuzz run capture`. The body is `sipxfer::fuzzing::capture`, which
//! `tests/fuzz_corpora.rs` replays the corpus through.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sipxfer::fuzzing::capture(data));
