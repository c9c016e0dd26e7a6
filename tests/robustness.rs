//! A capture is untrusted input: the whole pipeline — capture, net, sip, dialog,
//! transfer, rules — and every renderer must survive damaged captures. Deterministic
//! mutations (byte flips, overwritten runs, cut tails, duplicated slices) of real
//! transfer captures from samples/ and samples/faults/.

mod common;

use sipxfer::analysis::{self, Options};
use sipxfer::capture::Input;
use sipxfer::report::{self, Palette};

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    // Keep the file header most of the time so records get parsed.
    let start = if rng.below(4) == 0 {
        0
    } else {
        24.min(bytes.len())
    };
    for _ in 0..1 + rng.below(8) {
        if bytes.len() <= start + 1 {
            break;
        }
        let at = start + rng.below(bytes.len() - start);
        match rng.below(5) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => {
                let len = rng.below(32).min(bytes.len() - at);
                for b in &mut bytes[at..at + len] {
                    *b = rng.next() as u8;
                }
            }
            2 => bytes.truncate(at),
            3 => {
                let len = rng.below(200).min(bytes.len() - at);
                let slice = bytes[at..at + len].to_vec();
                let to = start + rng.below(bytes.len() - start);
                bytes.splice(to..to, slice);
            }
            _ => {
                // SIP-looking text where the payload was: parser paths, not just framing.
                let text = b"SIP/2.0 200 OK\r\nCSeq: 1 REFER\r\nRefer-To: <sip:@h?Replaces=x%3Bto-tag%3D>\r\n\r\n";
                let len = text.len().min(bytes.len() - at);
                bytes[at..at + len].copy_from_slice(&text[..len]);
            }
        }
    }
    bytes
}

#[test]
fn damaged_captures_never_panic_anywhere_in_the_pipeline() {
    let names = [
        "samples/xfer-attended-replaces-udp.pcap",
        "samples/xfer-two-transfers-udp.pcap",
        "samples/tcp-pipelined-segments.pcap",
        "samples/calls-mixed-udp.pcapng",
        "samples/faults/x201-replaces-without-tags.pcap",
        "samples/faults/x308-notify-without-id.pcap",
    ];
    let mut rng = Rng(0x5eed);
    let rounds = if cfg!(debug_assertions) { 400 } else { 3000 };
    for name in names {
        let original = std::fs::read(common::root().join(name)).expect("sample");
        for _ in 0..rounds {
            let bytes = mutate(&mut rng, &original);
            let Ok(input) = Input::from_reader("mutant", 0, Box::new(std::io::Cursor::new(bytes)))
            else {
                continue;
            };
            let mut rows = report::ladder::Rows::with_messages();
            let a = analysis::run(vec![input], &Options::default(), &mut rows);
            let palette = Palette {
                enabled: true,
                wide: false,
            };
            let _ = report::transfer::text(&a, palette, Some(&rows));
            let _ = report::html::page(&a, &rows);
            let _ = report::mermaid::document(&a, &rows);
            let _ = report::calls::text(&a, palette);
            let _ = report::summary::text(&a, palette);
            let _ = report::rules::check_text(&a, &[], sipxfer::rules::Severity::Info, palette);
            let _ = serde_json::to_string(&report::transfer::json(&a)).expect("JSON");
        }
    }
}
