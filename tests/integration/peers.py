# SPDX-License-Identifier: GPL-2.0-or-later
"""Real peers in the namespace cluster (topology.Cluster): SIPp UAS/UAC with per-call RTP,
GStreamer RTSP servers, ffmpeg / gst-launch RTSP clients, per-node tcpdump captures.

Servers run on the nodes, bound to the VIP, each node with its own media ports (Node
properties sip_udp_media_port, sip_tcp_media_port, rtsp_rtp_ports) so captures tell nodes
apart. Clients run in the client namespace. Every process is started with Cluster.spawn: it
stops by itself (`timeout`) and Cluster.close() stops whatever is left.

Typical use:

    uas = start_sip_servers(cluster)                       # UDP+TCP UAS on every node
    with capture_nodes(cluster) as caps:
        r = run_sip_uac(cluster, calls=20, rate=20, transport="u1")
    assert r.ok and r.rtp_ok
    calls = calls_by_node(caps.pcaps)                      # {Call-ID: Sighting}

The capture analysis (calls_by_node, rtsp_sessions_by_node) lives in capture_analysis.py and
is re-exported here.
"""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Sequence

import capture_analysis
from capture_analysis import (Sighting, analyze, calls_by_node, client_flows_by_node,
                              rtsp_sessions_by_node)
from topology import CLIENT_ADDR, CLIENT_ADDR6, PYTHON, VIP, VIP6, Cluster, Namespace, Node, Proc

__all__ = [
    "SippStats", "SipUas", "start_sip_uas", "start_sip_servers", "SipUacResult", "SipUac",
    "start_sip_uac", "run_sip_uac", "RtspServer", "start_rtsp_server", "start_rtsp_servers",
    "RtspClientResult", "RtspClient", "start_rtsp_client", "run_rtsp_clients", "RTSP_CLIENT_MIX",
    "gst_h264_decoder",
    "Capture", "start_capture", "NodeCaptures", "capture_nodes", "wait_listening",
    # capture analysis (capture_analysis.py)
    "capture_analysis", "Sighting", "analyze", "calls_by_node", "rtsp_sessions_by_node",
    "client_flows_by_node",
]

PEERS_DIR = Path(__file__).resolve().parent / "peers"
SIP_PORT = 5060
RTSP_PORT = 554
UAC_SIGNALLING_PORT = 5070
SIP_MEDIA_PORT_BASE = 40000        # client RTP ports: base, base+2, ... (one per call)
RTSP_CLIENT_PORT_BASE = 21000      # RTSP client k gets ports base+20k .. base+20k+19
RTSP_CLIENT_PORT_SPAN = 20
# One RTSP client of each tool over each transport (run_rtsp_clients' `clients`).
RTSP_CLIENT_MIX = (("ffmpeg", "udp"), ("gst", "udp"), ("ffmpeg", "tcp"), ("gst", "tcp"))
RTSP_URL6 = "rtsp://[%s]:%d/test" % (VIP6, RTSP_PORT)     # run_rtsp_clients(url=...) over IPv6

_seq = iter(range(1, 1 << 30))


def _unique(name: str) -> str:
    return "%s-%d" % (name, next(_seq))


def wait_listening(ns: Namespace, proto: str, addr: str, port: int, timeout: float = 5) -> bool:
    """Wait until a socket listens on addr:port (proto tcp|udp) inside `ns` (ss -l)."""
    flag = "-Hltn" if proto == "tcp" else "-Hlun"
    want = ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = ns.run("ss", flag, check=False).stdout
        if any(want in line.split() for line in out.splitlines()):
            return True
        time.sleep(0.05)
    return False


# ----------------------------------------------------------------------------------------
# SIPp
# ----------------------------------------------------------------------------------------
@dataclass
class SippStats:
    """Cumulative counters from the last row of a SIPp -trace_stat CSV (-stf)."""
    successful: int
    failed: int
    created: int
    row: dict

    @classmethod
    def read(cls, path: Path) -> Optional["SippStats"]:
        try:
            rows = list(csv.reader(open(path), delimiter=";"))
        except FileNotFoundError:
            return None
        if len(rows) < 2:
            return None
        row = dict(zip(rows[0], rows[-1]))
        return cls(int(row.get("SuccessfulCall(C)", 0)), int(row.get("FailedCall(C)", 0)),
                   int(row.get("TotalCallCreated", 0)), row)


def _sipp_common(stf: Path, errors: Path, control_port: int) -> list:
    return ["-nostdin", "-cp", str(control_port), "-trace_stat", "-stf", str(stf), "-fd", "1",
            "-trace_err", "-error_file", str(errors)]


@dataclass
class SipUas:
    node: Node
    transport: str           # udp | tcp
    media_port: int          # RTP echo on media_port and media_port+2
    proc: Proc
    stf: Path
    vip: str = VIP           # the address it listens on (VIP6 for an IPv6 UAS)

    def stats(self) -> Optional[SippStats]:
        return SippStats.read(self.stf)

    def stop(self, grace: float = 3) -> Optional[SippStats]:
        """Stop gracefully and return the final counters: SIGUSR1 to SIPp (place no new call,
        exit once the current calls are over: the scenario's 600 ms timewait), SIGTERM after
        `grace` s. SIGUSR1 goes to SIPp itself: `timeout` does not relay it."""
        if self.proc.running():
            self.proc.signal_command(signal.SIGUSR1)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.stop(signal.SIGTERM, grace=2)
        return self.stats()


def start_sip_uas(cluster: Cluster, node, transport: str = "udp", *, lifetime: float = 60,
                  media_port: Optional[int] = None, scenario: Optional[Path] = None,
                  extra_args: Sequence[str] = (), wait: bool = True, ipv6: bool = False) -> SipUas:
    """SIPp UAS on VIP:5060 of `node` (peers/uas_echo.xml = SIPp's built-in uas with a 600 ms
    timewait, or `scenario`), RTP echo (-rtp_echo) on the node's own media port.
    transport: udp (-t u1) or tcp (-t t1). ipv6: on VIP6 (a cluster with ipv6=True)."""
    node = cluster.node(node)
    if transport not in ("udp", "tcp"):
        raise ValueError(transport)
    mp = media_port or (node.sip_udp_media_port if transport == "udp" else node.sip_tcp_media_port)
    name = _unique("uas-%s-%s%s" % (node.name, transport, "-v6" if ipv6 else ""))
    vip = VIP6 if ipv6 else VIP
    d = cluster.workdir / name
    d.mkdir()
    sf = ["-sf", str(scenario or PEERS_DIR / "uas_echo.xml")]
    argv = ["sipp", *sf, "-i", vip, "-p", str(SIP_PORT), "-t", "u1" if transport == "udp" else "t1",
            "-mi", vip, "-mp", str(mp), "-rtp_echo",
            *_sipp_common(d / "stats.csv", d / "errors.log",
                          8880 + (1 if transport == "udp" else 2) + (2 if ipv6 else 0)),
            *extra_args]
    proc = cluster.spawn(node.ns, argv, name=name, timeout=lifetime, cwd=d)
    uas = SipUas(node, transport, mp, proc, d / "stats.csv", vip)
    if wait and not wait_listening(node.ns, transport, vip, SIP_PORT):
        raise RuntimeError("SIPp UAS on %s did not start:\n%s" % (node.name, proc.output()[-2000:]))
    return uas


def start_sip_servers(cluster: Cluster, transports: Iterable[str] = ("udp", "tcp"),
                      nodes: Optional[Iterable] = None, lifetime: float = 60,
                      scenario: Optional[Path] = None, ipv6: bool = False) -> list:
    """A SIPp UAS per transport on every node (or `nodes`); returns the SipUas list once all
    of them listen. scenario, ipv6: as start_sip_uas."""
    servers = [start_sip_uas(cluster, n, t, lifetime=lifetime, wait=False, scenario=scenario, ipv6=ipv6)
               for n in (nodes or cluster.nodes) for t in transports]
    for s in servers:
        if not wait_listening(s.node.ns, s.transport, s.vip, SIP_PORT):
            raise RuntimeError("SIPp UAS %s/%s did not start:\n%s"
                               % (s.node.name, s.transport, s.proc.output()[-2000:]))
    return servers


@dataclass
class SipUacResult:
    calls: int                   # requested
    transport: str               # u1 | un | t1 | tn
    returncode: Optional[int]    # SIPp's exit status (0: all calls successful; 124: timeout)
    successful: int              # SuccessfulCall(C) of the last -stf row
    failed: int                  # FailedCall(C)
    stats: Optional[SippStats]
    rtp: dict                    # client RTP port -> {"call_id", "sent", "received", ...}
    media_ports: list            # the client RTP ports offered, one per call
    workdir: Path
    log: Path
    seconds: float
    reports: list = field(default_factory=list)   # every call's RTP report, in call order

    @property
    def ok(self) -> bool:
        return self.successful == self.calls and self.failed == 0

    @property
    def call_ids(self) -> list:
        return [r["call_id"] for r in self.reports]

    @property
    def rtp_ok(self) -> bool:
        """Every call sent its RTP and got (nearly) all of it echoed back through the gateway."""
        return len(self.reports) == self.calls and all(
            r["sent"] > 0 and r["received"] >= 0.9 * r["sent"] for r in self.reports)

    def summary(self) -> str:
        echoed = sum(r["received"] for r in self.reports)
        sent = sum(r["sent"] for r in self.reports)
        return ("SIPp UAC -t %s: %d/%d successful, %d failed, rc %s, RTP echoed %d/%d "
                "(%d reports), %.1f s" % (self.transport, self.successful, self.calls, self.failed,
                                          self.returncode, echoed, sent, len(self.reports), self.seconds))


class SipUac:
    """A running SIPp UAC (start_sip_uac) and its RTP sender; result() waits for both."""

    def __init__(self, cluster, proc, sender, fifo, calls, transport, d, ports, t0):
        self.cluster, self.proc, self.sender, self.fifo = cluster, proc, sender, fifo
        self.calls, self.transport, self.dir, self.ports, self.t0 = calls, transport, d, ports, t0

    def result(self, timeout: Optional[float] = None) -> SipUacResult:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = self.proc.stop()
        secs = time.monotonic() - self.t0
        # No more calls: the sender finishes the streams it has (media + linger) and exits.
        # A call's <exec> line may still be on its way (a double-forked shell): it is
        # written before "END" unless the host stalled for longer than this pause.
        time.sleep(0.2)
        with open(self.fifo, "w") as f:
            f.write("END\n")
        try:
            self.sender.wait(10)
        except subprocess.TimeoutExpired:
            self.sender.stop()
        reports = read_rtp_reports(self.dir)
        rtp = {int(r["bind"].rsplit(":", 1)[1]): r for r in reports}   # per port: its last call
        st = SippStats.read(self.dir / "stats.csv")
        return SipUacResult(self.calls, self.transport, rc, st.successful if st else 0,
                            st.failed if st else 0, st, rtp, self.ports, self.dir, self.proc.log,
                            secs, reports)


def read_rtp_reports(uac_dir: Path) -> list:
    """The RTP sender's reports in a UAC's work dir (rtp/rtp-PORT-N.json), in call order."""
    files = uac_dir.glob("rtp/rtp-*.json")
    number = lambda f: int(f.stem.rsplit("-", 1)[1])  # noqa: E731
    return [json.loads(f.read_text()) for f in sorted(files, key=number)]


def start_sip_uac(cluster: Cluster, calls: int = 20, rate: float = 10, transport: str = "u1", *,
                  media_packets: int = 50, port_base: int = SIP_MEDIA_PORT_BASE,
                  limit: Optional[int] = None, max_socket: Optional[int] = None,
                  local_port: int = UAC_SIGNALLING_PORT, timeout: Optional[float] = None,
                  service: str = "service", extra_args: Sequence[str] = (),
                  scenario: Optional[Path] = None, rtp_linger: float = 1.0,
                  media_ports: Optional[Sequence[int]] = None,
                  extra_fields: Optional[Sequence[Sequence]] = None, ipv6: bool = False) -> SipUac:
    """SIPp UAC in the client namespace: `calls` calls at `rate` calls/s to VIP:5060, each
    with its own RTP port (port_base + 2k, or media_ports[k]: repeat a port for calls that
    reuse it, as IP phones do) and `media_packets` RTP packets (20 ms apart) sent by the
    UAC's one rtp_sender.py, which counts the echoes for `rtp_linger` s after a call's last
    packet. transport: u1 (one UDP socket for every call), un (one socket per call;
    -max_socket defaults to calls), ui (one socket per client address: each call from the
    address in its injection field1, offered in its SDP; many_clients() sets it up), t1 (one
    TCP connection), tn (one TCP connection per call). scenario: another scenario file in place of peers/uac_media.xml (same keys and
    injection file; SIPp takes one -sf only). extra_fields[k]: more injection fields of call k
    (field1, field2, ... of its scenario). ipv6: from CLIENT_ADDR6 to VIP6 (signalling and
    media; a cluster with ipv6=True)."""
    if transport not in ("u1", "un", "ui", "t1", "tn"):
        raise ValueError(transport)
    name = _unique("uac-%s%s" % (transport, "-v6" if ipv6 else ""))
    vip, local = (VIP6, CLIENT_ADDR6) if ipv6 else (VIP, CLIENT_ADDR)
    d = cluster.workdir / name
    (d / "rtp").mkdir(parents=True)
    ports = list(media_ports) if media_ports else [port_base + 2 * k for k in range(calls)]
    rows = ["%d" % p for p in ports]
    for k, more in enumerate(extra_fields or ()):
        rows[k] += "".join(";%s" % f for f in more)
    (d / "ports.csv").write_text("SEQUENTIAL\n" + "".join(r + "\n" for r in rows))
    media_s = media_packets * 0.02
    hold_ms = int(media_s * 1000) + 400            # ACK..BYE: media + a little
    if timeout is None:
        timeout = calls / rate + media_s + 15
    fifo = d / "rtp.fifo"
    os.mkfifo(fifo)
    sender = cluster.spawn(cluster.client, [PYTHON, str(PEERS_DIR / "rtp_sender.py"),
                                            "--fifo", str(fifo), "--report-dir", str(d / "rtp"),
                                            "--packets", str(media_packets),
                                            "--linger", str(rtp_linger)],
                           name=name + "-rtp", timeout=timeout + media_s + rtp_linger + 15)
    if not sender.wait_for_output("rtp_sender: ready", 10):
        raise RuntimeError("rtp_sender.py did not start:\n%s" % sender.output())
    argv = ["sipp", ("[%s]:%d" if ipv6 else "%s:%d") % (vip, SIP_PORT),
            "-sf", str(scenario or PEERS_DIR / "uac_media.xml"),
            "-inf", str(d / "ports.csv"), "-s", service,
            "-i", local, "-p", str(local_port), "-mi", local, "-t", transport,
            "-m", str(calls), "-r", str(rate), "-l", str(limit or calls), "-d", str(hold_ms),
            "-key", "rtp_fifo", str(fifo),
            *_sipp_common(d / "stats.csv", d / "errors.log", 8888 + (2 if ipv6 else 0))]
    if transport in ("un", "tn"):
        argv += ["-max_socket", str(max_socket or max(calls, 2))]
    argv += list(extra_args)
    t0 = time.monotonic()
    proc = cluster.spawn(cluster.client, argv, name=name, timeout=timeout, cwd=d)
    return SipUac(cluster, proc, sender, fifo, calls, transport, d, ports, t0)


def run_sip_uac(cluster: Cluster, calls: int = 20, rate: float = 10, transport: str = "u1",
                **kw) -> SipUacResult:
    """start_sip_uac(...) and wait for its result."""
    return start_sip_uac(cluster, calls, rate, transport, **kw).result()


# ----------------------------------------------------------------------------------------
# RTSP
# ----------------------------------------------------------------------------------------
@dataclass
class RtspServer:
    node: Node
    ports: tuple             # (lo, hi) of its RTP/RTCP ports
    proc: Proc

    def stop(self) -> Optional[int]:
        return self.proc.stop(signal.SIGTERM, grace=3)


def start_rtsp_server(cluster: Cluster, node, *, media: str = "video", lifetime: float = 60,
                      mount: str = "/test", wait: bool = True, ipv6: bool = False) -> RtspServer:
    """GStreamer RTSP server (peers/rtsp_server.py) on VIP:554 of `node` (VIP6 with ipv6),
    media from the node's own port range. media: video (H.264) or av (video + PCMU audio: two
    SETUPs)."""
    node = cluster.node(node)
    lo, hi = node.rtsp_rtp_ports
    proc = cluster.spawn(node.ns, [PYTHON, str(PEERS_DIR / "rtsp_server.py"), "--address", VIP6 if ipv6 else VIP,
                                   "--port", str(RTSP_PORT), "--media", media, "--rtp-ports",
                                   "%d-%d" % (lo, hi), "--lifetime", str(lifetime),
                                   "--mount", mount, "--name", node.name],
                         name=_unique("rtsp-%s%s" % (node.name, "-v6" if ipv6 else "")), timeout=lifetime + 5)
    srv = RtspServer(node, (lo, hi), proc)
    if wait and not proc.wait_for_output("listening on", 10):
        raise RuntimeError("RTSP server on %s did not start:\n%s" % (node.name, proc.output()))
    return srv


def start_rtsp_servers(cluster: Cluster, nodes: Optional[Iterable] = None, **kw) -> list:
    """An RTSP server on every node (or `nodes`), started in parallel."""
    servers = [start_rtsp_server(cluster, n, wait=False, **kw) for n in (nodes or cluster.nodes)]
    for s in servers:
        if not s.proc.wait_for_output("listening on", 15):
            raise RuntimeError("RTSP server on %s did not start:\n%s"
                               % (s.node.name, s.proc.output()))
    return servers


@lru_cache(maxsize=None)
def gst_h264_decoder() -> Optional[str]:
    """avdec_h264 (gstreamer1.0-libav) or openh264dec (gstreamer1.0-plugins-bad), if present."""
    for dec in ("avdec_h264", "openh264dec"):
        if subprocess.run(["gst-inspect-1.0", "--exists", dec]).returncode == 0:
            return dec
    return None


@dataclass
class RtspClientResult:
    tool: str                # ffmpeg | gst
    transport: str           # udp | tcp (interleaved)
    index: int
    returncode: Optional[int]
    frames: int              # decoded video frames (ffmpeg -progress; gst: buffers after the decoder)
    ports: tuple             # the client's UDP port range (udp only)
    log: Path
    decoder: Optional[str] = None

    @property
    def decoded(self) -> bool:
        """Frames came out of a decoder (gst without an H.264 decoder only parses: False)."""
        return self.frames > 0 and (self.tool == "ffmpeg" or self.decoder is not None)

    @property
    def ok(self) -> bool:
        # gst-launch is stopped by SIGINT at the end of its duration: `timeout` exits 124.
        good = (0,) if self.tool == "ffmpeg" else (0, 124)
        return self.returncode in good and self.decoded


class RtspClient:
    def __init__(self, tool, transport, index, proc, ports, progress, decoder):
        self.tool, self.transport, self.index, self.proc = tool, transport, index, proc
        self.ports, self.progress, self.decoder = ports, progress, decoder

    def result(self, timeout: Optional[float] = None) -> RtspClientResult:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = self.proc.stop()
        if self.tool == "ffmpeg":
            try:
                found = re.findall(r"^frame=(\d+)", self.progress.read_text(), re.M)
            except FileNotFoundError:
                found = []
            frames = int(found[-1]) if found else 0
        else:
            frames = len(re.findall(r"fakesink0: last-message = chain", self.proc.output()))
        return RtspClientResult(self.tool, self.transport, self.index, rc, frames, self.ports,
                                self.proc.log, self.decoder)


def start_rtsp_client(cluster: Cluster, tool: str = "ffmpeg", transport: str = "udp", *,
                      index: int = 0, duration: float = 2.0, url: Optional[str] = None) -> RtspClient:
    """One RTSP client in the client namespace. tool: ffmpeg (`-t duration`, decodes to the
    null muxer) or gst (gst-launch rtspsrc ! depay ! parse ! decoder ! fakesink, stopped by
    SIGINT after `duration`). transport: udp or tcp (interleaved). Client `index` k uses UDP
    ports RTSP_CLIENT_PORT_BASE + 20k .. +19."""
    url = url or "rtsp://%s:%d/test" % (VIP, RTSP_PORT)
    lo = RTSP_CLIENT_PORT_BASE + RTSP_CLIENT_PORT_SPAN * index
    ports = (lo, lo + RTSP_CLIENT_PORT_SPAN - 1)
    name = _unique("rtsp-%s-%s-%d" % (tool, transport, index))
    progress = cluster.workdir / (name + ".progress")
    decoder = None
    if tool == "ffmpeg":
        argv = ["ffmpeg", "-nostdin", "-loglevel", "warning", "-rtsp_transport", transport,
                "-min_port", str(ports[0]), "-max_port", str(ports[1]), "-i", url,
                "-t", str(duration), "-progress", str(progress), "-f", "null", "-"]
        proc = cluster.spawn(cluster.client, argv, name=name, timeout=duration + 10)
    elif tool == "gst":
        decoder = gst_h264_decoder()
        tail = ["h264parse", "!", decoder] if decoder else ["h264parse"]
        argv = ["gst-launch-1.0", "-v", "rtspsrc", "location=" + url, "protocols=" + transport,
                "port-range=%d-%d" % ports, "latency=200", "!", "rtph264depay", "!", *tail,
                "!", "fakesink", "silent=false"]
        proc = cluster.spawn(cluster.client, argv, name=name, timeout=duration,
                             # SIGINT ends the stream; on a starved host gst-launch took
                             # over 3 s to exit after it (killed: -9, 110 frames decoded).
                             timeout_signal="INT", kill_after=10)
    else:
        raise ValueError(tool)
    return RtspClient(tool, transport, index, proc, ports if transport == "udp" else (), progress,
                      decoder)


def run_rtsp_clients(cluster: Cluster, clients: Sequence = (("ffmpeg", "udp"),), *,
                     duration: float = 2.0, stagger: float = 0.05,
                     url: Optional[str] = None) -> list:
    """Start the clients ((tool, transport) pairs; repeat a pair for N concurrent clients)
    `stagger` s apart, wait for all; returns their RtspClientResults in order."""
    started = []
    for k, (tool, transport) in enumerate(clients):
        if k and stagger:
            time.sleep(stagger)
        started.append(start_rtsp_client(cluster, tool, transport, index=k, duration=duration,
                                         url=url))
    return [c.result(duration + 15) for c in started]


# ----------------------------------------------------------------------------------------
# Captures
# ----------------------------------------------------------------------------------------
@dataclass
class Capture:
    ns: Namespace
    ifname: str
    path: Path
    proc: Proc

    def stop(self) -> Path:
        self.proc.stop(signal.SIGTERM, grace=3)
        return self.path

    @property
    def dropped(self) -> Optional[int]:
        m = re.search(r"(\d+) packets? dropped by kernel", self.proc.output())
        return int(m.group(1)) if m else None


def start_capture(cluster: Cluster, ns: Namespace, ifname: str, path: Path, *,
                  bpf: Sequence[str] = (), lifetime: float = 120) -> Capture:
    """tcpdump -i IFNAME in `ns`, writing `path` (pcap); returns once it is listening."""
    # -B 16 MiB: the default 2 MiB buffer dropped packets (a BYE) on a loaded 2-core host
    # during test_ha_failover (921 "dropped by kernel" on one node).
    argv = ["tcpdump", "-i", ifname, "--immediate-mode", "-B", "16384", "-s", "0", "-U", "-Z", "root", "-n",
            "-w", str(path), *bpf]
    proc = cluster.spawn(ns, argv, name=_unique("tcpdump-%s-%s" % (ns.role, ifname)),
                         timeout=lifetime)
    if not proc.wait_for_output("listening on", 5):
        raise RuntimeError("tcpdump in %s did not start:\n%s" % (ns.role, proc.output()))
    return Capture(ns, ifname, path, proc)


class NodeCaptures:
    """tcpdump on every node's LAN interface (context manager). `pcaps` maps node name to
    pcap path once stopped; stop() waits `linger` s first (late BYE/200, FIN, TEARDOWN)."""

    def __init__(self, cluster: Cluster, name: Optional[str] = None,
                 nodes: Optional[Iterable] = None, linger: float = 0.5, lifetime: float = 120):
        self.cluster, self.linger = cluster, linger
        self.name = name or _unique("cap")
        self.nodes = [cluster.node(n) for n in (nodes or cluster.nodes)]
        self.captures: dict = {}
        self.pcaps: dict = {}
        self.lifetime = lifetime

    def start(self) -> "NodeCaptures":
        for n in self.nodes:
            path = self.cluster.workdir / ("%s-%s.pcap" % (self.name, n.name))
            self.captures[n.name] = start_capture(self.cluster, n.ns, n.ifname, path,
                                                  lifetime=self.lifetime)
        return self

    def stop(self) -> dict:
        if self.captures and not self.pcaps:
            time.sleep(self.linger)
            for name, c in self.captures.items():
                self.pcaps[name] = c.stop()
        return self.pcaps

    def __enter__(self) -> "NodeCaptures":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def capture_nodes(cluster: Cluster, name: Optional[str] = None, **kw) -> NodeCaptures:
    return NodeCaptures(cluster, name, **kw)
