//! Splits a capture into consecutive files of about equal packet counts, as a ring
//! buffer (`tshark -b`) leaves them: for `scripts/bench --ring N`.
//!
//! Usage: `cargo run --release --example split -- FILE N OUT_PREFIX`
//! Writes OUT_PREFIX-1.pcap ... OUT_PREFIX-N.pcap (nanosecond pcap, the input's link
//! type) and prints their paths, one a line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use sipxfer::capture::Input;
use sipxfer::capture::write::PcapWriter;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(parts), Some(prefix)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: split FILE N OUT_PREFIX");
        return ExitCode::from(2);
    };
    let Ok(parts) = parts.parse::<u64>() else {
        eprintln!("split: N must be a number");
        return ExitCode::from(2);
    };
    match split(path, parts.max(1), prefix) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("split: {e}");
            ExitCode::from(1)
        }
    }
}

fn split(path: &str, parts: u64, prefix: &str) -> Result<(), Box<dyn std::error::Error>> {
    // Count first, so the parts are equal.
    let mut input = Input::open(path, 0)?;
    let mut total = 0u64;
    while input.next_frame().is_some() {
        total += 1;
    }
    let per_part = total.div_ceil(parts).max(1);
    let mut input = Input::open(path, 0)?;
    let mut writer: Option<PcapWriter<BufWriter<File>>> = None;
    let mut written = 0u64;
    while let Some(frame) = input.next_frame() {
        if written.is_multiple_of(per_part) {
            let name = format!("{prefix}-{}.pcap", written / per_part + 1);
            let out = BufWriter::with_capacity(1 << 20, File::create(&name)?);
            if let Some(done) = writer.replace(PcapWriter::new(out, frame.linktype)?) {
                done.into_inner().flush()?;
            }
            println!("{name}");
        }
        if let Some(w) = writer.as_mut() {
            w.write_record(frame.ts_ns, frame.data, frame.orig_len)?;
        }
        written += 1;
    }
    if let Some(done) = writer {
        done.into_inner().flush()?;
    }
    Ok(())
}
