#!/usr/bin/env python3
"""One SIP call over one TCP connection on loopback, written so that TCP
segment boundaries do NOT follow SIP message boundaries (RFC 3261 18.3:
framing on a stream transport is by Content-Length):

  - Alice's INVITE leaves in two segments (headers cut mid-line, then the
    rest with the SDP body);
  - Bob answers 100 Trying, 180 Ringing and 200 OK in ONE segment;
  - Alice sends the ACK and a CRLFCRLF keep-alive ping (RFC 5626 3.5.1),
    Bob answers the ping with a CRLF pong;
  - BYE and its 200 use compact header names (RFC 3261 7.3.3).

Run by make-samples.sh while tcpdump captures; Alice 127.0.0.1, Bob
127.0.0.2:5062. Bounded: every socket has a 5 s timeout.
"""
import socket
import sys
import threading
import time

BOB = ("127.0.0.2", 5062)
CALL_ID = "tcp-pipelined-1@sipxfer.test"
SDP = (
    "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def message(start, headers, body=""):
    lines = [start] + headers + [f"Content-Length: {len(body.encode())}", "", ""]
    return ("\r\n".join(lines) + body).encode()


def read_message(conn, buf):
    """One SIP message from the stream (headers + Content-Length body)."""
    while b"\r\n\r\n" not in buf:
        while buf.startswith(b"\r\n"):  # keep-alive CRLFs between messages
            buf = buf[2:]
        if b"\r\n\r\n" in buf:
            break
        chunk = conn.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def bob(listener, errors):
    try:
        conn, _ = listener.accept()
        conn.settimeout(5)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        invite, buf = read_message(conn, b"")
        hdrs = {}
        for line in invite.split(b"\r\n")[1:]:
            name, _, value = line.decode().partition(":")
            hdrs.setdefault(name.strip().lower(), value.strip())
        common = [f"Via: {hdrs['via']}", f"From: {hdrs['from']}"]
        to_tag = f"To: {hdrs['to']};tag=bob-1"
        tail = [f"Call-ID: {hdrs['call-id']}", f"CSeq: {hdrs['cseq']}"]
        contact = "Contact: <sip:bob@127.0.0.2:5062;transport=tcp>"
        body = SDP.replace("alice", "bob").replace("127.0.0.1", "127.0.0.2").replace("40000", "40002")
        # Three responses in one write, so one TCP segment.
        conn.sendall(
            message("SIP/2.0 100 Trying", common + [f"To: {hdrs['to']}"] + tail)
            + message("SIP/2.0 180 Ringing", common + [to_tag] + tail + [contact])
            + message("SIP/2.0 200 OK", common + [to_tag] + tail + [contact, "Content-Type: application/sdp"], body)
        )
        _ack, buf = read_message(conn, buf)
        # Keep-alive ping: CRLFCRLF, answered with a CRLF pong.
        while len(buf) < 4:
            buf += conn.recv(65536)
        if buf.startswith(b"\r\n\r\n"):
            buf = buf[4:]
            conn.sendall(b"\r\n")
        bye, buf = read_message(conn, buf)
        lines = bye.decode().split("\r\n")
        compact = [l for l in lines[1:] if l[:2] in ("v:", "f:", "t:", "i:") or l.startswith("CSeq")]
        conn.sendall(message("SIP/2.0 200 OK", compact))
        time.sleep(0.2)
        conn.close()
    except Exception as e:  # reported by the main thread
        errors.append(f"bob: {e!r}")


def main():
    errors = []
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.settimeout(5)
    listener.bind(BOB)
    listener.listen(1)
    server = threading.Thread(target=bob, args=(listener, errors))
    server.start()

    alice = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    alice.settimeout(5)
    alice.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    alice.bind(("127.0.0.1", 0))
    alice.connect(BOB)
    port = alice.getsockname()[1]
    via = f"Via: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bK-pipelined-1"
    frm = 'From: "Alice" <sip:alice@127.0.0.1>;tag=alice-1'
    contact = f"Contact: <sip:alice@127.0.0.1:{port};transport=tcp>"
    invite = message(
        "INVITE sip:bob@127.0.0.2:5062;transport=tcp SIP/2.0",
        [via, frm, 'To: "Bob" <sip:bob@127.0.0.2:5062>', f"Call-ID: {CALL_ID}",
         "CSeq: 1 INVITE", contact, "Max-Forwards: 70", "Content-Type: application/sdp"],
        SDP,
    )
    cut = invite.index(b"CSeq: 1 INV") + len(b"CSeq: 1 INV")  # mid-line
    alice.sendall(invite[:cut])
    time.sleep(0.1)
    alice.sendall(invite[cut:])
    buf = b""
    to = None
    for _ in range(3):
        resp, buf = read_message(alice, buf)
        for line in resp.decode().split("\r\n"):
            if line.startswith("To:") and "tag=" in line:
                to = line
    ack = message(
        "ACK sip:bob@127.0.0.2:5062;transport=tcp SIP/2.0",
        [f"{via}-ack", frm, to, f"Call-ID: {CALL_ID}", "CSeq: 1 ACK", "Max-Forwards: 70"],
    )
    alice.sendall(ack)
    time.sleep(0.1)
    alice.sendall(b"\r\n\r\n")
    pong = alice.recv(2)
    time.sleep(0.2)
    bye = message(
        "BYE sip:bob@127.0.0.2:5062;transport=tcp SIP/2.0",
        [f"v: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bK-pipelined-2",
         "f: " + frm.split(": ", 1)[1], "t: " + to.split(": ", 1)[1], f"i: {CALL_ID}",
         "CSeq: 2 BYE", "Max-Forwards: 70"],
    ).replace(b"Content-Length:", b"l:")
    alice.sendall(bye)
    _ok, buf = read_message(alice, buf)
    alice.close()
    server.join(10)
    listener.close()
    if pong != b"\r\n":
        errors.append(f"alice: expected CRLF pong, got {pong!r}")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
