#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make-captures.sh OUTDIR [SCENARIO...]
#
# Builds a two-namespace topology (client 198.18.1.2 <-veth-> server 198.18.1.1, VIP
# 198.18.100.10/32 on the server's lo), runs real SIP/RTSP peers between them, records each
# scenario on the client's veth into OUTDIR/NAME.pcap and writes OUTDIR/NAME.expected.json
# (the session grouping SARA's offline replay must reproduce). See README.md.
#
# Must run as root. Touches nothing outside the two namespaces it creates (and removes, also
# on failure or interruption).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3          # Debian's python3 (gi, GstRtspServer)
ALL_SCENARIOS=(sip-udp-shared-socket sip-udp-socket-per-call sip-tcp sip-reinvite sip-baresip
               rtsp-udp-ffmpeg rtsp-udp-gst rtsp-tcp-interleaved rtsp-two-streams)

usage() { echo "usage: $0 OUTDIR [SCENARIO...]   (scenarios: ${ALL_SCENARIOS[*]})" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
[[ $EUID -eq 0 ]] || { echo "$0: must run as root" >&2; exit 2; }
OUT=$(realpath -m "$1"); shift
if [[ $# -gt 0 ]]; then SCENARIOS=("$@"); else SCENARIOS=("${ALL_SCENARIOS[@]}"); fi
for s in "${SCENARIOS[@]}"; do
    [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || { echo "unknown scenario: $s" >&2; usage; }
done
for tool in sipp baresip gst-launch-1.0 ffmpeg tcpdump tshark ethtool timeout; do
    command -v "$tool" >/dev/null || { echo "$0: missing tool: $tool (see README.md)" >&2; exit 2; }
done
"$PY" -c 'import gi; gi.require_version("GstRtspServer", "1.0")' 2>/dev/null \
    || { echo "$0: $PY lacks gi/GstRtspServer (gir1.2-gst-rtsp-server-1.0)" >&2; exit 2; }
mkdir -p "$OUT"

VIP=198.18.100.10
CLI=198.18.1.2
SRV=198.18.1.1
CNS=sara-cap-cli-$$          # namespace names carry our PID: never collide, easy to audit
SNS=sara-cap-srv-$$
CIF=cap-cli0                 # client veth (captured)
SIF=cap-srv0
WORK=$(mktemp -d /tmp/sara-captures.XXXXXX)
PIDS=()                      # background processes we started (pids inside the namespaces)
TCPDUMP_PID=

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------
# Cleanup: stop every process still inside our namespaces, by PID
# (all of them ours: SIPp's <exec> children are re-parented but stay in the namespace),
# then delete the namespaces. Runs on any exit, including INT/TERM.
# ---------------------------------------------------------------------------------------
ns_exists() { [[ -e /run/netns/$1 ]]; }
ns_pids() { local ns; for ns in "$CNS" "$SNS"; do ns_exists "$ns" && ip netns pids "$ns"; done; true; }

# Stop every process inside our namespaces (all of them were started by this script), by PID.
stop_ns_processes() {
    local p i left
    for p in $(ns_pids); do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 15); do
        left=$(ns_pids)
        [[ -z $left ]] && return 0
        sleep 0.2
    done
    for p in $(ns_pids); do kill -KILL "$p" 2>/dev/null; done
    sleep 0.2
}

cleanup() {
    local rc=$? ns
    trap - EXIT INT TERM HUP
    set +e
    stop_ns_processes
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for ns in "$CNS" "$SNS"; do ns_exists "$ns" && ip netns del "$ns"; done
    if [[ -n ${KEEP_WORK:-} ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    [[ $rc -ne 0 ]] && log "exit status $rc (peers stopped, namespaces removed)"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

cx() { ip netns exec "$CNS" "$@"; }   # run in the client namespace
sx() { ip netns exec "$SNS" "$@"; }   # run in the server namespace

# wait_pid PID: wait for a background process, return its status (without tripping set -e).
wait_pid() { local rc=0; wait "$1" || rc=$?; return $rc; }

setup_topology() {
    log "topology: $CNS ($CLI) <-> $SNS ($SRV, VIP $VIP)"
    ip netns add "$CNS"
    ip netns add "$SNS"
    local ns
    for ns in "$CNS" "$SNS"; do
        # No IPv6 (no ND/MLD noise in the captures); applies to links created afterwards.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip -n "$CNS" link add "$CIF" type veth peer name "$SIF" netns "$SNS"
    ip -n "$CNS" addr add "$CLI/24" dev "$CIF"
    ip -n "$SNS" addr add "$SRV/24" dev "$SIF"
    ip -n "$SNS" addr add "$VIP/32" dev lo
    ip -n "$CNS" link set "$CIF" up
    ip -n "$SNS" link set "$SIF" up
    cx ethtool -K "$CIF" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    sx ethtool -K "$SIF" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$CNS" route add "$VIP/32" via "$SRV" dev "$CIF"
    # Everything the server sends to the client leaves from the VIP (RTSP media sockets
    # bound to INADDR_ANY included).
    ip -n "$SNS" route replace 198.18.1.0/24 dev "$SIF" proto kernel scope link src "$VIP"
    # Reachability: a TCP connect to a closed VIP port must be refused (RST), not time out.
    cx "$PY" -c 'import socket,sys
s=socket.socket(); s.settimeout(2); s.bind((sys.argv[1],0))
try: s.connect((sys.argv[2],9))
except ConnectionRefusedError: sys.exit(0)
sys.exit(1)' "$CLI" "$VIP" || die "no connectivity to the VIP"
    # Let the ARP entries settle before the first capture.
    sleep 0.2
}

capture_start() {  # capture_start NAME
    local name=$1
    rm -f "$OUT/$name.pcap" "$OUT/$name.expected.json"
    TCPDUMP_LOG=$WORK/$name.tcpdump.log
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump, who may not write into OUTDIR.
    ip netns exec "$CNS" timeout 120 tcpdump -i "$CIF" --immediate-mode -s 0 -U -Z root -n \
        -w "$OUT/$name.pcap" >"$TCPDUMP_LOG" 2>&1 &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 50); do
        grep -q 'listening on' "$TCPDUMP_LOG" 2>/dev/null && { sleep 0.2; return 0; }
        sleep 0.1
    done
    die "tcpdump did not start: $(cat "$TCPDUMP_LOG")"
}

capture_stop() {
    sleep 1.5      # final BYE/200, FIN, TEARDOWN replies, late RTCP
    kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
    wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=
}

# derive NAME DESCRIPTION CHECK-OPTIONS...: derive the grouping from the capture with tshark,
# check it against what the scenario configured, write NAME.expected.json.
derive() {
    local name=$1 desc=$2; shift 2
    "$PY" "$HERE/expected_from_capture.py" --vip "$VIP" --client "$CLI" \
        --description "$desc" --out "$OUT/$name.expected.json" "$@" "$OUT/$name.pcap" \
        || { log "$name: capture does not match what the scenario configured"; return 1; }
}

# sipp_result CSV: print "successful failed" from the last row of a SIPp -stf file.
sipp_result() {
    "$PY" - "$1" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index("SuccessfulCall(C)")], last[h.index("FailedCall(C)")])
EOF
}

# ---------------------------------------------------------------------------------------
# SIP with SIPp: UAS on the VIP (echoes RTP on 6000 and 6002), UAC on the client with one
# media port per call taken from an injection file.
# ---------------------------------------------------------------------------------------
SIPP_COMMON=(-nostdin -trace_stat -trace_err)

# uas_start NAME TRANSPORT SCENARIO|builtin CALLS: SIPp UAS on VIP:5060, RTP echo on 6000/6002.
# It exits by itself after CALLS calls (or after 20 s). Sets UAS_PID.
uas_start() {
    local name=$1 t=$2 uas=$3 calls=$4
    local d=$WORK/$name; mkdir -p "$d"
    cp "$HERE"/*.xml "$d"/
    local uas_sf
    if [[ $uas == builtin ]]; then uas_sf=(-sn uas); else uas_sf=(-sf "$d/$uas"); fi
    # The UAS side has one listening socket whatever the UAC does: u1 for UDP, t1 for TCP.
    local ut=u1; [[ $t == t* ]] && ut=t1
    (cd "$d" && exec ip netns exec "$SNS" timeout 20 sipp "${uas_sf[@]}" -i "$VIP" -p 5060 \
        -t "$ut" -mi "$VIP" -mp 6000 -rtp_echo -m "$calls" "${SIPP_COMMON[@]}" \
        -stf "$d/uas.csv" -error_file "$d/uas-errors.log" >"$d/uas.out" 2>&1) &
    UAS_PID=$!; PIDS+=("$UAS_PID")
    sleep 0.5
}

uas_wait() {  # uas_wait NAME
    local rc=0
    wait_pid "$UAS_PID" || rc=$?
    [[ $rc -eq 0 ]] || log "$1: UAS exit status $rc"
    log "$1: UAS successful/failed calls: $(sipp_result "$WORK/$1/uas.csv")"
}

sipp_run() {  # sipp_run NAME TRANSPORT UAS-SCENARIO UAC-SCENARIO CALLS PORTS-FILE [UAC OPTS...]
    local name=$1 t=$2 uas=$3 uac=$4 calls=$5 inf=$6; shift 6
    local d=$WORK/$name
    uas_start "$name" "$t" "$uas" "$calls"
    local uac_pid
    (cd "$d" && exec ip netns exec "$CNS" timeout 20 sipp "$VIP:5060" -sf "$d/$uac" \
        -inf "$d/$inf" -i "$CLI" -p 5070 -mi "$CLI" -t "$t" -m "$calls" -l "$calls" \
        "${SIPP_COMMON[@]}" -stf "$d/uac.csv" -error_file "$d/uac-errors.log" "$@" \
        >"$d/uac.out" 2>&1) &
    uac_pid=$!; PIDS+=("$uac_pid")
    local rc=0
    wait_pid "$uac_pid" || rc=$?
    [[ $rc -eq 0 ]] || log "$name: UAC exit status $rc"
    uas_wait "$name"
    local r; r=$(sipp_result "$d/uac.csv")
    log "$name: UAC successful/failed calls: $r"
    [[ $r == "$calls 0" ]] || { tail -5 "$d"/uac-errors.log >&2 || true; log "$name: UAC calls failed"; return 1; }
}

ports_file() {  # ports_file FILE PORT...  (one call per line, fields ; separated)
    local f=$1; shift
    { echo SEQUENTIAL; printf '%s\n' "$@"; } >"$f"
}

sip_basic() {  # sip_basic NAME TRANSPORT FIRST-PORT DESCRIPTION [UAC OPTS...]
    local name=$1 t=$2 p0=$3 desc=$4; shift 4
    local ports=("$p0" "$((p0+2))" "$((p0+4))" "$((p0+6))")
    mkdir -p "$WORK/$name"
    ports_file "$WORK/$name/ports.csv" "${ports[@]}"
    capture_start "$name"
    sipp_run "$name" "$t" builtin uac_media.xml 4 ports.csv -r 4 -rp 1000 "$@" || return 1
    capture_stop
    local plist; plist=$(IFS=,; echo "${ports[*]}")
    # shellcheck disable=SC2086  # SIG_CHECK is a list of options
    derive "$name" "$desc" --protocol sip --complete --sessions 4 --flows 2,2,2,2 \
        --client-ports "$plist" --server-ports 5060,6000 $SIG_CHECK
}

scenario_sip-udp-shared-socket() {
    SIG_CHECK="--signalling shared --sig-proto udp" sip_basic sip-udp-shared-socket u1 20000 \
        "SIPp UAC -t u1 (4 calls on one UDP socket 198.18.1.2:5070) to SIPp UAS on the VIP; each call sends 2 s of PCMU from its own port (20000..20006) to 6000"
}
scenario_sip-udp-socket-per-call() {
    SIG_CHECK="--signalling distinct --sig-proto udp" sip_basic sip-udp-socket-per-call un 20100 \
        "SIPp UAC -t un (one UDP socket per call) to SIPp UAS on the VIP; each call sends 2 s of PCMU from its own port (20100..20106) to 6000" \
        -max_socket 16
}
scenario_sip-tcp() {
    SIG_CHECK="--signalling shared --sig-proto tcp" sip_basic sip-tcp t1 20200 \
        "SIPp UAC -t t1 (4 calls on one TCP connection from 198.18.1.2:5070) to SIPp UAS on the VIP; each call sends 2 s of PCMU from its own port (20200..20206) to 6000"
}

# Two calls on one UDP socket; each moves its RTP with a re-INVITE: call 1 20300 -> 20310,
# call 2 20302 -> 20312 (client side), 6000 -> 6002 (VIP side).
scenario_sip-reinvite() {
    local name=sip-reinvite
    mkdir -p "$WORK/$name"
    ports_file "$WORK/$name/ports.csv" "20300;20310" "20302;20312"
    capture_start "$name"
    sipp_run "$name" u1 uas_reinvite.xml uac_reinvite.xml 2 ports.csv -r 2 -rp 1000 || return 1
    capture_stop
    derive "$name" "SIPp UAC (-t u1, 2 calls) to SIPp UAS on the VIP; each call sends 1 s of PCMU from 20300/20302 to 6000, then re-INVITEs its media to 20310/20312 -> 6002 and sends 1.5 s more" \
        --protocol sip --complete --sessions 2 --flows 3,3 --signalling shared --sig-proto udp \
        --client-ports 20300,20302,20310,20312 --server-ports 5060,6000,6002
}

# baresip (no registration) calls the SIPp UAS; it hangs up after 5 s (-t 5). RTP from an
# even port of 20400-20419 to 6000, RTCP from RTP+1 to 6001 (the UAS echoes RTP only: its
# kernel answers the RTCP with ICMP port unreachable, VIP -> client).
scenario_sip-baresip() {
    local name=sip-baresip d=$WORK/sip-baresip
    mkdir -p "$d"
    cp -r "$HERE/baresip" "$d/conf"     # baresip may write into its config dir
    capture_start "$name"
    uas_start "$name" u1 builtin 1
    local pid rc=0
    (cd "$d" && exec ip netns exec "$CNS" timeout 15 baresip -4 -f "$d/conf" \
        -e "/dial sip:service@$VIP:5060" -t 5 >"$d/baresip.out" 2>&1) &
    pid=$!; PIDS+=("$pid")
    wait_pid "$pid" || rc=$?
    [[ $rc -eq 0 ]] || { log "$name: baresip exit status $rc"; cat "$d/baresip.out" >&2; }
    uas_wait "$name"
    capture_stop
    derive "$name" "baresip 1.0 (account without registration, 198.18.1.2:5080) calls SIPp UAS on the VIP and hangs up after 5 s; PCMU RTP from an even port of 20400-20419 to 6000 and RTCP from RTP+1 to 6001" \
        --protocol sip --complete --sessions 1 --flows 3 --sig-proto udp \
        --client-port-range 20400-20419 --server-ports 5060,6000,6001
}

# ---------------------------------------------------------------------------------------
# RTSP: GStreamer's RTSP server (python3-gi) on VIP:554, media from VIP:30000-30099.
# Clients get their own configured UDP port ranges so the checks can tell them apart:
# ffmpeg 21000-21099 (-min_port/-max_port), gst rtspsrc 21100-21199 (port-range).
# ---------------------------------------------------------------------------------------
RTSP_SERVER=$(realpath "$HERE/../integration/peers/rtsp_server.py")   # the integration tests' server
RTSP_URL=rtsp://$VIP:554/test
FFMPEG_PORTS=(-min_port 21000 -max_port 21099)
GST_PORTS="port-range=21100-21199"

rtsp_server_start() {  # rtsp_server_start NAME MEDIA(video|av); sets RTSP_PID
    local name=$1 media=$2 d=$WORK/$1; mkdir -p "$d"
    ip netns exec "$SNS" timeout 30 "$PY" "$RTSP_SERVER" --address "$VIP" --port 554 \
        --media "$media" --rtp-ports 30000-30099 --lifetime 25 >"$d/rtsp-server.out" 2>&1 &
    RTSP_PID=$!; PIDS+=("$RTSP_PID")
    local i   # up to 15 s, as the integration tests allow: a first run encodes the clip
    for i in $(seq 150); do
        grep -q 'listening on' "$d/rtsp-server.out" && return 0
        kill -0 "$RTSP_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$d/rtsp-server.out" >&2
    die "$name: RTSP server did not start"
}

rtsp_server_stop() {
    kill -TERM "$RTSP_PID" 2>/dev/null || true
    wait "$RTSP_PID" 2>/dev/null || true
}

# Client launchers: run in the background, PID appended to CLIENTS (and PIDS).
ffmpeg_client() {  # ffmpeg_client NAME TAG udp|tcp
    local d=$WORK/$1
    ip netns exec "$CNS" timeout 15 ffmpeg -nostdin -loglevel warning -rtsp_transport "$3" \
        "${FFMPEG_PORTS[@]}" -i "$RTSP_URL" -t 3 -f null - >"$d/$2.out" 2>&1 &
    CLIENTS+=("$!"); PIDS+=("$!")
}

# gst_client NAME TAG udp|tcp: SIGINT after 4 s stops the pipeline, rtspsrc sends TEARDOWN
# (about one run in eight it just closes the connection: run_scenario retries).
gst_client() {
    local d=$WORK/$1
    ip netns exec "$CNS" timeout -s INT -k 3 4 gst-launch-1.0 rtspsrc location="$RTSP_URL" \
        protocols="$3" $GST_PORTS ! rtph264depay ! fakesink >"$d/$2.out" 2>&1 &
    CLIENTS+=("$!"); PIDS+=("$!")
}

wait_clients() {  # wait_clients NAME: wait for CLIENTS; 124 = stopped by timeout on purpose
    local p rc
    for p in "${CLIENTS[@]}"; do
        rc=0; wait_pid "$p" || rc=$?
        [[ $rc -eq 0 || $rc -eq 124 ]] || log "$1: client $p exit status $rc"
    done
    CLIENTS=()
}
CLIENTS=()

scenario_rtsp-udp-ffmpeg() {
    local name=rtsp-udp-ffmpeg
    rtsp_server_start "$name" video
    capture_start "$name"
    ffmpeg_client "$name" ffmpeg1 udp
    sleep 0.7
    ffmpeg_client "$name" ffmpeg2 udp
    wait_clients "$name"
    capture_stop
    rtsp_server_stop
    derive "$name" "two concurrent ffmpeg clients (RTP/AVP/UDP, 3 s each) of GStreamer's RTSP server on the VIP (H.264 video, one SETUP); ffmpeg punches both server ports and sends RTCP" \
        --protocol rtsp --complete --sessions 2 --flows 3,3 --signalling distinct \
        --sig-proto tcp --client-port-range 21000-21099 --server-port-range 30000-30099
}

scenario_rtsp-udp-gst() {
    local name=rtsp-udp-gst
    rtsp_server_start "$name" video
    capture_start "$name"
    gst_client "$name" gst1 udp
    sleep 0.7
    gst_client "$name" gst2 udp
    wait_clients "$name"
    capture_stop
    rtsp_server_stop
    derive "$name" "two concurrent gst-launch rtspsrc protocols=udp clients (stopped by SIGINT after 4 s: TEARDOWN) of GStreamer's RTSP server on the VIP (H.264 video, one SETUP)" \
        --protocol rtsp --complete --sessions 2 --flows 3,3 --signalling distinct \
        --sig-proto tcp --client-port-range 21100-21199 --server-port-range 30000-30099
}

scenario_rtsp-tcp-interleaved() {
    local name=rtsp-tcp-interleaved
    rtsp_server_start "$name" video
    capture_start "$name"
    ffmpeg_client "$name" ffmpeg1 tcp
    sleep 0.7
    gst_client "$name" gst1 tcp
    wait_clients "$name"
    capture_stop
    rtsp_server_stop
    derive "$name" "ffmpeg -rtsp_transport tcp and gst-launch rtspsrc protocols=tcp (concurrent) against GStreamer's RTSP server on the VIP: RTP/RTCP interleaved on the RTSP connection, no UDP" \
        --protocol rtsp --complete --sessions 2 --flows 1,1 --signalling distinct \
        --sig-proto tcp --server-ports 554
}

scenario_rtsp-two-streams() {
    local name=rtsp-two-streams
    rtsp_server_start "$name" av
    capture_start "$name"
    ffmpeg_client "$name" ffmpeg1 udp
    wait_clients "$name"
    capture_stop
    rtsp_server_stop
    derive "$name" "one ffmpeg client (RTP/AVP/UDP, 3 s) of a GStreamer RTSP factory with H.264 video (pay0) and PCMU audio (pay1): two SETUPs, one Session, RTP+RTCP flows for each stream" \
        --protocol rtsp --complete --sessions 1 --flows 5 \
        --sig-proto tcp --client-port-range 21000-21099 --server-port-range 30000-30099
}

# ---------------------------------------------------------------------------------------
# Stop everything a failed attempt left running (every process in our namespaces).
reset_peers() {
    local p
    stop_ns_processes
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=(); CLIENTS=(); TCPDUMP_PID=
}

ATTEMPTS=3
run_scenario() {
    local s=$1 t0=$SECONDS i
    for i in $(seq "$ATTEMPTS"); do
        log "=== $s (attempt $i)"
        if "scenario_$s"; then
            log "=== $s done in $((SECONDS - t0)) s: $(stat -c %s "$OUT/$s.pcap") bytes"
            PIDS=()
            return 0
        fi
        reset_peers
    done
    # Keep OUTDIR consistent: no pcap without its expected file (KEEP_WORK=1 keeps the pcap).
    rm -f "$OUT/$s.expected.json"
    [[ -n ${KEEP_WORK:-} ]] || rm -f "$OUT/$s.pcap"
    die "$s failed $ATTEMPTS times"
}

setup_topology
for s in "${SCENARIOS[@]}"; do run_scenario "$s"; done
log "all done: ${SCENARIOS[*]} -> $OUT"
