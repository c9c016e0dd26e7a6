//! Frames in, transport payloads out.
//!
//! Guarantees:
//! - Link layers: Ethernet II, 802.1Q and QinQ, Linux SLL and SLL2, raw IP (link types
//!   101, 12, 14, 228, 229), BSD NULL/LOOP (family in either byte order), PPP; IPv4
//!   and IPv6 with extension headers; tunnels seen in real captures (GRE incl.
//!   transparent Ethernet bridging, ERSPAN and PPTP's PPP, IP-in-IP, PPPoE, MPLS,
//!   GTP-U, VXLAN), followed recursively up to a depth cap; UDP, TCP, and SCTP DATA
//!   chunks.
//! - The IP length fields bound every payload, so Ethernet padding never reaches the
//!   sink. A packet cut by the snap length delivers what was captured and is counted.
//! - IPv4 and IPv6 fragments are reassembled, with caps on memory and age; whatever
//!   is dropped or never completed is counted in [`NetStats`]. Overlaps: the bytes
//!   received first win.
//! - TCP is reassembled per direction: ordered by sequence number, retransmissions and
//!   overlaps handled, gaps reported to the sink and counted, SYN/FIN/RST followed,
//!   buffered bytes capped per stream and in total.
//! - Payloads are borrowed from the frame when possible (the common case: an
//!   unfragmented UDP datagram, or an in-order TCP segment with nothing buffered). The
//!   UDP path neither allocates nor hashes; only fragments, TCP and fragmented SCTP
//!   messages touch the reassembly tables.
//! - A reassembled payload is reported at the frame that completed it.
//! - Never panics on input: a packet that cannot be decoded is counted and skipped.

mod fragment;
mod link;
mod sctp;
mod tcp;
mod tunnel;

use std::net::{IpAddr, SocketAddr};

use crate::capture::{Frame, FrameRef};
use link::Link;

/// The transport a payload arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
    Sctp,
    /// WebSocket over TCP (RFC 7118); the SIP stage recognises it, the net stage
    /// delivers it as TCP.
    Ws,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Sctp => "sctp",
            Transport::Ws => "ws",
        }
    }
}

/// Source and destination of a payload (one direction of a conversation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// Where the decoded payloads go.
///
/// `frame` is the frame that completed the payload: for a reassembled IP datagram the
/// last fragment, for TCP the segment that brought the bytes (Wireshark reports a
/// reassembled PDU at the frame that completes it).
pub trait Sink {
    /// A whole datagram: a UDP payload (reassembled when it was fragmented) or an SCTP
    /// user message.
    fn datagram(&mut self, frame: FrameRef, flow: Flow, transport: Transport, payload: &[u8]);

    /// A whole datagram reassembled from IP fragments: `fragments` are the frames that
    /// carried them, in arrival order (`frame` among them). By default the same as
    /// [`Sink::datagram`]; a sink that must know every frame of a message (export)
    /// takes them from here.
    fn datagram_from(
        &mut self,
        fragments: &[FrameRef],
        frame: FrameRef,
        flow: Flow,
        transport: Transport,
        payload: &[u8],
    ) {
        let _ = fragments;
        self.datagram(frame, flow, transport, payload);
    }

    /// The in-order bytes of a TCP stream (one direction) that the sink has not yet
    /// consumed. Returns how many of them it consumed; the rest is kept and offered
    /// again, with the new bytes appended, at the next segment (up to a cap).
    fn stream(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize;

    /// Bytes of the stream were lost (a gap that will not be filled, or the per-stream
    /// cap was exceeded): the next data does not continue what came before.
    fn stream_gap(&mut self, frame: FrameRef, flow: Flow);

    /// The stream ended (FIN, RST, or evicted): the sink may drop its state for it.
    fn stream_end(&mut self, frame: FrameRef, flow: Flow);

    /// The next payload of this frame is shorter than its IP header says: the capture
    /// lost its end (snap length, or a capture point that cut the packet). What it
    /// lacks was lost by the capture, not by the sender.
    fn payload_cut(&mut self, frame: FrameRef) {
        let _ = frame;
    }
}

/// Counts of what the network layer saw, skipped or dropped.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct NetStats {
    /// Frames whose link type is not supported.
    pub unsupported_link_frames: u64,
    /// Frames that carry no IP (ARP, LLDP, STP, ...).
    pub non_ip_frames: u64,
    /// Frames whose headers are cut short or malformed.
    pub malformed_frames: u64,
    /// IP packets of a protocol other than UDP, TCP, SCTP or a known tunnel.
    pub other_ip_protocol: u64,
    /// IP fragments seen.
    pub ip_fragments: u64,
    /// Datagrams rebuilt from fragments.
    pub reassembled_datagrams: u64,
    /// Fragmented datagrams never completed (missing fragments, or dropped for age or memory).
    pub incomplete_fragment_datagrams: u64,
    /// UDP datagrams delivered.
    pub udp_datagrams: u64,
    /// TCP segments seen.
    pub tcp_segments: u64,
    /// TCP segments that carried only bytes already seen (retransmissions).
    pub tcp_retransmissions: u64,
    /// Gaps in TCP streams (bytes never captured).
    pub tcp_gaps: u64,
    /// Bytes lost in those gaps, when known.
    pub tcp_gap_bytes: u64,
    /// Streams whose buffered bytes exceeded the cap and were cut.
    pub tcp_overflows: u64,
    /// TCP segments that carried some new bytes after bytes already seen (trimmed).
    pub tcp_overlaps: u64,
    /// SCTP chunks delivered as user messages.
    pub sctp_messages: u64,
    /// SCTP user messages whose fragments never all arrived (or were dropped at the cap).
    pub sctp_incomplete_messages: u64,
    /// IP packets shorter than their length field (cut by the snap length): what was
    /// captured is still delivered.
    pub truncated_packets: u64,
    /// Tunnel layers removed (GRE, IP-in-IP, PPPoE, GTP-U).
    pub decapsulated: u64,
}

/// Caps on the memory the reassemblers may hold.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes of fragments held at once, over all datagrams.
    pub fragment_bytes: usize,
    /// Age after which an incomplete datagram is dropped, nanoseconds of capture time.
    pub fragment_age_ns: i64,
    /// Bytes buffered per TCP direction (out-of-order plus unconsumed).
    pub stream_bytes: usize,
    /// Bytes buffered over all TCP streams.
    pub total_stream_bytes: usize,
    /// Age after which an idle TCP stream is forgotten, nanoseconds of capture time.
    pub stream_idle_ns: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fragment_bytes: 16 << 20,
            fragment_age_ns: 30_000_000_000,
            stream_bytes: 1 << 20,
            total_stream_bytes: 64 << 20,
            stream_idle_ns: 300_000_000_000,
        }
    }
}

/// Tunnels nested deeper than this are not followed: real captures have two or three
/// layers, a crafted packet could nest without end.
const MAX_DEPTH: u32 = 8;

const PROTO_IPV4_IN_IP: u8 = 4;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_IPV6_IN_IP: u8 = 41;
const PROTO_GRE: u8 = 47;
const PROTO_SCTP: u8 = 132;

/// Decodes frames into payloads; holds the reassembly state.
pub struct Decoder {
    limits: Limits,
    stats: NetStats,
    fragments: fragment::Reassembler,
    tcp: tcp::Reassembler,
    sctp: sctp::Reassembler,
    /// The frames of the fragments of the datagram being decoded, when it was
    /// reassembled (empty otherwise): handed on with its UDP payload.
    carriers: Vec<FrameRef>,
}

/// The frame being decoded, as the layers below the link need it.
#[derive(Clone, Copy)]
struct At {
    frame: FrameRef,
    /// Tunnel layers already removed.
    depth: u32,
    /// Whether the capture kept fewer bytes than the packet had (snap length). Only
    /// a payload whose IP length runs past the captured bytes was actually cut: a
    /// record may claim a longer packet than its complete datagrams.
    snapped: bool,
}

impl Decoder {
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            limits,
            stats: NetStats::default(),
            fragments: fragment::Reassembler::default(),
            tcp: tcp::Reassembler::default(),
            sctp: sctp::Reassembler::default(),
            carriers: Vec::new(),
        }
    }

    /// Decodes one frame and hands what it carries to `sink`.
    pub fn decode(&mut self, frame: &Frame<'_>, sink: &mut impl Sink) {
        let at = At {
            frame: frame.reference(),
            depth: 0,
            snapped: frame.data.len() < frame.orig_len as usize,
        };
        if let Some((flow, payload)) = fast_path(frame) {
            self.stats.udp_datagrams += 1;
            sink.datagram(at.frame, flow, Transport::Udp, payload);
            return;
        }
        let link = link::frame(frame.linktype, frame.data);
        self.link(link, at, sink);
    }

    /// The UDP payload of a frame that takes the fast path: a plain UDP datagram whose
    /// decoding needs no state. A reader that sets such frames aside before they reach
    /// the decoder counts them with [`Decoder::count_udp_datagrams`]; the result is
    /// then the same as if [`Decoder::decode`] had seen them.
    pub fn stateless_udp_payload<'f>(frame: &Frame<'f>) -> Option<&'f [u8]> {
        fast_path(frame).map(|(_, payload)| payload)
    }

    /// Counts UDP datagrams set aside by the reader (see
    /// [`Decoder::stateless_udp_payload`]).
    pub fn count_udp_datagrams(&mut self, n: u64) {
        self.stats.udp_datagrams += n;
    }

    /// End of input: reports streams with unconsumed bytes and counts fragments that
    /// were never completed.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        self.fragments.finish(&mut self.stats);
        self.sctp.finish(&mut self.stats);
        let mut cx = tcp::Context {
            at: FrameRef::default(),
            limits: &self.limits,
            stats: &mut self.stats,
            sink,
        };
        self.tcp.finish(&mut cx);
    }

    pub fn stats(&self) -> &NetStats {
        &self.stats
    }

    fn link(&mut self, link: Link<'_>, at: At, sink: &mut impl Sink) {
        match link {
            Link::Ipv4(packet, tunnels) => {
                self.stats.decapsulated += u64::from(tunnels);
                self.ipv4(
                    packet,
                    At {
                        depth: at.depth.saturating_add(tunnels),
                        ..at
                    },
                    sink,
                );
            }
            Link::Ipv6(packet, tunnels) => {
                self.stats.decapsulated += u64::from(tunnels);
                self.ipv6(
                    packet,
                    At {
                        depth: at.depth.saturating_add(tunnels),
                        ..at
                    },
                    sink,
                );
            }
            Link::NotIp => self.stats.non_ip_frames += 1,
            Link::Malformed => self.stats.malformed_frames += 1,
            Link::Unsupported => self.stats.unsupported_link_frames += 1,
        }
    }

    /// A tunnel payload that starts with a link layer or an IP header.
    fn tunnel(&mut self, inner: Link<'_>, at: At, sink: &mut impl Sink) {
        if at.depth >= MAX_DEPTH {
            self.stats.malformed_frames += 1;
            return;
        }
        self.stats.decapsulated += 1;
        self.link(
            inner,
            At {
                depth: at.depth.saturating_add(1),
                ..at
            },
            sink,
        );
    }

    /// IPv4 (RFC 791 §3.1). The total length bounds the packet, which drops Ethernet
    /// padding; a packet cut by the snap length keeps what was captured.
    fn ipv4(&mut self, data: &[u8], at: At, sink: &mut impl Sink) {
        let Ok(header) = etherparse::Ipv4HeaderSlice::from_slice(data) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let header_len = header.slice().len();
        let total = usize::from(header.total_len());
        let end = if total == 0 {
            // Segmentation offload on the capturing host leaves the length 0: then
            // only the record says whether the end was lost.
            if at.snapped {
                sink.payload_cut(at.frame);
            }
            data.len()
        } else if total < header_len {
            self.stats.malformed_frames += 1;
            return;
        } else if total > data.len() {
            self.stats.truncated_packets += 1;
            sink.payload_cut(at.frame);
            data.len()
        } else {
            total
        };
        let Some(payload) = data.get(header_len..end) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let src = IpAddr::V4(header.source_addr());
        let dst = IpAddr::V4(header.destination_addr());
        let protocol = header.protocol().0;
        let offset = usize::from(header.fragments_offset().value()) * 8;
        if header.more_fragments() || offset != 0 {
            self.stats.ip_fragments += 1;
            if end < total {
                // A fragment cut by the snap length would leave a hole forever.
                return;
            }
            let key = fragment::Key {
                src,
                dst,
                id: u32::from(header.identification()),
                protocol,
            };
            let fragment = fragment::Fragment {
                offset,
                more: header.more_fragments(),
                data: payload,
            };
            if let Some((whole, frames)) =
                self.fragments
                    .add_at(key, fragment, at.frame, &self.limits, &mut self.stats)
            {
                self.carriers = frames;
                self.transport(protocol, src, dst, &whole, at, sink);
                self.carriers.clear();
            }
            return;
        }
        self.transport(protocol, src, dst, payload, at, sink);
    }

    /// IPv6 (RFC 8200 §3) and its extension headers (§4).
    fn ipv6(&mut self, data: &[u8], at: At, sink: &mut impl Sink) {
        let Ok(header) = etherparse::Ipv6HeaderSlice::from_slice(data) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let length = usize::from(header.payload_length());
        let available = data.len().saturating_sub(40);
        let length = if length == 0 {
            // Jumbogram (RFC 2675) or offload: the captured bytes are the payload, and
            // only the record says whether the end was lost.
            if at.snapped {
                sink.payload_cut(at.frame);
            }
            available
        } else if length > available {
            self.stats.truncated_packets += 1;
            sink.payload_cut(at.frame);
            available
        } else {
            length
        };
        let truncated = length < usize::from(header.payload_length());
        let Some(payload) = data.get(40..40 + length) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let src = IpAddr::V6(header.source_addr());
        let dst = IpAddr::V6(header.destination_addr());
        self.ipv6_payload(
            header.next_header().0,
            payload,
            src,
            dst,
            !truncated,
            at,
            sink,
        );
    }

    /// Walks the extension headers up to the upper-layer protocol. A fragment header
    /// (RFC 8200 §4.5) sends the rest to reassembly; once reassembled, the walk goes on
    /// in the whole payload (`fragments` is then false: nested fragmentation is invalid).
    #[allow(clippy::too_many_arguments)]
    fn ipv6_payload(
        &mut self,
        next_header: u8,
        payload: &[u8],
        src: IpAddr,
        dst: IpAddr,
        fragments: bool,
        at: At,
        sink: &mut impl Sink,
    ) {
        let mut next = next_header;
        let mut rest = payload;
        // Bounded: each header consumes at least 8 bytes.
        loop {
            let header_len = match next {
                // Hop-by-hop, routing, destination options: length in 8-octet units
                // not counting the first 8 (RFC 8200 §4.3, §4.4, §4.6).
                0 | 43 | 60 => rest.get(1).map(|&n| (usize::from(n) + 1) * 8),
                // Authentication header: length in 4-octet units minus 2 (RFC 4302 §2.2).
                51 => rest.get(1).map(|&n| (usize::from(n) + 2) * 4),
                44 => {
                    self.ipv6_fragment(rest, src, dst, fragments, at, sink);
                    return;
                }
                _ => break,
            };
            let (Some(header_len), Some(&following)) = (header_len, rest.first()) else {
                self.stats.malformed_frames += 1;
                return;
            };
            let Some(after) = rest.get(header_len..) else {
                self.stats.malformed_frames += 1;
                return;
            };
            next = following;
            rest = after;
        }
        self.transport(next, src, dst, rest, at, sink);
    }

    fn ipv6_fragment(
        &mut self,
        data: &[u8],
        src: IpAddr,
        dst: IpAddr,
        fragments: bool,
        at: At,
        sink: &mut impl Sink,
    ) {
        let (Some(&next), Some(offset_flags), Some(id), Some(part)) = (
            data.first(),
            link::be16(data, 2),
            link::be32(data, 4),
            data.get(8..),
        ) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let offset = usize::from(offset_flags & 0xfff8);
        let more = offset_flags & 1 == 1;
        if offset == 0 && !more {
            // An atomic fragment (RFC 6946): a whole packet with a fragment header.
            self.ipv6_payload(next, part, src, dst, false, at, sink);
            return;
        }
        self.stats.ip_fragments += 1;
        if !fragments {
            self.stats.malformed_frames += 1;
            return;
        }
        let key = fragment::Key {
            src,
            dst,
            id,
            protocol: next,
        };
        let fragment = fragment::Fragment {
            offset,
            more,
            data: part,
        };
        if let Some((whole, frames)) =
            self.fragments
                .add_at(key, fragment, at.frame, &self.limits, &mut self.stats)
        {
            self.carriers = frames;
            self.ipv6_payload(next, &whole, src, dst, false, at, sink);
            self.carriers.clear();
        }
    }

    fn transport(
        &mut self,
        protocol: u8,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
        at: At,
        sink: &mut impl Sink,
    ) {
        match protocol {
            PROTO_UDP => self.udp(src, dst, payload, at, sink),
            PROTO_TCP => self.tcp(src, dst, payload, at, sink),
            PROTO_SCTP => self.sctp(src, dst, payload, at, sink),
            PROTO_IPV4_IN_IP => self.tunnel(Link::Ipv4(payload, 0), at, sink),
            PROTO_IPV6_IN_IP => self.tunnel(Link::Ipv6(payload, 0), at, sink),
            PROTO_GRE => self.tunnel(tunnel::gre(payload), at, sink),
            _ => self.stats.other_ip_protocol += 1,
        }
    }

    /// UDP (RFC 768): the length field bounds the payload.
    fn udp(&mut self, src: IpAddr, dst: IpAddr, data: &[u8], at: At, sink: &mut impl Sink) {
        let (Some(src_port), Some(dst_port), Some(length)) = (
            link::be16(data, 0),
            link::be16(data, 2),
            link::be16(data, 4),
        ) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let length = usize::from(length);
        let end = if length == 0 {
            // IPv6 jumbograms (RFC 2675 §4) carry length 0.
            data.len()
        } else if length < 8 {
            self.stats.malformed_frames += 1;
            return;
        } else if length > data.len() {
            // Cut by the snap length (counted at the IP layer): keep what was captured.
            data.len()
        } else {
            length
        };
        let Some(payload) = data.get(8..end) else {
            self.stats.malformed_frames += 1;
            return;
        };
        if let Some(inner) = tunnel::over_udp(src_port, dst_port, payload) {
            self.tunnel(inner, at, sink);
            return;
        }
        self.stats.udp_datagrams += 1;
        let flow = Flow {
            src: SocketAddr::new(src, src_port),
            dst: SocketAddr::new(dst, dst_port),
        };
        if self.carriers.is_empty() {
            sink.datagram(at.frame, flow, Transport::Udp, payload);
        } else {
            sink.datagram_from(&self.carriers, at.frame, flow, Transport::Udp, payload);
        }
    }

    /// TCP (RFC 9293 §3.1): data offset, flags, then the stream reassembler.
    fn tcp(&mut self, src: IpAddr, dst: IpAddr, data: &[u8], at: At, sink: &mut impl Sink) {
        let (Some(src_port), Some(dst_port), Some(seq), Some(&offset), Some(&flags)) = (
            link::be16(data, 0),
            link::be16(data, 2),
            link::be32(data, 4),
            data.get(12),
            data.get(13),
        ) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let header_len = usize::from(offset >> 4) * 4;
        let Some(payload) = data.get(header_len..).filter(|_| header_len >= 20) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let segment = tcp::Segment {
            flow: Flow {
                src: SocketAddr::new(src, src_port),
                dst: SocketAddr::new(dst, dst_port),
            },
            seq,
            fin: flags & 0x01 != 0,
            syn: flags & 0x02 != 0,
            rst: flags & 0x04 != 0,
            payload,
        };
        let mut cx = tcp::Context {
            at: at.frame,
            limits: &self.limits,
            stats: &mut self.stats,
            sink,
        };
        self.tcp.segment(segment, &mut cx);
    }

    fn sctp(&mut self, src: IpAddr, dst: IpAddr, data: &[u8], at: At, sink: &mut impl Sink) {
        let Some((src_port, dst_port)) = sctp::ports(data) else {
            self.stats.malformed_frames += 1;
            return;
        };
        let flow = Flow {
            src: SocketAddr::new(src, src_port),
            dst: SocketAddr::new(dst, dst_port),
        };
        if !self
            .sctp
            .packet(flow, data, at.frame, &self.limits, &mut self.stats, sink)
        {
            self.stats.malformed_frames += 1;
        }
    }
}

/// [`fast_udp`] for the frames it applies to: Ethernet link type.
fn fast_path<'f>(frame: &Frame<'f>) -> Option<(Flow, &'f [u8])> {
    if frame.linktype != link::LINKTYPE_ETHERNET {
        return None;
    }
    fast_udp(frame.data)
}

/// The common case decoded by hand: Ethernet II, IPv4 without options and not
/// fragmented, UDP not on a tunnel port. Every field is read through a bounds-checked
/// accessor, and the lengths are checked against the frame before slicing, so any
/// frame that does not fit returns None and takes the general path, which decodes it
/// the same way (this path only skips the dispatch, never changes the result).
fn fast_udp(frame: &[u8]) -> Option<(Flow, &[u8])> {
    // Ethernet II with type IPv4, IPv4 version 4 with a 20-byte header, protocol UDP.
    if link::be16(frame, 12)? != 0x0800 || *frame.get(14)? != 0x45 || *frame.get(23)? != 17 {
        return None;
    }
    let ip = frame.get(14..)?;
    let total = usize::from(link::be16(ip, 2)?);
    // Not a fragment: MF clear and offset 0 (the DF bit may be set).
    if link::be16(ip, 6)? & 0x3fff != 0 || total < 28 || total > ip.len() {
        return None;
    }
    let udp = ip.get(20..total)?;
    let (src_port, dst_port) = (link::be16(udp, 0)?, link::be16(udp, 2)?);
    let length = usize::from(link::be16(udp, 4)?);
    if length < 8 || length > udp.len() || tunnel::is_tunnel_port(src_port, dst_port) {
        return None;
    }
    let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
    let flow = Flow {
        src: SocketAddr::new(IpAddr::from(src), src_port),
        dst: SocketAddr::new(IpAddr::from(dst), dst_port),
    };
    Some((flow, udp.get(8..length)?))
}

#[cfg(test)]
mod tests;
