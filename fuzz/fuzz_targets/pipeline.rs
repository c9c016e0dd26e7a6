//! The whole pipeline and every renderer, every rule on, on an arbitrary file:
//! `cargo fuzz run pipeline`. The body is `sipxfer::fuzzing::pipeline`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sipxfer::fuzzing::pipeline(data));
