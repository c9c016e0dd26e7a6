//! Tunnel headers: GRE (with transparent Ethernet bridging, ERSPAN and PPTP's PPP),
//! GTP-U and VXLAN. IP-in-IP needs no header of its own and PPPoE is a link layer
//! (see `link`).
//!
//! Guarantees: pure parsing with bounds-checked reads; the result says where the inner
//! packet starts. Recursion is the caller's (`Decoder` caps the depth).

use super::link::{self, Link, be16};

const GTP_U_PORT: u16 = 2152;
const VXLAN_PORT: u16 = 4789;

/// Ports on which a UDP payload is tried as a tunnel before it is delivered.
pub(super) fn is_tunnel_port(src: u16, dst: u16) -> bool {
    [src, dst]
        .iter()
        .any(|&port| port == GTP_U_PORT || port == VXLAN_PORT)
}

/// The inner packet of a UDP tunnel, or None when the payload is not one (it is then
/// delivered as an ordinary datagram).
pub(super) fn over_udp(src: u16, dst: u16, payload: &[u8]) -> Option<Link<'_>> {
    if src == GTP_U_PORT || dst == GTP_U_PORT {
        return gtp_u(payload);
    }
    if src == VXLAN_PORT || dst == VXLAN_PORT {
        return vxlan(payload);
    }
    None
}

/// GTP-U G-PDU (3GPP TS 29.281 §5.1, §5.2): version 1, protocol type GTP, message type
/// 255; the optional fields and extension headers are skipped; the length field bounds
/// the user packet. Other GTP-U messages (echo, error indication) are not tunnels.
fn gtp_u(data: &[u8]) -> Option<Link<'_>> {
    let (&flags, &message_type, length) = (data.first()?, data.get(1)?, be16(data, 2)?);
    if flags >> 5 != 1 || flags & 0x10 == 0 || message_type != 255 {
        return None;
    }
    let end = 8usize.checked_add(usize::from(length))?.min(data.len());
    let mut offset = 8;
    if flags & 0x07 != 0 {
        // Sequence number (2), N-PDU number (1), next extension header type (1).
        let mut next_extension = *data.get(11)?;
        offset = 12;
        // Each extension header: length in 4-octet units, content, next type last.
        for _ in 0..16 {
            if next_extension == 0 {
                break;
            }
            let units = usize::from(*data.get(offset)?);
            if units == 0 {
                return Some(Link::Malformed);
            }
            let size = units * 4;
            next_extension = *data.get(offset + size - 1)?;
            offset += size;
        }
    }
    Some(match data.get(offset..end) {
        Some(inner) => link::by_version(inner),
        None => Link::Malformed,
    })
}

/// VXLAN (RFC 7348 §5): 8-byte header with the I flag, then an Ethernet frame.
fn vxlan(data: &[u8]) -> Option<Link<'_>> {
    if *data.first()? != 0x08 {
        return None;
    }
    Some(link::ethernet(data.get(8..)?))
}

/// GRE: RFC 2784/2890 (version 0: optional checksum, key and sequence number) and
/// RFC 2637 §4.1 (version 1, PPTP: key always present, optional sequence and
/// acknowledgment numbers). Source routing (RFC 1701) is not followed.
pub(super) fn gre(data: &[u8]) -> Link<'_> {
    let (Some(flags), Some(protocol)) = (be16(data, 0), be16(data, 2)) else {
        return Link::Malformed;
    };
    let checksum = flags & 0x8000 != 0;
    let routing = flags & 0x4000 != 0;
    let key = flags & 0x2000 != 0;
    let sequence = flags & 0x1000 != 0;
    let mut offset = 4usize;
    match flags & 0x0007 {
        0 => {
            if routing {
                return Link::Unsupported;
            }
            if checksum {
                offset += 4;
            }
            if key {
                offset += 4;
            }
            if sequence {
                offset += 4;
            }
        }
        1 => {
            let acknowledgment = flags & 0x0080 != 0;
            offset += 4;
            if sequence {
                offset += 4;
            }
            if acknowledgment {
                offset += 4;
            }
        }
        _ => return Link::Malformed,
    }
    let Some(inner) = data.get(offset..) else {
        return Link::Malformed;
    };
    match protocol {
        // Transparent Ethernet bridging.
        0x6558 => link::ethernet(inner),
        // ERSPAN type II (8-byte header) or, without a sequence number, type I (none).
        0x88be if sequence => inner.get(8..).map_or(Link::Malformed, link::ethernet),
        0x88be => link::ethernet(inner),
        // ERSPAN type III: 12-byte header, plus 8 when the O flag (last bit) is set.
        0x22eb => {
            let optional = inner.get(11).is_some_and(|b| b & 1 == 1);
            let skip = if optional { 20 } else { 12 };
            inner.get(skip..).map_or(Link::Malformed, link::ethernet)
        }
        // PPP (PPTP).
        0x880b => link::ppp(inner),
        ethertype => link::by_ethertype(ethertype, inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4: [u8; 4] = [0x45, 0, 0, 20];

    #[test]
    fn gre_with_key_and_sequence_carries_ip() {
        let mut packet = vec![0x30, 0x00, 0x08, 0x00, 0, 0, 0, 1, 0, 0, 0, 2];
        packet.extend_from_slice(&IPV4);
        assert_eq!(gre(&packet), Link::Ipv4(&IPV4, 0));
    }

    #[test]
    fn gre_transparent_ethernet_bridging() {
        let mut packet = vec![0x00, 0x00, 0x65, 0x58];
        packet.extend_from_slice(&[0; 12]);
        packet.extend_from_slice(&[0x08, 0x00]);
        packet.extend_from_slice(&IPV4);
        assert_eq!(gre(&packet), Link::Ipv4(&IPV4, 0));
    }

    #[test]
    fn pptp_enhanced_gre_carries_ppp() {
        // Version 1, key present, sequence present, no ack; PPP with address/control.
        let mut packet = vec![0x30, 0x01, 0x88, 0x0b, 0, 8, 0, 1, 0, 0, 0, 9];
        packet.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
        packet.extend_from_slice(&IPV4);
        assert_eq!(gre(&packet), Link::Ipv4(&IPV4, 0));
    }

    #[test]
    fn gre_cut_short_is_malformed() {
        assert_eq!(gre(&[0x30, 0x00, 0x08]), Link::Malformed);
        assert_eq!(gre(&[0x30, 0x00, 0x08, 0x00, 0, 0]), Link::Malformed);
    }

    #[test]
    fn gtp_u_g_pdu_with_and_without_optional_fields() {
        let mut plain = vec![0x30, 0xff, 0x00, 0x04, 0, 0, 0, 1];
        plain.extend_from_slice(&IPV4);
        assert_eq!(over_udp(2152, 2152, &plain), Some(Link::Ipv4(&IPV4, 0)));
        // S flag set, one extension header (PDU session container, 1 unit), then IP.
        let mut extended = vec![0x36, 0xff, 0x00, 0x0c, 0, 0, 0, 1, 0, 7, 0, 0x85];
        extended.extend_from_slice(&[1, 0x10, 0x09, 0x00]);
        extended.extend_from_slice(&IPV4);
        assert_eq!(over_udp(1000, 2152, &extended), Some(Link::Ipv4(&IPV4, 0)));
        // Echo request: not a tunnel, stays a datagram.
        assert_eq!(
            over_udp(2152, 2152, &[0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]),
            None
        );
    }

    #[test]
    fn vxlan_carries_ethernet() {
        let mut packet = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        packet.extend_from_slice(&[0; 12]);
        packet.extend_from_slice(&[0x08, 0x00]);
        packet.extend_from_slice(&IPV4);
        assert_eq!(over_udp(50000, 4789, &packet), Some(Link::Ipv4(&IPV4, 0)));
        assert_eq!(over_udp(50000, 4789, b"not vxlan"), None);
    }
}
