# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad as the dispatcher of the namespace cluster: every flow of a session reaches one node,
and sarad leaves no kernel state behind. Skipped until build/sarad runs as a daemon
(`sarad --config FILE`); SARA_SARAD=/path/to/sarad tests another build.

Run as root: /usr/bin/python3 -m pytest -q tests/integration -m sarad
"""

import pytest

import datapath
import peers
import topology
from conftest import require_rtsp_clients, require_tools


pytestmark = datapath.SARAD_MARKS
LEAST_SESSIONS = {"scheduler": {"algorithm": "least-sessions"}}


def test_sarad_installs_and_removes_its_kernel_state(cluster_factory):
    c = cluster_factory(dispatcher="none")
    before = c.dispatcher_state()
    c.start_sarad()
    during = c.dispatcher_state()
    assert "NFQUEUE" in during["iptables"]
    for n in c.nodes:
        assert "%s dev eth1 lladdr %s PERMANENT" % (n.address, n.mac) in during["neighbours"]
        assert "fwmark" in during["rules"]
    assert c.stop_sarad() == 0, c.sarad.output()
    assert c.dispatcher_state() == before


@pytest.mark.cluster(dispatcher="sarad", config_overrides=LEAST_SESSIONS)
@pytest.mark.parametrize("transport,calls", [("u1", 20), ("un", 10), ("t1", 10)])
def test_sip_calls_each_stay_on_one_node(cluster, sip_servers, node_captures, transport, calls):
    require_tools("sipp", "tshark")
    r = peers.run_sip_uac(cluster, calls=calls, rate=20, transport=transport, media_packets=25)
    pcaps = node_captures.stop()
    assert r.ok and r.rtp_ok, r.summary()
    sightings = peers.calls_by_node(pcaps)
    assert sorted(sightings) == sorted(r.call_ids)
    for s in sightings.values():
        assert s.on_one_node and s.complete, s
        node = cluster.node(next(iter(s.nodes)))
        # its media went to the node that answered it (that node's own media port)
        assert {srv for _, _, srv in s.media_flows} == {"%s:%d" % (topology.VIP, (
            node.sip_udp_media_port if transport.startswith("u") else node.sip_tcp_media_port))}
    used = {n for s in sightings.values() for n in s.nodes}
    if transport == "t1":
        assert len(used) == 1          # one TCP connection: pinned to one node
    else:
        assert len(used) >= 2, used    # calls on one UDP socket are balanced per Call-ID


@pytest.mark.cluster(dispatcher="sarad", config_overrides=LEAST_SESSIONS)
def test_rtsp_sessions_each_stay_on_one_node(cluster, rtsp_servers, node_captures):
    require_rtsp_clients("tshark")
    results = peers.run_rtsp_clients(cluster, peers.RTSP_CLIENT_MIX, duration=2)
    pcaps = node_captures.stop()
    assert all(x.ok for x in results), results
    sessions = peers.rtsp_sessions_by_node(pcaps)
    assert len(sessions) == 4
    for s in sessions.values():
        assert s.on_one_node and s.complete, s
        lo, hi = cluster.node(next(iter(s.nodes))).rtsp_rtp_ports
        for _, _, server in s.media_flows:
            assert lo <= int(server.rsplit(":", 1)[1]) <= hi, s
