#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make demo-mesh`: two ACTIVE dispatchers behind an upstream router's ECMP (issue 19). Builds
the namespace cluster with an upstream router; FRR (zebra, bgpd, bfdd) runs on the router and
on both dispatchers, each dispatcher's sarad replicates its sessions to the other and keeps
the VIP's route for FRR to announce while it is ready. SIPp calls with RTP from 32 client
addresses and RTSP streams go through the router, which spreads the clients over both; half
way through one dispatcher is killed (sarad and FRR, SIGKILL): the router drops it and the
other carries every call on. Prints what happened and tears everything down — also on Ctrl-C.
Run as root with Debian's /usr/bin/python3."""
import json
import signal
import sys
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import datapath  # noqa: E402
import frr  # noqa: E402
import peers  # noqa: E402
import topology  # noqa: E402
from sarad_mesh import SaradMesh  # noqa: E402

DISPATCHERS = [1, 2]
CLIENTS = 32
RTSP_CLIENTS = [("ffmpeg", "udp"), ("gst", "tcp")]


def next_hops(cluster) -> list:
    out = cluster.router.run("ip", "-j", "route", "show", "%s/32" % topology.VIP).stdout
    hops = []
    for r in json.loads(out or "[]"):
        hops += [r["gateway"]] if "gateway" in r else [h["gateway"] for h in r.get("nexthops", [])]
    return sorted(hops)


def wait_for(predicate, timeout: float, step: float = 0.02):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def main():
    if os.geteuid() != 0:
        sys.exit("demo-mesh: run as root (network namespaces)")
    topology.cleanup_stale()
    started = time.monotonic()
    with topology.Cluster(dispatcher="none", dispatchers=2, router=True) as c:
        datapath.start_sip_servers(c, transports=("udp",), lifetime=120)
        peers.start_rtsp_servers(c, lifetime=120)
        frr.Frr(c, c.router, "router", frr.router_config(DISPATCHERS)).start()
        c.router.sysctl({"net.ipv4.fib_multipath_hash_policy": 0})
        mesh = SaradMesh(c, sync_overrides={"ready_wait": "1s"}, route_announce={"table": frr.ANNOUNCE_TABLE}).start()
        speakers = {i: frr.Frr(c, c.dispatchers[i - 1], "d%d" % i, frr.dispatcher_config(i)).start() for i in DISPATCHERS}
        both = sorted(topology.DISPATCHER_CLIENT_ADDRS[i - 1] for i in DISPATCHERS)
        if wait_for(lambda: next_hops(c) == both, 30) is None:
            print("the router did not learn both dispatchers: %s" % next_hops(c))
            return 1
        print("cluster up: %d clients -> router %s (FRR, BGP + BFD, ECMP) -> dispatchers %s (sarad + FRR each) "
              "-> nodes %s; VIP %s" % (CLIENTS, topology.ROUTER_ADDR, ", ".join(both),
                                       ", ".join(n.address for n in c.nodes), topology.VIP))
        print("router: %s via %s" % (topology.VIP, " and ".join(next_hops(c))))

        clients = datapath.many_clients(c, CLIENTS, calls_per_client=3)
        before = {i: mesh.stats(i)["pipeline_sessions_assigned_total"] for i in DISPATCHERS}
        with peers.capture_nodes(c, name="demo") as node_caps:
            uac = peers.start_sip_uac(c, rate=16, media_packets=250, **clients)
            rtsp = [peers.start_rtsp_client(c, tool, transport, index=k, duration=8)
                    for k, (tool, transport) in enumerate(RTSP_CLIENTS)]
            time.sleep(4)
            placed_before_kill = {i: mesh.stats(i)["pipeline_sessions_assigned_total"] - before[i] for i in DISPATCHERS}
            mesh.procs[2].signal_command(signal.SIGKILL)
            speakers[2].kill()
            gone = wait_for(lambda: next_hops(c) == [topology.DISPATCHER_CLIENT_ADDRS[0]], 5, step=0.01)
            r = datapath.uac_result(uac)
            rtsp_results = [x.result(30) for x in rtsp]
            pcaps = node_caps.stop()
        sightings = peers.calls_by_node(pcaps)
        whole = sum(1 for cid in r.call_ids if cid in sightings and sightings[cid].on_one_node and sightings[cid].complete)
        print("\nbefore the kill, new sessions placed by dispatcher 1: %d, by dispatcher 2: %d"
              % (placed_before_kill[1], placed_before_kill[2]))
        print("dispatcher 2 killed (sarad and FRR, SIGKILL) %.0f s into the calls; the router dropped it after %s"
              % (4, "%.2f s" % gone if gone is not None else "MORE THAN 5 s"))
        print("SIP calls (SIPp -t ui, %d clients, 16 calls/s, 5 s of RTP each): %d of %d completed, %d failed; "
              "%d whole on one node (SIP and RTP), RTP echoed: %s"
              % (CLIENTS, r.successful, r.calls, r.failed, whole, "yes" if not datapath.rtp_short([r]) else "NO"))
        for x in rtsp_results:
            print("RTSP %-6s over %-3s: %4s frames %s" % (x.tool, x.transport, x.frames, "ok" if x.ok else "FAILED"))
        role = mesh.request(1, "role")
        print("dispatcher 1: role %s, %d sessions in its table; its peer: %s"
              % (role["role"], role["sessions"], ", ".join("%d %s" % (p["id"], "ready" if p["ready"] else "silent")
                                                          for p in role["peers"])))
        ok = (r.ok and not datapath.rtp_short([r]) and whole == r.calls and all(x.ok for x in rtsp_results)
              and gone is not None)
    print("\ndemo-mesh %s in %.0f s; namespaces torn down." % ("passed" if ok else "FAILED", time.monotonic() - started))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
