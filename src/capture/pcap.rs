//! Legacy pcap: a 24-byte file header, then records of a 16-byte header and the
//! captured bytes (draft-ietf-opsawg-pcap, sections 4 and 5).
//!
//! Guarantees: a record is only returned when all of its bytes are in the window; a
//! record header whose length cannot be right stops the file with a [`Step::Damaged`].

use super::stream::{ByteStream, Fill};
use super::{DamageKind, Record, Step, read_u32};

/// Microsecond timestamps, file written in the reader's byte order.
pub(super) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Nanosecond timestamps.
pub(super) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Alexey Kuznetzov's "modified" pcap: 8 more bytes per record header (ifindex,
/// protocol, pkt_type, pad), otherwise micro-second pcap.
pub(super) const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

pub(super) const FILE_HEADER_LEN: usize = 24;

/// Largest packet Wireshark accepts for most link types (WTAP_MAX_PACKET_SIZE_STANDARD);
/// a file whose snap length is larger raises the limit up to [`super::MAX_RECORD_LEN`].
const STANDARD_MAX_PACKET: u32 = 262_144;

/// What the file header says about the records.
#[derive(Debug, Clone, Copy)]
pub(super) struct LegacyFile {
    pub big_endian: bool,
    pub nanos: bool,
    /// 16, or 24 for the modified format.
    pub record_header_len: usize,
    pub linktype: u32,
    /// Largest captured length accepted as a record.
    pub max_caplen: u32,
}

impl LegacyFile {
    /// Reads the file header from its first 24 bytes; `None` when the magic is not pcap.
    pub fn parse_header(head: &[u8]) -> Option<LegacyFile> {
        let magic = read_u32(head, 0, false)?;
        let (native, big_endian) = if [MAGIC_MICROS, MAGIC_NANOS, MAGIC_MODIFIED].contains(&magic) {
            (magic, false)
        } else {
            (magic.swap_bytes(), true)
        };
        let (nanos, record_header_len) = match native {
            MAGIC_MICROS => (false, 16),
            MAGIC_NANOS => (true, 16),
            MAGIC_MODIFIED => (false, 24),
            _ => return None,
        };
        let snaplen = read_u32(head, 16, big_endian)?;
        let network = read_u32(head, 20, big_endian)?;
        Some(LegacyFile {
            big_endian,
            nanos,
            record_header_len,
            // The upper 16 bits carry FCS information, not the link type (draft-ietf-opsawg-pcap
            // section 4, "LinkType and additional information").
            linktype: network & 0xffff,
            max_caplen: snaplen
                .max(STANDARD_MAX_PACKET)
                .min(super::MAX_RECORD_LEN as u32),
        })
    }

    pub fn is_magic(head: &[u8]) -> bool {
        read_u32(head, 0, false).is_some_and(|m| {
            [MAGIC_MICROS, MAGIC_NANOS, MAGIC_MODIFIED]
                .iter()
                .any(|&k| m == k || m == k.swap_bytes())
        })
    }

    /// Parses the record at the start of the window.
    #[inline]
    pub fn next_record(&self, stream: &mut ByteStream, frames_so_far: u64) -> Step {
        let hlen = self.record_header_len;
        match stream.request(hlen) {
            Fill::Ready => {}
            Fill::Eof => {
                let left = stream.available().len();
                if left == 0 {
                    return Step::End;
                }
                return Step::Damaged(
                    DamageKind::TruncatedRecord,
                    format!("file ends inside a record header ({left} of {hlen} bytes)"),
                );
            }
            Fill::Failed(e) => return Step::ReadFailed(e),
        }
        let head = stream.available();
        let be = self.big_endian;
        let (Some(ts_sec), Some(ts_frac), Some(caplen), Some(orig_len)) = (
            read_u32(head, 0, be),
            read_u32(head, 4, be),
            read_u32(head, 8, be),
            read_u32(head, 12, be),
        ) else {
            return Step::End;
        };
        if caplen > self.max_caplen {
            // Legacy pcap has no block magic: an impossible length is the only sign of
            // bytes that are not a record (typically something appended to the file).
            let kind = if frames_so_far > 0 {
                DamageKind::GarbageAfterRecords
            } else {
                DamageKind::CorruptBlock
            };
            let mut detail = format!(
                "record header claims a {caplen}-byte packet, more than the {} bytes a packet can have here",
                self.max_caplen
            );
            let swapped = caplen.swap_bytes();
            if swapped <= self.max_caplen {
                // Seen in the wild: a file header in one byte order, records in the other.
                detail.push_str(&format!(
                    " (in the other byte order it reads {swapped} bytes: the records may not be in the file header's byte order)"
                ));
            }
            return Step::Damaged(kind, detail);
        }
        let size = hlen + caplen as usize;
        match stream.request(size) {
            Fill::Ready => {}
            Fill::Eof => {
                let left = stream.available().len();
                return Step::Damaged(
                    DamageKind::TruncatedRecord,
                    format!("file ends inside a record: {left} of its {size} bytes are present"),
                );
            }
            Fill::Failed(e) => return Step::ReadFailed(e),
        }
        let frac_ns = if self.nanos {
            i64::from(ts_frac)
        } else {
            i64::from(ts_frac) * 1000
        };
        // Seconds are unsigned in the file format (draft-ietf-opsawg-pcap section 5).
        let ts_ns = i64::from(ts_sec) * 1_000_000_000 + frac_ns;
        Step::Packet(Record {
            size,
            data_start: hlen,
            data_len: caplen as usize,
            ts_ns,
            linktype: self.linktype,
            orig_len,
            number: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_byte_order_and_resolution_come_from_the_magic() {
        let mut h = [0u8; 24];
        h[..4].copy_from_slice(&MAGIC_NANOS.to_be_bytes());
        h[16..20].copy_from_slice(&65535u32.to_be_bytes());
        h[20..24].copy_from_slice(&0x1000_0001u32.to_be_bytes());
        let f = LegacyFile::parse_header(&h).unwrap();
        assert!(f.big_endian && f.nanos);
        assert_eq!(f.record_header_len, 16);
        assert_eq!(f.linktype, 1, "FCS bits are not part of the link type");
        assert_eq!(f.max_caplen, STANDARD_MAX_PACKET);
        h[..4].copy_from_slice(&MAGIC_MODIFIED.to_le_bytes());
        let f = LegacyFile::parse_header(&h).unwrap();
        assert_eq!(f.record_header_len, 24);
        assert!(!f.big_endian && !f.nanos);
        h[..4].copy_from_slice(b"\x0a\x0d\x0d\x0a");
        assert!(LegacyFile::parse_header(&h).is_none());
    }
}
