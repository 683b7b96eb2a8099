#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""How many clients the upstream router moves to another dispatcher when one of N leaves
(issue 19, DESIGN §9b), measured on Linux's own ECMP in a namespace of its own: the router's
route for the VIP over N dispatchers (next hops on a veth, permanent neighbours, nothing
sent), looked up (`ip route get VIP from CLIENT iif eth0`) for CLIENTS client addresses with
addresses-only hashing (fib_multipath_hash_policy 0), before and after the last dispatcher
leaves. Two kinds of route: a classic multipath route (hash-threshold) and a resilient
next-hop group (kernel >= 5.13; 128 buckets). A perfect result moves only the leaving
dispatcher's clients: 1/N of them.

Run as root: /usr/bin/python3 tests/bench/ecmp/remap.py [--clients 4096]
"""
import argparse
import os
import subprocess
import sys

VIP = "198.18.100.10"


def sh(ns, *cmd, input=None):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], input=input, text=True, check=True,
                          capture_output=True).stdout


def hops_of(ns, clients):
    """{client: next hop} for every client, in one `ip -batch`."""
    batch = "".join("route get %s from %s iif eth0\n" % (VIP, c) for c in clients)
    out = sh(ns, "ip", "-o", "-batch", "-", input=batch).splitlines()
    hops = [line.split(" via ")[1].split()[0] for line in out if " via " in line]
    if len(hops) != len(clients):
        raise RuntimeError("ip route get answered %d of %d lookups" % (len(hops), len(clients)))
    return dict(zip(clients, hops))


def dispatcher(i):
    return "198.18.1.%d" % (10 + i)


def install(ns, n, resilient):
    subprocess.run(["ip", "netns", "exec", ns, "ip", "route", "del", VIP + "/32"], capture_output=True)
    if resilient:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "nexthop", "flush"], capture_output=True)
        for i in range(n):
            sh(ns, "ip", "nexthop", "add", "id", str(i + 1), "via", dispatcher(i), "dev", "eth0")
        group = "/".join(str(i + 1) for i in range(n))
        sh(ns, "ip", "nexthop", "add", "id", "100", "group", group, "type", "resilient", "buckets", "128",
           "idle_timer", "0")
        sh(ns, "ip", "route", "add", VIP + "/32", "nhid", "100", "proto", "static")
    else:
        hops = []
        for i in range(n):
            hops += ["nexthop", "via", dispatcher(i), "dev", "eth0"]
        sh(ns, "ip", "route", "add", VIP + "/32", "proto", "static", *hops)


def leave(ns, n, resilient):
    """The last dispatcher leaves (its BGP route withdrawn)."""
    if resilient:
        sh(ns, "ip", "nexthop", "replace", "id", "100", "group", "/".join(str(i + 1) for i in range(n - 1)),
           "type", "resilient", "buckets", "128", "idle_timer", "0")
    else:
        install(ns, n - 1, False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=4096)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("remap.py: run as root (it makes a network namespace)")
    ns = "sara-bench-ecmp-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        sh(ns, "ip", "link", "set", "lo", "up")
        sh(ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
        for dev in ("eth0", "eth1"):
            sh(ns, "ip", "link", "set", dev, "up")
        sh(ns, "ip", "addr", "add", "198.18.1.5/24", "dev", "eth0")
        sh(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=0",
           "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0")
        for i in range(16):
            sh(ns, "ip", "neigh", "replace", dispatcher(i), "lladdr", "02:00:00:00:09:%02x" % i, "dev", "eth0",
               "nud", "permanent")
        clients = ["198.19.%d.%d" % (k // 250, 1 + k % 250) for k in range(args.clients)]
        print("clients moved when the last of N dispatchers leaves (%d client addresses, L3 hash):" % len(clients))
        for resilient in (False, True):
            for n in (2, 3, 4, 8):
                install(ns, n, resilient)
                before = hops_of(ns, clients)
                leave(ns, n, resilient)
                after = hops_of(ns, clients)
                leaving = dispatcher(n - 1)
                moved = sum(before[c] != after[c] for c in clients)
                forced = sum(before[c] == leaving for c in clients)
                spread = [sum(v == dispatcher(i) for v in before.values()) for i in range(n)]
                print("  %-22s N=%d: moved %5.1f %% of the clients (the leaving one's share %4.1f %%, ideal %4.1f %%); "
                      "clients per dispatcher before: %s" % (
                          "resilient group (128)" if resilient else "multipath route", n,
                          100.0 * moved / len(clients), 100.0 * forced / len(clients), 100.0 / n, spread))
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    main()
