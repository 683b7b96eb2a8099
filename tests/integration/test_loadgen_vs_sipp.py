# SPDX-License-Identifier: GPL-2.0-or-later
"""sip-loadgen (tests/loadgen) checked against SIPp through sarad: at a rate SIPp reaches, both
place the same zero-length calls (INVITE with SDP, 100/200, ACK, BYE, 200) through sarad to
the three nodes, one generator after the other, and report the same success counts; every
sip-loadgen call is seen whole at one node (the nodes' captures, as the datapath suite judges
calls). SIPp runs exactly as make bench-sip runs it (tests/bench/sip/sipp_run.py, uac.xml,
uas.xml), since that is the figure sip-loadgen replaces. The same over IPv6 in a dual-stack
cluster (VIP6 from CLIENT_ADDR6), as IP_VERSION=6 make bench-sip runs it.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_loadgen_vs_sipp.py
"""
import sys
import time

import pytest

import datapath
import peers
import loadgen
import topology
from capture_analysis import endpoint

sys.path.insert(0, str(topology.ROOT / "tests" / "bench" / "sip"))
import sipp_run  # noqa: E402

pytestmark = datapath.SARAD_MARKS

RATE = 200       # calls/s: a fraction of what SIPp reaches through sarad on this machine
CALLS = 300      # per generator and socket mode: 1.5 s each
DRAIN = 8.0      # s the calls get after the last was placed (a loaded host stalls for seconds)
# Admission control off: it reads the host's CPU (head load), which a shared test machine
# drives up at random, and a 503 it sends would count against whichever generator ran then.
NO_ADMISSION = {"admission": {"enabled": False}}


def sipp_calls(cluster, vip: str, transport: str, run_dir) -> sipp_run.UacResult:
    servers = [sipp_run.start_uas(cluster, n, vip, run_dir, 60) for n in cluster.nodes]
    try:
        sipp_run.wait_uas(cluster, servers, lambda n: vip)
        return sipp_run.run_uac(cluster, vip, run_dir, calls=CALLS, rate=RATE,
                                transport=transport, drain=DRAIN)
    finally:
        for s in servers:
            s.stop()


def loadgen_calls(cluster, vip: str, transport: str, run_dir):
    servers = [loadgen.start_uas(cluster, n, vip, name="%s-lg-uas-%s" % (run_dir.name, n.name),
                                 lifetime=60, cwd=run_dir) for n in cluster.nodes]
    try:
        loadgen.wait_uas(servers)
        uac = loadgen.run_uac(cluster, vip, calls=CALLS, rate=RATE, transport=transport,
                              max_seconds=CALLS / RATE + DRAIN, name="%s-lg-uac" % run_dir.name,
                              cwd=run_dir)
    finally:
        uas = [s.stop() for s in servers]
    return uac, uas


@pytest.mark.cluster(dispatcher="sarad", config_overrides=NO_ADMISSION)
def test_loadgen_and_sipp_agree_and_calls_stay_whole(cluster):
    """For -t u1 (one socket) and -t un (a socket per call): SIPp, then sip-loadgen, CALLS
    calls each at RATE calls/s through sarad. Both report every call successful; the nodes'
    stateless UASes saw every sip-loadgen call, on all three nodes; each of its calls is
    complete (INVITE, 200, BYE, 200) and on exactly one node in the nodes' captures (taken
    during the sip-loadgen runs only: the analysis is most of the test's time). Run time:
    about 30 s (cluster 4 s, calls 4 x 1.5 s, the peers' start and stop, capture analysis)."""
    agree_and_stay_whole(cluster, topology.VIP)


@pytest.mark.cluster(dispatcher="sarad", ipv6=True, config_overrides=NO_ADMISSION)
def test_loadgen_and_sipp_agree_over_ipv6(cluster):
    """The same over IPv6 (a dual-stack cluster; both generators call VIP6 from CLIENT_ADDR6,
    the UASes listen on VIP6): every call of both successful, and every sip-loadgen call
    whole on one node in the captures of VIP6's traffic. Run time: as the IPv4 test's."""
    agree_and_stay_whole(cluster, topology.VIP6)


def agree_and_stay_whole(cluster, vip: str) -> None:
    """SIPp and then sip-loadgen, CALLS calls each to `vip` per socket mode: both report
    every call successful, and sip-loadgen's calls are each complete on one node."""
    datapath.require_peers()
    t0 = time.monotonic()
    sipp = {}
    for transport in ("u1", "un"):
        run_dir = cluster.workdir / ("sipp-" + transport)
        run_dir.mkdir()
        sipp[transport] = sipp_calls(cluster, vip, transport, run_dir)
    runs = []
    with peers.capture_nodes(cluster) as caps:
        for transport in ("u1", "un"):
            run_dir = cluster.workdir / ("loadgen-" + transport)
            run_dir.mkdir()
            lg, uas = loadgen_calls(cluster, vip, transport, run_dir)
            runs.append((transport, lg, uas))
        pcaps = caps.stop()
    t1 = time.monotonic()
    for transport, lg, uas in runs:
        sp = sipp[transport]
        print("%s to %s, %d calls at %d/s: SIPp %d successful (%s retransmissions); sip-loadgen %d "
              "successful (%s); UAS calls %s"
              % (transport, vip, CALLS, RATE, sp.successful, sp.retransmissions, lg.successful,
                 {k: lg.summary.get(k) for k in ("target", "failed", "timed_out", "retransmissions", "placed_rate")},
                 [u.get("calls") for u in uas]))
        assert sp.successful == CALLS, sp
        assert lg.returncode == 0 and lg.successful == sp.successful, (lg.summary, lg.output[-1500:])
        assert lg.summary.get("target") == endpoint(vip, loadgen.SIP_PORT), lg.summary
        assert sum(u.get("calls", 0) for u in uas) == CALLS, uas
        assert all(u.get("calls", 0) > 0 for u in uas), uas
        assert all(u.get("malformed") == 0 for u in uas), uas
    sightings = peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6) if cluster.ipv6 else topology.VIP)
    print("calls %.1f s, capture analysis %.1f s" % (t1 - t0, time.monotonic() - t1))
    for _, lg, _ in runs:
        check_whole(lg, sightings)


def check_whole(lg, sightings: dict) -> None:
    """Every call of the sip-loadgen run `lg` complete and on one node in the captures."""
    ids = lg.call_ids()
    assert len(ids) == CALLS
    missing = [c for c in ids if c not in sightings]
    assert not missing, "sip-loadgen calls not seen on any node: %s" % missing[:5]
    split = [(c, sightings[c]) for c in ids if not sightings[c].on_one_node]
    assert not split, "calls on several nodes: %s" % split[:3]
    broken = [(c, sightings[c].messages) for c in ids if not sightings[c].complete]
    assert not broken, "incomplete calls: %s" % broken[:3]
