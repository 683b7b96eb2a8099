# SPDX-License-Identifier: GPL-2.0-or-later
"""Active dispatchers announced over BGP by real FRR (issue 19, DESIGN §9b): an upstream router
namespace running FRR (zebra, bgpd, bfdd) with ECMP over three dispatchers, each running FRR
and a sarad of the mesh with `route_announce`. The router learns the VIP from a dispatcher
only while its sarad is ready; the client reaches the VIP through the router.

The router hashes ports too (fib_multipath_hash_policy 1) because the test has one client
address: with L3 hashing every call would take one dispatcher (the 16-address client of the
issue is not built yet). A call's flows may so take different dispatchers, carried by the
replicated bindings (test_mesh.py tests that on its own).

Measured and printed: the time from a dispatcher's death (SIGKILL of its sarad and FRR, no
BGP notification) to the router's kernel route losing that next hop, and from `saractl
announce off` (a planned drain) to the same.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_mesh_bgp.py
"""
import json
import signal
import time

import pytest

import datapath
import frr
import topology
from frr import Frr
from sarad_mesh import SaradMesh
from test_mesh import DISPATCHERS, calls_batch

pytestmark = datapath.SARAD_MARKS + [pytest.mark.skipif(not frr.FRR_LIB.joinpath("bgpd").exists(),
                                                        reason="FRR not installed (make deps)")]


def next_hops(cluster) -> set:
    """The dispatchers (client-side addresses) the router's kernel route for the VIP goes via."""
    out = cluster.router.run("ip", "-j", "route", "show", "%s/32" % topology.VIP).stdout
    hops = set()
    for r in json.loads(out or "[]"):
        if "gateway" in r:
            hops.add(r["gateway"])
        for h in r.get("nexthops", []):
            hops.add(h["gateway"])
    return hops


def addresses(indices) -> set:
    return {topology.DISPATCHER_CLIENT_ADDRS[i - 1] for i in indices}


def wait_hops(cluster, want: set, timeout: float, step: float = 0.01):
    """Seconds until the router's next hops are `want` (polled every `step`); None if never."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if next_hops(cluster) == want:
            return time.monotonic() - t0
        time.sleep(step)
    return None


class Site:
    """The router's FRR, each dispatcher's FRR and sarad, the SIP servers."""

    def __init__(self, cluster):
        self.cluster = cluster
        datapath.start_sip_servers(cluster, transports=("udp",), lifetime=120)
        self.router = Frr(cluster, cluster.router, "router", frr.router_config(DISPATCHERS)).start()
        cluster.router.sysctl({"net.ipv4.fib_multipath_hash_policy": 1})
        self.mesh = SaradMesh(cluster, sync_overrides={"ready_wait": "1s"},
                              route_announce={"table": frr.ANNOUNCE_TABLE}).start()
        self.speakers = {i: self.start_speaker(i) for i in DISPATCHERS}

    def start_speaker(self, i: int) -> Frr:
        return Frr(self.cluster, self.cluster.dispatchers[i - 1], "d%d" % i, frr.dispatcher_config(i)).start()

    def diagnostics(self) -> str:
        return "\n".join([self.router.vtysh("show bgp summary"), self.router.vtysh("show bfd peers brief"),
                          self.router.vtysh("show ip route %s" % topology.VIP)]
                         + [str(self.mesh.request(i, "announce")) for i in DISPATCHERS
                            if self.mesh.procs[i].running()]
                         + ["d%d: %s\n%s\n%s" % (i, s.vtysh("show ip route"), s.vtysh("show bgp ipv4 unicast"),
                                                   self.cluster.dispatchers[i - 1].run("ip", "route", "show", "table", "all").stdout)
                            for i, s in self.speakers.items() if all(p.running() for p in s.procs.values())])


@pytest.mark.cluster(dispatcher="none", dispatchers=3, router=True)
def test_bgp_carries_the_ready_dispatchers_and_drops_a_dead_or_drained_one(cluster):
    site = Site(cluster)
    mesh = site.mesh
    assert wait_hops(cluster, addresses(DISPATCHERS), timeout=30) is not None, site.diagnostics()

    # A dispatcher dies mid-call (sarad and FRR SIGKILLed): BFD, then the router's route.
    withdrawn = {}

    def crash_2():
        t0 = time.monotonic()
        mesh.procs[2].signal_command(signal.SIGKILL)
        site.speakers[2].kill()
        withdrawn["crash"] = wait_hops(cluster, addresses([1, 3]), timeout=5)

    calls_batch(cluster, mesh, calls=60, rate=20, packets=300, action=crash_2, action_at=3.0, label="crash")
    print("crash of dispatcher 2 -> its next hop gone from the router's route: %s s" % withdrawn["crash"])
    assert withdrawn["crash"] is not None and withdrawn["crash"] < 1.5, site.diagnostics()

    # It returns: sarad first (it deletes the route its predecessor left; FRR must not
    # announce a dispatcher that is not ready), then FRR; announced once synced.
    mesh.start_one(2)
    site.speakers[2] = site.start_speaker(2)
    back = wait_hops(cluster, addresses(DISPATCHERS), timeout=30)
    assert back is not None, site.diagnostics()
    assert mesh.request(2, "role")["synced"]
    print("dispatcher 2 restarted -> announced again after %.2f s" % back)

    # A planned drain of dispatcher 3: withdrawn at once; the calls go on through the others.
    t0 = time.monotonic()
    assert mesh.request(3, "announce off")["withdrawn_by_operator"]
    drained = wait_hops(cluster, addresses([1, 2]), timeout=5)
    print("saractl announce off on dispatcher 3 -> next hop gone after %s s" % drained)
    assert drained is not None and drained < 1.5, site.diagnostics()
    calls_batch(cluster, mesh, calls=30, rate=20, packets=50, label="drained")
    assert not mesh.request(3, "announce")["announced"]
    mesh.request(3, "announce on")
    assert wait_hops(cluster, addresses(DISPATCHERS), timeout=10) is not None, site.diagnostics()

    # A cable cut (dispatcher 1's client-side port on the switch down): no TCP close reaches
    # the router, BFD does.
    def cut_1():
        cluster.switch.run("ip", "link", "set", "d1c", "down")
        withdrawn["cut"] = wait_hops(cluster, addresses([2, 3]), timeout=5)

    calls_batch(cluster, mesh, calls=60, rate=20, packets=300, action=cut_1, action_at=3.0, label="cut")
    print("cable cut of dispatcher 1 -> its next hop gone from the router's route: %s s" % withdrawn["cut"])
    assert withdrawn["cut"] is not None and withdrawn["cut"] < 1.5, site.diagnostics()
    cluster.switch.run("ip", "link", "set", "d1c", "up")
    assert wait_hops(cluster, addresses(DISPATCHERS), timeout=30) is not None, site.diagnostics()
