//! The whole pipeline (capture, net, sip, dialog) on an arbitrary file: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipxfer::analysis::{self, Options, Quiet};
use sipxfer::capture::Input;

fuzz_target!(|data: &[u8]| {
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    if let Ok(input) = Input::from_reader("fuzz", 0, reader) {
        let _ = analysis::run(vec![input], &Options::default(), &mut Quiet);
    }
});
