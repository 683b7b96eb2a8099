# SPDX-License-Identifier: GPL-2.0-or-later
"""Availability monitoring with real node agents (issue 4): sarad's failure detector, drain,
application checks and the authenticated channel, in the namespace cluster with one
`sara-nodeagent` per node and SIPp calls through sarad.

Timing (agents.py): d = 100 ms, n = 3, δ = 200 ms, hysteresis 3 heartbeats.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_health.py
"""
import os
import signal
import time

import pytest

import agents
import datapath
import peers
import topology
from conftest import require_tools

pytestmark = datapath.SARAD_MARKS + [
    pytest.mark.skipif(not agents.NODEAGENT.exists(), reason="%s not built" % agents.NODEAGENT)]

DETECTION_BOUND = agents.MISS_LIMIT * agents.HEARTBEAT_S + agents.HEARTBEAT_S   # n·d + d
# The test observes sarad through its control socket every 10 ms, from a process sharing two
# cores with sarad, three agents, SIPp and tcpdump: this much is allowed on top of the bound
# for the observation itself, not for sarad.
OBSERVATION_SLACK = 0.05


@pytest.fixture
def health_cluster(cluster_factory):
    """Cluster with sarad (health: on, HMAC key), a SIPp UDP UAS and an agent on every node,
    every node up."""
    require_tools("sipp", "tshark", "tcpdump")
    c = cluster_factory(dispatcher="none")
    c.key = agents.write_key(c)
    c.start_sarad(**agents.health_overrides(c, c.key))
    assert set(agents.node_states(c).values()) == {"down"}, "nodes must wait for their agents"
    peers.start_sip_servers(c, ("udp",), lifetime=120)
    c.agents = agents.start_agents(c, c.key)
    assert agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5), agents.node_states(c)
    return c


def kill_agent(cluster, node_id) -> float:
    """SIGKILL the node's agent (no goodbye): returns time.monotonic() of the kill."""
    proc = cluster.agents[node_id]
    pid = proc.command_pid()
    assert pid, "agent of node %d not running" % node_id
    os.kill(pid, signal.SIGKILL)
    t = time.monotonic()
    proc.wait(5)
    return t


def test_agents_bring_their_nodes_up_with_a_load(health_cluster):
    """Every node goes from down (no heartbeat yet) to up once its agent's heartbeats and a
    load vector arrive; each node's load is a fraction in [0, 1]; nothing was lost or refused."""
    info = agents.nodes_info(health_cluster)
    stats = datapath.sarad_stats(health_cluster)
    for n in info.values():
        assert n["state"] == "up" and 0.0 <= n["load"] <= 1.0 and n["heartbeats_lost"] == 0, n
    assert stats["control_accepted_total"] > 0
    for reason in ("malformed", "auth", "replay", "stale", "unknown_host"):
        assert stats["control_rejected_%s_total" % reason] == 0, stats
    assert stats["node_state_changes_total"] == 3       # down -> up, once per node


def test_killed_agent_node_skipped_within_bound_and_back_after_hysteresis(health_cluster):
    """60 SIPp calls at 10/s. After 2 s node 2's agent is SIGKILLed: sarad declares node 2
    down within n·d + d, and no INVITE reaches node 2 after that; every call still succeeds
    (on the other nodes, or on node 2 for calls placed before detection: its SIPp lives on).
    After 4 s the agent starts again: node 2 is up after the hysteresis and gets calls again.
    Prints the measured detection and recovery times."""
    c = health_cluster
    with peers.capture_nodes(c) as caps:
        uac = peers.start_sip_uac(c, calls=60, rate=10, transport="u1", media_packets=10)
        time.sleep(2)
        t_kill_wall = time.time()
        t_kill = kill_agent(c, 2)
        t_down = agents.wait_state_change(c, 2, "down", timeout=3)
        assert t_down is not None, agents.nodes_info(c)
        detection = t_down - t_kill
        time.sleep(max(0.0, 4 - (time.monotonic() - uac.t0)))
        t_restart = time.monotonic()
        t_restart_wall = time.time()
        c.agents[2] = agents.start_agent(c, 2, c.key)
        t_up = agents.wait_state_change(c, 2, "up", timeout=3)
        assert t_up is not None, agents.nodes_info(c)
        t_up_wall = time.time()
        r = uac.result()
        pcaps = caps.stop()
    stats = datapath.sarad_stats(c)
    print("detection %.3f s after SIGKILL (bound n*d + d = %.3f s); up again %.3f s after "
          "the agent restarted (hysteresis %d heartbeats of %.3f s); %s"
          % (detection, DETECTION_BOUND, t_up - t_restart, agents.RECOVERY, agents.HEARTBEAT_S,
             r.summary()))
    assert detection <= DETECTION_BOUND + OBSERVATION_SLACK
    assert r.ok, r.summary()
    invites = agents.invite_times(pcaps)
    assert sum(len(v) for v in invites.values()) == 60
    deadline = t_kill_wall + DETECTION_BOUND + OBSERVATION_SLACK
    # The window ends at the earliest moment node 2 can be up again (its third heartbeat, two
    # intervals after the restart), not when this test saw it up: the test polls, and an
    # INVITE sent to node 2 just after it came back but before the poll noticed is right
    # (CI saw one 4 ms before the poll, 2.309 s after the kill).
    back = t_restart_wall + (agents.RECOVERY - 1) * agents.HEARTBEAT_S
    late = [t - t_kill_wall for t in invites["node2"].values() if deadline < t < back]
    assert late == [], "INVITEs on node 2 after it was down: %s s after the kill" % late
    assert any(t > t_up_wall for t in invites["node2"].values()), \
        "node 2 got no call after it was up again"
    assert stats["node_state_changes_total"] >= 3 + 2     # + down, + up for node 2


def test_application_down_means_flag_1_and_no_new_sessions(health_cluster):
    """Stopping the SIP server on node 3 (the agent checks udp/5060 through sock_diag) turns
    node 3 app-down; 20 calls then all succeed and none reaches node 3. Starting the server
    again brings node 3 back up (flag 0: no hysteresis, the node never went down)."""
    c = health_cluster
    uas3 = [p for p in c.procs if p.name.startswith("uas-node3-udp")]
    assert len(uas3) == 1
    uas3[0].stop(signal.SIGTERM, grace=3)
    t0 = time.monotonic()
    t_app_down = agents.wait_state_change(c, 3, "app-down", timeout=3)
    assert t_app_down is not None, agents.nodes_info(c)
    with peers.capture_nodes(c) as caps:
        r = peers.run_sip_uac(c, calls=20, rate=10, transport="u1", media_packets=10)
        pcaps = caps.stop()
    print("app-down seen %.3f s after the server stopped; %s" % (t_app_down - t0, r.summary()))
    assert r.ok, r.summary()
    invites = agents.invite_times(pcaps)
    assert invites["node3"] == {} and sum(len(v) for v in invites.values()) == 20, invites
    peers.start_sip_uas(c, 3, "udp", lifetime=60)
    assert agents.wait_state_change(c, 3, "up", timeout=3) is not None, agents.nodes_info(c)
    assert datapath.sarad_stats(c)["sessions_lost_total"] == 0


def test_drain_during_calls_keeps_in_flight_calls_and_takes_no_new_ones(health_cluster):
    """30 calls of 3 s each at 10/s. After 1.5 s `sara-nodeagent drain` on node 1: node 1 is
    draining, its calls in flight complete (every call succeeds with its RTP echoed, each on
    one node), no INVITE reaches node 1 after the drain took effect, and no session is counted
    lost. `undrain` brings it back up, and the next calls reach it again."""
    c = health_cluster
    with peers.capture_nodes(c) as caps:
        uac = peers.start_sip_uac(c, calls=30, rate=10, transport="u1", media_packets=150)
        time.sleep(1.5)
        out = agents.agent_command(c, 1, "drain")
        assert agents.wait_state_change(c, 1, "draining", timeout=2) is not None, \
            agents.nodes_info(c)
        t_draining_wall = time.time()
        r = uac.result()
        pcaps = caps.stop()
    print("drain: %s; %s" % (out.strip(), r.summary()))
    assert r.ok and r.rtp_ok, r.summary()
    invites = agents.invite_times(pcaps)
    assert len(invites["node1"]) > 0, "node 1 had no call in flight when it was drained"
    # An INVITE decided just before the drain may reach node 1 up to one conntrack-janitor
    # round later: its verdict waits for the forget of the client port its offer claimed
    # (~20 ms here; docs/architecture.md, "Ordering"). Later than that is a new session.
    assert [t for t in invites["node1"].values() if t > t_draining_wall + 0.05] == []
    sightings = peers.calls_by_node(pcaps)
    assert len(sightings) == 30 and all(s.on_one_node and s.complete for s in sightings.values())
    assert datapath.sarad_stats(c)["sessions_lost_total"] == 0

    agents.agent_command(c, 1, "undrain")
    assert agents.wait_state_change(c, 1, "up", timeout=2) is not None, agents.nodes_info(c)
    with peers.capture_nodes(c) as caps:
        r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=10)
        pcaps = caps.stop()
    assert r.ok, r.summary()
    assert len(agents.invite_times(pcaps)["node1"]) > 0


def test_spoofed_replayed_and_garbage_datagrams_are_counted_and_change_nothing(health_cluster):
    """From node 2's namespace: node 1's genuine heartbeats and load vectors replayed, one of
    them with its flag changed to 'application down', a 'down' heartbeat under another key,
    one without a MAC, one an hour old, one from an unconfigured host id, and garbage. Each is
    dropped under its own counter; no node changes state and node 1's heartbeats keep being
    accepted with no loss counted."""
    c = health_cluster
    key = agents.read_key(c.key)
    cap = peers.start_capture(c, c.dispatcher, "eth1", c.workdir / "health.pcap",
                              bpf=["udp", "dst", "port", str(agents.HEALTH_PORT), "and", "src",
                                   "host", c.node(1).address])
    time.sleep(1.0)
    cap.proc.stop(signal.SIGTERM, grace=3)
    genuine = agents.udp_payloads(c.workdir / "health.pcap", agents.HEALTH_PORT)
    heartbeats = [g for g in genuine if g[3] == agents.TYPE_HEARTBEAT]
    loads = [g for g in genuine if g[3] == agents.TYPE_LOAD]
    assert len(heartbeats) >= 5 and len(loads) >= 2, (len(heartbeats), len(loads))
    tampered = bytearray(heartbeats[-1])
    tampered[4 + 6] = agents.FLAG_APP_DOWN          # flag byte; the MAC no longer matches
    other_key = bytes(b ^ 0x5A for b in key)
    hostile = {
        "replay": heartbeats + loads,
        "auth": [bytes(tampered),
                 agents.heartbeat(1, 2**31, agents.FLAG_APP_DOWN, key=other_key),
                 agents.load_vector(1, 2**31, (1, 1, 1, 1, 1), key=other_key),
                 agents.heartbeat(1, 2**31, agents.FLAG_APP_DOWN, key=None)],   # no MAC
        "stale": [agents.heartbeat(1, 2**31, agents.FLAG_APP_DOWN,
                                   timestamp=int(time.time()) - 3600, key=key)],
        "unknown_host": [agents.heartbeat(9, 1, agents.FLAG_AVAILABLE, key=key)],
        "malformed": [b"", b"S", b"SA\x01", b"SA\x02\x01" + bytes(43), b"XX\x01\x01" + bytes(43),
                      b"SA\x01\x09" + bytes(43), heartbeats[-1][:-1], heartbeats[-1] + b"\x00",
                      os.urandom(600)],
    }
    before = datapath.sarad_stats(c)
    lost_before = {k: v["heartbeats_lost"] for k, v in agents.nodes_info(c).items()}
    for _ in range(3):
        agents.send_datagrams(c, c.node(2).ns, [d for ds in hostile.values() for d in ds])
        time.sleep(0.1)
    states = []
    for _ in range(10):                              # 1 s: ten heartbeat intervals
        states.append(agents.node_states(c))
        time.sleep(0.1)
    after = datapath.sarad_stats(c)
    delta = datapath.counter_deltas(before, after)
    print("hostile datagrams: %s" % {k: len(v) * 3 for k, v in hostile.items()})
    print("counter deltas: %s" % delta)
    for reason, datagrams in hostile.items():
        assert delta.get("control_rejected_%s_total" % reason, 0) == 3 * len(datagrams), reason
    assert all(s == {1: "up", 2: "up", 3: "up"} for s in states), states
    assert delta.get("node_state_changes_total", 0) == 0
    assert delta["control_accepted_total"] >= 3 * 2 * 10 * 0.5   # agents' messages go on
    assert {k: v["heartbeats_lost"] for k, v in agents.nodes_info(c).items()} == lost_before


def test_no_load_vector_for_3_delta_means_no_new_sessions(health_cluster):
    """Node 3's agent is replaced by peers/control_sender.py (authenticated, time-based
    sequences), which sends heartbeats for 7 s but load vectors only from 5.0 s to 6.0 s:
    node 3 is load-unknown while heartbeats come without load (20 calls then all succeed
    and none reaches node 3), up once load vectors arrive, and load-unknown again within
    3δ + d of the last one."""
    c = health_cluster
    kill_agent(c, 3)
    assert agents.wait_state_change(c, 3, "down", timeout=2) is not None
    sender = c.spawn(c.node(3).ns, [agents.topology.PYTHON,
                                    str(agents.topology.ROOT / "tests/integration/peers/control_sender.py"),
                                    "--key", str(c.key), "--host", "3", "--to", agents.health_listen(),
                                    "--duration", "7", "--interval", str(agents.HEARTBEAT_S),
                                    "--load-interval", str(agents.LOAD_S),
                                    "--load-from", "5.0", "--load-until", "6.0"],
                     name="control-sender", timeout=12)
    assert sender.wait_for_output("start ", 5), sender.output()
    t0 = float(sender.output().split()[1])          # the sender's own start (monotonic)
    assert agents.wait_state_change(c, 3, "load-unknown", timeout=1.5) is not None, \
        agents.nodes_info(c)
    with peers.capture_nodes(c) as caps:
        r = peers.run_sip_uac(c, calls=20, rate=10, transport="u1", media_packets=5)
        pcaps = caps.stop()
    assert time.monotonic() - t0 < 5.0, "calls outlasted the load-unknown phase; the test is void"
    # The state changes first: node 3 is up only from 5.0 s to about 6.4 s, and reading the
    # captures (tshark) can take longer than what is left of that (it made this test miss
    # the up phase).
    t_up = agents.wait_state_change(c, 3, "up", timeout=4)
    t_unknown = agents.wait_state_change(c, 3, "load-unknown", timeout=2.5) if t_up is not None else None
    assert r.ok, r.summary()
    invites = agents.invite_times(pcaps)
    assert invites["node3"] == {} and sum(len(v) for v in invites.values()) == 20, invites
    assert t_up is not None, agents.nodes_info(c)
    assert t_unknown is not None, agents.nodes_info(c)
    # The last vector went out at 5.8 s (every 0.2 s from 5.0 s); load-unknown after 3δ = 0.6 s,
    # seen at the next tick (d).
    after_last = t_unknown - (t0 + 5.8)
    print("load-unknown %.3f s after the last load vector (3δ + d = %.3f s)"
          % (after_last, 3 * agents.LOAD_S + agents.HEARTBEAT_S))
    assert after_last <= 3 * agents.LOAD_S + agents.HEARTBEAT_S + OBSERVATION_SLACK
    sender.wait(10)
    assert "sent" in sender.output()


def test_health_over_ipv6(cluster_factory):
    """Issue 18: sarad's health listener on its IPv6 LAN address, the agents sending to it
    over IPv6. Every node comes up; a SIGKILLed agent's node is down within n·d + d; a
    heartbeat under another key and garbage, sent over IPv6 from a node, are rejected and
    change no state."""
    require_tools("sipp")
    c = cluster_factory(dispatcher="none", ipv6=True)
    c.key = agents.write_key(c)
    c.start_sarad(**agents.health_overrides(c, c.key, ipv6=True))
    peers.start_sip_servers(c, ("udp",), lifetime=120, ipv6=True)   # the agents' application check
    c.agents = agents.start_agents(c, c.key, ipv6=True)
    assert agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5), agents.node_states(c)

    before = datapath.sarad_stats(c)
    other_key = bytes(b ^ 0x5A for b in agents.read_key(c.key))
    agents.send_datagrams(c, c.node(2).ns, [agents.heartbeat(1, 2**31, agents.FLAG_APP_DOWN, key=other_key),
                                            os.urandom(100)],
                          address=topology.DISPATCHER_LAN_ADDRS6[0])
    time.sleep(0.3)
    delta = datapath.counter_deltas(before, datapath.sarad_stats(c))
    assert delta.get("control_rejected_auth_total", 0) == 1, delta
    assert delta.get("control_rejected_malformed_total", 0) == 1, delta
    assert agents.node_states(c) == {1: "up", 2: "up", 3: "up"}

    t_kill = kill_agent(c, 2)
    t_down = agents.wait_state_change(c, 2, "down", timeout=3)
    assert t_down is not None, agents.nodes_info(c)
    print("IPv6 heartbeats: detection %.3f s after SIGKILL (bound %.3f s)" % (t_down - t_kill, DETECTION_BOUND))
    assert t_down - t_kill <= DETECTION_BOUND + OBSERVATION_SLACK
