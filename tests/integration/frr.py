# SPDX-License-Identifier: GPL-2.0-or-later
"""FRR (Debian's `frr`: zebra, bfdd, bgpd) in a namespace of the test cluster (issue 19): the
upstream router with ECMP over the dispatchers, and each dispatcher's BGP speaker announcing
the VIP route sarad keeps in its route_announce table (etc/frr/frr.conf's shape).

    router = Frr(cluster, cluster.router, "router", router_config([...])).start()
    router.vtysh("show bgp summary")

Each instance has its own directory in the temp dir (FRR's daemons drop to user frr, who
cannot enter pytest's work dirs): config, pid files, vty sockets, zserv socket, logs. The
daemons run in the foreground through cluster.spawn (bounded, stopped with the cluster).
"""
from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path

import topology

FRR_LIB = Path("/usr/lib/frr")
DAEMONS = ("zebra", "bfdd", "bgpd")
ROUTER_AS = 64512
ANNOUNCE_TABLE = 254   # main: FRR's `redistribute kernel` (etc/frr/frr.conf)
# BFD at 100 ms x 3: a dead dispatcher is noticed in about 0.3 s.
BFD_PROFILE = """bfd
 profile fast
  transmit-interval 100
  receive-interval 100
  detect-multiplier 3
 exit
exit
"""


def dispatcher_as(index: int) -> int:
    return ROUTER_AS + index


def router_config(dispatchers, ipv6: bool = False) -> str:
    """The upstream router: eBGP to every dispatcher (client-side address), BFD, up to 8 equal
    paths for the VIP (and for VIP6 with ipv6, over the same sessions)."""
    lines = ["frr defaults datacenter", "hostname router", "log file %s", BFD_PROFILE,
             "router bgp %d" % ROUTER_AS, " bgp router-id %s" % topology.ROUTER_ADDR,
             " no bgp ebgp-requires-policy", " bgp bestpath as-path multipath-relax"]
    for i in dispatchers:
        addr = topology.DISPATCHER_CLIENT_ADDRS[i - 1]
        lines += [" neighbor %s remote-as %d" % (addr, dispatcher_as(i)),
                  " neighbor %s bfd profile fast" % addr, " neighbor %s timers 1 3" % addr]
    lines += [" address-family ipv4 unicast", "  maximum-paths 8", " exit-address-family"]
    if ipv6:
        lines += [" address-family ipv6 unicast", "  maximum-paths 8"]
        lines += ["  neighbor %s activate" % topology.DISPATCHER_CLIENT_ADDRS[i - 1] for i in dispatchers]
        lines += [" exit-address-family"]
    lines += ["exit"]
    return "\n".join(lines) + "\n"


def dispatcher_config(index: int, ipv6: bool = False,
                      template: Path = topology.ROOT / "etc" / "frr" / "frr.conf") -> str:
    """A dispatcher's FRR: the shipped etc/frr/frr.conf with this cluster's values; with ipv6
    its "!6 " lines too (a dual-stack VIP), as its instructions say."""
    lines = template.read_text().splitlines()
    if ipv6:
        lines = [line[3:] if line.startswith("!6 ") else line for line in lines]
    # Without the comment lines (they name the values too).
    text = "".join(line + "\n" for line in lines if not line.startswith("!"))
    values = {"$ROUTER_ID": topology.DISPATCHER_CLIENT_ADDRS[index - 1], "$LOCAL_AS": str(dispatcher_as(index)),
              "$ROUTER_ADDR": topology.ROUTER_ADDR, "$ROUTER_AS": str(ROUTER_AS),
              "$VIP6": topology.VIP6, "$VIP": topology.VIP}
    for k, v in values.items():
        text = text.replace(k, v)
    assert "$" not in text, "etc/frr/frr.conf has a value the test does not fill: " + text
    return text


class Frr:
    def __init__(self, cluster, ns, name: str, config: str):
        self.cluster, self.ns, self.name = cluster, ns, name
        self.dir = Path(tempfile.gettempdir()) / ("%sfrr-%s" % (cluster.prefix, name))
        self.config = config
        self.procs = {}

    def start(self, timeout: float = 10) -> "Frr":
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        conf = self.dir / "frr.conf"
        conf.write_text(self.config.replace("log file %s", "log file %s" % (self.dir / "frr.log")))
        empty = self.dir / "empty.conf"
        empty.write_text("")
        for p in (self.dir, conf, empty):
            shutil.chown(p, "frr", "frr")
        # Each daemon starts empty; vtysh then hands every line of the integrated file to the
        # daemon that owns it (as Debian's frrinit does with `vtysh -b`): a daemon reading the
        # whole file itself stops at the first `exit` of a block it does not know.
        for d in DAEMONS:
            argv = [str(FRR_LIB / d), "-f", str(empty), "-i", str(self.dir / (d + ".pid")),
                    "-z", str(self.dir / "zserv.api"), "--vty_socket", str(self.dir), "-P", "0",
                    "--log", "file:%s" % (self.dir / (d + ".log"))]
            if d == "bfdd":
                argv += ["--bfdctl", str(self.dir / "bfdd.sock")]
            self.procs[d] = self.cluster.spawn(self.ns, argv, name="%s-%s" % (d, self.name), timeout=600, kill_after=2,
                                               cwd=self.dir)
            if d == "zebra":      # the others connect to its socket
                self._wait(lambda: (self.dir / "zserv.api").exists(), timeout, "zebra's socket")
            self._wait(lambda: (self.dir / (d + ".vty")).exists(), timeout, d + "'s vty")
        self.ns.run("vtysh", "--vty_socket", str(self.dir), "-f", str(conf), timeout=20)
        return self

    def _wait(self, predicate, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            dead = [d for d, p in self.procs.items() if not p.running()]
            if dead:
                raise RuntimeError("FRR %s in %s: %s exited:\n%s" % (self.name, self.ns, dead, self.logs()))
            time.sleep(0.05)
        raise RuntimeError("FRR %s: no %s after %.0f s:\n%s" % (self.name, what, timeout, self.logs()))

    def logs(self) -> str:
        return "\n".join("--- %s\n%s" % (p.name, p.read_text(errors="replace")[-2000:])
                         for p in sorted(self.dir.glob("*.log")))

    def vtysh(self, *commands: str) -> str:
        argv = ["vtysh", "--vty_socket", str(self.dir)]
        for c in commands:
            argv += ["-c", c]
        return self.ns.run(*argv, timeout=10).stdout

    def kill(self) -> None:
        """SIGKILL every daemon at once (a crashed box): no BGP notification, no BFD down."""
        for p in self.procs.values():
            p.signal_command(signal.SIGKILL)
