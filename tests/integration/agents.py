# SPDX-License-Identifier: GPL-2.0-or-later
"""Node agents in the namespace cluster (issue 4): a shared cluster key, sarad's `health:`
section, one real `sara-nodeagent` per node, and hand-built control datagrams for the
hostile-input checks.

    key = write_key(cluster)                            # WORKDIR/cluster.key, mode 0600
    cluster.start_sarad(**health_overrides(cluster, key))
    agents = start_agents(cluster, key)                 # {node id: Proc}
    wait_states(cluster, {1: "up", 2: "up", 3: "up"}, timeout=5)

Timing (HEALTH): d = 100 ms, n = 3, δ = 200 ms, 3 heartbeats of hysteresis: a dead agent's
node is down within n·d + d = 400 ms, one that comes back is up ~3·d later.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
import tempfile
import time
from pathlib import Path
from typing import Mapping, Optional

import datapath
import topology

NODEAGENT = Path(os.environ.get("SARA_NODEAGENT", topology.ROOT / os.environ.get("SARA_BUILD", "build")
                                / "sara-nodeagent"))
HEALTH_PORT = 7400
HEARTBEAT_S = 0.1          # d
MISS_LIMIT = 3             # n
LOAD_S = 0.2               # δ
RECOVERY = 3               # heartbeats in a row before a down node is up again

# Wire format (common/wire/control_message.hpp)
MAGIC = b"SA"
VERSION = 1
TYPE_HEARTBEAT, TYPE_LOAD = 1, 2
FLAG_AVAILABLE, FLAG_APP_DOWN, FLAG_DRAIN, FLAG_UNDRAIN = 0, 1, 2, 3


def health_listen(ipv6: bool = False) -> str:
    """sarad's health endpoint on dispatcher 1's LAN address (its IPv6 one with ipv6)."""
    if ipv6:
        return "[%s]:%d" % (topology.DISPATCHER_LAN_ADDRS6[0], HEALTH_PORT)
    return "%s:%d" % (topology.DISPATCHER_LAN_ADDRS[0], HEALTH_PORT)


def write_key(cluster, name: str = "cluster.key") -> Path:
    """A fresh 32-byte cluster key as hex, mode 0600 (sarad and the agent refuse a
    world-readable one)."""
    path = cluster.workdir / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path


def read_key(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def health_overrides(cluster, key: Optional[Path], ipv6: bool = False, **health) -> dict:
    """sarad config overrides: the `health:` section (HEALTH timing unless overridden; ipv6:
    listening on dispatcher 1's IPv6 LAN address) and `auth` with `key` (None: `auth: none`)."""
    section = {"listen": health_listen(ipv6), "heartbeat_interval": "%dms" % (HEARTBEAT_S * 1000),
               "miss_limit": MISS_LIMIT, "load_interval": "%dms" % (LOAD_S * 1000),
               "recovery_heartbeats": RECOVERY}
    section.update(health)
    return {"health": section, "auth": {"key_file": str(key)} if key else "none",
            **datapath.LEAST_SESSIONS}


def agent_socket(cluster, node) -> Path:
    node = cluster.node(node)
    p = cluster.workdir / ("nodeagent-%s.sock" % node.name)
    if len(str(p)) > 100:
        p = Path(tempfile.gettempdir()) / ("%snodeagent-%s.sock" % (cluster.prefix, node.name))
    return p


def write_agent_config(cluster, node, key: Optional[Path], *,
                       application: str = "{listen: udp/5060}", node_setup: bool = False,
                       ipv6: bool = False) -> Path:
    """The node's /etc/sara/nodeagent.yaml as the test writes it. node_setup: let the agent
    put the VIP on lo, set the ARP sysctls and the default route `src VIP` (by default the
    topology has done it). ipv6 (a cluster with ipv6=True): heartbeats and loads to sarad's
    IPv6 address, and a node setup of both VIPs and both default routes."""
    node = cluster.node(node)
    auth = "{key_file: %s}" % key if key else "none"
    text = ("# written by tests/integration/agents.py\n"
            "node_id: %d\n"
            "dispatchers: [\"%s\"]\n"
            "heartbeat_interval: %dms\n"
            "load_interval: %dms\n"
            "application: %s\n"
            "auth: %s\n"
            "control: {socket: %s}\n"
            % (node.id, health_listen(ipv6), HEARTBEAT_S * 1000, LOAD_S * 1000, application, auth,
               agent_socket(cluster, node)))
    if node_setup and ipv6:
        text += "node_setup: {vip: [%s, '%s'], interface: %s, gateway: [%s, '%s']}\n" % (
            topology.VIP, topology.VIP6, node.ifname, topology.GATEWAY_LAN_ADDR, topology.GATEWAY_LAN_ADDR6)
    elif node_setup:
        text += "node_setup: {vip: %s, interface: %s, gateway: %s}\n" % (
            topology.VIP, node.ifname, topology.GATEWAY_LAN_ADDR)
    path = cluster.workdir / ("nodeagent-%s.yaml" % node.name)
    path.write_text(text)
    return path


def start_agent(cluster, node, key: Optional[Path], *, lifetime: float = 120, **kw):
    """sara-nodeagent --config in the node's namespace; returns its Proc once its control
    socket answers."""
    node = cluster.node(node)
    cfg = write_agent_config(cluster, node, key, **kw)
    sock = agent_socket(cluster, node)
    sock.unlink(missing_ok=True)
    proc = cluster.spawn(node.ns, [str(NODEAGENT), "--config", str(cfg)],
                         name="nodeagent-%s-%d" % (node.name, len(cluster.procs)),
                         timeout=lifetime)
    if not datapath.wait_until(lambda: sock.exists() or not proc.running(), 5):
        raise RuntimeError("sara-nodeagent on %s did not start:\n%s" % (node.name, proc.output()))
    if not proc.running():
        raise RuntimeError("sara-nodeagent on %s exited with %s:\n%s"
                           % (node.name, proc.returncode, proc.output()))
    return proc


def start_agents(cluster, key: Optional[Path], **kw) -> dict:
    return {n.id: start_agent(cluster, n, key, **kw) for n in cluster.nodes}


def agent_command(cluster, node, *args: str) -> str:
    """`sara-nodeagent drain|undrain|status ...` against the node's agent (its control socket
    is a file the test process reaches directly)."""
    r = topology.run([str(NODEAGENT), *args, "--socket", str(agent_socket(cluster, node))],
                     check=True, timeout=10)
    return r.stdout


def node_states(cluster) -> dict:
    """{node id: state} from sarad's `nodes` request."""
    return {n["id"]: n["state"] for n in datapath.sarad_request(cluster, "nodes")["nodes"]}


def nodes_info(cluster) -> dict:
    return {n["id"]: n for n in datapath.sarad_request(cluster, "nodes")["nodes"]}


def wait_states(cluster, want: Mapping[int, str], timeout: float) -> bool:
    return datapath.wait_until(
        lambda: all(node_states(cluster).get(k) == v for k, v in want.items()), timeout)


def wait_state_change(cluster, node_id: int, want: str, timeout: float,
                      poll: float = 0.01) -> Optional[float]:
    """Polls `nodes` every `poll` s; the time.monotonic() at which node_id was first seen in
    state `want`, or None after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if node_states(cluster).get(node_id) == want:
            return time.monotonic()
        time.sleep(poll)
    return None


# ----------------------------------------------------------------------------------------
# Hand-built datagrams (the wire format written out again, independently of the C++ encoder)
# ----------------------------------------------------------------------------------------
def heartbeat(host_id: int, seq: int, flag: int, timestamp: Optional[int] = None,
              key: Optional[bytes] = None) -> bytes:
    ts = int(time.time()) if timestamp is None else timestamp
    msg = MAGIC + bytes([VERSION, TYPE_HEARTBEAT]) + struct.pack("!HIBI", host_id, seq, flag, ts)
    return msg + (hmac.new(key, msg, hashlib.sha256).digest() if key is not None else b"")


def load_vector(host_id: int, seq: int, values=(0, 0, 0, 0, 0), timestamp: Optional[int] = None,
                key: Optional[bytes] = None) -> bytes:
    ts = int(time.time()) if timestamp is None else timestamp
    body = struct.pack("!HII5H", host_id, seq, ts, *[int(round(v * 65535)) for v in values])
    msg = MAGIC + bytes([VERSION, TYPE_LOAD]) + body
    return msg + (hmac.new(key, msg, hashlib.sha256).digest() if key is not None else b"")


def send_datagrams(cluster, ns, datagrams, *, source_port: int = 7499, port: int = HEALTH_PORT,
                   address: str = topology.DISPATCHER_LAN_ADDRS[0]) -> None:
    """Send each datagram (bytes) to sarad's `port` (default: the health port) on `address`
    (default: dispatcher 1) from namespace `ns`, from UDP `source_port`, with Debian's python3
    (the test process lives in the root namespace)."""
    payload = ",".join(d.hex() for d in datagrams)
    family = "socket.AF_INET6" if ":" in address else "socket.AF_INET"
    code = ("import socket,sys\n"
            "s=socket.socket(%s,socket.SOCK_DGRAM)\n"
            "s.bind(('', %d))\n"
            "for h in sys.argv[1].split(','):\n"
            "    s.sendto(bytes.fromhex(h), ('%s', %d))\n"
            % (family, source_port, address, port))
    ns.run(topology.PYTHON, "-c", code, payload, timeout=10)


# ----------------------------------------------------------------------------------------
# What the nodes saw
# ----------------------------------------------------------------------------------------
def invite_times(pcaps: Mapping[str, os.PathLike]) -> dict:
    """{node name: {Call-ID: wall-clock time of its first INVITE to the VIP}} from the node
    captures (tcpdump stamps CLOCK_REALTIME, as time.time() does)."""
    out = {}
    for node, path in pcaps.items():
        r = topology.run(["tshark", "-n", "-r", str(path), "-Y",
                          'sip.Method == "INVITE" && ip.dst == %s' % topology.VIP,
                          "-T", "fields", "-e", "frame.time_epoch", "-e", "sip.Call-ID"],
                         timeout=120)
        first = {}
        for line in r.stdout.splitlines():
            t, _, call_id = line.partition("\t")
            if call_id and call_id not in first:
                first[call_id] = float(t)
        out[node] = first
    return out


def udp_payloads_with_times(pcap: Path, dport: int) -> list:
    """(time, payload) of the IPv4/UDP datagrams to `dport` in a capture, in order."""
    return [(ts, payload) for ts, _, _, _, port, payload in datapath.iter_udp(pcap) if port == dport]


def udp_payloads(pcap: Path, dport: int) -> list:
    return [p for _, p in udp_payloads_with_times(pcap, dport)]


def sync_datagram(host: int, seq: int, payload: bytes, key) -> bytes:
    """A sync update (common/wire/sync_message.hpp) from `host`, signed with `key` (None: no
    trailer)."""
    body = struct.pack(">HIIBIHHH", host, seq, int(time.time()), 1, 0, 0, 0, len(payload)) + payload
    msg = b"SA\x01\x04" + body
    return msg + (hmac.new(key, msg, hashlib.sha256).digest() if key is not None else b"")
