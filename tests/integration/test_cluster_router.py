# SPDX-License-Identifier: GPL-2.0-or-later
"""The namespace cluster with a plain-router dispatcher (no sarad): the topology, the real-peer
drivers and the capture analysis work end to end, and teardown leaves nothing behind.

Run as root: /usr/bin/python3 -m pytest -q tests/integration -m router
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import peers
import topology
from conftest import require_rtsp_clients, require_tools

pytestmark = pytest.mark.router
HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------------------
# topology
# ---------------------------------------------------------------------------------------
def test_topology_is_built_as_designed(cluster):
    c = cluster
    assert sorted(topology.list_namespaces(c.prefix)) == sorted(ns.name for ns in c.namespaces)
    # client: VIP via the dispatcher, everything else via the gateway
    routes = c.client.run("ip", "route").stdout
    assert "198.18.100.10 via 198.18.1.1 dev eth0" in routes
    assert "default via 198.18.1.254 dev eth0" in routes
    for n in c.nodes:
        link = n.ns.run("ip", "-o", "link", "show", "eth0").stdout
        assert n.mac in link
        assert "inet 198.18.100.10/32" in n.ns.run("ip", "-o", "addr", "show", "lo").stdout
        assert "default via 198.18.2.254 dev eth0 src 198.18.100.10" in n.ns.run("ip", "route").stdout
        sysctl = n.ns.run("sysctl", "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.eth0.arp_announce").stdout
        assert "arp_ignore = 1" in sysctl and "arp_announce = 2" in sysctl
    d = c.dispatcher.run("sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.all.send_redirects",
                         "net.ipv4.conf.eth0.rp_filter", "net.netfilter.nf_conntrack_tcp_loose",
                         "net.netfilter.nf_conntrack_tcp_be_liberal").stdout
    assert re.findall(r"= (\d+)", d) == ["1", "0", "0", "1", "1"]
    # router mode: VIP to node1 through a permanent neighbour (no ARP), VIP not local
    assert "198.18.100.10 via 198.18.2.11 dev eth1" in c.dispatcher.run("ip", "route").stdout
    assert "02:00:00:00:02:11 PERMANENT" in c.dispatcher.run("ip", "neigh", "show", "198.18.2.11").stdout
    assert "198.18.100.10" not in c.dispatcher.run("ip", "-o", "addr").stdout
    # switch: bridge netfilter off, static FDB entries for every node MAC
    assert "= 0" in c.switch.run("sysctl", "net.bridge.bridge-nf-call-iptables").stdout
    fdb = c.switch.run("bridge", "fdb", "show", "br", "brl").stdout
    for n in c.nodes:
        assert "%s dev n%d master brl static" % (n.mac, n.id) in fdb
    # veth offloads off
    assert "tcp-segmentation-offload: off" in c.nodes[0].ns.run("ethtool", "-k", "eth0").stdout
    assert c.setup_seconds < 5


def test_dispatcher_config_follows_the_schema(cluster):
    path = cluster.write_dispatcher_config(queue={"count": 2}, scheduler={"algorithm": "round-robin"})
    text = path.read_text()
    assert "vip: 198.18.100.10" in text
    assert "lan_interface: eth1" in text
    assert "auth: none" in text
    assert "health" not in text
    assert 'mac: "02:00:00:00:02:13"' in text
    assert "queue: {first: 0, count: 2, max_len: 4096, fail_open: false}" in text
    assert "scheduler: {algorithm: round-robin}" in text
    assert "socket: %s" % cluster.workdir.joinpath("sarad.sock") in text
    doc = cluster.dispatcher_config(metrics=None)
    assert "metrics" not in doc and len(doc["nodes"]) == 3
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml:
        parsed = yaml.safe_load(text)
        assert parsed["nodes"][0] == {"id": 1, "name": "node1", "address": "198.18.2.11",
                                      "mac": "02:00:00:00:02:11", "weight": 1}
        assert parsed["services"][0]["transport"] == ["udp", "tcp"]
    # sarad validates it, once it has --check-config
    usage = subprocess.run([str(topology.SARAD), "--help"], capture_output=True, text=True)
    if topology.SARAD.exists() and "--check-config" in usage.stdout + usage.stderr:
        r = subprocess.run([str(topology.SARAD), "--check-config", str(path)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stdout + r.stderr


# ---------------------------------------------------------------------------------------
# SIP
# ---------------------------------------------------------------------------------------
def test_20_sip_calls_with_rtp_over_udp_reach_node1(cluster, sip_servers, node_captures):
    require_tools("sipp", "tshark")
    r = peers.run_sip_uac(cluster, calls=20, rate=20, transport="u1", media_packets=50)
    pcaps = node_captures.stop()
    assert r.ok, r.summary()
    assert r.returncode == 0
    assert r.rtp_ok, r.summary()           # RTP echoed back to the client through the gateway
    calls = peers.calls_by_node(pcaps)
    assert sorted(calls) == sorted(r.call_ids)
    for cid, s in calls.items():
        assert s.signalling == {"node1"} and s.media == {"node1"}, s
        assert s.media_replies == {"node1"}, s
        assert s.complete, s.messages
        assert {server for _, _, server in s.media_flows} == {"198.18.100.10:6100"}
    flows = peers.client_flows_by_node(pcaps)
    assert flows["node2"] == {} and flows["node3"] == {}
    uas = {(s.node.name, s.transport): s for s in sip_servers}
    assert uas[("node1", "udp")].stop().successful == 20
    assert uas[("node2", "udp")].stop().created == 0


@pytest.mark.parametrize("transport", ["un", "t1"])
def test_sip_transports(cluster, sip_servers, node_captures, transport):
    """One UDP socket per call and one TCP connection: the UAC driver and the analysis."""
    require_tools("sipp", "tshark")
    r = peers.run_sip_uac(cluster, calls=5, rate=10, transport=transport, media_packets=25)
    pcaps = node_captures.stop()
    assert r.ok and r.rtp_ok, r.summary()
    calls = peers.calls_by_node(pcaps)
    assert len(calls) == 5
    assert all(s.nodes == {"node1"} and s.complete for s in calls.values()), calls
    sig = {(m[1], m[2]) for s in calls.values() for m in s.messages}
    assert ("->", "INVITE") in sig and ("<-", "200") in sig


def test_route_vip_to_another_node(cluster, sip_servers, node_captures):
    """Moving the router's VIP route moves the calls; node2 answers with its own media port."""
    require_tools("sipp", "tshark")
    cluster.route_vip_to(2)
    r = peers.run_sip_uac(cluster, calls=3, rate=10, transport="u1", media_packets=25)
    pcaps = node_captures.stop()
    assert r.ok and r.rtp_ok, r.summary()
    calls = peers.calls_by_node(pcaps)
    assert len(calls) == 3
    for s in calls.values():
        assert s.nodes == {"node2"}, s
        assert {server for _, _, server in s.media_flows} == {"198.18.100.10:6200"}


# ---------------------------------------------------------------------------------------
# RTSP
# ---------------------------------------------------------------------------------------
def test_rtsp_clients_decode_through_router(cluster, rtsp_servers, node_captures):
    require_rtsp_clients("tshark")
    results = peers.run_rtsp_clients(cluster, peers.RTSP_CLIENT_MIX, duration=2)
    pcaps = node_captures.stop()
    for res in results:
        assert res.ok, (res, Path(res.log).read_text()[-2000:])
        assert res.frames >= 5, res
    sessions = peers.rtsp_sessions_by_node(pcaps)
    assert len(sessions) == 4, sessions
    lo, hi = cluster.node(1).rtsp_rtp_ports
    for s in sessions.values():
        assert s.nodes == {"node1"}, s
        assert s.complete, s.messages
        if s.interleaved:
            assert not s.media_flows
        else:
            assert s.media == {"node1"} and s.media_flows, s
            for _, client, server in s.media_flows:
                assert lo <= int(server.rsplit(":", 1)[1]) <= hi
    assert sum(s.interleaved for s in sessions.values()) == 2


# ---------------------------------------------------------------------------------------
# teardown
# ---------------------------------------------------------------------------------------
def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_teardown_leaves_no_namespace_and_no_process(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    require_tools("sipp")
    with topology.Cluster("router", workdir=tmp_path / "c") as c:
        peers.start_sip_uas(c, 1, "udp")
        pids = [p for ns in c.namespaces for p in ns.pids()]
        assert pids
    assert c.leftovers() == []
    assert not any(n.startswith(c.prefix) for n in topology.list_namespaces())
    assert not [p for p in pids if _alive(p)]


def test_teardown_after_a_failure_inside_the_cluster(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    with pytest.raises(RuntimeError, match="boom"):
        with topology.Cluster("router", workdir=tmp_path / "c") as c:
            raise RuntimeError("boom")
    assert c.leftovers() == []


def _cluster_pids(prefix):
    """PIDs of every process in the namespaces named PREFIX*."""
    return [pid for name in topology.list_namespaces(prefix)
            for pid in topology.Namespace(name, "").pids()]


def _assert_cleaned_up(prefix, pids):
    assert topology.list_namespaces(prefix) == []
    assert not [q for q in pids if _alive(q)]


def _reap(p):
    """After an interruption test: the child killed if it still runs, and the namespaces of
    dead PIDs (the child's, if it was killed) removed."""
    if p.poll() is None:
        p.kill()
        p.wait()
    topology.cleanup_stale()


def _default_sigint():
    """A shell starts background jobs with SIGINT ignored, and Python then never raises
    KeyboardInterrupt: give the child the default disposition, as a terminal's Ctrl-C finds it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_cleans_up(sig):
    """Ctrl-C (SIGINT) or SIGTERM to a process holding a cluster with peers running."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    require_tools("sipp", "gst-launch-1.0")
    p = subprocess.Popen([topology.PYTHON, str(HERE / "topology.py"), "up", "--hold", "30",
                          "--peers"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         preexec_fn=_default_sigint)
    try:
        out, prefix = [], None
        end = time.monotonic() + 20
        while time.monotonic() < end:
            line = p.stdout.readline()
            if not line:
                break
            out.append(line)
            m = re.match(r"cluster (sara-it-\d+-\d+-)", line)
            if m:
                prefix = m.group(1)
            if line.startswith("ready"):
                break
        assert prefix and out[-1].startswith("ready"), "".join(out)
        pids = _cluster_pids(prefix)
        assert len(pids) >= 9          # 2 UAS + 1 RTSP server per node (+ their `timeout`s)
        p.send_signal(sig)
        p.wait(20)
        _assert_cleaned_up(prefix, pids)
    finally:
        _reap(p)


SLEEPER = """
import sys, time
sys.path.insert(0, %r)
from conftest import cluster, sip_servers  # noqa: F401  (fixtures)


def test_sleep(cluster, sip_servers):
    print("READY", cluster.prefix, flush=True)
    time.sleep(30)
"""


def test_pytest_interrupted_by_ctrl_c_cleans_up(tmp_path):
    """Ctrl-C during a test: pytest runs the fixtures' teardown, the cluster goes away."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    require_tools("sipp")
    (tmp_path / "test_sleep.py").write_text(SLEEPER % str(HERE))
    p = subprocess.Popen([topology.PYTHON, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          "--rootdir", str(tmp_path), str(tmp_path / "test_sleep.py")],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         preexec_fn=_default_sigint)
    try:
        out, prefix = [], None
        end = time.monotonic() + 20
        while time.monotonic() < end and prefix is None:
            line = p.stdout.readline()
            if not line:
                break
            out.append(line)
            m = re.search(r"READY (sara-it-\d+-\d+-)", line)
            prefix = m.group(1) if m else None
        assert prefix, "".join(out)
        pids = _cluster_pids(prefix)
        assert pids
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=20)
        assert "KeyboardInterrupt" in rest, rest
        _assert_cleaned_up(prefix, pids)
    finally:
        _reap(p)


def _root_state():
    def out(*cmd):
        return subprocess.run(cmd, capture_output=True, text=True).stdout
    links = re.sub(r"\s+\\\s+.*", "", out("ip", "-o", "link"))     # names, flags, MACs
    return {"links": sorted(re.sub(r"state \S+", "", l) for l in links.splitlines()),
            "addrs": out("ip", "-o", "addr"), "routes": out("ip", "route", "show", "table", "all"),
            "rules": out("ip", "rule"), "netns": topology.list_namespaces()}


def test_root_namespace_is_untouched(tmp_path):
    """A cluster (also with two dispatchers) adds no link, address, route or rule to the root
    namespace, and its own namespaces are gone afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    before = _root_state()
    with topology.Cluster("router", dispatchers=2, workdir=tmp_path / "c") as c:
        inside = _root_state()
        assert "198.18." not in inside["addrs"] + inside["routes"]
        assert {k: v for k, v in inside.items() if k != "netns"} == \
            {k: v for k, v in before.items() if k != "netns"}
        assert len(c.dispatchers) == 2
        c.dispatchers[1].run(topology.PYTHON, "-c", "import socket,sys\n"
                             "s=socket.socket(); s.settimeout(2)\n"
                             "try: s.connect(('198.18.2.11', 9))\n"
                             "except ConnectionRefusedError: sys.exit(0)\nsys.exit(1)")
    after = _root_state()
    assert [n for n in after["netns"] if n.startswith(c.prefix)] == []
    assert {k: v for k, v in after.items() if k != "netns"} == \
        {k: v for k, v in before.items() if k != "netns"}


def _bind_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()   # the socket file stays, as a killed daemon's does


def test_control_sockets_in_the_temp_dir_are_removed(tmp_path):
    """A control socket the harness puts in the temp dir (its work dir's path too long for a
    Unix socket address) goes with its cluster, and a killed run's goes at the next start.
    Regression: 103 sara-it-*.sock files had piled up in /tmp."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    tmp = Path(tempfile.gettempdir())
    with topology.Cluster("router", workdir=tmp_path / "c") as c:
        own = tmp / (c.prefix + "sarad.sock")
        _bind_unix(own)
        assert own.is_socket()
    assert not own.exists()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp / ("%s%d-1-sarad.sock" % (topology.NS_PREFIX, dead.pid))
    _bind_unix(stale)
    topology.cleanup_stale()
    assert not stale.exists()
