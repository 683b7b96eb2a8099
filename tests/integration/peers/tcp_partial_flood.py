#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Spoofed TCP connections that each send part of a SIP message and never finish it (the
stream-buffer attack of issue 16), for the data-path tests (run it in the client namespace):

    tcp_partial_flood.py --vip 198.18.100.10 [--port 5060] [--src-net 198.19.0.0/16]
                         [--connections 10000] [--segments 4] [--segment-size 1400]
                         [--pps 10000] [--seconds 30]

Connection k comes from a distinct spoofed address:port of --src-net (nobody answers for
it, so no RST ever closes the stream): first every connection's SYN, then round by round
one data segment per connection, in sequence, --segments rounds of --segment-size bytes.
Together they are the start of an INVITE whose header block never ends. Raw IPv4 socket
(IP_HDRINCL), TCP checksums computed; paced in bursts of 100 at --pps; stops by itself after
--seconds. Prints {"connections", "sent", "seconds", "pps", "errors"} as JSON. Refuses
addresses outside 198.18.0.0/15, more than 50000 packets/s, 100000 connections or 60 s.
"""
import argparse
import array
import ipaddress
import json
import socket
import struct
import sys
import time

BENCH = ipaddress.ip_network("198.18.0.0/15")
MAX_PPS = 50000
BURST = 100
FIRST_PORT = 10000


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(array.array("H", data))  # native order; folded and swapped below
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    s = ~s & 0xFFFF
    return socket.ntohs(s) if sys.byteorder == "little" else s


def segment(src: bytes, dst: bytes, sport: int, dport: int, seq: int, flags: int,
            payload: bytes) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 1, 0x50, flags, 64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp) + len(payload))
    c = checksum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    # IP checksum left 0: the kernel fills it in (IP_HDRINCL).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0, src, dst)
    return ip + tcp + payload


def message_part(k: int, part: int, size: int, vip: str) -> bytes:
    """Part `part` of connection k's INVITE: a start line and headers, then a header that
    never ends (no blank line ever comes)."""
    if part == 0:
        head = ("INVITE sip:service@%s SIP/2.0\r\nVia: SIP/2.0/TCP 198.19.0.1;branch=z9hG4bK%d\r\n"
                "Call-ID: partial-%d\r\nCSeq: 1 INVITE\r\nX-Filler: " % (vip, k, k)).encode()
        return head + b"f" * max(0, size - len(head))
    return b"f" * size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--port", type=int, default=5060)
    ap.add_argument("--src-net", default="198.19.0.0/16")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--segments", type=int, default=4)
    ap.add_argument("--segment-size", type=int, default=1400)
    ap.add_argument("--pps", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=30.0)
    a = ap.parse_args()
    net = ipaddress.ip_network(a.src_net)
    if ipaddress.ip_address(a.vip) not in BENCH or not net.subnet_of(BENCH):
        sys.exit("addresses must lie in %s" % BENCH)
    if not 0 < a.pps <= MAX_PPS or not 0 < a.seconds <= 60 or not 0 < a.connections <= 100000:
        sys.exit("refusing: at most %d packets/s, 60 s, 100000 connections" % MAX_PPS)
    if not 0 < a.segment_size <= 1400 or not 0 <= a.segments <= 64:
        sys.exit("refusing: segments of 1..1400 bytes, at most 64 per connection")
    hosts = net.num_addresses - 2
    dst = socket.inet_aton(a.vip)
    conns = []
    for k in range(a.connections):
        addr = net.network_address + 1 + (k % hosts)
        conns.append((socket.inet_aton(str(addr)), FIRST_PORT + k // hosts, 1000 + 7919 * k))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    target = (a.vip, 0)

    def packets():
        for k, (src, sport, isn) in enumerate(conns):
            yield segment(src, dst, sport, a.port, isn, 0x02, b"")  # SYN
        for part in range(a.segments):
            for k, (src, sport, isn) in enumerate(conns):
                data = message_part(k, part, a.segment_size, a.vip)
                yield segment(src, dst, sport, a.port, isn + 1 + part * a.segment_size, 0x18, data)

    sent = errors = 0
    start = time.monotonic()
    end = start + a.seconds
    interval = BURST / a.pps
    next_burst = start
    it = packets()
    done = False
    while not done and time.monotonic() < end:
        now = time.monotonic()
        if now < next_burst:
            time.sleep(next_burst - now)
        next_burst += interval
        for _ in range(BURST):
            p = next(it, None)
            if p is None:
                done = True
                break
            try:
                s.sendto(p, target)
                sent += 1
            except OSError:
                errors += 1
    secs = time.monotonic() - start
    print(json.dumps({"connections": a.connections, "sent": sent, "seconds": round(secs, 3),
                      "pps": round(sent / secs), "errors": errors}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
