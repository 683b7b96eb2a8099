# SPDX-License-Identifier: GPL-2.0-or-later
"""HA state sync between two sarads (issue 7, DESIGN §9), without keepalived: roles are set
with the control socket as keepalived's notify hook would, and the client's next hop for the
VIP is moved by hand (what VRRP does to the floating address; test_ha_failover.py does it
with the real keepalived).

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_ha_sync.py
"""
import signal
import time

import pytest

import agents
import datapath
import peers
from sarad_pair import SaradPair
from state_files import write_state_file
from test_metrics import parse, scrape
from test_saractl import saractl

pytestmark = datapath.SARAD_MARKS


def replica_matches(pair: SaradPair) -> bool:
    master, backup = pair.sessions(1), pair.sessions(2)
    return bool(master) and master == backup


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_the_backup_replica_carries_calls_in_flight_over_a_takeover(cluster, sip_servers):
    """40 calls with 5 s of RTP each through dispatcher 1 (master). The backup's table holds
    every call on the same node within a sync interval or two. Dispatcher 1's sarad is then
    SIGKILLed, dispatcher 2 promoted and the client's next hop moved: every call completes
    with its RTP echoed, and each call's signalling and media were seen on one node only."""
    pair = SaradPair(cluster).start()
    pair.set_role(1, "master")
    assert pair.request(2, "role")["role"] == "backup"
    pair.route_client_to(1)
    with peers.capture_nodes(cluster) as caps:
        uac = peers.start_sip_uac(cluster, calls=40, rate=20, transport="u1", media_packets=250)
        time.sleep(2.5)   # every call placed and answered, RTP flowing
        assert pair.wait(lambda: replica_matches(pair), timeout=2), (pair.sessions(1), pair.sessions(2))
        replicated = pair.sessions(2)
        print("replica: %d sessions, same nodes as the master's" % len(replicated))
        assert len(replicated) == 40, replicated
        status, body = scrape(cluster, ns=cluster.dispatchers[1])
        metrics = parse(body)
        assert status == 200 and metrics[("sara_ha_role", '{role="backup"}')] == 1, metrics
        assert metrics[("sara_ha_synced", "")] == 1 and metrics[("sara_sync_updates_applied_total", "")] > 0

        pair.procs[1].signal_command(signal.SIGKILL)
        t_kill = time.monotonic()
        pair.set_role(2, "master")
        pair.route_client_to(2)
        print("takeover by hand: %.3f s from SIGKILL to the new route" % (time.monotonic() - t_kill))
        r = uac.result()
        pcaps = caps.stop()
    assert r.ok and r.rtp_ok, r.summary()
    sightings = peers.calls_by_node(pcaps)
    split = {k: s.nodes for k, s in sightings.items() if not s.on_one_node}
    assert not split, split
    assert {k: next(iter(s.nodes)) for k, s in sightings.items()} == \
        {k: cluster.nodes[n - 1].name for k, n in replicated.items()}
    stats = pair.stats(2)
    assert stats["pipeline_standby_dropped_total"] == 0, stats
    assert stats["sync_snapshots_applied_total"] >= 1 and stats["sync_updates_applied_total"] > 0, stats


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_forged_and_replayed_sync_messages_are_dropped_and_counted(cluster, sip_servers):
    """Captured genuine sync datagrams replayed, and forged ones (another key, no MAC, an
    unknown sender id, garbage) sent to the backup from a node's namespace: each is counted
    under its reason and the replica does not change."""
    pair = SaradPair(cluster, sync_overrides={"snapshot_interval": "60s"}).start()
    pair.set_role(1, "master")
    pair.route_client_to(1)
    address, port = pair.sync_addr(2)
    # to the backup only: its own acks to the master leave the same interface
    cap = peers.start_capture(cluster, cluster.dispatchers[1], "eth1", cluster.workdir / "sync.pcap",
                              bpf=["udp", "and", "dst", "port", str(port), "and", "dst", "host", address])
    r = peers.run_sip_uac(cluster, calls=3, rate=10, transport="u1", media_packets=5)
    assert r.ok, r.summary()
    time.sleep(0.3)
    genuine = agents.udp_payloads(cap.stop(), 7401)
    assert genuine, "no sync datagram captured"
    before_sessions = pair.sessions(2)
    before = pair.stats(2)

    other_key = bytes(range(32))
    update = b"S 1 0 3 0 1 forged-call\n"
    forged = {
        "replay": genuine[:5],
        "auth": [agents.sync_datagram(1001, 10**9, update, other_key), agents.sync_datagram(1001, 10**9 + 1, update, None)],
        "unknown_host": [agents.sync_datagram(7, 10**9, update, agents.read_key(pair.key))],
        "malformed": [b"SA", b"SA\x01\x04" + b"\x00" * 10, b"\xff" * 40],
    }
    for datagrams in forged.values():
        agents.send_datagrams(cluster, cluster.nodes[0].ns, datagrams, port=port, address=address)
    time.sleep(0.3)
    after = pair.stats(2)
    delta = datapath.counter_deltas(before, after)
    print("backup counters after the hostile datagrams:", delta)
    for reason, datagrams in forged.items():
        assert delta.get("sync_control_rejected_%s_total" % reason, 0) >= len(datagrams), (reason, delta)
    assert "forged-call" not in pair.sessions(2)
    assert set(before_sessions) <= set(pair.sessions(2))


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_a_returning_dispatcher_is_not_ready_until_it_holds_the_replica(cluster, sip_servers):
    """While dispatcher 1 is master with calls in its table, dispatcher 2 (re)starts: it is
    not ready to take over (`saractl role --ready` fails) until the master's snapshot
    arrived, then it is. Alone (no master streaming) it becomes ready after ready_wait."""
    pair = SaradPair(cluster, sync_overrides={"ready_wait": "2s", "snapshot_interval": "1s"})
    pair.start_one(1)
    # Dispatcher 1 alone: nothing streams to it, so it is ready only after ready_wait.
    t0 = time.monotonic()
    assert pair.request(1, "role ready")["ready"] is False
    assert pair.wait(lambda: pair.request(1, "role ready")["ready"], timeout=4)
    print("alone: ready after %.2f s (ready_wait 2 s)" % (time.monotonic() - t0))
    pair.set_role(1, "master")
    pair.route_client_to(1)
    r = peers.run_sip_uac(cluster, calls=5, rate=10, transport="u1", media_packets=5)
    assert r.ok, r.summary()

    pair.start_one(2)
    t0 = time.monotonic()
    first = pair.request(2, "role ready")
    ready = pair.wait(lambda: pair.request(2, "role ready")["ready"], timeout=3)
    took = time.monotonic() - t0
    print("returning: first answer %s, ready after %.2f s" % (first, took))
    assert ready and took < 2.0, (first, took)   # the snapshot, not the 2 s of ready_wait
    assert pair.request(2, "role ready")["synced"] is True
    assert set(pair.sessions(1)) <= set(pair.sessions(2))

    # saractl's exit code is what keepalived's track script sees.
    saractl("--socket", str(pair.socket(2)), "role", "--ready")   # asserts exit 0
    pair.procs[1].signal_command(signal.SIGKILL)


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_a_takeover_in_the_middle_of_a_large_snapshot_keeps_every_call(cluster, sip_servers):
    """Dispatcher 1 starts with 60,000 sessions from its state file and streams them in paced
    slices (30,000 records/s: 6 s a snapshot). Once the backup applied the first snapshot, 40
    calls with RTP go through dispatcher 1; dispatcher 1 is SIGKILLed while its second
    snapshot is on the wire, so dispatcher 2 holds a half-loaded one. Dispatcher 2 takes over:
    the half-loaded snapshot is dropped (counted), its replica keeps the first snapshot's
    sessions and every call (sent as updates meanwhile), and every call completes, its
    signalling and media on one node."""
    loaded = 60000
    write_state_file(cluster.workdir / "sessions1.snapshot", loaded, len(cluster.nodes), tag="loaded")
    pair = SaradPair(cluster, sync_overrides={"snapshot_rate": 30000, "snapshot_interval": "300ms"})
    pair.start()
    assert pair.stats(1)["sessions"] == loaded
    pair.set_role(1, "master")
    pair.route_client_to(1)
    assert pair.wait(lambda: pair.stats(2)["sync_snapshots_applied_total"] >= 1, timeout=30), pair.stats(2)
    first = pair.stats(1)
    assert pair.stats(2)["sessions"] >= loaded
    with peers.capture_nodes(cluster) as caps:
        uac = peers.start_sip_uac(cluster, calls=40, rate=20, transport="u1", media_packets=250)
        time.sleep(2.5)   # every call placed and answered, RTP flowing; snapshot 2 under way

        def mid_stream():
            s = pair.stats(1)
            return (s["sync_snapshots_sent_total"] == first["sync_snapshots_sent_total"]
                    and s["sync_snapshot_chunks_sent_total"] >= first["sync_snapshot_chunks_sent_total"] + 20)
        assert mid_stream(), (first, pair.stats(1))
        pair.procs[1].signal_command(signal.SIGKILL)
        pair.set_role(2, "master")
        pair.route_client_to(2)
        backup = pair.stats(2)
        print("takeover mid-snapshot: replica %d sessions, %d snapshots dropped half-loaded"
              % (backup["sessions"], backup["sync_snapshots_incomplete_total"]))
        r = uac.result()
        pcaps = caps.stop()
    assert backup["sync_snapshots_incomplete_total"] >= 1, backup
    assert backup["sync_snapshots_applied_total"] == 1, backup
    assert backup["sessions"] >= loaded + 40, backup
    assert r.ok and r.rtp_ok, r.summary()
    sightings = peers.calls_by_node(pcaps)
    assert len(sightings) == 40
    split = {k: s.nodes for k, s in sightings.items() if not s.on_one_node}
    assert not split, split
    assert pair.stats(2)["pipeline_standby_dropped_total"] == 0
