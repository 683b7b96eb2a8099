#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A bounded flood of new UDP flows to the VIP, for the data-path tests (run it in the client
namespace):

    udp_flood.py --vip 198.18.100.10 --src 198.18.1.2 [--ports 20000-20015] [--pps 20000]
                 [--seconds 10] [--max-packets 500000] [--size 64]

Every packet comes from a random source port (1024-65535) to a random port of --ports, so
nearly every packet is a new flow for the dispatcher. Raw IPv4 socket (IP_HDRINCL), paced in
bursts of 100 every --pps/100 of a second; stops by itself after --seconds or --max-packets,
whichever comes first, and prints {"sent", "seconds", "pps", "errors"} as JSON. Refuses
addresses outside 198.18.0.0/15 and rates above 50000 packets/s.
"""
import argparse
import ipaddress
import json
import random
import socket
import struct
import sys
import time

BENCH = ipaddress.ip_network("198.18.0.0/15")
MAX_PPS = 50000
BURST = 100


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--ports", default="20000-20015")
    ap.add_argument("--pps", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--max-packets", type=int, default=500000)
    ap.add_argument("--size", type=int, default=64, help="UDP payload bytes")
    a = ap.parse_args()
    for addr in (a.vip, a.src):
        if ipaddress.ip_address(addr) not in BENCH:
            sys.exit("%s is not in %s" % (addr, BENCH))
    if not 0 < a.pps <= MAX_PPS or not 0 < a.seconds <= 60 or a.max_packets > 3_000_000:
        sys.exit("refusing: at most %d packets/s, 60 s, 3M packets" % MAX_PPS)
    lo, hi = (int(x) for x in a.ports.split("-"))
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.vip)
    payload = b"\0" * a.size
    rng = random.Random(7)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    target = (a.vip, 0)
    total = 20 + 8 + a.size
    # Checksum left 0: the kernel fills in the IP checksum (IP_HDRINCL); UDP checksum 0 = none.
    ip_head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0, src, dst)
    sent = errors = 0
    start = time.monotonic()
    end = start + a.seconds
    interval = BURST / a.pps
    next_burst = start
    while sent < a.max_packets:
        now = time.monotonic()
        if now >= end:
            break
        if now < next_burst:
            time.sleep(next_burst - now)
        next_burst += interval
        for _ in range(min(BURST, a.max_packets - sent)):
            udp = struct.pack("!HHHH", rng.randrange(1024, 65536), rng.randrange(lo, hi + 1),
                              8 + a.size, 0)
            try:
                s.sendto(ip_head + udp + payload, target)
                sent += 1
            except OSError:
                errors += 1
    secs = time.monotonic() - start
    print(json.dumps({"sent": sent, "seconds": round(secs, 3), "pps": round(sent / secs),
                      "errors": errors}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
