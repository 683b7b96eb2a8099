# SPDX-License-Identifier: GPL-2.0-or-later
"""saractl against a live sarad (issue 8): status, nodes and stats as tables and --json, the
operator drain (`drain 1`: no new session reaches node 1; `undrain 1`: it gets calls again),
`role`, and the errors an operator sees when sarad is not there.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_saractl.py
"""
import json
import os
import subprocess

import pytest

import agents
import datapath
import peers
import topology
from test_health import health_cluster, kill_agent  # noqa: F401 (a fixture)

pytestmark = datapath.SARAD_MARKS

SARACTL = topology.ROOT / os.environ.get("SARA_BUILD", "build") / "saractl"


def saractl(*args, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([str(SARACTL), *args], capture_output=True, text=True, timeout=10)
    if check:
        assert r.returncode == 0, "saractl %s: rc %d\n%s%s" % (args, r.returncode, r.stdout, r.stderr)
    return r


def saractl_json(socket, *args) -> dict:
    return json.loads(saractl("--socket", str(socket), *args, "--json").stdout)


def calls_per_node(cluster, calls: int) -> dict:
    """Places `calls` SIPp calls (all must succeed) and returns {node name: INVITEs seen}."""
    with peers.capture_nodes(cluster) as caps:
        r = peers.run_sip_uac(cluster, calls=calls, rate=10, transport="u1", media_packets=5)
        pcaps = caps.stop()
    assert r.ok, r.summary()
    return {node: len(invites) for node, invites in agents.invite_times(pcaps).items()}


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
def test_saractl_status_nodes_stats_and_operator_drain(cluster, sip_servers):
    sock = datapath.sarad_socket(cluster)
    datapath.sarad_request(cluster, "stats")  # waits until the socket is bound

    nodes = saractl_json(sock, "nodes")["nodes"]
    assert [n["id"] for n in nodes] == [n.id for n in cluster.nodes]
    assert all(n["state"] == "up" and n["drained"] is False for n in nodes), nodes
    stats = saractl_json(sock, "stats")
    assert "pipeline_sessions_assigned_total" in stats and "sessions" in stats
    status = saractl_json(sock, "status")
    assert status["stats"]["flows"] >= 0 and len(status["nodes"]) == len(cluster.nodes)

    text = saractl("--socket", str(sock), "status").stdout
    assert "nodes" in text and "%d/%d up" % (len(nodes), len(nodes)) in text, text
    table = saractl("--socket", str(sock), "nodes").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "NAME", "ADDRESS", "STATE"] and len(table) == 1 + len(nodes)
    assert saractl("--socket", str(sock), "role").stdout == "role: single (no sync configured)\n"

    node1 = cluster.nodes[0]
    out = saractl("--socket", str(sock), "drain", str(node1.id)).stdout
    assert "drained" in out, out
    shown = {n["id"]: n for n in saractl_json(sock, "nodes")["nodes"]}
    assert shown[node1.id]["drained"] is True and shown[node1.id]["available"] is False
    assert "draining (operator)" in saractl("--socket", str(sock), "nodes").stdout
    assert "1 drained by the operator" in saractl("--socket", str(sock), "status").stdout

    per_node = calls_per_node(cluster, 6)
    print("drained node %d: INVITEs per node %s" % (node1.id, per_node))
    assert per_node[node1.name] == 0, per_node
    assert sum(per_node.values()) == 6

    out = saractl("--socket", str(sock), "undrain", str(node1.id)).stdout
    assert "undrained; available" in out, out
    shown = {n["id"]: n for n in saractl_json(sock, "nodes")["nodes"]}
    assert shown[node1.id]["drained"] is False and shown[node1.id]["available"] is True
    per_node = calls_per_node(cluster, 6)
    print("undrained: INVITEs per node %s" % per_node)
    assert per_node[node1.name] > 0, per_node   # least-sessions: the idle node gets calls

    sessions = saractl_json(sock, "sessions", "--node", str(node1.id))["sessions"]
    assert all(s["node"] == node1.id for s in sessions), sessions

    bad = saractl("--socket", str(sock), "drain", "99", check=False)
    assert bad.returncode == 1 and "unknown node" in bad.stderr, bad


def node_entry(sock, node_id) -> dict:
    return {n["id"]: n for n in saractl_json(sock, "nodes")["nodes"]}[node_id]


def test_operator_drain_survives_health_transitions(health_cluster):
    """With `health:`: a drained node that goes down and comes back up stays drained (no new
    sessions); undrain while it is down leaves it unavailable until its health is up again."""
    c = health_cluster
    sock = datapath.sarad_socket(c)
    saractl("--socket", str(sock), "drain", "1")
    kill_agent(c, 1)
    assert agents.wait_state_change(c, 1, "down", timeout=3) is not None, agents.nodes_info(c)
    out = saractl("--socket", str(sock), "undrain", "1").stdout
    assert "not available until its health is up" in out, out
    assert node_entry(sock, 1)["available"] is False
    saractl("--socket", str(sock), "drain", "1")
    c.agents[1] = agents.start_agent(c, 1, c.key)
    assert agents.wait_state_change(c, 1, "up", timeout=3) is not None, agents.nodes_info(c)
    n1 = node_entry(sock, 1)
    assert n1["state"] == "up" and n1["drained"] is True and n1["available"] is False, n1
    per_node = calls_per_node(c, 6)
    print("drained node 1 back up: INVITEs per node %s" % per_node)
    assert per_node["node1"] == 0, per_node
    saractl("--socket", str(sock), "undrain", "1")
    assert node_entry(sock, 1)["available"] is True


def test_saractl_explains_a_missing_socket_and_bad_arguments(tmp_path):
    missing = tmp_path / "sarad.sock"
    r = saractl("--socket", str(missing), "status", check=False)
    assert r.returncode == 3
    assert r.stderr.strip() == "saractl: sarad is not running (no socket at %s)" % missing
    r = saractl("drain", check=False)
    assert r.returncode == 2 and "usage: saractl" in r.stderr
    assert "exit codes" in saractl("--help").stdout


def conntrack_mark(cluster, client_port: int):
    """The conntrack mark of the client's UDP flow from `client_port` in the dispatcher's
    namespace (None if conntrack holds no such flow): what the kernel fast path forwards by."""
    out = cluster.dispatcher.run("conntrack", "-L", "-p", "udp", "-s", topology.CLIENT_ADDR,
                                 "--sport", str(client_port), check=False, timeout=10).stdout
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("mark="):
                return int(word[5:])
    return None


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
def test_saractl_finds_one_call_by_call_id_and_by_client(cluster, sip_servers):
    """Real SIPp calls with RTP: `sessions --key CALL-ID` shows the call's node and its media
    flows; a flow shown on the kernel fast path has its node's mark in the dispatcher's
    conntrack; `--client` finds the call by its RTP port; an unknown key exits 1."""
    sock = datapath.sarad_socket(cluster)
    datapath.sarad_request(cluster, "stats")
    uac = peers.start_sip_uac(cluster, calls=3, rate=10, transport="u1", media_packets=250)
    try:
        def call_on_fast_path():
            for listed in datapath.sarad_request(cluster, "sessions")["sessions"]:
                if listed["protocol"] == "sip" and listed["key"]:
                    shown = saractl_json(sock, "sessions", "--key", listed["key"])["sessions"]
                    if shown and shown[0]["fast_path"]:
                        return listed
            return None

        assert datapath.wait_until(lambda: call_on_fast_path() is not None, timeout=10), "no media on the fast path"
        call = call_on_fast_path()
        found = saractl_json(sock, "sessions", "--key", call["key"])["sessions"]
        assert len(found) == 1, found
        s = found[0]
        assert s["key"] == call["key"] and s["node"] == call["node"] and s["state"] == "active", s
        assert s["node_name"] == next(n.name for n in cluster.nodes if n.id == s["node"])
        assert s["flows"] and all(f["client"].startswith(topology.CLIENT_ADDR + ":") for f in s["flows"]), s
        assert all(f["packets"] is None for f in s["flows"])  # no packet counts are invented
        kernel = [f for f in s["flows"] if f["path"] == "kernel"]
        assert kernel, s
        for f in kernel:
            port = int(f["client"].rsplit(":", 1)[1])
            assert conntrack_mark(cluster, port) == s["node"], (f, conntrack_mark(cluster, port))
        # SIP over UDP is untracked (raw table; issue 16): the calls' signalling left no
        # conntrack entry, while their media's entries carry the node's mark (above).
        sip = cluster.dispatcher.run("conntrack", "-L", "-p", "udp", "--dport", "5060", check=False, timeout=10)
        assert sip.stdout.strip() == "", sip.stdout

        text = saractl("--socket", str(sock), "sessions", "--key", call["key"]).stdout
        print(text)
        assert text.startswith("sip %s: active, node %d" % (call["key"], s["node"])), text
        assert "kernel fast path: yes" in text and "PATH" in text, text

        rtp_port = kernel[0]["client"].rsplit(":", 1)[1]
        by_client = saractl_json(sock, "sessions", "--client", "%s:%s" % (topology.CLIENT_ADDR, rtp_port))
        assert [x["key"] for x in by_client["sessions"]] == [call["key"]], by_client

        missing = saractl("--socket", str(sock), "sessions", "--key", "no-such-call@x", check=False)
        assert missing.returncode == 1 and missing.stdout.startswith("no session found"), missing
        bad = saractl("--socket", str(sock), "sessions", "--client", "not-an-address", check=False)
        assert bad.returncode == 1 and "is not an address" in bad.stderr, bad
    finally:
        r = uac.result()
    assert r.ok, r.summary()
