# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the data-path tests (test_datapath_*.py): sarad's control socket, its memory
(once, or sampled through a flood), the nodes' packet counters, per-flow packet times from
the node captures, and the tool/daemon checks every data-path test makes first.

    stats = sarad_request(cluster, "stats")          # one JSON document
    delta = counter_deltas(before, after)            # {name: after - before} of what moved
    rx = node_rx_packets(cluster)                    # {node name: rx_packets of eth0}
    times = udp_packet_times(pcap)                   # {(src, dst): [t, ...]} client->VIP UDP
    sampler = Sampler(cluster, sarad_pid(cluster))   # VmRSS and stats every 0.25 s (a thread)

Everything runs against the cluster's own namespaces; the control socket is a file under the
cluster's work dir, reachable from the test process (root namespace).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional

import pytest

import capture_analysis
import peers
import topology
from conftest import require_tools

VIP = topology.VIP
LEAST_SESSIONS = {"scheduler": {"algorithm": "least-sessions"}}
# forwarding.fast_path: bpf on the dispatcher's client-side interface (issue 17); on_failure
# refuse: a kernel that refuses the program fails the test instead of quietly testing netfilter.
BPF = {"forwarding": {"fast_path": "bpf", "bpf": {"interface": "eth0", "on_failure": "refuse"}}}


# ----------------------------------------------------------------------------------------
# Preconditions
# ----------------------------------------------------------------------------------------
def sarad_runs_as_daemon() -> bool:
    if not topology.SARAD.exists():
        return False
    r = subprocess.run([str(topology.SARAD), "--help"], capture_output=True, text=True)
    return "--config FILE" in r.stdout + r.stderr


SARAD_MARKS = [
    pytest.mark.sarad,
    pytest.mark.skipif(not sarad_runs_as_daemon(),
                       reason="%s does not run as a daemon (--config) yet" % topology.SARAD),
]


def require_scapy() -> None:
    r = subprocess.run([topology.PYTHON, "-c", "import scapy.all"], capture_output=True)
    if r.returncode != 0:
        pytest.skip("Debian's python3-scapy is not installed")


# ----------------------------------------------------------------------------------------
# sarad
# ----------------------------------------------------------------------------------------
def sarad_socket(cluster) -> Path:
    """The control socket of the config the cluster writes (dispatcher_config)."""
    return Path(cluster.dispatcher_config(**cluster.config_overrides)["control"]["socket"])


def sarad_request(cluster, line: str, *, timeout: float = 5.0,
                  path: Optional[Path] = None) -> dict:
    """Send one request line (stats, nodes, sessions [LIMIT]) on sarad's control socket and
    return the JSON document it answers (read to EOF). Connecting is retried for `timeout`
    s: right after start_sarad() the socket may not be bound yet (start_sarad may return
    on sarad's rules, which it installs before it opens the socket)."""
    path = str(path or sarad_socket(cluster))
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() >= end:
                raise
            time.sleep(0.05)
    try:
        s.sendall(line.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    return json.loads(b"".join(chunks).decode())


def sarad_stats(cluster, **kw) -> dict:
    return sarad_request(cluster, "stats", **kw)


def counter_deltas(before: dict, after: dict) -> dict:
    """{name: after - before} for every numeric counter that changed."""
    out = {}
    for k, v in after.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            d = v - before.get(k, 0)
            if d:
                out[k] = d
    return out


def sarad_pid(cluster) -> Optional[int]:
    """PID of sarad itself (the child of `timeout`)."""
    return cluster.sarad.command_pid() if cluster.sarad else None


def kill_sarad(cluster) -> None:
    """SIGKILL sarad itself (not its `timeout` wrapper, which then exits too): a crash."""
    pid = sarad_pid(cluster)
    assert pid, "sarad not running"
    os.kill(pid, signal.SIGKILL)
    rc = cluster.sarad.wait(5)
    assert rc in (-signal.SIGKILL, 128 + signal.SIGKILL), rc


def calls_with_media(cluster, n: int = 5, media_packets: int = 10):
    """`n` calls (-t u1, 20 calls/s) with `media_packets` RTP packets each; all must succeed
    with their RTP echoed."""
    r = uac_result(peers.start_sip_uac(cluster, calls=n, rate=20, transport="u1", media_packets=media_packets,
                                       scenario=uac_scenario(cluster)))
    assert r.ok and not rtp_short([r]), r.summary()
    return r


def vm_rss_kib(pid: int) -> Optional[int]:
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def uac_scenario(cluster, invite_retrans_ms: int = 4000) -> Path:
    """peers/uac_media.xml with the INVITE's first retransmission after `invite_retrans_ms`
    instead of T1 = 500 ms, written to the cluster's work dir (pass it as
    start_sip_uac(scenario=...)). On a loaded 2-vCPU machine (builds, fuzzers, benchmarks of
    other people running; SIPp reports its own scheduling stalls of up to 4.5 s) an answer
    can take longer than 500 ms; the UAS answers the retransmission again (peers/uas_echo.xml)
    but every retransmitted INVITE is one more queued packet in tests that count them.
    Data-path tests use this copy."""
    path = cluster.workdir / ("uac_media_%d.xml" % invite_retrans_ms)
    if not path.exists():
        text = (peers.PEERS_DIR / "uac_media.xml").read_text()
        marker = '<send retrans="500">'
        assert text.count(marker) == 2, "uac_media.xml changed: INVITE and BYE retrans"
        path.write_text(text.replace(marker, '<send retrans="%d">' % invite_retrans_ms, 1))
    return path


def uas_scenario(cluster, timewait_ms: int = 4000) -> Path:
    """peers/uas_echo.xml, written to the cluster's work dir, that answers a retransmitted
    BYE for `timewait_ms` (SIPp's default 4 s, not 600 ms): a BYE retransmitted after the
    timewait finds a dead call and is never answered, and the UAC's call times out. That
    happens on a host where SIPp itself reports scheduling stalls of 1 to 4.5 s (others'
    builds, fuzzers, benchmarks) and the odd packet is lost. The calls are unchanged on the
    wire; a UAS stopped with SIGUSR1 takes up to `timewait_ms` to exit."""
    path = cluster.workdir / ("uas_echo_tolerant_%d.xml" % timewait_ms)
    if not path.exists():
        text = (peers.PEERS_DIR / "uas_echo.xml").read_text()
        timewait = '<timewait milliseconds="600"/>'
        assert text.count(timewait) == 1, "uas_echo.xml changed: its timewait"
        path.write_text(text.replace(timewait, '<timewait milliseconds="%d"/>' % timewait_ms))
    return path


def start_sip_servers(cluster, transports=("udp", "tcp"), **kw) -> list:
    """peers.start_sip_servers with uas_scenario(): a UDP and/or TCP SIPp UAS on every node."""
    return peers.start_sip_servers(cluster, transports, scenario=uas_scenario(cluster), **kw)


@pytest.fixture
def tolerant_sip_servers(cluster):
    """Like conftest's sip_servers (a UDP and a TCP SIPp UAS on every node of `cluster`),
    with uas_scenario(). Import it into a test module to use it."""
    require_tools("sipp")
    servers = start_sip_servers(cluster)
    yield servers
    for s in servers:
        s.proc.stop(signal.SIGTERM, grace=2)


def uac_result(uac, timeout: Optional[float] = None):
    """uac.result(timeout): SIPp's counters and every call's RTP report (the UAC's RTP sender
    has finished its last call's stream when it returns)."""
    return uac.result(timeout)


# ----------------------------------------------------------------------------------------
# Nodes
# ----------------------------------------------------------------------------------------
def node_rx_packets(cluster) -> dict:
    """{node name: rx_packets of its LAN interface} (sysfs of the node's namespace)."""
    out = {}
    for n in cluster.nodes:
        r = n.ns.run("cat", "/sys/class/net/%s/statistics/rx_packets" % n.ifname)
        out[n.name] = int(r.stdout.strip())
    return out


# ----------------------------------------------------------------------------------------
# Captures: per-flow packet times (client -> VIP UDP), Ethernet/IPv4 pcaps from tcpdump -w
# ----------------------------------------------------------------------------------------
def iter_udp(path):
    """(timestamp, src ip, sport, dst ip, dport, payload) of every UDP packet that carries its
    header (IPv4 first fragments; IPv6 without extension headers) in a pcap file, in order;
    IPv6 addresses in their compressed form (capture_analysis.transport_header)."""
    for ts, ip in capture_analysis.iter_ip(path):
        parsed = capture_analysis.transport_header(ip)
        if parsed is None or parsed[0] != 17 or len(parsed[3]) < 8:
            continue
        _, src, dst, l4 = parsed
        sport, dport, length = struct.unpack("!HHH", l4[:6])
        yield ts, src, sport, dst, dport, l4[8:max(8, length)]


def udp_packet_times(path, vip: str = VIP) -> dict:
    """{("src:port", "vip:port"): [timestamp, ...]} of UDP packets towards the VIP (first
    fragments only; ICMP is not UDP, so quoted headers never count)."""
    flows = defaultdict(list)
    for ts, src, sport, dst, dport, _ in iter_udp(path):
        if dst == vip:
            flows[("%s:%d" % (src, sport), "%s:%d" % (vip, dport))].append(ts)
    return dict(flows)


def max_gap(times, start: Optional[float] = None, end: Optional[float] = None) -> float:
    """Largest interval between consecutive times (restricted to [start, end] if given)."""
    ts = sorted(t for t in times if (start is None or t >= start) and (end is None or t <= end))
    return max((b - a for a, b in zip(ts, ts[1:])), default=0.0)


# ----------------------------------------------------------------------------------------
# sarad under a flood (test_datapath_flood.py, test_datapath_stream_budget.py)
# ----------------------------------------------------------------------------------------
class Sampler(threading.Thread):
    """VmRSS of sarad and its stats every `interval` s until stopped."""

    def __init__(self, cluster, pid, interval=0.25):
        super().__init__(daemon=True)
        self.cluster, self.pid, self.interval = cluster, pid, interval
        self.rss, self.stats, self.errors = [], [], []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.rss.append((time.monotonic(), vm_rss_kib(self.pid)))
            try:
                self.stats.append(sarad_stats(self.cluster, timeout=2))
            except (OSError, ValueError) as e:
                self.errors.append(repr(e))
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join(5)

    def rss_kib(self) -> list:
        """The VmRSS values read (KiB), in order; samples taken while /proc had none left out."""
        return [v for _, v in self.rss if v is not None]


def queue_drops(cluster) -> str:
    """/proc/net/netfilter/nfnetlink_queue of the dispatcher: queue, portid, waiting, mode,
    range, dropped (queue full), user dropped (netlink buffer), id, 1."""
    return cluster.dispatcher.run("cat", "/proc/net/netfilter/nfnetlink_queue",
                                  check=False).stdout.strip()


# ----------------------------------------------------------------------------------------
# Misc
# ----------------------------------------------------------------------------------------
def wait_until(cond: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(interval)
    return cond()


def wait_for_calls_established(cluster, before: dict, calls: int, timeout: float = 5) -> dict:
    """Waits until `calls` more data verdicts than in `before` (sarad stats): each call's
    first RTP packet is one. Fails the test otherwise; returns the stats at that moment."""
    assert wait_until(lambda: sarad_stats(cluster)["pipeline_data_verdicts_total"]
                      - before["pipeline_data_verdicts_total"] >= calls, timeout), \
        "calls not established"
    return sarad_stats(cluster)


def require_peers(*tools: str) -> None:
    require_tools("sipp", "tcpdump", "tshark", *tools)


def calls_created_within(result) -> Optional[float]:
    """Seconds from a SIPp UAC's start until it had created all its calls, from its -stf
    rows (one a second: 1 s resolution), or None."""
    import csv
    try:
        rows = list(csv.reader(open(result.workdir / "stats.csv"), delimiter=";"))
    except FileNotFoundError:
        return None
    head = rows[0] if rows else []
    for row in rows[1:]:
        d = dict(zip(head, row))
        if int(d.get("OutgoingCall(C)", 0) or 0) >= result.calls:
            h, m, s = (d.get("ElapsedTime(C)") or "0:0:0").split(":")[:3]
            return int(h) * 3600 + int(m) * 60 + int(s)
    return None


def sipp_diagnostics(cluster, results) -> str:
    """For an assertion message when calls failed: each failed UAC's message table, the
    longest scheduling stall every SIPp reported (its watchdog), and how many calls the
    UASes aborted or found dead. Stalls of seconds mean a starved host, not a dispatcher
    fault; aborted/dead calls point at the peers' scenario; neither points at the wire,
    which calls_by_node() on the captures shows."""
    import re
    out = []
    for r in results:
        if r.ok:
            continue
        text = r.log.read_text(errors="replace") if r.log.exists() else ""
        table = text[text.rfind("Messages  Retrans"):].split("---- Test Terminated")[0]
        out.append("UAC -t %s:\n%s" % (r.transport, table.rstrip()))
    stalls, aborted, dead = {}, 0, 0
    for f in cluster.workdir.glob("*/errors.log"):
        text = f.read_text(errors="replace")
        trips = [int(x) for x in re.findall(r"timer \d+ms has been tripped \((\d+)\)", text)]
        if trips:
            stalls[f.parent.name] = max(trips)
        if f.parent.name.startswith("uas-"):
            aborted += text.count("Aborting call")
            dead += text.count("Dead call")
    out.append("longest SIPp stalls (ms): %s" % (stalls or "none"))
    out.append("UAS calls aborted: %d, messages for dead calls: %d" % (aborted, dead))
    return "\n".join(out)


def rtp_short(results, min_fraction: float = 0.5) -> dict:
    """{client RTP port: report} of the calls whose RTP was not echoed well enough (fewer
    than `min_fraction` of the packets sent came back, or no report at all: the sender did
    not run). The data-path tests take half as "RTP echoed": an echo lost in a starved
    SIPp's socket buffer on a loaded host is no dispatcher decision; where each call's RTP
    went is checked on the nodes' captures (check_calls)."""
    short = {}
    for r in results:
        for port in r.media_ports:
            rep = r.rtp.get(port)
            if rep is None or rep["sent"] == 0 or rep["received"] < min_fraction * rep["sent"]:
                short[port] = rep
    return short


def check_calls(cluster, sightings: dict, results, *, media: bool = True,
                min_at_node: Optional[float] = None) -> dict:
    """Every call of `results` (SipUacResults) seen, complete, on exactly one node, its
    media (client->VIP RTP) on that node and to that node's own media port; with
    `min_at_node`, at least that fraction of the RTP packets its sender sent were captured
    at the node. Returns {node name: calls}."""
    per_node = defaultdict(int)
    for r in results:
        udp = r.transport.startswith("u")
        for cid in r.call_ids:
            s = sightings.get(cid)
            assert s is not None, "call %s (%s) not seen on any node" % (cid, r.transport)
            assert s.on_one_node, "call %s (%s) on several nodes: %r" % (cid, r.transport, s)
            assert s.complete, "call %s (%s) incomplete: %r %s" % (cid, r.transport, s, s.messages)
            node = cluster.node(next(iter(s.nodes)))
            per_node[node.name] += 1
            if media:
                port = node.sip_udp_media_port if udp else node.sip_tcp_media_port
                assert s.media_flows, "call %s: no RTP seen on any node: %r" % (cid, s)
                assert {srv for _, _, srv in s.media_flows} == {"%s:%d" % (VIP, port)}, s
            if min_at_node is not None:
                (key, counts), = s.media_flows.items()
                rep = r.rtp.get(int(key[1].rsplit(":", 1)[1]))
                assert rep is not None, "call %s: no RTP report" % cid
                assert counts.get(node.name, 0) >= min_at_node * rep["sent"], (cid, counts, rep)
    return dict(per_node)


def many_clients(cluster, count: int, calls_per_client: int = 1, first: int = 100) -> dict:
    """`count` more client addresses (198.18.1.FIRST..) on the client's eth0, for a router that
    hashes addresses only (ECMP over several dispatchers): start_sip_uac keyword arguments
    placing `calls_per_client` calls from each (SIPp `-t ui`, the address in field1 and in the
    call's SDP, its RTP sent from it)."""
    if not 1 <= count <= 150 or first + count > 254:
        raise ValueError("client addresses must stay inside 198.18.1.0/24")
    addresses = ["198.18.1.%d" % (first + k) for k in range(count)]
    cluster.client.ip_batch(["addr add %s/24 dev eth0" % a for a in addresses])
    path = cluster.workdir / "uac_media_per_client.xml"
    text = uac_scenario(cluster).read_text()
    assert text.count("[media_ip]") == 2, "uac_media.xml changed: the SDP's c= and the RTP sender's line"
    path.write_text(text.replace("[media_ip]", "[field1]"))
    calls = count * calls_per_client
    # -max_socket: SIPp refuses its default (50000) above the open-files limit.
    return {"calls": calls, "transport": "ui", "scenario": path, "extra_args": ["-ip_field", "1", "-max_socket", str(count + 16)],
            "extra_fields": [[addresses[k % count]] for k in range(calls)]}
