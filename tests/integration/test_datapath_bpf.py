# SPDX-License-Identifier: GPL-2.0-or-later
"""The BPF fast path's life in the kernel (issue 17, `forwarding.fast_path: bpf`): what sarad
puts on its client interface, and that a stop, a crash and a start with another config leave
exactly what they should. The calls and streams through the map are checked in the datapath
suites' bpf variants (test_datapath_offload, test_datapath_rtsp_load, test_session_integrity).

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_datapath_bpf.py
"""
import time

import pytest

import datapath
import peers

pytestmark = datapath.SARAD_MARKS




def _programs(state: dict) -> list:
    return [line for line in state["bpf"].splitlines() if "sara_fast_path" in line or "prog/xdp" in line]


def test_bpf_mode_stop_crash_and_restart_leave_exactly_their_program(cluster_factory):
    """1. start in bpf mode: one tc filter of ours on eth0's ingress (the client side), none
       elsewhere; 5 calls with 40 RTP packets each, their media through the map; SIGTERM:
       the namespace is exactly as before the start (no filter, no clsact qdisc sarad made,
       no rule).
    2. start, calls, SIGKILL: the program stays where it was (like conntrack's marks, it keeps
       established media going while no sarad runs).
    3. start in bpf mode again: exactly one program (the crash's replaced), calls work.
    4. SIGKILL, then start in netfilter mode: the crashed run's program is removed (a stale
       program must never steer to old nodes), the state is that of a netfilter start.
    5. SIGTERM: as before step 1.
    Run time: about 12 s."""
    datapath.require_peers()
    bpf = dict(datapath.LEAST_SESSIONS, **datapath.BPF, control={"save_interval": "0s"})
    netfilter = dict(datapath.LEAST_SESSIONS, control={"save_interval": "0s"})
    cluster = cluster_factory(dispatcher="none")
    datapath.start_sip_servers(cluster, transports=("udp",))
    before = cluster.dispatcher_state()
    assert not _programs(before), before["bpf"]

    # netfilter mode's state, for step 4
    cluster.start_sarad(**netfilter)
    netfilter_state = cluster.dispatcher_state()
    assert cluster.stop_sarad() == 0

    # 1.
    cluster.start_sarad(**bpf)
    running = cluster.dispatcher_state()
    programs = _programs(running)
    print("bpf mode:", programs)
    assert len(programs) == 1 and programs[0].startswith("eth0 ingress"), running["bpf"]
    s0 = datapath.sarad_stats(cluster)
    datapath.calls_with_media(cluster, media_packets=40)
    delta = datapath.counter_deltas(s0, datapath.sarad_stats(cluster))
    assert delta.get("bpf_flow_hits_total", 0) >= 5 * 30, delta
    assert cluster.stop_sarad() == 0, cluster.sarad.output()[-2000:]
    assert cluster.dispatcher_state() == before
    assert "bpf: fast path on eth0" in cluster.sarad.output()

    # 2.
    cluster.start_sarad(**bpf)
    datapath.calls_with_media(cluster, media_packets=40)
    datapath.kill_sarad(cluster)
    assert cluster.dispatcher_state() == running, "SIGKILL: the program should stay"

    # 3.
    cluster.start_sarad(**bpf)
    assert cluster.dispatcher_state() == running
    datapath.calls_with_media(cluster, media_packets=40)

    # 4.
    datapath.kill_sarad(cluster)
    cluster.start_sarad(**netfilter)
    assert cluster.dispatcher_state() == netfilter_state
    assert "removed 1 fast-path program" in cluster.sarad.output(), cluster.sarad.output()[-2000:]
    datapath.calls_with_media(cluster, media_packets=40)

    # 5.
    assert cluster.stop_sarad() == 0
    assert cluster.dispatcher_state() == before


def test_a_program_the_kernel_refuses_fails_the_start_or_falls_back(cluster_factory, tmp_path):
    """A program object the kernel cannot load (here: not an ELF file): with on_failure
    refuse, sarad says why and does not start, leaving nothing behind; with on_failure
    netfilter it starts on the netfilter fast path with a warning, and calls work.
    `sarad --check-config` names a missing object at file:line:col."""
    datapath.require_peers()
    bogus = tmp_path / "not-a-program.bpf.o"
    bogus.write_bytes(b"not an ELF object\n")
    cluster = cluster_factory(dispatcher="none")
    datapath.start_sip_servers(cluster, transports=("udp",))
    before = cluster.dispatcher_state()

    refuse = {"forwarding": {"fast_path": "bpf", "bpf": {"interface": "eth0", "object": str(bogus)}}}
    with pytest.raises(RuntimeError) as failed:
        cluster.start_sarad(**refuse)
    assert "bpf: the fast path could not start on eth0" in str(failed.value), failed.value
    assert cluster.dispatcher_state() == before

    fallback = {"forwarding": {"fast_path": "bpf",
                               "bpf": {"interface": "eth0", "object": str(bogus), "on_failure": "netfilter"}}}
    cluster.start_sarad(**fallback)
    assert "running on the netfilter fast path" in cluster.sarad.output(), cluster.sarad.output()[-2000:]
    assert not _programs(cluster.dispatcher_state())
    datapath.calls_with_media(cluster, media_packets=40)
    assert "bpf_flow_hits_total" not in datapath.sarad_stats(cluster)
    assert cluster.stop_sarad() == 0

    missing = cluster.write_dispatcher_config(
        cluster.workdir / "missing.yaml",
        forwarding={"fast_path": "bpf", "bpf": {"interface": "eth0", "object": str(tmp_path / "gone.o")}})
    r = cluster.dispatcher.run(str(cluster.sarad_path), "--check-config", str(missing), check=False)
    assert r.returncode != 0
    assert "missing.yaml:" in r.stderr and "gone.o is not readable" in r.stderr, r.stderr


def test_degradation_above_t3_drops_its_share_in_the_map(cluster_factory):
    """SA2C above T3 (DESIGN §5): established media is dropped with p_established in the BPF
    program (the netfilter `statistic` rule's counterpart), and not at all once the load falls.
    Thresholds t2 = t3 = 0.8 (t3 then stays put, eq. 4) and every node reporting full load give
    l_c = 0.9·1.0 + 0.1·0 = 0.9 (eq. 1) and p_established = (0.9 - 0.8) / (1.0 - 0.8) = 0.5. Two calls' RTP (50 pps each,
    through the map) are counted over 2 s: the share the program dropped is 0.5 ± 0.15.
    Run time: about 12 s."""
    import agents
    from test_admission import report_load
    datapath.require_peers()
    c = cluster_factory(dispatcher="none")
    c.key = agents.write_key(c)
    c.start_sarad(**agents.health_overrides(c, c.key), **datapath.BPF,
                  admission={"interval": "100ms", "t1": 0.5, "t2": 0.8, "t3": 0.8, "capacity": 1.0})
    datapath.start_sip_servers(c, transports=("udp",), lifetime=60)
    report_load(c, 0.1)
    assert agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5), agents.node_states(c)
    s0 = datapath.sarad_stats(c)
    uac = peers.start_sip_uac(c, calls=2, rate=10, transport="u1", media_packets=500,
                              scenario=datapath.uac_scenario(c))
    assert datapath.wait_until(
        lambda: datapath.sarad_stats(c).get("fast_path_flows_put_total", 0) - s0.get("fast_path_flows_put_total", 0) >= 2,
        timeout=5), datapath.sarad_stats(c)

    report_load(c, 1.0)
    assert datapath.wait_until(lambda: abs(datapath.sarad_stats(c)["admission_p_established"] - 0.5) < 0.02, 3), \
        {k: v for k, v in datapath.sarad_stats(c).items() if k.startswith("admission_")}
    assert datapath.wait_until(lambda: "degraded with p 0.5" in c.sarad.output(), 2), c.sarad.output()[-2000:]
    s1 = datapath.sarad_stats(c)
    time.sleep(2.0)
    s2 = datapath.sarad_stats(c)
    report_load(c, 0.1)
    assert datapath.wait_until(lambda: datapath.sarad_stats(c)["admission_p_established"] == 0, 3)
    time.sleep(0.5)
    s3 = datapath.sarad_stats(c)
    time.sleep(1.0)
    s4 = datapath.sarad_stats(c)
    datapath.uac_result(uac, timeout=20)

    degraded = datapath.counter_deltas(s1, s2)
    dropped = degraded.get("bpf_degraded_dropped_total", 0)
    forwarded = degraded.get("bpf_flow_hits_total", 0)
    print("p_established 0.5 for 2 s: %d dropped, %d forwarded by the map" % (dropped, forwarded))
    assert dropped + forwarded >= 0.8 * 2 * 50 * 2, degraded
    assert 0.35 <= dropped / (dropped + forwarded) <= 0.65, degraded
    recovered = datapath.counter_deltas(s3, s4)
    assert recovered.get("bpf_degraded_dropped_total", 0) == 0, recovered
    assert recovered.get("bpf_flow_hits_total", 0) >= 0.8 * 2 * 50, recovered
