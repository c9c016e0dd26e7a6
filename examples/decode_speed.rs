//! Throughput of the network decoder alone (link layers, IP with reassembly, UDP,
//! TCP reassembly, SCTP): the capture's frames are read into memory first, then
//! decoded again and again, so neither the disk nor the reader is measured — only
//! `net::Decoder` with a sink that counts payload bytes.
//!
//! Usage: `cargo run --release --example decode_speed -- FILE [ROUNDS]` (default 200
//! rounds; keep FILE small enough to hold in memory). Run by `scripts/bench --stages`.
//! Prints M frames/s and MB/s of frame bytes, and the payload bytes seen (a checksum).

use std::process::ExitCode;

use sipxfer::capture::{Frame, FrameRef, Input};
use sipxfer::net::{Decoder, Flow, Limits, Sink, Transport};

/// Counts payload bytes, so the decoding cannot be optimised away.
struct Count(u64);

impl Sink for Count {
    fn datagram(&mut self, _: FrameRef, _: Flow, _: Transport, payload: &[u8]) {
        self.0 += payload.len() as u64;
    }
    fn stream(&mut self, _: FrameRef, _: Flow, data: &[u8]) -> usize {
        self.0 += data.len() as u64;
        data.len()
    }
    fn stream_gap(&mut self, _: FrameRef, _: Flow) {}
    fn stream_end(&mut self, _: FrameRef, _: Flow) {}
}

/// A frame held in memory: link type, timestamp, bytes, length on the wire.
struct Kept {
    linktype: u32,
    ts_ns: i64,
    data: Vec<u8>,
    orig_len: u32,
}

fn read_all(path: &str) -> Result<Vec<Kept>, String> {
    let mut input = Input::open(path, 0).map_err(|e| e.to_string())?;
    let mut kept = Vec::new();
    while let Some(f) = input.next_frame() {
        kept.push(Kept {
            linktype: f.linktype,
            ts_ns: f.ts_ns,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        });
    }
    Ok(kept)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), rounds) = (args.first(), args.get(1)) else {
        eprintln!("usage: decode_speed FILE [ROUNDS]");
        return ExitCode::from(2);
    };
    let Ok(rounds) = rounds.map_or(Ok(200), |r| r.parse::<usize>()) else {
        eprintln!("decode_speed: ROUNDS is a number");
        return ExitCode::from(2);
    };
    let kept = match read_all(path) {
        Ok(kept) => kept,
        Err(e) => {
            eprintln!("decode_speed: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sink = Count(0);
    let bytes: usize = kept.iter().map(|f| f.data.len()).sum();
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        let mut decoder = Decoder::new(Limits::default());
        for (i, f) in kept.iter().enumerate() {
            let number = i as u64 + 1;
            let frame = Frame {
                seq: number,
                file: 0,
                number,
                ts_ns: f.ts_ns,
                linktype: f.linktype,
                data: &f.data,
                orig_len: f.orig_len,
            };
            decoder.decode(&frame, &mut sink);
        }
        decoder.finish(&mut sink);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let frames = (kept.len() * rounds) as f64;
    println!(
        "{} frames x {rounds} rounds: {:.1} M frames/s, {:.0} MB/s ({} payload bytes)",
        kept.len(),
        frames / elapsed / 1e6,
        (bytes * rounds) as f64 / elapsed / 1e6,
        sink.0
    );
    ExitCode::SUCCESS
}
