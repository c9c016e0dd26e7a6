//! The sipxfer.toml reader on arbitrary text: `cargo fuzz run config`. The body is
//! `sipxfer::fuzzing::config`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sipxfer::fuzzing::config(data));
