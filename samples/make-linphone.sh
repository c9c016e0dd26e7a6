#!/usr/bin/env bash
# Makes samples/xfer-attended-linphone-udp.pcap: an attended transfer played by
# three real user agents, linphonec (Debian bookworm: linphone-cli 5.1.65,
# liblinphone 5.1.65, belle-sip 5.1.64), on loopback.
#
#   Alice 127.0.0.1:5060   Bob 127.0.0.2:5062   Carol 127.0.0.3:5060   (UDP)
#
# Alice calls sip:bob@127.0.0.2:5062 (direct IP call, no registrar); Bob
# answers (linphonec -a: auto answer) and puts her on hold (`pause 1`,
# re-INVITE a=sendonly); Bob calls Carol (`call sip:carol@127.0.0.3`), who
# answers (-a); Bob transfers Alice to that call (`transfer 1 --to-call 2`:
# REFER with Refer-To <sip:carol@127.0.0.3?Replaces=...>); Alice puts Bob on
# hold herself and INVITEs Carol with Replaces; Carol ends the Bob-Carol call
# (BYE to Bob) and answers Alice (automatically, she replaces a call that was
# answered); Alice's NOTIFY "200 Ok" makes Bob BYE her; Alice then hangs up on
# Carol (`terminate 2`). Audio comes from a WAV file shipped with linphone
# (`soundcard use files`, `play`) and is played nowhere, so no sound card is
# needed; the capture holds the RTP (PCMU) too.
#
# Carol listens on 5060, not 5064: liblinphone writes From, To and so the
# Refer-To of an attended transfer without the port (To: sip:carol@127.0.0.3
# for a call to sip:carol@127.0.0.3:5064, and any port Bob dials is dropped),
# so Alice's INVITE goes to the default port 5060 and Carol must be there.
#
# Needs (installs nothing): linphonec (Debian package linphone-cli, with
# linphone-common for the WAV), tcpdump, tshark, timeout and stdbuf
# (coreutils), ss (iproute2); run as root (capturing on lo). Usage:
#   samples/make-linphone.sh           # only when the capture is missing
#   samples/make-linphone.sh --force   # remake it (tests/real_ua.rs pins the
#                                      # frame numbers of the checked-in file)
# KEEP_WORK=1 keeps the linphonec configs and logs (debug logs: -d 5).
set -euo pipefail

ME=make-linphone
OUT="$(cd "$(dirname "$0")" && pwd)/xfer-attended-linphone-udp.pcap"
UA=linphonec
NEEDS="linphonec tcpdump tshark timeout stdbuf ss"
INSTALL="apt-get install -y linphone-cli tcpdump tshark"
# shellcheck source=samples/real-ua.sh
source "$(dirname "$0")/real-ua.sh"

WAV=/usr/share/sounds/linphone/hello8000.wav # 16-bit PCM, 8000 Hz, mono
[[ -f $WAV ]] || { echo "make-linphone: missing $WAV (package linphone-common)" >&2; exit 2; }
VERSION=$({ linphonec -v 2>&1 || true; } | sed -n 's/^version: \([0-9.]*\).*/\1/p' | head -n 1)
if [[ $VERSION != 5.1.65 ]]; then
    echo "make-linphone: warning: linphonec $VERSION, samples/README.md describes 5.1.65" >&2
fi

ua_log_tail() { grep -a -v -e 'soundcard with capabilities' -e '^$' "$WORK/$1.log" | tail -n 8; }

# ua_config NAME IP PORT RTP_PORT : a HOME with a linphonerc: UDP only, SIP
# and RTP bound to the UA's own address, identity sip:NAME@IP:PORT, no
# registration (no proxy), PCMU only, no echo canceller. liblinphone wants its
# database directory to exist before it starts listening.
ua_config() {
    local name=$1 ip=$2 port=$3 rtp=$4 dir=$WORK/$1
    mkdir -p "$dir/.local/share/linphone"
    cat >"$dir/linphonerc" <<EOF
[sip]
sip_port=$port
sip_tcp_port=0
sip_tls_port=0
bind_address=$ip
contact=sip:$name@$ip:$port
guess_hostname=0
inc_timeout=20

[rtp]
audio_rtp_port=$rtp
bind_address=$ip

[sound]
echocancellation=0

[audio_codec_0]
mime=PCMU
rate=8000
channels=1
enabled=1

[audio_codec_1]
mime=opus
rate=48000
channels=2
enabled=0

[audio_codec_2]
mime=speex
rate=16000
channels=1
enabled=0

[audio_codec_3]
mime=speex
rate=8000
channels=1
enabled=0

[audio_codec_4]
mime=PCMA
rate=8000
channels=1
enabled=0

[audio_codec_5]
mime=G729
rate=8000
channels=1
enabled=0
EOF
}

# ua_start NAME IP PORT : linphonec with a HOME of its own (-a: auto answer),
# taking commands on its standard input (ua_run); timeout bounds it.
ua_start() {
    ua_run "$1" "$2" "$3" env HOME="$WORK/$1" timeout 45 \
        linphonec -c "$WORK/$1/linphonerc" -a -d 5 -l "$WORK/$1/debug.log"
}

ALICE=127.0.0.1
BOB=127.0.0.2
CAROL=127.0.0.3

ua_config alice $ALICE 5060 10000
ua_config bob $BOB 5062 10010
ua_config carol $CAROL 5060 10020

capture_start "udp and (port 5060 or port 5062 or portrange 10000-10029)"

ua_start carol $CAROL 5060
ua_start bob $BOB 5062
ua_start alice $ALICE 5060
for u in alice bob carol; do
    cmd "$u" "soundcard use files"
    cmd "$u" "play $WAV"
done
sleep 0.5

cmd alice "call sip:bob@$BOB:5062"
wait_log alice "Media streams established with sip:bob@$BOB:5062 for call 1"
sleep 0.5 # short calls: the RTP makes most of the file
cmd bob "pause 1"
wait_log bob "Call 1 with sip:alice@$ALICE is now paused"
cmd bob "call sip:carol@$CAROL"
wait_log bob "Media streams established with sip:carol@$CAROL for call 2"
sleep 0.5
cmd bob "transfer 1 --to-call 2"
wait_log alice "Call 2 with <sip:carol@$CAROL\?Replaces=[^>]*> connected"
wait_log carol "Call 1 with sip:bob@$BOB ended"     # Carol's BYE to Bob
wait_log bob "Call 1 with sip:alice@$ALICE ended"   # Bob's BYE to Alice
sleep 0.5
cmd alice "terminate 2"
wait_log carol "Call 2 with sip:alice@$ALICE ended" # Alice's BYE
for u in alice bob carol; do cmd "$u" "quit"; done
capture_stop

# Check the capture with tshark: 35 SIP messages, 3 Call-IDs, one REFER whose
# Refer-To carries Replaces, one INVITE with a Replaces header.
msgs=$(field sip.CSeq.method | grep -c . || true)
calls=$(field sip.Call-ID | sort -u | grep -c . || true)
refers=$(field sip.Method | grep -c '^REFER$' || true)
attended=$(field sip.Refer-To | grep -c 'Replaces=' || true)
replaces=$(tshark -2 -n -r "$OUT" -Y 'sip.Method == "INVITE" && sip.Replaces' 2>/dev/null | grep -c . || true)
printf 'make-linphone: %s  %d bytes  %d SIP messages  %d Call-IDs  (linphonec %s)\n' \
    "$(basename "$OUT")" "$(stat -c %s "$OUT")" "$msgs" "$calls" "$VERSION"
if [[ $msgs -ne 35 || $calls -ne 3 || $refers -ne 1 || $attended -ne 1 || $replaces -ne 1 ]]; then
    fail "$(basename "$OUT"): expected 35 SIP messages, 3 Call-IDs, 1 REFER with Replaces in its Refer-To and 1 INVITE with Replaces"
fi
