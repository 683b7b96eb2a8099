# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad's kernel state after a clean stop (SIGTERM) and after a crash (SIGKILL, then start):
no iptables rule or chain, ip rule, route or permanent neighbour of its own is left behind.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_cleanup.py
"""

import pytest

import datapath
import peers

pytestmark = datapath.SARAD_MARKS




@pytest.mark.parametrize("mode", ["route", "raw"])
def test_sigterm_and_sigkill_leave_nothing_behind(cluster_factory, mode):
    """In forwarding mode route and raw, with calls through sarad each time:
    1. start, calls, SIGTERM: the dispatcher's iptables rules and chains, ip rules, routes
       (every table) and permanent neighbours are exactly those before the start; the
       control socket is gone; the session table was saved to control.state_file.
    2. start (reloads and removes the snapshot), calls, SIGKILL: sarad's rules, routes and
       neighbours are left as they were while it ran (the control socket file too).
    3. start again: the kernel state is exactly that of a first start (the crash's leftovers
       replaced, nothing doubled), the stale socket file replaced (sarad answers), the
       snapshot loaded in step 2 not loaded again (no sessions); calls work.
    4. SIGTERM: the state is exactly that before step 1.
    Run time: about 6 s per mode."""
    datapath.require_peers()
    # save_interval 0: only a clean stop saves the table (the crash recovery with periodic
    # saves is test_datapath_restart's).
    overrides = dict(datapath.LEAST_SESSIONS, forwarding={"mode": mode}, control={"save_interval": "0s"})
    cluster = cluster_factory(dispatcher="none")
    datapath.start_sip_servers(cluster, transports=("udp",))
    sock = datapath.sarad_socket(cluster)
    snapshot = cluster.workdir / "sessions.snapshot"
    before = cluster.dispatcher_state()

    # 1. clean stop after calls
    cluster.start_sarad(**overrides)
    running = cluster.dispatcher_state()
    assert running != before
    assert "NFQUEUE" in running["iptables"]
    datapath.calls_with_media(cluster)
    assert datapath.sarad_stats(cluster)["sessions"] >= 5
    assert cluster.stop_sarad() == 0, cluster.sarad.output()[-2000:]
    assert cluster.dispatcher_state() == before
    assert not sock.exists()
    assert snapshot.exists()

    # 2. crash after calls
    cluster.start_sarad(**overrides)
    assert "reloaded 5 sessions" in cluster.sarad.output(), cluster.sarad.output()[-2000:]
    assert not snapshot.exists()
    assert cluster.dispatcher_state() == running
    datapath.calls_with_media(cluster)
    datapath.kill_sarad(cluster)
    leftover = cluster.dispatcher_state()
    assert leftover == running, "SIGKILL: expected sarad's state to stay in the kernel"
    assert sock.exists() and not snapshot.exists()

    # 3. start after the crash
    cluster.start_sarad(**overrides)
    assert cluster.dispatcher_state() == running
    assert "reloaded" not in cluster.sarad.output(), cluster.sarad.output()[-2000:]
    stats = datapath.sarad_stats(cluster)
    assert stats["sessions"] == 0, stats
    datapath.calls_with_media(cluster)

    # 4. clean stop
    assert cluster.stop_sarad() == 0, cluster.sarad.output()[-2000:]
    assert cluster.dispatcher_state() == before
    assert not sock.exists()


def test_start_after_a_crash_with_another_config(cluster_factory):
    """sarad killed (SIGKILL) with one config, started with another: the start replaces the
    crash's leftovers by exactly the new config's state (the state a start on a clean
    namespace gives), and SIGTERM then leaves the namespace as before. Cases: route -> raw
    mode, raw -> route, 3 -> 2 nodes, 2 -> 3 nodes, another VIP, node 3 at another address
    and MAC. Run time: about 7 s (one cluster, 4 sarad starts per case)."""
    cluster = cluster_factory(dispatcher="none")
    nodes = cluster.dispatcher_config()["nodes"]
    two = {"nodes": nodes[:2]}
    cases = [
        ("route -> raw", {}, {"forwarding": {"mode": "raw"}}),
        ("raw -> route", {"forwarding": {"mode": "raw"}}, {}),
        ("3 -> 2 nodes", {}, two),
        ("2 -> 3 nodes", two, {}),
        ("another VIP", {}, {"vip": "198.18.100.11"}),
        ("node 3 moved", {}, {"nodes": nodes[:2] + [dict(nodes[2], address="198.18.2.19",
                                                        mac="02:00:00:00:02:99")]}),
    ]
    problems = []
    before = cluster.dispatcher_state()
    for name, first, second in cases:
        cluster.start_sarad(**second)
        fresh = cluster.dispatcher_state()
        assert cluster.stop_sarad() == 0
        cluster.start_sarad(**first)
        datapath.kill_sarad(cluster)
        cluster.start_sarad(**second)
        after_crash = cluster.dispatcher_state()
        assert cluster.stop_sarad() == 0, cluster.sarad.output()[-2000:]
        stopped = cluster.dispatcher_state()
        for what, got, want in (("start after the crash", after_crash, fresh),
                                ("SIGTERM", stopped, before)):
            for k in want:
                if got[k] != want[k]:
                    problems.append("%s: %s: %s differs:\n%s\nwanted:\n%s"
                                    % (name, what, k, got[k], want[k]))
    assert not problems, "\n".join(problems)


def test_a_second_sarad_leaves_the_running_one_alone(cluster_factory):
    """Regression (issue 15): a second sarad started with the same config (a mistake an
    operator can make) found its control socket taken only after it had replaced the running
    sarad's rules, and at its exit removed them: the running one's calls lost their kernel
    state. Now the second one stops at the live socket, before touching the kernel: it exits
    1 naming the socket, the dispatcher's kernel state is exactly as before, and the first
    sarad still answers and forwards calls. Run time: about 3 s."""
    cluster = cluster_factory(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
    before = cluster.dispatcher_state()
    config = cluster.write_dispatcher_config(cluster.workdir / "second.yaml",
                                             **dict(cluster.config_overrides))
    second = cluster.spawn(cluster.dispatcher, [str(cluster.sarad_path), "--config", str(config)],
                           name="second-sarad", timeout=20)
    rc = second.wait(20)
    assert rc == 1, second.output()[-2000:]
    assert "socket" in second.output(), second.output()[-2000:]
    assert cluster.dispatcher_state() == before
    assert "sessions" in datapath.sarad_stats(cluster)
    peers.start_sip_servers(cluster, ("udp",))
    datapath.calls_with_media(cluster)
