//! The decoder as a whole: crafted frames for each link type, tunnel, fragment and TCP
//! case, then the public captures, whose SIP message counts are known from tshark
//! (SOURCES.md).

use std::collections::BTreeMap;

use etherparse::PacketBuilder;

use super::*;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Datagram(u64, Flow, Transport, Vec<u8>),
    Stream(u64, Flow, Vec<u8>),
    Gap(u64, Flow),
    End(u64, Flow),
}

/// Records what the decoder delivers. `consume` decides how much of the offered
/// stream bytes the sink takes (all of them by default).
struct Recorder {
    events: Vec<Event>,
    consume: fn(&[u8]) -> usize,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            events: Vec::new(),
            consume: |data| data.len(),
        }
    }
}

impl Recorder {
    fn datagrams(&self) -> Vec<(u64, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Datagram(n, _, _, p) => Some((*n, p.clone())),
                _ => None,
            })
            .collect()
    }

    /// Every stream byte the sink consumed, concatenated.
    fn consumed(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for event in &self.events {
            if let Event::Stream(_, _, data) = event {
                all.extend_from_slice(&data[..(self.consume)(data)]);
            }
        }
        all
    }
}

impl Sink for Recorder {
    fn datagram(&mut self, frame: FrameRef, flow: Flow, transport: Transport, payload: &[u8]) {
        self.events.push(Event::Datagram(
            frame.number,
            flow,
            transport,
            payload.to_vec(),
        ));
    }
    fn stream(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        self.events
            .push(Event::Stream(frame.number, flow, data.to_vec()));
        (self.consume)(data)
    }
    fn stream_gap(&mut self, frame: FrameRef, flow: Flow) {
        self.events.push(Event::Gap(frame.number, flow));
    }
    fn stream_end(&mut self, frame: FrameRef, flow: Flow) {
        self.events.push(Event::End(frame.number, flow));
    }
}

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn frame(number: u64, linktype: u32, data: &[u8]) -> Frame<'_> {
    Frame {
        seq: number,
        file: 0,
        number,
        ts_ns: number as i64 * 1_000_000,
        linktype,
        data,
        orig_len: data.len() as u32,
    }
}

/// Runs frames (numbered from 1) through a decoder and finishes it.
fn run(linktype: u32, frames: &[Vec<u8>], sink: &mut Recorder) -> NetStats {
    run_with(Limits::default(), linktype, frames, sink)
}

fn run_with(limits: Limits, linktype: u32, frames: &[Vec<u8>], sink: &mut Recorder) -> NetStats {
    let mut decoder = Decoder::new(limits);
    for (i, data) in frames.iter().enumerate() {
        decoder.decode(&frame(i as u64 + 1, linktype, data), sink);
    }
    decoder.finish(sink);
    decoder.stats().clone()
}

fn ethernet_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(A, B, 64)
        .udp(5060, 5080)
        .write(&mut out, payload)
        .expect("write");
    out
}

fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(A, B, 64)
        .udp(5060, 5080)
        .write(&mut out, payload)
        .expect("write");
    out
}

fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6([1; 16], [2; 16], 64)
        .udp(5060, 5080)
        .write(&mut out, payload)
        .expect("write");
    out
}

fn flow_ab() -> Flow {
    Flow {
        src: SocketAddr::from((A, 5060)),
        dst: SocketAddr::from((B, 5080)),
    }
}

// ---------------------------------------------------------------- link layers

#[test]
fn udp_over_ethernet_is_delivered_without_the_ethernet_padding() {
    let mut data = ethernet_udp(b"OPTIONS");
    data.extend_from_slice(&[0; 20]); // padding to the Ethernet minimum
    let mut sink = Recorder::default();
    let stats = run(1, &[data], &mut sink);
    assert_eq!(
        sink.events,
        vec![Event::Datagram(
            1,
            flow_ab(),
            Transport::Udp,
            b"OPTIONS".to_vec()
        )]
    );
    assert_eq!(stats.udp_datagrams, 1);
}

#[test]
fn every_link_type_reaches_the_udp_payload() {
    let v4 = ipv4_udp(b"v4");
    let v6 = ipv6_udp(b"v6");
    let with = |header: &[u8], packet: &[u8]| [header, packet].concat();
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0x08, 0x00]);
    let mut sll2 = vec![0x86, 0xdd];
    sll2.extend_from_slice(&[0; 18]);
    let cases: Vec<(u32, Vec<u8>, &[u8])> = vec![
        (113, with(&sll, &v4), b"v4"),
        (276, with(&sll2, &v6), b"v6"),
        (101, v4.clone(), b"v4"),
        (12, v6.clone(), b"v6"),
        (14, v4.clone(), b"v4"),
        (228, v4.clone(), b"v4"),
        (229, v6.clone(), b"v6"),
        (0, with(&[2, 0, 0, 0], &v4), b"v4"),
        (0, with(&[30, 0, 0, 0], &v6), b"v6"),
        (108, with(&[0, 0, 0, 2], &v4), b"v4"),
        (9, with(&[0xff, 0x03, 0x00, 0x57], &v6), b"v6"),
    ];
    for (linktype, data, payload) in cases {
        let mut sink = Recorder::default();
        run(linktype, &[data], &mut sink);
        let got = sink.datagrams();
        assert_eq!(got, vec![(1, payload.to_vec())], "link type {linktype}");
    }
}

#[test]
fn vlan_and_qinq_tagged_frames() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(142.try_into().expect("vlan id"))
        .ipv4(A, B, 64)
        .udp(5060, 5080)
        .write(&mut out, b"vlan")
        .expect("write");
    let mut qinq = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(155.try_into().expect("id"), 1.try_into().expect("id"))
        .ipv6([1; 16], [2; 16], 64)
        .udp(5060, 5080)
        .write(&mut qinq, b"qinq")
        .expect("write");
    let mut sink = Recorder::default();
    run(1, &[out, qinq], &mut sink);
    assert_eq!(
        sink.datagrams(),
        vec![(1, b"vlan".to_vec()), (2, b"qinq".to_vec())]
    );
}

#[test]
fn non_ip_unsupported_and_malformed_frames_are_counted() {
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let mut cut = ethernet_udp(b"hello");
    cut.truncate(14 + 10);
    let mut sink = Recorder::default();
    let stats = run(1, &[arp, cut], &mut sink);
    assert_eq!(stats.non_ip_frames, 1);
    assert_eq!(stats.malformed_frames, 1);
    let stats = run(147, &[vec![1, 2, 3]], &mut sink);
    assert_eq!(stats.unsupported_link_frames, 1);
    assert!(sink.events.is_empty());
}

#[test]
fn a_datagram_cut_by_the_snap_length_delivers_what_was_captured() {
    let mut data = ipv4_udp(b"INVITE sip:bob@example.com SIP/2.0\r\n");
    data.truncate(28 + 6);
    let mut sink = Recorder::default();
    let stats = run(101, &[data], &mut sink);
    assert_eq!(sink.datagrams(), vec![(1, b"INVITE".to_vec())]);
    assert_eq!(stats.truncated_packets, 1);
}

#[test]
fn garbage_never_panics() {
    // A small deterministic generator; every link type and every prefix length.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut gre = vec![
        0x30, 0x01, 0x88, 0x0b, 0, 8, 0, 1, 0, 0, 0, 9, 0xff, 0x03, 0, 0x21,
    ];
    gre.extend_from_slice(&ipv4_udp(b"in gre"));
    let mut outer_gre = Vec::new();
    PacketBuilder::ipv4(A, B, 64)
        .write(&mut outer_gre, 47.into(), &gre)
        .expect("write");
    let seeds = [
        ethernet_udp(b"x"),
        ipv4_udp(b"y"),
        ipv6_udp(b"z"),
        tcp(100, 0, b"segment"),
        tcp(7, SYN, b""),
        ipv4_fragment(3, 8, true, &[1; 16]),
        ipv6_fragment(3, 0, true, &[1; 16]),
        outer_gre,
    ];
    let mut decoder = Decoder::new(Limits::default());
    let mut sink = Recorder::default();
    for round in 0..20_000u64 {
        let mut data = seeds[(round as usize) % seeds.len()].clone();
        for _ in 0..(next() % 6) {
            let i = (next() as usize) % data.len();
            data[i] = next() as u8;
        }
        data.truncate((next() as usize) % (data.len() + 1));
        for linktype in [0, 1, 9, 12, 101, 108, 113, 228, 229, 276] {
            decoder.decode(&frame(round, linktype, &data), &mut sink);
        }
    }
    decoder.finish(&mut sink);
}

// ---------------------------------------------------------------- tunnels

#[test]
fn ip_in_ip_gre_and_gtp_u_are_decapsulated() {
    let inner = ipv4_udp(b"inner");
    // IP-in-IP: outer IPv4 with protocol 4.
    let mut ipip = Vec::new();
    PacketBuilder::ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .write(&mut ipip, 4.into(), &inner)
        .expect("write");
    // GRE with transparent Ethernet bridging around an Ethernet frame.
    let mut gre = vec![0x00, 0x00, 0x65, 0x58];
    gre.extend_from_slice(&ethernet_udp(b"inner"));
    let mut outer_gre = Vec::new();
    PacketBuilder::ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .write(&mut outer_gre, 47.into(), &gre)
        .expect("write");
    // GTP-U G-PDU on UDP 2152.
    let mut gtp = vec![0x30, 0xff];
    gtp.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    gtp.extend_from_slice(&[0, 0, 0, 1]);
    gtp.extend_from_slice(&inner);
    let mut outer_gtp = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .udp(2152, 2152)
        .write(&mut outer_gtp, &gtp)
        .expect("write");
    let mut sink = Recorder::default();
    let stats = run(101, &[ipip, outer_gre], &mut sink);
    let stats_gtp = run(1, &[outer_gtp], &mut sink);
    let expected = vec![
        (1, b"inner".to_vec()),
        (2, b"inner".to_vec()),
        (1, b"inner".to_vec()),
    ];
    assert_eq!(sink.datagrams(), expected);
    assert_eq!(stats.decapsulated, 2);
    assert_eq!(stats_gtp.decapsulated, 1);
}

#[test]
fn tunnels_nested_too_deep_are_not_followed() {
    let mut packet = ipv4_udp(b"deep");
    for _ in 0..20 {
        let mut outer = Vec::new();
        PacketBuilder::ipv4(A, B, 64)
            .write(&mut outer, 4.into(), &packet)
            .expect("write");
        packet = outer;
    }
    let mut sink = Recorder::default();
    let stats = run(101, &[packet], &mut sink);
    assert!(sink.events.is_empty());
    assert_eq!(stats.malformed_frames, 1);
}

// ---------------------------------------------------------------- IP fragments

/// An IPv4 fragment of `datagram` (the IP payload: UDP header and data).
fn ipv4_fragment(id: u16, offset: usize, more: bool, part: &[u8]) -> Vec<u8> {
    let total = (20 + part.len()) as u16;
    let flags = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
    let mut header = vec![0x45, 0];
    header.extend_from_slice(&total.to_be_bytes());
    header.extend_from_slice(&id.to_be_bytes());
    header.extend_from_slice(&flags.to_be_bytes());
    header.extend_from_slice(&[64, 17, 0, 0]);
    header.extend_from_slice(&A);
    header.extend_from_slice(&B);
    header.extend_from_slice(part);
    header
}

/// A UDP datagram (header + payload) as the IP layer carries it.
fn udp_datagram(payload: &[u8]) -> Vec<u8> {
    ipv4_udp(payload)[20..].to_vec()
}

fn fragments(id: u16, datagram: &[u8], size: usize) -> Vec<Vec<u8>> {
    datagram
        .chunks(size)
        .enumerate()
        .map(|(i, part)| {
            let offset = i * size;
            ipv4_fragment(id, offset, offset + part.len() < datagram.len(), part)
        })
        .collect()
}

#[test]
fn ipv4_fragments_in_order_are_delivered_at_the_last_fragment() {
    let payload: Vec<u8> = (0..100u8).collect();
    let frames = fragments(7, &udp_datagram(&payload), 48);
    assert_eq!(frames.len(), 3);
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    assert_eq!(sink.datagrams(), vec![(3, payload)]);
    assert_eq!((stats.ip_fragments, stats.reassembled_datagrams), (3, 1));
    assert_eq!(stats.incomplete_fragment_datagrams, 0);
}

#[test]
fn ipv4_fragments_out_of_order_and_overlapping() {
    let payload: Vec<u8> = (0..100u8).collect();
    let datagram = udp_datagram(&payload);
    let mut frames = fragments(7, &datagram, 48);
    frames.reverse();
    // A fragment overlapping the first two, with other bytes: the first copy wins.
    let mut bogus = datagram[40..64].to_vec();
    bogus.iter_mut().for_each(|b| *b = 0xee);
    frames.insert(1, ipv4_fragment(7, 40, true, &bogus));
    let mut sink = Recorder::default();
    run(101, &frames, &mut sink);
    let got = sink.datagrams();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 4);
    // Datagram bytes 40..64 (payload 32..56) came first from the bogus fragment.
    let mut expected = payload.clone();
    expected[32..56].iter_mut().for_each(|b| *b = 0xee);
    assert_eq!(got[0].1, expected);
}

#[test]
fn a_missing_ipv4_fragment_is_counted_at_finish() {
    let frames = fragments(9, &udp_datagram(&[1; 100]), 48);
    let mut sink = Recorder::default();
    let stats = run(101, &[frames[0].clone(), frames[2].clone()], &mut sink);
    assert!(sink.events.is_empty());
    assert_eq!(stats.incomplete_fragment_datagrams, 1);
}

fn ipv6_fragment(id: u32, offset: usize, more: bool, part: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x60, 0, 0, 0];
    packet.extend_from_slice(&((8 + part.len()) as u16).to_be_bytes());
    packet.extend_from_slice(&[44, 64]);
    packet.extend_from_slice(&[1; 16]);
    packet.extend_from_slice(&[2; 16]);
    let offset_flags = (offset as u16) | u16::from(more);
    packet.extend_from_slice(&[17, 0]);
    packet.extend_from_slice(&offset_flags.to_be_bytes());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(part);
    packet
}

#[test]
fn ipv6_fragments_in_any_order_and_a_missing_one() {
    let payload: Vec<u8> = (0..100u8).collect();
    let datagram = ipv6_udp(&payload)[40..].to_vec();
    let first = ipv6_fragment(5, 0, true, &datagram[..56]);
    let last = ipv6_fragment(5, 56, false, &datagram[56..]);
    let mut sink = Recorder::default();
    let stats = run(229, &[last.clone(), first.clone()], &mut sink);
    assert_eq!(sink.datagrams(), vec![(2, payload)]);
    assert_eq!(stats.reassembled_datagrams, 1);
    let mut sink = Recorder::default();
    let stats = run(229, &[last], &mut sink);
    assert!(sink.events.is_empty());
    assert_eq!(stats.incomplete_fragment_datagrams, 1);
}

// ---------------------------------------------------------------- TCP

const SYN: u8 = 1;
const FIN: u8 = 2;
const RST: u8 = 4;

fn tcp(seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut builder = PacketBuilder::ipv4(A, B, 64).tcp(5060, 5080, seq, 1000);
    if flags & SYN != 0 {
        builder = builder.syn();
    }
    if flags & FIN != 0 {
        builder = builder.fin();
    }
    if flags & RST != 0 {
        builder = builder.rst();
    }
    let mut out = Vec::new();
    builder.write(&mut out, payload).expect("write");
    out
}

fn streams(sink: &Recorder) -> Vec<Event> {
    sink.events.clone()
}

#[test]
fn tcp_in_order_segments_are_passed_through_and_fin_ends_the_stream() {
    let frames = [
        tcp(99, SYN, b""),
        tcp(100, 0, b"hello "),
        tcp(106, FIN, b"world"),
    ];
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(2, flow, b"hello ".to_vec()),
            Event::Stream(3, flow, b"world".to_vec()),
            Event::End(3, flow),
        ]
    );
    assert_eq!(stats.tcp_segments, 3);
}

#[test]
fn tcp_out_of_order_segment_waits_for_the_hole() {
    let frames = [
        tcp(99, SYN, b""),
        tcp(106, 0, b"world"),
        tcp(100, 0, b"hello "),
    ];
    let mut sink = Recorder::default();
    run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(3, flow, b"hello world".to_vec()),
            Event::End(3, flow)
        ]
    );
}

#[test]
fn tcp_retransmission_and_overlap_are_trimmed() {
    let frames = [
        tcp(100, 0, b"hello "),
        tcp(100, 0, b"hello "),   // retransmission
        tcp(103, 0, b"lo world"), // overlaps 3 bytes
        tcp(108, 0, b"rld!"),     // overlaps 3 bytes, 1 new
    ];
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    assert_eq!(sink.consumed(), b"hello world!".to_vec());
    assert_eq!(stats.tcp_retransmissions, 1);
    assert_eq!(stats.tcp_overlaps, 2);
}

#[test]
fn tcp_hole_never_filled_becomes_a_gap_at_finish() {
    let frames = [
        tcp(99, SYN, b""),
        tcp(100, 0, b"one "),
        tcp(110, 0, b"three"),
    ];
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(2, flow, b"one ".to_vec()),
            Event::Gap(3, flow),
            Event::Stream(3, flow, b"three".to_vec()),
            Event::End(3, flow),
        ]
    );
    assert_eq!((stats.tcp_gaps, stats.tcp_gap_bytes), (1, 6));
}

#[test]
fn tcp_buffer_cap_turns_the_hole_into_a_gap() {
    let limits = Limits {
        stream_bytes: 8,
        ..Limits::default()
    };
    let frames = [
        tcp(100, 0, b"a"),
        tcp(110, 0, b"12345"),
        tcp(115, 0, b"6789"),
    ];
    let mut sink = Recorder::default();
    let stats = run_with(limits, 101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(1, flow, b"a".to_vec()),
            Event::Gap(3, flow),
            Event::Stream(3, flow, b"123456789".to_vec()),
            Event::End(3, flow),
        ]
    );
    assert_eq!(stats.tcp_overflows, 1);
    assert_eq!((stats.tcp_gaps, stats.tcp_gap_bytes), (1, 9));
}

#[test]
fn tcp_unconsumed_bytes_are_offered_again_with_the_next_ones() {
    let frames = [tcp(100, 0, b"line one\nline t"), tcp(115, 0, b"wo\nrest")];
    let mut sink = Recorder {
        // Consumes complete lines only.
        consume: |data| data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1),
        ..Recorder::default()
    };
    run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(1, flow, b"line one\nline t".to_vec()),
            Event::Stream(2, flow, b"line two\nrest".to_vec()),
            Event::End(2, flow),
        ]
    );
}

#[test]
fn tcp_sequence_numbers_wrap_around() {
    let start = u32::MAX - 3;
    let frames = [
        tcp(start, SYN, b""),
        tcp(start.wrapping_add(1), 0, b"abc"),
        tcp(start.wrapping_add(8), 0, b"ghi"), // after the wrap, out of order
        tcp(start.wrapping_add(4), 0, b"def!"),
    ];
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    assert_eq!(sink.consumed(), b"abcdef!ghi".to_vec());
    assert_eq!(stats.tcp_gaps, 0);
}

#[test]
fn tcp_rst_ends_and_new_syn_restarts() {
    let frames = [
        tcp(100, 0, b"old"),
        tcp(103, RST, b""),
        tcp(100, 0, b"old"), // a late copy after the reset: ignored
        tcp(5000, SYN, b""),
        tcp(5001, 0, b"new"),
    ];
    let mut sink = Recorder::default();
    run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(1, flow, b"old".to_vec()),
            Event::End(2, flow),
            Event::Stream(5, flow, b"new".to_vec()),
            Event::End(5, flow),
        ]
    );
}

#[test]
fn idle_tcp_streams_are_evicted() {
    let limits = Limits {
        stream_idle_ns: 1_000_000,
        ..Limits::default()
    };
    let mut decoder = Decoder::new(limits);
    let mut sink = Recorder::default();
    let first = tcp(100, 0, b"one");
    decoder.decode(&frame(1, 101, &first), &mut sink);
    let mut other = Vec::new();
    PacketBuilder::ipv4(B, A, 64)
        .tcp(7, 8, 1, 1000)
        .write(&mut other, b"x")
        .expect("write");
    decoder.decode(&frame(10, 101, &other), &mut sink);
    assert!(sink.events.contains(&Event::End(1, flow_ab())));
}

// ---------------------------------------------------------------- public captures

/// Feeds a pcap or pcapng file to `decoder` (test-only reader: the capture stage is
/// implemented elsewhere).
fn feed(path: &str, decoder: &mut Decoder, sink: &mut impl Sink) {
    use pcap_parser::traits::PcapNGPacketBlock;
    use pcap_parser::{Block, PcapBlockOwned, PcapError};
    let file = std::fs::File::open(path).expect("open capture");
    let mut reader = pcap_parser::create_reader(1 << 16, file).expect("capture reader");
    let mut legacy_linktype = 1u32;
    let mut interfaces: Vec<u32> = Vec::new();
    let mut number = 0u64;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                let mut packet = |linktype: u32, ts_ns: i64, data: &[u8], orig_len: u32| {
                    number += 1;
                    let frame = Frame {
                        seq: number,
                        file: 0,
                        number,
                        ts_ns,
                        linktype,
                        data,
                        orig_len,
                    };
                    decoder.decode(&frame, sink);
                };
                match block {
                    PcapBlockOwned::LegacyHeader(header) => {
                        legacy_linktype = header.network.0 as u32;
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let ts = i64::from(b.ts_sec) * 1_000_000_000 + i64::from(b.ts_usec) * 1000;
                        packet(legacy_linktype, ts, b.data, b.origlen);
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(idb.linktype.0 as u32);
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let linktype = interfaces.get(epb.if_id as usize).copied().unwrap_or(1);
                        // Microsecond resolution assumed: only the order matters here.
                        let ts = ((u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low)) as i64;
                        let ts = ts.saturating_mul(1000);
                        packet(linktype, ts, epb.packet_data(), epb.origlen);
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let linktype = interfaces.first().copied().unwrap_or(1);
                        packet(linktype, 0, spb.packet_data(), spb.origlen);
                    }
                    _ => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("{path}: {e:?}"),
        }
    }
}

/// A SIP start line (RFC 3261 §7.1, §7.2): "METHOD uri SIP/2.0" or "SIP/2.0 NNN ...".
fn is_start_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(rest) = line.strip_prefix(b"SIP/2.0 ") {
        return rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit);
    }
    let method_ok = line
        .iter()
        .position(|&b| b == b' ')
        .is_some_and(|i| i > 0 && line[..i].iter().all(u8::is_ascii_uppercase));
    method_ok && line.ends_with(b" SIP/2.0")
}

/// Counts SIP messages: datagrams that start with a start line, and start lines in the
/// concatenated bytes of each TCP stream direction.
#[derive(Default)]
struct SipCounter {
    datagrams: usize,
    streams: BTreeMap<(SocketAddr, SocketAddr), Vec<u8>>,
    gaps: usize,
}

impl SipCounter {
    fn stream_messages(&self) -> usize {
        self.streams
            .values()
            .map(|bytes| {
                bytes
                    .split(|&b| b == b'\n')
                    .filter(|l| is_start_line(l))
                    .count()
            })
            .sum()
    }
}

impl Sink for SipCounter {
    fn datagram(&mut self, _: FrameRef, _: Flow, _: Transport, payload: &[u8]) {
        let start = payload
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let body = &payload[start..];
        let first_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
        if is_start_line(first_line) {
            self.datagrams += 1;
        }
    }
    fn stream(&mut self, _: FrameRef, flow: Flow, data: &[u8]) -> usize {
        self.streams
            .entry((flow.src, flow.dst))
            .or_default()
            .extend_from_slice(data);
        data.len()
    }
    fn stream_gap(&mut self, _: FrameRef, flow: Flow) {
        self.gaps += 1;
        // Keep the next bytes from gluing onto a cut line.
        self.streams
            .entry((flow.src, flow.dst))
            .or_default()
            .push(b'\n');
    }
    fn stream_end(&mut self, _: FrameRef, _: Flow) {}
}

const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/captures/public");

fn public(name: &str) -> Option<(SipCounter, NetStats)> {
    let path = format!("{PUBLIC}/{name}");
    if !std::path::Path::new(&path).exists() {
        eprintln!("skipped: {path} not found");
        return None;
    }
    let mut decoder = Decoder::new(Limits::default());
    let mut counter = SipCounter::default();
    feed(&path, &mut decoder, &mut counter);
    decoder.finish(&mut counter);
    Some((counter, decoder.stats().clone()))
}

/// (file, SIP messages in datagrams, SIP messages in TCP streams): the totals are the
/// SIP message counts tshark reports in SOURCES.md (the split between UDP/SCTP and TCP
/// is ours, for the files that mix them).
const EXPECTED: &[(&str, usize, usize)] = &[
    ("xfer-attended-refer-rejected-erspan.pcapng", 140, 0),
    ("vlan-qinq-pppoe-gre-multiif.pcapng", 36, 0),
    ("pppoe-sip.pcap", 4, 0),
    ("rawip-linktype.pcap", 8, 0),
    ("ipv4-linktype228.pcap", 2, 0),
    ("udp-ipv6-frag-sll.pcap", 32, 0),
    ("udp-ipv4-frag-invite.pcapng", 6, 0),
    ("udp-ipv4-frag-incomplete.pcap", 5, 0),
    ("sctp-sip-sll.pcap", 4, 0),
    ("ipip-tunnel-tcp.pcap", 0, 4),
    ("tcp-sip-invite-over-3-segments.pcap", 0, 6),
    ("tcp-sip-split-segments-port6060.pcap", 0, 406),
    ("tcp-sip-retransmissions-sll.pcap", 4, 4),
    ("tcp-sip-large-body-loopback.pcap", 0, 2),
    ("gtp-ipv6-tcp-sll.pcap", 4, 13),
    ("udp-ipv6.pcap", 6, 0),
    ("utf8-latin1-headers.pcap", 30, 0),
    ("xfer-attended-opensips-3cx-sll.pcap", 97, 0),
    ("xfer-blind-opensips-3cx-sll.pcap", 48, 0),
    ("xfer-blind-proxy-minimal.pcap", 31, 0),
    ("xfer-blind-macos-2if-en0-lo0.pcapng", 44, 0),
    ("xfer-blind-npcap-2if-ipfrag.pcapng", 60, 0),
    ("xfer-two-transfers-ipfrag.pcapng", 163, 0),
    ("xfer-refer-retrans-202-storm.pcapng", 226, 0),
    ("xfer-refer-retrans-lossy.pcap", 84, 0),
    ("xfer-notify-stuck-100-loopback.pcapng", 32, 0),
    ("xfer-refer-no-notify-eth.pcapng", 30, 0),
    ("xfer-refer-no-notify-ipfrag.pcap", 25, 0),
    ("xfer-blind-zoiper-linphone.pcapng", 35, 0),
    ("xfer-blind-zoiper-small.pcap", 37, 0),
    ("xfer-blind-old-linphone-android.pcapng", 58, 0),
    ("xfer-blind-proxy-vantage.pcapng", 102, 0),
    ("xfer-blind-device-vantage.pcapng", 36, 0),
    ("xfer-2views-loopback-truncated-records.pcapng", 9, 0),
    ("xfer-2views-ethernet.pcapng", 41, 0),
    ("xfer-blind-linux-2if-enp2s0-lo.pcapng", 54, 0),
];

#[test]
fn public_captures_yield_the_sip_messages_tshark_sees() {
    let mut failures = Vec::new();
    for &(name, datagrams, stream_messages) in EXPECTED {
        let Some((counter, stats)) = public(name) else {
            return;
        };
        let got = (counter.datagrams, counter.stream_messages());
        eprintln!("{name}: {got:?} gaps {} {stats:?}", counter.gaps);
        if got != (datagrams, stream_messages) {
            failures.push(format!(
                "{name}: got {got:?}, want {:?}",
                (datagrams, stream_messages)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn gtp_capture_has_sip_over_udp_and_tcp_inside_the_tunnel() {
    let Some((counter, stats)) = public("gtp-ipv6-tcp-sll.pcap") else {
        return;
    };
    // tshark: 17 SIP messages over IPv6 inside GTP-U, over TCP and UDP.
    assert_eq!(counter.datagrams + counter.stream_messages(), 17);
    assert!(stats.decapsulated > 0);
}

#[test]
fn incomplete_fragment_capture_counts_the_lost_datagram() {
    let Some((_, stats)) = public("udp-ipv4-frag-incomplete.pcap") else {
        return;
    };
    assert_eq!(stats.ip_fragments, 1);
    assert_eq!(stats.incomplete_fragment_datagrams, 1);
}

#[test]
fn every_public_capture_decodes_without_panicking() {
    let Ok(entries) = std::fs::read_dir(PUBLIC) else {
        eprintln!("skipped: {PUBLIC} not found");
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .filter(|n| !n.starts_with("corrupt"))
        .collect();
    names.sort();
    for name in names {
        if let Some((counter, stats)) = public(&name) {
            eprintln!(
                "{name}: sip datagrams {} stream messages {} {stats:?}",
                counter.datagrams,
                counter.stream_messages()
            );
        }
    }
}

#[test]
fn fast_path_agrees_with_the_general_path_and_declines_what_it_does_not_cover() {
    let plain = ethernet_udp(b"payload");
    let mut general = Recorder::default();
    // Linux cooked v1 with the same IP packet takes the general path.
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0x08, 0x00]);
    sll.extend_from_slice(&plain[14..]);
    run(113, &[sll], &mut general);
    let fast = fast_udp(&plain).map(|(flow, p)| (flow, p.to_vec()));
    match general.events.as_slice() {
        [Event::Datagram(1, flow, Transport::Udp, payload)] => {
            assert_eq!(fast, Some((*flow, payload.clone())));
        }
        other => panic!("{other:?}"),
    }
    // A fragment, a tunnel port and a cut frame are left to the general path.
    let mut fragment = plain.clone();
    fragment[14 + 6] |= 0x20;
    assert_eq!(fast_udp(&fragment), None);
    let mut gtp = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(A, B, 64)
        .udp(2152, 2152)
        .write(&mut gtp, b"x")
        .expect("write");
    assert_eq!(fast_udp(&gtp), None);
    assert_eq!(fast_udp(&plain[..plain.len() - 1]), None);
}

#[test]
fn unfragmented_udp_and_in_order_tcp_are_not_copied() {
    /// Checks that every payload handed over lies inside the frame.
    struct Borrowed<'f>(&'f [u8], usize);
    impl Sink for Borrowed<'_> {
        fn datagram(&mut self, _: FrameRef, _: Flow, _: Transport, payload: &[u8]) {
            assert!(self.0.as_ptr_range().contains(&payload.as_ptr()));
            self.1 += 1;
        }
        fn stream(&mut self, _: FrameRef, _: Flow, data: &[u8]) -> usize {
            assert!(self.0.as_ptr_range().contains(&data.as_ptr()));
            self.1 += 1;
            data.len()
        }
        fn stream_gap(&mut self, _: FrameRef, _: Flow) {}
        fn stream_end(&mut self, _: FrameRef, _: Flow) {}
    }
    let mut decoder = Decoder::new(Limits::default());
    for (linktype, data) in [
        (1, ethernet_udp(b"rtp")),
        (101, tcp(100, 0, b"sip")),
        (101, tcp(103, 0, b"more")),
    ] {
        let mut sink = Borrowed(&data, 0);
        decoder.decode(&frame(1, linktype, &data), &mut sink);
        assert_eq!(sink.1, 1);
    }
}

#[test]
fn tcp_hole_open_at_fin_becomes_a_gap_at_the_fin() {
    let frames = [
        tcp(99, SYN, b""),
        tcp(100, 0, b"one "),
        tcp(110, FIN, b"three"),
        tcp(104, 0, b"two "), // too late: the stream has ended
    ];
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(2, flow, b"one ".to_vec()),
            Event::Gap(3, flow),
            Event::Stream(3, flow, b"three".to_vec()),
            Event::End(3, flow),
        ]
    );
    assert_eq!((stats.tcp_gaps, stats.tcp_retransmissions), (1, 1));
}

#[test]
fn sctp_capture_reports_the_fragmented_invite_at_the_frame_that_completed_it() {
    let path = format!("{PUBLIC}/sctp-sip-sll.pcap");
    if !std::path::Path::new(&path).exists() {
        eprintln!("skipped: {path} not found");
        return;
    }
    let mut decoder = Decoder::new(Limits::default());
    let mut sink = Recorder::default();
    feed(&path, &mut decoder, &mut sink);
    decoder.finish(&mut sink);
    let datagrams = sink.datagrams();
    let (frame, invite) = &datagrams[0];
    // tshark: the INVITE's first DATA chunk is frame 1, reassembled in frame 2.
    assert_eq!(*frame, 2);
    assert!(invite.starts_with(b"INVITE "));
    assert_eq!(decoder.stats().sctp_messages, 4);
}

#[test]
fn total_stream_cap_gives_up_holes_of_the_growing_stream() {
    let limits = Limits {
        total_stream_bytes: 8,
        ..Limits::default()
    };
    let frames = [
        tcp(100, 0, b"a"),
        tcp(110, 0, b"12345"),
        tcp(115, 0, b"6789"),
    ];
    let mut sink = Recorder::default();
    let stats = run_with(limits, 101, &frames, &mut sink);
    assert_eq!(sink.consumed(), b"a123456789".to_vec());
    assert_eq!((stats.tcp_overflows, stats.tcp_gaps), (1, 1));
}

#[test]
fn tcp_new_bytes_after_fin_without_a_syn_start_a_new_stream() {
    let frames = [
        tcp(100, FIN, b"first"),
        tcp(100, 0, b"first"),      // late copy
        tcp(900_000, 0, b"second"), // ports reused, SYN not captured
    ];
    let mut sink = Recorder::default();
    let stats = run(101, &frames, &mut sink);
    let flow = flow_ab();
    assert_eq!(
        streams(&sink),
        vec![
            Event::Stream(1, flow, b"first".to_vec()),
            Event::End(1, flow),
            Event::Stream(3, flow, b"second".to_vec()),
            Event::End(3, flow),
        ]
    );
    assert_eq!(stats.tcp_retransmissions, 1);
}
