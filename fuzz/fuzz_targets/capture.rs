//! The capture reader on arbitrary bytes: `cargo fuzz run capture`.
//!
//! Invariants checked: no panic; frame numbers count up from 1; a peeked timestamp is
//! the next frame's; at most one damage record, after which nothing more is read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipxfer::capture::{Input, Merge};

fuzz_target!(|data: &[u8]| {
    let Ok(mut input) =
        Input::from_reader("fuzz", 0, Box::new(std::io::Cursor::new(data.to_vec())))
    else {
        return;
    };
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

    // The same bytes twice, merged: every frame of both comes out.
    let open = |i| Input::from_reader("fuzz", i, Box::new(std::io::Cursor::new(data.to_vec())));
    if let (Ok(a), Ok(b)) = (open(0), open(1)) {
        let mut merge = Merge::new(vec![a, b]);
        let mut total = 0u64;
        while merge.next_frame().is_some() {
            total += 1;
        }
        assert_eq!(total, 2 * n);
    }
});
