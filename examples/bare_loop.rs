//! The baseline `sipxfer` is measured against: the least work any tool built on
//! the same crates must do to look at every packet of a capture.
//!
//! It streams a pcap or pcapng file through pcap-parser's streaming reader (1 MiB
//! buffer), slices every frame with etherparse (link layer, IP, UDP/TCP headers) and
//! counts packets and UDP payload bytes, so the optimiser cannot drop the work.
//! No reassembly, no SIP: whatever `sipxfer` costs above this is its own.
//!
//! Usage: `cargo run --release --example bare_loop -- FILE`
//! Prints one line: packets, seconds, MB/s, packets/s (MB = 10^6 bytes of file).

use std::fs::File;
use std::time::Instant;

use etherparse::{SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError, create_reader};

/// Big enough that refills are rare and cheap next to the parsing.
const READ_BUFFER_BYTES: usize = 1 << 20;

#[derive(Default)]
struct Tally {
    packets: u64,
    sliced: u64,
    udp_packets: u64,
    udp_payload_bytes: u64,
    tcp_packets: u64,
}

impl Tally {
    fn frame(&mut self, linktype: Linktype, data: &[u8]) {
        self.packets += 1;
        let sliced = match linktype {
            Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
            Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
            Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(data),
            _ => return,
        };
        let Ok(packet) = sliced else { return };
        self.sliced += 1;
        match packet.transport {
            Some(TransportSlice::Udp(udp)) => {
                self.udp_packets += 1;
                self.udp_payload_bytes += udp.payload().len() as u64;
            }
            Some(TransportSlice::Tcp(_)) => self.tcp_packets += 1,
            _ => {}
        }
    }
}

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: bare_loop FILE");
        return std::process::ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("bare_loop: {}: {e}", path.to_string_lossy());
            return std::process::ExitCode::FAILURE;
        }
    };
    let file_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = Instant::now();
    let mut reader = match create_reader(READ_BUFFER_BYTES, file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bare_loop: not a pcap/pcapng file: {e:?}");
            return std::process::ExitCode::FAILURE;
        }
    };

    let mut tally = Tally::default();
    let mut legacy_linktype = Linktype::ETHERNET;
    // pcapng: one link type per interface, numbered in order of description
    // within the current section.
    let mut interface_linktypes: Vec<Linktype> = Vec::new();
    let mut truncated = false;
    loop {
        match reader.next() {
            Ok((consumed, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(header) => legacy_linktype = header.network,
                    PcapBlockOwned::Legacy(frame) => {
                        let len = frame.caplen as usize;
                        tally.frame(legacy_linktype, frame.data.get(..len).unwrap_or(frame.data));
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interface_linktypes.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interface_linktypes.push(idb.linktype)
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let linktype = interface_linktypes
                            .get(epb.if_id as usize)
                            .copied()
                            .unwrap_or(Linktype::ETHERNET);
                        let len = epb.caplen as usize;
                        tally.frame(linktype, epb.data.get(..len).unwrap_or(epb.data));
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let linktype = interface_linktypes
                            .first()
                            .copied()
                            .unwrap_or(Linktype::ETHERNET);
                        let len = spb.origlen as usize;
                        tally.frame(linktype, spb.data.get(..len).unwrap_or(spb.data));
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(consumed);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    truncated = true;
                    break;
                }
                if let Err(e) = reader.refill() {
                    eprintln!("bare_loop: read error: {e:?}");
                    return std::process::ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!(
                    "bare_loop: parse error after {} packets: {e:?}",
                    tally.packets
                );
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let megabytes = file_bytes as f64 / 1e6;
    println!(
        "packets {} sliced {} udp {} udp_payload_bytes {} tcp {}{}",
        tally.packets,
        tally.sliced,
        tally.udp_packets,
        tally.udp_payload_bytes,
        tally.tcp_packets,
        if truncated {
            " (truncated last record)"
        } else {
            ""
        }
    );
    println!(
        "seconds {seconds:.3} MB/s {:.1} packets/s {:.0}",
        megabytes / seconds.max(1e-9),
        tally.packets as f64 / seconds.max(1e-9)
    );
    std::process::ExitCode::SUCCESS
}
