#!/usr/bin/env bash
# Makes the B2BUA captures in samples/ (issue 14): transfers through a PBX or
# an SBC, a back-to-back user agent that ends one dialog and starts another
# with a new Call-ID. SIPp plays every party, the box included, from the
# scenarios samples/scenarios/b2bua-*.xml; every address is in 127.0.0.0/8;
# every SIPp run handles one call (-m 1) under a wall-clock timeout, so the
# script always ends. Each capture is checked with tshark against the
# expected SIP message and Call-ID counts; a mismatch fails the script.
#
#   Alice 127.0.0.1:5060  Bob 127.0.0.2:5062  Carol 127.0.0.3:5064
#   the box (PBX or SBC)  127.0.0.10:5060
#
# The box is one SIPp call: every leg's Call-ID ends in "///<leg A's
# Call-ID>" so SIPp matches it to that call (see README "Call-IDs with ///");
# on the wire they are distinct Call-IDs, and sipxfer must not (and does not)
# read anything into the common suffix.
#
# Needs: sipp (sip-tester), tcpdump, tshark, timeout, ss; run as root.
# Usage: samples/make-b2bua.sh [--all] [NAME...]   (default: missing ones)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SCEN="$HERE/scenarios"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipxfer-b2bua.XXXXXX")
PIDFILE="${TMPDIR:-/tmp}/sipxfer-make-b2bua.pids"
PIDS=()

for tool in sipp tcpdump tshark timeout ss; do
    command -v "$tool" >/dev/null || {
        echo "make-b2bua: missing $tool (apt-get install -y sip-tester tshark tcpdump)" >&2
        exit 2
    }
done

# Ends a process this script started, by PID, only if it is one of ours.
end_pid() {
    case "$(cat "/proc/$1/comm" 2>/dev/null || true)" in
        sipp | tcpdump | timeout) kill "$1" 2>/dev/null || true ;;
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

# sipp_start LOGNAME SIPP-ARGS... : one SIPp party in the background.
sipp_start() {
    local name=$1
    shift
    timeout 30 sipp "$@" -m 1 -nostdin -nd -timeout 20s \
        -trace_err -error_file "$WORK/$name.err" >"$WORK/$name.log" 2>&1 &
    track $!
    LAST_PID=$!
}
sipp_wait() {
    local rc=0
    wait "$1" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "make-b2bua: sipp $2 failed (exit $rc)" >&2
        tail -n 30 "$WORK/$2.log" "$WORK/$2.err" >&2 2>/dev/null || true
        exit 1
    fi
}
# wait_bound IP:PORT... : wait (at most 5 s each) until SIPp listens there.
wait_bound() {
    local addr i
    for addr in "$@"; do
        for i in $(seq 50); do
            ss -Hlun "src $addr" | grep -q . && break
            sleep 0.1
        done
    done
}
capture_start() {
    rm -f "$1"
    tcpdump -i lo --immediate-mode -U -n -s 0 -w "$1" "$2" 2>"$WORK/capture.log" &
    CAPTURE_PID=$!
    track "$CAPTURE_PID"
    local i
    for i in $(seq 50); do
        grep -q -i 'listening on' "$WORK/capture.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.2
}
capture_stop() {
    sleep 1.5 # libpcap hands packets over in blocks
    kill -INT "$CAPTURE_PID" 2>/dev/null || true
    wait "$CAPTURE_PID" || true
    chmod 644 "$1"
}
check() {
    local file=$1 want_msgs=$2 want_calls=$3 msgs calls
    msgs=$(tshark -2 -n -r "$file" -Y sip -T fields -E occurrence=a -e sip.CSeq.method 2>/dev/null |
        tr ',' '\n' | grep -c . || true)
    calls=$(tshark -2 -n -r "$file" -Y sip -T fields -E occurrence=a -e sip.Call-ID 2>/dev/null |
        tr ',' '\n' | sort -u | grep -c . || true)
    printf 'make-b2bua: %-34s %6d bytes  %3d SIP messages  %d Call-IDs\n' \
        "$(basename "$file")" "$(stat -c %s "$file")" "$msgs" "$calls"
    if [[ $msgs -ne $want_msgs || $calls -ne $want_calls ]]; then
        echo "make-b2bua: $(basename "$file"): expected $want_msgs messages and $want_calls Call-IDs" >&2
        exit 1
    fi
}

ALICE=127.0.0.1 BOB=127.0.0.2 CAROL=127.0.0.3 BOX=127.0.0.10
FILTER="udp and (host $BOX) and portrange 5060-5064"

ALL=0
SELECTED=()
for arg in "$@"; do
    case "$arg" in
        --all) ALL=1 ;;
        -*) echo "usage: make-b2bua.sh [--all] [NAME...]" >&2; exit 2 ;;
        *) SELECTED+=("${arg%.pcap*}") ;;
    esac
done
want() {
    if [[ ${#SELECTED[@]} -gt 0 ]]; then
        [[ " ${SELECTED[*]} " == *" $1 "* ]]
    elif [[ $ALL -eq 1 ]]; then
        true
    else
        [[ ! -e "$HERE/$1.pcap" ]]
    fi
}

# b2bua NAME PREFIX MESSAGES CALL_IDS : one capture; the parties' scenarios
# are scenarios/b2bua-PREFIX-{box,alice,bob,carol}.xml (Carol: call-uas.xml
# when there is no carol file). The box starts first, then Bob and Carol,
# then Alice places leg A.
b2bua() {
    local name=$1 prefix=$2 msgs=$3 calls=$4 box bob carol alice carol_xml
    want "$name" || return 0
    local out="$HERE/$name.pcap"
    carol_xml="$SCEN/b2bua-$prefix-carol.xml"
    [[ -f $carol_xml ]] || carol_xml="$SCEN/call-uas.xml"
    capture_start "$out" "$FILTER"
    sipp_start box -sf "$SCEN/b2bua-$prefix-box.xml" -i $BOX -p 5060 -s bob
    box=$LAST_PID
    sipp_start carol -sf "$carol_xml" -i $CAROL -p 5064 -s carol
    carol=$LAST_PID
    sipp_start bob -sf "$SCEN/b2bua-$prefix-bob.xml" -i $BOB -p 5062 -s bob \
        -key target "sip:carol@$CAROL:5064"
    bob=$LAST_PID
    wait_bound $BOX:5060 $BOB:5062 $CAROL:5064
    sleep 0.3
    sipp_start alice -sf "$SCEN/b2bua-$prefix-alice.xml" -i $ALICE -p 5060 -s bob \
        -cid_str "$name-%u@sipxfer.test" $BOX:5060
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $bob bob
    sipp_wait $carol carol
    sipp_wait $box box
    capture_stop "$out"
    check "$out" "$msgs" "$calls"
}

# 1. PBX-executed blind transfer: legs A (Alice-PBX), B (PBX-Bob), C
#    (PBX-Carol). A+B call 10, REFER/202, NOTIFY 100/200, C call 5,
#    re-INVITE of A 3, NOTIFY 200/200, Bob BYE/200, Alice BYE/200, PBX
#    BYE C/200 = 30 messages, 3 Call-IDs.
b2bua b2bua-pbx-blind-udp blind 30 3

# 2. PBX-executed attended transfer, consultation on the same PBX: legs A
#    (Alice-PBX), B (PBX-Bob), B2 (Bob-PBX, consultation), C (PBX-Carol).
#    A+B call 10, B2+C call 10, REFER/202, NOTIFY 100/200 and 200/200, PBX
#    BYE B2/200 and B/200, Alice BYE/200, PBX BYE C/200 = 34 messages,
#    4 Call-IDs.
b2bua b2bua-pbx-attended-udp attended 34 4

# 3. SBC relaying an attended REFER with rewritten Call-IDs, tags and
#    Replaces: A1/A2, C1/C2, N1/N2 (two legs a dialog). A call 10, C call
#    10, REFER+202 relayed 4, NOTIFY 100 relayed 4, INVITE with Replaces
#    relayed 8 (SBC 100 to Alice, INVITE N2, 100, 200, 200, ACK, ACK), Carol
#    BYE C2/200 + SBC BYE C1/200, NOTIFY 200 relayed 4, BYE A2/A1 4, BYE
#    N1/N2 4 = 52 messages, 6 Call-IDs.
b2bua b2bua-sbc-attended-udp sbc 52 6
