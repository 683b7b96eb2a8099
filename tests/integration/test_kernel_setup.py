# SPDX-License-Identifier: GPL-2.0-or-later
"""The dispatcher's kernel setup (daemon/forward/kernel_setup) against a real kernel.

Each test gets a namespace of its own (sara-ks-<pid>-<n>) with a LAN interface lan0
(198.18.2.1/24) and drives build/tools/kernel_setup_driver inside it (`ip netns exec`), then
reads the result back with iptables-save, ip rule, ip route and ip neigh. Nothing runs in or
changes the root namespace; the namespace is deleted by a finalizer, also on failure.

Run as root with Debian's python:
    /usr/bin/python3 -m pytest -q tests/integration/test_kernel_setup.py
SARA_BUILD selects the build folder holding tools/kernel_setup_driver (default: build).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import topology

ROOT = Path(__file__).resolve().parents[2]
_BUILD = Path(os.environ.get("SARA_BUILD", "build"))
DRIVER = (_BUILD if _BUILD.is_absolute() else ROOT / _BUILD) / "tools" / "kernel_setup_driver"

NS_PREFIX = "sara-ks-"
LAN = "lan0"
LAN_ADDR = "198.18.2.1/24"
VIP_A = "198.18.100.10"
VIP_B = "198.18.100.20"
NODES = {
    1: ("198.18.2.11", "02:00:00:00:02:11"),
    2: ("198.18.2.12", "02:00:00:00:02:12"),
    3: ("198.18.2.13", "02:00:00:00:02:13"),
}
SIGNALLING = ["udp/5060", "tcp/5060", "tcp/554"]
BUILTIN_CHAINS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
TABLE_BASE = 100


# ---------------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def ns(request):
    """A namespace with lan0 198.18.2.1/24 up (a dummy interface, or a veth pair where the
    kernel has no dummy driver), deleted by a finalizer whatever happens."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    missing = [t for t in ("ip", "iptables-save", "iptables-restore") if not shutil.which(t)]
    if missing:
        pytest.skip("missing tools: " + " ".join(missing))
    assert DRIVER.exists(), "%s is missing: make BUILD=%s %s/tools/kernel_setup_driver" % (DRIVER, _BUILD, _BUILD)
    topology.cleanup_stale(NS_PREFIX)
    n = topology.Namespace.create(NS_PREFIX)
    request.addfinalizer(n.delete)
    if n.run("ip", "link", "add", LAN, "type", "dummy", check=False).returncode != 0:
        n.run("ip", "link", "add", LAN, "type", "veth", "peer", "name", LAN + "p")
        n.run("ip", "link", "set", LAN + "p", "up")
    n.run("ip", "link", "set", LAN, "up")
    n.run("ip", "addr", "add", LAN_ADDR, "dev", LAN)
    return n


@pytest.fixture
def line(request, ns):
    """client (198.18.1.2) -- cli0 [ns = dispatcher] lan0 -- node 1 (198.18.2.11, VIP on lo):
    just enough to push packets through the installed setup. Replaces the fixture's lan0."""
    client = topology.Namespace.create(NS_PREFIX)
    request.addfinalizer(client.delete)
    node = topology.Namespace.create(NS_PREFIX)
    request.addfinalizer(node.delete)
    ns.run("ip", "link", "del", LAN)
    ns.run("ip", "link", "add", LAN, "type", "veth", "peer", "name", "eth0", "netns", node.name)
    ns.run("ip", "link", "add", "cli0", "type", "veth", "peer", "name", "eth0", "netns", client.name)
    ns.run("ip", "addr", "add", LAN_ADDR, "dev", LAN)
    ns.run("ip", "addr", "add", "198.18.1.1/24", "dev", "cli0")
    for ifname in (LAN, "cli0"):
        ns.run("ip", "link", "set", ifname, "up")
    client.run("ip", "addr", "add", "198.18.1.2/24", "dev", "eth0")
    client.run("ip", "link", "set", "eth0", "up")
    client.run("ip", "route", "add", VIP_A + "/32", "via", "198.18.1.1")
    node.run("ip", "link", "set", "eth0", "address", NODES[1][1])
    node.run("ip", "addr", "add", NODES[1][0] + "/24", "dev", "eth0")
    node.run("ip", "link", "set", "eth0", "up")
    node.run("ip", "addr", "add", VIP_A + "/32", "dev", "lo")
    node.run("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0")
    return client, node


def node_args(*ids, addresses=None):
    args = []
    for i in ids:
        address, mac = NODES[i]
        if addresses and i in addresses:
            address = addresses[i]
        args += ["--node", "%d,%s,%s" % (i, address, mac)]
    return args


def driver(ns, command, *args, check=True):
    r = ns.run(str(DRIVER), command, "--lan", LAN, *args, check=False)
    if check:
        assert r.returncode == 0, "driver %s failed (%d):\n%s" % (command, r.returncode, r.stderr)
    return r


def install(ns, vip=VIP_A, nodes=(1, 2), *extra):
    return driver(ns, "install", "--vip", vip, *node_args(*nodes), "--queues", "0,2",
                  *[a for p in SIGNALLING for a in ("--port", p)], *extra)


def iptables_state(ns):
    """{table: [lines]} from iptables-save without comments and counters. A table that holds
    only empty built-in chains with policy ACCEPT counts as absent: the nf_tables backend keeps
    a table once something created it, and iptables has no command to delete one."""
    tables, current = {}, None
    for line in ns.run("iptables-save").stdout.splitlines():
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], [])
            continue
        current.append(re.sub(r"\s*\[\d+:\d+\]$", "", line))
    empty = re.compile(r":(%s) ACCEPT" % "|".join(BUILTIN_CHAINS))
    return {t: lines for t, lines in tables.items() if not all(empty.fullmatch(x) for x in lines)}


def snapshot(ns):
    """Everything the kernel setup may touch, in comparable form."""
    return {
        "iptables": iptables_state(ns),
        "rules": ns.run("ip", "-4", "rule", "show").stdout.splitlines(),
        "routes": sorted(ns.run("ip", "-4", "route", "show", "table", "all").stdout.splitlines()),
        "neighbours": sorted(ns.run("ip", "-4", "neigh", "show", "nud", "permanent").stdout.splitlines()),
    }


def sara_lines(ns, table):
    return [x for x in iptables_state(ns).get(table, []) if "SARA-" in x]


def chain_rules(ns, table, chain):
    return [x for x in iptables_state(ns).get(table, []) if x.startswith("-A %s " % chain)]


def fwmark_rules(ns):
    """ip rules in the owned priority range that carry a fwmark, as printed."""
    out = []
    for line in ns.run("ip", "-4", "rule", "show").stdout.splitlines():
        m = re.match(r"(\d+):", line)
        if m and TABLE_BASE <= int(m.group(1)) < TABLE_BASE + 256 and "fwmark" in line:
            out.append(" ".join(line.split()))
    return out


def table_routes(ns, table):
    r = ns.run("ip", "-4", "route", "show", "table", str(table), check=False)
    if r.returncode != 0 and "FIB table does not exist" in r.stderr:
        return []                                    # a table exists only while it has routes
    assert r.returncode == 0, r.stderr
    return [" ".join(x.split()) for x in r.stdout.splitlines()]


def permanent_neighbours(ns):
    out = ns.run("ip", "-4", "neigh", "show", "nud", "permanent").stdout.splitlines()
    return sorted(" ".join(x.split()) for x in out)


def add_foreign_objects(ns):
    """Objects of other owners that the kernel setup must never touch."""
    ns.run("iptables", "-t", "raw", "-A", "PREROUTING", "-p", "udp", "--dport", "9", "-j", "CT", "--notrack")
    ns.run("iptables", "-t", "mangle", "-N", "FOREIGN")
    ns.run("iptables", "-t", "mangle", "-A", "FOREIGN", "-j", "MARK", "--set-mark", "0x7")
    ns.run("iptables", "-t", "mangle", "-A", "PREROUTING", "-d", "198.18.100.99/32", "-j", "FOREIGN")
    ns.run("iptables", "-t", "mangle", "-A", "FORWARD", "-p", "icmp", "-j", "ACCEPT")
    ns.run("iptables", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
    ns.run("ip", "rule", "add", "pref", "150", "lookup", "main")              # in range, no fwmark
    ns.run("ip", "rule", "add", "pref", "99", "fwmark", "0x9", "lookup", "99")  # fwmark, out of range
    ns.run("ip", "route", "add", "default", "via", "198.18.2.77", "dev", LAN, "table", "50")
    ns.run("ip", "route", "add", "198.18.50.0/24", "via", "198.18.2.77", "dev", LAN)
    ns.run("ip", "neigh", "add", "198.18.2.77", "lladdr", "02:00:00:00:02:77", "dev", LAN, "nud", "permanent")


def expected_routing(nodes, addresses=None):
    rules = ["%d: from all fwmark 0x%x/0xffff lookup %d" % (TABLE_BASE + i, i, TABLE_BASE + i) for i in sorted(nodes)]
    routes = {TABLE_BASE + i: ["default via %s dev %s proto static onlink" % ((addresses or {}).get(i, NODES[i][0]), LAN)]
              for i in nodes}
    neighbours = sorted("%s dev %s lladdr %s PERMANENT" % ((addresses or {}).get(i, NODES[i][0]), LAN, NODES[i][1])
                        for i in nodes)
    return rules, routes, neighbours


def assert_routing(ns, nodes, addresses=None, foreign_neighbours=()):
    rules, routes, neighbours = expected_routing(nodes, addresses)
    assert fwmark_rules(ns) == rules
    for table in range(TABLE_BASE + 1, TABLE_BASE + 6):
        assert table_routes(ns, table) == routes.get(table, []), "table %d" % table
    assert permanent_neighbours(ns) == sorted(neighbours + list(foreign_neighbours))


FOREIGN_NEIGHBOUR = "198.18.2.77 dev lan0 lladdr 02:00:00:00:02:77 PERMANENT"


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------
def test_install_creates_the_rule_set_routes_rules_and_neighbours(ns):
    install(ns)

    assert sara_lines(ns, "raw") == [
        ":SARA-RAW -",
        "-A PREROUTING -d %s/32 -j SARA-RAW" % VIP_A,
        "-A SARA-RAW -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j CT --notrack",
        "-A SARA-RAW -p udp -m udp --dport 5060 -j CT --notrack",
    ]
    queue = "NFQUEUE --queue-balance 0:1 --queue-bypass"
    assert chain_rules(ns, "mangle", "SARA-PRE") == [
        "-A SARA-PRE -j CONNMARK --restore-mark --nfmask 0xffff --ctmask 0xffff",
        "-A SARA-PRE -p udp -m udp --dport 5060 -j " + queue,
        "-A SARA-PRE -p tcp -m tcp --dport 5060 -j " + queue,
        "-A SARA-PRE -p tcp -m tcp --dport 554 -j " + queue,
        "-A SARA-PRE -m mark ! --mark 0x0/0xffff -j ACCEPT",
        "-A SARA-PRE -j " + queue,
    ]
    assert chain_rules(ns, "mangle", "SARA-FWD") == [
        "-A SARA-FWD -m mark --mark 0x0/0x10000 -m mark ! --mark 0x0/0xffff "
        "-j CONNMARK --save-mark --nfmask 0xffff --ctmask 0xffff",
    ]
    assert chain_rules(ns, "mangle", "PREROUTING") == ["-A PREROUTING -d %s/32 -j SARA-PRE" % VIP_A]
    assert chain_rules(ns, "mangle", "FORWARD") == ["-A FORWARD -j SARA-FWD"]
    assert_routing(ns, {1, 2})


def test_sysctls_are_set(ns):
    install(ns)
    expected = {
        "net/ipv4/ip_forward": "1",
        "net/netfilter/nf_conntrack_tcp_loose": "1",
        "net/netfilter/nf_conntrack_tcp_be_liberal": "1",
        "net/ipv4/conf/all/send_redirects": "0",
        "net/ipv4/conf/%s/send_redirects" % LAN: "0",
    }
    got = {k: ns.run("cat", "/proc/sys/" + k).stdout.strip() for k in expected}
    assert got == expected


def test_marks_select_the_node_tables(ns):
    """The rule's mask ignores the no-save bit: signalling verdicts route like data verdicts."""
    install(ns)
    for mark, node in (("0x1", 1), ("0x2", 2), ("0x10001", 1), ("0x10002", 2)):
        out = ns.run("ip", "-4", "route", "get", VIP_A, "mark", mark).stdout
        assert "via %s dev %s table %d" % (NODES[node][0], LAN, TABLE_BASE + node) in out, out
    assert ns.run("ip", "-4", "route", "get", VIP_A, "mark", "0x3", check=False).returncode != 0


RECEIVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print(s.getsockname()[1], flush=True)
s.settimeout(2.0)
try:
    while True:
        data, peer = s.recvfrom(100)
        print(data.decode(), flush=True)
except socket.timeout:
    pass
"""
SENDER = """
import socket, sys
vip, port = sys.argv[1], int(sys.argv[2])
for sport in sys.argv[3:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.2", int(sport)))
    s.sendto(sport.encode(), (vip, port))
"""


def send_through(ns, client, node, source_ports, marks, port=0):
    """Starts a UDP receiver on the node's VIP (port 0: any free one), gives the dispatcher's conntrack an entry with
    the given mark for each source port (what a saved verdict leaves), sends one datagram per
    source port from the client; returns the source ports whose datagram reached the node."""
    receiver = subprocess.Popen(node.argv("timeout", "10", "/usr/bin/python3", "-c", RECEIVER, VIP_A, str(port)),
                                stdout=subprocess.PIPE, text=True)
    try:
        port = int(receiver.stdout.readline())
        for sport, mark in zip(source_ports, marks):
            if mark is not None:
                ns.run("conntrack", "-I", "-p", "udp", "-s", "198.18.1.2", "-d", VIP_A, "--sport", str(sport),
                       "--dport", str(port), "-r", VIP_A, "-q", "198.18.1.2", "--reply-port-src", str(port),
                       "--reply-port-dst", str(sport), "-t", "60", "--mark", str(mark))
        client.run("/usr/bin/python3", "-c", SENDER, VIP_A, str(port), *map(str, source_ports))
        out, _ = receiver.communicate(timeout=15)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    return sorted(int(x) for x in out.split())


def test_marked_data_flows_take_the_fast_path_to_their_node(ns, line):
    """End to end through the kernel, without sarad: a flow whose conntrack entry carries node
    1's mark goes straight to node 1 (restore-mark, fast-path ACCEPT, fwmark rule, table 101,
    permanent neighbour); an unmarked flow is queued and, with no listener and no bypass,
    dropped (fail closed). Signalling is queued even when its entry carries a mark."""
    if not shutil.which("conntrack"):
        pytest.skip("missing tool: conntrack")
    client, node = line
    driver(ns, "install", "--vip", VIP_A, *node_args(1), "--queues", "0,1", "--no-bypass", "--port", "udp/5060")
    assert send_through(ns, client, node, [40000, 40001], [1, None]) == [40000]
    counters = ns.run("iptables", "-t", "mangle", "-L", "SARA-PRE", "-v", "-n", "-x").stdout
    assert re.search(r"^\s*1\s+\d+\s+ACCEPT", counters, re.M), counters
    assert send_through(ns, client, node, [40002], [1], port=5060) == []


def test_degrade_rule_drops_fast_path_packets_and_goes_away(ns, line):
    """Admission control's degradation (DESIGN §5, m > T3): with --degrade 1 a marked flow's
    packets are dropped on the fast path; a probability is written as the statistic match
    shows it; a new install without it removes the rule and the flow passes again."""
    if not shutil.which("conntrack"):
        pytest.skip("missing tool: conntrack")
    client, node = line
    args = ("--vip", VIP_A, *node_args(1), "--queues", "0,1", "--no-bypass", "--port", "udp/5060")
    driver(ns, "install", *args, "--degrade", "1")
    assert send_through(ns, client, node, [40010], [1]) == []
    driver(ns, "install", *args, "--degrade", "0.25")
    rules = chain_rules(ns, "mangle", "SARA-PRE")
    degrade = [r for r in rules if "statistic" in r]
    assert len(degrade) == 1 and "--probability 0.25" in degrade[0] and degrade[0].endswith("-j DROP"), rules
    assert rules.index(degrade[0]) < next(i for i, r in enumerate(rules) if r.endswith("-j ACCEPT"))
    driver(ns, "install", *args)
    assert not [r for r in chain_rules(ns, "mangle", "SARA-PRE") if "statistic" in r]
    assert send_through(ns, client, node, [40011], [1]) == [40011]
    r = driver(ns, "install", *args, "--degrade", "1.5", check=False)
    assert r.returncode != 0 and "--degrade" in r.stderr


def test_remove_leaves_exactly_what_was_there_before(ns):
    add_foreign_objects(ns)
    before = snapshot(ns)
    install(ns)
    # Our jumps come first in their built-in chains, ahead of the foreign rules.
    assert chain_rules(ns, "mangle", "PREROUTING")[0] == "-A PREROUTING -d %s/32 -j SARA-PRE" % VIP_A
    assert chain_rules(ns, "mangle", "FORWARD")[0] == "-A FORWARD -j SARA-FWD"
    assert chain_rules(ns, "raw", "PREROUTING")[0] == "-A PREROUTING -d %s/32 -j SARA-RAW" % VIP_A
    assert_routing(ns, {1, 2}, foreign_neighbours=[FOREIGN_NEIGHBOUR])

    driver(ns, "remove", *node_args(1, 2))
    assert snapshot(ns) == before


def test_remove_is_idempotent(ns):
    before = snapshot(ns)
    driver(ns, "remove", *node_args(1, 2))          # nothing installed yet
    install(ns)
    driver(ns, "remove", *node_args(1, 2))
    driver(ns, "remove", *node_args(1, 2))
    assert snapshot(ns) == before


def test_install_twice_replaces_without_duplicates(ns):
    add_foreign_objects(ns)
    install(ns)
    once = snapshot(ns)
    install(ns)
    assert snapshot(ns) == once


def test_install_after_a_crash_keeps_only_the_new_setup(ns):
    """A run that never removed its setup (crash), then a start with another VIP, other
    nodes and a node whose address changed: only the second setup remains."""
    add_foreign_objects(ns)
    before = snapshot(ns)
    install(ns, VIP_A, (1, 2))
    # Leftovers of a older, different version of the setup: an extra chain and stray objects
    # in the owned ranges.
    ns.run("iptables", "-t", "mangle", "-N", "SARA-OLD")
    ns.run("iptables", "-t", "mangle", "-A", "SARA-OLD", "-j", "ACCEPT")
    ns.run("iptables", "-t", "mangle", "-A", "SARA-PRE", "-j", "SARA-OLD")
    ns.run("iptables", "-t", "filter", "-N", "SARA-FILTER")
    ns.run("iptables", "-t", "filter", "-A", "INPUT", "-d", VIP_A, "-j", "SARA-FILTER")
    ns.run("ip", "rule", "add", "pref", "140", "fwmark", "0x28", "lookup", "140")
    ns.run("ip", "route", "add", "198.18.9.0/24", "via", "198.18.2.40", "dev", LAN, "table", "140")
    ns.run("ip", "neigh", "add", "198.18.2.40", "lladdr", "02:00:00:00:02:40", "dev", LAN, "nud", "permanent")
    ns.run("ip", "route", "add", "198.18.8.0/24", "via", "198.18.2.12", "dev", LAN, "table", "101")

    moved = {1: "198.18.2.31"}
    driver(ns, "install", "--vip", VIP_B, *node_args(1, 3, addresses=moved), "--queues", "0,2",
           *[a for p in SIGNALLING for a in ("--port", p)])

    state = iptables_state(ns)
    jumps = [x for t in state.values() for x in t if re.search(r" -[jg] SARA-", x) and not x.startswith("-A SARA-")]
    assert sorted(jumps) == sorted([
        "-A PREROUTING -d %s/32 -j SARA-RAW" % VIP_B,
        "-A PREROUTING -d %s/32 -j SARA-PRE" % VIP_B,
        "-A FORWARD -j SARA-FWD",
    ])
    chains = sorted(x for t in state.values() for x in t if x.startswith(":SARA-"))
    assert chains == [":SARA-FWD -", ":SARA-PRE -", ":SARA-RAW -"]
    assert not any(VIP_A in x for t in state.values() for x in t)
    assert_routing(ns, {1, 3}, addresses=moved, foreign_neighbours=[FOREIGN_NEIGHBOUR])
    assert table_routes(ns, 140) == []

    driver(ns, "remove", *node_args(1, 3, addresses=moved))
    assert snapshot(ns) == before


def test_link_flap_loses_routes_and_neighbours_and_install_restores_them(ns):
    """Kernel behaviour the daemon must handle: a LAN interface that goes down takes the
    permanent neighbours and the per-node routes with it (the rules stay)."""
    install(ns)
    ns.run("ip", "link", "set", LAN, "down")
    ns.run("ip", "link", "set", LAN, "up")
    assert permanent_neighbours(ns) == [] and table_routes(ns, TABLE_BASE + 1) == []
    assert len(fwmark_rules(ns)) == 2
    install(ns)
    assert_routing(ns, {1, 2})


def test_queue_options(ns):
    driver(ns, "install", "--vip", VIP_A, *node_args(1), "--queues", "4,1", "--no-bypass", "--port", "udp/5060")
    assert chain_rules(ns, "mangle", "SARA-PRE") == [
        "-A SARA-PRE -j CONNMARK --restore-mark --nfmask 0xffff --ctmask 0xffff",
        "-A SARA-PRE -p udp -m udp --dport 5060 -j NFQUEUE --queue-num 4",
        "-A SARA-PRE -m mark ! --mark 0x0/0xffff -j ACCEPT",
        "-A SARA-PRE -j NFQUEUE --queue-num 4",
    ]
    driver(ns, "install", "--vip", VIP_A, *node_args(1), "--queues", "4,3")
    assert chain_rules(ns, "mangle", "SARA-PRE") == [
        "-A SARA-PRE -j CONNMARK --restore-mark --nfmask 0xffff --ctmask 0xffff",
        "-A SARA-PRE -m mark ! --mark 0x0/0xffff -j ACCEPT",
        "-A SARA-PRE -j NFQUEUE --queue-balance 4:6 --queue-bypass",
    ]


def test_raw_mode_queues_everything_and_routes_nothing(ns):
    before = snapshot(ns)
    install(ns)
    driver(ns, "install", "--vip", VIP_A, *node_args(1, 2), "--queues", "0,1", "--raw-mode")
    assert iptables_state(ns).get("raw", []) == []
    # SARA-DEFRAG is never jumped to: its socket match turns the kernel's IPv4 defrag on.
    assert sara_lines(ns, "mangle") == [
        ":SARA-DEFRAG -",
        ":SARA-PRE -",
        "-A PREROUTING -d %s/32 -j SARA-PRE" % VIP_A,
        "-A SARA-DEFRAG -m socket -j RETURN",
        "-A SARA-PRE -j NFQUEUE --queue-num 0 --queue-bypass",
    ]
    assert_routing(ns, set())
    driver(ns, "remove", *node_args(1, 2))
    assert snapshot(ns) == before


def test_add_and_remove_node(ns):
    add_foreign_objects(ns)
    install(ns, VIP_A, (1,))
    iptables_before = iptables_state(ns)

    driver(ns, "add-node", "--vip", VIP_A, *node_args(2))
    assert_routing(ns, {1, 2}, foreign_neighbours=[FOREIGN_NEIGHBOUR])
    driver(ns, "add-node", "--vip", VIP_A, *node_args(2))            # again: no duplicates
    assert_routing(ns, {1, 2}, foreign_neighbours=[FOREIGN_NEIGHBOUR])

    moved = {2: "198.18.2.32"}                       # node 2 comes back under a new address
    driver(ns, "add-node", "--vip", VIP_A, *node_args(2, addresses=moved))
    assert_routing(ns, {1, 2}, addresses=moved, foreign_neighbours=[FOREIGN_NEIGHBOUR])

    driver(ns, "remove-node", "--vip", VIP_A, *node_args(2, addresses=moved))
    assert_routing(ns, {1}, foreign_neighbours=[FOREIGN_NEIGHBOUR])
    driver(ns, "remove-node", "--vip", VIP_A, *node_args(2, addresses=moved))
    assert_routing(ns, {1}, foreign_neighbours=[FOREIGN_NEIGHBOUR])
    assert iptables_state(ns) == iptables_before     # per-node changes leave iptables alone


@pytest.mark.parametrize("args, message", [
    (["--vip", "::", *node_args(1)], "vip: must be set"),
    (["--vip", VIP_A, "--node", "154,198.18.2.54,02:00:00:00:02:54"], "routing table 254"),
    (["--vip", VIP_A, "--node", "251,198.18.2.51,02:00:00:00:02:51"], "id must be 1..250"),
    (["--vip", VIP_A, *node_args(1), "--node", "2,198.18.2.11,02:00:00:00:02:12"], "used twice"),
    (["--vip", VIP_A, "--node", "1,198.18.2.11,01:00:5e:00:00:01"], "MAC must be a non-zero unicast"),
    (["--vip", VIP_A, *node_args(1), "--table-base", "32600"], "below the main rule"),
], ids=["unspecified-ipv6-vip", "reserved-table", "id-range", "duplicate-address", "multicast-mac", "table-base"])
def test_invalid_specs_are_rejected_before_touching_the_kernel(ns, args, message):
    before = snapshot(ns)
    r = driver(ns, "install", *args, check=False)
    assert r.returncode == 1
    assert message in r.stderr
    assert snapshot(ns) == before


def test_errors_name_the_failing_object(ns):
    r = ns.run(str(DRIVER), "install", "--lan", "nosuch0", "--vip", VIP_A, *node_args(1), check=False)
    assert r.returncode == 1 and "lan_interface nosuch0: No such device" in r.stderr

    ns.run("ip", "link", "set", LAN, "down")
    r = driver(ns, "install", "--vip", VIP_A, *node_args(1), check=False)
    assert r.returncode == 1
    assert "route default via 198.18.2.11 dev lan0 onlink table 101: Network is down" in r.stderr
    ns.run("ip", "link", "set", LAN, "up")
    driver(ns, "remove", *node_args(1))              # clears the partial setup
    assert permanent_neighbours(ns) == [] and fwmark_rules(ns) == []

    r = driver(ns, "install", "--vip", VIP_A, *node_args(1), "--iptables-restore", "/bin/false", check=False)
    assert r.returncode == 1 and "/bin/false -w 10 --noflush exited with status 1" in r.stderr
