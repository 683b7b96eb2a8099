# SPDX-License-Identifier: GPL-2.0-or-later
"""SA2C in sarad against real peers: while the nodes report full load, a new SIP call gets a
stateless 503 with Retry-After from the VIP (SIPp sees it) and a new TCP connection a RST;
established calls are not touched; once the load falls, calls are admitted again.

The nodes' loads come from peers/control_sender.py (authenticated heartbeats and load vectors
with a fixed value), so the test sets the cluster load exactly.

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_admission.py
"""
import socket
import time

import pytest

import agents
import datapath
import peers
import topology
from conftest import require_tools

pytestmark = datapath.SARAD_MARKS

SENDER = topology.ROOT / "tests/integration/peers/control_sender.py"


def report_load(cluster, load: float, lifetime: float = 60) -> list:
    """(Re)start one control_sender per node reporting `load`; returns their Procs."""
    for p in getattr(cluster, "senders", []):
        p.stop()
    cluster.senders = [
        cluster.spawn(n.ns, [topology.PYTHON, str(SENDER), "--key", str(cluster.key), "--host", str(n.id),
                             "--to", agents.health_listen(), "--duration", str(lifetime),
                             "--interval", str(agents.HEARTBEAT_S),
                             "--load-interval", str(agents.LOAD_S), "--load", str(load)],
                      name="load-%s-%.2f" % (n.name, load), timeout=lifetime + 5)
        for n in cluster.nodes]
    return cluster.senders


def admission_state(cluster) -> dict:
    s = datapath.sarad_stats(cluster)
    return {k: v for k, v in s.items() if k.startswith("admission_") or k.startswith("refusals_")}


def tcp_connect(cluster, port: int, vip: str = topology.VIP) -> str:
    """Connect from the client to vip:port (VIP, or VIP6 in an ipv6 cluster); "refused" (a
    RST), "connected" or "timeout"."""
    family = "socket.AF_INET6" if ":" in vip else "socket.AF_INET"
    code = ("import socket\n"
            "s = socket.socket(%s); s.settimeout(3)\n"
            "try:\n"
            "    s.connect(('%s', %d)); print('connected')\n"
            "except ConnectionRefusedError:\n"
            "    print('refused')\n"
            "except socket.timeout:\n"
            "    print('timeout')\n" % (family, vip, port))
    return cluster.client.run(topology.PYTHON, "-c", code, timeout=10).stdout.strip()


def client_503s(pcap) -> list:
    r = topology.run(["tshark", "-n", "-r", str(pcap), "-Y",
                      "sip.Status-Code == 503 && ip.src == %s" % topology.VIP,
                      "-T", "fields", "-e", "sip.Call-ID", "-e", "sip.Retry-After"], timeout=60)
    return [tuple(line.split("\t")) for line in r.stdout.splitlines() if line]


def test_full_cluster_refuses_new_sessions_with_503_and_rst(cluster_factory):
    require_tools("sipp", "tshark", "tcpdump")
    c = cluster_factory(dispatcher="none")
    c.key = agents.write_key(c)
    c.start_sarad(**agents.health_overrides(c, c.key),
                  admission={"interval": "100ms", "sip_retry_after": "7s", "tcp_reject": "rst"})
    peers.start_sip_servers(c, ("udp",), lifetime=120)
    report_load(c, 0.1)
    assert agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5), agents.node_states(c)
    r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=5)
    assert r.ok, r.summary()
    assert admission_state(c)["admission_p_new"] == 0

    # Full load: l_c = 0.9·1.0 + 0.1·0 = 0.9 >= t2 (0.90) -> p_new = 1.
    report_load(c, 1.0)
    assert datapath.wait_until(lambda: admission_state(c)["admission_p_new"] == 1.0, 3), admission_state(c)
    before = datapath.sarad_stats(c)
    cap = peers.start_capture(c, c.client, "eth0", c.workdir / "client.pcap")
    r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=5, timeout=10)
    tcp = tcp_connect(c, 554)
    cap.proc.stop()
    after = datapath.sarad_stats(c)
    delta = datapath.counter_deltas(before, after)
    print("full load: %s; TCP connect: %s; %s" % (r.summary(), tcp, delta))
    assert r.successful == 0 and r.failed == 6, r.summary()
    refused = client_503s(c.workdir / "client.pcap")
    assert len({call for call, _ in refused}) == 6 and all(ra == "7" for _, ra in refused), refused
    assert tcp == "refused"
    assert delta["refusals_sip_503_sent_total"] == len(refused)
    assert delta["refusals_tcp_rst_sent_total"] >= 1
    assert delta.get("refusals_send_errors_total", 0) == 0
    assert delta.get("pipeline_sessions_assigned_total", 0) == 0

    # Load back down: m falls below t1 and every call is admitted again.
    report_load(c, 0.1)
    assert datapath.wait_until(lambda: admission_state(c)["admission_p_new"] == 0, 5), admission_state(c)
    r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=5)
    assert r.ok, r.summary()


def test_disabled_admission_admits_everything(cluster_factory):
    """admission.enabled: false: full reported load refuses nothing (the comparison baseline)."""
    require_tools("sipp")
    c = cluster_factory(dispatcher="none")
    c.key = agents.write_key(c)
    c.start_sarad(**agents.health_overrides(c, c.key), admission={"enabled": False})
    peers.start_sip_servers(c, ("udp",), lifetime=60)
    report_load(c, 1.0)
    assert agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5), agents.node_states(c)
    time.sleep(0.5)
    r = peers.run_sip_uac(c, calls=6, rate=10, transport="u1", media_packets=5)
    assert r.ok, r.summary()
    assert "admission: disabled" in c.sarad.output()
    assert "admission_p_new" not in datapath.sarad_stats(c)
