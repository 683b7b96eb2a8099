# SPDX-License-Identifier: GPL-2.0-or-later
"""SIP load through sarad: 200 SIPp calls with per-call RTP, three transports at once.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_sip_load.py
"""
import time

import pytest

import datapath
from datapath import tolerant_sip_servers  # noqa: F401 (a fixture, used by name)
import peers

pytestmark = datapath.SARAD_MARKS

# (transport, calls, calls/s, client RTP port base, SIP port, SIPp control port):
# 100 + 60 + 40 = 200 calls, all three UACs at once for 8.3 s (24 calls/s together), each
# call with 25 RTP packets (0.5 s). Concurrent SIPp processes need their own -p and -cp.
# (40 calls/s overloads 2 vCPUs: every call starts a Python RTP sender, answers come later
# than SIP's T1 and SIPp's UAS aborts calls on the retransmitted INVITEs.)
MIX = [("u1", 100, 12, 40000, 5070, 8888), ("un", 60, 7.2, 41000, 5072, 8889),
       ("t1", 40, 4.8, 42000, 5074, 8890)]
MEDIA_PACKETS = 25
assert sum(rate for _, _, rate, *_ in MIX) >= 20 and sum(n for _, n, *_ in MIX) >= 200


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
@pytest.mark.usefixtures("tolerant_sip_servers")
def test_200_mixed_calls_each_on_one_node(cluster, node_captures):
    """100 calls on one UDP socket (u1), 60 with one socket each (un) and 40 on one TCP
    connection (t1), started together at 12 + 7.2 + 4.8 = 24 calls/s (8.3 s), each with its
    own RTP flow (25 packets) echoed by the node: every call succeeds (SIPp), its RTP comes
    back, its signalling and RTP are seen on exactly one node (at that node's media port),
    the UDP calls are spread per Call-ID and the TCP connection's calls stay together, and
    the calls reach all three nodes. sarad counted no malformed or refused packet, one
    completed session per call, and one data verdict per RTP flow (the rest offloaded).
    Prints the call creation rate SIPp achieved and the calls per node.
    Run time: about 13 s on a quiet host (cluster 1 s, calls 10 s, capture analysis 2 s)."""
    datapath.require_peers()
    before = datapath.sarad_stats(cluster)
    scenario = datapath.uac_scenario(cluster)
    t0 = time.monotonic()
    uacs = [peers.start_sip_uac(cluster, calls=n, rate=rate, transport=t, port_base=base,
                                local_port=port, media_packets=MEDIA_PACKETS,
                                timeout=n / rate + 20, extra_args=["-cp", str(cp)],
                                scenario=scenario)
            for t, n, rate, base, port, cp in MIX]
    results = [datapath.uac_result(u) for u in uacs]
    elapsed = time.monotonic() - t0
    pcaps = node_captures.stop()
    after = datapath.sarad_stats(cluster)
    summary = "; ".join(r.summary() for r in results)
    print("SIP load: %d calls in %.1f s: %s" % (sum(r.calls for r in results), elapsed, summary))
    created = [datapath.calls_created_within(r) for r in results]
    if all(created):
        # Offered: 24 calls/s. SIPp falls behind only when the host starves it.
        print("calls created within %s s (SIPp, 1 s resolution): %.1f calls/s together"
              % (created, sum(r.calls for r in results) / max(max(created), 1)))
    sightings = peers.calls_by_node(pcaps)
    for r in results:
        # On failure: SIPp's view, and the failed calls as the nodes saw them on the wire.
        assert r.ok, "%s\n%s\nincomplete on the wire: %s" % (
            summary, datapath.sipp_diagnostics(cluster, results),
            [(s, s.messages) for s in sightings.values() if not (s.on_one_node and s.complete)])
    assert not datapath.rtp_short(results), (summary, datapath.rtp_short(results))

    per_node = datapath.check_calls(cluster, sightings, results)
    assert len(sightings) == 200, sorted(set(sightings) - {c for r in results for c in r.call_ids})
    print("calls per node:", per_node)
    assert set(per_node) == {n.name for n in cluster.nodes}, per_node
    # u1 and un calls are balanced per Call-ID; the t1 connection is pinned to one node.
    t1_nodes = {next(iter(sightings[c].nodes)) for c in results[2].call_ids}
    assert len(t1_nodes) == 1, t1_nodes

    delta = datapath.counter_deltas(before, after)
    print("sarad counters moved:", delta)
    for bad in ("pipeline_decode_errors_total", "pipeline_malformed_dropped_total",
                "pipeline_refused_dropped_total", "sip_malformed_total",
                "queue_receive_errors_total", "pipeline_no_node_total"):
        assert delta.get(bad, 0) == 0, (bad, delta)
    # A session per call (t1's TCP connection session takes the first Call-ID), and each
    # ended by its BYE.
    assert delta.get("sessions_completed_total", 0) >= 200, delta
    # Signalling was inspected; each RTP flow's first packet decided, the rest offloaded.
    assert delta.get("pipeline_signalling_verdicts_total", 0) >= 3 * 200, delta
    assert 200 <= delta.get("pipeline_data_verdicts_total", 0) < 2 * 200, delta
