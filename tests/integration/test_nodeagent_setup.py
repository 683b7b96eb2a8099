# SPDX-License-Identifier: GPL-2.0-or-later
"""sara-nodeagent's node setup (node_setup:) on a real node namespace: it adds VIP/32 on lo,
sets arp_ignore/arp_announce and makes the default route `src VIP`; a stop undoes exactly
that, and a start after SIGKILL first undoes what the dead agent left (its record file).

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_nodeagent_setup.py
"""
import os
import re
import signal

import pytest

import agents
import topology

pytestmark = [pytest.mark.skipif(not agents.NODEAGENT.exists(),
                                 reason="%s not built" % agents.NODEAGENT)]

SYSCTLS = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
           "net.ipv4.conf.eth0.arp_ignore", "net.ipv4.conf.eth0.arp_announce"]


def node_state(node) -> dict:
    ns = node.ns
    return {
        "lo": ns.run("ip", "-4", "-o", "addr", "show", "dev", "lo").stdout,
        "sysctl": ns.run("sysctl", *SYSCTLS).stdout,
        "routes": ns.run("ip", "-4", "route", "show", "table", "main").stdout,
    }


def plain_node(node) -> dict:
    """Take back what the topology set up on the node: a node as the operator installed it."""
    node.ns.ip_batch(["addr del %s/32 dev lo" % topology.VIP,
                      "route replace default via %s dev %s" % (topology.GATEWAY_LAN_ADDR,
                                                             node.ifname)])
    node.ns.sysctl({k: 0 for k in SYSCTLS})
    return node_state(node)


def assert_set_up(state: dict) -> None:
    assert "%s/32" % topology.VIP in state["lo"], state
    for k in SYSCTLS:
        want = 1 if k.endswith("arp_ignore") else 2
        assert "%s = %d" % (k, want) in state["sysctl"], state
    assert re.search(r"^default via %s dev eth0 (proto \w+ )?src %s " % (
        re.escape(topology.GATEWAY_LAN_ADDR), re.escape(topology.VIP)), state["routes"], re.M), state


def test_node_setup_is_applied_and_undone_also_after_a_crash(cluster_factory):
    c = cluster_factory(dispatcher="none")
    node = c.node(1)
    before = plain_node(node)
    assert "%s/32" % topology.VIP not in before["lo"]

    agent = agents.start_agent(c, node, None, node_setup=True)
    assert_set_up(node_state(node))
    assert agent.stop(signal.SIGTERM, grace=5) == 0, agent.output()
    assert node_state(node) == before, agent.output()

    crashed = agents.start_agent(c, node, None, node_setup=True)
    assert_set_up(node_state(node))
    os.kill(crashed.command_pid(), signal.SIGKILL)
    crashed.wait(5)
    assert_set_up(node_state(node))                 # a crash leaves the setup in place

    agent = agents.start_agent(c, node, None, node_setup=True)
    assert_set_up(node_state(node))
    assert agent.stop(signal.SIGTERM, grace=5) == 0, agent.output()
    assert node_state(node) == before, agent.output()


def node_state6(node) -> dict:
    ns = node.ns
    return {**node_state(node),
            "lo6": ns.run("ip", "-6", "-o", "addr", "show", "dev", "lo", "scope", "global").stdout,
            "routes6": ns.run("ip", "-6", "route", "show", "table", "main", "default").stdout}


def test_dual_stack_node_setup_is_applied_and_undone_also_after_a_crash(cluster_factory):
    """Issue 18: node_setup with an IPv4 and an IPv6 VIP and a gateway of each family: both
    VIPs on lo (VIP6 as /128, no sysctl for it), both default routes from their family's VIP;
    a stop, and a start after SIGKILL, undo exactly that."""
    c = cluster_factory(dispatcher="none", ipv6=True)
    node = c.node(1)
    node.ns.ip_batch(["addr del %s/128 dev lo" % topology.VIP6,
                      "route replace default via %s dev %s" % (topology.GATEWAY_LAN_ADDR6, node.ifname)])
    plain_node(node)
    before = node_state6(node)
    assert topology.VIP6 not in before["lo6"] and "src" not in before["routes6"], before

    def assert_dual(state):
        assert_set_up(state)
        assert "%s/128" % topology.VIP6 in state["lo6"], state
        assert re.search(r"^default via %s dev eth0 (proto \w+ )?src %s " % (
            re.escape(topology.GATEWAY_LAN_ADDR6), re.escape(topology.VIP6)), state["routes6"], re.M), state

    agent = agents.start_agent(c, node, None, node_setup=True, ipv6=True)
    assert_dual(node_state6(node))
    assert agent.stop(signal.SIGTERM, grace=5) == 0, agent.output()
    assert node_state6(node) == before, agent.output()

    crashed = agents.start_agent(c, node, None, node_setup=True, ipv6=True)
    assert_dual(node_state6(node))
    os.kill(crashed.command_pid(), signal.SIGKILL)
    crashed.wait(5)
    agent = agents.start_agent(c, node, None, node_setup=True, ipv6=True)
    assert_dual(node_state6(node))
    assert agent.stop(signal.SIGTERM, grace=5) == 0, agent.output()
    assert node_state6(node) == before, agent.output()
