# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad restarted (SIGTERM, start) in the middle of calls and streams: every call and
stream completes on its node.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_restart.py
"""
import os
import signal
import time

import pytest

import datapath
import peers
from datapath import tolerant_sip_servers  # noqa: F401 (a fixture, used by name)

pytestmark = datapath.SARAD_MARKS

UDP_CALLS, TCP_CALLS = 20, 10
PACKETS = 300                    # 6 s of RTP per call (20 ms apart)
RTSP = [("ffmpeg", "udp"), ("gst", "tcp")]


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
@pytest.mark.usefixtures("tolerant_sip_servers", "rtsp_servers")
def test_restart_keeps_in_flight_calls_on_their_nodes(cluster, node_captures):
    """20 calls on one UDP socket (-t u1, 20 calls/s) and 10 on one TCP connection (-t t1,
    10 calls/s), 6 s of RTP each, and, once every call's RTP flows, 2 RTSP streams (ffmpeg
    over UDP, gst-launch over interleaved TCP, 7 s). About 2 s after the first call (every
    call and stream under way), sarad is stopped with SIGTERM (it
    saves its session table and removes its rules) and started again (it reloads the
    table; conntrack kept the media flows' marks; TCP signalling resumes mid-stream).
    The reloaded table holds every session on the same node; every call completes (SIPp:
    INVITE..BYE, the BYE answered by the node that took the call, also on the TCP
    connection), both streams decode and tear down on their node; every call's signalling
    and RTP were seen on one node only, its RTP kept reaching that node after the restart
    without sarad deciding it again (no data verdict, no new session), and no more of its
    RTP packets were lost on the way than were sent while sarad's rules were gone (about
    restart time x 50/s). Prints the restart time, the media gap (longest silence of a
    call's RTP at its node) and the packets lost.
    Run time: about 13 s (cluster and servers 2 s, calls 9 s, analysis 2 s)."""
    datapath.require_peers("ffmpeg", "gst-launch-1.0")
    scenario = datapath.uac_scenario(cluster)
    s0 = datapath.sarad_stats(cluster)
    t_start = time.monotonic()
    uacs = [peers.start_sip_uac(cluster, calls=UDP_CALLS, rate=20, transport="u1",
                                media_packets=PACKETS, scenario=scenario),
            peers.start_sip_uac(cluster, calls=TCP_CALLS, rate=10, transport="t1",
                                media_packets=PACKETS, port_base=42000, local_port=5074,
                                extra_args=["-cp", "8890"], scenario=scenario)]
    calls = UDP_CALLS + TCP_CALLS
    # every call's RTP flow decided (one data verdict each) before the streams start
    assert datapath.wait_until(
        lambda: datapath.sarad_stats(cluster)["pipeline_data_verdicts_total"]
        - s0["pipeline_data_verdicts_total"] >= calls, timeout=5), "media flows not decided"
    streams = [peers.start_rtsp_client(cluster, tool, transport, index=k, duration=7)
               for k, (tool, transport) in enumerate(RTSP)]

    def rtsp_sessions():
        return [s for s in datapath.sarad_request(cluster, "sessions")["sessions"]
                if s["protocol"] == "rtsp" and s["key"]]
    assert datapath.wait_until(lambda: len(rtsp_sessions()) == len(RTSP), timeout=5), \
        rtsp_sessions()
    time.sleep(max(0.7, 2.0 - (time.monotonic() - t_start)))   # PLAY answered, media flowing
    sessions_before = {s["key"]: s["node"]
                       for s in datapath.sarad_request(cluster, "sessions")["sessions"]}
    first_run = cluster.sarad

    t_stop = time.time()
    rc = cluster.stop_sarad()
    t_stopped = time.time()
    assert rc == 0, first_run.output()[-2000:]
    assert "NFQUEUE" not in cluster.dispatcher_state()["iptables"]
    cluster.start_sarad(**cluster.config_overrides)
    t_ready = time.time()
    restart = t_ready - t_stop
    print("restart: stop %.3f s, start %.3f s, total %.3f s"
          % (t_stopped - t_stop, t_ready - t_stopped, restart))
    assert "reloaded %d sessions" % len(sessions_before) in cluster.sarad.output(), \
        cluster.sarad.output()[-2000:]
    sessions_after = {s["key"]: s["node"]
                      for s in datapath.sarad_request(cluster, "sessions")["sessions"]}
    assert sessions_after == sessions_before
    s_restart = datapath.sarad_stats(cluster)

    results = [datapath.uac_result(u) for u in uacs]
    stream_results = [s.result(20) for s in streams]
    pcaps = node_captures.stop()
    s_end = datapath.sarad_stats(cluster)
    summary = "; ".join(r.summary() for r in results)
    print(summary)
    print("RTSP:", ["%s/%s %d frames rc %s" % (x.tool, x.transport, x.frames, x.returncode)
                    for x in stream_results])
    for r in results:
        assert r.ok, summary + "\n" + datapath.sipp_diagnostics(cluster, results)
    assert all(x.ok for x in stream_results), stream_results
    after_restart = datapath.counter_deltas(s_restart, s_end)
    print("sarad counters after the restart:", after_restart)
    # The media flows were not decided again: conntrack's marks took them to their nodes;
    # the BYEs and TEARDOWNs ended the reloaded sessions, no session was created.
    assert after_restart.get("pipeline_data_verdicts_total", 0) == 0, after_restart
    assert after_restart.get("sessions_created_total", 0) == 0, after_restart
    # Completed: counted by the new process since its start (its counters start at 0), so a
    # BYE answered between "ready" and the s_restart snapshot counts too (a delta from that
    # snapshot missed 2 of 30 in one CI run).
    assert calls <= s_end.get("sessions_completed_total", 0) <= calls + len(RTSP), s_end
    for bad in ("sip_malformed_total", "rtsp_malformed_total", "stream_gaps_total",
                "pipeline_refused_dropped_total", "pipeline_decode_errors_total"):
        assert after_restart.get(bad, 0) == 0, (bad, after_restart)

    sightings = peers.calls_by_node(pcaps)
    datapath.check_calls(cluster, sightings, results)
    rtsp_sessions = peers.rtsp_sessions_by_node(pcaps)
    assert len(rtsp_sessions) == len(RTSP), rtsp_sessions
    for s in rtsp_sessions.values():
        assert s.on_one_node and s.complete, (s, s.messages)
        assert sessions_before[s.key] == cluster.node(next(iter(s.nodes))).id, s
        # the session's requests after the restart (PLAY/PAUSE/TEARDOWN) reached that node
        assert any(d == "->" and label == "TEARDOWN" for _, d, label, _ in s.messages) \
            or s.interleaved, s.messages

    times = {}
    for node, pcap in pcaps.items():
        for (client, server), ts in datapath.udp_packet_times(pcap).items():
            times[(node, client, server)] = ts
    gaps, lost_at_node, echo_lost = {}, {}, {}
    for r in results:
        for cid in r.call_ids:
            s = sightings[cid]
            node = next(iter(s.nodes))
            assert sessions_before[cid] == cluster.node(node).id, (cid, node, sessions_before[cid])
            (_, client, server), = s.media_flows
            ts = times[(node, client, server)]
            # RTP before the stop and after the restart, at the same node
            assert min(ts) < t_stop and max(ts) > t_ready + 0.5, (cid, min(ts), max(ts))
            gaps[cid] = datapath.max_gap(ts)
            rep = r.rtp[int(client.rsplit(":", 1)[1])]
            lost_at_node[cid] = rep["sent"] - len(ts)
            echo_lost[cid] = rep["sent"] - rep["received"]
    print("media gap at the node per call: max %.3f s, min %.3f s, mean %.3f s (restart %.3f s)"
          % (max(gaps.values()), min(gaps.values()), sum(gaps.values()) / len(gaps), restart))
    print("RTP packets that never reached the node, per call: max %d, min %d, total %d of %d; "
          "echoes missing: total %d"
          % (max(lost_at_node.values()), min(lost_at_node.values()), sum(lost_at_node.values()),
             sum(x["sent"] for r in results for x in r.rtp.values()), sum(echo_lost.values())))
    # Packets lost on the way to the node: only those sent while no rule was installed
    # (50 packets/s). Measured in packets, not as the silence at the node, which also
    # counts the sender's own scheduling stalls on a loaded host.
    for cid, lost in lost_at_node.items():
        assert 0 <= lost <= 50 * restart + 3, (cid, lost, restart)
    assert not datapath.rtp_short(results), datapath.rtp_short(results)


CRASH = dict(datapath.LEAST_SESSIONS, control={"save_interval": "1s"})


@pytest.mark.cluster(dispatcher="sarad", config_overrides=CRASH)
@pytest.mark.usefixtures("tolerant_sip_servers")
def test_a_crash_keeps_the_calls_saved_before_it_on_their_nodes(cluster, node_captures):
    """control.save_interval 1 s. 20 UDP calls with 6 s of RTP; once every call is under way
    and a save has passed, sarad is SIGKILLed (no clean stop: rules, routes and conntrack
    marks stay in the kernel, nothing is saved at exit) and started again: it reloads the
    last periodic save, every call completes with its BYE answered by the node that took it,
    and each call's signalling and RTP were seen on one node only."""
    datapath.require_peers()
    uac = peers.start_sip_uac(cluster, calls=UDP_CALLS, rate=20, transport="u1", media_packets=PACKETS,
                              scenario=datapath.uac_scenario(cluster))
    assert datapath.wait_until(lambda: datapath.sarad_stats(cluster)["sessions"] >= UDP_CALLS, timeout=5)
    time.sleep(1.5)   # one periodic save with every call in it
    sessions_before = {s["key"]: s["node"] for s in datapath.sarad_request(cluster, "sessions")["sessions"]}
    pid = datapath.sarad_pid(cluster)
    os.kill(pid, signal.SIGKILL)
    cluster.sarad.wait(5)
    t0 = time.monotonic()
    cluster.start_sarad(**cluster.config_overrides)
    print("restart after SIGKILL: %.3f s" % (time.monotonic() - t0))
    out = cluster.sarad.output()
    assert "reloaded %d sessions" % len(sessions_before) in out, out[-2000:]
    after = {s["key"]: s["node"] for s in datapath.sarad_request(cluster, "sessions")["sessions"]}
    assert after == sessions_before
    r = datapath.uac_result(uac)
    pcaps = node_captures.stop()
    assert r.ok and not datapath.rtp_short([r]), r.summary()
    sightings = peers.calls_by_node(pcaps)
    datapath.check_calls(cluster, sightings, [r])
    for cid in r.call_ids:
        assert sessions_before[cid] == cluster.node(next(iter(sightings[cid].nodes))).id, cid
