//! The capture reader against the public captures in `../shared/captures/public`
//! (skipped when that directory is missing): frame counts as tshark sees them, every
//! prefix of a file, garbage appended, merging two real files.

use sipxfer::capture::{DamageKind, Input, Merge};
use std::io::Cursor;
use std::path::Path;

const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/captures/public");

fn public(name: &str) -> Option<String> {
    let path = format!("{PUBLIC}/{name}");
    if Path::new(&path).exists() {
        Some(path)
    } else {
        use std::io::Write;
        // On stderr itself: eprintln! is captured and shown only for a failing test.
        let _ = writeln!(std::io::stderr().lock(), "skipped: {path} not found");
        None
    }
}

fn from_bytes(bytes: Vec<u8>) -> Result<Input, sipxfer::capture::OpenError> {
    Input::from_reader("bytes", 0, Box::new(Cursor::new(bytes)))
}

/// Frame counts from SOURCES.md (tshark's `frame.number` of the last frame).
const FRAME_COUNTS: &[(&str, u64)] = &[
    ("xfer-attended-opensips-3cx-sll.pcap", 97),
    ("xfer-blind-opensips-3cx-sll.pcap", 48),
    ("xfer-attended-refer-rejected-erspan.pcapng", 140),
    ("xfer-blind-proxy-minimal.pcap", 35),
    ("xfer-blind-macos-2if-en0-lo0.pcapng", 1785),
    ("xfer-blind-npcap-2if-ipfrag.pcapng", 1710),
    ("xfer-two-transfers-ipfrag.pcapng", 945),
    ("xfer-refer-retrans-202-storm.pcapng", 698),
    ("xfer-refer-retrans-lossy.pcap", 6935),
    ("xfer-notify-stuck-100-loopback.pcapng", 32),
    ("xfer-refer-no-notify-eth.pcapng", 30),
    ("xfer-refer-no-notify-ipfrag.pcap", 2846),
    ("xfer-blind-zoiper-linphone.pcapng", 4046),
    ("xfer-blind-zoiper-small.pcap", 37),
    ("xfer-blind-old-linphone-android.pcapng", 3595),
    ("xfer-blind-proxy-vantage.pcapng", 124),
    ("xfer-blind-device-vantage.pcapng", 6709),
    ("xfer-2views-loopback-truncated-records.pcapng", 9),
    ("xfer-2views-ethernet.pcapng", 46),
    ("xfer-blind-linux-2if-enp2s0-lo.pcapng", 4764),
    ("tcp-sip-split-segments-port6060.pcap", 1542),
    ("tcp-sip-invite-over-3-segments.pcap", 19),
    ("tcp-sip-retransmissions-sll.pcap", 196),
    ("tcp-sip-large-body-loopback.pcap", 16),
    ("udp-ipv4-frag-invite.pcapng", 8),
    ("udp-ipv4-frag-incomplete.pcap", 6),
    ("udp-ipv6-frag-sll.pcap", 34),
    ("udp-ipv6.pcap", 6),
    ("vlan-qinq-pppoe-gre-multiif.pcapng", 36),
    ("pppoe-sip.pcap", 4),
    ("sctp-sip-sll.pcap", 5),
    ("websocket-sip-tcp.pcap", 61),
    ("rawip-linktype.pcap", 8),
    ("ipv4-linktype228.pcap", 2),
    ("ipip-tunnel-tcp.pcap", 4),
    ("gtp-ipv6-tcp-sll.pcap", 106),
    ("utf8-latin1-headers.pcap", 1022),
    ("invalid-content-length.pcap", 2),
    ("junk-before-request.pcap", 2),
];

#[test]
fn every_public_capture_opens_with_tsharks_frame_count() {
    for &(name, want) in FRAME_COUNTS {
        let Some(path) = public(name) else { return };
        let mut input = Input::open(&path, 0).unwrap_or_else(|e| panic!("{e}"));
        let mut last = 0;
        while let Some(f) = input.next_frame() {
            assert_eq!(f.number, last + 1, "{name}");
            last = f.number;
        }
        assert_eq!(last, want, "{name}");
        assert!(input.damage().is_empty(), "{name}: {:?}", input.damage());
        assert_eq!(input.stats().frames, want);
        assert_eq!(input.bytes_read(), input.file_size().unwrap(), "{name}");
    }
}

#[test]
fn multi_interface_pcapng_keeps_each_interfaces_link_type() {
    let Some(path) = public("xfer-blind-linux-2if-enp2s0-lo.pcapng") else {
        return;
    };
    let mut input = Input::open(&path, 0).unwrap();
    let mut linktypes = std::collections::BTreeSet::new();
    while let Some(f) = input.next_frame() {
        linktypes.insert(f.linktype);
    }
    // enp2s0 is Ethernet (1); lo is captured as Ethernet too on Linux, or SLL.
    assert!(!linktypes.is_empty());
    let Some(path) = public("xfer-blind-macos-2if-en0-lo0.pcapng") else {
        return;
    };
    let mut input = Input::open(&path, 0).unwrap();
    let mut linktypes = std::collections::BTreeSet::new();
    while let Some(f) = input.next_frame() {
        linktypes.insert(f.linktype);
    }
    // en0 is Ethernet (1), lo0 is BSD loopback (0).
    assert_eq!(linktypes.into_iter().collect::<Vec<_>>(), vec![0, 1]);
}

#[test]
fn per_record_truncation_counts_snapped_frames() {
    let Some(path) = public("xfer-2views-loopback-truncated-records.pcapng") else {
        return;
    };
    let mut input = Input::open(&path, 0).unwrap();
    while let Some(f) = input.next_frame() {
        assert!(f.data.len() as u64 <= u64::from(f.orig_len));
    }
    assert!(input.stats().snapped_frames > 0);
}

#[test]
fn the_mixed_endian_header_file_does_not_panic() {
    let Some(path) = public("corrupt-mixed-endian-header.pcap") else {
        return;
    };
    let mut input = Input::open(&path, 0).unwrap();
    while input.next_frame().is_some() {}
    let d = &input.damage()[0];
    assert_eq!(
        (d.kind, d.frame, d.offset),
        (DamageKind::CorruptBlock, 1, 24)
    );
}

/// Every prefix of a real file: no panic, the frames before the cut come out, and the
/// cut is reported as a truncated record at the frame and offset where it happened.
fn check_prefixes(name: &str, header_len: usize) {
    let Some(path) = public(name) else { return };
    let bytes = std::fs::read(&path).unwrap();
    // (length, frames) of every prefix that reads cleanly: those end on a boundary.
    let mut ends: Vec<(usize, u64)> = Vec::new();
    for cut in 0..=bytes.len() {
        let input = from_bytes(bytes[..cut].to_vec());
        let Ok(mut input) = input else {
            assert!(cut < header_len, "{name}: prefix {cut} did not open");
            continue;
        };
        let mut frames = 0u64;
        while let Some(f) = input.next_frame() {
            frames += 1;
            assert_eq!(f.number, frames);
        }
        match input.damage() {
            [] => {
                // A clean prefix ends exactly on a record boundary.
                ends.push((cut, frames));
            }
            [d] => {
                assert_eq!(
                    d.kind,
                    DamageKind::TruncatedRecord,
                    "{name} cut {cut}: {d:?}"
                );
                assert_eq!(d.frame, frames + 1, "{name} cut {cut}");
                // The damaged record starts where the last clean prefix with as many
                // frames ended (or after skipped blocks that followed it).
                assert!(d.offset < cut as u64, "{name} cut {cut}");
                let clean = ends.iter().rev().find(|&&(_, f)| f == frames);
                if let Some(&(end, _)) = clean {
                    assert!(d.offset >= end as u64, "{name} cut {cut}: {d:?} vs {end}");
                }
            }
            more => panic!("{name} cut {cut}: {more:?}"),
        }
    }
    assert!(ends.len() > 2, "{name}: too few clean prefixes");
    assert_eq!(ends.last().map(|&(c, _)| c), Some(bytes.len()));
}

#[test]
fn every_prefix_of_a_pcapng_file() {
    check_prefixes("udp-ipv4-frag-invite.pcapng", 12);
}

#[test]
fn every_prefix_of_a_legacy_pcap_file() {
    check_prefixes("udp-ipv6.pcap", 24);
}

#[test]
fn garbage_appended_to_real_files() {
    for name in ["udp-ipv4-frag-invite.pcapng", "udp-ipv6.pcap"] {
        let Some(path) = public(name) else { return };
        let mut bytes = std::fs::read(&path).unwrap();
        let end = bytes.len() as u64;
        for garbage in [&b"garbage after the last record\r\n"[..], &[0xff; 64][..]] {
            bytes.truncate(end as usize);
            bytes.extend_from_slice(garbage);
            let mut input = from_bytes(bytes.clone()).unwrap();
            let mut n = 0;
            while input.next_frame().is_some() {
                n += 1;
            }
            let d = &input.damage()[0];
            assert_eq!(
                (d.kind, d.frame, d.offset),
                (DamageKind::GarbageAfterRecords, n + 1, end),
                "{name}"
            );
        }
    }
}

#[test]
fn merging_two_real_files_interleaves_by_time() {
    let (Some(a), Some(b)) = (
        public("udp-ipv6.pcap"),
        public("udp-ipv4-frag-invite.pcapng"),
    ) else {
        return;
    };
    let count = |p: &str| {
        let mut i = Input::open(p, 0).unwrap();
        let mut n = 0;
        while i.next_frame().is_some() {
            n += 1;
        }
        n
    };
    let (na, nb) = (count(&a), count(&b));
    let mut merge = Merge::new(vec![
        Input::open(&a, 0).unwrap(),
        Input::open(&b, 1).unwrap(),
    ]);
    let mut last_ts = i64::MIN;
    let mut next_number = [1u64, 1];
    let mut total = 0;
    while let Some(f) = merge.next_frame() {
        assert!(f.ts_ns >= last_ts, "merged output goes back in time");
        last_ts = f.ts_ns;
        let slot = &mut next_number[f.file as usize];
        assert_eq!(
            f.number, *slot,
            "file {} keeps its own frame numbers",
            f.file
        );
        *slot += 1;
        total += 1;
    }
    assert_eq!(total, na + nb);
    assert_eq!(next_number, [na + 1, nb + 1]);
}

/// One-off cross-check helper: `DUMP_DIR=/tmp/x cargo test --test capture dump -- --ignored`
/// writes "number ts_ns linktype caplen origlen" per frame for comparison with tshark.
#[test]
#[ignore]
fn dump() {
    let Ok(dir) = std::env::var("DUMP_DIR") else {
        return;
    };
    for &(name, _) in FRAME_COUNTS {
        let Some(path) = public(name) else { return };
        let mut input = Input::open(&path, 0).unwrap();
        let mut out = String::new();
        while let Some(f) = input.next_frame() {
            out += &format!(
                "{} {} {} {} {}\n",
                f.number,
                f.ts_ns,
                f.linktype,
                f.data.len(),
                f.orig_len
            );
        }
        std::fs::write(format!("{dir}/{name}.txt"), out).unwrap();
    }
}

/// Deterministic random mutations of real files (a poor man's fuzzer that runs with the
/// tests): flipped bytes, overwritten lengths, cut and duplicated ranges. Nothing may
/// panic, and every frame must lie inside what was read.
#[test]
fn mutated_real_files_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for name in [
        "udp-ipv4-frag-invite.pcapng",
        "udp-ipv6.pcap",
        "xfer-2views-ethernet.pcapng",
    ] {
        let Some(path) = public(name) else { return };
        let original = std::fs::read(&path).unwrap();
        for round in 0..1500 {
            let mut bytes = original.clone();
            for _ in 0..1 + rand(4) {
                if bytes.is_empty() {
                    break;
                }
                let at = rand(bytes.len());
                match rand(4) {
                    0 => bytes[at] ^= 1 << rand(8),
                    1 => {
                        let v = [0xff, 0x00, 0x7f, 0x80][rand(4)];
                        for b in bytes.iter_mut().skip(at).take(4) {
                            *b = v;
                        }
                    }
                    2 => bytes.truncate(at),
                    _ => {
                        let len = rand(64).min(bytes.len() - at);
                        let copy = bytes[at..at + len].to_vec();
                        let to = rand(bytes.len());
                        bytes.splice(to..to, copy);
                    }
                }
            }
            let gz = round % 10 == 0;
            let bytes = if gz {
                use std::io::Write;
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&bytes).unwrap();
                e.finish().unwrap()
            } else {
                bytes
            };
            let total = bytes.len();
            let Ok(mut input) = from_bytes(bytes) else {
                continue;
            };
            let mut n = 0u64;
            loop {
                // Peek before every other frame, as a merge does.
                let peeked = if n.is_multiple_of(2) {
                    input.peek_ts()
                } else {
                    None
                };
                let Some(f) = input.next_frame() else {
                    assert_eq!(peeked, None);
                    break;
                };
                n += 1;
                assert_eq!(f.number, n);
                assert!(peeked.is_none() || peeked == Some(f.ts_ns));
                assert!(gz || f.data.len() <= total);
            }
            assert!(input.damage().len() <= 1);
        }
    }
}
