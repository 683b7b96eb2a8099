#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Authenticated heartbeats and load vectors for the cases a real sara-nodeagent cannot be
made to produce: here, a node whose load monitor stops (heartbeats go on, load vectors stop).
Runs inside a node's namespace for a bounded time; the wire format is written out again here
from common/wire/control_message.hpp, independently of the C++ encoder.

    control_sender.py --key FILE --host 3 --to 198.18.2.1:7400 --duration 3 \
        --interval 0.1 --load-interval 0.2 --load-from 1.0 --load-until 1.8
"""
import argparse
import hashlib
import hmac
import socket
import struct
import time


def datagram(kind: int, body: bytes, key: bytes) -> bytes:
    msg = b"SA" + bytes([1, kind]) + body
    return msg + hmac.new(key, msg, hashlib.sha256).digest()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True, help="cluster key file (hex)")
    ap.add_argument("--host", type=int, required=True)
    ap.add_argument("--to", required=True, help="ADDRESS:PORT of sarad's health.listen")
    ap.add_argument("--duration", type=float, required=True, help="seconds, at most 60")
    ap.add_argument("--interval", type=float, default=0.1, help="heartbeat interval d")
    ap.add_argument("--load-interval", type=float, default=0.2)
    ap.add_argument("--load-from", type=float, default=0.0, help="s after start")
    ap.add_argument("--load-until", type=float, default=1e9, help="s after start")
    ap.add_argument("--load", type=float, default=0.1, help="every value of the vector")
    a = ap.parse_args()
    key = bytes.fromhex(open(a.key).read().strip())
    addr, port = a.to.rsplit(":", 1)
    dest = (addr, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Time-based first sequence numbers, as sara-nodeagent does: ahead of any agent before us.
    hb_seq = int(time.time() / a.interval) & 0xFFFFFFFF
    load_seq = int(time.time() / a.load_interval) & 0xFFFFFFFF
    start = time.monotonic()
    print("start %.6f" % start, flush=True)      # CLOCK_MONOTONIC: the same in every netns
    next_hb, next_load = start, start
    sent = {"heartbeats": 0, "loads": 0}
    while True:
        now = time.monotonic()
        t = now - start
        if t >= min(a.duration, 60):
            break
        if now >= next_hb:
            body = struct.pack("!HIBI", a.host, hb_seq, 0, int(time.time()))
            s.sendto(datagram(1, body, key), dest)
            hb_seq = (hb_seq + 1) & 0xFFFFFFFF
            sent["heartbeats"] += 1
            next_hb += a.interval
        if now >= next_load:
            if a.load_from <= t < a.load_until:
                v = int(round(a.load * 65535))
                body = struct.pack("!HII5H", a.host, load_seq, int(time.time()), v, v, v, v, v)
                s.sendto(datagram(2, body, key), dest)
                sent["loads"] += 1
            load_seq = (load_seq + 1) & 0xFFFFFFFF
            next_load += a.load_interval
        time.sleep(max(0.0, min(next_hb, next_load) - time.monotonic()))
    print("sent %(heartbeats)d heartbeats, %(loads)d load vectors" % sent, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
