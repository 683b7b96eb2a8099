# SPDX-License-Identifier: GPL-2.0-or-later
"""A 10-second flood of new flows to the VIP while calls run: sarad's memory and tables stay
bounded, new sessions are refused once the table is full, established calls complete.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_flood.py
"""
import json
import time

import pytest

import datapath
import peers
import topology

pytestmark = datapath.SARAD_MARKS

MAX_SESSIONS, MAX_FLOWS = 5000, 20000
FLOOD_PPS, FLOOD_SECONDS = 20000, 10.0
CONFIG = dict(datapath.LEAST_SESSIONS,
              limits={"max_sessions": MAX_SESSIONS, "max_flows": MAX_FLOWS})
RSS_GROWTH_LIMIT_KIB = 64 * 1024          # peak VmRSS at most 64 MiB above the idle value


def _conntrack_count(cluster) -> int:
    r = cluster.dispatcher.run("cat", "/proc/sys/net/netfilter/nf_conntrack_count", check=False)
    return int(r.stdout.strip() or 0)


@pytest.mark.cluster(dispatcher="sarad", config_overrides=CONFIG)
def test_flood_of_new_flows_during_calls(cluster, node_captures):
    """limits: max_sessions 5000, max_flows 20000. 20 calls (-t u1) are set up with RTP:
    10 hang up during the flood (7 s of media), 10 after it (13 s). Then the client sends
    10 s of new UDP flows (random source ports to 16 VIP ports, 20000 packets/s, bounded
    in count and time, peers/udp_flood.py). sarad stays up and answers; its VmRSS stays
    within 64 MiB of the idle value (before/peak/after printed); sessions <= 5000 and
    flows <= 20000 at every sample; the full table refused new sessions (counters
    printed); every call completes (SIPp, RTP echoed) on one node.
    Run time: about 19 s (cluster 1 s, calls 15 s with the 10 s flood, analysis 2 s)."""
    datapath.require_peers()
    datapath.start_sip_servers(cluster, transports=("udp",))
    pid = datapath.sarad_pid(cluster)
    rss_idle = datapath.vm_rss_kib(pid)
    s0 = datapath.sarad_stats(cluster)
    scenario = datapath.uac_scenario(cluster)
    short = peers.start_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=350,
                                port_base=40000, scenario=scenario)
    long = peers.start_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=650,
                               port_base=41000, local_port=5072, extra_args=["-cp", "8889"],
                               scenario=scenario)
    s_established = datapath.wait_for_calls_established(cluster, s0, 20)

    sampler = datapath.Sampler(cluster, pid)
    sampler.start()
    flood = cluster.spawn(cluster.client, [topology.PYTHON, str(peers.PEERS_DIR / "udp_flood.py"),
                                           "--vip", topology.VIP, "--src", topology.CLIENT_ADDR,
                                           "--pps", str(FLOOD_PPS), "--seconds", str(FLOOD_SECONDS),
                                           "--max-packets", str(int(FLOOD_PPS * FLOOD_SECONDS))],
                          name="udp-flood", timeout=FLOOD_SECONDS + 10)
    flood.wait(FLOOD_SECONDS + 12)
    s_flood_end = datapath.sarad_stats(cluster)
    conntrack_flood_end = _conntrack_count(cluster)
    queue_line = datapath.queue_drops(cluster)
    results = [datapath.uac_result(short), datapath.uac_result(long)]
    time.sleep(0.5)
    sampler.stop()
    pcaps = node_captures.stop()
    s_end = datapath.sarad_stats(cluster)
    rss_end = datapath.vm_rss_kib(pid)

    report = json.loads(flood.output().strip().splitlines()[-1])
    rss = sampler.rss_kib()
    flood_delta = datapath.counter_deltas(s_established, s_flood_end)
    print("flood: %s" % report)
    print("sarad VmRSS: idle %d KiB, peak %d KiB, after %d KiB (growth %d KiB)"
          % (rss_idle, max(rss), rss_end, max(rss) - rss_idle))
    print("sessions/flows at the flood's end: %d/%d (max seen %d/%d); conntrack entries %d"
          % (s_flood_end["sessions"], s_flood_end["flows"],
             max(s["sessions"] for s in sampler.stats), max(s["flows"] for s in sampler.stats),
             conntrack_flood_end))
    print("sarad counters during the flood:", flood_delta)
    print("nfnetlink_queue (queue portid waiting mode range dropped user_dropped id 1):",
          queue_line)
    summary = "; ".join(r.summary() for r in results)
    print(summary)

    assert report["sent"] >= 0.5 * FLOOD_PPS * FLOOD_SECONDS, report
    assert cluster.sarad.running(), cluster.sarad.output()[-3000:]
    assert not sampler.errors, sampler.errors[:5]
    # memory and tables bounded
    assert max(rss) - rss_idle <= RSS_GROWTH_LIMIT_KIB, (rss_idle, max(rss))
    for s in sampler.stats + [s_flood_end, s_end]:
        assert s["sessions"] <= MAX_SESSIONS and s["flows"] <= MAX_FLOWS, s
    # the table filled up and refused the rest of the flood
    assert s_flood_end["sessions"] >= MAX_SESSIONS - 50, s_flood_end
    assert flood_delta.get("sessions_table_full_total", 0) > 0, flood_delta
    assert flood_delta.get("pipeline_refused_dropped_total", 0) > 0, flood_delta
    # refused flows got no conntrack entry (dropped in PREROUTING): bounded by the table
    assert conntrack_flood_end <= MAX_SESSIONS + 500, conntrack_flood_end
    # established calls all completed on their nodes, their media echoed (see rtp_short)
    for r in results:
        assert r.ok, summary + "\n" + datapath.sipp_diagnostics(cluster, results)
    assert not datapath.rtp_short(results), (summary, datapath.rtp_short(results))
    datapath.check_calls(cluster, peers.calls_by_node(pcaps), results)
