//! IPv4 and IPv6 fragment reassembly.
//!
//! Guarantees:
//! - Datagrams are keyed by (source, destination, identification, protocol) as RFC 791
//!   §2.3 and RFC 8200 §4.5 prescribe; fragments may arrive in any order.
//! - Overlapping fragments are resolved deterministically: bytes already received win,
//!   a later fragment only fills holes (so a retransmitted or overlapping fragment can
//!   never rewrite data that was already accepted).
//! - Memory is capped by `Limits::fragment_bytes` over all datagrams and by
//!   `Limits::fragment_age_ns` of capture time; the oldest datagrams are dropped first.
//!   Every datagram dropped or never completed is counted once.
//! - Only fragments touch this table; unfragmented packets never reach it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::{Limits, NetStats};
use crate::capture::FrameRef;

/// An IP datagram is at most 65535 bytes (IPv4 total length, IPv6 payload length).
const MAX_DATAGRAM: usize = 65_535;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub protocol: u8,
}

/// One fragment as the IP layer saw it.
pub(super) struct Fragment<'a> {
    /// Byte offset of `data` in the reassembled payload.
    pub offset: usize,
    /// More fragments follow (MF flag / M flag).
    pub more: bool,
    pub data: &'a [u8],
}

struct Datagram {
    /// Received bytes at their offset; holes are zero until filled.
    data: Vec<u8>,
    /// Received byte ranges, sorted and disjoint.
    received: Vec<(usize, usize)>,
    /// Payload length, known once the last fragment (no "more" flag) arrived.
    total: Option<usize>,
    first_ts: i64,
    serial: u64,
    /// The frames that carried the fragments, in arrival order (for export).
    frames: Vec<FrameRef>,
}

impl Datagram {
    fn is_complete(&self) -> bool {
        matches!((self.total, self.received.as_slice()), (Some(total), [(0, end)]) if *end == total)
    }

    /// Copies the parts of `fragment` that fall into holes and records them received.
    fn fill(&mut self, offset: usize, data: &[u8]) {
        let end = offset + data.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        let mut holes: Vec<(usize, usize)> = Vec::new();
        let mut position = offset;
        for &(start, stop) in &self.received {
            if stop <= position {
                continue;
            }
            if start >= end {
                break;
            }
            if start > position {
                holes.push((position, start));
            }
            position = position.max(stop);
        }
        if position < end {
            holes.push((position, end));
        }
        for (start, stop) in holes {
            if let (Some(target), Some(source)) = (
                self.data.get_mut(start..stop),
                data.get(start - offset..stop - offset),
            ) {
                target.copy_from_slice(source);
            }
        }
        self.received.push((offset, end));
        self.received.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.received.len());
        for &(start, stop) in &self.received {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(stop),
                _ => merged.push((start, stop)),
            }
        }
        self.received = merged;
    }
}

#[derive(Default)]
pub(super) struct Reassembler {
    table: HashMap<Key, Datagram>,
    /// Datagrams in order of their first fragment, for age and memory eviction.
    /// Entries whose serial no longer matches the table are stale and skipped.
    order: VecDeque<(u64, Key)>,
    /// Bytes held over all datagrams.
    held: usize,
    serial: u64,
}

impl Reassembler {
    /// Adds a fragment; returns the whole payload when this fragment completed it.
    #[cfg(test)]
    pub fn add(
        &mut self,
        key: Key,
        fragment: Fragment<'_>,
        ts_ns: i64,
        limits: &Limits,
        stats: &mut NetStats,
    ) -> Option<Vec<u8>> {
        let frame = FrameRef {
            ts_ns,
            ..FrameRef::default()
        };
        self.add_at(key, fragment, frame, limits, stats)
            .map(|(data, _)| data)
    }

    /// Adds a fragment carried by `frame`; returns the whole payload, and the frames
    /// of every fragment that made it, when this fragment completed it.
    pub fn add_at(
        &mut self,
        key: Key,
        fragment: Fragment<'_>,
        frame: FrameRef,
        limits: &Limits,
        stats: &mut NetStats,
    ) -> Option<(Vec<u8>, Vec<FrameRef>)> {
        let ts_ns = frame.ts_ns;
        self.expire(ts_ns, limits, stats);
        let end = fragment.offset.checked_add(fragment.data.len())?;
        if end > MAX_DATAGRAM {
            stats.malformed_frames += 1;
            return None;
        }
        let serial = self.serial;
        let datagram = self.table.entry(key).or_insert_with(|| Datagram {
            data: Vec::new(),
            received: Vec::new(),
            total: None,
            first_ts: ts_ns,
            serial,
            frames: Vec::new(),
        });
        if datagram.serial == serial {
            self.serial += 1;
            self.order.push_back((serial, key));
        }
        // A fragment that contradicts the known end of the datagram is dropped rather
        // than allowed to change it (first claim wins, as for overlapping bytes).
        let received_end = datagram.received.last().map_or(0, |r| r.1);
        match (fragment.more, datagram.total) {
            (false, Some(total)) if total != end => return None,
            (false, None) if received_end > end => return None,
            (false, None) => datagram.total = Some(end),
            (true, Some(total)) if end > total => return None,
            _ => {}
        }
        let before = datagram.data.len();
        datagram.fill(fragment.offset, fragment.data);
        datagram.frames.push(frame);
        self.held = self.held + datagram.data.len() - before;
        if datagram.is_complete() {
            let datagram = self.table.remove(&key)?;
            self.held = self.held.saturating_sub(datagram.data.len());
            stats.reassembled_datagrams += 1;
            let mut data = datagram.data;
            data.truncate(datagram.total.unwrap_or(0));
            return Some((data, datagram.frames));
        }
        while self.held > limits.fragment_bytes {
            if !self.evict_oldest(stats) {
                break;
            }
        }
        None
    }

    /// Drops datagrams whose first fragment is older than the age cap.
    fn expire(&mut self, ts_ns: i64, limits: &Limits, stats: &mut NetStats) {
        while let Some(&(serial, key)) = self.order.front() {
            match self.table.get(&key) {
                Some(datagram) if datagram.serial == serial => {
                    if ts_ns.saturating_sub(datagram.first_ts) <= limits.fragment_age_ns {
                        break;
                    }
                    self.evict_oldest(stats);
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
    }

    /// Drops the oldest live datagram; false when there is none.
    fn evict_oldest(&mut self, stats: &mut NetStats) -> bool {
        while let Some((serial, key)) = self.order.pop_front() {
            if self.table.get(&key).is_some_and(|d| d.serial == serial)
                && let Some(datagram) = self.table.remove(&key)
            {
                self.held = self.held.saturating_sub(datagram.data.len());
                stats.incomplete_fragment_datagrams += 1;
                return true;
            }
        }
        false
    }

    /// End of input: whatever is still held was never completed.
    pub fn finish(&mut self, stats: &mut NetStats) {
        stats.incomplete_fragment_datagrams += self.table.len() as u64;
        self.table.clear();
        self.order.clear();
        self.held = 0;
    }

    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(id: u32) -> Key {
        Key {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id,
            protocol: 17,
        }
    }

    fn add(
        r: &mut Reassembler,
        id: u32,
        offset: usize,
        more: bool,
        data: &[u8],
    ) -> Option<Vec<u8>> {
        let mut stats = NetStats::default();
        r.add(
            key(id),
            Fragment { offset, more, data },
            0,
            &Limits::default(),
            &mut stats,
        )
    }

    #[test]
    fn in_order_and_out_of_order_fragments_complete_at_the_last_one_to_arrive() {
        let mut r = Reassembler::default();
        assert_eq!(add(&mut r, 1, 0, true, b"abcdefgh"), None);
        assert_eq!(
            add(&mut r, 1, 8, false, b"ij").as_deref(),
            Some(&b"abcdefghij"[..])
        );

        assert_eq!(add(&mut r, 2, 8, false, b"ij"), None);
        assert_eq!(
            add(&mut r, 2, 0, true, b"abcdefgh").as_deref(),
            Some(&b"abcdefghij"[..])
        );
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn overlapping_fragments_keep_the_bytes_received_first() {
        let mut r = Reassembler::default();
        assert_eq!(add(&mut r, 1, 8, true, b"IJKLMNOP"), None);
        // Overlaps the first one by 8 bytes: only its first 8 bytes fill a hole.
        assert_eq!(add(&mut r, 1, 0, true, b"abcdefghijklmnop"), None);
        let whole = add(&mut r, 1, 16, false, b"qr");
        assert_eq!(whole.as_deref(), Some(&b"abcdefghIJKLMNOPqr"[..]));
    }

    #[test]
    fn a_contradicting_last_fragment_is_ignored() {
        let mut r = Reassembler::default();
        assert_eq!(add(&mut r, 1, 8, false, b"ij"), None);
        assert_eq!(add(&mut r, 1, 8, false, b"ijkl"), None);
        assert_eq!(
            add(&mut r, 1, 0, true, b"abcdefgh").as_deref(),
            Some(&b"abcdefghij"[..])
        );
    }

    #[test]
    fn missing_fragment_is_counted_at_finish() {
        let mut r = Reassembler::default();
        let mut stats = NetStats::default();
        assert_eq!(add(&mut r, 1, 0, true, b"abcdefgh"), None);
        assert_eq!(add(&mut r, 1, 16, false, b"qr"), None);
        r.finish(&mut stats);
        assert_eq!(stats.incomplete_fragment_datagrams, 1);
    }

    #[test]
    fn old_datagrams_expire_and_memory_is_capped() {
        let limits = Limits {
            fragment_bytes: 20,
            fragment_age_ns: 1_000,
            ..Limits::default()
        };
        let mut stats = NetStats::default();
        let mut r = Reassembler::default();
        let part = |offset| Fragment {
            offset,
            more: true,
            data: b"abcdefgh",
        };
        assert_eq!(r.add(key(1), part(0), 0, &limits, &mut stats), None);
        // 2000 ns later the first datagram is too old.
        assert_eq!(r.add(key(2), part(0), 2_000, &limits, &mut stats), None);
        assert_eq!(stats.incomplete_fragment_datagrams, 1);
        // 8 + 16 bytes exceed the 20-byte cap: the oldest datagram (2) goes.
        assert_eq!(r.add(key(3), part(8), 2_001, &limits, &mut stats), None);
        assert_eq!(stats.incomplete_fragment_datagrams, 2);
        assert_eq!(r.held(), 16);
    }

    #[test]
    fn oversized_datagram_is_malformed() {
        let mut r = Reassembler::default();
        let mut stats = NetStats::default();
        let fragment = Fragment {
            offset: 65_530,
            more: false,
            data: b"abcdefgh",
        };
        assert_eq!(
            r.add(key(1), fragment, 0, &Limits::default(), &mut stats),
            None
        );
        assert_eq!(stats.malformed_frames, 1);
    }
}
