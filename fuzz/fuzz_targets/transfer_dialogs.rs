//! Structure-aware: SIP dialogs with transfers built from the fuzzer's bytes with
//! `arbitrary`, header values mutated, written as a pcap and run through every
//! renderer: `cargo fuzz run transfer_dialogs`. The body is in `fuzz/shared/dialogs.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../shared/dialogs.rs"]
mod dialogs;

fuzz_target!(|data: &[u8]| dialogs::run(data));
