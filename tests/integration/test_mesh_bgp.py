# SPDX-License-Identifier: GPL-2.0-or-later
"""Active dispatchers announced over BGP by real FRR (issue 19, DESIGN §9b): an upstream router
namespace running FRR (zebra, bgpd, bfdd) with ECMP over three dispatchers, each running FRR
and a sarad of the mesh with `route_announce`. The router learns the VIP from a dispatcher
only while its sarad is ready; the client reaches the VIP through the router.

The router hashes addresses only (fib_multipath_hash_policy 0), as an operator's should, and
the calls come from 48 client addresses (SIPp `-t ui`, two calls each): every call's SIP and
RTP take one dispatcher while the set is stable, and the clients spread over the three.

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
import peers
import topology
from frr import Frr
from sarad_mesh import SaradMesh
from test_mesh import DISPATCHERS, assigned, calls_batch

CLIENTS = 48
# RTSP from the client's own address: its control connection and streams take one dispatcher,
# which may be the one that fails.
RTSP = [("ffmpeg", "udp"), ("gst", "tcp")]

pytestmark = datapath.SARAD_MARKS + [pytest.mark.skipif(not frr.FRR_LIB.joinpath("bgpd").exists(),
                                                        reason="FRR not installed (make deps)")]


def next_hops(cluster, ipv6: bool = False) -> set:
    """The dispatchers' addresses the router's kernel route for the VIP (VIP6) goes via."""
    vip = "%s/128" % topology.VIP6 if ipv6 else "%s/32" % topology.VIP
    out = cluster.router.run("ip", "-6" if ipv6 else "-4", "-j", "route", "show", vip).stdout
    hops = set()
    for r in json.loads(out or "[]"):
        if "gateway" in r:
            hops.add(r["gateway"])
        for h in r.get("nexthops", []):
            hops.add(h["gateway"])
    return hops


def carrier(cluster, client: str) -> int:
    """The dispatcher the router sends `client`'s packets for the VIP to (its hash now)."""
    out = cluster.router.run("ip", "-j", "route", "get", topology.VIP, "from", client, "iif", "eth0").stdout
    return topology.DISPATCHER_CLIENT_ADDRS.index(json.loads(out)[0]["gateway"]) + 1


def sip_clients_of(cluster, clients: dict, index: int) -> set:
    """The SIP client addresses (datapath.many_clients) the router sends to dispatcher `index`:
    their RTP flows every 20 ms, so their return through another dispatcher is seen at once."""
    return {a for (a,) in clients["extra_fields"] if carrier(cluster, a) == index}


def capture_lan(cluster, indices, label: str) -> dict:
    return {i: peers.start_capture(cluster, cluster.dispatchers[i - 1], "eth1", cluster.workdir / ("%s-d%d.pcap" % (label, i)),
                                   bpf=["udp", "and", "dst", "host", topology.VIP])
            for i in indices}


def forwarded_again(caps: dict, moved: set, t0: float) -> list:
    """Seconds from t0 to each moved client's first packet forwarded (towards a node) by the
    dispatchers captured, sorted; asserts every moved client came back."""
    back_at = {}
    for cap in caps.values():
        for (src, _), times in datapath.udp_packet_times(cap.stop()).items():
            client = src.rsplit(":", 1)[0]
            after = [t for t in times if t > t0]
            if client in moved and after:
                back_at[client] = min(back_at.get(client, after[0]), after[0])
    assert set(back_at) == moved, (sorted(moved - set(back_at)), "moved clients never forwarded again")
    return sorted(t - t0 for t in back_at.values())


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
        datapath.require_peers("ffmpeg", "gst-launch-1.0")
        datapath.start_sip_servers(cluster, transports=("udp",), lifetime=120)
        peers.start_rtsp_servers(cluster, lifetime=120)
        self.router = Frr(cluster, cluster.router, "router", frr.router_config(DISPATCHERS)).start()
        cluster.router.sysctl({"net.ipv4.fib_multipath_hash_policy": 0})
        self.clients = datapath.many_clients(cluster, CLIENTS, calls_per_client=2)
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
    # Every dispatcher carries new sessions: the router spreads the clients.
    before = assigned(mesh)
    calls_batch(cluster, mesh, rate=20, packets=50, label="spread", **site.clients)
    placed = {i: n - before[i] for i, n in assigned(mesh).items()}
    print("sessions placed per dispatcher, %d clients: %s" % (CLIENTS, placed))
    assert all(n >= 0.15 * sum(placed.values()) for n in placed.values()), placed

    # A dispatcher dies mid-call (sarad and FRR SIGKILLed): the one carrying the RTSP client's
    # address, so its control connection and streams move too.
    withdrawn = {}
    dead = carrier(cluster, topology.CLIENT_ADDR)
    alive = [i for i in DISPATCHERS if i != dead]

    moved = sip_clients_of(cluster, site.clients, dead)
    caps = capture_lan(cluster, alive, "crash")
    t_crash = []

    def crash():
        t_crash.append(time.time())
        mesh.procs[dead].signal_command(signal.SIGKILL)
        site.speakers[dead].kill()
        withdrawn["crash"] = wait_hops(cluster, addresses(alive), timeout=5)

    calls_batch(cluster, mesh, rate=20, packets=300, action=crash, action_at=3.0, label="crash", rtsp=RTSP,
                **site.clients)
    print("crash of dispatcher %d -> its next hop gone from the router's route: %s s" % (dead, withdrawn["crash"]))
    assert withdrawn["crash"] is not None and withdrawn["crash"] < 1.5, site.diagnostics()
    delays = forwarded_again(caps, moved, t_crash[0])
    print("crash -> the %d moved clients' first packets forwarded by another dispatcher after %.3f s (first) "
          "to %.3f s (last)" % (len(moved), delays[0], delays[-1]))

    # It returns during calls: sarad first (it deletes the route its predecessor left; FRR
    # must not announce a dispatcher that is not ready), then FRR; announced once synced, and
    # the router moves clients back to it mid-call.
    returned = {}

    def come_back():
        mesh.start_one(dead)
        site.speakers[dead] = site.start_speaker(dead)
        returned["after"] = wait_hops(cluster, addresses(DISPATCHERS), timeout=30)
        returned["synced"] = mesh.request(dead, "role")["synced"]

    calls_batch(cluster, mesh, rate=20, packets=500, action=come_back, action_at=1.0, label="return",
                **site.clients)
    assert returned["after"] is not None and returned["synced"], (returned, site.diagnostics())
    print("dispatcher %d restarted during calls -> announced again after %.2f s (FRR's start and BGP's session)"
          % (dead, returned["after"]))

    # A planned drain of another dispatcher: withdrawn at once; the calls go on through the others.
    drain, cut = alive
    assert mesh.request(drain, "announce off")["withdrawn_by_operator"]
    drained = wait_hops(cluster, addresses([i for i in DISPATCHERS if i != drain]), timeout=5)
    print("saractl announce off on dispatcher %d -> next hop gone after %s s" % (drain, drained))
    assert drained is not None and drained < 1.5, site.diagnostics()
    calls_batch(cluster, mesh, rate=20, packets=50, label="drained", **site.clients)
    assert not mesh.request(drain, "announce")["announced"]
    mesh.request(drain, "announce on")
    assert wait_hops(cluster, addresses(DISPATCHERS), timeout=10) is not None, site.diagnostics()

    # A cable cut (the third dispatcher's client-side port on the switch down): no TCP close
    # reaches the router, BFD does.
    moved = sip_clients_of(cluster, site.clients, cut)
    caps = capture_lan(cluster, [i for i in DISPATCHERS if i != cut], "cut")
    t_cut = []

    def cut_link():
        t_cut.append(time.time())
        cluster.switch.run("ip", "link", "set", "d%dc" % cut, "down")
        withdrawn["cut"] = wait_hops(cluster, addresses([i for i in DISPATCHERS if i != cut]), timeout=5)

    calls_batch(cluster, mesh, rate=20, packets=300, action=cut_link, action_at=3.0, label="cut", rtsp=RTSP,
                **site.clients)
    print("cable cut of dispatcher %d -> its next hop gone from the router's route: %s s" % (cut, withdrawn["cut"]))
    assert withdrawn["cut"] is not None and withdrawn["cut"] < 1.5, site.diagnostics()
    delays = forwarded_again(caps, moved, t_cut[0])
    print("cut -> the %d moved clients' first packets forwarded by another dispatcher after %.3f s (first) "
          "to %.3f s (last)" % (len(moved), delays[0], delays[-1]))
    cluster.switch.run("ip", "link", "set", "d%dc" % cut, "up")
    assert wait_hops(cluster, addresses(DISPATCHERS), timeout=30) is not None, site.diagnostics()


@pytest.mark.cluster(dispatcher="none", dispatchers=3, router=True, ipv6=True)
def test_a_dual_stack_vip_is_announced_and_withdrawn_in_both_families(cluster):
    """etc/frr/frr.conf with its IPv6 lines: VIP6 travels over the same BGP sessions, the
    router's IPv6 route has the three dispatchers; IPv6 calls go through; a drain withdraws
    both families; the calls then go through the others."""
    datapath.start_sip_servers(cluster, transports=("udp",), lifetime=90, ipv6=True)
    Frr(cluster, cluster.router, "router", frr.router_config(DISPATCHERS, ipv6=True)).start()
    mesh = SaradMesh(cluster, sync_overrides={"ready_wait": "1s"}, route_announce={"table": frr.ANNOUNCE_TABLE}).start()
    for i in DISPATCHERS:
        Frr(cluster, cluster.dispatchers[i - 1], "d%d" % i, frr.dispatcher_config(i, ipv6=True)).start()

    def all_announced(indices):
        return (next_hops(cluster) == addresses(indices)
                and len(next_hops(cluster, ipv6=True)) == len(indices))

    assert wait_hops(cluster, addresses(DISPATCHERS), timeout=30) is not None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 15 and not all_announced(DISPATCHERS):
        time.sleep(0.05)
    assert all_announced(DISPATCHERS), (next_hops(cluster), next_hops(cluster, ipv6=True))
    print("router: VIP6 via %s" % sorted(next_hops(cluster, ipv6=True)))

    def ipv6_calls(label):
        with peers.capture_nodes(cluster, name=label) as node_caps:
            r = peers.run_sip_uac(cluster, calls=20, rate=10, transport="u1", media_packets=50, ipv6=True)
            pcaps = node_caps.stop()
        assert r.ok and not datapath.rtp_short([r]), r.summary()
        sightings = peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6))
        assert all(sightings[c].on_one_node and sightings[c].complete for c in r.call_ids), sightings

    ipv6_calls("v6-before")
    # A dispatcher withdraws (both families); the calls go on through the others.
    drain = 1
    assert mesh.request(drain, "announce off")["withdrawn_by_operator"]
    others = [i for i in DISPATCHERS if i != drain]
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5 and not all_announced(others):
        time.sleep(0.02)
    assert all_announced(others), (next_hops(cluster), next_hops(cluster, ipv6=True))
    print("announce off on dispatcher %d: both families withdrawn after %.2f s" % (drain, time.monotonic() - t0))
    ipv6_calls("v6-after")
