# SPDX-License-Identifier: GPL-2.0-or-later
"""The namespace test cluster of DESIGN §11: client, dispatcher(s), gateway, three nodes.

    with Cluster(dispatcher="router") as c:       # or the `cluster` pytest fixture
        c.client.run("ip", "route")
        p = c.spawn(c.nodes[0].ns, ["sipp", ...], name="uas1", timeout=20)

Layout (addresses from 198.18.0.0/15 only; namespaces named PREFIX+ROLE with PREFIX =
"sara-it-<pid>-<n>-"; nothing is created or changed in the root namespace):

    client      eth0 198.18.1.2     --+
    dispatcher  eth0 198.18.1.1     --+-- bridge brc (client side)
    gateway     eth0 198.18.1.254   --+
    dispatcher  eth1 198.18.2.1     --+
    gateway     eth1 198.18.2.254   --+-- bridge brl (LAN)
    nodeN       eth0 198.18.2.1N    --+   VIP 198.18.100.10/32 on lo, MAC 02:00:00:00:02:1N
    (brc and brl live in a namespace of their own, "switch"; dispatchers=2 adds
     "dispatcher2" with 198.18.1.3 and 198.18.2.2; dispatchers=3, a mesh, also "dispatcher3"
     with 198.18.1.4 and 198.18.2.3)

* The client routes the VIP via the dispatcher (198.18.1.1) and everything else via the
  gateway (198.18.1.254). Nodes hold the VIP on lo (arp_ignore=1, arp_announce=2) and route
  by default via the gateway with `src VIP`: replies reach the client through the gateway,
  never through the dispatcher (one-way architecture).
* The bridges live in their own namespace ("switch") with bridge-nf-call-* = 0, STP off and a
  static FDB entry for every MAC (KERNEL-NOTES snag 11); every MAC is fixed (table MACS).
* veth offloads are off (wire-true captures). IPv6 is off everywhere (no ND noise), unless
  ipv6=True: then every link also has an address from 2001:db8::/32 (client 2001:db8:1::2,
  dispatcher 2001:db8:1::1 / 2001:db8:2::1, gateway 2001:db8:1::fe / 2001:db8:2::fe, node N
  2001:db8:2::1N with VIP6 2001:db8:100::10/128 on lo), routed like IPv4 (client: VIP6 via
  the dispatcher, the rest via the gateway; nodes: default via the gateway, src VIP6), DAD and
  router advertisements off; sarad gets both VIPs (dual stack).
* dispatcher="router": the dispatcher is a plain router sending the VIP to one node
  (static route + permanent neighbour, no ARP); route_vip_to() moves it.
  dispatcher="none": addresses and sysctls only (a test starts sarad itself, start_sarad()).
  dispatcher="sarad": start_sarad() with write_dispatcher_config()'s file during start()
  (binary: build/sarad, or $SARA_SARAD).

Every process started through spawn() runs as `ip netns exec NS timeout -k 2 T CMD` (bounded
time; timeout puts it in its own process group, so a terminal Ctrl-C reaches only the test
process and teardown stays in control). close() stops every process inside our namespaces
by PID (all of them are ours), then deletes the namespaces; it runs on exceptions, on
KeyboardInterrupt, on SIGTERM/SIGHUP (turned into KeyboardInterrupt while a Cluster is open)
and at interpreter exit. cleanup_stale() removes namespaces left by a run that was killed
with SIGKILL (prefix sara-it-<pid>- of a PID that no longer exists).
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from processes import CommandError, Proc, kill_group, pid_alive, run, stop_pids

__all__ = ["Cluster", "Namespace", "Node", "Proc", "CommandError", "run", "list_namespaces",
           "cleanup_stale", "node_address", "node_mac", "VIP", "CLIENT_ADDR", "SARAD", "PYTHON",
           "VIP6", "CLIENT_ADDR6", "node_address6"]
from sarad_config import merge, to_yaml

ROOT = Path(__file__).resolve().parents[2]
SARAD = Path(os.environ.get("SARA_SARAD", ROOT / "build" / "sarad"))   # SARA_SARAD: another build
PYTHON = "/usr/bin/python3"          # Debian's python3 (gi, scapy)

VIP = "198.18.100.10"
CLIENT_ADDR = "198.18.1.2"
CLIENT_NET = "198.18.1.0/24"
LAN_NET = "198.18.2.0/24"
DISPATCHER_CLIENT_ADDRS = ("198.18.1.1", "198.18.1.3", "198.18.1.4")   # dispatcher 1, 2 (HA), 3 (mesh)
DISPATCHER_LAN_ADDRS = ("198.18.2.1", "198.18.2.2", "198.18.2.3")
GATEWAY_CLIENT_ADDR = "198.18.1.254"
ROUTER_ADDR = "198.18.1.5"               # router=True: the upstream router (FRR, ECMP)
GATEWAY_LAN_ADDR = "198.18.2.254"
# ipv6=True (documentation prefix 2001:db8::/32, inside the namespaces only)
VIP6 = "2001:db8:100::10"
CLIENT_ADDR6 = "2001:db8:1::2"
DISPATCHER_CLIENT_ADDRS6 = ("2001:db8:1::1", "2001:db8:1::3", "2001:db8:1::4")
DISPATCHER_LAN_ADDRS6 = ("2001:db8:2::1", "2001:db8:2::2", "2001:db8:2::3")
GATEWAY_CLIENT_ADDR6 = "2001:db8:1::fe"
ROUTER_ADDR6 = "2001:db8:1::5"            # router=True with ipv6=True
GATEWAY_LAN_ADDR6 = "2001:db8:2::fe"

MACS = {
    "client": "02:00:00:00:01:02",
    "dispatcher.eth0": "02:00:00:00:01:01",
    "dispatcher.eth1": "02:00:00:00:02:01",
    "dispatcher2.eth0": "02:00:00:00:01:03",
    "dispatcher2.eth1": "02:00:00:00:02:02",
    "dispatcher3.eth0": "02:00:00:00:01:04",
    "dispatcher3.eth1": "02:00:00:00:02:03",
    "gateway.eth0": "02:00:00:00:01:fe",
    "router.eth0": "02:00:00:00:01:05",
    "gateway.eth1": "02:00:00:00:02:fe",
}

BUILTIN_CHAINS = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}
NS_PREFIX = "sara-it-"
_OFFLOADS = ["tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"]


def node_address(i: int) -> str:
    return "198.18.2.%d" % (10 + i)


def node_address6(i: int) -> str:
    return "2001:db8:2::%d" % (10 + i)


def node_mac(i: int) -> str:
    return "02:00:00:00:02:%02x" % (0x10 + i)     # node 1 -> 02:00:00:00:02:11


@dataclass(eq=False)
class Namespace:
    """A network namespace we created. `run` executes a short command inside it."""
    name: str
    role: str

    def argv(self, *cmd: str) -> list:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, *cmd: str, check: bool = True, timeout: float = 30,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        return run(self.argv(*cmd), check=check, timeout=timeout, input=input)

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(["ip", "-n", self.name, *args], check=check)

    def ip_batch(self, lines: Iterable[str]) -> None:
        text = "\n".join(lines) + "\n"
        run(["ip", "-n", self.name, "-batch", "-"], input=text)

    def sysctl(self, settings: Mapping[str, object], *, optional: bool = False) -> None:
        """Set sysctls inside the namespace. optional: ignore keys unknown there (sysctl -e)."""
        args = ["%s=%s" % (k, v) for k, v in settings.items()]
        if args:
            self.run("sysctl", "-qw", *(["-e"] if optional else []), *args)

    def pids(self) -> list:
        r = run(["ip", "netns", "pids", self.name], check=False)
        return [int(x) for x in r.stdout.split()] if r.returncode == 0 else []

    def exists(self) -> bool:
        return Path("/run/netns", self.name).exists()

    def __str__(self) -> str:
        return self.name

    @classmethod
    def create(cls, prefix: str, role: str = "standalone") -> "Namespace":
        """A namespace of its own for a test that needs no cluster (named PREFIX<pid>-<n>,
        loopback up, so cleanup_stale(PREFIX) finds it after a killed run). The caller
        deletes it (delete(), e.g. in a finalizer)."""
        global _counter
        with _lock:
            _counter += 1
            k = _counter
        ns = cls("%s%d-%d" % (prefix, os.getpid(), k), role)
        run(["ip", "netns", "add", ns.name])
        try:
            ns.run("ip", "link", "set", "lo", "up")
        except Exception:
            ns.delete()
            raise
        return ns

    def delete(self) -> None:
        """Delete the namespace (its interfaces go with it); no-op if it is gone."""
        if self.exists():
            run(["ip", "netns", "del", self.name], check=False)


@dataclass(eq=False)
class Node:
    """A cluster node: its namespace, addresses and the ports its peers use by default."""
    id: int
    name: str                # "node1"
    address: str             # real LAN address 198.18.2.1x
    mac: str                 # fixed MAC of eth0 (dispatcher config, static FDB)
    ns: Namespace
    ifname: str = "eth0"

    # Per-node media ports: captures tell nodes apart by them.
    @property
    def sip_udp_media_port(self) -> int:     # SIPp UDP UAS -mp (echo on p and p+2)
        return 6000 + 100 * self.id

    @property
    def sip_tcp_media_port(self) -> int:     # SIPp TCP UAS -mp
        return 6000 + 100 * self.id + 50

    @property
    def rtsp_rtp_ports(self) -> tuple:       # RTSPAddressPool range (lo, hi)
        return (30000 + 1000 * self.id, 30000 + 1000 * self.id + 99)


# ----------------------------------------------------------------------------------------
# Cleanup safety net: every open Cluster is closed at exit and on SIGTERM/SIGHUP.
# ----------------------------------------------------------------------------------------
_open_clusters: "list[Cluster]" = []
_lock = threading.Lock()
_counter = 0
_saved_handlers: dict = {}


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def _install_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if sig not in _saved_handlers and signal.getsignal(sig) in (signal.SIG_DFL, None):
            _saved_handlers[sig] = signal.signal(sig, _raise_interrupt)


def _restore_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, old in list(_saved_handlers.items()):
        signal.signal(sig, old)
        del _saved_handlers[sig]


@atexit.register
def _close_all() -> None:
    for c in list(_open_clusters):
        c.close()


def list_namespaces(prefix: str = NS_PREFIX) -> list:
    r = run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    return sorted(n for n in names if n.startswith(prefix))


def cleanup_stale(prefix: str = NS_PREFIX) -> list:
    """Delete namespaces named PREFIX<pid>-... whose creating process is gone (a run killed
    with SIGKILL), after stopping the processes left in them (ours, by construction), and
    such runs' temporary work dirs and control sockets. Those of live processes are never touched. Returns the
    namespace names removed."""
    removed = []
    for name in list_namespaces(prefix):
        m = re.match(re.escape(prefix) + r"(\d+)-", name)
        if not m or pid_alive(int(m.group(1))):
            continue
        ns = Namespace(name, "stale")
        stop_pids(ns.pids())
        run(["ip", "netns", "del", name], check=False)
        removed.append(name)
    # Work dirs of Clusters made without `workdir` (tempfile.mkdtemp(prefix=PREFIX)).
    # Their control sockets too (Cluster.close removes its own).
    for d in Path(tempfile.gettempdir()).glob(prefix + "*"):
        m = re.match(re.escape(prefix) + r"(\d+)-\d+-", d.name)
        if not m or pid_alive(int(m.group(1))):
            continue
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
        elif d.is_socket():
            d.unlink(missing_ok=True)
    return removed


# ----------------------------------------------------------------------------------------
# The cluster
# ----------------------------------------------------------------------------------------
class Cluster:
    """Namespaces, links, addresses, routes and sysctls of the test cluster; the processes
    started in it (spawn); optionally sarad. Use as a context manager (or call start()/close())."""

    vip = VIP
    client_addr = CLIENT_ADDR
    gateway_client_addr = GATEWAY_CLIENT_ADDR
    gateway_lan_addr = GATEWAY_LAN_ADDR

    def __init__(self, dispatcher: str = "router", *, nodes: int = 3, route_to: int = 1,
                 dispatchers: int = 1, workdir: Optional[os.PathLike] = None,
                 sarad: Optional[os.PathLike] = None, sarad_args: Sequence[str] = (),
                 config_overrides: Optional[Mapping] = None, check_connectivity: bool = True,
                 ipv6: bool = False, router: bool = False):
        if dispatcher not in ("router", "none", "sarad"):
            raise ValueError("dispatcher must be router, none or sarad")
        if not 1 <= nodes <= 9 or dispatchers not in (1, 2, 3) or not 1 <= route_to <= nodes:
            raise ValueError("bad cluster size")
        global _counter
        with _lock:
            _counter += 1
            k = _counter
        self.mode = dispatcher
        self.prefix = "%s%d-%d-" % (NS_PREFIX, os.getpid(), k)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=self.prefix))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.route_to = route_to
        self.sarad_path = Path(sarad) if sarad else SARAD
        self.sarad_args = list(sarad_args)
        self.config_overrides = dict(config_overrides or {})
        self.check_connectivity = check_connectivity
        self.ipv6 = ipv6
        self.sarad: Optional[Proc] = None
        self.procs: list = []
        self._started = False
        self._closed = False

        def ns(role):
            return Namespace(self.prefix + role, role)

        self.client = ns("client")
        self.switch = ns("switch")
        self.gateway = ns("gateway")
        self.dispatchers = [ns("dispatcher")] + [ns("dispatcher%d" % i) for i in range(2, dispatchers + 1)]
        self.dispatcher = self.dispatchers[0]
        # router=True: an upstream router on the client side (198.18.1.5) that the client
        # reaches the VIP through; the test gives it its routes (FRR learning them over BGP).
        self.router = ns("router") if router else None
        self.nodes = [Node(i, "node%d" % i, node_address(i), node_mac(i), ns("node%d" % i))
                      for i in range(1, nodes + 1)]
        self.namespaces = [self.switch, self.client, *self.dispatchers, self.gateway,
                           *(n.ns for n in self.nodes)] + ([self.router] if router else [])

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> "Cluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def node(self, which) -> Node:
        """node(1), node("node1") or a Node."""
        if isinstance(which, Node):
            return which
        for n in self.nodes:
            if which in (n.id, n.name):
                return n
        raise KeyError(which)

    def start(self) -> "Cluster":
        if self._started:
            return self
        self._started = True
        with _lock:
            _open_clusters.append(self)
        _install_signal_handlers()
        t0 = time.monotonic()
        try:
            self._build()
            # Keep the client's ephemeral ports (SIPp -t un's per-call sockets, TCP clients)
            # clear of the fixed media ports the peers bind (SIP RTP 26000-49999, RTSP 21000+):
            # with the default 32768-60999 a -t un call socket took the RTP port of a later
            # call of `make demo` (one call of 30 without RTP, its sender could not bind).
            self.client.sysctl({"net.ipv4.ip_local_port_range": "50000 60999"})
            if self.mode == "router":
                self.route_vip_to(self.route_to)
            if self.check_connectivity:
                self._check_connectivity()
            if self.mode == "sarad":
                self.start_sarad(**self.config_overrides)
        except BaseException:
            self.close()
            raise
        self.setup_seconds = time.monotonic() - t0
        return self

    def close(self) -> None:
        """Stop every process in our namespaces and delete them. Idempotent; SIGINT/SIGTERM are
        held back while it runs (they are delivered afterwards)."""
        if self._closed:
            return
        self._closed = True
        blocked = threading.current_thread() is threading.main_thread()
        if blocked:
            old = signal.pthread_sigmask(signal.SIG_BLOCK,
                                         {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        try:
            if self.sarad is not None and self.sarad.running():
                self.sarad.stop(signal.SIGTERM, grace=5)     # sarad removes its own rules
            for p in self.procs:
                if p.running():
                    p.send_signal(signal.SIGTERM)
            pids = [pid for ns in self.namespaces if ns.exists() for pid in ns.pids()]
            stop_pids(pids)
            for p in self.procs:
                if p.running():
                    kill_group(p.pid, signal.SIGKILL)
                try:
                    p.wait(2)
                except subprocess.TimeoutExpired:
                    pass
            for ns in self.namespaces:
                if ns.exists():
                    run(["ip", "netns", "del", ns.name], check=False)
            if self._own_workdir and not os.environ.get("SARA_IT_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)
            # Control sockets placed in the temp dir when the work dir's path is too long for
            # a Unix socket address (sarad, the gateway, the node agents).
            for sock in Path(tempfile.gettempdir()).glob(self.prefix + "*.sock"):
                if sock.is_socket():
                    sock.unlink(missing_ok=True)
            # FRR's run directories (tests/integration/frr.py: FRR's user must reach them).
            for d in Path(tempfile.gettempdir()).glob(self.prefix + "frr-*"):
                shutil.rmtree(d, ignore_errors=True)
        finally:
            with _lock:
                if self in _open_clusters:
                    _open_clusters.remove(self)
                last = not _open_clusters
            if blocked:
                if last:
                    _restore_signal_handlers()
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def leftovers(self) -> list:
        """Our namespaces that still exist (should be [] after close())."""
        return [n for n in list_namespaces(self.prefix)]

    # -- construction ------------------------------------------------------------------
    def _build(self) -> None:
        for ns in self.namespaces:
            run(["ip", "netns", "add", ns.name])
        for ns in self.namespaces:
            if not self.ipv6:
                # IPv6 off for links created afterwards (no ND/MLD noise in captures).
                ns.sysctl({"net.ipv6.conf.all.disable_ipv6": 1,
                           "net.ipv6.conf.default.disable_ipv6": 1})
            else:
                # Addresses usable at once (no DAD wait), no autoconfiguration from anyone.
                ns.sysctl({"net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
                           "net.ipv6.conf.all.accept_ra": 0, "net.ipv6.conf.default.accept_ra": 0,
                           "net.ipv6.conf.all.autoconf": 0, "net.ipv6.conf.default.autoconf": 0})
        sw = self.switch
        sw.sysctl({"net.bridge.bridge-nf-call-iptables": 0,
                   "net.bridge.bridge-nf-call-ip6tables": 0,
                   "net.bridge.bridge-nf-call-arptables": 0}, optional=True)
        sw.ip_batch(["link set lo up",
                     "link add brc type bridge stp_state 0 mcast_snooping 0",
                     "link add brl type bridge stp_state 0 mcast_snooping 0",
                     "link set brc up", "link set brl up"])
        self._ports = []     # (switch port, bridge, MAC behind it)

        def link(ns: Namespace, ifname: str, mac: str, port: str, bridge: str):
            run(["ip", "-n", ns.name, "link", "add", ifname, "address", mac, "type", "veth",
                 "peer", "name", port, "netns", sw.name])
            self._ports.append((port, bridge, mac))

        link(self.client, "eth0", MACS["client"], "cli", "brc")
        for i, d in enumerate(self.dispatchers):
            key = "dispatcher" if i == 0 else "dispatcher%d" % (i + 1)
            link(d, "eth0", MACS[key + ".eth0"], "d%dc" % (i + 1), "brc")
            link(d, "eth1", MACS[key + ".eth1"], "d%dl" % (i + 1), "brl")
        if self.router:
            link(self.router, "eth0", MACS["router.eth0"], "rtc", "brc")
        link(self.gateway, "eth0", MACS["gateway.eth0"], "gwc", "brc")
        link(self.gateway, "eth1", MACS["gateway.eth1"], "gwl", "brl")
        for n in self.nodes:
            link(n.ns, n.ifname, n.mac, "n%d" % n.id, "brl")

        batch = []
        for port, bridge, mac in self._ports:
            batch += ["link set %s master %s" % (port, bridge), "link set %s up" % port,
                      "fdb replace %s dev %s master static" % (mac, port)]
        # `fdb` is a `bridge` command, not `ip`: split the batch.
        sw.ip_batch([b for b in batch if not b.startswith("fdb")])
        run(["bridge", "-n", sw.name, "-batch", "-"],
            input="\n".join(b for b in batch if b.startswith("fdb")) + "\n")
        for port, _, _ in self._ports:
            sw.run("ethtool", "-K", port, *_OFFLOADS, check=False)

        # client
        self.client.ip_batch([
            "link set lo up", "addr add %s/24 dev eth0" % CLIENT_ADDR, "link set eth0 up",
            "route add %s/32 via %s dev eth0" % (VIP, ROUTER_ADDR if self.router else DISPATCHER_CLIENT_ADDRS[0]),
            "route add default via %s dev eth0" % GATEWAY_CLIENT_ADDR])
        # dispatcher(s)
        for i, d in enumerate(self.dispatchers):
            d.ip_batch([
                "link set lo up",
                "addr add %s/24 dev eth0" % DISPATCHER_CLIENT_ADDRS[i],
                "addr add %s/24 dev eth1" % DISPATCHER_LAN_ADDRS[i],
                "link set eth0 up", "link set eth1 up"])
            conf = {"net.ipv4.ip_forward": 1}
            for dev in ("all", "default", "eth0", "eth1"):
                conf["net.ipv4.conf.%s.send_redirects" % dev] = 0
                conf["net.ipv4.conf.%s.rp_filter" % dev] = 0
                conf["net.ipv4.conf.%s.accept_redirects" % dev] = 0
            d.sysctl(conf)
            d.sysctl({"net.netfilter.nf_conntrack_tcp_loose": 1,
                      "net.netfilter.nf_conntrack_tcp_be_liberal": 1}, optional=True)
        if self.router:
            # One-armed, as the dispatchers are: it forwards out the interface packets came in.
            self.router.ip_batch(["link set lo up", "addr add %s/24 dev eth0" % ROUTER_ADDR, "link set eth0 up"])
            conf = {"net.ipv4.ip_forward": 1}
            for dev in ("all", "default", "eth0"):
                conf["net.ipv4.conf.%s.send_redirects" % dev] = 0
                conf["net.ipv4.conf.%s.rp_filter" % dev] = 0
            self.router.sysctl(conf)
        # gateway: plain router, the nodes' default route
        self.gateway.ip_batch([
            "link set lo up",
            "addr add %s/24 dev eth0" % GATEWAY_CLIENT_ADDR,
            "addr add %s/24 dev eth1" % GATEWAY_LAN_ADDR,
            "link set eth0 up", "link set eth1 up"])
        conf = {"net.ipv4.ip_forward": 1}
        for dev in ("all", "default", "eth0", "eth1"):
            conf["net.ipv4.conf.%s.send_redirects" % dev] = 0
            conf["net.ipv4.conf.%s.rp_filter" % dev] = 0
        self.gateway.sysctl(conf)
        # nodes
        for n in self.nodes:
            n.ns.ip_batch([
                "link set lo up",
                "addr add %s/32 dev lo" % VIP,
                "addr add %s/24 dev %s" % (n.address, n.ifname),
                "link set %s up" % n.ifname,
                "route add default via %s dev %s src %s" % (GATEWAY_LAN_ADDR, n.ifname, VIP)])
            conf = {}
            for dev in ("all", n.ifname):
                conf["net.ipv4.conf.%s.arp_ignore" % dev] = 1
                conf["net.ipv4.conf.%s.arp_announce" % dev] = 2
            n.ns.sysctl(conf)
        if self.ipv6:
            self._build_ipv6()
        for ns, ifs in self._interfaces():
            for ifname in ifs:
                ns.run("ethtool", "-K", ifname, *_OFFLOADS, check=False)

    def _build_ipv6(self) -> None:
        """The IPv6 half of a dual-stack cluster (ipv6=True), the same shape as the IPv4 one."""
        self.client.ip_batch([
            "addr add %s/64 dev eth0 nodad" % CLIENT_ADDR6,
            "route add %s/128 via %s dev eth0" % (VIP6, ROUTER_ADDR6 if self.router else DISPATCHER_CLIENT_ADDRS6[0]),
            "route add default via %s dev eth0" % GATEWAY_CLIENT_ADDR6])
        for i, d in enumerate(self.dispatchers):
            d.ip_batch(["addr add %s/64 dev eth0 nodad" % DISPATCHER_CLIENT_ADDRS6[i],
                        "addr add %s/64 dev eth1 nodad" % DISPATCHER_LAN_ADDRS6[i]])
            d.sysctl({"net.ipv6.conf.all.forwarding": 1})
        self.gateway.ip_batch(["addr add %s/64 dev eth0 nodad" % GATEWAY_CLIENT_ADDR6,
                               "addr add %s/64 dev eth1 nodad" % GATEWAY_LAN_ADDR6])
        self.gateway.sysctl({"net.ipv6.conf.all.forwarding": 1})
        if self.router:
            self.router.ip_batch(["addr add %s/64 dev eth0 nodad" % ROUTER_ADDR6])
            self.router.sysctl({"net.ipv6.conf.all.forwarding": 1})
        for n in self.nodes:
            # The VIP on lo: Linux answers Neighbor Solicitations only for addresses of the
            # interface they arrive on, so the node stays silent for VIP6 on the LAN.
            n.ns.ip_batch([
                "addr add %s/128 dev lo nodad" % VIP6,
                "addr add %s/64 dev %s nodad" % (node_address6(n.id), n.ifname),
                "route add default via %s dev %s src %s" % (GATEWAY_LAN_ADDR6, n.ifname, VIP6)])

    def _interfaces(self):
        yield self.client, ["eth0"]
        for d in self.dispatchers:
            yield d, ["eth0", "eth1"]
        yield self.gateway, ["eth0", "eth1"]
        if self.router:
            yield self.router, ["eth0"]
        for n in self.nodes:
            yield n.ns, [n.ifname]

    def _check_connectivity(self) -> None:
        """TCP connects to a closed port must be refused (RST back), proving both directions.
        client -> dispatcher, client -> gateway, every node -> gateway and -> client (from its
        real address, the client answering via the gateway); in router mode client -> VIP
        (SYN through the dispatcher to the node, RST back through the gateway)."""
        checks = {self.client: [DISPATCHER_CLIENT_ADDRS[0], GATEWAY_CLIENT_ADDR]
                  + ([VIP] if self.mode == "router" else [])}
        for n in self.nodes:
            checks[n.ns] = [GATEWAY_LAN_ADDR, CLIENT_ADDR + "@" + n.address]
        script = r"""
import socket, sys
bad = []
for target in sys.argv[1:]:
    dst, _, src = target.partition("@")
    s = socket.socket(); s.settimeout(2)
    if src: s.bind((src, 0))
    try:
        s.connect((dst, 9)); bad.append(target + ": connected?")
    except ConnectionRefusedError:
        pass
    except OSError as e:
        bad.append("%s: %s" % (target, e))
    finally:
        s.close()
print("\n".join(bad)); sys.exit(1 if bad else 0)
"""
        procs = [(ns, subprocess.Popen(ns.argv(PYTHON, "-c", script, *targets),
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True))
                 for ns, targets in checks.items()]
        errors = []
        for ns, p in procs:
            out, _ = p.communicate(timeout=15)
            if p.returncode != 0:
                errors.append("%s: %s" % (ns.role, out.strip()))
        if errors:
            raise RuntimeError("cluster connectivity check failed: " + "; ".join(errors))

    # -- router mode -------------------------------------------------------------------
    def route_vip_to(self, node) -> None:
        """Plain-router dispatcher: send every packet for the VIP to `node` (static route and
        permanent neighbour = the node's MAC, no ARP). With dispatchers=2 both route it, so
        traffic reaches the node through whichever one the client uses (VRRP tests, ha.py)."""
        n = self.node(node)
        for d in self.dispatchers:
            d.ip_batch([
                "neigh replace %s lladdr %s dev eth1 nud permanent" % (n.address, n.mac),
                "route replace %s/32 via %s dev eth1" % (VIP, n.address)])
        self.route_to = n.id

    # -- processes ---------------------------------------------------------------------
    def spawn(self, ns: Namespace, argv: Sequence[str], *, name: str, timeout: float = 30,
              cwd: Optional[os.PathLike] = None, env: Optional[Mapping[str, str]] = None,
              kill_after: float = 2, timeout_signal: str = "TERM") -> Proc:
        """Start `argv` in `ns` under `timeout` (it stops by itself after `timeout` s). Output
        (stdout+stderr) goes to WORKDIR/NAME.log. The Proc is stopped at close()."""
        cwd = Path(cwd) if cwd else self.workdir
        cwd.mkdir(parents=True, exist_ok=True)
        log = self.workdir / ("%s.log" % name)
        full = ns.argv("timeout", "-s", timeout_signal, "-k", str(kill_after), str(timeout),
                       *[str(a) for a in argv])
        e = dict(os.environ)
        if env:
            e.update(env)
        with open(log, "wb") as f:
            popen = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=f,
                                     stderr=subprocess.STDOUT, cwd=str(cwd), env=e)
        p = Proc(name, ns, list(argv), popen, log, cwd)
        self.procs.append(p)
        return p

    # -- sarad -------------------------------------------------------------------------
    def dispatcher_config(self, **overrides) -> dict:
        """The config dict for sarad (etc/dispatcher.yaml schema): every node, no `health`
        (every node up), `auth: none`, control socket in the work dir. `overrides` are merged
        recursively; a value None removes a key (e.g. queue=None)."""
        sock = self.workdir / "sarad.sock"
        if len(str(sock)) > 100:
            sock = Path(tempfile.gettempdir()) / (self.prefix + "sarad.sock")
        doc = {
            "vip": [VIP, VIP6] if self.ipv6 else VIP,
            "lan_interface": "eth1",
            "queue": {"first": 0, "count": 1, "max_len": 4096, "fail_open": False},
            "forwarding": {"mode": "route"},
            "services": [
                {"name": "sip", "protocol": "sip", "transport": ["udp", "tcp"], "port": 5060,
                 "flow_timeout": "30s"},
                {"name": "rtsp", "protocol": "rtsp", "transport": ["tcp"], "port": 554,
                 "flow_timeout": "60s"},
            ],
            "nodes": [{"id": n.id, "name": n.name, "address": n.address, "mac": n.mac,
                       "weight": 1} for n in self.nodes],
            "auth": "none",
            "control": {"socket": str(sock), "state_file": str(self.workdir / "sessions.snapshot")},
            "metrics": {"listen": "127.0.0.1:9740"},
        }
        return merge(doc, overrides)

    def write_dispatcher_config(self, path: Optional[os.PathLike] = None, **overrides) -> Path:
        """Write dispatcher_config(**overrides) as YAML to `path` (default WORKDIR/dispatcher.yaml)."""
        path = Path(path) if path else self.workdir / "dispatcher.yaml"
        path.write_text("# written by tests/integration/topology.py for %s\n"
                        % self.prefix + to_yaml(self.dispatcher_config(**overrides)))
        return path

    def start_sarad(self, config: Optional[os.PathLike] = None, *, ready_timeout: float = 10,
                    lifetime: float = 600, args: Sequence[str] = (), **overrides) -> Proc:
        """Start `sarad --config FILE` (default: write_dispatcher_config(**overrides)) in the
        dispatcher namespace and wait until it is ready: READY=1 on $NOTIFY_SOCKET (sd_notify)
        or its log line containing "ready", whichever comes first (both come once everything is
        up: its rules appear earlier, before its BPF program and its queues). Raises if it
        exits or is not ready within `ready_timeout` s."""
        if self.sarad is not None and self.sarad.running():
            raise RuntimeError("sarad already running")
        if not self.sarad_path.exists():
            raise FileNotFoundError(self.sarad_path)
        cfg = Path(config) if config else self.write_dispatcher_config(**overrides)
        notify_path = self.workdir / "notify.sock"
        if len(str(notify_path)) > 100:
            notify_path = Path(tempfile.gettempdir()) / (self.prefix + "notify.sock")
        notify_path.unlink(missing_ok=True)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(notify_path))
        notify.setblocking(False)
        try:
            self.sarad = self.spawn(self.dispatcher,
                                    [str(self.sarad_path), "--config", str(cfg),
                                     *self.sarad_args, *args],
                                    name="sarad", timeout=lifetime, kill_after=5,
                                    env={"NOTIFY_SOCKET": str(notify_path)})
            end = time.monotonic() + ready_timeout
            while time.monotonic() < end:
                try:
                    if b"READY=1" in notify.recv(4096):
                        return self.sarad
                except BlockingIOError:
                    pass
                if not self.sarad.running():
                    raise RuntimeError("sarad exited with %s:\n%s"
                                       % (self.sarad.returncode, self.sarad.output()[-3000:]))
                if re.search(r"\bready\b", self.sarad.output()):
                    return self.sarad
                time.sleep(0.1)
            raise RuntimeError("sarad not ready after %.0f s:\n%s"
                               % (ready_timeout, self.sarad.output()[-3000:]))
        finally:
            notify.close()
            notify_path.unlink(missing_ok=True)

    def stop_sarad(self, grace: float = 5) -> Optional[int]:
        """SIGTERM sarad and wait; returns its exit status (None if it was not running)."""
        if self.sarad is None:
            return None
        rc = self.sarad.stop(signal.SIGTERM, grace=grace)
        return rc

    def dispatcher_state(self, ns: Optional[Namespace] = None) -> dict:
        """The dispatcher namespace's kernel state that sarad changes: iptables rules (all
        tables), ip rules, routes of every table, permanent neighbours, BPF programs on its
        interfaces (tc filters, XDP) and clsact qdiscs. Compare before/after."""
        ns = ns or self.dispatcher

        def out(*cmd):
            return ns.run(*cmd, check=False).stdout

        # Rules and chains only: a table that was merely loaded (empty, ACCEPT policies) and
        # packet counters are not state anyone left behind.
        rules, table = [], None
        for line in out("iptables-save").splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith("-A"):
                rules.append("%s %s" % (table, line))
            elif line.startswith(":"):
                name, policy = line[1:].split()[:2]
                if policy not in ("ACCEPT", "-") or name not in BUILTIN_CHAINS:
                    rules.append("%s :%s %s" % (table, name, policy))
        rules = "\n".join(rules)
        # BPF (issue 17): tc filters and XDP programs on every interface, with the ids and tags
        # a new load changes taken out, and the qdiscs (a clsact hook sarad made).
        bpf = []
        for dev in re.findall(r"^\d+: ([^:@]+)[:@]", out("ip", "-o", "link", "show"), re.M):
            for direction in ("ingress", "egress"):
                for line in out("tc", "filter", "show", "dev", dev, direction).splitlines():
                    bpf.append("%s %s %s" % (dev, direction,
                                             re.sub(r"\b(id|tag) \S+|:\[\d+\]", "_", line.strip())))
            bpf += ["%s qdisc %s" % (dev, q.split(" refcnt")[0])
                    for q in out("tc", "qdisc", "show", "dev", dev).splitlines() if "clsact" in q]
            link = out("ip", "-d", "link", "show", "dev", dev)
            bpf += ["%s %s" % (dev, re.sub(r"\bid \d+", "id _", m))
                    for m in re.findall(r"prog/xdp\S* id \d+", link)]
        return {
            "iptables": rules,
            "rules": out("ip", "rule", "show"),
            "routes": out("ip", "route", "show", "table", "all"),
            "neighbours": out("ip", "neigh", "show", "nud", "permanent"),
            "bpf": "\n".join(bpf),
        }

    # -- convenience -------------------------------------------------------------------
    def describe(self) -> str:
        lines = ["cluster %s (dispatcher=%s, workdir %s)" % (self.prefix, self.mode, self.workdir)]
        for ns in self.namespaces:
            lines.append("  %-12s %s" % (ns.role, ns.name))
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# CLI: bring a cluster up for manual work or a demo, bounded in time.
#   /usr/bin/python3 tests/integration/topology.py up --hold 60 [--dispatcher router|none|sarad]
#                                                   [--peers]
#   /usr/bin/python3 tests/integration/topology.py cleanup-stale
# ----------------------------------------------------------------------------------------
def _main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build the cluster, print it, hold it, tear it down")
    up.add_argument("--dispatcher", choices=["router", "none", "sarad"], default="router")
    up.add_argument("--hold", type=float, default=30, help="seconds to keep it (max 3600)")
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--peers", action="store_true",
                    help="also start SIPp UAS (udp, tcp) and an RTSP server on every node")
    sub.add_parser("cleanup-stale", help="remove namespaces of killed runs")
    a = ap.parse_args(argv)
    if a.cmd == "cleanup-stale":
        for n in cleanup_stale():
            print("removed", n)
        return 0
    hold = min(a.hold, 3600)
    with Cluster(a.dispatcher, nodes=a.nodes) as c:
        if a.peers:
            import peers            # peers imports this module: import it late
            peers.start_sip_servers(c, lifetime=hold + 10)
            peers.start_rtsp_servers(c, lifetime=hold + 10)
        print(c.describe(), flush=True)
        print("ready (%.2f s); holding %.0f s, Ctrl-C to stop" % (c.setup_seconds, hold),
              flush=True)
        try:
            time.sleep(hold)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
