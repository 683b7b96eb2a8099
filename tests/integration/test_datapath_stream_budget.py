# SPDX-License-Identifier: GPL-2.0-or-later
"""The stream-buffer attack of issue 16 (item 3): 10,000 spoofed TCP connections to the
VIP's SIP port, each with part of an INVITE that never ends, while 20 real calls run.
sarad's stream buffers stay within limits.stream_buffer_bytes (the oldest partial streams
are evicted and counted), its VmRSS within that budget plus a stated constant, and every
call completes.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_datapath_stream_budget.py
"""
import json

import pytest

import datapath
import peers
import topology

pytestmark = datapath.SARAD_MARKS

BUDGET = 8 << 20                        # limits.stream_buffer_bytes for this test
CONNECTIONS, SEGMENTS, SEGMENT_SIZE = 10000, 4, 1400
# What 10,000 connections cost besides their buffers (sessions, flows, stream entries,
# allocator slack), measured: see docs/architecture.md, "Bounded stream memory".
CONSTANT_KIB = 24 * 1024
CONFIG = dict(datapath.LEAST_SESSIONS, limits={"stream_buffer_bytes": BUDGET})


@pytest.mark.cluster(dispatcher="sarad", config_overrides=CONFIG)
def test_partial_messages_on_spoofed_connections_stay_within_the_budget(cluster, node_captures):
    """limits.stream_buffer_bytes 8 MiB. 20 calls (-t u1) with RTP (10 s of media) run while
    the client sends 10,000 spoofed connections (SYN, then 4 segments of 1400 bytes of an
    INVITE whose header block never ends: 56 MB of partial messages, peers/tcp_partial_flood.py,
    10,000 packets/s, bounded in count and time). sarad stays up; its peak VmRSS stays within
    8 MiB + 24 MiB of the idle value; streams were evicted (stream_evictions_total) and
    none overflowed; every call completes (SIPp, RTP echoed) on one node.
    Run time: about 20 s."""
    datapath.require_peers()
    datapath.start_sip_servers(cluster, transports=("udp",))
    pid = datapath.sarad_pid(cluster)
    rss_idle = datapath.vm_rss_kib(pid)
    s0 = datapath.sarad_stats(cluster)
    uac = peers.start_sip_uac(cluster, calls=20, rate=20, transport="u1", media_packets=500,
                              scenario=datapath.uac_scenario(cluster))
    s_established = datapath.wait_for_calls_established(cluster, s0, 20)

    sampler = datapath.Sampler(cluster, pid)
    sampler.start()
    flood = cluster.spawn(cluster.client,
                          [topology.PYTHON, str(peers.PEERS_DIR / "tcp_partial_flood.py"),
                           "--vip", topology.VIP, "--src-net", "198.19.0.0/16",
                           "--connections", str(CONNECTIONS), "--segments", str(SEGMENTS),
                           "--segment-size", str(SEGMENT_SIZE), "--pps", "10000",
                           "--seconds", "20"],
                          name="tcp-partial-flood", timeout=30)
    flood.wait(32)
    # The flood's packets (and the calls' RTP) reach sarad a little after they were sent.
    datapath.wait_until(lambda: datapath.sarad_stats(cluster)["queue_packets_total"]
                        - s_established["queue_packets_total"] >= CONNECTIONS * (1 + SEGMENTS),
                        timeout=5)
    s_flood_end = datapath.sarad_stats(cluster)
    queue_line = datapath.queue_drops(cluster)
    result = datapath.uac_result(uac)
    sampler.stop()
    pcaps = node_captures.stop()
    rss_end = datapath.vm_rss_kib(pid)

    report = json.loads(flood.output().strip().splitlines()[-1])
    rss = sampler.rss_kib()
    delta = datapath.counter_deltas(s_established, s_flood_end)
    print("flood: %s" % report)
    print("sarad VmRSS: idle %d KiB, peak %d KiB, after %d KiB (growth %d KiB; budget %d KiB + %d KiB)"
          % (rss_idle, max(rss), rss_end, max(rss) - rss_idle, BUDGET >> 10, CONSTANT_KIB))
    print("sarad counters during the flood:", delta)
    print("nfnetlink_queue (queue portid waiting mode range dropped user_dropped id 1):",
          queue_line)
    print(result.summary())

    assert report["sent"] == CONNECTIONS * (1 + SEGMENTS) and not report["errors"], report
    # On a busy host the kernel's queue may drop a few (counted in nfnetlink_queue above).
    assert delta["queue_packets_total"] >= 0.9 * report["sent"], (delta, queue_line)
    assert cluster.sarad.running(), cluster.sarad.output()[-3000:]
    assert not sampler.errors, sampler.errors[:5]
    # The attack offered far more than the budget; the oldest partial streams made room.
    assert CONNECTIONS * SEGMENTS * SEGMENT_SIZE > 4 * BUDGET
    assert delta.get("stream_evictions_total", 0) >= CONNECTIONS // 2, delta
    assert delta.get("stream_overflow_total", 0) == 0, delta
    assert 0 < s_flood_end["stream_buffer_bytes"] <= BUDGET, s_flood_end["stream_buffer_bytes"]
    assert delta.get("sip_malformed_total", 0) == 0, delta
    assert max(rss) - rss_idle <= (BUDGET >> 10) + CONSTANT_KIB, (rss_idle, max(rss))
    # The real calls went on.
    assert result.ok, result.summary() + "\n" + datapath.sipp_diagnostics(cluster, [result])
    assert not datapath.rtp_short([result]), (result.summary(), datapath.rtp_short([result]))
    datapath.check_calls(cluster, peers.calls_by_node(pcaps), [result])
