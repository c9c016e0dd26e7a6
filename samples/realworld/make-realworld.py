#!/usr/bin/env python3
"""Crafted captures of what real networks do to SIP transfers (issue 10).

Each capture is written packet by packet by this script (no network traffic at all):
Ethernet (zero MACs, as Linux writes `lo`) / IPv4 / UDP or TCP, every address in
127.0.0.0/8. Phones: Alice 127.0.0.1:5060, Bob 127.0.0.2:5062, Carol 127.0.0.3:5064,
the proxy 127.0.0.9:5060 (a PBX/CUCM for the Cisco capture). Deterministic: the same
bytes on every run. Usage: `samples/realworld/make-realworld.py` (writes next to
itself); `--out DIR` writes elsewhere. See README.md beside this script.
"""
import gzip
import os
import struct
import sys

ALICE = ("127.0.0.1", 5060)
BOB = ("127.0.0.2", 5062)
CAROL = ("127.0.0.3", 5064)
PROXY = ("127.0.0.9", 5060)

SDP = (
    "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def sdp(addr, port=40000):
    return SDP.format(ip=addr[0], port=port)


# --- SIP text --------------------------------------------------------------------


def message(start, headers, body="", content_type=None, eol="\r\n"):
    """A SIP message: start line, headers (list of 'Name: value'), Content-Type and
    Content-Length, blank line, body."""
    lines = [start] + list(headers)
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return (eol.join(lines) + eol + eol + body).encode()


def via(addr, branch):
    return f"Via: SIP/2.0/UDP {addr[0]}:{addr[1]};branch=z9hG4bK{branch}"


def uri(user, addr):
    return f"sip:{user}@{addr[0]}:{addr[1]}"


class Dialog:
    """One side's view of a dialog, enough to write its requests and responses."""

    def __init__(self, call_id, caller, caller_addr, callee, callee_addr, ftag, ttag):
        self.call_id = call_id
        self.caller, self.caller_addr = caller, caller_addr
        self.callee, self.callee_addr = callee, callee_addr
        self.ftag, self.ttag = ftag, ttag

    def headers(self, from_caller, cseq, method, vias, to_tag=True):
        if from_caller:
            frm = f"From: {self.caller.title()} <{uri(self.caller, self.caller_addr)}>;tag={self.ftag}"
            to = f"To: {self.callee.title()} <{uri(self.callee, self.callee_addr)}>"
            if to_tag and self.ttag:
                to += f";tag={self.ttag}"
        else:
            frm = f"From: {self.callee.title()} <{uri(self.callee, self.callee_addr)}>;tag={self.ttag}"
            to = f"To: {self.caller.title()} <{uri(self.caller, self.caller_addr)}>;tag={self.ftag}"
        return vias + [
            frm,
            to,
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}",
        ]


def request(d, from_caller, method, cseq, vias, extra=(), body="", ctype=None, to_tag=True,
            ruri=None):
    target = ruri or (
        uri(d.callee, d.callee_addr) if from_caller else uri(d.caller, d.caller_addr)
    )
    head = d.headers(from_caller, cseq, method, vias, to_tag)
    head += ["Max-Forwards: 70"] + list(extra)
    return message(f"{method} {target} SIP/2.0", head, body, ctype)


def response(d, req_from_caller, status, reason, cseq, method, vias, extra=(), body="",
             ctype=None, to_tag=True):
    """A response to a request sent by the caller (req_from_caller) or the callee."""
    if req_from_caller:
        frm = f"From: {d.caller.title()} <{uri(d.caller, d.caller_addr)}>;tag={d.ftag}"
        to = f"To: {d.callee.title()} <{uri(d.callee, d.callee_addr)}>"
        if to_tag and d.ttag:
            to += f";tag={d.ttag}"
    else:
        frm = f"From: {d.callee.title()} <{uri(d.callee, d.callee_addr)}>;tag={d.ttag}"
        to = f"To: {d.caller.title()} <{uri(d.caller, d.caller_addr)}>;tag={d.ftag}"
    head = vias + [frm, to, f"Call-ID: {d.call_id}", f"CSeq: {cseq} {method}"] + list(extra)
    return message(f"SIP/2.0 {status} {reason}", head, body, ctype)


# --- packets ---------------------------------------------------------------------


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src, dst, proto, payload_len, ident, flags_frag=0x4000):
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, 0, 20 + payload_len, ident & 0xFFFF, flags_frag, 64, proto, 0,
        bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))),
    )
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:]


ETHERNET = b"\0" * 12 + b"\x08\x00"


def udp_packet(src, dst, payload, ident):
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    return ETHERNET + ip_header(src[0], dst[0], 17, len(udp), ident) + udp


def udp_fragments(src, dst, payload, ident, size=1480):
    """The IPv4 fragments of one UDP datagram (RFC 791), each at most `size` bytes of
    IP payload (a multiple of 8)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    out = []
    for at in range(0, len(udp), size):
        part = udp[at:at + size]
        more = 0x2000 if at + size < len(udp) else 0
        out.append(ETHERNET + ip_header(src[0], dst[0], 17, len(part), ident, more | (at // 8)))
    return out


def tcp_packet(src, dst, seq, ack, flags, payload, ident):
    tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq, ack, 5 << 4, flags, 65535, 0, 0)
    return ETHERNET + ip_header(src[0], dst[0], 6, len(tcp) + len(payload), ident) + tcp + payload


# --- files -----------------------------------------------------------------------


def write_pcap(path, packets, compress=False):
    """packets: (time in seconds, frame bytes), in file order."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    for t, data in packets:
        sec, usec = int(t), int(round((t - int(t)) * 1e6))
        out += struct.pack("<IIII", sec, usec, len(data), len(data)) + data
    if compress:
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write(out)
    else:
        with open(path, "wb") as f:
            f.write(out)


def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def option(code, value):
    value = value.encode() if isinstance(value, str) else value
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def write_pcapng(path, interfaces, records):
    """interfaces: names; records: (interface index, time, frame bytes), in file order.
    Microsecond timestamps (the default if_tsresol)."""
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + option(0, b""))
    for name in interfaces:
        out += block(1, struct.pack("<HHI", 1, 0, 262144) + option(2, name) + option(0, b""))
    for iface, t, data in records:
        ts = int(round(t * 1e6))
        body = struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        out += block(6, body + data + b"\0" * (-len(data) % 4))
    with open(path, "wb") as f:
        f.write(out)


# --- the flows -------------------------------------------------------------------

T0 = 1764925200.0  # 2025-12-05 09:00:00 UTC


class Flow:
    """Messages as they cross the wire: (time, src, dst, bytes[, interface])."""

    def __init__(self):
        self.t = T0
        self.out = []
        self.ident = 1

    def send(self, src, dst, data, dt=0.001, iface=0):
        self.t = round(self.t + dt, 6)
        self.out.append((self.t, src, dst, data, iface))

    def udp(self):
        """Every message as one UDP packet, in time order (pcap)."""
        packets = []
        for t, src, dst, data, _ in self.out:
            packets.append((t, udp_packet(src, dst, data, self.ident)))
            self.ident += 1
        return packets


def original_call(f, a, b, hop=None, iface=(0, 0)):
    """Alice calls Bob (directly, or through the proxy `hop`)."""
    d = Dialog(f.call_id, "alice", ALICE, "bob", BOB, "alice-1", "bob-1")
    relay(f, d, True, "INVITE", 1, "o1", hop, iface, extra=["Contact: <sip:alice@127.0.0.1:5060>"],
          body=sdp(ALICE), ctype="application/sdp", to_tag=False,
          responses=[(100, "Trying", False), (180, "Ringing", True),
                     (200, "OK", True)], ack=True)
    return d


def relay(f, d, from_caller, method, cseq, branch, hop, iface, extra=(), body="",
          ctype=None, to_tag=True, responses=((200, "OK", True),), ack=False, gap=0.05,
          resp_extra=(), resp_body="", resp_ctype=None, ruri=None):
    """A request from one side of `d` to the other, through `hop` when given, with its
    responses (status, reason, with to-tag) and, for an INVITE, the ACK."""
    src = d.caller_addr if from_caller else d.callee_addr
    dst = d.callee_addr if from_caller else d.caller_addr
    own = [via(src, branch)]
    legs = [(src, dst, own)] if hop is None else [(src, hop, own), (hop, dst, [via(hop, branch + "p")] + own)]
    i_src, i_dst = iface
    for n, (s, t, vias) in enumerate(legs):
        f.send(s, t, request(d, from_caller, method, cseq, vias, extra, body, ctype, to_tag, ruri),
               dt=gap if n == 0 else 0.001, iface=i_src if n == 0 else i_dst)
    for status, reason, tagged in responses:
        for n, (s, t, vias) in enumerate(reversed(legs)):
            f.send(t, s, response(d, from_caller, status, reason, cseq, method, vias,
                                  resp_extra if status >= 200 else (), resp_body if status >= 200 else "",
                                  resp_ctype if status >= 200 else None, tagged),
                   dt=0.01 if n == 0 else 0.001, iface=(i_dst if n == 0 else i_src) if hop else i_src)
    if ack:
        # 2xx: the ACK is a transaction of its own (new branch); an error: the same
        # branch as the INVITE (RFC 3261 §17.1.1.3). The proxy relays both.
        own = [via(src, branch + ("a" if responses[-1][0] < 300 else ""))]
        ack_legs = [(src, dst, own)] if hop is None else [
            (src, hop, own), (hop, dst, [via(hop, branch + "ap")] + own)]
        for n, (s, t, vias) in enumerate(ack_legs):
            f.send(s, t, request(d, from_caller, "ACK", cseq, vias, ruri=ruri),
                   dt=0.01 if n == 0 else 0.001, iface=i_src if n == 0 else i_dst)


def long_offer(addr, port):
    """An SDP offer of many codecs (as desk phones write), so that the INVITE is about
    1440 bytes: under the 1472 a UDP datagram holds unfragmented on a 1500 MTU, but
    over it once a proxy adds its Via."""
    body = sdp(addr, port)
    n = 0
    while len(body) < 960:
        body += f"a=fmtp:{96 + n} mode=20;profile-level-id=42e01f;packetization-mode=1\r\n"
        n += 1
    return body + "a=label:" + "1" * (1025 - len(body)) + "\r\n"


def sipfrag(status):
    return f"SIP/2.0 {status}\r\n"


def blind_transfer(f, hop=None, ifaces=None, refer=None, new_call_status=(200, "OK"),
                   notify_ctype="message/sipfrag;version=2.0", final_sipfrag=None,
                   challenge=False, long_sdp=False):
    """Alice calls Bob, Bob REFERs her to Carol, Alice calls Carol; NOTIFYs; BYEs.
    ifaces: interface per party for pcapng (Alice, Bob, Carol); the proxy is on both."""
    ifaces = ifaces or {"alice": 0, "bob": 0, "carol": 0}
    ia, ib, ic = ifaces["alice"], ifaces["bob"], ifaces["carol"]
    d = Dialog(f.call_id, "alice", ALICE, "bob", BOB, "alice-1", "bob-1")
    invite_extra = ["Contact: <sip:alice@127.0.0.1:5060>"]
    if challenge:
        d.ttag = "challenge-1"
        # Bob challenges Alice's first INVITE (RFC 3261 §22.2); she retries.
        relay(f, d, True, "INVITE", 1, "o0", None, (ia, ia), extra=invite_extra,
              body=sdp(ALICE), ctype="application/sdp", to_tag=False,
              responses=[(407, "Proxy Authentication Required", True)], ack=True)
        d.ttag = "bob-1"
        invite_extra = invite_extra + [
            'Proxy-Authorization: Digest username="alice", realm="sipxfer.test", '
            'nonce="1234", uri="sip:bob@127.0.0.2:5062", response="0123456789abcdef0123456789abcdef"'
        ]
        relay(f, d, True, "INVITE", 2, "o1", None, (ia, ia), extra=invite_extra,
              body=sdp(ALICE), ctype="application/sdp", to_tag=False,
              responses=[(100, "Trying", False), (180, "Ringing", True), (200, "OK", True)],
              ack=True, gap=0.02)
        alice_cseq = 3
    else:
        relay(f, d, True, "INVITE", 1, "o1", hop, (ia, ib), extra=invite_extra,
              body=sdp(ALICE), ctype="application/sdp", to_tag=False,
              responses=[(100, "Trying", False), (180, "Ringing", True), (200, "OK", True)],
              ack=True)
        alice_cseq = 2
    f.t += 2.0
    refer_headers = refer or [
        "Refer-To: <sip:carol@127.0.0.3:5064>",
        "Referred-By: <sip:bob@127.0.0.2:5062>",
        "Contact: <sip:bob@127.0.0.2:5062>",
    ]
    relay(f, d, False, "REFER", 101, "r1", hop, (ib, ia), extra=refer_headers,
          responses=[(202, "Accepted", True)])
    notify_extra = ["Event: refer", "Subscription-State: active;expires=60",
                    "Contact: <sip:alice@127.0.0.1:5060>"]
    relay(f, d, True, "NOTIFY", alice_cseq, "n1", hop, (ia, ib), extra=notify_extra,
          body=sipfrag("100 Trying"), ctype=notify_ctype)
    # The new call: Alice → Carol.
    n = Dialog("target///" + f.call_id, "alice", ALICE, "carol", CAROL, "alice-t-1", "carol-1")
    status, reason = new_call_status
    responses = [(100, "Trying", False), (180, "Ringing", True), (status, reason, True)]
    relay(f, n, True, "INVITE", 1, "t1", hop, (ia, ic),
          extra=["Contact: <sip:alice@127.0.0.1:5060>", "Referred-By: <sip:bob@127.0.0.2:5062>"],
          body=long_offer(ALICE, 40002) if long_sdp else sdp(ALICE, 40002), ctype="application/sdp",
          to_tag=False, responses=responses,
          ack=True, gap=0.02)
    final = final_sipfrag or f"{status} {reason}"
    relay(f, d, True, "NOTIFY", alice_cseq + 1, "n2", hop, (ia, ib),
          extra=["Event: refer", "Subscription-State: terminated;reason=noresource",
                 "Contact: <sip:alice@127.0.0.1:5060>"],
          body=sipfrag(final), ctype=notify_ctype)
    relay(f, d, False, "BYE", 102, "b1", hop, (ib, ia), gap=0.1)
    if status < 300:
        f.t += 1.0
        relay(f, n, True, "BYE", 2, "b2", hop, (ia, ic), gap=0.2)
    return d, n


# --- the captures ----------------------------------------------------------------


def two_interfaces(out):
    """Item 1: the host runs the proxy and Bob's softphone. Bob ⇄ proxy is on `lo`
    (interface 1), Alice and Carol reach the proxy over the LAN (interface 0; in this
    crafted file the LAN addresses are 127.0.0.x too). dumpcap writes each interface's
    packets when its buffer is handed over, so the file is not in time order: around
    the REFER the LAN's buffer comes first, around the BYE the loopback's does."""
    f = Flow()
    f.call_id = "rw-two-interfaces-1@sipxfer.test"
    blind_transfer(f, hop=PROXY, ifaces={"alice": 0, "bob": 1, "carol": 0})
    # Flush times: each record is written at the first flush of its interface at or
    # after its time. The LAN is flushed right after the REFER's relayed copy while
    # the loopback waits; then the loopback is flushed right after the BYE, before the
    # LAN's buffer holding the new call's 200 OK and the final NOTIFY.
    refer_t = next(t for t, _, _, data, _ in f.out if data.startswith(b"REFER"))
    bye_t = next(t for t, _, _, data, _ in f.out if data.startswith(b"BYE sip:alice"))
    lan_flushes = [refer_t + 0.002, bye_t + 0.01, float("inf")]
    lo_flushes = [refer_t - 0.5, refer_t + 0.3, bye_t + 0.0005, float("inf")]

    def written(t, iface):
        flushes = lan_flushes if iface == 0 else lo_flushes
        return min(x for x in flushes if x >= t)

    records = []
    ident = 1
    for t, src, dst, data, iface in f.out:
        records.append((written(t, iface), iface, t, udp_packet(src, dst, data, ident)))
        ident += 1
    records.sort(key=lambda r: (r[0], r[1], r[2]))
    write_pcapng(os.path.join(out, "rw-two-interfaces-proxy.pcapng"), ["eth0", "lo"],
                 [(iface, t, data) for _, iface, t, data in records])


def invite_last_fragment(out):
    """Item 2: a blind transfer through the proxy; the proxy's copy of Alice's INVITE
    to Carol is larger than the MTU (Alice's INVITE carries a long SDP, the proxy adds
    its Via and Record-Route), and only its last IP fragment is in the capture."""
    f = Flow()
    f.call_id = "rw-invite-fragment-1@sipxfer.test"
    blind_transfer(f, hop=PROXY, long_sdp=True)
    packets = []
    ident = 100
    big = None
    for t, src, dst, data, _ in f.out:
        ident += 1
        if data.startswith(b"INVITE sip:carol") and src == PROXY:
            big = data
            frags = udp_fragments(src, dst, data, ident, size=1480)
            packets.append((t, frags[-1]))  # the first fragment was lost
            continue
        packets.append((t, udp_packet(src, dst, data, ident)))
    assert big is not None and len(big) > 1472, len(big or b"")
    sizes = [len(data) for _, src, _, data, _ in f.out if data.startswith(b"INVITE sip:carol")]
    assert sizes[0] <= 1472 < sizes[1], sizes
    write_pcap(os.path.join(out, "rw-invite-last-fragment.pcap"), packets)


def refer_lf_crlf(out, announced_body):
    """Item 3: the capture is taken at Alice, behind the proxy. The proxy relays Bob's
    REFER and ends the Record-Route line it inserts with `\\n\\r\\n`: a bare LF, then
    CRLF, which reads as the blank line ending the headers. With `announced_body` the
    REFER also carries `Content-Type`/`Content-Length` before that line (a body was
    announced, so the rest cannot be taken for headers)."""
    f = Flow()
    name = "rw-refer-announced-body" if announced_body else "rw-refer-lf-crlf"
    f.call_id = f"{name}-1@sipxfer.test"
    blind_transfer(f, hop=PROXY)
    packets = []
    ident = 200
    for t, src, dst, data, _ in f.out:
        ident += 1
        # Only Alice's side of the proxy is captured.
        if ALICE not in (src, dst):
            continue
        if data.startswith(b"REFER") and src == PROXY:
            head, _, rest = data.partition(b"\r\nFrom:")
            broken = b"\r\nRecord-Route: <sip:127.0.0.9;lr>\n\r\n"
            if announced_body:
                broken = b"\r\nContent-Type: text/plain" + broken
            data = head + broken + b"From:" + rest
        packets.append((t, udp_packet(src, dst, data, ident)))
    write_pcap(os.path.join(out, f"{name}.pcap"), packets)


CISCO_BOUNDARY = "uniqueBoundary"


def cisco_remotecc(out):
    """Item 4: Cisco's remote call control. CUCM (127.0.0.9) sends the phone (Alice)
    an out-of-dialog REFER whose Refer-To is `cid:` (content indirection, RFC 2392) and
    whose body is multipart/mixed with an x-cisco-remotecc-request; the phone answers
    202, NOTIFYs with a multipart body, and nothing is transferred. Then an ordinary
    call Alice → Bob, so the capture has one call besides."""
    f = Flow()
    cucm = PROXY
    d = Dialog("rw-cisco-remotecc-1@sipxfer.test", "cucm", cucm, "alice", ALICE, "cucm-1", "alice-r-1")
    xml = ("<x-cisco-remotecc-request><softkeyeventmsg><softkeyevent>DoNotDisturb"
           "</softkeyevent></softkeyeventmsg></x-cisco-remotecc-request>")
    body = (f"--{CISCO_BOUNDARY}\r\nContent-Type: application/x-cisco-remotecc-request+xml\r\n\r\n"
            f"{xml}\r\n--{CISCO_BOUNDARY}--\r\n")
    relay(f, d, True, "REFER", 101, "c1", None, (0, 0),
          extra=["Refer-To: cid:1234567890@127.0.0.9", "Referred-By: <sip:cucm@127.0.0.9:5060>",
                 "Content-Id: <1234567890@127.0.0.9>", "Expires: 10",
                 "Contact: <sip:cucm@127.0.0.9:5060>"],
          body=body, ctype=f"multipart/mixed;boundary={CISCO_BOUNDARY}", to_tag=False,
          responses=[(202, "Accepted", True)])
    notify_body = (f"--{CISCO_BOUNDARY}\r\nContent-Type: application/x-cisco-remotecc-response+xml\r\n\r\n"
                   "<x-cisco-remotecc-response><response><code>200</code></response>"
                   f"</x-cisco-remotecc-response>\r\n--{CISCO_BOUNDARY}--\r\n")
    relay(f, d, False, "NOTIFY", 1, "c2", None, (0, 0),
          extra=["Event: refer", "Subscription-State: terminated;reason=noresource",
                 "Contact: <sip:alice@127.0.0.1:5060>"],
          body=notify_body, ctype=f"multipart/mixed;boundary={CISCO_BOUNDARY}")
    f.call_id = "rw-cisco-call-1@sipxfer.test"
    f.t += 1.0
    c = original_call(f, ALICE, BOB)
    relay(f, c, True, "BYE", 2, "cb", None, (0, 0), gap=1.0)
    write_pcap(os.path.join(out, "rw-cisco-remotecc-refer.pcap"), f.udp())


def challenged_calls(out):
    """Item 6: Alice's INVITE to Bob is challenged (407, with the challenger's
    to-tag), ACKed, and retried with credentials; the call is answered 200 and ACKed
    about 20 ms later; then an ordinary blind transfer."""
    f = Flow()
    f.call_id = "rw-challenged-1@sipxfer.test"
    blind_transfer(f, challenge=True)
    write_pcap(os.path.join(out, "rw-challenged-invite.pcap"), f.udp())


def big_tcp_headers(out):
    """Item 9: SIP over one TCP connection (Alice 127.0.0.1:40001 → Bob 127.0.0.2:5062)
    carrying three OPTIONS: one with 100 KiB of headers (an X-Padding header repeated,
    as a broken gateway writes), one with 1.5 MiB of headers (over sipxfer's 1 MiB
    limit), then an ordinary one. Segments of 60000 bytes. gzip-compressed."""
    alice = ("127.0.0.1", 40001)
    pad = "X-Padding: " + "a" * 1000
    def options(n, pad_lines):
        head = [via(alice, f"big{n}"), "From: <sip:alice@127.0.0.1>;tag=big-a",
                "To: <sip:bob@127.0.0.2:5062>", f"Call-ID: rw-big-headers-{n}@sipxfer.test",
                f"CSeq: {n} OPTIONS", "Max-Forwards: 70"] + [pad] * pad_lines
        return message("OPTIONS sip:bob@127.0.0.2:5062 SIP/2.0", head)
    stream = options(1, 100) + options(2, 1536) + options(3, 0)
    t = T0
    packets = []
    ident = 1
    seq = 1000
    packets.append((t, tcp_packet(alice, BOB, seq, 0, 0x02, b"", ident)))
    seq += 1
    for at in range(0, len(stream), 60000):
        t += 0.0001
        ident += 1
        part = stream[at:at + 60000]
        packets.append((t, tcp_packet(alice, BOB, seq, 1, 0x18, part, ident)))
        seq += len(part)
    t += 0.001
    packets.append((t, tcp_packet(alice, BOB, seq, 1, 0x11, b"", ident + 1)))
    write_pcap(os.path.join(out, "rw-tcp-big-headers.pcap.gz"), packets, compress=True)


def late_responses(out):
    """Item 8: two calls whose last messages come after the call was let go (ended or
    timed out, then quiet for 32 s). Alice's INVITE to Bob (frame 1, 0.0 s) gets no
    response; Carol calls Bob (2-6), who hangs up (7, 8). At 40.0 s Bob's 200 OK for
    Alice's INVITE finally comes (9), Alice ACKs (10), BYE (11), 200 (12); at 60 s
    Carol's 200 OK to the BYE is sent again (13)."""
    f = Flow()
    late = Dialog("rw-late-1@sipxfer.test", "alice", ALICE, "bob", BOB, "alice-1", "bob-1")
    early = Dialog("rw-late-2@sipxfer.test", "carol", CAROL, "bob", BOB, "carol-1", "bob-2")
    offer = ["Contact: <sip:alice@127.0.0.1:5060>"]
    f.send(ALICE, BOB, request(late, True, "INVITE", 1, [via(ALICE, "l1")], offer, sdp(ALICE),
                               "application/sdp", to_tag=False))
    relay(f, early, True, "INVITE", 1, "e1", None, (0, 0), extra=["Contact: <sip:carol@127.0.0.3:5064>"],
          body=sdp(CAROL), ctype="application/sdp", to_tag=False,
          responses=[(100, "Trying", False), (180, "Ringing", True), (200, "OK", True)], ack=True)
    relay(f, early, False, "BYE", 1, "e2", None, (0, 0))
    bye_ok = f.out[-1]
    f.t = T0 + 40.0
    f.send(BOB, ALICE, response(late, True, 200, "OK", 1, "INVITE", [via(ALICE, "l1")],
                                ["Contact: <sip:bob@127.0.0.2:5062>"], sdp(BOB), "application/sdp"))
    f.send(ALICE, BOB, request(late, True, "ACK", 1, [via(ALICE, "l1a")]))
    relay(f, late, True, "BYE", 2, "l2", None, (0, 0))
    f.t = T0 + 60.0
    f.send(bye_ok[1], bye_ok[2], bye_ok[3])
    write_pcap(os.path.join(out, "rw-late-responses.pcap"), f.udp())


def main():
    out = os.path.dirname(os.path.abspath(__file__))
    if "--out" in sys.argv:
        out = sys.argv[sys.argv.index("--out") + 1]
    two_interfaces(out)
    invite_last_fragment(out)
    refer_lf_crlf(out, announced_body=False)
    refer_lf_crlf(out, announced_body=True)
    cisco_remotecc(out)
    challenged_calls(out)
    big_tcp_headers(out)
    late_responses(out)


if __name__ == "__main__":
    main()
