# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGHUP reload of sarad's config (issue 8, DESIGN §10): a good file is applied as a diff
without dropping a session, a bad one is reported with file:line:col and changes nothing.

During 30 SIPp calls with RTP (5 calls/s, 3 s each) the config is rewritten: node 1 removed,
node 2 drained. Every call completes with its RTP echoed, calls placed after the reload reach
node 3 only, and node 1 retires (its policy route goes) only once its last call ended. A bad
file then changes nothing; re-adding node 1 brings it back with its route.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_reload.py
"""
import re
import signal
import time

import pytest

import agents
import datapath
import peers
from sarad_config import to_yaml

pytestmark = datapath.SARAD_MARKS

NODE_TABLE_BASE = 1000   # kernel_spec(): table_base; node N's table is 1000 + N


def reload(cluster, path, doc, expect: str, timeout: float = 5) -> float:
    """Writes `doc` to `path`, sends SIGHUP to sarad and waits for a log line matching
    `expect`; returns the wall-clock time the line was seen."""
    path.write_text(to_yaml(doc) if isinstance(doc, dict) else doc)
    seen = len(cluster.sarad.output())
    cluster.sarad.signal_command(signal.SIGHUP)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if re.search(expect, cluster.sarad.output()[seen:]):
            return time.time()
        time.sleep(0.05)
    raise AssertionError("no %r after SIGHUP:\n%s" % (expect, cluster.sarad.output()[-3000:]))


def node_rules(cluster) -> str:
    return cluster.dispatcher.run("ip", "rule", "show").stdout


def wait_output(cluster, pattern: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if re.search(pattern, cluster.sarad.output()):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
def test_reload_applies_a_node_diff_without_dropping_calls(cluster, sip_servers):
    path = cluster.workdir / "dispatcher.yaml"
    base = cluster.dispatcher_config(**datapath.LEAST_SESSIONS)
    node1, node2, node3 = cluster.nodes
    table1 = "lookup %d" % (NODE_TABLE_BASE + node1.id)
    assert table1 in node_rules(cluster)

    next_doc = dict(base)
    next_doc["nodes"] = [dict(n, drain=True) if n["id"] == node2.id else n
                         for n in base["nodes"] if n["id"] != node1.id]
    next_doc["admission"] = {"t1": 0.75}
    with peers.capture_nodes(cluster) as caps:
        uac = peers.start_sip_uac(cluster, calls=30, rate=5, transport="u1", media_packets=150)
        time.sleep(2.0)     # about 10 calls placed, spread over the three nodes
        applied = reload(cluster, path, next_doc, r"reload: applied .*1 node removed \(node1;.*"
                                                  r"1 node changed \(node2\).*admission settings changed")
        r = uac.result()
        pcaps = caps.stop()
    assert r.ok and r.rtp_ok, r.summary()

    invites = agents.invite_times(pcaps)
    before = {n: [t for t in calls.values() if t < applied - 0.5] for n, calls in invites.items()}
    after = {n: [t for t in calls.values() if t > applied + 0.1] for n, calls in invites.items()}
    print("INVITEs before the reload %s, after %s" % (
        {n: len(v) for n, v in before.items()}, {n: len(v) for n, v in after.items()}))
    assert before.get(node1.name) and before.get(node2.name), before
    assert not after.get(node1.name) and not after.get(node2.name), after
    assert len(after.get(node3.name, [])) >= 10, after

    # Node 1's calls have ended: it retires, and only then does its route go.
    assert wait_output(cluster, r"node %d: retired" % node1.id, timeout=10), cluster.sarad.output()[-2000:]
    assert table1 not in node_rules(cluster)

    # A bad file: every error with file:line:col, nothing changes.
    reload(cluster, path, "vip: 198.18.100.10\nnodes: [{id: 1, name: x}]\nqueue: {count: 0}\n",
           r"keeping the running config")
    out = cluster.sarad.output()
    assert re.search(r"%s:2:\d+: .*missing required key 'address'" % re.escape(str(path)), out), out[-2000:]
    assert re.search(r"%s:3:\d+: " % re.escape(str(path)), out), out[-2000:]
    with peers.capture_nodes(cluster) as caps:
        r = peers.run_sip_uac(cluster, calls=4, rate=10, transport="u1", media_packets=5)
        pcaps = caps.stop()
    assert r.ok and r.rtp_ok, r.summary()
    per_node = {n: len(c) for n, c in agents.invite_times(pcaps).items()}
    assert per_node.get(node3.name) == 4, per_node

    # Node 1 back, node 2 undrained: both take calls again through their routes.
    reload(cluster, path, base, r"reload: applied .*1 node added \(node1\).*1 node changed \(node2\)")
    assert table1 in node_rules(cluster)
    with peers.capture_nodes(cluster) as caps:
        r = peers.run_sip_uac(cluster, calls=9, rate=10, transport="u1", media_packets=50)
        pcaps = caps.stop()
    assert r.ok and r.rtp_ok, r.summary()
    per_node = {n: len(c) for n, c in agents.invite_times(pcaps).items()}
    print("after re-adding node 1: INVITEs per node %s" % per_node)
    assert all(per_node.get(n.name, 0) > 0 for n in cluster.nodes), per_node
