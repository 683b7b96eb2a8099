#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Datapath benchmark: what sarad's packet path costs against the kernel's own limits.
#
#   tests/bench/datapath/run.sh        (root; `make bench-datapath`; about 3.5 minutes)
#
# Six lanes are built side by side, each in three network namespaces of our own (prefix
# sdpb<PID>-), with addresses from 198.18.0.0/15 only and veth offloads off:
#
#   gen (g0 198.18.1.2) ── (d0 198.18.1.1) dispatcher (d1 198.18.2.1) ── (n0 198.18.2.11) node
#                                                                          VIP 198.18.100.10/32 on lo
#   plain      the dispatcher has no netfilter rules: a main-table route and a static neighbour
#   sarad      build/sarad runs there (its own chains, ip rules, routes, neighbours), admission
#              control off (SARAD_ADMISSION=true turns SA2C on): the loads here are more than
#              sarad takes, so SA2C would refuse most new sessions and the lanes would measure
#              its policy, not the data path
#   nfqminq    build/tools/nfq_accept_all (mark 0x10001) behind one rule, udp/5060 -> NFQUEUE,
#              and sarad's fwmark rule and table to the node: the baseline of the queue path
#   nfqminn    the same with every UDP packet to the VIP queued (mark 1): the baseline of new flows
#   nfqsaraq   nfq_accept_all under the exact rule set sarad installed (iptables-save of the sarad
#   nfqsaran   lane), marks as sarad's verdicts: what is left between these and sarad is sarad's
#              own userspace work; the gap to nfqmin* is the rule set's (conntrack and all)
#   bpftc      sarad with forwarding.fast_path: bpf, the program at d0's tc ingress (issue 17)
#   bpfxdp     the same with hook: xdp (native veth XDP; the node's n0 gets an XDP program
#              that passes everything, which a veth needs to take redirected XDP frames)
#              (BPF=0 leaves both lanes out)
#
# Every consumer runs all along; one lane carries load at a time. Loads are short (LOAD_WINDOW
# measured after LOAD_WARMUP) and the modes compared with each other alternate in ROUNDS
# rounds, so that the slow drifts of a shared machine hit them alike; a repetition's value is
# the mean of its rounds, and the median over REPS repetitions is reported.
#
#   plain            fixed 5-tuple to udp/30000
#   sarad_fast       the same through sarad: one established media flow (its first packet was
#                    queued, the conntrack mark keeps the rest in the kernel)
#   sarad_ranged     media to udp/61000, inside node 1's media_ports: marked and untracked in
#                    the raw table, never queued, no conntrack entry (issue 14)
#   bpf_{tc,xdp}_fast    the media flow through the BPF program's flow map (its first packet
#                        queued: sarad's verdict put it in the map)
#   bpf_{tc,xdp}_ranged  media to the node's range through the program's port map
#   *_queue          SIP OPTIONS to udp/5060 with one Call-ID: every packet queued
#   *_newflow        every packet a new 5-tuple to non-signalling ports (a new session in sarad);
#                    conntrack is emptied before each load, which stays below nf_conntrack_max
#   latency          one-way latency (send timestamp in the payload -> kernel receive timestamp on
#                    the node, same clock) of SIP datagrams paced at half the measured queue-path
#                    capacity (the target's load) and at a tenth of it, plain / sarad / nfqminq,
#                    LAT_ROUNDS rounds, medians; once more with the session table that the
#                    new-flow loads left in sarad
#
# Load: build/tools/udp_blast (raw socket + sendmmsg; the same 154-byte SIP OPTIONS packet in
# every mode) pinned to GEN_CPU; queue consumers pinned to CONSUMER_CPU. Delivered packets/s =
# growth of the node's n0 rx_packets. Every load is bounded in packets and in seconds. For
# throughput the node discards frames right after counting them (node_receives); the latency
# runs give it back its IP stack and a receiving socket.
#
# IP_VERSION=6 builds every lane over IPv6 instead (2001:db8::/32 inside the namespaces: the
# VIP 2001:db8:100::10, sarad's ip6tables chains and IPv6 routes to the node's MAC-derived
# link-local next hop; BPF lanes left out, the program forwards IPv4 only): its ratios are to
# IPv6 plain forwarding, for comparison with an IPv4 run (issue 18).
#
# Output: table and ratios (met / NOT met) on stdout; every measurement in
# $BUILD/bench/datapath.json (datapath6.json with IP_VERSION=6). Knobs: IP_VERSION COMPARE (fast queue newflow; cost with FORWARD_CPU) REPS ROUNDS LOAD_WINDOW
# LOAD_WARMUP LAT_ROUNDS LAT_SECONDS LAT_FRACTIONS LAT_FIFO GEN_CPU CONSUMER_CPU FORWARD_CPU NICE SARAD_ADMISSION
# NODE (drop|stack) BUILD KEEP_WORK=1, PERF=1 (one more load per mode under `perf record -a`;
# top symbols per CPU; PERF_CALLGRAPH=1 adds call graphs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BUILD_DIR=$BUILD ;; *) BUILD_DIR=$ROOT/$BUILD ;; esac
REPS=${REPS:-3}
ROUNDS=${ROUNDS:-5}
LOAD_WARMUP=${LOAD_WARMUP:-0.15}  # seconds of load before the measured window
LOAD_WINDOW=${LOAD_WINDOW:-0.4}   # seconds measured; a new-flow load must create fewer
LOAD_TAIL=0.05                    # than nf_conntrack_max entries: (warmup+window+tail) x rate
LAT_ROUNDS=${LAT_ROUNDS:-5}
LAT_FRACTIONS=${LAT_FRACTIONS:-0.5 0.1}   # of the queue-path capacity; the first is the target's
LAT_FIFO=${LAT_FIFO:-1}       # latency loads: the consumer runs SCHED_FIFO, its queue threads above the rest (see latency)
COMPARE=${COMPARE:-fast queue newflow}  # which comparisons to run (latency needs queue)
LAT_SECONDS=${LAT_SECONDS:-1}
GEN_CPU=${GEN_CPU:-0}
CONSUMER_CPU=${CONSUMER_CPU:-1}
FORWARD_CPU=${FORWARD_CPU:-}  # empty: forwarding in the generator's context (veth); N: on CPU N (RPS)
COST_RATE=${COST_RATE:-150000}  # COMPARE=cost (needs FORWARD_CPU): the offered rate, packets/s
NICE=${NICE:--20}             # our processes (and their session's group) outrank other work
NODE=${NODE:-drop}            # drop: the node discards at its interface; stack: full IP receive
PERF=${PERF:-0}
MAX_PACKETS=10000000          # bound of one load (its time bound ends it first)

IP_VERSION=${IP_VERSION:-4}
GEN_MAC=02:00:00:00:01:02 DISP_IN_MAC=02:00:00:00:01:01 DISP_LAN_MAC=02:00:00:00:02:01
NODE_MAC=02:00:00:00:02:11 NODE_OTHER_MAC=02:00:00:00:02:fe
NODE_TABLE=1001               # sarad's table and rule priority for node 1 (table_base 1000 + id)
if [[ $IP_VERSION == 6 ]]; then
  VIP=2001:db8:100::10
  GEN_IP=2001:db8:1::2 DISP_IN_IP=2001:db8:1::1 DISP_LAN_IP=2001:db8:2::1 NODE_IP=2001:db8:2::11
  PREFIX_LEN=64 HOST_LEN=128
  NODE_HOP=fe80::ff:fe00:211  # sarad's IPv6 next hop for node 1: the link-local address of NODE_MAC
  IPT=ip6tables CT_FAMILY=ipv6 JSON_NAME=datapath6.json
  BPF=0                       # the BPF program forwards IPv4 only
elif [[ $IP_VERSION == 4 ]]; then
  VIP=198.18.100.10
  GEN_IP=198.18.1.2 DISP_IN_IP=198.18.1.1 DISP_LAN_IP=198.18.2.1 NODE_IP=198.18.2.11
  PREFIX_LEN=24 HOST_LEN=32
  NODE_HOP=$NODE_IP
  IPT=iptables CT_FAMILY=ipv4 JSON_NAME=datapath.json
else
  echo "run.sh: IP_VERSION is 4 or 6" >&2; exit 2
fi
# The VIP as a receiver binds it: [v6]:port or v4:port.
VIP_PORT_FORM=$VIP
[[ $IP_VERSION == 6 ]] && VIP_PORT_FORM="[$VIP]"
LANES="plain sarad nfqminq nfqminn nfqsaraq nfqsaran"
BPF=${BPF:-1}
[[ $BPF == 1 ]] && LANES="$LANES bpftc bpfxdp"
SARAD_LANES="sarad"
[[ $BPF == 1 ]] && SARAD_LANES="sarad bpftc bpfxdp"
SIGNALLING_MARK=0x10001       # sarad's verdict marks: node 1, plus "never save" for signalling
DATA_MARK=0x1

# With autogroup scheduling (kernel.sched_autogroup_enabled=1) a task's nice value counts only
# inside its session's group and every session gets an equal share against the others: on a
# shared machine a compiler in another session takes half of the consumer's CPU whatever its
# nice value. So the benchmark runs in a session of its own whose group gets NICE as well.
# The parent only forwards Ctrl-C/TERM; the child's trap cleans up.
if [[ -z ${SDPB_SESSION:-} && $NICE != 0 ]] && command -v setsid >/dev/null; then
  setsid env SDPB_SESSION=child "$0" "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
  rc=0
  while kill -0 "$child" 2>/dev/null; do wait "$child" && rc=0 || rc=$?; done
  exit "$rc"
fi
if [[ ${SDPB_SESSION:-} == child ]]; then
  echo "$NICE" >/proc/self/autogroup 2>/dev/null || true
fi

if [[ $EUID -ne 0 ]]; then echo "run.sh: needs root (network namespaces)" >&2; exit 1; fi
if (( $(nproc) < 2 )); then echo "run.sh: needs 2 CPUs (generator and queue consumer get one each)" >&2; exit 1; fi
for tool in ip $IPT $IPT-save $IPT-restore ethtool taskset conntrack /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (make deps)" >&2; exit 1; }
done

echo "== building sarad and the benchmark tools"
make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$BUILD/sarad" "$BUILD/tools/nfq_accept_all" \
  "$BUILD/tools/udp_blast" "$BUILD/tools/bpf_map_update" "$BUILD/sara_fast_path.bpf.o" >/dev/null
SARAD=$BUILD_DIR/sarad NFQ=$BUILD_DIR/tools/nfq_accept_all BLAST=$BUILD_DIR/tools/udp_blast
BPF_OBJECT=$BUILD_DIR/sara_fast_path.bpf.o

PREFIX=sdpb$$
WORK=$(mktemp -d /tmp/sdpb.XXXXXX)
RECORDS=$WORK/records.jsonl LATENCY_RECORDS=$WORK/latency.jsonl
: >"$RECORDS"
: >"$LATENCY_RECORDS"
STARTED_PIDS=()           # background processes we started and have not reaped yet
declare -A CONSUMER_PID   # lane -> sarad's or nfq_accept_all's PID
START_TIME=$SECONDS

ns() { echo "$PREFIX-$1-$2"; }            # LANE ROLE(g|d|n) -> namespace name
in_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

# A reaped PID may be reused by someone else's process: forget it once waited for.
forget_pid() {
  local pid keep=()
  for pid in "${STARTED_PIDS[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  STARTED_PIDS=("${keep[@]}")
}

reap() {  # PID: wait for a process we started, then forget it
  local rc=0
  wait "$1" || rc=$?
  forget_pid "$1"
  return "$rc"
}

stop_pid() {  # PID [SECONDS]: SIGTERM, wait, then SIGKILL
  local pid=$1 limit=${2:-5} i
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < limit * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  reap "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid lane role
  trap - EXIT INT TERM
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid" 10; done
  STARTED_PIDS=()
  for lane in $LANES; do
    for role in g d n; do ip netns del "$(ns "$lane" "$role")" 2>/dev/null || true; done
  done
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "run.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lane_up() {  # LANE
  local G D N n pair
  G=$(ns "$1" g) D=$(ns "$1" d) N=$(ns "$1" n)
  for n in "$G" "$D" "$N"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
    in_ns "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    # IPv6 addresses usable at once (no duplicate address detection), no autoconfiguration.
    in_ns "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  done
  ip -n "$G" link add g0 address $GEN_MAC type veth peer name d0 address $DISP_IN_MAC netns "$D"
  ip -n "$D" link add d1 address $DISP_LAN_MAC type veth peer name n0 address $NODE_MAC netns "$N"
  for pair in "$G g0" "$D d0" "$D d1" "$N n0"; do
    # shellcheck disable=SC2086
    in_ns ${pair% *} ethtool -K ${pair#* } rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
  done
  # FORWARD_CPU: the dispatcher's receive (tc ingress, netfilter, routing, the node's
  # receive after it) runs on that CPU through RPS, not in the generator's context on GEN_CPU.
  if [[ -n $FORWARD_CPU ]]; then
    in_ns "$D" sh -c "printf '%x' $((1 << FORWARD_CPU)) > /sys/class/net/d0/queues/rx-0/rps_cpus"
  fi

  ip -n "$G" addr add $GEN_IP/$PREFIX_LEN dev g0 nodad
  ip -n "$G" link set g0 up
  ip -n "$G" route add $VIP/$HOST_LEN via $DISP_IN_IP dev g0
  ip -n "$G" neigh replace $DISP_IN_IP lladdr $DISP_IN_MAC dev g0 nud permanent

  ip -n "$D" addr add $DISP_IN_IP/$PREFIX_LEN dev d0 nodad
  ip -n "$D" addr add $DISP_LAN_IP/$PREFIX_LEN dev d1 nodad
  ip -n "$D" link set d0 up
  ip -n "$D" link set d1 up
  ip -n "$D" neigh replace $GEN_IP lladdr $GEN_MAC dev d0 nud permanent
  ip -n "$D" neigh replace $NODE_HOP lladdr $NODE_MAC dev d1 nud permanent
  in_ns "$D" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.d0.rp_filter=0 net.ipv4.conf.d1.rp_filter=0 \
    net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.d1.send_redirects=0 net.ipv6.conf.all.forwarding=1

  # The node: VIP on lo, no ARP for it (an IPv6 VIP on lo is never announced), no route back
  # (replies are not needed: an ICMP port-unreachable finds no route and dies on the node).
  ip -n "$N" addr add $VIP/$HOST_LEN dev lo nodad
  ip -n "$N" addr add $NODE_IP/$PREFIX_LEN dev n0 nodad
  ip -n "$N" link set n0 up
  in_ns "$N" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.n0.arp_ignore=1 net.ipv4.conf.n0.arp_announce=2 net.ipv4.conf.n0.rp_filter=0
}

# NODE=drop: the node's interface gets another MAC than the one the dispatcher sends to, so a
# frame is counted in rx_packets and dropped as PACKET_OTHERHOST at the top of ip_rcv: the
# node's IP stack (and its ICMP port-unreachable per packet) is not charged to the CPUs the
# dispatcher runs on. (These kernels have no tc classifier to drop at ingress.)
node_receives() {  # LANE drop|stack
  local mac=$NODE_MAC
  [[ $2 == drop ]] && mac=$NODE_OTHER_MAC
  ip -n "$(ns "$1" n)" link set n0 address $mac
}

flush_conntrack() {  # LANE...
  local lane
  for lane in "$@"; do in_ns "$(ns "$lane" d)" conntrack -F -f $CT_FAMILY >/dev/null 2>&1 || true; done
}

# Entries conntrack evicted to make room (nf_conntrack_max reached), summed over CPUs.
early_drops() {
  in_ns "$(ns "$1" d)" conntrack -S 2>/dev/null |
    awk '{for (i = 1; i <= NF; i++) if ($i ~ /^early_drop=/) { sub("early_drop=", "", $i); n += $i }} END {print n + 0}'
}

rx_packets() { in_ns "$(ns "$1" n)" cat /sys/class/net/n0/statistics/rx_packets; }

# What sarad sets up for node 1, for nfq_accept_all's marked packets.
mark_route() {  # LANE
  local D
  D=$(ns "$1" d)
  if [[ $IP_VERSION == 6 ]]; then
    ip -n "$D" -6 route replace default via $NODE_HOP dev d1 table $NODE_TABLE
    ip -n "$D" -6 rule add pref $NODE_TABLE fwmark 0x1/0xffff lookup $NODE_TABLE
  else
    ip -n "$D" route replace default via $NODE_IP dev d1 onlink table $NODE_TABLE
    ip -n "$D" rule add pref $NODE_TABLE fwmark 0x1/0xffff lookup $NODE_TABLE
  fi
}

sarad_request() {  # SOCKET REQUEST: one line of JSON from sarad's control socket
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
EOF
}

SOCK=$WORK/sarad.sock
declare -A SOCK_OF=([sarad]=$SOCK [bpftc]=$WORK/bpftc.sock [bpfxdp]=$WORK/bpfxdp.sock)
sarad_config() {  # LANE: the config of the lane's sarad
  local fast_path="fast_path: netfilter"
  case $1 in
    bpftc) fast_path="fast_path: bpf, bpf: {interface: d0, hook: tc, object: $BPF_OBJECT}" ;;
    bpfxdp) fast_path="fast_path: bpf, bpf: {interface: d0, hook: xdp, object: $BPF_OBJECT}" ;;
  esac
  cat <<EOF
vip: $VIP
lan_interface: d1
queue: {first: 0, count: 1, max_len: 4096, fail_open: false}
forwarding: {mode: route, $fast_path}
nodes:
  - {id: 1, name: node1, address: $NODE_IP, mac: "$NODE_MAC", weight: 1, media_ports: 61000-61999}
auth: none
control: {socket: ${SOCK_OF[$1]}, state_file: $WORK/$1.snapshot}
limits: {max_sessions: 4000000, max_flows: 8000000}
admission: {enabled: ${SARAD_ADMISSION:-false}}
EOF
}

start_sarad() {  # [LANE]: a fresh sarad in the lane (default sarad): empty session and conntrack tables
  local lane=${1:-sarad} D i sock
  D=$(ns "$lane" d)
  sock=${SOCK_OF[$lane]}
  sarad_config "$lane" >"$WORK/$lane.yaml"
  in_ns "$D" conntrack -F -f $CT_FAMILY >/dev/null 2>&1 || true
  rm -f "$sock" "$WORK/$lane.snapshot"
  ip netns exec "$D" nice -n "$NICE" taskset -c "$CONSUMER_CPU" "$SARAD" --config "$WORK/$lane.yaml" \
    >>"$WORK/$lane.log" 2>&1 &
  CONSUMER_PID[$lane]=$!
  STARTED_PIDS+=("$!")
  for ((i = 0; i < 100; i++)); do
    [[ -S $sock ]] && sarad_request "$sock" stats >/dev/null 2>&1 && return 0
    kill -0 "${CONSUMER_PID[$lane]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: sarad did not come up in lane $lane; its log:" >&2
  tail -20 "$WORK/$lane.log" >&2
  exit 1
}

stop_consumer() {  # LANE
  [[ -z ${CONSUMER_PID[$1]:-} ]] || stop_pid "${CONSUMER_PID[$1]}" 10
  CONSUMER_PID[$1]=""
}

start_nfq() {  # LANE MARK
  local i log=$WORK/nfq.$1.log
  ip netns exec "$(ns "$1" d)" nice -n "$NICE" taskset -c "$CONSUMER_CPU" "$NFQ" --queue 0 --mark "$2" \
    --duration 600 >"$WORK/nfq.$1.out" 2>"$log" &
  CONSUMER_PID[$1]=$!
  STARTED_PIDS+=("$!")
  for ((i = 0; i < 100; i++)); do
    grep -q "bound" "$log" 2>/dev/null && return 0
    kill -0 "${CONSUMER_PID[$1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "run.sh: nfq_accept_all did not bind queue 0 in lane $1: $(cat "$log")" >&2
  exit 1
}

# Traffic kinds: generator arguments past the common ones.
traffic_args() {  # KIND INDEX
  case $1 in
    media) echo "--sport 40000 --dport 30000 --sport-mode fixed" ;;
    # Above every new-flow port (20000..59999): only this load meets the node's range.
    ranged) echo "--sport 40000 --dport 61000 --sport-mode fixed" ;;
    sip) echo "--sport 5060 --dport 5060 --sport-mode fixed" ;;
    # A fresh range of 5-tuples for every load (400 of them before they repeat; a repetition,
    # with its fresh sarad, uses 15): never seen by sarad before.
    newflow) echo "--sport 1024 --dport $((20000 + 100 * ($2 % 400))) --dport-max $((20099 + 100 * ($2 % 400))) --sport-mode unique" ;;
  esac
}

LOAD_INDEX=0
# measure LANE MODE REP ROUND TRAFFIC: one bounded load, its delivered rate sampled on the node.
measure() {  # LANE MODE REP ROUND TRAFFIC [RATE: packets/s offered; default as fast as it can]
  local lane=$1 mode=$2 rep=$3 round=$4 traffic=$5 rate=${6:-0} consumer=${CONSUMER_PID[$1]:-0} duration
  local stats_before=null stats_after=null rx0 rx1 drops0 drops1 sampler nfq_proc ct_count
  LOAD_INDEX=$((LOAD_INDEX + 1))
  duration=$(/usr/bin/python3 -c "print($LOAD_WARMUP + $LOAD_WINDOW + $LOAD_TAIL)")
  # New flows: empty conntrack tables; the load creates fewer entries than nf_conntrack_max
  # (262144 here; it cannot be raised inside a namespace). Past it every new entry first
  # evicts an old one (early_drop): another, slower regime than the one measured here. The
  # other lanes' entries are flushed too: all namespaces share one hash table.
  if [[ $traffic == newflow ]]; then flush_conntrack "$lane" sarad nfqsaran; fi
  [[ -n ${SOCK_OF[$lane]:-} ]] && stats_before=$(sarad_request "${SOCK_OF[$lane]}" stats)
  drops0=$(early_drops "$lane")
  rx0=$(rx_packets "$lane")
  ip netns exec "$(ns "$lane" n)" nice -n "$NICE" "$BLAST" sample \
    --file /sys/class/net/n0/statistics/rx_packets --pid "$consumer" \
    --mine 'udp_blast,sarad,nfq_accept_all,taskset,ksoftirqd*' --delay "$LOAD_WARMUP" --window "$LOAD_WINDOW" \
    >"$WORK/sample.json" &
  sampler=$!
  STARTED_PIDS+=("$sampler")
  # shellcheck disable=SC2046  # traffic_args' words are separate arguments
  in_ns "$(ns "$lane" g)" nice -n "$NICE" taskset -c "$GEN_CPU" "$BLAST" send --src $GEN_IP --dst $VIP \
    $(traffic_args "$traffic" "$LOAD_INDEX") --count "$MAX_PACKETS" --duration "$duration" --batch 64 \
    --rate "$rate" >"$WORK/gen.json"
  reap "$sampler"
  sleep 0.15   # let the queue drain before the totals are read
  rx1=$(rx_packets "$lane")
  drops1=$(early_drops "$lane")
  [[ -n ${SOCK_OF[$lane]:-} ]] && stats_after=$(sarad_request "${SOCK_OF[$lane]}" stats)
  nfq_proc=$(in_ns "$(ns "$lane" d)" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | head -1 | xargs || true)
  ct_count=$(in_ns "$(ns "$lane" d)" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0)
  printf '{"mode": "%s", "rep": %d, "round": %d, "traffic": "%s", "gen": %s, "sample": %s, "rx_total": %d, "conntrack_count": %d, "conntrack_early_drops": %d, "nfnetlink_queue": "%s", "stats_before": %s, "stats_after": %s}\n' \
    "$mode" "$rep" "$round" "$traffic" "$(cat "$WORK/gen.json")" "$(cat "$WORK/sample.json")" \
    "$((rx1 - rx0))" "${ct_count:-0}" "$((drops1 - drops0))" "$nfq_proc" "$stats_before" "$stats_after" >>"$RECORDS"
  /usr/bin/python3 - "$RECORDS" <<'EOF' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
s = r["sample"]
cpu = " ".join(f"cpu{i} {c['busy']*100:.0f}%" + (f" (steal {c['steal']*100:.0f}%)" if c.get("steal", 0) >= 0.01 else "")
               for i, c in enumerate(s["cpus"]))
pc = s.get("pid_cpu")
print(f"   {r['mode']:<15} {r['rep']}.{r['round']}: offered {r['gen']['pps']/1e3:6.1f} kpps, delivered "
      f"{s['rate']/1e3:6.1f} kpps ({cpu}" + (f", consumer {pc*100:.0f}%" if pc is not None else "")
      + f", other processes {s['foreign_cpu']*100:.0f}%)"
      + (f" CONNTRACK EVICTED {r['conntrack_early_drops']} ENTRIES" if r["conntrack_early_drops"] else ""))
EOF
}

# profile LANE MODE TRAFFIC: PERF=1 only; a load (3 s; new flows 0.6 s) inside `perf record -a`.
profile() {
  local lane=$1 mode=$2 traffic=$3 perf_pid seconds=3
  if [[ $traffic == newflow ]]; then   # stay below nf_conntrack_max, as in measure
    seconds=0.6
    flush_conntrack "$lane" sarad nfqsaran
  fi
  perf record -q -a ${PERF_CALLGRAPH:+-g} -o "$WORK/perf.$mode.data" -- sleep 4 >/dev/null 2>&1 &
  perf_pid=$!
  STARTED_PIDS+=("$perf_pid")
  sleep 1   # perf needs a moment to start recording on a busy machine
  LOAD_INDEX=$((LOAD_INDEX + 1))
  # shellcheck disable=SC2046
  in_ns "$(ns "$lane" g)" nice -n "$NICE" taskset -c "$GEN_CPU" "$BLAST" send --src $GEN_IP --dst $VIP \
    $(traffic_args "$traffic" "$LOAD_INDEX") --count "$MAX_PACKETS" --duration "$seconds" --batch 64 >/dev/null
  reap "$perf_pid" || true
}

warm_media_flow() {  # [LANE]: the media flow's first packet goes to sarad, which marks it (bpf: puts it in the map)
  # shellcheck disable=SC2046
  in_ns "$(ns "${1:-sarad}" g)" "$BLAST" send --src $GEN_IP --dst $VIP $(traffic_args media 0) --count 1 \
    --duration 1 >/dev/null
  sleep 0.2
}

# packet_threads PID: the consumer's threads that handle packets: sarad's queue threads (named
# sara-queueN), or every thread of a consumer that names none (nfq_accept_all has one).
packet_threads() {
  local named
  named=$(grep -l '^sara-queue' /proc/"$1"/task/*/comm 2>/dev/null | cut -d/ -f5 || true)
  if [[ -n $named ]]; then echo "$named"; else ls /proc/"$1"/task; fi
}

# latency LANE ROUND [NAME]: SIP datagrams one by one at LAT_RATE/s, received on the node.
latency() {
  local lane=$1 round=$2 name=${3:-$1} count receiver i
  local stats_before=null stats_after=null
  count=$(/usr/bin/python3 -c "print(int($LAT_RATE * $LAT_SECONDS))")
  node_receives "$lane" stack
  # The receiver sleeps through the load (--hold) and reads the socket afterwards: it never
  # takes a CPU from the path measured, and the latency comes from the kernel's receive
  # timestamps (taken when a packet enters n0) anyway. The node's own receive work (IP, UDP,
  # socket queue, about a microsecond) runs where the packet arrives: on the generator's CPU
  # for plain forwarding, on the consumer's CPU after a verdict.
  ip netns exec "$(ns "$lane" n)" "$BLAST" recv --bind $VIP_PORT_FORM:5060 --hold "$((LAT_SECONDS + 1))" \
    --duration "$((LAT_SECONDS + 8))" --idle 0.5 >"$WORK/recv.json" &
  receiver=$!
  STARTED_PIDS+=("$receiver")
  for ((i = 0; i < 100; i++)); do grep -q ready "$WORK/recv.json" 2>/dev/null && break; sleep 0.05; done
  [[ $lane == sarad ]] && stats_before=$(sarad_request "$SOCK" stats)
  # LAT_FIFO=1: the consumer runs SCHED_FIFO for the load, so that, woken, it takes its CPU
  # at once instead of waiting for the slice of whatever else runs there (other sessions'
  # compilers, on a shared machine): the figure is then the path's own, as on a dispatcher
  # with cores of its own. It sleeps between packets, so others and ksoftirqd keep their
  # share. (A SCHED_FIFO generator, which spins, starves ksoftirqd: packets were lost.)
  # Within sarad, its queue threads run one priority above its other threads: with all at one
  # priority on its one CPU, a queue thread woken by a packet could not preempt the main
  # thread's housekeeping (expiry, the periodic save: up to 1024 entries per 5 ms tick) and
  # waited for whole ticks, which a dispatcher with cores of its own does not do; with the
  # queue threads alone SCHED_FIFO, the main thread, preempted while it held the lock, then
  # waited a whole slice (3 ms) behind other work there (ksoftirqd, most likely). Its holds
  # of the lock still delay packets.
  if [[ $LAT_FIFO == 1 && -n ${CONSUMER_PID[$lane]:-} ]]; then
    chrt -a -f -p 1 "${CONSUMER_PID[$lane]}" >/dev/null
    for tid in $(packet_threads "${CONSUMER_PID[$lane]}"); do chrt -f -p 2 "$tid" >/dev/null; done
  fi
  # shellcheck disable=SC2046
  in_ns "$(ns "$lane" g)" nice -n "$NICE" taskset -c "$GEN_CPU" "$BLAST" send --src $GEN_IP \
    --dst $VIP $(traffic_args sip 0) --count "$count" --duration "$((LAT_SECONDS + 1))" --rate "$LAT_RATE" \
    --batch 1 >"$WORK/gen.json"
  if [[ $LAT_FIFO == 1 && -n ${CONSUMER_PID[$lane]:-} ]]; then
    chrt -a -o -p 0 "${CONSUMER_PID[$lane]}" >/dev/null
  fi
  reap "$receiver" || true
  [[ $lane == sarad ]] && stats_after=$(sarad_request "$SOCK" stats)
  node_receives "$lane" "$NODE"
  printf '{"mode": "%s", "round": %d, "fraction": %s, "rate": %s, "sessions": %d, "gen": %s, "recv": %s, "stats_before": %s, "stats_after": %s}\n' \
    "$name" "$round" "$LAT_FRACTION" "$LAT_RATE" "$([[ $name == sarad_table ]] && echo "$LAT_SESSIONS" || echo 0)" \
    "$(cat "$WORK/gen.json")" "$(tail -1 "$WORK/recv.json")" "$stats_before" "$stats_after" >>"$LATENCY_RECORDS"
  /usr/bin/python3 - "$LATENCY_RECORDS" <<'EOF' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
v = r["recv"]
print(f"   latency {r['mode']:<11} {r['round']} at {r['rate']/1e3:.0f} kpps: sent {r['gen']['sent']} "
      f"(skipped {r['gen'].get('skipped', 0)}), received {v['received']}, "
      f"p50 {v['p50_us']:.1f} us, p99 {v['p99_us']:.1f} us, p99.9 {v['p999_us']:.1f} us")
EOF
}

# ------------------------------------------------------------------------------------ run
echo "== building the lanes ($LANES) in namespaces $PREFIX-*"
for lane in $LANES; do lane_up "$lane"; node_receives "$lane" "$NODE"; done
ip -n "$(ns plain d)" route replace $VIP/$HOST_LEN via $NODE_HOP dev d1
start_sarad
in_ns "$(ns sarad d)" $IPT-save | grep -v '^#' >"$WORK/sara-rules.txt"
if [[ $BPF == 1 ]]; then
  # A veth takes redirected XDP frames only when its peer runs an XDP program (or NAPI via
  # GRO): n0 gets the same object's XDP program, whose empty maps pass everything.
  ip -n "$(ns bpfxdp n)" link set dev n0 xdpdrv obj "$BPF_OBJECT" sec xdp
  start_sarad bpftc
  start_sarad bpfxdp
fi
for lane in nfqminq nfqminn nfqsaraq nfqsaran; do mark_route "$lane"; done
in_ns "$(ns nfqminq d)" $IPT -t mangle -A PREROUTING -d $VIP/$HOST_LEN -p udp --dport 5060 -j NFQUEUE --queue-num 0
in_ns "$(ns nfqminn d)" $IPT -t mangle -A PREROUTING -d $VIP/$HOST_LEN -p udp -j NFQUEUE --queue-num 0
in_ns "$(ns nfqsaraq d)" $IPT-restore <"$WORK/sara-rules.txt"
in_ns "$(ns nfqsaran d)" $IPT-restore <"$WORK/sara-rules.txt"
start_nfq nfqminq $SIGNALLING_MARK
start_nfq nfqsaraq $SIGNALLING_MARK
start_nfq nfqminn $DATA_MARK
start_nfq nfqsaran $DATA_MARK
sleep 1

echo "== throughput: $REPS repetitions x $ROUNDS rounds, ${LOAD_WINDOW}s windows after ${LOAD_WARMUP}s of load (generator on CPU $GEN_CPU, consumer on CPU $CONSUMER_CPU, forwarding on ${FORWARD_CPU:-the generator CPU}, node: $NODE)"
for ((rep = 1; rep <= REPS; rep++)); do
  # A fresh sarad each repetition: the new-flow loads fill its session table.
  if ((rep > 1)); then stop_consumer sarad; start_sarad; fi
  warm_media_flow
  if [[ $BPF == 1 ]]; then warm_media_flow bpftc; warm_media_flow bpfxdp; fi
  for ((round = 1; round <= ROUNDS; round++)); do
    [[ " $COMPARE " == *" fast "* ]] || break
    measure plain plain "$rep" "$round" media
    measure sarad sarad_fast "$rep" "$round" media
    measure sarad sarad_ranged "$rep" "$round" ranged
    if [[ $BPF == 1 ]]; then
      measure bpftc bpf_tc_fast "$rep" "$round" media
      measure bpftc bpf_tc_ranged "$rep" "$round" ranged
      measure bpfxdp bpf_xdp_fast "$rep" "$round" media
      measure bpfxdp bpf_xdp_ranged "$rep" "$round" ranged
    fi
  done
  # CPU per forwarded packet on FORWARD_CPU at one offered rate every lane carries: with RPS the
  # generator is slower than the cheaper paths (it wakes the idle forwarding CPU with an IPI),
  # so their capacity cannot show as a delivered rate; their cost per packet can. XDP is left
  # out: on a veth it runs in the sender's NAPI context, on the generator's CPU.
  for ((round = 1; round <= ROUNDS; round++)); do
    [[ " $COMPARE " == *" cost "* && -n $FORWARD_CPU ]] || break
    measure plain plain_cost "$rep" "$round" media "$COST_RATE"
    measure sarad sarad_fast_cost "$rep" "$round" media "$COST_RATE"
    measure sarad sarad_ranged_cost "$rep" "$round" ranged "$COST_RATE"
    if [[ $BPF == 1 ]]; then
      measure bpftc bpf_tc_fast_cost "$rep" "$round" media "$COST_RATE"
      measure bpftc bpf_tc_ranged_cost "$rep" "$round" ranged "$COST_RATE"
    fi
  done
  for ((round = 1; round <= ROUNDS; round++)); do
    [[ " $COMPARE " == *" queue "* ]] || break
    measure sarad sarad_queue "$rep" "$round" sip
    measure nfqminq nfqmin_queue "$rep" "$round" sip
    measure nfqsaraq nfqsara_queue "$rep" "$round" sip
  done
  for ((round = 1; round <= ROUNDS; round++)); do
    [[ " $COMPARE " == *" newflow "* ]] || break
    measure sarad sarad_newflow "$rep" "$round" newflow
    measure nfqminn nfqmin_newflow "$rep" "$round" newflow
    measure nfqsaran nfqsara_newflow "$rep" "$round" newflow
  done
done


# The measured queue-path capacity (median over repetitions); latency at LAT_FRACTIONS of it,
# the first (0.5) being the target's.
QUEUE_CAPACITY=$(/usr/bin/python3 - "$RECORDS" <<'EOF'
import json, statistics, sys
by_rep = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["mode"] == "sarad_queue":
        by_rep.setdefault(r["rep"], []).append(r["sample"]["rate"])
print(int(statistics.median(statistics.mean(v) for v in by_rep.values())) if by_rep else 0)
EOF
)
[[ " $COMPARE " == *" queue "* ]] || LAT_FRACTIONS=""   # latency needs the queue-path capacity
for LAT_FRACTION in $LAT_FRACTIONS; do
  LAT_RATE=$(/usr/bin/python3 -c "print(int($QUEUE_CAPACITY * $LAT_FRACTION))")
  echo "== latency: one-way, SIP datagrams at $LAT_RATE pps ($LAT_FRACTION of the queue-path capacity), $LAT_ROUNDS rounds of ${LAT_SECONDS}s"
  if [[ $LAT_FRACTION == "${LAT_FRACTIONS%% *}" ]]; then
    # Once with the session table the last repetition's new-flow loads left in sarad (live
    # sessions: 30 s flow timeout; sarad scans the whole table once a second), then fresh.
    LAT_SESSIONS=$(sarad_request "$SOCK" stats | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin).get("sessions", 0))')
    latency sarad 0 "sarad_table"
    stop_consumer sarad
    start_sarad
  fi
  for ((round = 1; round <= LAT_ROUNDS; round++)); do
    latency plain "$round"
    latency sarad "$round"
    latency nfqminq "$round"
  done
done

if [[ $PERF == 1 ]]; then
  echo "== perf profiles"
  stop_consumer sarad; start_sarad; warm_media_flow
  profile plain plain media
  profile sarad sarad_fast media
  profile sarad sarad_ranged ranged
  profile sarad sarad_queue sip
  profile nfqminq nfqmin_queue sip
  profile nfqsaraq nfqsara_queue sip
  profile sarad sarad_newflow newflow
  profile nfqminn nfqmin_newflow newflow
  profile nfqsaran nfqsara_newflow newflow
fi
for lane in $SARAD_LANES nfqminq nfqminn nfqsaraq nfqsaran; do stop_consumer "$lane"; done

mkdir -p "$BUILD_DIR/bench"
if [[ $BPF == 1 ]]; then
  # Issue 17: from sarad's decision to the flow's first packet forwarded by the program (the
  # map update sarad makes before its verdict, then one run of the program on the flow's frame).
  echo "== BPF map update to first hit (tests/tools/bpf_map_update: 20000 flows into a map holding 500000)"
  "$BUILD_DIR/tools/bpf_map_update" --object "$BPF_OBJECT" >"$BUILD_DIR/bench/bpf_map_update.json" || true
  /usr/bin/python3 - "$BUILD_DIR/bench/bpf_map_update.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
u, h = r["update_us"], r["update_and_first_hit_us"]
met = h["p99"] <= 50 and not r["first_packet_misses"] and not r["refused"]
print(f"  map update p50 {u['p50']:.1f} us, p99 {u['p99']:.1f} us; update + first packet through the program "
      f"p50 {h['p50']:.1f} us, p99 {h['p99']:.1f} us (target <= 50: {'met' if met else 'NOT met'}); "
      f"first packets missed {r['first_packet_misses']}")
EOF
fi
/usr/bin/python3 "$HERE/report.py" --records "$RECORDS" --latency "$LATENCY_RECORDS" \
  --json "$BUILD_DIR/bench/$JSON_NAME" --seconds "$((SECONDS - START_TIME))" --forward-cpu "${FORWARD_CPU:--1}" \
  --setup "ip=$IP_VERSION reps=$REPS rounds=$ROUNDS window_s=$LOAD_WINDOW warmup_s=$LOAD_WARMUP gen_cpu=$GEN_CPU consumer_cpu=$CONSUMER_CPU forward_cpu=${FORWARD_CPU:-gen} node=$NODE nice=$NICE kernel=$(uname -r)"
if [[ $PERF == 1 ]]; then
  for f in "$WORK"/perf.*.data; do
    for cpu in "$GEN_CPU" "$CONSUMER_CPU"; do
      echo "== perf: $(basename "$f" .data | sed 's/^perf\.//'), CPU $cpu, top symbols"
      perf report -i "$f" -C "$cpu" --no-children --sort comm,sym --stdio 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -"${PERF_LINES:-25}" || true
    done
  done
fi
