# SPDX-License-Identifier: GPL-2.0-or-later
"""Media offload: once a media flow is decided, its packets never reach sarad's queue.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_offload.py
"""
import time

import pytest

import datapath
from datapath import tolerant_sip_servers  # noqa: F401 (a fixture, used by name)
import peers

pytestmark = datapath.SARAD_MARKS

CALLS = 20
PACKETS = 200                    # RTP packets per call, 20 ms apart: 4 s of media
STEADY = 2.0                     # seconds of the steady phase measured


@pytest.mark.parametrize("cluster", [
    pytest.param({"dispatcher": "sarad", "config_overrides": datapath.LEAST_SESSIONS}, id="netfilter"),
    pytest.param({"dispatcher": "sarad", "config_overrides": dict(datapath.LEAST_SESSIONS, **datapath.BPF)},
                 id="bpf"),
], indirect=True)
@pytest.mark.usefixtures("tolerant_sip_servers")
def test_media_packets_bypass_the_queue(cluster):
    """On the netfilter fast path (conntrack marks) and on the BPF one (the flow map):
    20 calls (-t u1, 20 calls/s) with 200 RTP packets each (4 s, echoed by the nodes).
    Steady phase (every call's RTP flow decided, no call setting up or ending): sarad's
    queue_packets_total stays put while the nodes' rx_packets grow by ~20 x 50 pps x 2 s.
    Whole run: the queue grows by the calls' signalling (INVITE, ACK, BYE) plus one packet
    per media flow (its first: sarad decides it, conntrack carries the mark from then on),
    the nodes by everything (>= 20 x 200 RTP packets).
    Run time: about 8 s (cluster 1 s, calls 5.5 s)."""
    datapath.require_peers()
    s0, rx0 = datapath.sarad_stats(cluster), datapath.node_rx_packets(cluster)
    uac = peers.start_sip_uac(cluster, calls=CALLS, rate=20, transport="u1",
                              media_packets=PACKETS, scenario=datapath.uac_scenario(cluster))
    # Every call set up and its RTP flow decided: a node each, and a data verdict each. The
    # verdicts alone do not tell: a flow the janitor's endpoint forget (for the SDP's
    # endpoint, asynchronous) catches after its first packet is decided twice, so on a fast
    # host the first calls' second verdicts reached CALLS while the last calls were still
    # setting up inside the steady window.
    def every_call_decided():
        s = datapath.sarad_stats(cluster)
        return (s["pipeline_sessions_assigned_total"] - s0["pipeline_sessions_assigned_total"] >= CALLS
                and s["pipeline_data_verdicts_total"] - s0["pipeline_data_verdicts_total"] >= CALLS)
    decided = datapath.wait_until(every_call_decided, timeout=4)
    t1 = time.monotonic()
    s1, rx1 = datapath.sarad_stats(cluster), datapath.node_rx_packets(cluster)
    time.sleep(STEADY)
    s2, rx2 = datapath.sarad_stats(cluster), datapath.node_rx_packets(cluster)
    t2 = time.monotonic()
    r = datapath.uac_result(uac)
    s3, rx3 = datapath.sarad_stats(cluster), datapath.node_rx_packets(cluster)
    print(r.summary())
    assert decided, datapath.counter_deltas(s0, datapath.sarad_stats(cluster))
    assert r.ok, r.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r])
    assert not datapath.rtp_short([r]), r.summary()

    steady_queue = s2["queue_packets_total"] - s1["queue_packets_total"]
    steady_rx = {n: rx2[n] - rx1[n] for n in rx2}
    whole = datapath.counter_deltas(s0, s3)
    whole_rx = {n: rx3[n] - rx0[n] for n in rx3}
    print("steady %.2f s: queue +%d, nodes rx %s (sum +%d)"
          % (t2 - t1, steady_queue, steady_rx, sum(steady_rx.values())))
    print("whole run: queue +%d (signalling %d, data %d), nodes rx %s (sum +%d)"
          % (whole.get("queue_packets_total", 0),
             whole.get("pipeline_signalling_verdicts_total", 0),
             whole.get("pipeline_data_verdicts_total", 0), whole_rx, sum(whole_rx.values())))

    # Steady phase: the media went to the nodes without sarad (a retransmission at most).
    assert steady_queue <= 2, datapath.counter_deltas(s1, s2)
    assert sum(steady_rx.values()) >= 0.8 * CALLS * 50 * STEADY, steady_rx
    # Whole run: signalling + about one packet per media flow through the queue.
    signalling = whole.get("pipeline_signalling_verdicts_total", 0)
    data = whole.get("pipeline_data_verdicts_total", 0)
    assert whole.get("queue_packets_total", 0) == signalling + data, whole
    assert signalling >= 3 * CALLS, whole
    assert signalling <= 5 * CALLS, whole          # INVITE, ACK, BYE (+ a few retransmits)
    assert CALLS <= data <= CALLS + 4, whole       # the first packet of each RTP flow
    # Every call's RTP port is its own: the janitor's forget of a claimed port (run after the
    # call's first RTP packets may have been forwarded) must keep the entry marked for the
    # claiming call's node. It deleted 7 of 20 on a fast host, and those flows were queued and
    # decided again.
    assert whole.get("conntrack_endpoint_entries_deleted_total", 0) == 0, whole
    assert sum(whole_rx.values()) >= CALLS * PACKETS + signalling, whole_rx
    assert whole.get("queue_packets_total", 0) * 20 < sum(whole_rx.values())
    if "bpf_flow_hits_total" in s3:
        # BPF: every RTP flow went into the map at its first packet's verdict, and the map,
        # not conntrack, carried the rest of its packets.
        print("bpf: %d flows put, %d hits, %d passed up" % (
            whole.get("fast_path_flows_put_total", 0), whole.get("bpf_flow_hits_total", 0),
            whole.get("bpf_passed_total", 0)))
        assert whole.get("fast_path_flows_put_total", 0) == data, whole
        assert whole.get("fast_path_flows_put_failed_total", 0) == 0, whole
        assert whole.get("bpf_flow_hits_total", 0) >= CALLS * (PACKETS - 2), whole
        assert whole.get("bpf_bad_header_total", 0) == 0, whole
