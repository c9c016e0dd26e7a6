//! Synthetic SIP captures for benchmarks and scale tests, deterministic from a seed.
//!
//! ```text
//! cargo run --release --example synth -- --bytes 500M --seed 1 --out big.pcap \
//!     [--ground-truth truth.json] [--concurrent-calls 200] [--min-duration 10] [--max-duration 180]
//!     [--transfer-share 0.06] [--tcp-share 0.10] [--fragment-share 0.05] [--keepalive-interval 60]
//!     [--no-media] [--shape calls|pending-refers|unanswered-invites]
//! ```
//!
//! Shapes of the benchmarks (`scripts/bench`): RTP-heavy (the defaults); SIP-only
//! (`--no-media --concurrent-calls 5000 --transfer-share 0.09`: a PBX or carrier capture
//! filtered on the SIP ports, thousands of calls up at once, thousands of transfers);
//! and two hostile ones, `--shape pending-refers` (REFERs that stay pending) and
//! `--shape unanswered-invites` (scanner traffic).
//!
//! A small file that exercises everything (what `scripts/bench --check-synth` verifies
//! against tshark): `--bytes 5M --concurrent-calls 10 --min-duration 2 --max-duration 8
//! --transfer-share 0.3 --tcp-share 0.5 --fragment-share 0.3`.
//!
//! Writes a legacy pcap (microsecond timestamps, Ethernet/IPv4) of phones on 10.x
//! addresses calling each other directly on port 5060: INVITE/100/180/200/ACK with
//! SDP, G.711 RTP both ways at 50 packets/s per direction (172-byte RTP packets),
//! BYE/200; rejected calls (486, 404); cancelled calls (CANCEL/200/487/ACK); blind
//! transfers (completed and failed at the target) and attended transfers with
//! Replaces (RFC 3515, RFC 3891, RFC 3892). Some calls signal over TCP (handshake,
//! messages split over 2-3 segments, two messages coalesced in one segment, FIN at
//! the end; plain calls only, transfers signal over UDP); some UDP INVITEs are padded
//! past the MTU so they travel as two IPv4 fragments. A monitor at 10.0.0.10 sends
//! OPTIONS keep-alives. Timestamps never decrease. IPv4 and TCP checksums are
//! correct; UDP checksums are 0 (allowed over IPv4, RFC 768).
//!
//! Fast: about 2 GB/s into /dev/null (disk-bound otherwise); RTP packets are built
//! in a stack buffer and written through one 4 MiB BufWriter, with no allocation.
//!
//! `--concurrent-calls N` keeps N scenario slots busy: each slot runs one scenario
//! (a call, or a transfer with its two or three dialogs) and starts the next one when
//! it ends, so the number of live calls stays flat while the file grows. Sizes take
//! decimal suffixes K, M, G (10^3, 10^6, 10^9 bytes). The writer stops at the first
//! packet boundary after `--bytes`, never inside a SIP message's packets.
//!
//! Ground truth (`--ground-truth`) describes what is *in the written file*:
//! - `packets`: pcap records. `rtp_packets`: records carrying RTP.
//! - `sip_messages`: SIP requests and responses, including the OPTIONS keep-alives (and
//!   their 200s) a monitor at 10.0.0.10 sends each phone about once per
//!   `--keepalive-interval` (60 s). A message split over TCP segments or
//!   IPv4 fragments counts once; two messages coalesced in one segment count twice.
//! - `calls`: dialog-creating INVITEs (each has its own Call-ID; no re-INVITEs are
//!   generated), including the consultation and new-call legs of transfers.
//! - `answered`: calls whose INVITE got a 200; `rejected."486"` / `rejected."404"`:
//!   calls whose INVITE got that final status (includes transfer targets' 486);
//!   `cancelled`: calls whose INVITE got 487 after a CANCEL; `unanswered`: calls with no
//!   final response in the file. So calls = answered + rejected + cancelled + unanswered.
//! - `transfers`: one per REFER in the file, in file order. `refer_frame` is the 1-based
//!   number of the frame holding the REFER's last byte (where Wireshark shows it).
//!   `outcome`/`status` come from the final NOTIFY's sipfrag (200 -> completed, 486 ->
//!   failed with status 486); when that NOTIFY is not in the file, outcome is "unknown"
//!   and status null.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Generate a large, realistic SIP/RTP pcap deterministically from a seed")]
pub struct Args {
    /// Stop after this many bytes (suffixes K, M, G are powers of 1000)
    #[arg(long, value_parser = parse_size)]
    bytes: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Write the ground truth of the file as JSON
    #[arg(long)]
    ground_truth: Option<PathBuf>,
    /// Scenario slots busy at once (calls up at the same time)
    #[arg(long, default_value_t = 200)]
    concurrent_calls: u32,
    /// Shortest talk time of a call, seconds
    #[arg(long, default_value_t = 10)]
    min_duration: u64,
    /// Longest talk time of a call, seconds
    #[arg(long, default_value_t = 180)]
    max_duration: u64,
    /// Share of scenarios that are transfers
    #[arg(long, default_value_t = 0.06)]
    transfer_share: f64,
    /// Share of plain calls that signal over TCP
    #[arg(long, default_value_t = 0.10)]
    tcp_share: f64,
    /// Share of plain UDP calls whose INVITE is padded past the MTU (IPv4 fragments)
    #[arg(long, default_value_t = 0.05)]
    fragment_share: f64,
    /// Seconds between OPTIONS keep-alives to each phone (0: none)
    #[arg(long, default_value_t = 60)]
    keepalive_interval: u64,
    /// SIP only, no RTP: what a capture filtered on the SIP ports holds
    #[arg(long)]
    no_media: bool,
    /// What each scenario slot runs: `calls` (calls and transfers, the default),
    /// `pending-refers` (a REFER answered 202 in a dialog whose INVITE the capture
    /// lacks, then nothing: no NOTIFY, no new call, no BYE) or `unanswered-invites`
    /// (an INVITE nobody answers, as a scanner sends)
    #[arg(long, value_enum, default_value_t = Shape::Calls)]
    shape: Shape,
    /// The first scenario is a failed blind transfer whose original call stays up to
    /// the end of the file (for the streaming test: it must hold back no other transfer)
    #[arg(long)]
    stuck_transfer: bool,
}

/// What each scenario slot runs (`--shape`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    Calls,
    PendingRefers,
    UnansweredInvites,
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, scale) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 1_000),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 1_000_000),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 1_000_000_000),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .map(|n| n.saturating_mul(scale))
        .map_err(|e| format!("bad size {text:?}: {e}"))
}

// ---------------------------------------------------------------------------
// Randomness: splitmix64, small and fast; the whole file depends only on the seed.

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(digits);
        s
    }
}

// ---------------------------------------------------------------------------
// Time in microseconds since the capture epoch.

const EPOCH_SECONDS: u64 = 1_763_700_000;
const fn ms(n: u64) -> u64 {
    n * 1_000
}
const fn secs(n: u64) -> u64 {
    n * 1_000_000
}

// ---------------------------------------------------------------------------
// Phones: an index is all a phone is; address, extension and name derive from it.

#[derive(Clone, Copy, PartialEq, Eq)]
struct Phone(u32);

const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Kevin",
    "Laura", "Mike", "Nina", "Oscar", "Peggy", "Quentin", "Rita", "Sybil", "Trent", "Ursula",
    "Victor", "Wayne", "Xena", "Yusuf", "Zoe",
];
const LAST_NAMES: &[&str] = &[
    "Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Taylor", "Martin",
    "Lee", "Walker", "Young", "King", "Wright", "Hill",
];
const USER_AGENTS: &[&str] = &[
    "Yealink SIP-T46S 66.86.0.15",
    "PolycomVVX-VVX_450-UA/6.4.3.3059",
    "Grandstream GXP2170 1.0.11.23",
    "Cisco-CP8845/12.8.1",
    "snom D785/10.1.101.11",
    "Zoiper rv2.10.19.5",
];
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS, INFO, SUBSCRIBE, UPDATE";

/// The PBX-like monitor that sends OPTIONS keep-alives to every phone.
const MONITOR: Phone = Phone(u32::MAX);

impl Phone {
    fn ip(self) -> [u8; 4] {
        if self == MONITOR {
            return [10, 0, 0, 10];
        }
        let i = self.0;
        [
            10,
            (1 + i / 62_500 % 250) as u8,
            (1 + i / 250 % 250) as u8,
            (1 + i % 250) as u8,
        ]
    }
    fn ip_text(self) -> String {
        let [a, b, c, d] = self.ip();
        format!("{a}.{b}.{c}.{d}")
    }
    fn mac(self) -> [u8; 6] {
        let [a, b, c, d] = self.ip();
        [0x02, 0x00, a, b, c, d]
    }
    fn ext(self) -> u32 {
        2000u32.wrapping_add(self.0)
    }
    fn name(self) -> String {
        if self == MONITOR {
            return "PBX monitor".to_owned();
        }
        let first = FIRST_NAMES[self.0 as usize % FIRST_NAMES.len()];
        let last = LAST_NAMES[(self.0 as usize / FIRST_NAMES.len()) % LAST_NAMES.len()];
        format!("{first} {last}")
    }
    fn uri(self) -> String {
        format!("sip:{}@{}", self.ext(), self.ip_text())
    }
    fn contact_uri(self, tcp: bool) -> String {
        let transport = if tcp { ";transport=tcp" } else { "" };
        format!("sip:{}@{}:5060{transport}", self.ext(), self.ip_text())
    }
    fn name_addr(self) -> String {
        format!("\"{}\" <{}>", self.name(), self.uri())
    }
    fn user_agent(self) -> &'static str {
        if self == MONITOR {
            return "Asterisk PBX 18.20.0";
        }
        USER_AGENTS[self.0 as usize % USER_AGENTS.len()]
    }
}

// ---------------------------------------------------------------------------
// Ground truth, filled in as messages are written.

#[derive(Clone, Copy)]
enum Mark {
    Plain,
    Invite(usize),
    InviteFinal(usize, u16),
    Refer(usize),
    FinalNotify(usize, u16),
}

struct TransferTruth {
    kind: &'static str,
    refer_call_id: String,
    refer_frame: Option<u64>,
    final_status: Option<u16>,
    /// The transferee's new call (its index in the calls), once placed.
    new_call: Option<usize>,
}

#[derive(Default)]
struct Truth {
    /// Per call: did its INVITE reach the file, and its final status if it did.
    calls: Vec<(bool, Option<u16>)>,
    transfers: Vec<TransferTruth>,
    sip_messages: u64,
    rtp_packets: u64,
}

impl Truth {
    fn new_call(&mut self) -> usize {
        self.calls.push((false, None));
        self.calls.len() - 1
    }
    fn record(&mut self, mark: Mark, frame: u64) {
        self.sip_messages += 1;
        match mark {
            Mark::Plain => {}
            Mark::Invite(call) => self.calls[call].0 = true,
            Mark::InviteFinal(call, status) => self.calls[call].1 = Some(status),
            Mark::Refer(t) => self.transfers[t].refer_frame = Some(frame),
            Mark::FinalNotify(t, status) => self.transfers[t].final_status = Some(status),
        }
    }
    fn to_json(&self, packets: u64) -> serde_json::Value {
        let mut calls = 0;
        let (mut answered, mut r486, mut r404, mut cancelled, mut unanswered) = (0, 0, 0, 0, 0);
        for &(sent, status) in &self.calls {
            if !sent {
                continue;
            }
            calls += 1;
            match status {
                Some(200) => answered += 1,
                Some(486) => r486 += 1,
                Some(404) => r404 += 1,
                Some(487) => cancelled += 1,
                Some(_) => {}
                None => unanswered += 1,
            }
        }
        let mut in_file: Vec<&TransferTruth> = self.transfers.iter().collect();
        in_file.sort_by_key(|t| t.refer_frame);
        let transfers: Vec<serde_json::Value> = in_file
            .into_iter()
            .filter_map(|t| {
                let frame = t.refer_frame?;
                // The final NOTIFY tells the outcome; when the file ends before it, the
                // new call's own final response does, if the file holds it.
                let new_call_final = t
                    .new_call
                    .and_then(|c| self.calls.get(c))
                    .and_then(|&(_, status)| status);
                let (outcome, status) = match t.final_status.or(new_call_final) {
                    Some(200) => ("completed", None),
                    Some(status) => ("failed", Some(status)),
                    None => ("unknown", None),
                };
                Some(serde_json::json!({
                    "kind": t.kind, "outcome": outcome, "status": status,
                    "refer_call_id": t.refer_call_id, "refer_frame": frame,
                }))
            })
            .collect();
        serde_json::json!({
            "calls": calls, "answered": answered,
            "rejected": {"486": r486, "404": r404},
            "cancelled": cancelled, "unanswered": unanswered,
            "transfers": transfers,
            "sip_messages": self.sip_messages, "packets": packets, "rtp_packets": self.rtp_packets,
        })
    }
}

// ---------------------------------------------------------------------------
// The pcap writer: one reusable packet buffer, no allocation per packet.

const IP_LEN: usize = 20;
const UDP_LEN: usize = 8;
const TCP_LEN: usize = 20;
const MTU: usize = 1500;
const MSS: usize = MTU - IP_LEN - TCP_LEN;
/// IP payload per fragment: the largest multiple of 8 that fits the MTU (RFC 791).
const FRAGMENT_PAYLOAD: usize = (MTU - IP_LEN) / 8 * 8;
const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_PSH: u8 = 0x08;
const TCP_ACK: u8 = 0x10;
/// DSCP EF for voice, CS3 for signalling, as phones usually mark them.
const TOS_RTP: u8 = 0xb8;
const TOS_SIP: u8 = 0x60;

struct PcapOut {
    out: BufWriter<File>,
    frames: u64,
    bytes: u64,
    last_ts: u64,
    ip_id: u16,
    packet: Vec<u8>,
}

fn checksum_add(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn checksum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl PcapOut {
    fn create(path: &PathBuf) -> std::io::Result<Self> {
        let mut out = BufWriter::with_capacity(4 << 20, File::create(path)?);
        // Legacy pcap global header: magic, v2.4, thiszone 0, sigfigs 0, snaplen, Ethernet.
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&[0; 8])?;
        out.write_all(&65535u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        Ok(Self {
            out,
            frames: 0,
            bytes: 24,
            last_ts: 0,
            ip_id: 1,
            packet: Vec::with_capacity(2048),
        })
    }

    /// Writes `self.packet` as one record; returns its frame number.
    fn flush_packet(&mut self, ts: u64) -> std::io::Result<u64> {
        let ts = ts.max(self.last_ts);
        self.last_ts = ts;
        let len = self.packet.len() as u32;
        let mut header = [0u8; 16];
        header[0..4].copy_from_slice(&((EPOCH_SECONDS + ts / 1_000_000) as u32).to_le_bytes());
        header[4..8].copy_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        header[8..12].copy_from_slice(&len.to_le_bytes());
        header[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(&self.packet)?;
        self.frames += 1;
        self.bytes += 16 + u64::from(len);
        Ok(self.frames)
    }

    /// Starts `self.packet` with Ethernet and IPv4 headers (checksum filled in).
    #[allow(clippy::too_many_arguments)] // packet header fields, each needed
    fn begin_ipv4(
        &mut self,
        src: Phone,
        dst: Phone,
        tos: u8,
        protocol: u8,
        ip_payload: usize,
        id: u16,
        frag: u16,
    ) {
        let p = &mut self.packet;
        p.clear();
        p.extend_from_slice(&dst.mac());
        p.extend_from_slice(&src.mac());
        p.extend_from_slice(&[0x08, 0x00]);
        let total = (IP_LEN + ip_payload) as u16;
        let mut ip = [0u8; IP_LEN];
        ip[0] = 0x45;
        ip[1] = tos;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&id.to_be_bytes());
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip[8] = 64;
        ip[9] = protocol;
        ip[12..16].copy_from_slice(&src.ip());
        ip[16..20].copy_from_slice(&dst.ip());
        let sum = checksum_fold(checksum_add(0, &ip));
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(&ip);
    }

    fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// One UDP datagram, fragmented when it exceeds the MTU. Returns the last frame.
    #[allow(clippy::too_many_arguments)] // packet header fields, each needed
    fn udp(
        &mut self,
        ts: u64,
        src: Phone,
        sport: u16,
        dst: Phone,
        dport: u16,
        tos: u8,
        payload: &[u8],
    ) -> std::io::Result<u64> {
        let id = self.next_ip_id();
        let udp_total = UDP_LEN + payload.len();
        let mut udp = [0u8; UDP_LEN];
        udp[0..2].copy_from_slice(&sport.to_be_bytes());
        udp[2..4].copy_from_slice(&dport.to_be_bytes());
        udp[4..6].copy_from_slice(&(udp_total as u16).to_be_bytes());
        if IP_LEN + udp_total <= MTU {
            self.begin_ipv4(src, dst, tos, 17, udp_total, id, 0x4000);
            self.packet.extend_from_slice(&udp);
            self.packet.extend_from_slice(payload);
            return self.flush_packet(ts);
        }
        // RFC 791 fragmentation: offsets in 8-byte units, MF on all but the last.
        let mut offset = 0usize;
        let mut frame = 0;
        let mut ts = ts;
        while offset < udp_total {
            let len = FRAGMENT_PAYLOAD.min(udp_total - offset);
            let more = offset + len < udp_total;
            let frag = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
            self.begin_ipv4(src, dst, tos, 17, len, id, frag);
            // The UDP header sits in the first fragment only.
            let (head, body_start) = if offset == 0 {
                (&udp[..], 0)
            } else {
                (&[][..], offset - UDP_LEN)
            };
            self.packet.extend_from_slice(head);
            let body_len = len - head.len();
            self.packet
                .extend_from_slice(&payload[body_start..body_start + body_len]);
            frame = self.flush_packet(ts)?;
            ts += 15;
            offset += len;
        }
        Ok(frame)
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        ts: u64,
        src: Phone,
        sport: u16,
        dst: Phone,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> std::io::Result<u64> {
        let id = self.next_ip_id();
        self.begin_ipv4(src, dst, TOS_SIP, 6, TCP_LEN + payload.len(), id, 0x4000);
        let mut tcp = [0u8; TCP_LEN];
        tcp[0..2].copy_from_slice(&sport.to_be_bytes());
        tcp[2..4].copy_from_slice(&dport.to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = (TCP_LEN as u8 / 4) << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&64240u16.to_be_bytes());
        // RFC 793 checksum over the pseudo-header, header and data.
        let mut sum = checksum_add(0, &src.ip());
        sum = checksum_add(sum, &dst.ip());
        sum += 6 + (TCP_LEN + payload.len()) as u32;
        sum = checksum_add(sum, &tcp);
        sum = checksum_add(sum, payload);
        tcp[16..18].copy_from_slice(&checksum_fold(sum).to_be_bytes());
        self.packet.extend_from_slice(&tcp);
        self.packet.extend_from_slice(payload);
        self.flush_packet(ts)
    }
}

// ---------------------------------------------------------------------------
// RTP streams: one per direction of an answered call.

/// G.711 payloads are cut from this table at varying offsets, so packets differ
/// without drawing 160 random bytes each.
const NOISE_LEN: usize = 4096;
const RTP_PAYLOAD: usize = 160;
const RTP_PERIOD: u64 = ms(20);

struct RtpStream {
    src: Phone,
    src_port: u16,
    dst: Phone,
    dst_port: u16,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    start: u64,
    sent: u64,
    end: u64,
    jitter_state: u64,
}

impl RtpStream {
    fn due(&self) -> u64 {
        // Up to ~0.5 ms of send jitter around the 20 ms grid.
        self.start + self.sent * RTP_PERIOD + (self.jitter_state >> 55)
    }
}

// ---------------------------------------------------------------------------
// SIP messages of a dialog.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp(usize),
}

struct TcpConn {
    client: Phone,
    client_port: u16,
    server: Phone,
    client_seq: u32,
    server_seq: u32,
}

/// One INVITE dialog between caller and callee.
struct Leg {
    call_id: String,
    caller: Phone,
    callee: Phone,
    caller_tag: String,
    callee_tag: String,
    caller_cseq: u32,
    callee_cseq: u32,
    transport: Transport,
    caller_rtp: u16,
    callee_rtp: u16,
    call: usize,
}

/// The header lines a response copies from its request.
struct Req {
    method: &'static str,
    via: String,
    from: String,
    to: String,
    to_has_tag: bool,
    call_id: String,
    cseq: String,
}

impl Leg {
    fn tcp(&self) -> bool {
        matches!(self.transport, Transport::Tcp(_))
    }
    fn via(&self, from: Phone, branch: &str) -> String {
        let transport = if self.tcp() { "TCP" } else { "UDP" };
        format!(
            "SIP/2.0/{transport} {}:5060;branch=z9hG4bK{branch};rport",
            from.ip_text()
        )
    }
    /// A request in this dialog; `cseq` None takes the sender's next number.
    fn request(
        &mut self,
        from_caller: bool,
        method: &'static str,
        branch: &str,
        cseq: Option<u32>,
        to_tag: bool,
    ) -> Req {
        let (from, to, from_tag, to_tag_text) = if from_caller {
            (self.caller, self.callee, &self.caller_tag, &self.callee_tag)
        } else {
            (self.callee, self.caller, &self.callee_tag, &self.caller_tag)
        };
        let number = cseq.unwrap_or_else(|| {
            let counter = if from_caller {
                &mut self.caller_cseq
            } else {
                &mut self.callee_cseq
            };
            *counter += 1;
            *counter
        });
        Req {
            method,
            via: self.via(from, branch),
            from: format!("{};tag={from_tag}", from.name_addr()),
            to: if to_tag {
                format!("{};tag={to_tag_text}", to.name_addr())
            } else {
                to.name_addr()
            },
            to_has_tag: to_tag,
            call_id: self.call_id.clone(),
            cseq: format!("{number} {method}"),
        }
    }
}

fn content(out: &mut String, body: Option<(&str, &str)>) {
    match body {
        Some((kind, text)) => {
            let _ = write!(
                out,
                "Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n{text}",
                text.len()
            );
        }
        None => out.push_str("Content-Length: 0\r\n\r\n"),
    }
}

fn render_request(
    req: &Req,
    request_uri: &str,
    sender: Phone,
    contact: Option<&str>,
    extra: &str,
    body: Option<(&str, &str)>,
) -> Vec<u8> {
    let mut m = String::with_capacity(1024);
    let _ = write!(
        m,
        "{} {request_uri} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {}\r\n",
        req.method, req.via, req.from, req.to, req.call_id, req.cseq
    );
    if let Some(contact) = contact {
        let _ = write!(m, "Contact: <{contact}>\r\n");
    }
    m.push_str(extra);
    if req.method == "INVITE" {
        let _ = write!(m, "Allow: {ALLOW}\r\nSupported: replaces, timer\r\n");
    }
    let _ = write!(m, "User-Agent: {}\r\n", sender.user_agent());
    content(&mut m, body);
    m.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        202 => "Accepted",
        404 => "Not Found",
        486 => "Busy Here",
        487 => "Request Terminated",
        _ => "Unknown",
    }
}

fn render_response(
    req: &Req,
    status: u16,
    to_tag: Option<&str>,
    sender: Phone,
    contact: Option<&str>,
    body: Option<(&str, &str)>,
) -> Vec<u8> {
    let mut m = String::with_capacity(1024);
    let _ = write!(
        m,
        "SIP/2.0 {status} {}\r\nVia: {}\r\nFrom: {}\r\n",
        reason(status),
        req.via,
        req.from
    );
    match to_tag {
        Some(tag) if !req.to_has_tag => {
            let _ = write!(m, "To: {};tag={tag}\r\n", req.to);
        }
        _ => {
            let _ = write!(m, "To: {}\r\n", req.to);
        }
    }
    let _ = write!(m, "Call-ID: {}\r\nCSeq: {}\r\n", req.call_id, req.cseq);
    if let Some(contact) = contact {
        let _ = write!(m, "Contact: <{contact}>\r\n");
    }
    if req.method == "INVITE" && status == 200 {
        let _ = write!(m, "Allow: {ALLOW}\r\nSupported: replaces, timer\r\n");
    }
    let _ = write!(m, "Server: {}\r\n", sender.user_agent());
    content(&mut m, body);
    m.into_bytes()
}

fn sdp(rng: &mut Rng, phone: Phone, port: u16, offer: bool, pad_to: usize) -> String {
    let ip = phone.ip_text();
    let session = rng.range(100_000, 999_999_999);
    let mut s = format!(
        "v=0\r\no=- {session} {session} IN IP4 {ip}\r\ns={}\r\nc=IN IP4 {ip}\r\nt=0 0\r\n",
        phone.user_agent()
    );
    if offer {
        let _ = write!(
            s,
            "m=audio {port} RTP/AVP 0 8 9 18 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:9 G722/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=maxptime:150\r\na=sendrecv\r\n"
        );
    } else {
        let _ = write!(
            s,
            "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        );
    }
    // Padding looks like what makes real INVITEs big: ICE candidates and keys.
    if s.len() < pad_to {
        let _ = write!(
            s,
            "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\n",
            rng.hex(8),
            rng.hex(24)
        );
        let mut foundation = 1;
        while s.len() < pad_to {
            let _ = write!(
                s,
                "a=candidate:{foundation} 1 UDP {} {ip} {} typ host generation 0 network-id {foundation}\r\n",
                2_130_706_431 - foundation,
                port as u32 + foundation * 2
            );
            foundation += 1;
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Scenario scripts: SIP steps with absolute times, built ahead, emitted in order.

enum StepKind {
    Sip {
        transport: Transport,
        bytes: Vec<u8>,
        marks: Vec<Mark>,
        segments: u8,
    },
    TcpOpen(usize),
    TcpClose(usize),
}

struct Step {
    t: u64,
    src: Phone,
    dst: Phone,
    kind: StepKind,
}

#[derive(Default)]
struct Script {
    steps: Vec<Step>,
    conns: Vec<TcpConn>,
    next: usize,
}

impl Script {
    #[allow(clippy::too_many_arguments)] // packet header fields, each needed
    fn send(
        &mut self,
        t: u64,
        src: Phone,
        dst: Phone,
        transport: Transport,
        bytes: Vec<u8>,
        mark: Mark,
        segments: u8,
    ) {
        self.steps.push(Step {
            t,
            src,
            dst,
            kind: StepKind::Sip {
                transport,
                bytes,
                marks: vec![mark],
                segments,
            },
        });
    }

    /// Over TCP, appends to the previous step when it goes the same way on the same
    /// connection: two messages in one segment, as stacks do when they flush late.
    fn send_coalesced(
        &mut self,
        t: u64,
        src: Phone,
        dst: Phone,
        transport: Transport,
        bytes: Vec<u8>,
        mark: Mark,
    ) {
        if let Some(Step {
            t: last_t,
            src: last_src,
            kind:
                StepKind::Sip {
                    transport: last_transport,
                    bytes: last_bytes,
                    marks,
                    ..
                },
            ..
        }) = self.steps.last_mut()
            && *last_src == src
            && *last_transport == transport
            && matches!(transport, Transport::Tcp(_))
        {
            *last_t = t;
            last_bytes.extend_from_slice(&bytes);
            marks.push(mark);
            return;
        }
        self.send(t, src, dst, transport, bytes, mark, 1);
    }
}

/// What the callee does with an INVITE.
enum Answer {
    Accept { ring: u64 },
    Reject(u16),
    Cancel { ring: u64 },
}

struct Scenario {
    script: Script,
    rtp: Vec<RtpStream>,
    end: u64,
}

struct Generator {
    rng: Rng,
    truth: Truth,
    phones: u32,
    next_rtp_port: u16,
    next_client_port: u16,
    min_talk: u64,
    max_talk: u64,
    transfer_share: f64,
    tcp_share: f64,
    fragment_share: f64,
    no_media: bool,
    shape: Shape,
    /// `--stuck-transfer`, until the first scenario took it.
    stuck_transfer: bool,
    /// The failed transfer being made keeps its call up (no BYE).
    stuck: bool,
}

impl Generator {
    fn phone(&mut self, not: &[Phone]) -> Phone {
        loop {
            let p = Phone(self.rng.below(u64::from(self.phones)) as u32);
            if !not.contains(&p) {
                return p;
            }
        }
    }

    fn rtp_port(&mut self) -> u16 {
        self.next_rtp_port = if self.next_rtp_port >= 59_998 {
            10_000
        } else {
            self.next_rtp_port + 2
        };
        self.next_rtp_port
    }

    fn talk_time(&mut self) -> u64 {
        self.rng.range(secs(self.min_talk), secs(self.max_talk))
    }

    fn leg(&mut self, script: &mut Script, caller: Phone, callee: Phone, tcp: bool) -> Leg {
        let transport = if tcp {
            self.next_client_port = if self.next_client_port >= 60_999 {
                32_768
            } else {
                self.next_client_port + 1
            };
            script.conns.push(TcpConn {
                client: caller,
                client_port: self.next_client_port,
                server: callee,
                client_seq: self.rng.next_u64() as u32,
                server_seq: self.rng.next_u64() as u32,
            });
            Transport::Tcp(script.conns.len() - 1)
        } else {
            Transport::Udp
        };
        Leg {
            call_id: format!("{}@{}", self.rng.hex(20), caller.ip_text()),
            caller,
            callee,
            caller_tag: self.rng.hex(10),
            callee_tag: self.rng.hex(10),
            caller_cseq: self.rng.range(1, 30_000) as u32,
            callee_cseq: self.rng.range(1, 30_000) as u32,
            transport,
            caller_rtp: self.rtp_port(),
            callee_rtp: self.rtp_port(),
            call: self.truth.new_call(),
        }
    }

    fn segments(&mut self, leg: &Leg) -> u8 {
        if leg.tcp() && self.rng.chance(0.5) {
            self.rng.range(2, 3) as u8
        } else {
            1
        }
    }

    /// The INVITE transaction of `leg` from time `t`: returns when the caller's ACK
    /// went out (or the last message, when not answered) and whether it was answered.
    fn invite(
        &mut self,
        s: &mut Script,
        leg: &mut Leg,
        t: u64,
        answer: Answer,
        extra: &str,
        pad_to: usize,
    ) -> (u64, bool) {
        let (a, b, tr) = (leg.caller, leg.callee, leg.transport);
        if let Transport::Tcp(conn) = tr {
            s.steps.push(Step {
                t: t.saturating_sub(ms(2)),
                src: a,
                dst: b,
                kind: StepKind::TcpOpen(conn),
            });
        }
        let branch = self.rng.hex(16);
        let invite = leg.request(true, "INVITE", &branch, None, false);
        let cseq = leg.caller_cseq;
        let offer = sdp(&mut self.rng, a, leg.caller_rtp, true, pad_to);
        let request_uri = b.uri();
        let bytes = render_request(
            &invite,
            &request_uri,
            a,
            Some(&a.contact_uri(leg.tcp())),
            extra,
            Some(("application/sdp", &offer)),
        );
        let segments = self.segments(leg);
        s.send(t, a, b, tr, bytes, Mark::Invite(leg.call), segments);
        let mut t = t + self.rng.range(ms(5), ms(40));
        s.send(
            t,
            b,
            a,
            tr,
            render_response(&invite, 100, None, b, None, None),
            Mark::Plain,
            1,
        );
        let contact_b = b.contact_uri(leg.tcp());
        let tag = leg.callee_tag.clone();
        // Over TCP, a late flush of the 100 sometimes rides with the 180 (coalesced).
        let coalesce = leg.tcp() && self.rng.chance(0.5);
        let ringing = |s: &mut Script, t: u64| {
            let bytes = render_response(&invite, 180, Some(&tag), b, Some(&contact_b), None);
            if coalesce {
                s.send_coalesced(t, b, a, tr, bytes, Mark::Plain);
            } else {
                s.send(t, b, a, tr, bytes, Mark::Plain, 1);
            }
        };
        match answer {
            Answer::Accept { ring } => {
                if ring > 0 {
                    t += self.rng.range(ms(50), ms(300));
                    ringing(s, t);
                    t += ring;
                } else {
                    t += self.rng.range(ms(20), ms(80));
                }
                let answer_sdp = sdp(&mut self.rng, b, leg.callee_rtp, false, 0);
                let ok = render_response(
                    &invite,
                    200,
                    Some(&tag),
                    b,
                    Some(&contact_b),
                    Some(("application/sdp", &answer_sdp)),
                );
                let segments = self.segments(leg);
                s.send(t, b, a, tr, ok, Mark::InviteFinal(leg.call, 200), segments);
                t += self.rng.range(ms(5), ms(40));
                let ack = leg.request(true, "ACK", &self.rng.hex(16), Some(cseq), true);
                let contact_uri = b.contact_uri(leg.tcp());
                s.send(
                    t,
                    a,
                    b,
                    tr,
                    render_request(&ack, &contact_uri, a, None, "", None),
                    Mark::Plain,
                    1,
                );
                (t, true)
            }
            Answer::Reject(status) => {
                if status == 486 {
                    t += self.rng.range(ms(50), ms(300));
                    ringing(s, t);
                    t += self.rng.range(ms(500), secs(4));
                } else {
                    t += self.rng.range(ms(20), ms(200));
                }
                s.send(
                    t,
                    b,
                    a,
                    tr,
                    render_response(&invite, status, Some(&tag), b, None, None),
                    Mark::InviteFinal(leg.call, status),
                    1,
                );
                t += self.rng.range(ms(5), ms(40));
                // RFC 3261 §17.1.1.3: the ACK of a non-2xx reuses the INVITE's branch.
                let ack = leg.request(true, "ACK", &branch, Some(cseq), true);
                s.send(
                    t,
                    a,
                    b,
                    tr,
                    render_request(&ack, &request_uri, a, None, "", None),
                    Mark::Plain,
                    1,
                );
                (t, false)
            }
            Answer::Cancel { ring } => {
                t += self.rng.range(ms(50), ms(300));
                ringing(s, t);
                t += ring;
                // RFC 3261 §9.1: CANCEL copies the INVITE's branch, Call-ID, To, From and CSeq number.
                let cancel = leg.request(true, "CANCEL", &branch, Some(cseq), false);
                s.send(
                    t,
                    a,
                    b,
                    tr,
                    render_request(&cancel, &request_uri, a, None, "", None),
                    Mark::Plain,
                    1,
                );
                t += self.rng.range(ms(5), ms(40));
                s.send(
                    t,
                    b,
                    a,
                    tr,
                    render_response(&cancel, 200, Some(&tag), b, None, None),
                    Mark::Plain,
                    1,
                );
                t += self.rng.range(ms(1), ms(10));
                s.send(
                    t,
                    b,
                    a,
                    tr,
                    render_response(&invite, 487, Some(&tag), b, None, None),
                    Mark::InviteFinal(leg.call, 487),
                    1,
                );
                t += self.rng.range(ms(5), ms(40));
                let ack = leg.request(true, "ACK", &branch, Some(cseq), true);
                s.send(
                    t,
                    a,
                    b,
                    tr,
                    render_request(&ack, &request_uri, a, None, "", None),
                    Mark::Plain,
                    1,
                );
                (t, false)
            }
        }
    }

    /// A request inside `leg` and its final response; returns the response time.
    #[allow(clippy::too_many_arguments)]
    fn in_dialog(
        &mut self,
        s: &mut Script,
        leg: &mut Leg,
        t: u64,
        from_caller: bool,
        method: &'static str,
        status: u16,
        extra: &str,
        body: Option<(&str, &str)>,
        mark: Mark,
    ) -> u64 {
        let (src, dst) = if from_caller {
            (leg.caller, leg.callee)
        } else {
            (leg.callee, leg.caller)
        };
        let req = leg.request(from_caller, method, &self.rng.hex(16), None, true);
        let tcp = leg.tcp();
        let segments = self.segments(leg);
        let contact = (method != "BYE").then(|| src.contact_uri(tcp));
        let request_uri = dst.contact_uri(tcp);
        let bytes = render_request(&req, &request_uri, src, contact.as_deref(), extra, body);
        s.send(t, src, dst, leg.transport, bytes, mark, segments);
        let t = t + self.rng.range(ms(2), ms(40));
        let contact = if method == "BYE" {
            None
        } else {
            Some(dst.contact_uri(tcp))
        };
        s.send(
            t,
            dst,
            src,
            leg.transport,
            render_response(&req, status, None, dst, contact.as_deref(), None),
            Mark::Plain,
            1,
        );
        t
    }

    fn hang_up(&mut self, s: &mut Script, leg: &mut Leg, t: u64, from_caller: bool) -> u64 {
        let t = self.in_dialog(s, leg, t, from_caller, "BYE", 200, "", None, Mark::Plain);
        if let Transport::Tcp(conn) = leg.transport {
            s.steps.push(Step {
                t: t + ms(50),
                src: leg.caller,
                dst: leg.callee,
                kind: StepKind::TcpClose(conn),
            });
            return t + ms(50);
        }
        t
    }

    fn media(&mut self, rtp: &mut Vec<RtpStream>, leg: &Leg, start: u64, end: u64) {
        if self.no_media {
            return;
        }
        for (src, src_port, dst, dst_port) in [
            (leg.caller, leg.caller_rtp, leg.callee, leg.callee_rtp),
            (leg.callee, leg.callee_rtp, leg.caller, leg.caller_rtp),
        ] {
            rtp.push(RtpStream {
                src,
                src_port,
                dst,
                dst_port,
                ssrc: self.rng.next_u64() as u32,
                seq: self.rng.next_u64() as u16,
                timestamp: self.rng.next_u64() as u32,
                start: start + self.rng.range(0, ms(20)),
                sent: 0,
                end,
                jitter_state: self.rng.next_u64(),
            });
        }
    }

    fn scenario(&mut self, t: u64) -> Scenario {
        let mut s = Script::default();
        let mut rtp = Vec::new();
        let roll = self.rng.next_u64() as f64 / u64::MAX as f64;
        let end = if std::mem::take(&mut self.stuck_transfer) {
            self.stuck = true;
            let end = self.blind_transfer(&mut s, &mut rtp, t, Some(486));
            self.stuck = false;
            end
        } else if self.shape == Shape::PendingRefers {
            self.pending_refer(&mut s, t)
        } else if self.shape == Shape::UnansweredInvites {
            self.unanswered_invite(&mut s, t)
        } else if roll < self.transfer_share {
            let which = self.rng.below(6);
            match which {
                0..=2 => self.blind_transfer(&mut s, &mut rtp, t, None),
                3 => self.blind_transfer(&mut s, &mut rtp, t, Some(486)),
                _ => self.attended_transfer(&mut s, &mut rtp, t),
            }
        } else {
            self.plain_call(&mut s, &mut rtp, t)
        };
        s.steps.sort_by_key(|step| step.t);
        Scenario {
            script: s,
            rtp,
            end,
        }
    }

    /// `--shape pending-refers`: B refers A to C in a call the capture joined late; the
    /// REFER is accepted and then nothing follows, so the transfer stays pending.
    fn pending_refer(&mut self, s: &mut Script, t: u64) -> u64 {
        let a = self.phone(&[]);
        let b = self.phone(&[a]);
        let c = self.phone(&[a, b]);
        let mut original = self.leg(s, a, b, false);
        let transfer = self.transfer_truth("blind", &original);
        let refer_to = format!("Refer-To: <{}>\r\nReferred-By: <{}>\r\n", c.uri(), b.uri());
        self.in_dialog(
            s,
            &mut original,
            t,
            false,
            "REFER",
            202,
            &refer_to,
            None,
            Mark::Refer(transfer),
        )
    }

    /// `--shape unanswered-invites`: an INVITE without SDP that nobody answers.
    fn unanswered_invite(&mut self, s: &mut Script, t: u64) -> u64 {
        let a = self.phone(&[]);
        let b = self.phone(&[a]);
        let mut leg = self.leg(s, a, b, false);
        let invite = leg.request(true, "INVITE", &self.rng.hex(16), None, false);
        let bytes = render_request(&invite, &b.uri(), a, Some(&a.contact_uri(false)), "", None);
        s.send(t, a, b, Transport::Udp, bytes, Mark::Invite(leg.call), 1);
        t
    }

    fn plain_call(&mut self, s: &mut Script, rtp: &mut Vec<RtpStream>, t: u64) -> u64 {
        let a = self.phone(&[]);
        let b = self.phone(&[a]);
        let tcp = self.rng.chance(self.tcp_share);
        let pad_to = if !tcp && self.rng.chance(self.fragment_share) {
            1500
        } else {
            0
        };
        let mut leg = self.leg(s, a, b, tcp);
        let ring = self.rng.range(ms(800), secs(6));
        let answer = match self.rng.below(100) {
            0..=3 => Answer::Reject(486),
            4..=5 => Answer::Reject(404),
            6..=9 => Answer::Cancel { ring },
            _ => Answer::Accept { ring },
        };
        let (t, answered) = self.invite(s, &mut leg, t, answer, "", pad_to);
        if !answered {
            if let Transport::Tcp(conn) = leg.transport {
                s.steps.push(Step {
                    t: t + ms(50),
                    src: a,
                    dst: b,
                    kind: StepKind::TcpClose(conn),
                });
                return t + ms(50);
            }
            return t;
        }
        let bye_at = t + self.talk_time();
        self.media(rtp, &leg, t, bye_at);
        let caller_hangs_up = self.rng.chance(0.5);
        self.hang_up(s, &mut leg, bye_at, caller_hangs_up)
    }

    /// RFC 3261 §11: an OPTIONS from the monitor and the phone's 200, out of dialog.
    fn keepalive(&mut self, t: u64) -> Script {
        let phone = self.phone(&[]);
        let req = Req {
            method: "OPTIONS",
            via: format!(
                "SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK{};rport",
                self.rng.hex(16)
            ),
            from: format!("{};tag={}", MONITOR.name_addr(), self.rng.hex(10)),
            to: format!("<{}>", phone.uri()),
            to_has_tag: false,
            call_id: format!("{}@10.0.0.10", self.rng.hex(20)),
            cseq: format!("{} OPTIONS", self.rng.range(1, 9999)),
        };
        let request_uri = phone.contact_uri(false);
        let mut s = Script::default();
        let options = render_request(
            &req,
            &request_uri,
            MONITOR,
            Some(&MONITOR.contact_uri(false)),
            "Accept: application/sdp\r\n",
            None,
        );
        s.send(t, MONITOR, phone, Transport::Udp, options, Mark::Plain, 1);
        let t = t + self.rng.range(ms(1), ms(15));
        let tag = self.rng.hex(10);
        let ok = render_response(
            &req,
            200,
            Some(&tag),
            phone,
            Some(&phone.contact_uri(false)),
            None,
        );
        s.send(t, phone, MONITOR, Transport::Udp, ok, Mark::Plain, 1);
        s
    }

    fn transfer_truth(&mut self, kind: &'static str, leg: &Leg) -> usize {
        self.truth.transfers.push(TransferTruth {
            kind,
            refer_call_id: leg.call_id.clone(),
            refer_frame: None,
            final_status: None,
            new_call: None,
        });
        self.truth.transfers.len() - 1
    }

    /// RFC 3515 NOTIFY from the transferee (the original caller) carrying a sipfrag.
    fn notify(
        &mut self,
        s: &mut Script,
        leg: &mut Leg,
        t: u64,
        sipfrag_status: u16,
        last: Option<usize>,
    ) -> u64 {
        let state = if last.is_some() {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let extra = format!("Event: refer\r\nSubscription-State: {state}\r\n");
        let body = format!("SIP/2.0 {sipfrag_status} {}\r\n", reason(sipfrag_status));
        let mark = last.map_or(Mark::Plain, |transfer| {
            Mark::FinalNotify(transfer, sipfrag_status)
        });
        self.in_dialog(
            s,
            leg,
            t,
            true,
            "NOTIFY",
            200,
            &extra,
            Some(("message/sipfrag;version=2.0", &body)),
            mark,
        )
    }

    /// A (caller) talks to B; B refers A to C. `fail` makes C answer busy.
    fn blind_transfer(
        &mut self,
        s: &mut Script,
        rtp: &mut Vec<RtpStream>,
        t: u64,
        fail: Option<u16>,
    ) -> u64 {
        let a = self.phone(&[]);
        let b = self.phone(&[a]);
        let c = self.phone(&[a, b]);
        let mut original = self.leg(s, a, b, false);
        let ring = self.rng.range(ms(800), secs(5));
        let (answered_at, _) = self.invite(s, &mut original, t, Answer::Accept { ring }, "", 0);
        let refer_at = answered_at + self.talk_time() / 2;
        let transfer = self.transfer_truth("blind", &original);
        let refer_to = format!("Refer-To: <{}>\r\nReferred-By: <{}>\r\n", c.uri(), b.uri());
        let t = self.in_dialog(
            s,
            &mut original,
            refer_at,
            false,
            "REFER",
            202,
            &refer_to,
            None,
            Mark::Refer(transfer),
        );
        let t = self.notify(s, &mut original, t + ms(20), 100, None);
        let mut new_call = self.leg(s, a, c, false);
        self.truth.transfers[transfer].new_call = Some(new_call.call);
        let referred_by = format!("Referred-By: <{}>\r\n", b.uri());
        let answer = match fail {
            Some(status) => Answer::Reject(status),
            None => Answer::Accept {
                ring: self.rng.range(ms(800), secs(5)),
            },
        };
        let (new_answered, answered) =
            self.invite(s, &mut new_call, t + ms(30), answer, &referred_by, 0);
        let final_status = fail.unwrap_or(200);
        let t = self.notify(
            s,
            &mut original,
            new_answered + ms(20),
            final_status,
            Some(transfer),
        );
        if answered {
            // The transferor releases the original call once the target answered.
            let released = self.hang_up(s, &mut original, t + ms(100), false);
            self.media(rtp, &original, answered_at, released);
            let end_at = released + self.talk_time() / 2;
            self.media(rtp, &new_call, new_answered, end_at);
            let caller_hangs_up = self.rng.chance(0.5);
            self.hang_up(s, &mut new_call, end_at, caller_hangs_up)
        } else {
            // Transfer failed: A and B keep talking, then hang up.
            let end_at = t + self.talk_time() / 2;
            if self.stuck {
                // ... or talk on past the end of the file.
                return end_at;
            }
            self.media(rtp, &original, answered_at, end_at);
            let caller_hangs_up = self.rng.chance(0.5);
            self.hang_up(s, &mut original, end_at, caller_hangs_up)
        }
    }

    /// A (caller) talks to B; B consults C, then refers A to C replacing B-C.
    fn attended_transfer(&mut self, s: &mut Script, rtp: &mut Vec<RtpStream>, t: u64) -> u64 {
        let a = self.phone(&[]);
        let b = self.phone(&[a]);
        let c = self.phone(&[a, b]);
        let mut original = self.leg(s, a, b, false);
        let ring = self.rng.range(ms(800), secs(5));
        let (answered_at, _) = self.invite(s, &mut original, t, Answer::Accept { ring }, "", 0);
        let consult_at = answered_at + self.talk_time() / 3;
        let mut consult = self.leg(s, b, c, false);
        let ring = self.rng.range(ms(800), secs(4));
        let (consult_answered, _) =
            self.invite(s, &mut consult, consult_at, Answer::Accept { ring }, "", 0);
        let refer_at = consult_answered + self.talk_time() / 3;
        let transfer = self.transfer_truth("attended", &original);
        // RFC 3891 §3: to-tag and from-tag of the dialog at the target C, which is the
        // callee of the consultation: its To tag is C's own.
        let replaces = format!(
            "{};to-tag={};from-tag={}",
            consult.call_id, consult.callee_tag, consult.caller_tag
        );
        let escaped = replaces
            .replace('@', "%40")
            .replace(';', "%3B")
            .replace('=', "%3D");
        let refer_to = format!(
            "Refer-To: <{}?Replaces={escaped}>\r\nReferred-By: <{}>\r\n",
            c.uri(),
            b.uri()
        );
        let t = self.in_dialog(
            s,
            &mut original,
            refer_at,
            false,
            "REFER",
            202,
            &refer_to,
            None,
            Mark::Refer(transfer),
        );
        let t = self.notify(s, &mut original, t + ms(20), 100, None);
        let mut new_call = self.leg(s, a, c, false);
        self.truth.transfers[transfer].new_call = Some(new_call.call);
        let extra = format!("Replaces: {replaces}\r\nReferred-By: <{}>\r\n", b.uri());
        let (t, _) = self.invite(
            s,
            &mut new_call,
            t + ms(30),
            Answer::Accept { ring: 0 },
            &extra,
            0,
        );
        let new_answered = t;
        // C drops the replaced consultation dialog (RFC 3891 §3).
        let consult_end = self.hang_up(s, &mut consult, t + ms(15), false);
        self.media(rtp, &consult, consult_answered, consult_end);
        let t = self.notify(s, &mut original, t + ms(25), 200, Some(transfer));
        let released = self.hang_up(s, &mut original, t + ms(100), false);
        self.media(rtp, &original, answered_at, released);
        let end_at = released + self.talk_time() / 2;
        self.media(rtp, &new_call, new_answered, end_at);
        let caller_hangs_up = self.rng.chance(0.5);
        self.hang_up(s, &mut new_call, end_at, caller_hangs_up)
    }
}

// ---------------------------------------------------------------------------
// The scheduler: every source (RTP stream, scenario script, slot refill) sits in a
// min-heap by the time of its next packet, so the file comes out in time order.

enum Source {
    Rtp(RtpStream),
    Script(Script),
    Refill,
    /// Due time of the next OPTIONS keep-alive.
    Keepalive,
}

struct Scheduler {
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    slots: Vec<Option<Source>>,
    free: Vec<u32>,
}

impl Scheduler {
    fn add(&mut self, t: u64, source: Source) {
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(source);
                id
            }
            None => {
                self.slots.push(Some(source));
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((t, id)));
    }

    fn add_scenario(&mut self, scenario: Scenario) {
        for stream in scenario.rtp {
            if stream.start < stream.end {
                self.add(stream.due(), Source::Rtp(stream));
            }
        }
        if let Some(first) = scenario.script.steps.first() {
            self.add(first.t, Source::Script(scenario.script));
        }
        self.add(scenario.end, Source::Refill);
    }
}

fn emit_rtp(out: &mut PcapOut, noise: &[u8], t: u64, rtp: &mut RtpStream) -> std::io::Result<()> {
    let mut packet = [0u8; 12 + RTP_PAYLOAD];
    packet[0] = 0x80;
    packet[1] = if rtp.sent == 0 { 0x80 } else { 0x00 }; // marker on the first packet, PT 0 (PCMU)
    packet[2..4].copy_from_slice(&rtp.seq.to_be_bytes());
    packet[4..8].copy_from_slice(&rtp.timestamp.to_be_bytes());
    packet[8..12].copy_from_slice(&rtp.ssrc.to_be_bytes());
    let offset = (rtp.jitter_state as usize) % (NOISE_LEN - RTP_PAYLOAD);
    packet[12..].copy_from_slice(&noise[offset..offset + RTP_PAYLOAD]);
    out.udp(
        t,
        rtp.src,
        rtp.src_port,
        rtp.dst,
        rtp.dst_port,
        TOS_RTP,
        &packet,
    )?;
    rtp.seq = rtp.seq.wrapping_add(1);
    rtp.timestamp = rtp.timestamp.wrapping_add(RTP_PAYLOAD as u32);
    rtp.sent += 1;
    // xorshift step for the next packet's jitter and payload offset.
    rtp.jitter_state ^= rtp.jitter_state << 13;
    rtp.jitter_state ^= rtp.jitter_state >> 7;
    rtp.jitter_state ^= rtp.jitter_state << 17;
    Ok(())
}

fn emit_step(
    out: &mut PcapOut,
    truth: &mut Truth,
    rng: &mut Rng,
    script: &mut Script,
    index: usize,
) -> std::io::Result<()> {
    let step = &script.steps[index];
    let (t, src, dst) = (step.t, step.src, step.dst);
    match &step.kind {
        StepKind::Sip {
            transport: Transport::Udp,
            bytes,
            marks,
            ..
        } => {
            let frame = out.udp(t, src, 5060, dst, 5060, TOS_SIP, bytes)?;
            for &mark in marks {
                truth.record(mark, frame);
            }
        }
        StepKind::Sip {
            transport: Transport::Tcp(conn),
            bytes,
            marks,
            segments,
        } => {
            let conn = &mut script.conns[*conn];
            let from_client = src == conn.client;
            // Cut points: `segments` random pieces, none above the MSS.
            let mut pieces: [usize; 8] = [0; 8];
            let mut count = 0;
            let mut rest = bytes.len();
            let wanted = usize::from(*segments).max(1);
            while rest > 0 && count < pieces.len() {
                let left = wanted.saturating_sub(count).max(1);
                let mut len = if left > 1 {
                    rng.range(1, (rest - 1).max(1) as u64) as usize
                } else {
                    rest
                };
                len = len.min(MSS).min(rest);
                pieces[count] = len;
                count += 1;
                rest -= len;
            }
            let mut offset = 0;
            let mut frame = 0;
            let mut ts = t;
            for &len in &pieces[..count] {
                let chunk = &bytes[offset..offset + len];
                frame = if from_client {
                    let f = out.tcp(
                        ts,
                        src,
                        conn.client_port,
                        dst,
                        5060,
                        conn.client_seq,
                        conn.server_seq,
                        TCP_PSH | TCP_ACK,
                        chunk,
                    )?;
                    conn.client_seq = conn.client_seq.wrapping_add(len as u32);
                    f
                } else {
                    let f = out.tcp(
                        ts,
                        src,
                        5060,
                        dst,
                        conn.client_port,
                        conn.server_seq,
                        conn.client_seq,
                        TCP_PSH | TCP_ACK,
                        chunk,
                    )?;
                    conn.server_seq = conn.server_seq.wrapping_add(len as u32);
                    f
                };
                offset += len;
                ts += 40;
            }
            for &mark in marks {
                truth.record(mark, frame);
            }
        }
        StepKind::TcpOpen(conn) => {
            let c = &mut script.conns[*conn];
            let (cp, client, server) = (c.client_port, c.client, c.server);
            out.tcp(t, client, cp, server, 5060, c.client_seq, 0, TCP_SYN, &[])?;
            c.client_seq = c.client_seq.wrapping_add(1);
            out.tcp(
                t + 300,
                server,
                5060,
                client,
                cp,
                c.server_seq,
                c.client_seq,
                TCP_SYN | TCP_ACK,
                &[],
            )?;
            c.server_seq = c.server_seq.wrapping_add(1);
            out.tcp(
                t + 600,
                client,
                cp,
                server,
                5060,
                c.client_seq,
                c.server_seq,
                TCP_ACK,
                &[],
            )?;
        }
        StepKind::TcpClose(conn) => {
            let c = &mut script.conns[*conn];
            let (cp, client, server) = (c.client_port, c.client, c.server);
            out.tcp(
                t,
                client,
                cp,
                server,
                5060,
                c.client_seq,
                c.server_seq,
                TCP_FIN | TCP_ACK,
                &[],
            )?;
            c.client_seq = c.client_seq.wrapping_add(1);
            out.tcp(
                t + 300,
                server,
                5060,
                client,
                cp,
                c.server_seq,
                c.client_seq,
                TCP_FIN | TCP_ACK,
                &[],
            )?;
            c.server_seq = c.server_seq.wrapping_add(1);
            out.tcp(
                t + 600,
                client,
                cp,
                server,
                5060,
                c.client_seq,
                c.server_seq,
                TCP_ACK,
                &[],
            )?;
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synth: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub fn run(args: &Args) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    let mut rng = Rng(args.seed ^ 0x5EED_5EED_5EED_5EED);
    let mut noise = vec![0u8; NOISE_LEN];
    for byte in &mut noise {
        // µ-law speech hovers around the top of the code space (0x7f/0xff are silence).
        *byte = (rng.next_u64() as u8 & 0x1f) | if rng.chance(0.5) { 0xe0 } else { 0x60 };
    }
    let concurrency = args.concurrent_calls.max(1);
    let mut generator = Generator {
        rng: Rng(rng.next_u64()),
        truth: Truth::default(),
        phones: concurrency
            .saturating_mul(10)
            .saturating_add(50)
            .min(15_000_000),
        next_rtp_port: 10_000,
        next_client_port: 32_768,
        min_talk: args.min_duration.max(1),
        max_talk: args.max_duration.max(args.min_duration.max(1)),
        transfer_share: args.transfer_share,
        tcp_share: args.tcp_share,
        fragment_share: args.fragment_share,
        no_media: args.no_media,
        shape: args.shape,
        stuck_transfer: args.stuck_transfer,
        stuck: false,
    };
    let mut scheduler = Scheduler {
        heap: BinaryHeap::new(),
        slots: Vec::new(),
        free: Vec::new(),
    };
    // The first calls come up over a couple of seconds, not all in one instant.
    for _ in 0..concurrency {
        let t = rng.range(0, secs(2));
        scheduler.add(t, Source::Refill);
    }
    // Keep-alives arrive as a Poisson-like stream: each phone about once per interval.
    let keepalive_gap = (args.keepalive_interval * 1_000_000)
        .checked_div(u64::from(generator.phones))
        .filter(|_| args.keepalive_interval > 0);
    if let Some(gap) = keepalive_gap {
        scheduler.add(rng.range(0, 2 * gap), Source::Keepalive);
    }
    let mut out = PcapOut::create(&args.out)?;
    while out.bytes < args.bytes {
        let Some(Reverse((t, id))) = scheduler.heap.pop() else {
            break;
        };
        let Some(source) = scheduler.slots[id as usize].take() else {
            continue;
        };
        match source {
            Source::Rtp(mut stream) => {
                emit_rtp(&mut out, &noise, t, &mut stream)?;
                generator.truth.rtp_packets += 1;
                let due = stream.due();
                if due < stream.end {
                    scheduler.slots[id as usize] = Some(Source::Rtp(stream));
                    scheduler.heap.push(Reverse((due, id)));
                } else {
                    scheduler.free.push(id);
                }
            }
            Source::Script(mut script) => {
                let index = script.next;
                emit_step(&mut out, &mut generator.truth, &mut rng, &mut script, index)?;
                script.next += 1;
                if let Some(next) = script.steps.get(script.next) {
                    let due = next.t;
                    scheduler.slots[id as usize] = Some(Source::Script(script));
                    scheduler.heap.push(Reverse((due, id)));
                } else {
                    scheduler.free.push(id);
                }
            }
            Source::Keepalive => {
                let script = generator.keepalive(t);
                scheduler.add(t, Source::Script(script));
                let gap = keepalive_gap.unwrap_or(u64::MAX / 4);
                let next = t + rng.range(1, 2 * gap.max(1));
                scheduler.slots[id as usize] = Some(Source::Keepalive);
                scheduler.heap.push(Reverse((next, id)));
            }
            Source::Refill => {
                scheduler.free.push(id);
                let start = t + rng.range(ms(10), ms(1000));
                let scenario = generator.scenario(start);
                scheduler.add_scenario(scenario);
            }
        }
    }
    out.out.flush()?;
    let truth = generator.truth.to_json(out.frames);
    if let Some(path) = &args.ground_truth {
        let text = serde_json::to_string_pretty(&truth).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")?;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "synth: {} packets, {} bytes, {:.1} s of capture, {} calls, {} transfers in {seconds:.2} s ({:.0} MB/s)",
        out.frames,
        out.bytes,
        out.last_ts as f64 / 1e6,
        truth["calls"],
        truth["transfers"].as_array().map_or(0, Vec::len),
        out.bytes as f64 / 1e6 / seconds.max(1e-9)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_decimal_suffixes() {
        assert_eq!(parse_size("5M"), Ok(5_000_000));
        assert_eq!(parse_size("2G"), Ok(2_000_000_000));
        assert_eq!(parse_size("1500"), Ok(1500));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn ipv4_header_checksum_verifies_to_zero() {
        // RFC 1071: summing a header that includes its checksum gives 0xffff.
        let mut out =
            PcapOut::create(&std::env::temp_dir().join("synth-test-checksum.pcap")).unwrap();
        out.begin_ipv4(Phone(1), Phone(2), TOS_SIP, 17, 100, 7, 0x4000);
        let ip = &out.packet[14..34];
        assert_eq!(checksum_fold(checksum_add(0, ip)), 0);
    }

    #[test]
    fn big_datagrams_become_two_fragments_at_8_byte_offsets() {
        let path = std::env::temp_dir().join("synth-test-fragments.pcap");
        let mut out = PcapOut::create(&path).unwrap();
        let payload = vec![b'x'; 2000];
        let last = out
            .udp(0, Phone(1), 5060, Phone(2), 5060, TOS_SIP, &payload)
            .unwrap();
        assert_eq!(last, 2);
        // The second fragment starts at 1480 bytes of IP payload: offset 185 units.
        let frag = u16::from_be_bytes([out.packet[20], out.packet[21]]);
        assert_eq!(frag, 185);
        assert_eq!(out.packet.len(), 14 + 20 + (2008 - 1480));
    }

    #[test]
    fn same_seed_same_file() {
        let generate = |name: &str| {
            let out = std::env::temp_dir().join(name);
            let args = Args::parse_from([
                "synth",
                "--bytes",
                "300K",
                "--seed",
                "9",
                "--concurrent-calls",
                "5",
                "--min-duration",
                "1",
                "--max-duration",
                "3",
                "--out",
                out.to_str().unwrap(),
            ]);
            run(&args).unwrap();
            std::fs::read(out).unwrap()
        };
        let first = generate("synth-test-a.pcap");
        assert!(first.len() >= 300_000);
        assert_eq!(first, generate("synth-test-b.pcap"));
    }
}
