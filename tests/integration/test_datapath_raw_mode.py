# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad in raw-frame forwarding mode (forwarding: {mode: raw}): it sends every queued packet
itself as an Ethernet frame to the node's MAC; the kernel routes nothing.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_raw_mode.py
"""
import json
import time

import pytest

import datapath
from datapath import tolerant_sip_servers  # noqa: F401 (a fixture, used by name)
import peers
import topology

pytestmark = datapath.SARAD_MARKS

RAW = dict(datapath.LEAST_SESSIONS, forwarding={"mode": "raw"})
MEDIA_PACKETS = 25


@pytest.mark.cluster(dispatcher="sarad", config_overrides=RAW)
@pytest.mark.usefixtures("tolerant_sip_servers")
def test_raw_mode_sip_and_rtsp(cluster, rtsp_servers, node_captures):
    """Raw mode: 20 calls on one UDP socket (-t u1, 20 calls/s) and 10 on one TCP connection
    (-t t1, 10 calls/s) with RTP, at once, plus one ffmpeg RTSP client over UDP. The
    dispatcher has no fwmark rule and no node route (sarad forwards); every call completes
    with its RTP echoed, every call and the RTSP session are seen on exactly one node (at
    least 98% of each call's RTP packets captured there), and
    every VIP packet went through sarad (data verdicts cover every RTP packet: no fast path)
    and out as a raw frame (raw_frames_sent_total), none refused by the kernel.
    Run time: about 8 s (cluster and servers 2 s, calls and stream 3.5 s, analysis 2 s)."""
    datapath.require_peers("ffmpeg", "gst-launch-1.0")
    state = cluster.dispatcher_state()
    assert "fwmark" not in state["rules"], state["rules"]
    assert "NFQUEUE" in state["iptables"] and "CONNMARK" not in state["iptables"], state
    before = datapath.sarad_stats(cluster)
    rx0 = datapath.node_rx_packets(cluster)
    scenario = datapath.uac_scenario(cluster)
    uacs = [peers.start_sip_uac(cluster, calls=20, rate=20, transport="u1",
                                media_packets=MEDIA_PACKETS, scenario=scenario),
            peers.start_sip_uac(cluster, calls=10, rate=10, transport="t1",
                                media_packets=MEDIA_PACKETS, port_base=42000, local_port=5074,
                                extra_args=["-cp", "8890"], scenario=scenario)]
    rtsp = peers.start_rtsp_client(cluster, "ffmpeg", "udp", duration=2.5)
    results = [datapath.uac_result(u) for u in uacs]
    rtsp_result = rtsp.result(15)
    pcaps = node_captures.stop()
    after = datapath.sarad_stats(cluster)
    rx1 = datapath.node_rx_packets(cluster)
    summary = "; ".join(r.summary() for r in results)
    print(summary)
    print("RTSP: %s/%s %d frames rc %s" % (rtsp_result.tool, rtsp_result.transport,
                                           rtsp_result.frames, rtsp_result.returncode))
    for r in results:
        assert r.ok, summary + "\n" + datapath.sipp_diagnostics(cluster, results)
    assert not datapath.rtp_short(results), (summary, datapath.rtp_short(results))
    assert rtsp_result.ok, rtsp_result

    sightings = peers.calls_by_node(pcaps)
    per_node = datapath.check_calls(cluster, sightings, results, min_at_node=0.98)
    print("calls per node:", per_node)
    sessions = peers.rtsp_sessions_by_node(pcaps)
    assert len(sessions) == 1, sessions
    (s,) = sessions.values()
    assert s.on_one_node and s.complete and s.media, s
    lo, hi = cluster.node(next(iter(s.nodes))).rtsp_rtp_ports
    assert all(lo <= int(srv.rsplit(":", 1)[1]) <= hi for _, _, srv in s.media_flows), s

    delta = datapath.counter_deltas(before, after)
    rx = sum(rx1.values()) - sum(rx0.values())
    print("sarad counters:", delta)
    print("nodes rx +%d packets, raw frames sent %d" % (rx, delta.get("raw_frames_sent_total", 0)))
    assert delta.get("raw_send_errors_total", 0) == 0, delta
    accepted = (delta.get("pipeline_signalling_verdicts_total", 0)
                + delta.get("pipeline_data_verdicts_total", 0))
    assert delta.get("raw_frames_sent_total", 0) == accepted, delta
    # no fast path: every RTP packet of every call was decided by sarad
    rtp_sent = sum(x["sent"] for r in results for x in r.rtp.values())
    assert delta.get("pipeline_data_verdicts_total", 0) >= rtp_sent, (rtp_sent, delta)
    # what the nodes received came from sarad (plus a little ARP and the like)
    assert delta["raw_frames_sent_total"] <= rx <= delta["raw_frames_sent_total"] + 50, rx


def _scenario_with_big_invite(cluster, pad: int = 2500):
    """datapath.uac_scenario() with an X-Pad header of `pad` bytes in the INVITE only: the INVITE
    datagram (~3 kB) is larger than the 1500-byte MTU and leaves the client fragmented."""
    text = datapath.uac_scenario(cluster).read_text()
    marker = "      Subject: SARA integration test\n"
    assert text.count(marker) == 1
    text = text.replace(marker, marker + "      X-Pad: " + "p" * pad + "\n")
    path = cluster.workdir / "uac_big_invite.xml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("mode", [
    "route",
    "raw",
])
def test_sip_invite_larger_than_the_mtu(cluster_factory, mode):
    """10 calls (-t u1) whose INVITE is ~3 kB (an X-Pad header; fragmented on the wire), in
    route mode and in raw mode: every call completes with its RTP echoed, on one node. Raw
    mode has no conntrack: the kernel's IPv4 defrag (enabled by sarad's SARA-DEFRAG rule)
    reassembles the INVITE and sarad sends it to the node in fragments (raw_fragmented_total).
    Run time: about 5 s in each mode."""
    datapath.require_peers()
    cluster = cluster_factory(dispatcher="sarad",
                              config_overrides=dict(datapath.LEAST_SESSIONS,
                                                    forwarding={"mode": mode}))
    datapath.start_sip_servers(cluster, transports=("udp",))
    before = datapath.sarad_stats(cluster)
    with peers.capture_nodes(cluster) as caps:
        uac = peers.start_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=25,
                                  timeout=6, scenario=_scenario_with_big_invite(cluster))
        r = datapath.uac_result(uac)
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    print(mode, r.summary())
    print("sarad counters:", delta)
    assert r.ok and not datapath.rtp_short([r]), (r.summary(), delta)
    datapath.check_calls(cluster, peers.calls_by_node(caps.pcaps), [r])
    if mode == "raw":
        assert delta.get("raw_fragmented_total", 0) >= 10, delta  # at least one INVITE per call


def _ip_stats(ns) -> dict:
    """The namespace's Ip: line of /proc/net/snmp (ReasmOKs, ReasmFails, ...)."""
    rows = [line.split() for line in ns.run("cat", "/proc/net/snmp").stdout.splitlines()
            if line.startswith("Ip:")]
    return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}


@pytest.mark.cluster(dispatcher="sarad", config_overrides=RAW)
def test_raw_mode_reassembles_fragments_like_the_kernel(cluster):
    """Raw mode leaves IPv4 reassembly to the kernel's defrag (sarad's SARA-DEFRAG rule): five
    ~3 kB SIP datagrams in three fragments each (peers/fragment_cases.py): in order, reversed,
    with a duplicate fragment, with an overlapping fragment, and without its last fragment.
    The first three reach sarad whole (one SIP message each, sent on in fragments:
    raw_fragmented_total); the overlapping one is discarded by the kernel (ReasmFails) and
    the incomplete one waits for ipfrag_time; sarad never sees a fragment (no packet without
    ports, nothing malformed). Run time: about 3 s."""
    before = datapath.sarad_stats(cluster)
    ip0 = _ip_stats(cluster.dispatcher)
    r = cluster.client.run(topology.PYTHON, str(peers.PEERS_DIR / "fragment_cases.py"),
                           "--vip", topology.VIP, "--src", topology.CLIENT_ADDR,
                           "in-order", "reversed", "duplicate", "overlap", "missing-last")
    assert json.loads(r.stdout.strip().splitlines()[-1])["sent"] == 15, r.stdout
    assert datapath.wait_until(lambda: datapath.sarad_stats(cluster)["sip_messages_total"]
                               - before["sip_messages_total"] >= 3, timeout=3)
    time.sleep(0.3)
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    ip = {k: v - ip0[k] for k, v in _ip_stats(cluster.dispatcher).items()}
    print("sarad counters:", delta)
    print("dispatcher reassembly: ReasmReqds %d, ReasmOKs %d, ReasmFails %d"
          % (ip["ReasmReqds"], ip["ReasmOKs"], ip["ReasmFails"]))
    assert delta.get("sip_messages_total", 0) == 3, delta
    assert delta.get("raw_fragmented_total", 0) == 3, delta
    assert delta.get("sessions_created_total", 0) == 3, delta
    for bad in ("pipeline_no_ports_dropped_total", "sip_malformed_total",
                "pipeline_decode_errors_total", "raw_unsendable_dropped_total"):
        assert delta.get(bad, 0) == 0, (bad, delta)
    assert ip["ReasmOKs"] == 3 and ip["ReasmFails"] >= 1, ip
