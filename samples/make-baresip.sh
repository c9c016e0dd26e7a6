#!/usr/bin/env bash
# Makes samples/xfer-blind-baresip-udp.pcap: a blind transfer played by three
# real user agents, baresip (Debian bookworm: baresip 1.0.0), on loopback.
#
#   Alice 127.0.0.1:5060   Bob 127.0.0.2:5062   Carol 127.0.0.3:5064   (UDP)
#
# Alice calls sip:bob@127.0.0.2:5062 (direct IP call, no registrar); Bob
# answers (answermode=auto), then blind-transfers her with the menu command
# `/transfer sip:carol@127.0.0.3:5064` (REFER); Alice calls Carol, who answers
# (answermode=auto); Bob hangs up when Alice's NOTIFY says "200 OK"; Alice
# then hangs up on Carol. Audio comes from a WAV file shipped with baresip
# (aufile module) and is played nowhere, so no sound card is needed; the
# capture holds the RTP (PCMU) too. (At the end of the WAV, 5 s, baresip
# hangs up by itself: every call here is shorter.)
#
# baresip 1.0.0 has no attended transfer (no /atransferstart, and no
# Replaces support at all), so there is no attended baresip capture.
#
# Needs (installs nothing): baresip (Debian packages baresip / baresip-core),
# tcpdump, tshark, timeout and stdbuf (coreutils), ss (iproute2); run as root
# (capturing on lo). Usage:
#   samples/make-baresip.sh           # only when the capture is missing
#   samples/make-baresip.sh --force   # remake it (tests/real_ua.rs pins the
#                                     # frame numbers of the checked-in file)
# KEEP_WORK=1 keeps the baresip configs and logs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/xfer-blind-baresip-udp.pcap"
PIDFILE="${TMPDIR:-/tmp}/sipxfer-make-baresip.pids"
PIDS=()

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        *) echo "usage: make-baresip.sh [--force]" >&2; exit 2 ;;
    esac
done
if [[ -e $OUT && $FORCE -eq 0 ]]; then
    echo "make-baresip: $(basename "$OUT") exists (--force remakes it)"
    exit 0
fi

for tool in baresip tcpdump tshark timeout stdbuf ss; do
    command -v "$tool" >/dev/null || {
        echo "make-baresip: missing $tool (apt-get install -y baresip tcpdump tshark)" >&2
        exit 2
    }
done
MODULES=/usr/lib/baresip/modules
for mod in stdio g711 aufile account menu; do
    [[ -f $MODULES/$mod.so ]] || {
        echo "make-baresip: missing baresip module $MODULES/$mod.so (package baresip-core)" >&2
        exit 2
    }
done
WAV=/usr/share/baresip/callwaiting.wav # 16-bit PCM, 8000 Hz, mono, 5 s
[[ -f $WAV ]] || { echo "make-baresip: missing $WAV (package baresip-core)" >&2; exit 2; }
# (baresip -h exits non-zero)
VERSION=$({ baresip -h 2>&1 || true; } | sed -n 's/^baresip v\([0-9.]*\).*/\1/p' | head -n 1)
if [[ $VERSION != 1.0.0 ]]; then
    echo "make-baresip: warning: baresip $VERSION, samples/README.md describes 1.0.0" >&2
fi

end_pid() {
    case "$(cat "/proc/$1/comm" 2>/dev/null || true)" in
        baresip | tcpdump | timeout) kill "$1" 2>/dev/null || true ;;
    esac
}
# Leftovers of an interrupted run (only the processes it recorded).
if [[ -f $PIDFILE ]]; then
    while read -r pid; do [[ -n $pid ]] && end_pid "$pid"; done <"$PIDFILE"
    rm -f "$PIDFILE"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipxfer-baresip.XXXXXX")
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do end_pid "$pid"; done
    rm -f "$PIDFILE"
    [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
track() { PIDS+=("$1"); echo "$1" >>"$PIDFILE"; }

fail() {
    echo "make-baresip: $*" >&2
    local u
    for u in alice bob carol; do
        [[ -f $WORK/$u.log ]] || continue
        echo "--- $u.log (tail)" >&2
        tr '\r' '\n' <"$WORK/$u.log" | grep -v -e '^/' -e '^\[' -e '^$' | tail -n 8 >&2 || true
    done
    exit 1
}

# ua_config NAME IP PORT RTP_PORT : a config dir with one account, no
# registration (regint=0), auto answer, PCMU only, audio from $WAV, no player,
# media bound to the UA's own address (net_interface takes an address).
ua_config() {
    local name=$1 ip=$2 port=$3 rtp=$4 dir=$WORK/$1
    mkdir -p "$dir"
    cat >"$dir/config" <<EOF
poll_method		epoll
sip_listen		$ip:$port
net_interface		$ip
call_local_timeout	20
call_max_calls		4
audio_player		none
audio_alert		none
audio_source		aufile,$WAV
rtp_ports		$rtp-$((rtp + 9))
rtp_timeout		0
module_path		$MODULES
module			stdio.so
module			g711.so
module			aufile.so
module_tmp		account.so
module_app		menu.so
EOF
    echo "<sip:$name@$ip:$port>;regint=0;answermode=auto;audio_codecs=PCMU" >"$dir/accounts"
    : >"$dir/contacts"
}

# ua_start NAME IP PORT : baresip in the background, reading commands from a
# FIFO (the stdio UI module); FD_NAME is the write end; its log is line
# buffered (stdbuf) as wait_log reads it. -t and timeout bound it.
ua_start() {
    local name=$1 ip=$2 port=$3 fd i
    mkfifo "$WORK/$name.fifo"
    timeout 40 stdbuf -oL -eL baresip -f "$WORK/$name" -t 35 <"$WORK/$name.fifo" >"$WORK/$name.log" 2>&1 &
    track $!
    exec {fd}>"$WORK/$name.fifo"
    printf -v "FD_$name" '%s' "$fd"
    for i in $(seq 50); do
        [[ -n $(ss -Hlun "src $ip:$port") ]] && return 0
        sleep 0.1
    done
    fail "$name does not listen on $ip:$port"
}

# cmd NAME COMMAND : one menu command to that UA.
cmd() {
    local fd_var="FD_$1"
    echo "$2" >&"${!fd_var}"
}

# wait_log NAME REGEX : wait (at most 5 s) until the UA's log matches.
wait_log() {
    local i
    for i in $(seq 50); do
        grep -a -q -E "$2" "$WORK/$1.log" && return 0
        sleep 0.1
    done
    fail "$1: no '$2' within 5 s"
}

ALICE=127.0.0.1
BOB=127.0.0.2
CAROL=127.0.0.3

ua_config alice $ALICE 5060 10000
ua_config bob $BOB 5062 10010
ua_config carol $CAROL 5064 10020

rm -f "$OUT"
tcpdump -i lo --immediate-mode -U -n -s 0 -w "$OUT" \
    "udp and (port 5060 or port 5062 or port 5064 or portrange 10000-10029)" \
    2>"$WORK/capture.log" &
CAPTURE_PID=$!
track $CAPTURE_PID
for i in $(seq 50); do
    grep -q 'listening on' "$WORK/capture.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.2

ua_start carol $CAROL 5064
ua_start bob $BOB 5062
ua_start alice $ALICE 5060
wait_log carol 'baresip is ready'
wait_log bob 'baresip is ready'
wait_log alice 'baresip is ready'

cmd alice "/dial sip:bob@$BOB:5062"
wait_log alice "Call established: sip:bob@$BOB:5062"
sleep 0.5 # short calls: the RTP makes most of the file
cmd bob "/transfer sip:carol@$CAROL:5064"
wait_log alice "Call established: sip:carol@$CAROL:5064"
wait_log alice "sip:bob@$BOB:5062: session closed" # Bob's BYE
sleep 0.5
cmd alice "/hangup"
wait_log carol "sip:alice@$ALICE:5060: session closed" # Alice's BYE
for u in alice bob carol; do cmd "$u" "/quit"; done
for pid in "${PIDS[@]:1}"; do
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
done

# libpcap hands packets over in blocks; stop the capture a little later.
sleep 1.5
kill -INT "$CAPTURE_PID" 2>/dev/null || true
wait "$CAPTURE_PID" || true
chmod 644 "$OUT"
chown --reference="$HERE" "$OUT" 2>/dev/null || true # tcpdump hands it to its user

# Check the capture with tshark: 18 SIP messages, 2 Call-IDs, one REFER.
field() { tshark -2 -n -r "$OUT" -Y sip -T fields -E occurrence=a -e "$1" 2>/dev/null | tr ',' '\n'; }
msgs=$(field sip.CSeq.method | grep -c . || true)
calls=$(field sip.Call-ID | sort -u | grep -c . || true)
refers=$(field sip.Method | grep -c '^REFER$' || true)
printf 'make-baresip: %s  %d bytes  %d SIP messages  %d Call-IDs  (baresip %s)\n' \
    "$(basename "$OUT")" "$(stat -c %s "$OUT")" "$msgs" "$calls" "$VERSION"
if [[ $msgs -ne 18 || $calls -ne 2 || $refers -ne 1 ]]; then
    fail "$(basename "$OUT"): expected 18 SIP messages, 2 Call-IDs and 1 REFER"
fi
