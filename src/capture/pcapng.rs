//! pcapng: a sequence of sections, each a Section Header Block followed by Interface
//! Description Blocks and packet blocks (draft-ietf-opsawg-pcapng).
//!
//! Guarantees:
//! - Each section has its own byte order and its own interfaces; a new section forgets
//!   the interfaces of the previous one (section 4.1).
//! - Each interface has its own link type, snap length and timestamp resolution
//!   (`if_tsresol`, decimal or binary) and offset (`if_tsoffset`) (section 4.2).
//! - Enhanced (4.3), Simple (4.4) and obsolete Packet Blocks (appendix A) are packets;
//!   every other well-framed block is skipped and counted.
//! - A block is only returned when all of it is in the window and its trailing length
//!   matches the leading one.

use super::stream::{ByteStream, Fill};
use super::{DamageKind, MAX_RECORD_LEN, Record, Step, read_u32};

pub(super) const SHB: u32 = pcap_parser::SHB_MAGIC;
const IDB: u32 = pcap_parser::IDB_MAGIC;
/// Obsolete Packet Block (draft-ietf-opsawg-pcapng appendix A), still written by old tools.
const OPB: u32 = 0x0000_0002;
const SPB: u32 = pcap_parser::SPB_MAGIC;
const EPB: u32 = pcap_parser::EPB_MAGIC;
/// Byte-order magic of a section header, as read in the section's own byte order.
const BYTE_ORDER_MAGIC: u32 = pcap_parser::BOM_MAGIC;

/// Whether a section header starts `head` with a valid byte-order magic (section 4.1):
/// the first 4 bytes alone are "\n\r\r\n", which a text file can start with too.
pub(super) fn has_byte_order_magic(head: &[u8]) -> bool {
    read_u32(head, 8, false)
        .is_some_and(|m| m == BYTE_ORDER_MAGIC || m == BYTE_ORDER_MAGIC.swap_bytes())
}

/// Option codes of an Interface Description Block (section 4.2).
const OPT_END: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// Block types defined by the specification; garbage seldom looks like one of them, so
/// a broken block of a known type is called corrupt, one of an unknown type garbage.
fn is_known_block_type(t: u32) -> bool {
    matches!(
        t,
        1..=10 | SHB | pcap_parser::CB_MAGIC | pcap_parser::DCB_MAGIC | pcap_parser::PIB_MAGIC
    )
}

/// How raw timestamp units become nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TsScale {
    /// Units coarser than or equal to a nanosecond: multiply.
    Mul(u64),
    /// Decimal units finer than a nanosecond: divide.
    Div(u128),
    /// Binary units 2^-n seconds.
    Binary(u32),
    /// A resolution too fine to express: every timestamp is 0.
    Zero,
}

impl TsScale {
    /// From the `if_tsresol` byte: high bit clear = 10^-n seconds, set = 2^-n (section 4.2).
    pub fn from_tsresol(tsresol: u8) -> TsScale {
        let n = u32::from(tsresol & 0x7f);
        if tsresol & 0x80 != 0 {
            return TsScale::Binary(n);
        }
        if n <= 9 {
            TsScale::Mul(10u64.pow(9 - n))
        } else {
            10u128
                .checked_pow(n - 9)
                .map_or(TsScale::Zero, TsScale::Div)
        }
    }

    #[inline]
    pub fn to_ns(self, units: u64) -> i128 {
        match self {
            TsScale::Mul(m) => i128::from(units) * i128::from(m),
            TsScale::Div(d) => (u128::from(units) / d) as i128,
            // units * 10^9 < 2^94: no overflow; shifts of 128 or more give 0.
            TsScale::Binary(n) => (u128::from(units) * 1_000_000_000)
                .checked_shr(n)
                .map_or(0, |v| v as i128),
            TsScale::Zero => 0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Interface {
    pub linktype: u32,
    pub snaplen: u32,
    pub scale: TsScale,
    /// `if_tsoffset` in nanoseconds.
    pub offset_ns: i128,
}

impl Interface {
    #[inline]
    fn ts_ns(&self, high: u32, low: u32) -> i64 {
        let units = (u64::from(high) << 32) | u64::from(low);
        let ns = self.scale.to_ns(units) + self.offset_ns;
        i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
    }

    /// Reads an Interface Description Block (whole block, framing already checked).
    fn parse(block: &[u8], be: bool) -> Option<Interface> {
        let head = read_u32(block, 8, be)?;
        // Link type is the first 16-bit field of the body.
        let linktype = if be { head >> 16 } else { head & 0xffff };
        let snaplen = read_u32(block, 12, be)?;
        let mut iface = Interface {
            linktype,
            snaplen,
            scale: TsScale::from_tsresol(6),
            offset_ns: 0,
        };
        let options = block.get(16..block.len().checked_sub(4)?)?;
        for (code, value) in Options::new(options, be) {
            match code {
                IF_TSRESOL => {
                    if let Some(&r) = value.first() {
                        iface.scale = TsScale::from_tsresol(r);
                    }
                }
                IF_TSOFFSET => {
                    if let Some(b) = value.first_chunk::<8>() {
                        let secs = if be {
                            i64::from_be_bytes(*b)
                        } else {
                            i64::from_le_bytes(*b)
                        };
                        iface.offset_ns = i128::from(secs) * 1_000_000_000;
                    }
                }
                _ => {}
            }
        }
        Some(iface)
    }
}

/// Iterator over the options of a block: (code, value). Stops at `opt_endofopt` or at
/// the first option that does not fit (a damaged option list costs the options only).
struct Options<'a> {
    rest: &'a [u8],
    be: bool,
}

impl<'a> Options<'a> {
    fn new(rest: &'a [u8], be: bool) -> Options<'a> {
        Options { rest, be }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let head = read_u32(self.rest, 0, self.be)?;
        let (code, len) = if self.be {
            ((head >> 16) as u16, (head & 0xffff) as usize)
        } else {
            ((head & 0xffff) as u16, (head >> 16) as usize)
        };
        if code == OPT_END {
            return None;
        }
        let value = self.rest.get(4..4 + len)?;
        // Values are padded to 32 bits.
        let padded = (4 + len).next_multiple_of(4);
        self.rest = self.rest.get(padded..).unwrap_or(&[]);
        Some((code, value))
    }
}

/// State of a pcapng file between blocks.
#[derive(Debug, Default)]
pub(super) struct NgFile {
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// Timestamp of the last packet, for Simple Packet Blocks which have none.
    last_ts_ns: i64,
}

impl NgFile {
    /// Parses the block at the start of the window.
    #[inline]
    pub fn next_block(&mut self, stream: &mut ByteStream, frames_so_far: u64) -> Step {
        match stream.request(8) {
            Fill::Ready => {}
            Fill::Eof => {
                let left = stream.available().len();
                if left == 0 {
                    return Step::End;
                }
                return Step::Damaged(
                    DamageKind::TruncatedRecord,
                    format!("file ends inside a block header ({left} of 8 bytes)"),
                );
            }
            Fill::Failed(e) => return Step::ReadFailed(e),
        }
        let mut be = self.big_endian;
        let Some(raw_type) = read_u32(stream.available(), 0, false) else {
            return Step::End;
        };
        if raw_type == SHB {
            // A section header states its own byte order (section 4.1); the type is a
            // palindrome so it reads the same either way.
            match stream.request(12) {
                Fill::Ready => {}
                Fill::Eof => {
                    return Step::Damaged(
                        DamageKind::TruncatedRecord,
                        "file ends inside a section header".into(),
                    );
                }
                Fill::Failed(e) => return Step::ReadFailed(e),
            }
            be = match read_u32(stream.available(), 8, false) {
                Some(BYTE_ORDER_MAGIC) => false,
                Some(m) if m == BYTE_ORDER_MAGIC.swap_bytes() => true,
                m => {
                    return Step::Damaged(
                        DamageKind::CorruptBlock,
                        format!(
                            "section header with unknown byte-order magic 0x{:08x}",
                            m.unwrap_or(0)
                        ),
                    );
                }
            };
        }
        let head = stream.available();
        let (Some(block_type), Some(len)) = (read_u32(head, 0, be), read_u32(head, 4, be)) else {
            return Step::End;
        };
        let known = is_known_block_type(block_type);
        let broken = |what: String| {
            let kind = if known {
                DamageKind::CorruptBlock
            } else if frames_so_far > 0 {
                DamageKind::GarbageAfterRecords
            } else {
                DamageKind::CorruptBlock
            };
            Step::Damaged(kind, what)
        };
        let len = len as usize;
        if len < 12 || !len.is_multiple_of(4) || len > MAX_RECORD_LEN {
            return broken(format!(
                "block of type 0x{block_type:08x} has an impossible length {len}"
            ));
        }
        match stream.request(len) {
            Fill::Ready => {}
            Fill::Eof => {
                let left = stream.available().len();
                if !known {
                    return broken(format!(
                        "bytes that are not a block (type 0x{block_type:08x}, length {len}) at the end of the file"
                    ));
                }
                return Step::Damaged(
                    DamageKind::TruncatedRecord,
                    format!("file ends inside a block: {left} of its {len} bytes are present"),
                );
            }
            Fill::Failed(e) => return Step::ReadFailed(e),
        }
        let Some(block) = stream.available().get(..len) else {
            return Step::End;
        };
        if read_u32(block, len - 4, be) != Some(len as u32) {
            return broken(format!(
                "block of type 0x{block_type:08x} and length {len} has a different trailing length"
            ));
        }
        match block_type {
            SHB => {
                self.big_endian = be;
                self.interfaces.clear();
                Step::Block {
                    size: len,
                    skipped: false,
                }
            }
            IDB => match Interface::parse(block, be) {
                Some(iface) => {
                    self.interfaces.push(iface);
                    Step::Block {
                        size: len,
                        skipped: false,
                    }
                }
                None => Step::Damaged(
                    DamageKind::CorruptBlock,
                    format!("interface description block too short ({len} bytes)"),
                ),
            },
            EPB | OPB => self.packet_block(block, block_type, be),
            SPB => self.simple_packet_block(block, be),
            _ => Step::Block {
                size: len,
                skipped: true,
            },
        }
    }

    /// Enhanced Packet Block (section 4.3) or obsolete Packet Block (appendix A): the same
    /// layout except that the obsolete one has a 16-bit interface id and a drop count.
    #[inline]
    fn packet_block(&mut self, block: &[u8], block_type: u32, be: bool) -> Step {
        let size = block.len();
        let (Some(id_field), Some(high), Some(low), Some(caplen), Some(orig_len)) = (
            read_u32(block, 8, be),
            read_u32(block, 12, be),
            read_u32(block, 16, be),
            read_u32(block, 20, be),
            read_u32(block, 24, be),
        ) else {
            return Step::Damaged(
                DamageKind::CorruptBlock,
                format!("packet block too short ({size} bytes)"),
            );
        };
        let if_id = if block_type == OPB {
            if be {
                id_field >> 16
            } else {
                id_field & 0xffff
            }
        } else {
            id_field
        };
        // Data starts after the 28-byte fixed part and must leave room for the trailer.
        if (caplen as usize).saturating_add(28 + 4) > size {
            return Step::Damaged(
                DamageKind::CorruptBlock,
                format!(
                    "packet block claims {caplen} captured bytes but is only {size} bytes long"
                ),
            );
        }
        let Some(iface) = self.interfaces.get(if_id as usize) else {
            return Step::Damaged(
                DamageKind::CorruptBlock,
                format!(
                    "packet on interface {if_id}, but the section describes {} interface(s)",
                    self.interfaces.len()
                ),
            );
        };
        let ts_ns = iface.ts_ns(high, low);
        self.last_ts_ns = ts_ns;
        Step::Packet(Record {
            size,
            data_start: 28,
            data_len: caplen as usize,
            ts_ns,
            linktype: iface.linktype,
            orig_len,
            number: 0,
        })
    }

    /// Simple Packet Block (section 4.4): interface 0, no timestamp (the previous packet's
    /// is used), captured length = min(original length, snap length).
    fn simple_packet_block(&mut self, block: &[u8], be: bool) -> Step {
        let size = block.len();
        let Some(iface) = self.interfaces.first() else {
            return Step::Damaged(
                DamageKind::CorruptBlock,
                "simple packet block before any interface description".into(),
            );
        };
        let Some(orig_len) = read_u32(block, 8, be) else {
            return Step::Damaged(
                DamageKind::CorruptBlock,
                format!("simple packet block too short ({size} bytes)"),
            );
        };
        let mut caplen = orig_len as usize;
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        caplen = caplen.min(size.saturating_sub(16));
        Step::Packet(Record {
            size,
            data_start: 12,
            data_len: caplen,
            ts_ns: self.last_ts_ns,
            linktype: iface.linktype,
            orig_len,
            number: 0,
        })
    }
}

/// A tiny pcapng writer for tests: blocks in little- or big-endian order.
#[cfg(test)]
pub(crate) mod build {
    use super::*;

    pub struct NgBuilder {
        pub out: Vec<u8>,
        pub be: bool,
    }

    impl NgBuilder {
        pub fn new() -> NgBuilder {
            NgBuilder {
                out: Vec::new(),
                be: false,
            }
        }

        fn u32(&self, v: u32) -> [u8; 4] {
            if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        fn u16(&self, v: u16) -> [u8; 2] {
            if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        /// Any block: type, body (padded here), trailing length.
        pub fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
            let padded = body.len().next_multiple_of(4);
            let len = (12 + padded) as u32;
            let t = self.u32(block_type);
            let l = self.u32(len);
            self.out.extend_from_slice(&t);
            self.out.extend_from_slice(&l);
            self.out.extend_from_slice(body);
            self.out.resize(self.out.len() + padded - body.len(), 0);
            self.out.extend_from_slice(&l);
            self
        }

        pub fn section(&mut self, be: bool) -> &mut Self {
            self.be = be;
            let mut body = Vec::new();
            body.extend_from_slice(&self.u32(BYTE_ORDER_MAGIC));
            body.extend_from_slice(&self.u16(1));
            body.extend_from_slice(&self.u16(0));
            body.extend_from_slice(&[0xff; 8]); // section length unknown
            self.block(SHB, &body)
        }

        /// Interface with optional if_tsresol and if_tsoffset.
        pub fn interface(
            &mut self,
            linktype: u16,
            snaplen: u32,
            tsresol: Option<u8>,
            tsoffset: Option<i64>,
        ) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u16(linktype));
            body.extend_from_slice(&self.u16(0));
            body.extend_from_slice(&self.u32(snaplen));
            if let Some(r) = tsresol {
                body.extend_from_slice(&self.u16(IF_TSRESOL));
                body.extend_from_slice(&self.u16(1));
                body.extend_from_slice(&[r, 0, 0, 0]);
            }
            if let Some(o) = tsoffset {
                body.extend_from_slice(&self.u16(IF_TSOFFSET));
                body.extend_from_slice(&self.u16(8));
                let b = if self.be {
                    o.to_be_bytes()
                } else {
                    o.to_le_bytes()
                };
                body.extend_from_slice(&b);
            }
            body.extend_from_slice(&[0; 4]); // opt_endofopt
            self.block(IDB, &body)
        }

        /// Enhanced packet block with timestamp in the interface's units.
        pub fn epb(&mut self, if_id: u32, units: u64, data: &[u8], orig_len: u32) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u32(if_id));
            body.extend_from_slice(&self.u32((units >> 32) as u32));
            body.extend_from_slice(&self.u32(units as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(&self.u32(orig_len));
            body.extend_from_slice(data);
            body.resize(body.len().next_multiple_of(4), 0);
            // an epb_flags option, as dumpcap writes: must not disturb anything
            body.extend_from_slice(&self.u16(2));
            body.extend_from_slice(&self.u16(4));
            body.extend_from_slice(&self.u32(1));
            body.extend_from_slice(&[0; 4]);
            self.block(EPB, &body)
        }

        pub fn opb(&mut self, if_id: u16, units: u64, data: &[u8]) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u16(if_id));
            body.extend_from_slice(&self.u16(0));
            body.extend_from_slice(&self.u32((units >> 32) as u32));
            body.extend_from_slice(&self.u32(units as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(data);
            self.block(OPB, &body)
        }

        pub fn spb(&mut self, data: &[u8], orig_len: u32) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u32(orig_len));
            body.extend_from_slice(data);
            self.block(SPB, &body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_binary_resolutions() {
        assert_eq!(TsScale::from_tsresol(6).to_ns(1_500_000), 1_500_000_000);
        assert_eq!(TsScale::from_tsresol(9).to_ns(42), 42);
        assert_eq!(TsScale::from_tsresol(0).to_ns(3), 3_000_000_000);
        assert_eq!(TsScale::from_tsresol(12).to_ns(5_000), 5);
        // 2^-10 s units: 1024 units are one second.
        assert_eq!(TsScale::from_tsresol(0x80 | 10).to_ns(1024), 1_000_000_000);
        assert_eq!(TsScale::from_tsresol(0x80 | 30).to_ns(1 << 29), 500_000_000);
        // Absurd resolutions do not panic.
        assert_eq!(TsScale::from_tsresol(127).to_ns(u64::MAX), 0);
        assert_eq!(TsScale::from_tsresol(0xff).to_ns(u64::MAX), 0);
        assert!(TsScale::from_tsresol(0x80).to_ns(u64::MAX) > 0);
    }

    #[test]
    fn interface_options_in_both_byte_orders() {
        for be in [false, true] {
            let mut b = build::NgBuilder::new();
            b.be = be;
            b.interface(113, 1000, Some(9), Some(-2));
            let iface = Interface::parse(&b.out, be).unwrap();
            assert_eq!(iface.linktype, 113);
            assert_eq!(iface.snaplen, 1000);
            assert_eq!(iface.scale, TsScale::Mul(1));
            assert_eq!(iface.ts_ns(0, 5), 5 - 2_000_000_000);
        }
    }

    #[test]
    fn options_that_overrun_the_block_are_ignored() {
        let mut body = Vec::new();
        body.extend_from_slice(&9u16.to_le_bytes());
        body.extend_from_slice(&200u16.to_le_bytes());
        assert_eq!(Options::new(&body, false).count(), 0);
    }
}
