# SPDX-License-Identifier: GPL-2.0-or-later
"""Three active dispatchers (issue 19, DESIGN §9b): sarads in a mesh (`sync.peers`), every one
carrying new sessions, the client reaching them over an ECMP route, every call whole.

The client's ECMP route hashes ports too (fib_multipath_hash_policy 1): each call's SIP
socket (SIPp `un`: one per call) and its RTP may take another dispatcher, so a call's flows
are forwarded by dispatchers that did not place it, from the replicated bindings alone — the
case a real L3-hashing router produces only when its ECMP set changes, here on every call.
The upstream router is the client namespace's own multipath route (a static stand-in for the
routes BGP would install; FRR announcing them is not built yet, see docs/architecture.md).

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_mesh.py
"""
import signal
import time

import pytest

import agents
import datapath
import peers
import topology
from sarad_mesh import SaradMesh

pytestmark = datapath.SARAD_MARKS

DISPATCHERS = [1, 2, 3]


def start_mesh(cluster, lifetime: float = 60) -> SaradMesh:
    """SIP UAS (UDP) on every node, the three sarads ready (a joiner synced from a ready peer,
    or the first alone after ready_wait), and the client's ECMP route over all of them."""
    datapath.start_sip_servers(cluster, transports=("udp",), lifetime=lifetime)
    mesh = SaradMesh(cluster, sync_overrides={"ready_wait": "1s"}).start()
    assert mesh.wait(lambda: all(mesh.ready(i) for i in DISPATCHERS), timeout=10), [
        mesh.request(i, "role") for i in DISPATCHERS]
    mesh.route_client_ecmp(DISPATCHERS)
    return mesh


def assigned(mesh: SaradMesh) -> dict:
    """{dispatcher: sessions it placed (gave a node)}."""
    return {i: mesh.stats(i).get("pipeline_sessions_assigned_total", 0)
            for i in DISPATCHERS if mesh.procs[i].running()}


def calls_batch(cluster, mesh: SaradMesh, *, calls: int, rate: float, packets: int, action=None,
                action_at: float = 0.0, label: str = "mesh", rtsp=(), **uac):
    """`calls` SIPp calls with RTP through the mesh (a socket per call; `uac`: other
    start_sip_uac arguments, e.g. datapath.many_clients'), `action()` `action_at` s in; asserts
    every call succeeded and was whole on one node (SIP and RTP, as the datapath suite judges
    it); `rtsp`: (tool, transport) of RTSP streams played meanwhile (8 s; the nodes' RTSP
    servers started), each whole and on one node. Returns SIPp's result."""
    uac = {"transport": "un", "scenario": datapath.uac_scenario(cluster), **uac}
    with peers.capture_nodes(cluster, name=label) as node_caps:
        uac = peers.start_sip_uac(cluster, calls=calls, rate=rate, media_packets=packets, **uac)
        streams = [peers.start_rtsp_client(cluster, tool, transport, index=k, duration=8)
                   for k, (tool, transport) in enumerate(rtsp)]
        if action:
            time.sleep(action_at)
            action()
        r = datapath.uac_result(uac)
        stream_results = [st.result(30) for st in streams]
        pcaps = node_caps.stop()
    print("%s: %d of %d calls succeeded, %d of %d streams" % (
        label, r.successful, calls, sum(x.ok for x in stream_results), len(rtsp)))
    assert r.ok and not datapath.rtp_short([r]), r.summary() + "\n" + datapath.sipp_diagnostics(cluster, [r])
    datapath.check_calls(cluster, peers.calls_by_node(pcaps), [r])
    assert all(x.ok for x in stream_results), stream_results
    if rtsp:
        seen = peers.rtsp_sessions_by_node(pcaps)
        assert len(seen) == len(rtsp) and all(x.on_one_node for x in seen.values()), seen
    return r


@pytest.mark.cluster(dispatcher="none", dispatchers=3)
def test_three_active_dispatchers_each_place_new_sessions_and_keep_every_call_whole(cluster):
    mesh = start_mesh(cluster)
    before = assigned(mesh)
    calls_batch(cluster, mesh, calls=60, rate=20, packets=50)
    placed = {i: n - before[i] for i, n in assigned(mesh).items()}
    total = sum(placed.values())
    print("sessions placed per dispatcher:", placed)
    assert total >= 60, placed
    assert all(n >= 0.15 * total for n in placed.values()), placed
    # Every dispatcher holds every call, on the node its placer chose.
    tables = {i: mesh.sessions(i) for i in DISPATCHERS}
    for i in (2, 3):
        differ = {k: (n, tables[i].get(k)) for k, n in tables[1].items() if tables[i].get(k) != n}
        assert not differ, (i, differ)
    role = mesh.request(1, "role")
    assert role["role"] == "active" and len(role["peers"]) == 2, role
    assert all(p["ready"] and p["acking"] for p in role["peers"]), role


@pytest.mark.cluster(dispatcher="none", dispatchers=3)
def test_a_dispatcher_killed_mid_call_loses_no_call_and_rejoins_synced(cluster):
    mesh = start_mesh(cluster, lifetime=90)

    def kill_2():
        # What its death does upstream: BFD drops the BGP session, the router withdraws the
        # next hop (here at once; the detection time is FRR's, not measured here).
        mesh.procs[2].signal_command(signal.SIGKILL)
        mesh.route_client_ecmp([1, 3])

    calls_batch(cluster, mesh, calls=60, rate=20, packets=300, action=kill_2, action_at=3.0, label="kill")
    # It returns: synced from a ready peer before it takes new sessions, then announced again.
    mesh.start_one(2)
    assert mesh.wait(lambda: mesh.ready(2), timeout=10), mesh.request(2, "role")
    assert mesh.request(2, "role")["synced"]
    mesh.route_client_ecmp(DISPATCHERS)
    calls_batch(cluster, mesh, calls=30, rate=20, packets=50, label="rejoined")


@pytest.mark.cluster(dispatcher="none", dispatchers=3)
def test_forged_and_replayed_sync_datagrams_are_refused_by_a_mesh_dispatcher(cluster):
    """Genuine datagrams of the mesh captured and replayed, and forged ones (another key, no
    MAC, an unknown sender id, garbage), sent to dispatcher 3 from a node's namespace: each is
    counted under its reason, and no forged session enters its table."""
    mesh = start_mesh(cluster)
    address, port = mesh.sync_addr(3)
    cap = peers.start_capture(cluster, cluster.dispatchers[2], "eth1", cluster.workdir / "sync.pcap",
                              bpf=["udp", "and", "dst", "port", str(port), "and", "dst", "host", address])
    calls_batch(cluster, mesh, calls=6, rate=10, packets=5, label="captured")
    genuine = agents.udp_payloads(cap.stop(), port)
    assert genuine, "no sync datagram captured"
    before_sessions, before = mesh.sessions(3), mesh.stats(3)
    update = b"S 1 0 3 0 1 forged-call\n"
    forged = {
        "replay": genuine[:5],
        "auth": [agents.sync_datagram(1001, 10**9, update, bytes(range(32))), agents.sync_datagram(1001, 10**9 + 1, update, None)],
        "unknown_host": [agents.sync_datagram(7, 10**9, update, agents.read_key(mesh.key))],
        "malformed": [b"SA", b"SA\x01\x04" + b"\x00" * 10, b"\xff" * 40],
    }
    for datagrams in forged.values():
        agents.send_datagrams(cluster, cluster.nodes[0].ns, datagrams, port=port, address=address)
    time.sleep(0.3)
    delta = datapath.counter_deltas(before, mesh.stats(3))
    print("dispatcher 3's counters after the hostile datagrams:", delta)
    for reason, datagrams in forged.items():
        assert delta.get("sync_control_rejected_%s_total" % reason, 0) >= len(datagrams), (reason, delta)
    assert "forged-call" not in mesh.sessions(3)
    assert set(before_sessions) <= set(mesh.sessions(3))


@pytest.mark.cluster(dispatcher="none", dispatchers=3)
def test_a_reused_client_port_follows_its_newest_call_when_another_dispatcher_carries_its_media(cluster):
    """Port reuse across the mesh: 9 calls one after another from SIP through dispatcher 1
    (round-robin over 3 nodes that all answer media port 6000), every call's RTP from client
    port 30000 through dispatcher 2 (the client's policy route: what an L4-hashing router does
    to one flow). The 5-tuple of the media is the same for every call, so dispatcher 2 holds a
    conntrack entry with the previous call's node; the newest call's replicated offer must
    take the port on dispatcher 2 too. Judged at the nodes, per Call-ID and SSRC."""
    from test_session_integrity import REUSED_CLIENT_PORT, check_whole, same_port_servers, sequential_calls
    datapath.require_peers("conntrack")
    same_port_servers(cluster)
    mesh = SaradMesh(cluster, sync_overrides={"ready_wait": "1s"},
                     scheduler={"algorithm": "round-robin"}).start()
    assert mesh.wait(lambda: all(mesh.ready(i) for i in DISPATCHERS), timeout=10)
    client = cluster.client
    client.run("ip", "route", "replace", "%s/32" % datapath.VIP, "via", topology.DISPATCHER_CLIENT_ADDRS[0], "dev", "eth0")
    client.run("ip", "route", "add", "%s/32" % datapath.VIP, "via", topology.DISPATCHER_CLIENT_ADDRS[1], "dev", "eth0",
               "table", "100")
    client.run("ip", "rule", "add", "sport", str(REUSED_CLIENT_PORT), "ipproto", "udp", "table", "100", "pref", "100")
    with peers.capture_nodes(cluster) as caps:
        r = sequential_calls(cluster, 9)
        pcaps = caps.stop()
    print("dispatcher 2 (media only):", {k: v for k, v in mesh.stats(2).items()
                                         if ("conntrack" in k or "taken" in k or "pipeline_data" in k) and v})
    check_whole(pcaps, [r], "mesh, media through another dispatcher, one port, no ranges")
