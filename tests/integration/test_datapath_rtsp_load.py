# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP load through sarad: 12 concurrent ffmpeg and gst-launch clients, UDP and interleaved TCP.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_rtsp_load.py
"""
from collections import Counter

import pytest

import datapath
import peers
from conftest import require_rtsp_clients

pytestmark = datapath.SARAD_MARKS

CLIENTS = peers.RTSP_CLIENT_MIX * 3
DURATION = 3.0


@pytest.mark.parametrize("queues,fast_path", [(1, "netfilter"), (2, "netfilter"), (2, "bpf")])
def test_12_concurrent_rtsp_clients_each_on_one_node(cluster_factory, queues, fast_path):
    """With 1 and with 2 NFQUEUE queues (--queue-balance hashes addresses and protocol: a
    client's RTSP/TCP control and its RTP/UDP flows land on different queue threads), and
    with 2 queues on the BPF fast path (the clients' RTCP to the nodes through the flow map):
    12 RTSP clients started 50 ms apart, each playing 3 s (all of them at once): 3 ffmpeg
    and 3 gst-launch over UDP, 3 + 3 over interleaved TCP. Every stream decodes (frames out of
    the decoder), each session's control connection and UDP media are seen on exactly one node
    (media from that node's own port range), every UDP session has its client->VIP media
    flows there, and the sessions are spread over the three nodes.
    Run time: about 9 s per queue count (cluster and servers 2 s, clients 4-5 s, analysis
    1 s)."""
    datapath.require_peers()
    require_rtsp_clients()
    overrides = dict(datapath.LEAST_SESSIONS, queue={"count": queues})
    if fast_path == "bpf":
        overrides.update(datapath.BPF)
    cluster = cluster_factory(dispatcher="sarad", config_overrides=overrides)
    assert ("--queue-balance 0:1" in cluster.dispatcher_state()["iptables"]) == (queues == 2)
    peers.start_rtsp_servers(cluster)
    before = datapath.sarad_stats(cluster)
    with peers.capture_nodes(cluster) as caps:
        results = peers.run_rtsp_clients(cluster, CLIENTS, duration=DURATION)
    pcaps = caps.pcaps
    after = datapath.sarad_stats(cluster)
    print("RTSP clients:", ["%s/%s:%d frames rc %s" % (r.tool, r.transport, r.frames, r.returncode)
                            for r in results])
    bad = [r for r in results if not r.ok]
    assert not bad, bad

    sessions = peers.rtsp_sessions_by_node(pcaps)
    assert len(sessions) == len(CLIENTS), sessions
    per_node = Counter()
    udp_sessions = 0
    for s in sessions.values():
        assert s.on_one_node and s.complete, (s, s.messages)
        node = cluster.node(next(iter(s.nodes)))
        per_node[node.name] += 1
        lo, hi = node.rtsp_rtp_ports
        for _, client, server in s.media_flows:
            assert lo <= int(server.rsplit(":", 1)[1]) <= hi, s
        if not s.interleaved:
            udp_sessions += 1
            # the client's punch/dummy packets to the server ports reached that node only
            assert s.media and s.media_replies == {node.name}, s
    assert udp_sessions == sum(1 for _, t in CLIENTS if t == "udp")
    print("RTSP sessions per node:", dict(per_node))
    assert set(per_node) == {n.name for n in cluster.nodes}, per_node

    delta = datapath.counter_deltas(before, after)
    print("sarad counters moved:", delta)
    for bad in ("pipeline_decode_errors_total", "pipeline_refused_dropped_total",
                "rtsp_malformed_total", "stream_overflow_total", "queue_receive_errors_total"):
        assert delta.get(bad, 0) == 0, (bad, delta)
    assert delta.get("rtsp_messages_total", 0) >= 4 * len(CLIENTS), delta
    if fast_path == "bpf":
        # The UDP clients' flows to the VIP (punch packets, RTCP receiver reports) were put in
        # the map; what followed them went through it, never sarad's decoder.
        assert delta.get("fast_path_flows_put_total", 0) >= udp_sessions, delta
        assert delta.get("fast_path_flows_put_failed_total", 0) == 0, delta
        assert delta.get("bpf_bad_header_total", 0) == 0, delta
