//! The SIP parser and every typed accessor on arbitrary bytes:
//! `cargo fuzz run sip_message`. The body is `sipxfer::fuzzing::sip_message`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sipxfer::fuzzing::sip_message(data));
