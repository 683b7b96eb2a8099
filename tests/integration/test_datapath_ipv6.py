# SPDX-License-Identifier: GPL-2.0-or-later
"""IPv6 through sarad (issue 18): a dual-stack cluster (topology ipv6=True: VIP 198.18.100.10
and VIP6 2001:db8:100::10, both in sarad's `vip`), real SIPp peers over IPv6 with RTP, judged
from the nodes' captures as the IPv4 suites judge it: every call's signalling and media on one
node, the media on the kernel's fast path (one queue visit per media flow), and sarad's
ip6tables rules, IPv6 fwmark rules, routes and permanent neighbours gone after its stop.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_ipv6.py
"""
import ipaddress
import json
import re
import signal
import time

import pytest

import datapath
import peers
import topology
from conftest import require_tools

pytestmark = datapath.SARAD_MARKS

DUAL = {"dispatcher": "sarad", "ipv6": True, "config_overrides": datapath.LEAST_SESSIONS}
MEDIA_PACKETS = 25


def ip6(ns, *args) -> str:
    return ns.run("ip", "-6", *args, check=False).stdout


def mac_link_local(mac: str) -> str:
    """fe80:: with the modified EUI-64 interface id of `mac` (RFC 4291 appendix A)."""
    b = [int(x, 16) for x in mac.split(":")]
    iid = bytes([b[0] ^ 2, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def start_servers(cluster, ipv6_only: bool = False) -> list:
    servers = peers.start_sip_servers(cluster, ipv6=True)
    if not ipv6_only:
        servers += peers.start_sip_servers(cluster)
    return servers


def stop_servers(servers) -> None:
    for s in servers:
        s.proc.stop(signal.SIGTERM, grace=2)


def check_sightings(cluster, sightings, result, vip: str, transport: str) -> set:
    """Every call of `result` seen, complete, on one node, its media to that node's port."""
    missing = set(result.call_ids) - set(sightings)
    assert not missing, missing
    used = set()
    for call_id in result.call_ids:
        s = sightings[call_id]
        assert s.on_one_node and s.complete, s
        node = cluster.node(next(iter(s.nodes)))
        port = node.sip_udp_media_port if transport.startswith("u") else node.sip_tcp_media_port
        assert {srv for _, _, srv in s.media_flows} == {peers.capture_analysis.endpoint(vip, port)}, s
        used |= s.nodes
    return used


def test_sarad_installs_and_removes_its_ipv6_kernel_state(cluster_factory):
    """ip6tables chains with the VIP6 jumps, one IPv6 fwmark rule, table and permanent
    neighbour (the node's MAC-derived link-local next hop) per node while sarad runs; after
    SIGTERM the dispatcher's kernel state (both families) is what it was before."""
    c = cluster_factory(dispatcher="none", ipv6=True)
    before = c.dispatcher_state()
    before6 = {k: ip6(c.dispatcher, *k.split()) for k in ("rule show", "route show table all",
                                                           "neigh show nud permanent")}
    before6["ip6tables"] = c.dispatcher.run("ip6tables-save", check=False).stdout
    c.start_sarad(vip=[topology.VIP, topology.VIP6])
    saved = c.dispatcher.run("ip6tables-save", check=False).stdout
    assert "-d %s/128 -j SARA-PRE" % topology.VIP6 in saved, saved
    assert "-d %s/128 -j SARA-RAW" % topology.VIP6 in saved, saved
    assert "-A OUTPUT -j SARA-OUT" in saved, saved      # no ICMPv6 redirect leaves
    rules, neighbours = ip6(c.dispatcher, "rule", "show"), ip6(c.dispatcher, "neigh", "show", "nud", "permanent")
    for n in c.nodes:
        link_local = mac_link_local(n.mac)
        assert "%s dev eth1 lladdr %s PERMANENT" % (link_local, n.mac) in neighbours, neighbours
        m = re.search(r"fwmark %#x/0x[0-9a-f]+ lookup (\d+)" % n.id, rules)
        assert m, rules
        table = ip6(c.dispatcher, "route", "show", "table", m.group(1))
        assert "default via %s dev eth1" % link_local in table, table
    assert c.stop_sarad() == 0, c.sarad.output()
    after6 = {k: ip6(c.dispatcher, *k.split()) for k in ("rule show", "route show table all",
                                                          "neigh show nud permanent")}
    after6["ip6tables"] = c.dispatcher.run("ip6tables-save", check=False).stdout
    assert c.dispatcher_state() == before
    # Rules and chains only: a table merely loaded (empty, ACCEPT policies) is no leftover.
    strip = lambda t: "\n".join(l for l in t.splitlines() if l.startswith(("-A", ":SARA")))  # noqa: E731
    after6["ip6tables"], before6["ip6tables"] = strip(after6["ip6tables"]), strip(before6["ip6tables"])
    assert after6 == before6


def test_nodes_stay_silent_for_the_ipv6_vip(cluster_factory):
    """The nodes hold VIP6 on lo: a Neighbor Solicitation for it on the LAN gets no answer
    (Linux answers only for addresses of the interface the solicitation arrived on), while
    a node's own LAN address is resolved. The IPv6 counterpart of arp_ignore=1."""
    c = cluster_factory(dispatcher="none", ipv6=True)
    gw = c.gateway
    gw.run("ip", "-6", "route", "add", "%s/128" % topology.VIP6, "dev", "eth1")
    # A datagram to each starts the resolution (no ping on a fresh Debian); an answer
    # comes at once, so 1 s is plenty.
    send = ("import socket, sys\nfor a in sys.argv[1:]:\n"
            "    socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'x', (a, 9))\n")
    gw.run(topology.PYTHON, "-c", send, topology.VIP6, topology.node_address6(1))
    time.sleep(1)
    vip_neigh = gw.run("ip", "-6", "neigh", "show", topology.VIP6, "dev", "eth1").stdout
    assert "INCOMPLETE" in vip_neigh or "FAILED" in vip_neigh, vip_neigh   # asked, unanswered
    assert "lladdr" not in vip_neigh, vip_neigh
    node_neigh = gw.run("ip", "-6", "neigh", "show", topology.node_address6(1), "dev", "eth1").stdout
    assert "lladdr %s" % c.node(1).mac in node_neigh, node_neigh


@pytest.mark.cluster(**DUAL)
@pytest.mark.parametrize("transport,calls", [("u1", 20), ("un", 10), ("t1", 10)])
def test_ipv6_sip_calls_each_stay_on_one_node(cluster, transport, calls):
    """SIPp over IPv6 (one socket for every call, a socket per call, TCP) with RTP echoed by
    the node: every call complete on one node, its RTP to that node; the media on the fast
    path: sarad's queue sees the signalling and about one packet per media flow, not the
    calls' RTP (calls x 25 packets)."""
    require_tools("sipp", "tshark", "tcpdump")
    servers = start_servers(cluster, ipv6_only=True)
    caps = peers.capture_nodes(cluster).start()
    s0 = datapath.sarad_stats(cluster)
    r = peers.run_sip_uac(cluster, calls=calls, rate=20, transport=transport,
                          media_packets=MEDIA_PACKETS, ipv6=True)
    s1 = datapath.sarad_stats(cluster)
    pcaps = caps.stop()
    stop_servers(servers)
    print(r.summary())
    assert r.ok and r.rtp_ok, r.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r])
    used = check_sightings(cluster, peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6)), r,
                           topology.VIP6, transport)
    if transport == "t1":
        assert len(used) == 1          # one TCP connection: pinned to one node
    else:
        assert len(used) >= 2, used    # balanced per Call-ID
    d = datapath.counter_deltas(s0, s1)
    rtp_sent = sum(x["sent"] for x in r.reports)
    print("queue +%d (signalling %d, data %d) for %d RTP packets sent"
          % (d.get("queue_packets_total", 0), d.get("pipeline_signalling_verdicts_total", 0),
             d.get("pipeline_data_verdicts_total", 0), rtp_sent))
    assert d.get("pipeline_data_verdicts_total", 0) >= calls, d
    # The echo flows never pass the dispatcher; each call's RTP flow is queued once (twice
    # when the janitor's claim of its port catches it after the first packet).
    assert d.get("pipeline_data_verdicts_total", 0) <= 2 * calls, d
    assert d.get("queue_packets_total", 0) < 0.25 * rtp_sent, d


@pytest.mark.cluster(**DUAL)
def test_dual_stack_clients_at_once(cluster):
    """IPv4 and IPv6 clients call at the same time (one SIPp UAC each, -t u1, 20 calls): every
    call of both on one node, each family's media to that family's VIP."""
    require_tools("sipp", "tshark", "tcpdump")
    servers = start_servers(cluster)
    caps = peers.capture_nodes(cluster).start()
    uac4 = peers.start_sip_uac(cluster, calls=20, rate=20, transport="u1", media_packets=MEDIA_PACKETS)
    uac6 = peers.start_sip_uac(cluster, calls=20, rate=20, transport="u1", media_packets=MEDIA_PACKETS,
                               ipv6=True, port_base=42000, local_port=5072)
    r4, r6 = uac4.result(), uac6.result()
    pcaps = caps.stop()
    stop_servers(servers)
    print(r4.summary())
    print(r6.summary())
    assert r4.ok and r4.rtp_ok, r4.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r4])
    assert r6.ok and r6.rtp_ok, r6.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r6])
    sightings = peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6))
    used4 = check_sightings(cluster, sightings, r4, topology.VIP, "u1")
    used6 = check_sightings(cluster, sightings, r6, topology.VIP6, "u1")
    assert len(used4 | used6) >= 2


def test_full_cluster_refuses_ipv6_sessions_with_503_and_rst(cluster_factory):
    """SA2C over IPv6: while the nodes report full load, a new SIP call from an IPv6 client
    gets the stateless 503 with Retry-After from VIP6, a new TCP connection to VIP6 a RST;
    once the load falls, IPv6 calls are admitted again."""
    require_tools("sipp", "tshark", "tcpdump")
    import agents
    from test_admission import admission_state, report_load, tcp_connect
    c = cluster_factory(dispatcher="none", ipv6=True)
    c.key = agents.write_key(c)
    c.start_sarad(**agents.health_overrides(c, c.key),
                  admission={"interval": "100ms", "sip_retry_after": "7s", "tcp_reject": "rst"})
    peers.start_sip_servers(c, ("udp",), lifetime=120, ipv6=True)
    report_load(c, 1.0)
    assert agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5), agents.node_states(c)
    assert datapath.wait_until(lambda: admission_state(c)["admission_p_new"] == 1.0, 3), admission_state(c)
    before = datapath.sarad_stats(c)
    cap = peers.start_capture(c, c.client, "eth0", c.workdir / "client6.pcap")
    r = peers.run_sip_uac(c, calls=4, rate=10, transport="u1", media_packets=5, timeout=10, ipv6=True)
    tcp = tcp_connect(c, 554, topology.VIP6)
    cap.proc.stop()
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    print("full load over IPv6: %s; TCP connect: %s; %s" % (r.summary(), tcp, delta))
    assert r.successful == 0 and r.failed == 4, r.summary()
    out = topology.run(["tshark", "-n", "-r", str(c.workdir / "client6.pcap"), "-Y",
                        "sip.Status-Code == 503 && ipv6.src == %s" % topology.VIP6,
                        "-T", "fields", "-e", "sip.Call-ID", "-e", "sip.Retry-After"], timeout=60).stdout
    refused = [tuple(line.split("\t")) for line in out.splitlines() if line]
    assert len({call for call, _ in refused}) == 4 and all(ra == "7" for _, ra in refused), refused
    assert tcp == "refused"
    assert delta["refusals_sip_503_sent_total"] == len(refused)
    assert delta["refusals_tcp_rst_sent_total"] >= 1
    assert delta.get("refusals_send_errors_total", 0) == 0

    report_load(c, 0.1)
    assert datapath.wait_until(lambda: admission_state(c)["admission_p_new"] == 0, 5), admission_state(c)
    r = peers.run_sip_uac(c, calls=4, rate=10, transport="u1", media_packets=5, ipv6=True)
    assert r.ok, r.summary()


@pytest.mark.cluster(**DUAL)
def test_hostile_ipv6_packets_leave_calls_whole(cluster):
    """Truncated IPv6 headers, a lying payload length, a chain of 60 destination options
    headers, hop-by-hop options, a type 0 routing header, an extension header overrunning the
    packet, a fragmented 3 KB SIP request, a lone later fragment and garbage on 5060, all to
    VIP6 (peers/bad_input6.py): sarad keeps running, and IPv6 calls made afterwards are
    whole (every call on one node, RTP echoed)."""
    datapath.require_scapy()
    require_tools("sipp", "tshark", "tcpdump")
    servers = start_servers(cluster, ipv6_only=True)
    before = datapath.sarad_stats(cluster)
    out = cluster.client.run(topology.PYTHON, str(topology.ROOT / "tests/integration/peers/bad_input6.py"),
                             "--vip", topology.VIP6, "--src", topology.CLIENT_ADDR6,
                             "--dst-mac", topology.MACS["dispatcher.eth0"], timeout=60).stdout
    sent = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    print(sent)
    assert len(sent) == 9 and all(x["sent"] > 0 for x in sent), out
    assert cluster.sarad.running(), cluster.sarad.output()[-2000:]
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    print(delta)
    # The kernel drops what it cannot parse; what reaches the queue is decoded or counted.
    assert delta.get("queue_packets_total", 0) >= 1, delta
    caps = peers.capture_nodes(cluster).start()
    r = peers.run_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=MEDIA_PACKETS, ipv6=True)
    pcaps = caps.stop()
    stop_servers(servers)
    assert cluster.sarad.running(), cluster.sarad.output()[-2000:]
    assert r.ok and r.rtp_ok, r.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r])
    check_sightings(cluster, peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6)), r, topology.VIP6, "u1")


@pytest.mark.cluster(**DUAL)
def test_ipv6_rtsp_sessions_each_stay_on_one_node(cluster):
    """GStreamer's RTSP server on VIP6 of every node; ffmpeg and gst-launch over IPv6, RTP over
    UDP and interleaved in TCP: every session complete on one node, its UDP media from that
    node's RTP port range."""
    from conftest import require_rtsp_clients
    require_rtsp_clients("tshark", "tcpdump")
    servers = [peers.start_rtsp_server(cluster, n, wait=False, ipv6=True) for n in cluster.nodes]
    for s in servers:
        assert s.proc.wait_for_output("listening on", 15), s.proc.output()
    caps = peers.capture_nodes(cluster).start()
    results = peers.run_rtsp_clients(cluster, peers.RTSP_CLIENT_MIX, duration=2, url=peers.RTSP_URL6)
    pcaps = caps.stop()
    for s in servers:
        s.stop()
    assert all(x.ok for x in results), results
    sessions = peers.rtsp_sessions_by_node(pcaps, (topology.VIP, topology.VIP6))
    assert len(sessions) == 4, sessions
    for s in sessions.values():
        assert s.on_one_node and s.complete, s
        lo, hi = cluster.node(next(iter(s.nodes))).rtsp_rtp_ports
        for _, _, server in s.media_flows:
            assert server.startswith("[%s]:" % topology.VIP6), s
            assert lo <= int(server.rsplit(":", 1)[1]) <= hi, s
    assert sum(1 for s in sessions.values() if s.media_flows) >= 2       # the UDP clients' media


@pytest.mark.cluster(dispatcher="sarad", ipv6=True,
                     config_overrides=dict(datapath.LEAST_SESSIONS, forwarding={"mode": "raw"}))
def test_ipv6_calls_in_raw_mode(cluster):
    """Raw mode over IPv6: sarad writes every queued IPv6 packet to the node's MAC itself (no
    IPv6 fwmark rule, no route); 10 IPv6 calls (-t u1) with RTP complete, each on one node,
    and every RTP packet went out as a raw frame (no fast path)."""
    require_tools("sipp", "tshark", "tcpdump")
    rules6 = ip6(cluster.dispatcher, "rule", "show")
    assert "fwmark" not in rules6, rules6
    assert "-d %s/128 -j SARA-PRE" % topology.VIP6 in cluster.dispatcher.run("ip6tables-save").stdout
    servers = start_servers(cluster, ipv6_only=True)
    caps = peers.capture_nodes(cluster).start()
    s0 = datapath.sarad_stats(cluster)
    r = peers.run_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=MEDIA_PACKETS, ipv6=True)
    d = datapath.counter_deltas(s0, datapath.sarad_stats(cluster))
    pcaps = caps.stop()
    stop_servers(servers)
    print(r.summary(), {k: v for k, v in d.items() if k.startswith("raw_")})
    assert r.ok and r.rtp_ok, r.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r])
    check_sightings(cluster, peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6)), r, topology.VIP6, "u1")
    rtp_sent = sum(x["sent"] for x in r.reports)
    assert d.get("raw_frames_sent_total", 0) >= rtp_sent, d
    assert d.get("raw_send_errors_total", 0) == 0 and d.get("raw_unsendable_dropped_total", 0) == 0, d


@pytest.mark.cluster(dispatcher="sarad", ipv6=True, config_overrides=dict(datapath.LEAST_SESSIONS, **datapath.BPF))
def test_ipv6_media_through_the_bpf_program(cluster):
    """forwarding.fast_path: bpf with both VIPs: 10 IPv6 calls (-t u1) with RTP; each call's RTP
    flow goes into the program's map at its first packet's verdict and the rest is forwarded
    by the program (bpf_flow_hits), every call on one node; IPv4 calls at the same time too."""
    require_tools("sipp", "tshark", "tcpdump")
    servers = start_servers(cluster)
    caps = peers.capture_nodes(cluster).start()
    s0 = datapath.sarad_stats(cluster)
    uac6 = peers.start_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=MEDIA_PACKETS, ipv6=True,
                               port_base=42000, local_port=5072)
    uac4 = peers.start_sip_uac(cluster, calls=10, rate=20, transport="u1", media_packets=MEDIA_PACKETS)
    r6, r4 = uac6.result(), uac4.result()
    d = datapath.counter_deltas(s0, datapath.sarad_stats(cluster))
    pcaps = caps.stop()
    stop_servers(servers)
    print(r6.summary(), r4.summary(), {k: v for k, v in d.items() if k.startswith("bpf_")})
    assert r6.ok and r6.rtp_ok, r6.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r6])
    assert r4.ok and r4.rtp_ok, r4.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r4])
    sightings = peers.calls_by_node(pcaps, (topology.VIP, topology.VIP6))
    check_sightings(cluster, sightings, r6, topology.VIP6, "u1")
    check_sightings(cluster, sightings, r4, topology.VIP, "u1")
    rtp_sent = sum(x["sent"] for x in r6.reports + r4.reports)
    # All but each flow's first packet (and a few around the verdict) through the program.
    assert d.get("bpf_flow_hits_total", 0) >= 0.8 * rtp_sent, d
