# What make-baresip.sh and make-linphone.sh share: sourced, not run. Each of them
# sets, before sourcing:
#   ME        its name, for messages (make-baresip)
#   OUT       the capture it makes
#   UA        the UA's process name (baresip, linphonec): the only processes,
#             besides tcpdump and timeout, it ever ends
#   NEEDS     the tools it needs, and INSTALL the apt-get line that brings them
# and may define ua_log_tail NAME, which prints the last lines of a UA's log.
#
# Every UA reads its commands from a FIFO (cmd), writes a line-buffered log
# (wait_log), and is bounded by timeout; every wait is bounded too. The PIDs of
# what it starts are recorded, so an interrupted run's leftovers are ended next
# time, and nothing else is ever killed.

HERE=$(cd "$(dirname "$0")" && pwd)
PIDFILE="${TMPDIR:-/tmp}/sipxfer-$ME.pids"
PIDS=()

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        *) echo "usage: $ME.sh [--force]" >&2; exit 2 ;;
    esac
done
if [[ -e $OUT && $FORCE -eq 0 ]]; then
    echo "$ME: $(basename "$OUT") exists (--force remakes it)"
    exit 0
fi

for tool in $NEEDS; do
    command -v "$tool" >/dev/null || {
        echo "$ME: missing $tool ($INSTALL)" >&2
        exit 2
    }
done

end_pid() {
    case "$(cat "/proc/$1/comm" 2>/dev/null || true)" in
        "$UA" | tcpdump | timeout) kill "$1" 2>/dev/null || true ;;
    esac
}
# Leftovers of an interrupted run (only the processes it recorded).
if [[ -f $PIDFILE ]]; then
    while read -r pid; do [[ -n $pid ]] && end_pid "$pid"; done <"$PIDFILE"
    rm -f "$PIDFILE"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipxfer-$ME.XXXXXX")
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do end_pid "$pid"; done
    rm -f "$PIDFILE"
    [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
track() { PIDS+=("$1"); echo "$1" >>"$PIDFILE"; }

ua_log_tail() { grep -a -v '^$' "$WORK/$1.log" | tail -n 8; }

fail() {
    echo "$ME: $*" >&2
    local u
    for u in alice bob carol; do
        [[ -f $WORK/$u.log ]] || continue
        echo "--- $u.log (tail)" >&2
        ua_log_tail "$u" >&2 || true
    done
    exit 1
}

# ua_run NAME IP PORT COMMAND... : COMMAND in the background, reading from the
# FIFO whose write end is FD_NAME, its output line buffered (stdbuf) into
# NAME.log; waits (at most 10 s) until it listens on IP:PORT.
ua_run() {
    local name=$1 ip=$2 port=$3 fd i
    shift 3
    mkfifo "$WORK/$name.fifo"
    stdbuf -oL -eL "$@" <"$WORK/$name.fifo" >"$WORK/$name.log" 2>&1 &
    track $!
    exec {fd}>"$WORK/$name.fifo"
    printf -v "FD_$name" '%s' "$fd"
    for i in $(seq 100); do
        [[ -n $(ss -Hlun "src $ip:$port") ]] && return 0
        sleep 0.1
    done
    fail "$name does not listen on $ip:$port"
}

# cmd NAME COMMAND : one command to that UA.
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

# capture_start FILTER : tcpdump on lo into $OUT, once it listens.
capture_start() {
    local i
    rm -f "$OUT"
    tcpdump -i lo --immediate-mode -U -n -s 0 -w "$OUT" "$1" 2>"$WORK/capture.log" &
    CAPTURE_PID=$!
    track $CAPTURE_PID
    for i in $(seq 50); do
        grep -q 'listening on' "$WORK/capture.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.2
}

# capture_stop : once the UAs (every process but the capture) have ended, at
# most 5 s each, stop the capture and hand the file to the folder's owner.
capture_stop() {
    local pid i
    for pid in "${PIDS[@]}"; do
        [[ $pid == "$CAPTURE_PID" ]] && continue
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
}

# field NAME : every value of a tshark field over the SIP messages, one a line.
field() { tshark -2 -n -r "$OUT" -Y sip -T fields -E occurrence=a -e "$1" 2>/dev/null | tr ',' '\n'; }
