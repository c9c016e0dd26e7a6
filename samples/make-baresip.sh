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

ME=make-baresip
OUT="$(cd "$(dirname "$0")" && pwd)/xfer-blind-baresip-udp.pcap"
UA=baresip
NEEDS="baresip tcpdump tshark timeout stdbuf ss"
INSTALL="apt-get install -y baresip tcpdump tshark"
# shellcheck source=samples/real-ua.sh
source "$(dirname "$0")/real-ua.sh"

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

ua_log_tail() { tr '\r' '\n' <"$WORK/$1.log" | grep -v -e '^/' -e '^\[' -e '^$' | tail -n 8; }

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

# ua_start NAME IP PORT : baresip, taking commands through its stdio UI module
# (ua_run); -t and timeout bound it.
ua_start() {
    ua_run "$1" "$2" "$3" timeout 40 baresip -f "$WORK/$1" -t 35
}

ALICE=127.0.0.1
BOB=127.0.0.2
CAROL=127.0.0.3

ua_config alice $ALICE 5060 10000
ua_config bob $BOB 5062 10010
ua_config carol $CAROL 5064 10020

capture_start "udp and (port 5060 or port 5062 or port 5064 or portrange 10000-10029)"

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
capture_stop

# Check the capture with tshark: 18 SIP messages, 2 Call-IDs, one REFER.
msgs=$(field sip.CSeq.method | grep -c . || true)
calls=$(field sip.Call-ID | sort -u | grep -c . || true)
refers=$(field sip.Method | grep -c '^REFER$' || true)
printf 'make-baresip: %s  %d bytes  %d SIP messages  %d Call-IDs  (baresip %s)\n' \
    "$(basename "$OUT")" "$(stat -c %s "$OUT")" "$msgs" "$calls" "$VERSION"
if [[ $msgs -ne 18 || $calls -ne 2 || $refers -ne 1 ]]; then
    fail "$(basename "$OUT"): expected 18 SIP messages, 2 Call-IDs and 1 REFER"
fi
