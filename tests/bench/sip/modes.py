# SPDX-License-Identifier: GPL-2.0-or-later
"""The three ways make bench-sip puts something between the SIPp UAC and the UAS nodes, in one
namespace cluster (topology.Cluster(dispatcher="none")); each run starts its mode fresh and
stops it afterwards, so the modes can alternate in the same cluster:

  direct    the dispatcher namespace is a plain router sending the VIP to node 1: the UAC
            calls one UAS (the generator's own limit, over the same hops as sarad).
  kamailio  Kamailio in the dispatcher namespace, a dispatcher proxy on the client-side address
            198.18.1.1:5060 (what the UAC calls) and the LAN address 198.18.2.1:5060, in front
            of the three UAS. A proxy addresses its nodes by their own addresses, so there the
            UAS bind the node's address instead of the VIP (which only a dispatcher that routes
            by MAC, as sarad does, can share among nodes).
  sara      sarad with the cluster's default config (topology.dispatcher_config(): every node
            up, the shipped scheduler) in front of the three UAS on the VIP, admission control
            off (--sara-admission on: the shipped SA2C). SA2C reads the host's CPU (head load):
            on a shared machine busy with the generator, the UASes and other tenants, its
            503s failed 75-83% of the calls at 1600 (SIPp) and 3200 calls/s (sip-loadgen) in
            a smoke run of issue 16, so with it on the benchmark measures the host's other
            load, not the dispatcher; and Kamailio has no such control. A fresh session table each run (no snapshot
            carried over).

After every run the dispatcher namespace's conntrack table is flushed, so no run inherits
another's entries.

In a cluster with ipv6=True (run.py --ipv6) every mode runs over IPv6 instead: the UAC calls
VIP6 2001:db8:100::10 (kamailio: the dispatcher's 2001:db8:1::1) from 2001:db8:1::2, the UAS
bind VIP6 (kamailio: the node's 2001:db8:2::1N), direct routes VIP6 to node 1, and sarad's
config holds both VIPs (topology.dispatcher_config()).
"""
from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Optional

import datapath
import kamailio
import peers
import topology

SIP_PORT = 5060


class Mode:
    name = ""
    uas_on_vip = True            # the UAS bound to the VIP (else to the node's own address)

    def __init__(self, cluster: topology.Cluster):
        self.c = cluster
        self.ipv6 = cluster.ipv6

    @property
    def vip(self) -> str:
        return topology.VIP6 if self.ipv6 else topology.VIP

    @property
    def target(self) -> str:     # where the UAC sends its calls
        return self.vip

    def uas_address(self, node: topology.Node) -> str:
        """What the UAS on `node` binds: the VIP, or the node's own address (uas_on_vip False)."""
        if self.uas_on_vip:
            return self.vip
        return topology.node_address6(node.id) if self.ipv6 else node.address

    @property
    def nodes(self) -> list:
        return self.c.nodes

    def start(self, run_dir: Path) -> None:
        pass

    def balancer_pids(self) -> list:
        """The balancer's processes whose CPU time is counted ([] for direct)."""
        return []

    def stop(self) -> None:
        pass

    def run_stats(self) -> dict:
        """What the balancer itself says about the run just done (before stop())."""
        return {}

    def flush_conntrack(self) -> None:
        # conntrack -F flushes IPv4 unless told another family.
        for family in ("ipv4", "ipv6") if self.ipv6 else ("ipv4",):
            self.c.dispatcher.run("conntrack", "-F", "-f", family, check=False)

    def describe(self) -> dict:
        return {}


class Direct(Mode):
    name = "direct"

    @property
    def nodes(self) -> list:
        return self.c.nodes[:1]

    def start(self, run_dir: Path) -> None:
        if not self.ipv6:
            self.c.route_vip_to(1)
            return
        # VIP6 to node 1 as route_vip_to() sends the VIP: static route, permanent neighbour.
        node = self.nodes[0]
        self.c.dispatcher.ip_batch([
            "neigh replace %s lladdr %s dev eth1 nud permanent" % (topology.node_address6(node.id), node.mac),
            "route replace %s/128 via %s dev eth1" % (topology.VIP6, topology.node_address6(node.id))])

    def stop(self) -> None:
        if self.ipv6:
            self.c.dispatcher.ip("-6", "route", "del", "%s/128" % topology.VIP6, check=False)
        else:
            self.c.dispatcher.ip("route", "del", "%s/32" % topology.VIP, check=False)
        self.flush_conntrack()


class Kamailio(Mode):
    name = "kamailio"
    uas_on_vip = False

    def __init__(self, cluster, children: int, version: str):
        super().__init__(cluster)
        self.children, self.version = children, version
        self.proc: Optional[topology.Proc] = None
        self.main_pid: Optional[int] = None
        self.pids: list = []
        self.processes = 0       # Kamailio's process count (main, workers, timers), last start

    @property
    def target(self) -> str:
        return (topology.DISPATCHER_CLIENT_ADDRS6 if self.ipv6 else topology.DISPATCHER_CLIENT_ADDRS)[0]

    @property
    def lan_address(self) -> str:
        return (topology.DISPATCHER_LAN_ADDRS6 if self.ipv6 else topology.DISPATCHER_LAN_ADDRS)[0]

    def start(self, run_dir: Path) -> None:
        cfg = kamailio.write_config(run_dir / "kamailio.cfg", client_addr=self.target,
                                    lan_addr=self.lan_address,
                                    nodes=[self.uas_address(n) for n in self.c.nodes],
                                    children=self.children)
        self.proc = self.c.spawn(self.c.dispatcher, kamailio.argv(cfg), name="kamailio-%s" % run_dir.name,
                                 timeout=600, kill_after=5)
        ok = all(peers.wait_listening(self.c.dispatcher, "udp", a, SIP_PORT, timeout=10)
                 for a in (self.target, self.lan_address))
        self.main_pid = kamailio.main_pid(self.proc.pid)
        # Every worker is forked at start-up; the tree is complete once it stops growing.
        last, end = -1, time.monotonic() + 5
        while ok and time.monotonic() < end:
            self.pids = kamailio.process_tree(self.main_pid) if self.main_pid else []
            if len(self.pids) == last:
                break
            last = len(self.pids)
            time.sleep(0.2)
        self.processes = len(self.pids)
        if not ok or not self.proc.running() or not self.main_pid:
            out = self.proc.output()[-3000:]
            self.stop()
            raise RuntimeError("kamailio did not start:\n" + out)

    def balancer_pids(self) -> list:
        return list(self.pids)

    def run_stats(self) -> dict:
        # Errors and warnings in its log: e.g. shared memory running out (-m) fails calls.
        lines = [x for x in (self.proc.output() if self.proc else "").splitlines()
                 if re.search(r"\b(ERROR|WARNING|CRITICAL|ALERT)\b", x)]
        return {"log_problems": len(lines), "log_sample": _distinct(lines, 3)}

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(signal.SIGTERM, grace=8)
            self.proc = None
        self.pids, self.main_pid = [], None
        self.flush_conntrack()

    def describe(self) -> dict:
        return {"version": self.version, "children_per_socket": self.children,
                "processes": self.processes}


class Sara(Mode):
    name = "sara"

    def __init__(self, cluster, admission: bool = False):
        super().__init__(cluster)
        self.admission = admission

    def start(self, run_dir: Path) -> None:
        cfg = self.c.dispatcher_config()
        Path(cfg["control"]["state_file"]).unlink(missing_ok=True)
        self.c.start_sarad(ready_timeout=15, lifetime=600, admission={"enabled": self.admission})

    def balancer_pids(self) -> list:
        pid = self.c.sarad.command_pid() if self.c.sarad else None
        return [pid] if pid else []

    def run_stats(self) -> dict:
        """sarad's counters (a fresh sarad each run: they are the run's), the kernel's drops on
        its queue, and the errors and warnings it logged (syslog priorities 0-4)."""
        out = {}
        try:
            stats = control_request(Path(self.c.dispatcher_config()["control"]["socket"]), "stats")
            out["sarad"] = {k: v for k, v in stats.items()
                            if k.startswith(("queue_", "pipeline_")) and isinstance(v, (int, float)) and v}
        except (OSError, ValueError) as e:
            out["sarad_stats_error"] = str(e)
        out["nfqueue"] = nfqueue_counters(self.c.dispatcher)
        lines = [x for x in (self.c.sarad.output() if self.c.sarad else "").splitlines()
                 if re.match(r"<[0-4]>", x)]
        out["log_problems"] = len(lines)
        out["log_sample"] = _distinct(lines, 3)
        return out

    def stop(self) -> None:
        self.c.stop_sarad(grace=8)
        self.flush_conntrack()

    def describe(self) -> dict:
        return {"sarad": str(self.c.sarad_path), "config": "topology.dispatcher_config() defaults",
                "admission": self.admission}


def _distinct(lines: list, n: int) -> list:
    seen = []
    for x in lines:
        x = x.strip()[:200]
        if x not in seen:
            seen.append(x)
        if len(seen) == n:
            break
    return seen


def control_request(path: Path, line: str, timeout: float = 5) -> dict:
    """One request on sarad's control socket; the JSON document it answers."""
    return datapath.sarad_request(None, line, timeout=timeout, path=path)


def nfqueue_counters(ns) -> dict:
    """Per queue: packets waiting, dropped by the kernel (queue full) and by netlink (the
    reader's socket buffer full): /proc/net/netfilter/nfnetlink_queue of the namespace."""
    r = ns.run("cat", "/proc/net/netfilter/nfnetlink_queue", check=False)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 7:
            out[f[0]] = {"waiting": int(f[2]), "queue_dropped": int(f[5]), "user_dropped": int(f[6])}
    return out
