#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile and broken IPv6 packets towards VIP6, for the IPv6 data-path tests (run it in the
client namespace with Debian's python3 and python3-scapy):

    ip netns exec CLIENT_NS /usr/bin/python3 bad_input6.py --vip 2001:db8:100::10 \
        --src 2001:db8:1::2 --dst-mac 02:00:00:00:01:01 [--iface eth0]

Sends each category once as crafted Ethernet frames and prints one JSON line per category
({"category", "sent"}). Bounded: a few hundred frames in all; exits by itself. Addresses must
be from 2001:db8::/32 (documentation prefix, inside the test's namespaces).
"""
import argparse
import ipaddress
import json
import random
import sys

from scapy.all import (UDP, Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,  # noqa: E402
                       IPv6ExtHdrRouting, Raw, conf, fragment6, sendp)

DOC = ipaddress.ip_network("2001:db8::/32")
SIP_PORT = 5060
rng = random.Random(1806)


def sip(vip, src, method="OPTIONS", call_id=None, pad=0):
    cid = call_id or "bad6-%d" % rng.getrandbits(32)
    text = ("%s sip:service@[%s]:5060 SIP/2.0\r\nVia: SIP/2.0/UDP [%s]:5099;branch=z9hG4bK-%d\r\n"
            "From: <sip:bad@[%s]>;tag=1\r\nTo: <sip:service@[%s]>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"
            "X-Pad: %s\r\nContent-Length: 0\r\n\r\n"
            % (method, vip, src, rng.getrandbits(32), src, vip, cid, method, "a" * pad))
    return text.encode()


def categories(vip, src):
    base = IPv6(src=src, dst=vip)
    udp = UDP(sport=5099, dport=SIP_PORT)
    chain = base
    for _ in range(60):                      # a long chain of destination options headers
        chain = chain / IPv6ExtHdrDestOpt()
    big = base / IPv6ExtHdrFragment(id=rng.getrandbits(32)) / udp / Raw(sip(vip, src, pad=3000))
    return {
        # IPv6 header cut short, and one whose payload length claims more than is there.
        "truncated-header": [Raw(bytes(base)[:24])],
        "payload-length-lies": [Raw(bytes(base / udp / Raw(sip(vip, src)))[:60])],
        "extension-chain-60": [chain / udp / Raw(sip(vip, src))],
        "hop-by-hop-options": [base / IPv6ExtHdrHopByHop() / udp / Raw(sip(vip, src))],
        "routing-header-type0": [base / IPv6ExtHdrRouting(addresses=[src]) / udp / Raw(sip(vip, src))],
        "extension-overruns-packet": [Raw(bytes(base)[:4] + b"\x00\x10\x3c\x40" + bytes(base)[8:40]
                                          + bytes([17, 200, 1, 4, 0, 0, 0, 0]) * 2)],
        "fragmented-sip": fragment6(big, 1280),
        "lone-later-fragment": [base / IPv6ExtHdrFragment(offset=100, m=0, id=rng.getrandbits(32)) / Raw(b"x" * 64)],
        "garbage-udp-to-sip": [base / udp / Raw(rng.randbytes(200)) for _ in range(20)],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--iface", default="eth0")
    a = ap.parse_args()
    for addr in (a.vip, a.src):
        if ipaddress.ip_address(addr) not in DOC:
            sys.exit("refusing to send to or from %s: not in 2001:db8::/32" % addr)
    conf.verb = 0
    for name, packets in categories(a.vip, a.src).items():
        frames = []
        for p in packets:
            if isinstance(p, Raw):           # raw bytes: an IPv6 packet scapy must not fix up
                frames.append(Ether(dst=a.dst_mac, type=0x86DD) / p)
            else:
                frames.append(Ether(dst=a.dst_mac) / p)
        sendp(frames, iface=a.iface, verbose=False)
        print(json.dumps({"category": name, "sent": len(frames)}), flush=True)


if __name__ == "__main__":
    main()
