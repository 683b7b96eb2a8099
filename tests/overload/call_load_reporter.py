#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A node's load as its active calls over its capacity, reported to sarad with the cluster key
(the node agent's wire format: heartbeats and load vectors, every value = the load).

The node agent measures CPU, memory, sockets and I/O, none of which a few SIPp calls move; the
overload run (tests/overload/run.py) caps each node at a number of concurrent calls instead,
so the load sarad must see is calls/capacity. This reporter measures it from the node's own
traffic: an AF_PACKET socket on the node's interface counts the distinct client RTP sources
sending to the node's media port within the last --window seconds.

    call_load_reporter.py --key FILE --host 1 --to 198.18.2.1:7400 --ifname eth0 \
        --media 198.18.100.10:6100 --capacity 6 --duration 60
"""
import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "peers"))
from control_sender import datagram  # noqa: E402  (the same authenticated wire format)

ETH_P_IP = 0x0800


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--host", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--ifname", default="eth0")
    ap.add_argument("--media", required=True, help="VIP:PORT the calls' RTP goes to")
    ap.add_argument("--capacity", type=float, required=True, help="concurrent calls = load 1.0")
    ap.add_argument("--window", type=float, default=0.3, help="s without RTP = call gone")
    ap.add_argument("--interval", type=float, default=0.1, help="heartbeat interval d")
    ap.add_argument("--load-interval", type=float, default=0.2)
    ap.add_argument("--duration", type=float, required=True, help="seconds, at most 600")
    a = ap.parse_args()
    key = bytes.fromhex(open(a.key).read().strip())
    addr, port = a.to.rsplit(":", 1)
    dest = (addr, int(port))
    media_ip, media_port = a.media.rsplit(":", 1)
    media_ip, media_port = socket.inet_aton(media_ip), int(media_port)

    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sniff.bind((a.ifname, ETH_P_IP))
    sniff.settimeout(0.01)
    seen = {}                                   # (src ip, src port) -> last time
    hb_seq = int(time.time() / a.interval) & 0xFFFFFFFF
    load_seq = int(time.time() / a.load_interval) & 0xFFFFFFFF
    start = time.monotonic()
    next_hb = next_load = start
    peak = 0
    while time.monotonic() - start < min(a.duration, 600):
        try:
            pkt = sniff.recv(2048)
            if len(pkt) >= 28 and pkt[9] == 17 and pkt[16:20] == media_ip:
                ihl = (pkt[0] & 0x0F) * 4
                sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
                if dport == media_port:
                    seen[(pkt[12:16], sport)] = time.monotonic()
        except socket.timeout:
            pass
        now = time.monotonic()
        if now >= next_hb:
            out.sendto(datagram(1, struct.pack("!HIBI", a.host, hb_seq, 0, int(time.time())), key), dest)
            hb_seq = (hb_seq + 1) & 0xFFFFFFFF
            next_hb += a.interval
        if now >= next_load:
            for k in [k for k, t in seen.items() if now - t > a.window]:
                del seen[k]
            peak = max(peak, len(seen))
            v = int(round(min(1.0, len(seen) / a.capacity) * 65535))
            out.sendto(datagram(2, struct.pack("!HII5H", a.host, load_seq, int(time.time()), v, v, v, v, v), key),
                       dest)
            load_seq = (load_seq + 1) & 0xFFFFFFFF
            next_load += a.load_interval
    print("peak concurrent calls %d (capacity %g)" % (peak, a.capacity), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
