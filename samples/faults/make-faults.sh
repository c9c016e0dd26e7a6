#!/usr/bin/env bash
# Makes the fault captures in samples/faults/: each is one SIP call transfer
# on loopback, played by SIPp phones, with ONE protocol violation that a
# sipxfer rule (code in the file name) must report. The flows are those of
# ../make-samples.sh (blind: xfer-blind-completed-udp, attended:
# xfer-attended-replaces-udp) with the scenario changed in
# scenarios/NAME-ROLE.xml; a role without its own file plays the ordinary
# scenario from ../scenarios/.
#
#   Alice 127.0.0.1:5060   Bob 127.0.0.2:5062   Carol 127.0.0.3:5064
#
# Every SIPp run handles one call (-m 1, -nd, -timeout 20s) under
# `timeout 30`; tcpdump captures on lo (--immediate-mode) and is stopped
# 1.5 s after the last phone ends. Each capture is checked with tshark
# against the expected SIP message and Call-ID counts.
#
# Needs: sipp (sip-tester), tcpdump, tshark, python3, ss; run as root.
# Usage: samples/faults/make-faults.sh [--all] [NAME...]   (default: missing ones)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
FSCEN="$HERE/scenarios"
SCEN="$HERE/../scenarios"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipxfer-faults.XXXXXX")
PIDFILE="${TMPDIR:-/tmp}/sipxfer-make-faults.pids"
PIDS=()
CURRENT_OUT=""

for tool in sipp tcpdump tshark python3 timeout ss; do
    command -v "$tool" >/dev/null || {
        echo "make-faults: missing $tool (apt-get install -y sip-tester tshark tcpdump)" >&2
        exit 2
    }
done

# The helpers below are those of ../make-samples.sh.
end_pid() {
    local pid=$1
    case "$(cat "/proc/$pid/comm" 2>/dev/null || true)" in
        sipp | tcpdump | timeout) kill "$pid" 2>/dev/null || true ;;
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
    # A capture whose run failed is removed, so the next run makes it again.
    [[ -z $CURRENT_OUT ]] || rm -f "$CURRENT_OUT"
    [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
track() { PIDS+=("$1"); echo "$1" >>"$PIDFILE"; }

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
        echo "make-faults: sipp $2 failed (exit $rc)" >&2
        tail -n 20 "$WORK/$2.log" "$WORK/$2.err" >&2 2>/dev/null || true
        exit 1
    fi
}
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
    local file=$1 filter=$2 i
    rm -f "$file"
    tcpdump -i lo --immediate-mode -U -n -s 0 -w "$file" "$filter" 2>"$WORK/capture.log" &
    CAPTURE_PID=$!
    track "$CAPTURE_PID"
    for i in $(seq 50); do
        grep -q -i 'listening on' "$WORK/capture.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.2
}
capture_stop() {
    sleep 1.5
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
    printf 'make-faults: %-44s %6d bytes  %3d SIP messages  %d Call-IDs\n' \
        "$(basename "$file")" "$(stat -c %s "$file")" "$msgs" "$calls"
    if [[ $msgs -ne $want_msgs || $calls -ne $want_calls ]]; then
        echo "make-faults: $(basename "$file"): expected $want_msgs messages and $want_calls Call-IDs" >&2
        exit 1
    fi
}

ALICE=127.0.0.1
BOB=127.0.0.2
CAROL=127.0.0.3

ALL=0
SELECTED=()
for arg in "$@"; do
    case "$arg" in
        --all) ALL=1 ;;
        -*) echo "usage: make-faults.sh [--all] [NAME...]" >&2; exit 2 ;;
        *) SELECTED+=("${arg%.pcap}") ;;
    esac
done
want() {
    if [[ ${#SELECTED[@]} -gt 0 ]]; then
        [[ " ${SELECTED[*]} " == *" $1 "* ]]
    elif [[ $ALL -eq 1 ]]; then
        true
    else
        [[ ! -e $HERE/$1.pcap ]]
    fi
}

# scenario NAME ROLE DEFAULT : the fault's own scenario for ROLE, or the
# ordinary one from ../scenarios/.
scenario() {
    if [[ -f $FSCEN/$1-$2.xml ]]; then echo "$FSCEN/$1-$2.xml"; else echo "$SCEN/$3"; fi
}

# fault NAME KIND MESSAGES CALL_IDS : KIND blind|attended|rejected|busy
# picks the ordinary scenarios; NAME's own files replace some of them.
fault() {
    local name=$1 kind=$2 msgs=$3 calls=$4 a b c carol="" bob alice
    want "$name" || return 0
    case "$kind" in
        blind) a=xfer-blind-alice.xml b=xfer-blind-bob.xml c=call-uas.xml ;;
        busy) a=xfer-blind-failed-alice.xml b=xfer-blind-bob.xml c=busy-uas.xml ;;
        attended) a=xfer-attended-alice.xml b=xfer-attended-bob.xml c=xfer-attended-carol.xml ;;
        rejected) a=xfer-rejected-alice.xml b=xfer-rejected-bob.xml c=- ;;
        early-bye) a=xfer-early-bye-alice.xml b=xfer-early-bye-bob.xml c=ring-busy-uas.xml ;;
        attended-blind) a=xfer-blind-alice.xml b=xfer-attended-bob.xml c=xfer-attended-carol.xml ;;
    esac
    local out="$HERE/$name.pcap"
    CURRENT_OUT=$out
    capture_start "$out" "udp and portrange 5060-5064"
    if [[ $c != - ]]; then
        sipp_start carol -sf "$(scenario "$name" carol "$c")" -i $CAROL -p 5064 -s carol
        carol=$LAST_PID
    fi
    sipp_start bob -sf "$(scenario "$name" bob "$b")" -i $BOB -p 5062 -s bob \
        -key target "sip:carol@$CAROL:5064" -key target_host $CAROL -key target_port 5064
    bob=$LAST_PID
    sleep 0.3
    wait_bound $BOB:5062
    [[ -z $carol ]] || wait_bound $CAROL:5064
    sipp_start alice -sf "$(scenario "$name" alice "$a")" -i $ALICE -p 5060 -s bob \
        -cid_str "$name-%u@sipxfer.test" $BOB:5062
    alice=$LAST_PID
    sipp_wait $alice alice
    sipp_wait $bob bob
    [[ -z $carol ]] || sipp_wait $carol carol
    capture_stop "$out"
    check "$out" "$msgs" "$calls"
    CURRENT_OUT=""
}

# REFER refused because of its Refer-To: A-B call 5, REFER/4xx, BYE/200 = 9.
fault x101-refer-to-missing rejected 9 1
fault x102-refer-to-multiple rejected 9 1
fault x103-refer-to-invalid-uri rejected 9 1
fault x104-refer-to-empty-user rejected 9 1
# Blind transfer flows, 20 messages like xfer-blind-completed-udp.
fault x105-refer-in-early-dialog blind 20 2
fault ok107-refer-answered-200 blind 20 2
fault x203-replaces-in-bye blind 20 2
fault x302-notify-without-event blind 20 2
fault x303-notify-body-not-sipfrag blind 20 2
fault x304-notify-without-subscription-state blind 20 2
fault x305-final-status-subscription-active blind 20 2
fault x306-terminated-reason-timeout blind 20 2
fault x307-subscription-state-malformed blind 20 2
fault x312-notify-despite-refer-sub-false blind 20 2
fault x401-referred-by-not-copied blind 20 2
fault x601-content-length-mismatch blind 20 2
# No NOTIFY at all: 20 - 4 = 16.
fault x301-refer-accepted-no-notify blind 16 2
# One more NOTIFY/200 after the terminating one: 22.
fault x309-notify-after-termination blind 22 2
# INFO/200 before the REFER: 22.
fault x310-cseq-not-increasing blind 22 2
# Target busy (INVITE 100 486 ACK): 17, like xfer-blind-failed-target-busy-udp.
fault x311-sipfrag-contradicts-responses busy 17 2
# Attended with Replaces, 26 messages and 3 Call-IDs like
# xfer-attended-replaces-udp; without the consultation BYE/200: 24.
fault x201-replaces-without-tags attended 26 3
fault x202-replaces-empty-tags attended 26 3
fault x204-replaces-multiple attended 26 3
fault x205-replaces-ignored attended 24 3

# Two REFERs in one dialog: the busy transfer without the BYE (15), then REFER/202, NOTIFY
# 100/200, INVITE 100 180 200 ACK, NOTIFY 200/200, BYE/200, BYE/200 (Carol)
# = 15 + 15 = 30 messages; Call-IDs: A-B, target///, target2/// = 3.
fault x308-notify-without-id blind 30 3
# The flow of ../xfer-transferor-hangs-up-early-udp.pcap, remade under this
# name (same scenarios): Bob BYEs Alice before Carol answers 486. 18 messages.
fault x501-released-before-outcome-caller-lost early-bye 18 2

# Issue 12.
# Refused REFER flow with a 407 challenge that is never retried: 9 messages.
fault x108-refer-challenge-not-retried rejected 9 1
# Refused REFER flow with 483 Too Many Hops: 9 messages.
fault x109-refer-too-many-hops rejected 9 1
# Blind with the first REFER challenged 407 and sent again (+2); the NOTIFYs say
# id=1, the challenged REFER's CSeq: 22.
fault x316-notify-id-not-refer-cseq blind 22 2
# Blind, the REFER's To has no tag: 20.
fault x110-refer-in-dialog-without-to-tag blind 20 2
# Attended; Bob BYEs the consultation call before the REFER (+2), the target
# does not (-2): 26.
fault x210-replaces-dialog-already-ended attended 26 3
# Attended, the INVITE's Replaces changed; the target still accepts: 26 like the base.
fault x207-replaces-unmatched-accepted attended 26 3
fault x209-replaces-tags-swapped attended 26 3
# Blind, Bob answers no NOTIFY: 20 - 2 answers + 2 resends of each NOTIFY = 22.
fault x313-notify-unanswered blind 22 2
# Blind, the INVITE's Referred-By names Alice instead of Bob: 20.
fault x402-referred-by-changed blind 20 2
# Early BYE, then the target answers: INVITE 100 180 200 ACK (not 486/ACK),
# final NOTIFY 200 answered 481, and Alice's BYE/200 to the target: 18 + 2 = 20.
fault x315-notify-rejected-after-release early-bye 20 2
# Attended, the INVITE's Replaces names an unknown Call-ID: INVITE 100 481 ACK
# instead of INVITE 100 200 ACK, no BYE of the new call, Bob ends the
# consultation call instead of the target: 26 - 2 = 24.
fault x208-replaces-rejected-481 attended 24 3
# Blind; Alice cancels the new call and sends no final NOTIFY: A-B 5, REFER 2,
# NOTIFY 2, INVITE 100 180 CANCEL 200 487 ACK 7, BYE 2 = 18.
fault x314-no-final-notify blind 18 2
# Attended consultation, then a REFER without Replaces: Alice plays the blind
# transferee; the target answers her INVITE 100 200 (no 180); Bob ends the
# consultation call himself: 5 + 5 + 2 + 2 + 4 + 2 + 2 + 2 + 2 = 26.
fault x503-attended-downgraded-to-blind attended-blind 26 3
# Blind, the new call's 200 never ACKed; the target hangs up (BYE/200 from
# Carol instead of Alice): 20 - 1 ACK = 19.
fault x502-new-call-2xx-not-acked blind 19 2

# X603: not a SIPp run of its own but ok107-refer-answered-200.pcap cut 40 bytes
# short, inside its last record, as a capture copied while tcpdump was still writing.
if want x603-input-damaged; then
    src="$HERE/ok107-refer-answered-200.pcap"
    size=$(stat -c %s "$src")
    head -c $((size - 40)) "$src" >"$HERE/x603-input-damaged.pcap"
    chmod 644 "$HERE/x603-input-damaged.pcap"
    echo "make-faults: x603-input-damaged.pcap cut from ok107-refer-answered-200.pcap ($size - 40 bytes)"
fi

echo "make-faults: done"
