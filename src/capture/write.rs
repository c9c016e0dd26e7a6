//! Writing legacy pcap files, for tests, benchmarks and capture generators.
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

fn too_long() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB")
}
