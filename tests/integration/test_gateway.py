# SPDX-License-Identifier: GPL-2.0-or-later
"""sara-gatewayd in the namespace cluster (issue 6): the gateway namespace is the nodes' real
default gateway; sara-gatewayd captures their replies on its LAN interface and announces the
completed media flows to sarad over the authenticated channel.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_gateway.py
"""
import hashlib
import hmac
import json
import os
import signal
import struct
import tempfile
import time

import pytest

import agents
import capture_analysis
import datapath
import peers
import topology
from conftest import require_tools

GATEWAYD = topology.ROOT / os.environ.get("SARA_BUILD", "build") / "sara-gatewayd"
ANNOUNCE_PORT = 7402
GATEWAY_ID = 251

pytestmark = datapath.SARAD_MARKS + [
    pytest.mark.skipif(not GATEWAYD.exists(), reason="%s not built" % GATEWAYD)]


def per_call_port_scenario(cluster, node) -> "topology.Path":
    """uas_echo.xml answering each call with its own media port: 3, the node id, SIPp's call
    number, 0 (node 2, call 7: 3270) — the callee's port differs per node and per call, and no
    client can guess it from its own side."""
    node = cluster.node(node)
    text = (peers.PEERS_DIR / "uas_echo.xml").read_text()
    assert "m=audio [media_port]" in text
    path = cluster.workdir / ("uas-per-call-%s.xml" % node.name)
    path.write_text(text.replace("m=audio [media_port]", "m=audio 3%d[call_number]0" % node.id))
    return path


def gateway_socket(cluster) -> "topology.Path":
    """The gateway's control socket: in the cluster's folder (never the real /run/sara), or
    under /tmp where that path would not fit sun_path."""
    p = cluster.workdir / "gateway.sock"
    if len(str(p)) > 100:
        p = topology.Path(tempfile.gettempdir()) / ("%sgateway.sock" % cluster.prefix)
    return p


def announce_listen(ipv6: bool = False) -> str:
    """sarad's announce endpoint on dispatcher 1's LAN address (its IPv6 one with ipv6)."""
    if ipv6:
        return "[%s]:%d" % (topology.DISPATCHER_LAN_ADDRS6[0], ANNOUNCE_PORT)
    return "%s:%d" % (topology.DISPATCHER_LAN_ADDRS[0], ANNOUNCE_PORT)


def start_gateway(cluster, key, *, lifetime=120, ipv6=False):
    """sara-gatewayd on the gateway's LAN side; ipv6: both VIPs, announcing to sarad over IPv6."""
    cfg = cluster.workdir / "gateway.yaml"
    vip = "[%s, '%s']" % (topology.VIP, topology.VIP6) if ipv6 else topology.VIP
    cfg.write_text("# written by tests/integration/test_gateway.py\n"
                   "gateway_id: %d\nvip: %s\ninterface: eth1\n"
                   "dispatchers: [\"%s\"]\n"
                   "auth: {key_file: %s}\n"
                   "control: {socket: %s}\n"
                   % (GATEWAY_ID, vip, announce_listen(ipv6), key, gateway_socket(cluster)))
    proc = cluster.spawn(cluster.gateway, [str(GATEWAYD), "--config", str(cfg)], name="gatewayd",
                         timeout=lifetime)
    if not proc.wait_for_output(r"\bready\b", 5):
        raise RuntimeError("sara-gatewayd did not start:\n%s" % proc.output())
    return proc


def sarad_overrides(cluster, key, ipv6=False) -> dict:
    return {"auth": {"key_file": str(key)},
            "announce": {"listen": announce_listen(ipv6), "senders": [GATEWAY_ID]},
            **datapath.LEAST_SESSIONS}


@pytest.fixture
def gateway_cluster(cluster_factory):
    require_tools("sipp", "tshark", "tcpdump")
    c = cluster_factory(dispatcher="none")
    c.key = agents.write_key(c)
    c.config_overrides = sarad_overrides(c, c.key)
    c.start_sarad(**c.config_overrides)
    for n in c.nodes:
        peers.start_sip_uas(c, n, "udp", lifetime=120, scenario=per_call_port_scenario(c, n))
    return c


def check_calls_on_their_nodes(c, r, pcaps, vip: str) -> None:
    """Every call of `r` complete on one node, its media to that node's per-call ports on `vip`
    (per_call_port_scenario: 3, the node id, ...)."""
    sightings = peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6))
    for cid in r.call_ids:
        s = sightings[cid]
        assert s.on_one_node and s.complete and s.media_flows, s
        node = c.node(next(iter(s.nodes)))
        prefix = capture_analysis.endpoint(vip, "3%d" % node.id)
        assert all(srv.startswith(prefix) for _, _, srv in s.media_flows), s


def announce_times(pcap) -> dict:
    """{key: first time} of the announcements (UDP to the announce port) in a capture: the
    key sits at a fixed offset of the body (common/wire/announce_message.hpp)."""
    out = {}
    for t, payload in agents.udp_payloads_with_times(pcap, ANNOUNCE_PORT):
        if len(payload) > 25 and payload[:2] == b"SA" and payload[3] == 3:
            n = payload[24]
            key = payload[25:25 + n].decode(errors="replace")
            out.setdefault(key, t)
    return out


def reply_times(pcap) -> dict:
    """{Call-ID: time} of the first SIP 200 answering an INVITE sent from the VIP."""
    r = topology.run(["tshark", "-n", "-r", str(pcap), "-Y",
                      'ip.src == %s && sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' % topology.VIP,
                      "-T", "fields", "-e", "frame.time_epoch", "-e", "sip.Call-ID"], timeout=60)
    out = {}
    for line in r.stdout.splitlines():
        t, _, cid = line.partition("\t")
        if cid:
            out.setdefault(cid, float(t))
    return out


def test_announced_flows_land_on_their_node_and_latency(gateway_cluster):
    """20 calls whose callee media port differs per node and per call; the gateway announces
    every answer: each call's signalling and RTP are on one node, sarad applied an
    announcement per call, none was refused. Prints the reply -> announcement latency seen on
    the gateway's LAN interface."""
    c = gateway_cluster
    gw = start_gateway(c, c.key)
    cap = peers.start_capture(c, c.gateway, "eth1", c.workdir / "gateway.pcap",
                              bpf=["udp", "port", "5060", "or", "udp", "dst", "port", str(ANNOUNCE_PORT)])
    before = datapath.sarad_stats(c)
    with peers.capture_nodes(c) as caps:
        r = peers.run_sip_uac(c, calls=20, rate=10, transport="u1", media_packets=15)
        pcaps = caps.stop()
    time.sleep(0.3)
    cap.proc.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    print("gateway: %s; sarad: %s" % (r.summary(), {k: v for k, v in delta.items()
                                                     if "announce" in k or "control" in k}))
    assert r.successful == 20, r.summary()      # (no RTP echo on the per-call ports: not checked)
    check_calls_on_their_nodes(c, r, pcaps, topology.VIP)
    assert delta.get("announcements_applied_total", 0) >= 20, delta
    assert delta.get("announcements_unknown_session_total", 0) == 0, delta
    for reason in ("malformed", "auth", "replay", "stale", "unknown_host"):
        assert delta.get("announce_control_rejected_%s_total" % reason, 0) == 0, delta
    replies, announced = reply_times(c.workdir / "gateway.pcap"), announce_times(c.workdir / "gateway.pcap")
    lat = sorted(announced[k] - t for k, t in replies.items() if k in announced)
    assert len(lat) == 20, (len(lat), len(replies), len(announced))
    print("reply -> announcement at the gateway: median %.2f ms, max %.2f ms (%d calls)"
          % (lat[len(lat) // 2] * 1000, lat[-1] * 1000, len(lat)))
    check_gateway_status(c, calls=20)
    assert gw.running(), gw.output()


def check_gateway_status(c, calls):
    """`sara-gatewayd status` against the running gateway: its capture is up and its counters
    saw the calls' answers; a second gateway on the same control socket refuses to start and
    leaves the first one answering."""
    r = c.gateway.run(str(GATEWAYD), "status", "--socket", str(gateway_socket(c)), timeout=10)
    status = json.loads(r.stdout)
    print("gateway status: %s" % status)
    assert status["ok"] is True and status["gateway_id"] == GATEWAY_ID, status
    assert status["capture"]["up"] is True, status
    counters = status["counters"]
    assert counters["announcements_sent_total"] >= calls, counters
    assert counters["packets_decoded_total"] >= calls and counters["send_errors_total"] == 0, counters
    second = c.gateway.run(str(GATEWAYD), "--config", str(c.workdir / "gateway.yaml"), check=False, timeout=10)
    assert second.returncode == 1, second
    assert "another sara-gatewayd listens on it" in second.stderr + second.stdout, second
    assert c.gateway.run(str(GATEWAYD), "status", "--socket", str(gateway_socket(c)), timeout=10).returncode == 0


def test_gateway_survives_a_sarad_restart_and_fallback_without_it(gateway_cluster):
    """sarad restarts under a running gateway: the next calls' announcements are applied (the
    gateway's sends failed only while sarad was away). Then the gateway stops: calls still
    land on one node each, because the client side of the SDP suffices for symmetric RTP."""
    c = gateway_cluster
    gw = start_gateway(c, c.key)
    assert c.stop_sarad() == 0
    time.sleep(0.5)
    c.start_sarad(**c.config_overrides)
    r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=10)
    assert r.successful == 6, r.summary()
    assert datapath.sarad_stats(c).get("announcements_applied_total", 0) >= 6
    assert gw.running(), gw.output()

    gw.stop(signal.SIGTERM, grace=3)
    before = datapath.sarad_stats(c)
    with peers.capture_nodes(c) as caps:
        r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=10, port_base=41000)
        pcaps = caps.stop()
    assert r.successful == 6, r.summary()
    sightings = peers.calls_by_node(pcaps)
    assert all(sightings[cid].on_one_node and sightings[cid].media_flows for cid in r.call_ids), sightings
    assert datapath.counter_deltas(before, datapath.sarad_stats(c)).get("announcements_applied_total", 0) == 0


def test_forged_announcements_are_dropped_and_counted(gateway_cluster):
    """Announcements from the node namespace under another key, from an id sarad does not
    accept, replayed genuine ones, and garbage: counted by reason, none applied."""
    c = gateway_cluster
    gw = start_gateway(c, c.key)
    cap = peers.start_capture(c, c.dispatcher, "eth1", c.workdir / "announce.pcap",
                              bpf=["udp", "dst", "port", str(ANNOUNCE_PORT)])
    r = peers.run_sip_uac(c, calls=3, rate=10, transport="u1", media_packets=5)
    assert r.successful == 3, r.summary()
    time.sleep(0.3)
    cap.proc.stop()
    genuine = [p for _, p in agents.udp_payloads_with_times(c.workdir / "announce.pcap", ANNOUNCE_PORT)]
    assert len(genuine) >= 3
    key = agents.read_key(c.key)
    other = bytes(b ^ 0x33 for b in key)

    def resign(datagram, host=None, k=key):
        body = bytearray(datagram[:-32])
        if host is not None:
            body[4:6] = struct.pack("!H", host)
        return bytes(body) + hmac.new(k, bytes(body), hashlib.sha256).digest()

    hostile = {
        "auth": [resign(genuine[0], k=other), genuine[0][:-1] + bytes([genuine[0][-1] ^ 1])],
        "unknown_host": [resign(genuine[0], host=252)],
        "replay": genuine[:3],
        "malformed": [b"SA\x01\x03", b"XX\x01\x03" + bytes(60), b"SA\x02\x03" + bytes(60),
                      b"\x00" + os.urandom(299)],
    }
    before = datapath.sarad_stats(c)
    send = [d for ds in hostile.values() for d in ds]
    agents.send_datagrams(c, c.node(2).ns, send, port=ANNOUNCE_PORT)
    time.sleep(0.3)
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    print("forged announcements: %s" % delta)
    for reason, ds in hostile.items():
        assert delta.get("announce_control_rejected_%s_total" % reason, 0) == len(ds), (reason, delta)
    assert delta.get("announcements_applied_total", 0) == 0
    assert gw.running()


def test_rtsp_server_ports_are_announced(gateway_cluster):
    """Two ffmpeg clients over UDP: the node's SETUP replies (server_port) are announced and
    applied; each session's control connection and RTP/RTCP flows (RTCP to server_port + 1)
    are on one node, within that node's own port range."""
    require_tools("ffmpeg", "gst-launch-1.0")
    c = gateway_cluster
    start_gateway(c, c.key)
    servers = peers.start_rtsp_servers(c)
    before = datapath.sarad_stats(c)
    with peers.capture_nodes(c) as caps:
        results = peers.run_rtsp_clients(c, [("ffmpeg", "udp"), ("ffmpeg", "udp")], duration=2)
        pcaps = caps.stop()
    for s in servers:
        s.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    assert all(x.ok for x in results), results
    assert delta.get("announcements_applied_total", 0) >= 2, delta
    sessions = peers.rtsp_sessions_by_node(pcaps)
    assert len(sessions) == 2
    for s in sessions.values():
        assert s.on_one_node and s.complete, s
        lo, hi = c.node(next(iter(s.nodes))).rtsp_rtp_ports
        servers_seen = {int(server.rsplit(":", 1)[1]) for _, _, server in s.media_flows}
        assert servers_seen and all(lo <= p <= hi for p in servers_seen), s
        assert any(p % 2 == 1 for p in servers_seen), "no RTCP to server_port + 1: %r" % s


def test_preinstalled_flows_skip_the_queue(gateway_cluster):
    """forwarding.preinstall: each announced (completed) media flow becomes a conntrack entry
    with its node's mark before its first packet, so no media packet reaches the queue; the
    media still lands on the call's node. Prints the media packets that reached the queue with
    and without it (20 calls each)."""
    c = gateway_cluster
    start_gateway(c, c.key)
    queued = {}
    for preinstall in (False, True):
        c.stop_sarad()
        c.start_sarad(**c.config_overrides, forwarding={"mode": "route", "preinstall": preinstall})
        before = datapath.sarad_stats(c)
        with peers.capture_nodes(c) as caps:
            r = peers.run_sip_uac(c, calls=20, rate=10, transport="u1", media_packets=15,
                                  port_base=40000 + (2000 if preinstall else 0))
            pcaps = caps.stop()
        delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
        assert r.successful == 20, r.summary()
        sightings = peers.calls_by_node(pcaps)
        for cid in r.call_ids:
            s = sightings[cid]
            assert s.on_one_node and s.media_flows, s
        queued[preinstall] = delta.get("pipeline_data_verdicts_total", 0)
        if preinstall:
            assert delta.get("preinstall_created_total", 0) >= 20, delta
            assert delta.get("preinstall_failed_total", 0) == 0, delta
    print("media packets that reached the queue, 20 calls: %d without pre-installation, %d with"
          % (queued[False], queued[True]))
    assert queued[False] >= 20
    # The announcement races the call's first RTP packet (the node's 200 OK reaches the client
    # and the gateway's capture at once; the client answers with ACK and RTP): the entry is
    # almost always first. A local CI run (2026-12-07) saw 1 of 20 flows queued once; more than
    # 2 would mean pre-installation is not doing its job.
    assert queued[True] <= 2


def test_ipv6_answers_are_announced_over_ipv6(cluster_factory):
    """Issue 18: a dual-stack gateway (both VIPs in its capture filter) announcing to sarad
    over IPv6; 10 IPv6 calls whose callee media port differs per node and per call: sarad
    applies an announcement per call and each call's signalling and RTP are on one node, the
    RTP to that node's per-call port on VIP6."""
    require_tools("sipp", "tshark", "tcpdump")
    c = cluster_factory(dispatcher="none", ipv6=True)
    c.key = agents.write_key(c)
    c.start_sarad(**sarad_overrides(c, c.key, ipv6=True))
    for n in c.nodes:
        peers.start_sip_uas(c, n, "udp", lifetime=120, scenario=per_call_port_scenario(c, n), ipv6=True)
    gw = start_gateway(c, c.key, ipv6=True)
    before = datapath.sarad_stats(c)
    with peers.capture_nodes(c) as caps:
        r = peers.run_sip_uac(c, calls=10, rate=10, transport="u1", media_packets=15, ipv6=True)
        pcaps = caps.stop()
    time.sleep(0.3)
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    print("gateway over IPv6: %s; sarad: %s" % (r.summary(), {k: v for k, v in delta.items() if "announce" in k}))
    assert r.successful == 10, r.summary()
    check_calls_on_their_nodes(c, r, pcaps, topology.VIP6)
    assert delta.get("announcements_applied_total", 0) >= 10, delta
    assert delta.get("announcements_unknown_session_total", 0) == 0, delta
    assert gw.running(), gw.output()
