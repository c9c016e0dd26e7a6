//! Throughput of the capture reader alone: frames read and merged by timestamp, no
//! decoding. Three rounds over the same files (the first warms the page cache).
//!
//! Usage: `cargo run --release --example read_speed -- FILE...` (several files are
//! merged, as `sipxfer` merges a ring buffer). Run by `scripts/bench --stages`.
//! Prints per round: frames, MB, seconds, GB/s, M frames/s, and a checksum of the
//! frames so the work cannot be optimised away; then any damage found.

use std::process::ExitCode;

use sipxfer::capture::{Input, Merge};

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: read_speed FILE...");
        return ExitCode::from(2);
    }
    for round in 0..3 {
        let start = std::time::Instant::now();
        let mut inputs = Vec::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            match Input::open(p, i as u32) {
                Ok(input) => inputs.push(input),
                Err(e) => {
                    eprintln!("read_speed: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        let mut merge = Merge::new(inputs);
        let (mut frames, mut sum) = (0u64, 0u64);
        while let Some(f) = merge.next_frame() {
            frames += 1;
            sum = sum.wrapping_add(f.data.len() as u64 ^ f.ts_ns as u64);
        }
        let secs = start.elapsed().as_secs_f64();
        let inputs = merge.into_inputs();
        let bytes = inputs.iter().map(Input::bytes_read).sum::<u64>() as f64;
        println!(
            "round {round}: {frames} frames, {:.0} MB in {secs:.2} s: {:.2} GB/s, {:.1} M frames/s (check {sum})",
            bytes / 1e6,
            bytes / secs / 1e9,
            frames as f64 / secs / 1e6
        );
        for input in &inputs {
            for d in input.damage() {
                eprintln!("{}: {d:?}", input.name());
            }
        }
    }
    ExitCode::SUCCESS
}
