# SPDX-License-Identifier: GPL-2.0-or-later
"""Sessions stay whole under what real clients do (issue 14): a phone that reuses one RTP
port call after call, every node's media server answering the same port, a sarad restart in
between, a client behind NAT. Judged at the nodes: every call's SIP and every RTP packet of
its sender (told apart by SSRC, since the 5-tuples repeat) are on one node.

Before this issue, 12 sequential calls from one client RTP port, round-robin over 3 nodes
that all answer port 6000, split 8 of 12 (all RTP on the first call's node).

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_session_integrity.py
"""
import re
import signal
import time
from collections import defaultdict

import pytest

import capture_analysis
import datapath
import peers
import topology
from test_gateway import GATEWAYD, start_gateway, sarad_overrides
import agents

pytestmark = datapath.SARAD_MARKS

ROUND_ROBIN = {"scheduler": {"algorithm": "round-robin"}}
# The same cluster on either fast path (issue 17: the BPF flow map must follow every change of
# a flow's owner that conntrack's marks follow).
ON_BOTH_FAST_PATHS = pytest.mark.parametrize("cluster", [
    pytest.param({"dispatcher": "sarad", "config_overrides": ROUND_ROBIN}, id="netfilter"),
    pytest.param({"dispatcher": "sarad", "config_overrides": dict(ROUND_ROBIN, **datapath.BPF)}, id="bpf"),
], indirect=True)


def fast_path_overrides(cluster) -> dict:
    """The fast-path part of the config the cluster's sarad was started with."""
    return datapath.BPF if "fast_path: bpf" in (cluster.workdir / "dispatcher.yaml").read_text() else {}
SHARED_MEDIA_PORT = 6000          # every node's UAS answers this port (no ranges)
REUSED_CLIENT_PORT = 30000
VIPS = (topology.VIP, topology.VIP6)   # the captures' VIPs (a dual-stack cluster has both)
NAT_OFFERED = "198.19.0.2"        # the private address a NAT'd client offers in its SDP


def node_range(node) -> str:
    """A node's media range around its UAS's own media port (6000 + 100 id)."""
    return "%d-%d" % (node.sip_udp_media_port, node.sip_udp_media_port + 99)


def with_ranges(cluster) -> dict:
    nodes = cluster.dispatcher_config()["nodes"]
    for n in nodes:
        n["media_ports"] = node_range(cluster.node(n["id"]))
    return {"nodes": nodes}


def rtp_nodes_by_ssrc(pcaps) -> dict:
    """{SSRC: {node name: RTP packets to the VIP}} from the nodes' captures."""
    out = defaultdict(lambda: defaultdict(int))
    for node, path in pcaps.items():
        for _, _, _, dst, dport, payload in datapath.iter_udp(path):
            if dst not in VIPS or dport in (5060, 554) or len(payload) < 12 or payload[0] >> 6 != 2:
                continue
            out[int.from_bytes(payload[8:12], "big")][node] += 1
    return out


def split_calls(pcaps, results) -> list:
    """Every call whose SIP is not on exactly one node, or whose RTP (by its sender's SSRC)
    is not all on that node, or mostly missing there; [] when every call is whole. Media is
    told apart by SSRC, not by 5-tuple (the calls share theirs): the capture analysis's
    per-5-tuple media attribution would give every call every node."""
    sightings = peers.calls_by_node(pcaps, VIPS)
    rtp = rtp_nodes_by_ssrc(pcaps)
    problems = []
    for r in results:
        for rep in r.reports:
            cid = rep["call_id"]
            s = sightings.get(cid)
            sip_nodes = sorted(s.signalling) if s else []
            rtp_at = dict(rtp.get(rep["ssrc"], {}))
            if len(sip_nodes) != 1 or set(rtp_at) != set(sip_nodes) or \
                    sum(rtp_at.values()) < 0.9 * rep["sent"]:
                problems.append("%s: SIP on %s, RTP %s of %d sent" % (cid, sip_nodes, rtp_at, rep["sent"]))
    return problems


def sightings_complete(pcaps, results) -> list:
    sightings = peers.calls_by_node(pcaps, VIPS)
    return [sightings[rep["call_id"]].complete for r in results for rep in r.reports]


def call_nodes(pcaps, results) -> list:
    sightings = peers.calls_by_node(pcaps, VIPS)
    return [sorted(sightings[rep["call_id"]].signalling) for r in results for rep in r.reports
            if rep["call_id"] in sightings]


def sequential_calls(cluster, calls: int, **kw):
    """`calls` calls one after another (SIPp -l 1), all offering client RTP port 30000."""
    return peers.run_sip_uac(cluster, calls=calls, rate=10, transport="u1", limit=1, media_packets=25,
                             media_ports=[REUSED_CLIENT_PORT] * calls, rtp_linger=0.3, **kw)


def same_port_servers(cluster, ipv6: bool = False):
    return [peers.start_sip_uas(cluster, n, "udp", media_port=SHARED_MEDIA_PORT, lifetime=120, ipv6=ipv6)
            for n in cluster.nodes]


def check_whole(pcaps, results, what: str):
    problems = split_calls(pcaps, results)
    calls = sum(len(r.reports) for r in results)
    print("%s: %d calls, %d split" % (what, calls, len(problems)))
    assert all(r.ok for r in results), "\n".join(r.summary() for r in results)
    assert calls == sum(r.calls for r in results), "a call started no RTP"
    assert not problems, "\n".join(problems)
    assert all(sightings_complete(pcaps, results)), "a call's SIP was not complete at its node"
    # Round-robin spread the calls: had their media followed the first call, they would split.
    assert len({tuple(n) for n in call_nodes(pcaps, results)}) == 3


@pytest.mark.cluster(dispatcher="sarad", ipv6=True, config_overrides=ROUND_ROBIN)
def test_sequential_calls_from_one_ipv6_port_without_ranges(cluster):
    """Issue 18: the same over IPv6 (VIP6, client [2001:db8:1::2]:30000): each new call's offer
    claims the port, the conntrack index names the previous call's IPv6 entry and it is
    deleted exactly (ctnetlink over IPv6), and every call's SIP and RTP (by SSRC) are on its
    own node, judged at the nodes."""
    datapath.require_peers("conntrack")
    same_port_servers(cluster, ipv6=True)
    before = datapath.sarad_stats(cluster)
    with peers.capture_nodes(cluster) as caps:
        r = sequential_calls(cluster, 9, ipv6=True)
        pcaps = caps.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    print({k: v for k, v in delta.items() if "conntrack" in k or "taken" in k or "released" in k})
    check_whole(pcaps, [r], "IPv6, one port, no ranges")
    assert delta.get("conntrack_endpoint_dumps_total", 0) == 0, delta
    assert delta.get("conntrack_forget_flows_total", 0) >= 8, delta
    assert delta.get("conntrack_index_claimed_entries_total", 0) >= 8, delta


@ON_BOTH_FAST_PATHS
def test_sequential_calls_from_one_port_without_ranges(cluster):
    """9 calls one after another from client port 30000, round-robin over 3 nodes that all
    answer media port 6000: the newest call's offer claims the port, the stale conntrack
    entry of the previous call is deleted, and every call's RTP reaches its own node."""
    datapath.require_peers("conntrack")
    same_port_servers(cluster)
    before = datapath.sarad_stats(cluster)
    with peers.capture_nodes(cluster) as caps:
        r = sequential_calls(cluster, 9)
        pcaps = caps.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    print({k: v for k, v in delta.items() if "conntrack" in k or "taken" in k or "released" in k})
    check_whole(pcaps, [r], "one port, no ranges")
    if not fast_path_overrides(cluster):
        # The index of marked entries (seeded at start) named each previous call's entry: an
        # exact delete per call, no dump of the conntrack table (~10 ms each on a big one).
        assert delta.get("conntrack_endpoint_dumps_total", 0) == 0, delta
        assert delta.get("conntrack_forget_flows_total", 0) >= 8, delta
        # Named by the index at the claim itself (released flows' deletes count above too).
        assert delta.get("conntrack_index_claimed_entries_total", 0) >= 8, delta
    else:
        assert delta.get("conntrack_endpoint_dumps_total", 0) >= 9, delta
        # Each call's RTP flow (the same 5-tuple every time) went into the map with its own
        # call's node, and left it when the next call took the port.
        assert delta.get("fast_path_flows_put_total", 0) >= 9, delta
        assert delta.get("bpf_flow_hits_total", 0) >= 9 * 20, delta


@ON_BOTH_FAST_PATHS
def test_calls_longer_than_the_flow_timeout_keep_their_node(cluster):
    """7 calls of 6 s of RTP each with the SIP service's flow_timeout at 1 s: sarad sees each
    media flow's first packet only (the kernel forwards the rest), so it must learn from the
    fast path (conntrack's timer, the BPF map's last-seen) that the flow is alive. Before, it
    purged the flows after 2 s, then the call's session, and the BYE was scheduled anew —
    on another node with round-robin: every call's BYE split from its INVITE (7 calls: the 7
    BYEs, scheduled as new sessions after the 7 INVITEs, each meet the next node; with 6 they
    met their own node by chance)."""
    datapath.require_peers("conntrack")
    fast_path = fast_path_overrides(cluster)
    services = cluster.dispatcher_config()["services"]
    for s in services:
        s["flow_timeout"] = "1s"
    cluster.stop_sarad()
    cluster.start_sarad(**ROUND_ROBIN, services=services, **fast_path)
    peers.start_sip_servers(cluster, ("udp",))
    before = datapath.sarad_stats(cluster)
    with peers.capture_nodes(cluster) as caps:
        r = peers.run_sip_uac(cluster, calls=7, rate=10, transport="u1", media_packets=300, port_base=43000)
        pcaps = caps.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    print({k: v for k, v in delta.items() if "kept" in k or "purged" in k or "aborted" in k or "created" in k})
    check_whole(pcaps, [r], "long calls")
    assert delta.get("flows_kept_by_fast_path_total", 0) >= 7, delta
    assert delta.get("sessions_aborted_total", 0) == 0, delta


@pytest.mark.cluster(dispatcher="sarad", config_overrides=ROUND_ROBIN)
def test_sequential_calls_from_one_port_across_a_restart(cluster):
    """6 calls from one client port, a sarad restart (its state file reloaded), 6 more from
    the same port: none split — the reloaded ended sessions do not keep the port."""
    datapath.require_peers()
    same_port_servers(cluster)
    with peers.capture_nodes(cluster) as caps:
        first = sequential_calls(cluster, 6)
        assert cluster.stop_sarad() == 0
        cluster.start_sarad(**ROUND_ROBIN)
        assert "state: reloaded" in cluster.sarad.output()
        second = sequential_calls(cluster, 6)
        pcaps = caps.stop()
    check_whole(pcaps, [first, second], "one port, restart")


@ON_BOTH_FAST_PATHS
def test_media_ranges_steer_in_the_kernel(cluster):
    """Every node has a media range holding its UAS's port. 9 sequential calls from one client
    port, then 60 calls at 20/s: none split, no media packet reaches sarad's queue, and no
    conntrack entry exists for media (netfilter: raw-table mark and notrack; BPF: the
    program's range map forwards it before conntrack)."""
    datapath.require_peers("conntrack")
    fast_path = fast_path_overrides(cluster)
    cluster.stop_sarad()
    cluster.start_sarad(**ROUND_ROBIN, **with_ranges(cluster), **fast_path)
    raw = cluster.dispatcher.run("iptables", "-t", "raw", "-S", "SARA-RAW").stdout
    for n in cluster.nodes:
        assert "--dport %s -j MARK --set-xmark 0x%x/0xffff" % (node_range(n).replace("-", ":"), n.id) in raw, raw
    peers.start_sip_servers(cluster, ("udp",))
    before = datapath.sarad_stats(cluster)
    with peers.capture_nodes(cluster) as caps:
        seq = sequential_calls(cluster, 9)
        uac = peers.start_sip_uac(cluster, calls=60, rate=20, transport="u1", media_packets=50, port_base=42000)
        time.sleep(2.0)   # mid-run: every call's media flowing
        entries = cluster.dispatcher.run("conntrack", "-L", "-p", "udp", check=False).stdout
        many = datapath.uac_result(uac)
        pcaps = caps.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    media_entries = [line for line in entries.splitlines()
                     if any(int(p) // 100 * 100 in (n.sip_udp_media_port for n in cluster.nodes)
                            for p in re.findall(r"dport=(\d+)", line)[:1])]
    print("ranges: sarad %s; conntrack media entries %d" % (
        {k: v for k, v in delta.items() if "verdict" in k or "ranged" in k}, len(media_entries)))
    check_whole(pcaps, [seq], "one port, ranges")
    assert many.ok and many.rtp_ok, many.summary()
    assert not split_calls(pcaps, [many])
    assert delta.get("pipeline_data_verdicts_total", 0) == 0, delta
    assert delta.get("pipeline_ranged_media_total", 0) == 0, delta  # the kernel did it all
    assert not media_entries, "\n".join(media_entries)
    # Signalling still went through the queue: the test did look at the right sarad.
    assert delta.get("pipeline_signalling_verdicts_total", 0) >= 3 * 69, delta
    if fast_path:
        assert delta.get("bpf_range_hits_total", 0) >= 0.9 * (9 * 25 + 60 * 50), delta
        assert delta.get("fast_path_flows_put_total", 0) == 0, delta  # ranges keep no flow


def nat_scenario(cluster):
    """uac_media.xml as a client behind NAT: its SDP offers 198.19.0.2 (a private address it
    cannot be reached at) and port field0; its RTP leaves from its real address and another
    port (field1), as a NAT maps it."""
    text = (peers.PEERS_DIR / "uac_media.xml").read_text()
    sdp_c, exec_bind = "c=IN IP[media_ip_type] [media_ip]", "echo [media_ip] [field0] "
    assert sdp_c in text and exec_bind in text, "uac_media.xml changed"
    path = cluster.workdir / "uac_nat.xml"
    path.write_text(text.replace(sdp_c, "c=IN IP4 " + NAT_OFFERED)
                    .replace(exec_bind, "echo [media_ip] [field1] "))
    return path


def nat_calls(cluster, calls: int = 9):
    return peers.run_sip_uac(cluster, calls=calls, rate=5, transport="u1", media_packets=25,
                             scenario=nat_scenario(cluster), rtp_linger=0.3,
                             extra_fields=[[40000 + 1000 + 2 * k] for k in range(calls)])


@pytest.mark.cluster(dispatcher="sarad", config_overrides=ROUND_ROBIN)
def test_nat_client_with_ranges(cluster):
    """A client behind NAT (SDP offers 198.19.0.2, RTP comes from 198.18.1.2 and another
    port) with node media ranges: every call whole."""
    datapath.require_peers()
    cluster.stop_sarad()
    cluster.start_sarad(**ROUND_ROBIN, **with_ranges(cluster))
    peers.start_sip_servers(cluster, ("udp",))
    with peers.capture_nodes(cluster) as caps:
        r = nat_calls(cluster)
        pcaps = caps.stop()
    check_whole(pcaps, [r], "NAT, ranges")


@pytest.mark.skipif(not GATEWAYD.exists(), reason="%s not built" % GATEWAYD)
def test_nat_client_latches_with_the_gateway(cluster_factory):
    """No ranges, the gateway announces each answer: media from the NAT'd client's signalling
    address, from a port it never offered, to its node's media port joins its call."""
    datapath.require_peers()
    c = cluster_factory(dispatcher="none")
    key = agents.write_key(c)
    c.start_sarad(**{**sarad_overrides(c, key), **ROUND_ROBIN})
    start_gateway(c, key)
    peers.start_sip_servers(c, ("udp",))
    before = datapath.sarad_stats(c)
    with peers.capture_nodes(c) as caps:
        r = nat_calls(c)
        pcaps = caps.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    print({k: v for k, v in delta.items() if "latched" in k or "announce" in k})
    check_whole(pcaps, [r], "NAT, latching")
    assert delta.get("flows_latched_total", 0) >= 9, delta


@pytest.mark.cluster(dispatcher="sarad", config_overrides=ROUND_ROBIN)
def test_bad_media_ranges_are_config_errors_and_a_reload_keeps_the_running_ones(cluster):
    """Overlapping ranges, a range over 5060 and a reversed one: `sarad --check-config` names
    each with file:line:col, and a SIGHUP with that file keeps the running ranges."""
    cluster.stop_sarad()
    cfg = cluster.write_dispatcher_config(**ROUND_ROBIN, **with_ranges(cluster))
    cluster.start_sarad(cfg)
    good_rules = cluster.dispatcher.run("iptables", "-t", "raw", "-S", "SARA-RAW").stdout
    text = cfg.read_text()
    bad = re.sub(r"6100-6199", "6150-6250", text, count=1)       # node 1 overlaps node 2
    bad = re.sub(r"6300-6399", "5000-6399", bad, count=1)        # node 3 covers 5060
    assert bad != text
    cfg.write_text(bad)
    check = topology.run([str(cluster.sarad_path), "--check-config", str(cfg)], check=False)
    errors = re.findall(r"^.*:\d+:\d+: error: .*$", check.stdout + check.stderr, re.M)
    print("\n".join(errors))
    assert check.returncode != 0
    assert any("overlaps" in e for e in errors), errors
    assert any("covers signalling port 5060" in e for e in errors), errors
    cluster.sarad.signal_command(signal.SIGHUP)
    assert datapath.wait_until(lambda: "keeping the running config" in cluster.sarad.output(), 5)
    assert cluster.dispatcher.run("iptables", "-t", "raw", "-S", "SARA-RAW").stdout == good_rules
    reversed_range = re.sub(r"6100-6199", "6199-6100", text, count=1)
    cfg.write_text(reversed_range)
    check = topology.run([str(cluster.sarad_path), "--check-config", str(cfg)], check=False)
    assert re.search(r":\d+:\d+: error: .*6199-6100 is reversed", check.stdout + check.stderr), check.stderr


def rtsp_reconnect(cluster, client_port: int) -> dict:
    import json
    proc = cluster.spawn(cluster.client, [topology.PYTHON, str(peers.PEERS_DIR / "rtsp_reconnect.py"),
                                          "--url", "rtsp://%s:%d/test" % (topology.VIP, peers.RTSP_PORT),
                                          "--client-port", str(client_port), "--seconds", "1.5"],
                         name="rtsp-reconnect-%d" % client_port, timeout=20)
    assert proc.wait(20) == 0, proc.output()
    return json.loads(proc.output().strip().splitlines()[-1])


def connection_nodes(pcaps, ports) -> list:
    """For each client TCP port, the nodes whose captures hold its packets to VIP:554."""
    flows = {node: capture_analysis.read_flows(path) for node, path in pcaps.items()}
    return [sorted(node for node, f in flows.items()
                   if ("tcp", "%s:%d" % (topology.CLIENT_ADDR, port), "%s:554" % topology.VIP) in f)
            for port in ports]


@pytest.mark.cluster(dispatcher="sarad", config_overrides=ROUND_ROBIN)
def test_rtsp_reconnect_stays_on_its_node(cluster):
    """A real GStreamer RTSP server on every node; a client that SETUPs on one connection,
    closes it without a TEARDOWN, and sends PLAY with its Session on a new one. Round-robin
    would send the new connection to the next node; the affinity keeps it on the session's
    node (judged at the nodes' captures: both connections on one node). GStreamer's server
    answers that PLAY 404 (it drops the media of a closed connection's session; other
    servers keep it), so the PLAY status is not judged. With the affinity off
    (rtsp_affinity: 0s) the reconnects spread — the check is not vacuous."""
    datapath.require_peers("gst-launch-1.0")
    peers.start_rtsp_servers(cluster)

    def reconnects(port_base):
        with peers.capture_nodes(cluster) as caps:
            runs = [rtsp_reconnect(cluster, port_base + 10 * k) for k in range(3)]
            pcaps = caps.stop()
        for r in runs:
            assert r["steps"][:2] == [{"DESCRIBE": 200}, {"SETUP": 200}], r
        return [connection_nodes(pcaps, r["ports"]) for r in runs]

    kept = reconnects(26000)
    print("with affinity: %s" % kept)
    for first, second in kept:
        assert len(first) == 1 and first == second, kept
    assert len({first[0] for first, _ in kept}) > 1   # the first connections did spread
    assert datapath.sarad_stats(cluster)["pipeline_affinity_assigned_total"] == 3
    cluster.stop_sarad()
    cluster.start_sarad(**ROUND_ROBIN, forwarding={"rtsp_affinity": "0s"})
    spread = reconnects(26100)
    print("without affinity: %s" % spread)
    assert any(first != second for first, second in spread), spread


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
@pytest.mark.parametrize("fast_path", [{}, datapath.BPF], ids=["netfilter", "bpf"])
def test_sequential_calls_from_one_port_across_an_ha_takeover(cluster, fast_path):
    """6 calls from one client port through dispatcher 1, its sarad killed, dispatcher 2
    promoted (its replica holds the ended calls and their flows), 6 more calls from the same
    port: the replica's old sessions do not keep the port, none split. On the BPF fast path
    too: the killed master's program stays on its interface, but the client's packets now
    reach dispatcher 2, whose map starts empty and is filled by its own verdicts."""
    from sarad_pair import SaradPair
    datapath.require_peers()
    same_port_servers(cluster)
    pair = SaradPair(cluster, **ROUND_ROBIN, **fast_path).start()
    pair.set_role(1, "master")
    pair.route_client_to(1)
    with peers.capture_nodes(cluster) as caps:
        first = sequential_calls(cluster, 6)
        assert pair.wait(lambda: len(pair.sessions(2)) >= 6, timeout=3), pair.sessions(2)
        pair.procs[1].signal_command(signal.SIGKILL)
        pair.set_role(2, "master")
        pair.route_client_to(2)
        second = sequential_calls(cluster, 6)
        pcaps = caps.stop()
    check_whole(pcaps, [first, second], "one port, HA takeover")
