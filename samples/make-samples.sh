#!/usr/bin/env bash
# Regenerates the loopback SIP captures in samples/ from the SIPp scenarios in
# samples/scenarios/. SIPp plays the phones; every address is in 127.0.0.0/8;
# every SIPp run handles one call (-m 1) under a wall-clock timeout, so the
# script always ends. Each capture is checked with tshark against the expected
# SIP message and Call-ID counts; a mismatch fails the script.
#
#   Alice 127.0.0.1:5060   Bob 127.0.0.2:5062   Carol 127.0.0.3:5064
#
# Needs: sipp (Debian package sip-tester), tcpdump, dumpcap + tshark, python3;
# run as root (capturing on lo). Usage: samples/make-samples.sh [--all] [NAME...]
# NAME: a capture file name (extension optional). Default: the missing ones.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SCEN="$HERE/scenarios"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipxfer-samples.XXXXXX")
# PIDs of processes this script started (kamailio: its main process, which
# ends its children), so a later run can end leftovers
# of an interrupted run (and nothing else).
PIDFILE="${TMPDIR:-/tmp}/sipxfer-make-samples.pids"
PIDS=()

for tool in sipp tcpdump dumpcap tshark python3 timeout ss; do
    command -v "$tool" >/dev/null || {
        echo "make-samples: missing $tool (apt-get install -y sip-tester tshark tcpdump)" >&2
        exit 2
    }
done

end_pid() {
    local pid=$1
    case "$(cat "/proc/$pid/comm" 2>/dev/null || true)" in
        sipp | tcpdump | dumpcap | timeout | kamailio) kill "$pid" 2>/dev/null || true ;;
    esac
}

if [[ -f $PIDFILE ]]; then
    while read -r pid; do [[ -n $pid ]] && end_pid "$pid"; done <"$PIDFILE"
    rm -f "$PIDFILE"
fi

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do end_pid "$pid"; done
    rm -f "$PIDFILE"
    [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

track() { PIDS+=("$1"); echo "$1" >>"$PIDFILE"; }

# sipp_start LOGNAME SIPP-ARGS... : one SIPp phone in the background.
# -nd: no default behaviour (SIPp would otherwise send its own BYE/CANCEL on
# errors), -timeout: SIPp's own limit, `timeout`: hard limit on top.
sipp_start() {
    local name=$1
    shift
    timeout 30 sipp "$@" -m 1 -nostdin -nd -timeout 20s \
        -trace_err -error_file "$WORK/$name.err" >"$WORK/$name.log" 2>&1 &
    track $!
    LAST_PID=$!
}

# sipp_wait PID LOGNAME : fails the script when that SIPp run failed.
sipp_wait() {
    local rc=0
    wait "$1" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "make-samples: sipp $2 failed (exit $rc)" >&2
        tail -n 20 "$WORK/$2.log" "$WORK/$2.err" >&2 2>/dev/null || true
        exit 1
    fi
}

# wait_bound udp|tcp IP:PORT... : wait (at most 5 s) until SIPp listens
# there; on a loaded machine SIPp can take longer than the usual 0.3 s.
wait_bound() {
    local proto=$1 addr i
    shift
    for addr in "$@"; do
        for i in $(seq 50); do
            if [[ $proto == tcp ]]; then
                ss -Hltn "src $addr" | grep -q . && break
            else
                ss -Hlun "src $addr" | grep -q . && break
            fi
            sleep 0.1
        done
    done
}

# capture_start FILE FORMAT FILTER : FORMAT is pcap (tcpdump) or pcapng (dumpcap).
capture_start() {
    local file=$1 format=$2 filter=$3
    rm -f "$file"
    if [[ $format == pcap ]]; then
        tcpdump -i lo --immediate-mode -U -n -s 0 -w "$file" "$filter" 2>"$WORK/capture.log" &
    else
        dumpcap -q -i lo -f "$filter" -w "$file" 2>"$WORK/capture.log" &
    fi
    CAPTURE_PID=$!
    track "$CAPTURE_PID"
    # Wait (at most 5 s) until the capturer is listening.
    local i
    for i in $(seq 50); do
        grep -q -i -E 'listening on|capturing on' "$WORK/capture.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.2
}

capture_stop() {
    # libpcap hands packets over in blocks (up to 1 s late); a capturer
    # stopped too early loses the tail of the call.
    sleep 1.5
    kill -INT "$CAPTURE_PID" 2>/dev/null || true
    wait "$CAPTURE_PID" || true
    chmod 644 "$1"
}

# check FILE EXPECTED_SIP_MESSAGES EXPECTED_CALL_IDS : verify with tshark.
check() {
    local file=$1 want_msgs=$2 want_calls=$3 msgs calls
    msgs=$(tshark -2 -n -r "$file" -Y sip -T fields -E occurrence=a -e sip.CSeq.method 2>/dev/null |
        tr ',' '\n' | grep -c . || true)
    calls=$(tshark -2 -n -r "$file" -Y sip -T fields -E occurrence=a -e sip.Call-ID 2>/dev/null |
        tr ',' '\n' | sort -u | grep -c . || true)
    printf 'make-samples: %-34s %6d bytes  %3d SIP messages  %d Call-IDs\n' \
        "$(basename "$file")" "$(stat -c %s "$file")" "$msgs" "$calls"
    if [[ $msgs -ne $want_msgs || $calls -ne $want_calls ]]; then
        echo "make-samples: $(basename "$file"): expected $want_msgs messages and $want_calls Call-IDs" >&2
        exit 1
    fi
}

# rtp FROM_PORT TO_IP TO_PORT COUNT : a few RTP-like datagrams (PCMU silence,
# RFC 3550 fixed header) so the capture also holds non-SIP UDP.
rtp() {
    python3 - "$@" <<'PY'
import socket, struct, sys, time
src_port, dst_ip, dst_port, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src_ip = "127.0.0.1" if dst_ip != "127.0.0.1" else "127.0.0.2"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src_ip, src_port))
for seq in range(min(count, 50)):
    header = struct.pack("!BBHII", 0x80, 0, seq + 1, 160 * seq, 0x5349505)
    s.sendto(header + b"\xff" * 160, (dst_ip, dst_port))
    time.sleep(0.02)
PY
}

ALICE=127.0.0.1
BOB=127.0.0.2
CAROL=127.0.0.3

# Which captures to make. Tests compare checked-in captures byte for byte
# (tests/snapshots), and a new run changes timestamps, branches and ports,
# so by default only missing captures are made; name a capture, or pass
# --all, to remake existing ones.
ALL=0
SELECTED=()
for arg in "$@"; do
    case "$arg" in
        --all) ALL=1 ;;
        -*) echo "usage: make-samples.sh [--all] [NAME...]" >&2; exit 2 ;;
        *) SELECTED+=("${arg%.pcap*}") ;;
    esac
done
want() {
    if [[ ${#SELECTED[@]} -gt 0 ]]; then
        [[ " ${SELECTED[*]} " == *" $1 "* ]]
    elif [[ $ALL -eq 1 ]]; then
        true
    else
        ! compgen -G "$HERE/$1.pcap*" >/dev/null
    fi
}

# a. One answered call over UDP with a few RTP packets each way.
if want basic-call-udp; then
    out="$HERE/basic-call-udp.pcap"
    capture_start "$out" pcap "udp and (port 5060 or port 5062 or port 40000 or port 40002)"
    sipp_start bob -sf "$SCEN/call-uas.xml" -i $BOB -p 5062 -s bob
    bob=$LAST_PID
    sleep 0.3
    sipp_start alice -sf "$SCEN/call-uac.xml" -i $ALICE -p 5060 -s bob \
        -cid_str 'basic-udp-%u@sipxfer.test' $BOB:5062
    alice=$LAST_PID
    sleep 0.1
    rtp 40000 $BOB 40002 5 &
    rtp_pid=$!
    rtp 40002 $ALICE 40000 5
    wait $rtp_pid
    sipp_wait $alice alice
    sipp_wait $bob bob
    capture_stop "$out"
    check "$out" 7 1
fi

# c. The same call over TCP (one connection, SIPp -t t1).
if want basic-call-tcp; then
    out="$HERE/basic-call-tcp.pcap"
    capture_start "$out" pcap "tcp and port 5062"
    sipp_start bob -t t1 -sf "$SCEN/call-uas.xml" -i $BOB -p 5062 -s bob
    bob=$LAST_PID
    sleep 0.3
    sipp_start alice -t t1 -sf "$SCEN/call-uac.xml" -i $ALICE -p 5060 -s bob \
        -cid_str 'basic-tcp-%u@sipxfer.test' $BOB:5062
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $bob bob
    capture_stop "$out"
    check "$out" 7 1
fi

# SIP over TCP where segments and messages do not line up: INVITE in two
# segments, 100+180+200 in one segment, CRLF keep-alives, compact headers.
# SIPp writes one message per segment, so a small Python peer does this.
if want tcp-pipelined-segments; then
    out="$HERE/tcp-pipelined-segments.pcap"
    capture_start "$out" pcap "tcp and port 5062"
    timeout 30 python3 "$HERE/tcp-pipelined.py"
    capture_stop "$out"
    check "$out" 7 1
fi

# b. Four overlapping calls from Alice to four Bob ports, in one pcapng:
#    answered + BYE, rejected 486, cancelled while ringing, answered and
#    still up when the capture stops.
if want calls-mixed-udp; then
    out="$HERE/calls-mixed-udp.pcapng"
    capture_start "$out" pcapng "udp and portrange 5060-5069"
    pairs=(call:5061:5062 busy:5063:5064 cancel:5065:5066 up:5067:5068)
    uas=() uac=()
    for pair in "${pairs[@]}"; do
        IFS=: read -r kind aport bport <<<"$pair"
        sipp_start "bob-$kind" -sf "$SCEN/$kind-uas.xml" -i $BOB -p "$bport" -s bob
        uas+=("$LAST_PID:bob-$kind")
    done
    sleep 0.3
    for pair in "${pairs[@]}"; do
        IFS=: read -r kind aport bport <<<"$pair"
        sipp_start "alice-$kind" -sf "$SCEN/$kind-uac.xml" -i $ALICE -p "$aport" -s bob \
            -cid_str "mixed-$kind-%u@sipxfer.test" "$BOB:$bport"
        uac+=("$LAST_PID:alice-$kind")
        sleep 0.1
    done
    for entry in "${uac[@]}" "${uas[@]}"; do sipp_wait "${entry%%:*}" "${entry#*:}"; done
    capture_stop "$out"
    # answered 7 + busy 4 (INVITE 100 486 ACK) + cancelled 7
    # (INVITE 100 180 CANCEL 200 487 ACK) + still up 5
    check "$out" 23 4
fi

# d. Transfers between three phones (RFC 3515 REFER, RFC 5589 flows):
#    Alice calls Bob, Bob transfers Alice to Carol. Scenario files name
#    the roles: alice = transferee, bob = transferor, carol = target.
# transfer NAME ALICE_XML BOB_XML CAROL_XML|- MESSAGES CALL_IDS
transfer() {
    local name=$1 alice_xml=$2 bob_xml=$3 carol_xml=$4 msgs=$5 calls=$6 carol="" bob alice
    want "$name" || return 0
    local out="$HERE/$name.pcap"
    capture_start "$out" pcap "udp and portrange 5060-5064"
    if [[ $carol_xml != - ]]; then
        sipp_start carol -sf "$SCEN/$carol_xml" -i $CAROL -p 5064 -s carol
        carol=$LAST_PID
    fi
    sipp_start bob -sf "$SCEN/$bob_xml" -i $BOB -p 5062 -s bob \
        -key target "sip:carol@$CAROL:5064" -key target_host $CAROL -key target_port 5064
    bob=$LAST_PID
    sleep 0.3
    wait_bound udp $BOB:5062
    [[ $carol_xml == - ]] || wait_bound udp $CAROL:5064
    sipp_start alice -sf "$SCEN/$alice_xml" -i $ALICE -p 5060 -s bob \
        -cid_str "$name-%u@sipxfer.test" $BOB:5062
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $bob bob
    [[ -z $carol ]] || sipp_wait $carol carol
    capture_stop "$out"
    check "$out" "$msgs" "$calls"
}

# Completed: A-B call 5, REFER/202, NOTIFY 100/200, A-C call 5, NOTIFY
# 200/200, BYE/200 (Bob), BYE/200 (Alice to Carol) = 20.
transfer xfer-blind-completed-udp xfer-blind-alice.xml xfer-blind-bob.xml call-uas.xml 20 2
# Failed at the target: Carol answers 486; NOTIFY carries "486 Busy Here";
# 5 + 2 + 2 + 4 (INVITE 100 486 ACK) + 2 + 2 = 17.
transfer xfer-blind-failed-target-busy-udp xfer-blind-failed-alice.xml xfer-blind-bob.xml busy-uas.xml 17 2
# REFER answered 603 Decline, then Bob hangs up: 5 + 2 + 2 = 9.
transfer xfer-refer-rejected-udp xfer-rejected-alice.xml xfer-rejected-bob.xml - 9 1
# Attended with Replaces: A-B call 5, B-C consultation 5, REFER/202,
# NOTIFY/200, A-C INVITE 100 200 ACK, C-B BYE/200, NOTIFY/200, B-A BYE/200,
# A-C BYE/200 = 26, three Call-IDs.
transfer xfer-attended-replaces-udp xfer-attended-alice.xml xfer-attended-bob.xml xfer-attended-carol.xml 26 3

# e. Blind transfer completed over TCP, all three phones on TCP (SIPp -t t1).
#    One SIPp call cannot hold two TCP connections (setdest needs -t tn and
#    drops the connection to Bob), so Alice is two SIPp instances in 3pcc
#    extended mode: master "referred" (127.0.0.1:5060, the dialog with Bob)
#    hands the Refer-To URI to slave "target" (127.0.0.1:5061, the call to
#    Carol) and waits for its answer before the final NOTIFY. The control
#    connection (127.0.0.1:7000/7001) is outside the capture filter.
if want xfer-blind-completed-tcp; then
    out="$HERE/xfer-blind-completed-tcp.pcap"
    printf 'referred;127.0.0.1:7000\ntarget;127.0.0.1:7001\n' >"$WORK/twins.cfg"
    capture_start "$out" pcap "tcp and portrange 5060-5064"
    sipp_start carol -t t1 -max_socket 100 -sf "$SCEN/call-uas.xml" -i $CAROL -p 5064 -s carol
    carol=$LAST_PID
    sipp_start bob -t t1 -max_socket 100 -sf "$SCEN/xfer-blind-tcp-bob.xml" -i $BOB -p 5062 -s bob \
        -key target "sip:carol@$CAROL:5064;transport=tcp"
    bob=$LAST_PID
    wait_bound tcp $BOB:5062 $CAROL:5064
    sipp_start alice-target -t t1 -max_socket 100 -sf "$SCEN/xfer-blind-tcp-alice-target.xml" \
        -i $ALICE -p 5061 -slave target -slave_cfg "$WORK/twins.cfg" -s carol $CAROL:5064
    alice_target=$LAST_PID
    sleep 0.3
    wait_bound tcp $ALICE:7001
    sipp_start alice -t t1 -max_socket 100 -sf "$SCEN/xfer-blind-tcp-alice.xml" \
        -i $ALICE -p 5060 -master referred -slave_cfg "$WORK/twins.cfg" -s bob \
        -cid_str 'xfer-blind-completed-tcp-%u@sipxfer.test' $BOB:5062
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $alice_target alice-target
    sipp_wait $bob bob
    sipp_wait $carol carol
    capture_stop "$out"
    # The same 20 messages as xfer-blind-completed-udp, two Call-IDs.
    check "$out" 20 2
fi

# More phones for the captures below: Dave 127.0.0.4:5066, Erin
# 127.0.0.5:5068, Frank 127.0.0.6:5070.
DAVE=127.0.0.4
ERIN=127.0.0.5
FRANK=127.0.0.6

# trio TAG TRANSFEREE_XML TRANSFEROR_XML TARGET_XML|- CALL_ID
#      TRANSFEREE_IP:PORT TRANSFEROR_IP:PORT:NAME TARGET_IP:PORT:NAME [SIPP-ARGS...]
# One transfer between three SIPp phones (no capture of its own): the
# transferee calls the transferor, who refers it to the target. Extra SIPp
# arguments go to the transferor (e.g. -key for its scenario).
trio() {
    local tag=$1 ee_xml=$2 or_xml=$3 target_xml=$4 cid=$5 ee=$6 or=$7 target=$8 pid_target=""
    shift 8
    local ee_ip=${ee%:*} ee_port=${ee#*:}
    local or_ip or_port or_name t_ip t_port t_name
    IFS=: read -r or_ip or_port or_name <<<"$or"
    IFS=: read -r t_ip t_port t_name <<<"$target"
    if [[ $target_xml != - ]]; then
        sipp_start "$tag-target" -sf "$SCEN/$target_xml" -i "$t_ip" -p "$t_port" -s "$t_name"
        pid_target=$LAST_PID
    fi
    sipp_start "$tag-transferor" -sf "$SCEN/$or_xml" -i "$or_ip" -p "$or_port" -s "$or_name" \
        -key target "sip:$t_name@$t_ip:$t_port" -key target_host "$t_ip" -key target_port "$t_port" "$@"
    local pid_or=$LAST_PID
    sleep 0.3
    wait_bound udp "$or_ip:$or_port"
    [[ -z $pid_target ]] || wait_bound udp "$t_ip:$t_port"
    sipp_start "$tag-transferee" -sf "$SCEN/$ee_xml" -i "$ee_ip" -p "$ee_port" -s "$or_name" \
        -cid_str "$cid" "$or_ip:$or_port"
    local pid_ee=$LAST_PID
    sipp_wait "$pid_ee" "$tag-transferee"
    sipp_wait "$pid_or" "$tag-transferor"
    [[ -z $pid_target ]] || sipp_wait "$pid_target" "$tag-target"
}

# f. Two independent transfers in one capture: Alice-Bob, Bob transfers
#    Alice to Carol (completed, as xfer-blind-completed-udp); then Dave
#    calls Erin, Erin REFERs Dave to Frank, Dave refuses it (403), Erin
#    retries the REFER, Dave accepts (202), Frank answers 200.
if want xfer-two-transfers-udp; then
    out="$HERE/xfer-two-transfers-udp.pcap"
    capture_start "$out" pcap "udp and portrange 5060-5070"
    trio first xfer-blind-alice.xml xfer-blind-bob.xml call-uas.xml \
        'xfer-two-transfers-udp-ab-%u@sipxfer.test' $ALICE:5060 $BOB:5062:bob $CAROL:5064:carol
    sleep 0.5
    trio second xfer-retry-dave.xml xfer-retry-erin.xml call-uas.xml \
        'xfer-two-transfers-udp-de-%u@sipxfer.test' $DAVE:5066 $ERIN:5068:erin $FRANK:5070:frank
    capture_stop "$out"
    # 20 (as xfer-blind-completed-udp) + 22 (the same plus REFER/403).
    check "$out" 42 4
fi

# g. Blind transfer completed through a real proxy: kamailio (Debian
#    package) on 127.0.0.9:5060, stateless, record-routing, forwarding by
#    Request-URI (kamailio-proxy.cfg). Alice uses it as outbound proxy
#    (SIPp -rsa); Bob and Carol answer to where the request came from, the
#    proxy. Every message crosses the proxy: seen twice, same Call-ID.
if want xfer-blind-via-proxy-udp; then
    command -v kamailio >/dev/null || {
        echo "make-samples: missing kamailio (apt-get install -y kamailio)" >&2
        exit 2
    }
    out="$HERE/xfer-blind-via-proxy-udp.pcap"
    PROXY=127.0.0.9
    capture_start "$out" pcap "udp and portrange 5060-5064"
    mkdir -p "$WORK/kamailio"
    kamailio -f "$HERE/kamailio-proxy.cfg" -DD -E -Y "$WORK/kamailio" -w "$WORK/kamailio" \
        -P "$WORK/kamailio/kamailio.pid" >"$WORK/kamailio.log" 2>&1 &
    kamailio_pid=$!
    track $kamailio_pid
    sleep 1
    kill -0 $kamailio_pid 2>/dev/null || {
        echo "make-samples: kamailio did not start" >&2
        tail -n 20 "$WORK/kamailio.log" >&2
        exit 1
    }
    sipp_start carol -sf "$SCEN/call-uas-rr.xml" -i $CAROL -p 5064 -s carol
    carol=$LAST_PID
    sipp_start bob -sf "$SCEN/xfer-proxy-bob.xml" -i $BOB -p 5062 -s bob -key target "sip:carol@$CAROL:5064"
    bob=$LAST_PID
    sleep 0.3
    wait_bound udp $BOB:5062 $CAROL:5064 $PROXY:5060
    sipp_start alice -sf "$SCEN/xfer-proxy-alice.xml" -i $ALICE -p 5060 -s bob -rsa $PROXY:5060 \
        -cid_str 'xfer-blind-via-proxy-udp-%u@sipxfer.test' $BOB:5062
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $bob bob
    sipp_wait $carol carol
    capture_stop "$out"
    end_pid $kamailio_pid
    wait $kamailio_pid 2>/dev/null || true
    # The 20 messages of xfer-blind-completed-udp, each twice.
    check "$out" 40 2
fi

# h. REFER without implicit subscription (RFC 4488): "Refer-Sub: false" and
#    "Supported: norefersub" in the REFER, "Refer-Sub: false" in the 202, no
#    NOTIFY; the transfer completes. A-B call 5, REFER/202, A-C INVITE 100
#    180 200 ACK, BYE/200 (Bob), BYE/200 (Alice to Carol) = 16.
transfer xfer-refer-sub-false-udp xfer-norefersub-alice.xml xfer-norefersub-bob.xml call-uas.xml 16 2

# i. Blind transfer to an unknown target: Refer-To sip:nobody@127.0.0.3:5064
#    answers 404; final NOTIFY "SIP/2.0 404 Not Found"; Bob keeps the call a
#    second, then hangs up. 5 + 2 + 2 + 4 (INVITE 100 404 ACK) + 2 + 2 = 17.
if want xfer-blind-failed-404-udp; then
    out="$HERE/xfer-blind-failed-404-udp.pcap"
    capture_start "$out" pcap "udp and portrange 5060-5064"
    trio main xfer-blind-failed-404-alice.xml xfer-blind-keep-bob.xml notfound-uas.xml \
        'xfer-blind-failed-404-udp-%u@sipxfer.test' $ALICE:5060 $BOB:5062:bob $CAROL:5064:nobody
    capture_stop "$out"
    check "$out" 17 2
fi

# j. The transferor hangs up early: Bob BYEs Alice 50 ms after the first
#    NOTIFY, while Carol is still trying; Carol rings, then answers 486;
#    Alice's final NOTIFY (486) is answered 481 by Bob, who has forgotten
#    the dialog. Alice is left with no call. A-B call 5, REFER/202,
#    NOTIFY/200, BYE/200, A-C INVITE 100 180 486 ACK, NOTIFY/481 = 18.
if want xfer-transferor-hangs-up-early-udp; then
    out="$HERE/xfer-transferor-hangs-up-early-udp.pcap"
    capture_start "$out" pcap "udp and portrange 5060-5064"
    trio main xfer-early-bye-alice.xml xfer-early-bye-bob.xml ring-busy-uas.xml \
        'xfer-transferor-hangs-up-early-udp-%u@sipxfer.test' $ALICE:5060 $BOB:5062:bob $CAROL:5064:carol
    capture_stop "$out"
    check "$out" 18 2
fi

# k. Semi-attended transfer: Bob's consultation call to Carol is still
#    ringing (180, early dialog) when Bob REFERs Alice with Replaces naming
#    it; Alice's INVITE with Replaces is answered by Carol, who ends the
#    early dialog with 487 (Bob ACKs). A-B call 5, B-C INVITE 100 180,
#    REFER/202, NOTIFY/200, A-C INVITE 100 200 ACK, 487/ACK, NOTIFY/200,
#    BYE/200 (Bob), BYE/200 (Alice to Carol) = 24, three Call-IDs.
transfer xfer-semi-attended-udp xfer-attended-alice.xml xfer-semi-bob.xml xfer-semi-carol.xml 24 3

# l. Blind transfer by an out-of-dialog REFER (RFC 4538 Target-Dialog): Bob
#    REFERs Alice outside their call (Call-ID "refer///<D1>", no To tag,
#    Target-Dialog naming D1, Require: tdialog); Alice's 202 adds a To tag
#    and both NOTIFYs travel in that new dialog. A-B call 5, REFER/202,
#    NOTIFY/200, A-C INVITE 100 180 200 ACK, NOTIFY/200, BYE/200 (Bob on
#    D1), BYE/200 (Alice to Carol) = 20, three Call-IDs.
transfer xfer-out-of-dialog-refer-udp xfer-tdialog-alice.xml xfer-tdialog-bob.xml call-uas.xml 20 3

# m. Chained blind transfers A->B->C->D: Alice calls Bob; Bob REFERs Alice
#    to Carol (completed, Bob hangs up); then Carol REFERs Alice, in the
#    Alice-Carol call, to Dave (completed, Carol hangs up); Alice later ends
#    the call with Dave. The second transfer's original call is the first
#    one's new call. 18 (as xfer-blind-completed-udp without the last BYE)
#    + REFER/202, NOTIFY/200, A-D INVITE 100 180 200 ACK, NOTIFY/200,
#    BYE/200 (Carol), BYE/200 (Alice to Dave) = 33, three Call-IDs.
if want xfer-chained-udp; then
    out="$HERE/xfer-chained-udp.pcap"
    capture_start "$out" pcap "udp and portrange 5060-5066"
    sipp_start dave -sf "$SCEN/call-uas.xml" -i $DAVE -p 5066 -s dave
    dave=$LAST_PID
    sipp_start carol -sf "$SCEN/xfer-chain-carol.xml" -i $CAROL -p 5064 -s carol \
        -key target "sip:dave@$DAVE:5066"
    carol=$LAST_PID
    sipp_start bob -sf "$SCEN/xfer-blind-bob.xml" -i $BOB -p 5062 -s bob \
        -key target "sip:carol@$CAROL:5064"
    bob=$LAST_PID
    sleep 0.3
    wait_bound udp $BOB:5062 $CAROL:5064 $DAVE:5066
    sipp_start alice -sf "$SCEN/xfer-chain-alice.xml" -i $ALICE -p 5060 -s bob \
        -cid_str 'xfer-chained-udp-%u@sipxfer.test' $BOB:5062
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $bob bob
    sipp_wait $carol carol
    sipp_wait $dave dave
    capture_stop "$out"
    check "$out" 33 3
fi

echo "make-samples: done"
