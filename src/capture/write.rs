//! Writing legacy pcap files, for tests, benchmarks, capture generators and export;
//! and pcapng ([`PcapngWriter`]) for an export whose frames differ in link type.
//!
//! Guarantees: the output is a standard pcap file (draft-ietf-opsawg-pcap) that
//! [`super::Input`], tshark and tcpdump read; a packet longer than a record can hold
//! is an error, never a silently wrong file.
//!
//! ```
//! use sipxfer::capture::write::PcapWriter;
//! let mut w = PcapWriter::new(Vec::new(), 101).unwrap(); // LINKTYPE_RAW: bare IP
//! w.write_packet(1_700_000_000_123_456_789, b"\x45...").unwrap();
//! let file: Vec<u8> = w.into_inner();
//! assert_eq!(file.len(), 24 + 16 + 4);
//! ```

use std::io::{self, Write};

/// Writes a pcap file header, then one record per packet.
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
    big_endian: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Nanosecond pcap in little-endian byte order, snap length 262144.
    pub fn new(out: W, linktype: u32) -> io::Result<PcapWriter<W>> {
        Self::with_format(out, linktype, true, false)
    }

    /// Microsecond or nanosecond timestamps, either byte order (for testing readers).
    pub fn with_format(
        out: W,
        linktype: u32,
        nanos: bool,
        big_endian: bool,
    ) -> io::Result<PcapWriter<W>> {
        let mut w = PcapWriter {
            out,
            nanos,
            big_endian,
        };
        let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&w.u32(magic));
        header.extend_from_slice(&w.u16(2));
        header.extend_from_slice(&w.u16(4));
        header.extend_from_slice(&[0; 8]); // thiszone, sigfigs
        header.extend_from_slice(&w.u32(262_144));
        header.extend_from_slice(&w.u32(linktype));
        w.out.write_all(&header)?;
        Ok(w)
    }

    /// A whole packet captured at `ts_ns` (nanoseconds since the epoch).
    pub fn write_packet(&mut self, ts_ns: i64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).map_err(|_| too_long())?;
        self.write_record(ts_ns, data, len)
    }

    /// A record whose captured bytes may be shorter than the packet was (`orig_len`).
    pub fn write_record(&mut self, ts_ns: i64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let caplen = u32::try_from(data.len()).map_err(|_| too_long())?;
        // Seconds are unsigned 32-bit in the format; times before 1970 wrap.
        let secs = ts_ns.div_euclid(1_000_000_000) as u32;
        let ns = ts_ns.rem_euclid(1_000_000_000) as u32;
        let frac = if self.nanos { ns } else { ns / 1000 };
        let mut header = [0u8; 16];
        for (slot, v) in header
            .chunks_exact_mut(4)
            .zip([secs, frac, caplen, orig_len])
        {
            slot.copy_from_slice(&self.u32(v));
        }
        self.out.write_all(&header)?;
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
}

/// Writes a pcapng file (one section): an interface per link type, as they come, with
/// nanosecond timestamps, and an optional comment per packet.
///
/// Guarantees: a standard pcapng file (draft-ietf-opsawg-pcapng) that
/// [`super::Input`], tshark and Wireshark read; little-endian.
pub struct PcapngWriter<W: Write> {
    out: W,
    /// The link type of each interface written, by interface id.
    interfaces: Vec<u32>,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header.
    pub fn new(mut out: W) -> io::Result<PcapngWriter<W>> {
        let mut block = Vec::with_capacity(28);
        block.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
        block.extend_from_slice(&28u32.to_le_bytes());
        block.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        block.extend_from_slice(&1u16.to_le_bytes());
        block.extend_from_slice(&0u16.to_le_bytes());
        block.extend_from_slice(&(-1i64).to_le_bytes());
        block.extend_from_slice(&28u32.to_le_bytes());
        out.write_all(&block)?;
        Ok(PcapngWriter {
            out,
            interfaces: Vec::new(),
        })
    }

    /// The interface of a link type, written the first time it is needed.
    fn interface(&mut self, linktype: u32) -> io::Result<u32> {
        if let Some(i) = self.interfaces.iter().position(|l| *l == linktype) {
            return u32::try_from(i).map_err(|_| too_long());
        }
        let link = u16::try_from(linktype)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "link type over 65535"))?;
        let mut block = Vec::with_capacity(32);
        block.extend_from_slice(&1u32.to_le_bytes());
        block.extend_from_slice(&32u32.to_le_bytes());
        block.extend_from_slice(&link.to_le_bytes());
        block.extend_from_slice(&0u16.to_le_bytes());
        block.extend_from_slice(&262_144u32.to_le_bytes());
        // if_tsresol = 9: nanoseconds.
        block.extend_from_slice(&9u16.to_le_bytes());
        block.extend_from_slice(&1u16.to_le_bytes());
        block.extend_from_slice(&[9, 0, 0, 0]);
        block.extend_from_slice(&[0, 0, 0, 0]);
        block.extend_from_slice(&32u32.to_le_bytes());
        self.out.write_all(&block)?;
        self.interfaces.push(linktype);
        u32::try_from(self.interfaces.len() - 1).map_err(|_| too_long())
    }

    /// A packet of link type `linktype` captured at `ts_ns`, `orig_len` bytes long on
    /// the wire, with an optional comment.
    pub fn write_packet(
        &mut self,
        linktype: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let interface = self.interface(linktype)?;
        let caplen = u32::try_from(data.len()).map_err(|_| too_long())?;
        let pad = |n: usize| (4 - n % 4) % 4;
        let comment_len = comment.map_or(0, |c| 4 + c.len() + pad(c.len()));
        let options = if comment.is_some() {
            comment_len + 4
        } else {
            0
        };
        let total = 32 + data.len() + pad(data.len()) + options;
        let total = u32::try_from(total).map_err(|_| too_long())?;
        let ts = ts_ns.max(0) as u64;
        let mut block = Vec::with_capacity(total as usize);
        block.extend_from_slice(&6u32.to_le_bytes());
        block.extend_from_slice(&total.to_le_bytes());
        block.extend_from_slice(&interface.to_le_bytes());
        block.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        block.extend_from_slice(&(ts as u32).to_le_bytes());
        block.extend_from_slice(&caplen.to_le_bytes());
        block.extend_from_slice(&orig_len.to_le_bytes());
        block.extend_from_slice(data);
        block.resize(block.len() + pad(data.len()), 0);
        if let Some(c) = comment {
            let len = u16::try_from(c.len()).map_err(|_| too_long())?;
            block.extend_from_slice(&1u16.to_le_bytes());
            block.extend_from_slice(&len.to_le_bytes());
            block.extend_from_slice(c.as_bytes());
            block.resize(block.len() + pad(c.len()), 0);
            block.extend_from_slice(&[0, 0, 0, 0]);
        }
        block.extend_from_slice(&total.to_le_bytes());
        self.out.write_all(&block)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn too_long() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB")
}
