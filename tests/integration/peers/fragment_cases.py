#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IPv4 fragment orders and faults for the raw-mode reassembly test (run it in the client
namespace):

    fragment_cases.py --vip 198.18.100.10 --src 198.18.1.2 CASE...

Each case sends one SIP OPTIONS datagram of about 3 kB (its own Call-ID `frag-CASE` and IP
id) to VIP:5060 as three fragments of at most 1480 payload bytes, on a raw socket
(IP_HDRINCL: the kernel sends each fragment as it is):
  in-order      first, middle, last
  reversed      last, middle, first
  duplicate     first, middle, middle again, last
  overlap       first, then a middle fragment starting 8 bytes early (overlapping the
                first), then the last
  missing-last  first, middle (never completed: the kernel times it out)
Prints {"sent": fragments} as JSON. Addresses must lie in 198.18.0.0/15.
"""
import argparse
import ipaddress
import json
import socket
import struct
import sys
import time

BENCH = ipaddress.ip_network("198.18.0.0/15")
CASES = ("in-order", "reversed", "duplicate", "overlap", "missing-last")
CHUNK = 1480


def datagram(case: str, vip: str, src: str) -> bytes:
    head = ("OPTIONS sip:service@%s:5060 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5098;branch=z9hG4bK-%s\r\n"
            "From: frag <sip:frag@%s:5098>;tag=1\r\nTo: service <sip:service@%s:5060>\r\n"
            "Call-ID: frag-%s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nX-Pad: %s\r\n"
            "Content-Length: 0\r\n\r\n" % (vip, src, case, src, vip, case, "p" * 2700)).encode()
    return struct.pack("!HHHH", 5098, 5060, 8 + len(head), 0) + head


def fragment(src: bytes, dst: bytes, ident: int, payload: bytes, offset: int, more: bool) -> bytes:
    flags = (0x2000 if more else 0) | (offset // 8)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, 64, 17, 0,
                       src, dst) + payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("cases", nargs="+", choices=CASES)
    a = ap.parse_args()
    for addr in (a.vip, a.src):
        if ipaddress.ip_address(addr) not in BENCH:
            sys.exit("%s is not in %s" % (addr, BENCH))
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.vip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for n, case in enumerate(a.cases):
        d = datagram(case, a.vip, a.src)
        ident = 0x4000 + n
        first = fragment(src, dst, ident, d[:CHUNK], 0, True)
        middle = fragment(src, dst, ident, d[CHUNK:2 * CHUNK], CHUNK, True)
        last = fragment(src, dst, ident, d[2 * CHUNK:], 2 * CHUNK, False)
        early = fragment(src, dst, ident, d[CHUNK - 8:2 * CHUNK - 8], CHUNK - 8, True)
        order = {"in-order": [first, middle, last], "reversed": [last, middle, first],
                 "duplicate": [first, middle, middle, last], "overlap": [first, early, last],
                 "missing-last": [first, middle]}[case]
        for f in order:
            s.sendto(f, (a.vip, 0))
            sent += 1
        time.sleep(0.05)
    print(json.dumps({"sent": sent}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
