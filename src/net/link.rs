//! Link layers: from the first byte of a frame (or of a tunnel payload that carries a
//! link layer) to the start of the IP packet.
//!
//! Guarantees: pure parsing, no state, no allocation; every read is bounds-checked, so
//! any input yields a [`Link`] value and never a panic. Loops over stacked headers
//! (VLAN tags, MPLS labels) are bounded.

/// Where the IP packet inside a frame starts, and how many tunnel layers led to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Link<'a> {
    Ipv4(&'a [u8], u32),
    Ipv6(&'a [u8], u32),
    /// A well-formed frame that carries something else (ARP, LLDP, LCP, ...).
    NotIp,
    /// Headers cut short or impossible.
    Malformed,
    /// A link type this decoder does not know.
    Unsupported,
}

impl<'a> Link<'a> {
    /// Counts one more tunnel layer on the way to the IP packet.
    fn tunnelled(self) -> Link<'a> {
        match self {
            Link::Ipv4(p, n) => Link::Ipv4(p, n.saturating_add(1)),
            Link::Ipv6(p, n) => Link::Ipv6(p, n.saturating_add(1)),
            other => other,
        }
    }
}

pub(super) const LINKTYPE_NULL: u32 = 0;
pub(super) const LINKTYPE_ETHERNET: u32 = 1;
pub(super) const LINKTYPE_PPP: u32 = 9;
pub(super) const LINKTYPE_RAW_BSD: u32 = 12;
pub(super) const LINKTYPE_RAW_OPENBSD: u32 = 14;
pub(super) const LINKTYPE_PPP_HDLC: u32 = 50;
pub(super) const LINKTYPE_RAW: u32 = 101;
pub(super) const LINKTYPE_LOOP: u32 = 108;
pub(super) const LINKTYPE_LINUX_SLL: u32 = 113;
pub(super) const LINKTYPE_IPV4: u32 = 228;
pub(super) const LINKTYPE_IPV6: u32 = 229;
pub(super) const LINKTYPE_LINUX_SLL2: u32 = 276;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_QINQ_OLD2: u16 = 0x9200;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;

/// More stacked VLAN tags or MPLS labels than this is not a real frame.
const MAX_STACKED: usize = 8;

pub(super) fn be16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

pub(super) fn be32(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The IP packet of a frame captured on a link of type `linktype`.
pub(super) fn frame(linktype: u32, data: &[u8]) -> Link<'_> {
    match linktype {
        LINKTYPE_ETHERNET => ethernet(data),
        LINKTYPE_LINUX_SLL => linux_sll(data),
        LINKTYPE_LINUX_SLL2 => linux_sll2(data),
        // 12 and 14 are what BSDs wrote for raw IP before 101 was assigned.
        LINKTYPE_RAW | LINKTYPE_RAW_BSD | LINKTYPE_RAW_OPENBSD => by_version(data),
        LINKTYPE_IPV4 => Link::Ipv4(data, 0),
        LINKTYPE_IPV6 => Link::Ipv6(data, 0),
        LINKTYPE_NULL | LINKTYPE_LOOP => bsd_loopback(data),
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => ppp(data),
        _ => Link::Unsupported,
    }
}

/// An IP packet recognised by its version nibble (raw IP links, MPLS, GTP-U).
pub(super) fn by_version(data: &[u8]) -> Link<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4) => Link::Ipv4(data, 0),
        Some(6) => Link::Ipv6(data, 0),
        Some(_) => Link::NotIp,
        None => Link::Malformed,
    }
}

/// Ethernet II (IEEE 802.3 frames with a length instead of a type carry LLC, not IP).
pub(super) fn ethernet(data: &[u8]) -> Link<'_> {
    let (Some(ethertype), Some(rest)) = (be16(data, 12), data.get(14..)) else {
        return Link::Malformed;
    };
    if ethertype < 0x0600 {
        return Link::NotIp;
    }
    by_ethertype(ethertype, rest)
}

/// Linux "cooked" capture v1: 16-byte header, protocol (an ethertype) in the last two.
fn linux_sll(data: &[u8]) -> Link<'_> {
    match (be16(data, 14), data.get(16..)) {
        (Some(protocol), Some(rest)) => by_ethertype(protocol, rest),
        _ => Link::Malformed,
    }
}

/// Linux "cooked" capture v2: 20-byte header, protocol first.
fn linux_sll2(data: &[u8]) -> Link<'_> {
    match (be16(data, 0), data.get(20..)) {
        (Some(protocol), Some(rest)) => by_ethertype(protocol, rest),
        _ => Link::Malformed,
    }
}

/// BSD NULL/LOOP: a 4-byte address family, in the capturing host's byte order for NULL
/// and in network order for LOOP; both orders are accepted since no IP family value
/// reads as another one when swapped.
fn bsd_loopback(data: &[u8]) -> Link<'_> {
    let family: Option<[u8; 4]> = data.get(..4).and_then(|b| b.try_into().ok());
    let (Some(family), Some(rest)) = (family, data.get(4..)) else {
        return Link::Malformed;
    };
    let little = u32::from_le_bytes(family);
    let big = u32::from_be_bytes(family);
    let is = |value: u32| little == value || big == value;
    if is(2) {
        Link::Ipv4(rest, 0)
    } else if is(24) || is(28) || is(30) || is(10) || is(23) {
        // AF_INET6 is 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on Darwin, 10 on Linux,
        // 23 on Windows (Npcap loopback).
        Link::Ipv6(rest, 0)
    } else {
        Link::NotIp
    }
}

/// The payload of an ethertype, following VLAN tags, PPPoE sessions and MPLS labels.
pub(super) fn by_ethertype(ethertype: u16, data: &[u8]) -> Link<'_> {
    let mut ethertype = ethertype;
    let mut data = data;
    // IEEE 802.1Q tags, also stacked (802.1ad QinQ): 2 bytes TCI, then the next type.
    for _ in 0..MAX_STACKED {
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
                let (Some(next), Some(rest)) = (be16(data, 2), data.get(4..)) else {
                    return Link::Malformed;
                };
                ethertype = next;
                data = rest;
            }
            _ => break,
        }
    }
    match ethertype {
        ETHERTYPE_IPV4 => Link::Ipv4(data, 0),
        ETHERTYPE_IPV6 => Link::Ipv6(data, 0),
        ETHERTYPE_PPPOE_SESSION => pppoe_session(data).tunnelled(),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => mpls(data).tunnelled(),
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
            Link::Malformed
        }
        _ => Link::NotIp,
    }
}

/// PPPoE session stage (RFC 2516 §4): 6-byte header whose length field bounds the PPP
/// frame, which keeps Ethernet padding out of the payload.
fn pppoe_session(data: &[u8]) -> Link<'_> {
    let (Some(&version_type), Some(length)) = (data.first(), be16(data, 4)) else {
        return Link::Malformed;
    };
    if version_type != 0x11 {
        return Link::Malformed;
    }
    let end = 6usize.saturating_add(usize::from(length)).min(data.len());
    match data.get(6..end) {
        Some(frame) => ppp(frame),
        None => Link::Malformed,
    }
}

/// A PPP frame (RFC 1661 §2), with or without the HDLC address/control bytes (RFC 1662
/// §3.1) and with or without protocol-field compression (RFC 1661 §6.5).
pub(super) fn ppp(data: &[u8]) -> Link<'_> {
    let data = match data {
        [0xff, 0x03, rest @ ..] => rest,
        _ => data,
    };
    let (protocol, rest) = match data {
        // An odd first byte is a compressed one-byte protocol field.
        [first, rest @ ..] if first & 1 == 1 => (u16::from(*first), rest),
        [high, low, rest @ ..] => (u16::from_be_bytes([*high, *low]), rest),
        _ => return Link::Malformed,
    };
    match protocol {
        0x0021 => Link::Ipv4(rest, 0),
        0x0057 => Link::Ipv6(rest, 0),
        _ => Link::NotIp,
    }
}

/// MPLS label stack (RFC 3032 §2.1) down to the bottom-of-stack label; the payload is
/// IP when its version nibble says so (pseudowires carrying Ethernet are not followed).
fn mpls(data: &[u8]) -> Link<'_> {
    let mut data = data;
    for _ in 0..MAX_STACKED {
        let (Some(label), Some(rest)) = (data.get(..4), data.get(4..)) else {
            return Link::Malformed;
        };
        data = rest;
        if label.get(2).is_some_and(|b| b & 1 == 1) {
            return by_version(data);
        }
    }
    Link::Malformed
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4: [u8; 4] = [0x45, 0, 0, 20];
    const IPV6: [u8; 4] = [0x60, 0, 0, 0];

    fn ethernet_frame(ethertype: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(ethertype);
        frame.extend_from_slice(rest);
        frame
    }

    #[test]
    fn ethernet_ii_carries_ipv4_and_ipv6() {
        let v4 = ethernet_frame(&[0x08, 0x00], &IPV4);
        assert_eq!(frame(LINKTYPE_ETHERNET, &v4), Link::Ipv4(&IPV4, 0));
        let v6 = ethernet_frame(&[0x86, 0xdd], &IPV6);
        assert_eq!(frame(LINKTYPE_ETHERNET, &v6), Link::Ipv6(&IPV6, 0));
    }

    #[test]
    fn arp_and_llc_are_not_ip_and_short_frames_are_malformed() {
        let arp = ethernet_frame(&[0x08, 0x06], &[0; 28]);
        assert_eq!(frame(LINKTYPE_ETHERNET, &arp), Link::NotIp);
        let llc = ethernet_frame(&[0x00, 0x26], &[0x42; 38]);
        assert_eq!(frame(LINKTYPE_ETHERNET, &llc), Link::NotIp);
        assert_eq!(frame(LINKTYPE_ETHERNET, &[0; 13]), Link::Malformed);
    }

    #[test]
    fn vlan_and_qinq_tags_are_skipped() {
        let vlan = ethernet_frame(&[0x81, 0x00, 0x00, 0x8e, 0x08, 0x00], &IPV4);
        assert_eq!(frame(LINKTYPE_ETHERNET, &vlan), Link::Ipv4(&IPV4, 0));
        let qinq = ethernet_frame(
            &[0x88, 0xa8, 0x00, 0x9b, 0x81, 0x00, 0x00, 0x01, 0x86, 0xdd],
            &IPV6,
        );
        assert_eq!(frame(LINKTYPE_ETHERNET, &qinq), Link::Ipv6(&IPV6, 0));
        let cut = ethernet_frame(&[0x81, 0x00, 0x00], &[]);
        assert_eq!(frame(LINKTYPE_ETHERNET, &cut), Link::Malformed);
    }

    #[test]
    fn pppoe_session_is_a_tunnel_bounded_by_its_length() {
        // ver/type 0x11, code 0, session 1, length 6 (2 bytes PPP protocol + 4 of IP),
        // then 3 bytes of Ethernet padding that must not reach the IP layer.
        let mut body = vec![0x11, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x21];
        body.extend_from_slice(&IPV4);
        body.extend_from_slice(&[0, 0, 0]);
        let pppoe = ethernet_frame(&[0x88, 0x64], &body);
        assert_eq!(frame(LINKTYPE_ETHERNET, &pppoe), Link::Ipv4(&IPV4, 1));
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&IPV4);
        assert_eq!(frame(LINKTYPE_LINUX_SLL, &sll), Link::Ipv4(&IPV4, 0));
        let mut sll2 = vec![0x86, 0xdd];
        sll2.extend_from_slice(&[0; 18]);
        sll2.extend_from_slice(&IPV6);
        assert_eq!(frame(LINKTYPE_LINUX_SLL2, &sll2), Link::Ipv6(&IPV6, 0));
        assert_eq!(frame(LINKTYPE_LINUX_SLL2, &[0x86, 0xdd]), Link::Malformed);
    }

    #[test]
    fn raw_ip_link_types() {
        for linktype in [LINKTYPE_RAW, LINKTYPE_RAW_BSD, LINKTYPE_RAW_OPENBSD] {
            assert_eq!(frame(linktype, &IPV4), Link::Ipv4(&IPV4, 0));
            assert_eq!(frame(linktype, &IPV6), Link::Ipv6(&IPV6, 0));
        }
        assert_eq!(frame(LINKTYPE_IPV4, &IPV4), Link::Ipv4(&IPV4, 0));
        assert_eq!(frame(LINKTYPE_IPV6, &IPV6), Link::Ipv6(&IPV6, 0));
        assert_eq!(frame(LINKTYPE_RAW, &[]), Link::Malformed);
        assert_eq!(frame(147, &IPV4), Link::Unsupported);
    }

    #[test]
    fn bsd_loopback_family_in_either_byte_order() {
        for header in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let mut null = header.to_vec();
            null.extend_from_slice(&IPV4);
            assert_eq!(frame(LINKTYPE_NULL, &null), Link::Ipv4(&IPV4, 0));
            assert_eq!(frame(LINKTYPE_LOOP, &null), Link::Ipv4(&IPV4, 0));
        }
        for family in [24u32, 28, 30] {
            let mut null = family.to_le_bytes().to_vec();
            null.extend_from_slice(&IPV6);
            assert_eq!(frame(LINKTYPE_NULL, &null), Link::Ipv6(&IPV6, 0));
        }
        assert_eq!(frame(LINKTYPE_NULL, &[7, 0, 0, 0]), Link::NotIp);
    }

    #[test]
    fn ppp_with_and_without_address_control_and_compression() {
        let mut hdlc = vec![0xff, 0x03, 0x00, 0x21];
        hdlc.extend_from_slice(&IPV4);
        assert_eq!(frame(LINKTYPE_PPP, &hdlc), Link::Ipv4(&IPV4, 0));
        let mut compressed = vec![0x57];
        compressed.extend_from_slice(&IPV6);
        assert_eq!(frame(LINKTYPE_PPP, &compressed), Link::Ipv6(&IPV6, 0));
        assert_eq!(frame(LINKTYPE_PPP, &[0xc0, 0x21, 1, 1]), Link::NotIp);
    }

    #[test]
    fn mpls_label_stack_to_ip() {
        let body = [
            0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40, 0x45, 0, 0, 20,
        ];
        let labelled = ethernet_frame(&[0x88, 0x47], &body);
        assert_eq!(
            frame(LINKTYPE_ETHERNET, &labelled),
            Link::Ipv4(&[0x45, 0, 0, 20], 1)
        );
    }
}
